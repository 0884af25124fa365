/*
 * One-shot kernel timers (see mica/timer.h). Each CPU keeps its pending
 * timers in a list sorted by deadline and programs the generic timer for
 * the head only; an empty list switches the timer off, so an idle system
 * takes no interrupts at all (tickless).
 *
 * Locking: a CPU's queue is touched only by that CPU with interrupts
 * masked (arch_irq_save), which is all the exclusion it needs.
 */
#include <arch/irqflags.h>
#include <mica/cpu.h>
#include <mica/irq.h>
#include <mica/panic.h>
#include <mica/platform.h>
#include <mica/printk.h>

#define NS_PER_SEC 1000000000UL

static uint64_t freq; /* counter ticks per second (< 2^32 on every board) */

/* Split into whole seconds and a remainder so that every product fits in
 * 64 bits: remainder * freq < 1e9 * 2^32 and remainder * 1e9 < 2^32 * 1e9. */
uint64_t ns_to_ticks(uint64_t ns)
{
    uint64_t secs = ns / NS_PER_SEC, rem = ns % NS_PER_SEC;
    return secs * freq + (rem * freq + NS_PER_SEC - 1) / NS_PER_SEC;
}

uint64_t ticks_to_ns(uint64_t ticks)
{
    uint64_t secs = ticks / freq, rem = ticks % freq;
    return secs * NS_PER_SEC + rem * NS_PER_SEC / freq;
}

uint64_t time_now_ns(void)
{
    return ticks_to_ns(arch_timer_count());
}

static void program(struct timer_queue *q)
{
    if (!q->head) {
        arch_timer_stop();
        return;
    }
    arch_timer_set_deadline(q->head->deadline_ticks);
}

static void unlink(struct timer_queue *q, struct timer *t)
{
    for (struct timer **p = &q->head; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->pending = false;
    t->next = NULL;
}

void timer_arm(struct timer *t, uint64_t deadline_ns, timer_fn fn, void *arg)
{
    irqflags_t flags = arch_irq_save();
    struct timer_queue *q = &this_cpu()->timers;
    if (t->pending)
        unlink(q, t);
    t->deadline_ns = deadline_ns;
    t->deadline_ticks = ns_to_ticks(deadline_ns);
    t->fn = fn;
    t->arg = arg;
    struct timer **p = &q->head;
    while (*p && (*p)->deadline_ns <= deadline_ns)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
    t->pending = true;
    program(q);
    arch_irq_restore(flags);
}

void timer_cancel(struct timer *t)
{
    irqflags_t flags = arch_irq_save();
    struct timer_queue *q = &this_cpu()->timers;
    if (t->pending) {
        unlink(q, t);
        program(q);
    }
    arch_irq_restore(flags);
}

void timer_interrupt(void)
{
    struct timer_queue *q = &this_cpu()->timers;
    uint64_t now = arch_timer_count();
    while (q->head && q->head->deadline_ticks <= now) {
        struct timer *t = q->head;
        unlink(q, t);
        q->fired++;
        t->fn(t, t->arg); /* may re-arm t */
        now = arch_timer_count();
    }
    program(q);
}

static void timer_irq(unsigned irq, void *arg)
{
    (void)irq;
    (void)arg;
    timer_interrupt();
}

void timer_init_cpu(void)
{
    if (!freq) {
        freq = arch_timer_frequency();
        if (freq == 0)
            panic("timer: CNTFRQ_EL0 is 0 (firmware did not set the counter frequency)");
        if (freq >= (1UL << 32))
            panic("timer: counter frequency %lu Hz is out of range", freq);
        int err = irq_register(platform.timer_irq, timer_irq, NULL);
        if (err)
            panic("timer: cannot register interrupt %u", platform.timer_irq);
    }
    arch_timer_stop();
    if (irq_enable(platform.timer_irq) != 0)
        panic("timer: cannot enable interrupt %u", platform.timer_irq);
}
