/*
 * panic(): the kernel's last words. Interrupts are masked, the console is
 * forced on (replaying the log if the console was not chosen yet), the
 * message and a backtrace are printed, the UART is drained, and the CPU
 * stops. Test builds end QEMU with EXIT_PANIC so a harness never waits for
 * a timeout.
 */
#include <arch/irqflags.h>
#include <mica/cpu.h>
#include <mica/panic.h>
#include <mica/printk.h>
#include <mica/trap.h>
#include <stdarg.h>

/* Stop for good. Without semihosting (a test image on a real Pi, or QEMU
 * without -semihosting) the HLT in semihost_exit() is itself an undefined
 * instruction that lands back here: in_panic makes that second pass go
 * straight to the WFI loop instead of recursing. */
void panic_halt(void)
{
    arch_irq_disable();
    bool again = this_cpu()->in_panic;
    this_cpu()->in_panic = true;
    if (!again) {
        printk("*** kernel halted\n");
        console_flush();
        if (kernel_is_test_build)
            semihost_exit(EXIT_PANIC);
    }
    for (;;)
        __asm__ volatile("wfi");
}

void panic(const char *fmt, ...)
{
    arch_irq_disable();
    console_emergency();
    va_list ap;
    va_start(ap, fmt);
    printk("\n*** PANIC: ");
    vprintk(fmt, ap);
    printk("\n");
    va_end(ap);
    /* Our own frame record holds the caller's frame pointer and our return
     * address: start the walk from the caller. */
    uint64_t *frame = __builtin_frame_address(0);
    backtrace_print((uintptr_t)__builtin_return_address(0) - 4, frame[0]);
    panic_halt();
}
