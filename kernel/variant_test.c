/* Selects the self-test kernel image (mica-test.img / kernel8-test.img). */
#include <mica/panic.h>
const bool kernel_is_test_build = true;
