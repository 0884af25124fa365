/* Selects the normal kernel image: no self-tests at boot. */
#include <mica/panic.h>
const bool kernel_is_test_build = false;
