/*
 * The ARM generic timer, EL1 physical timer (CNTP_*), one per CPU. Used in
 * one-shot mode by kernel/timer.c: a compare value for the next deadline,
 * or disabled when nothing waits.
 */
#include <mica/timer.h>

uint64_t arch_timer_frequency(void)
{
    uint64_t f;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
    return f;
}

uint64_t arch_timer_count(void)
{
    uint64_t c;
    __asm__ volatile("isb\n mrs %0, cntpct_el0" : "=r"(c)::"memory");
    return c;
}

void arch_timer_set_deadline(uint64_t count)
{
    __asm__ volatile("msr cntp_cval_el0, %0\n msr cntp_ctl_el0, %1\n isb" ::"r"(count), "r"(1UL)
                     : "memory");
}

void arch_timer_stop(void)
{
    __asm__ volatile("msr cntp_ctl_el0, xzr\n isb" ::: "memory");
}

bool arch_timer_enabled(void)
{
    uint64_t ctl;
    __asm__ volatile("mrs %0, cntp_ctl_el0" : "=r"(ctl));
    return ctl & 1;
}
