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
    /* Mask, count, then WFI: an interrupt that arrives between the check in
     * the caller and here still wakes WFI (it is pending), and is taken
     * when we unmask. */
    arch_irq_disable();
    this_cpu()->idle_wfi_count++;
    __asm__ volatile("dsb sy\n wfi" ::: "memory");
    arch_irq_enable();
}

NORETURN void idle_loop(void)
{
    for (;;)
        idle_wait();
}
