/*
 * Kernel timers: one-shot deadlines on the per-CPU generic timer. The timer
 * hardware is programmed for the earliest pending deadline only; with no
 * deadline pending it is switched off (tickless), so an idle CPU sleeps in
 * WFI until an interrupt. Times are in nanoseconds since boot.
 */
#ifndef MICA_TIMER_H
#define MICA_TIMER_H

#include <mica/types.h>

struct timer;
typedef void (*timer_fn)(struct timer *t, void *arg);

struct timer {
    uint64_t deadline_ns;
    uint64_t deadline_ticks; /* counter value: ceil(deadline_ns * f / 1e9) */
    timer_fn fn;             /* runs in interrupt context on the timer's CPU */
    void *arg;
    struct timer *next;
    bool pending;
};

/* A CPU's pending timers, sorted by deadline; only that CPU touches it,
 * with interrupts masked. */
struct timer_queue {
    struct timer *head;
    uint64_t fired;
};

void timer_init_cpu(void);
uint64_t time_now_ns(void);
/* Exact conversions between counter ticks and ns (no drift with uptime):
 * ns_to_ticks rounds up, ticks_to_ns down, so a counter value at or past
 * ns_to_ticks(d) always reads back as a time at or past d. */
uint64_t ns_to_ticks(uint64_t ns);
uint64_t ticks_to_ns(uint64_t ticks);
/* Arm t on this CPU for deadline_ns (absolute); re-arming moves it. */
void timer_arm(struct timer *t, uint64_t deadline_ns, timer_fn fn, void *arg);
void timer_cancel(struct timer *t);
/* Called by the interrupt code when the timer interrupt fires. */
void timer_interrupt(void);

/* arch/aarch64/arch_timer.c */
uint64_t arch_timer_frequency(void);
uint64_t arch_timer_count(void);
void arch_timer_set_deadline(uint64_t count); /* one-shot at counter value */
void arch_timer_stop(void);
bool arch_timer_enabled(void);

#endif
