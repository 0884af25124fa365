/*
 * Arm semihosting, used only to end QEMU with a status code in tests
 * (QEMU must run with -semihosting). SYS_EXIT (0x18) with the block
 * {ADP_Stopped_ApplicationExit, code} makes QEMU exit with `code`.
 * Without semihosting HLT is an undefined instruction: the exception ends
 * in panic_halt(), which stops the CPU (see its in_panic guard).
 */
#include <mica/panic.h>

void semihost_exit(int code)
{
    uint64_t block[2] = {0x20026, (uint64_t)(int64_t)code};
    register uint64_t w0 __asm__("x0") = 0x18;
    register uint64_t x1 __asm__("x1") = (uintptr_t)block;
    __asm__ volatile("hlt #0xf000" : "+r"(w0) : "r"(x1) : "memory");
}
