/*
 * The idle loop: what a CPU runs when nothing else is runnable. It sleeps
 * in WFI with interrupts enabled; since timers are one-shot and switched
 * off when nothing waits, an idle CPU takes no interrupts and QEMU's vCPU
 * thread sleeps too.
 */
#include <arch/irqflags.h>
#include <mica/cpu.h>
#include <mica/idle.h>

void idle_wait(void)
{
    /* WFI wakes on a pending interrupt even while interrupts are masked, so
     * a caller that masks around its check-and-wait loop cannot lose a
     * wake-up that lands between the check and here. Unmask just long
     * enough to take the interrupt (the isb makes it be taken there), then
     * return with the caller's mask. */
    irqflags_t flags = arch_irq_save();
    this_cpu()->idle_wfi_count++;
    __asm__ volatile("dsb sy\n wfi" ::: "memory");
    arch_irq_enable();
    __asm__ volatile("isb" ::: "memory");
    arch_irq_restore(flags);
}

NORETURN void idle_loop(void)
{
    for (;;)
        idle_wait();
}
