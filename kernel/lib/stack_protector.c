/* Stack protector symbols: Debian's libfdt.a is built with
 * -fstack-protector; the kernel itself is not. */
#include <mica/panic.h>
#include <stdint.h>

uintptr_t __stack_chk_guard = 0x5eed1e55c0ffee00UL;

void __stack_chk_fail(void)
{
    panic("stack protector: stack smashed");
}
