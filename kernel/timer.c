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

static uint64_t freq;       /* counter ticks per second */
static uint64_t ns_mult;    /* ns = (ticks * ns_mult) >> 32 */
static uint64_t ticks_mult; /* ticks = (ns * ticks_mult) >> 32 */

static uint64_t mul_shift32(uint64_t a, uint64_t b)
{
    return (uint64_t)(((unsigned __int128)a * b) >> 32);
}

uint64_t time_now_ns(void)
{
    return mul_shift32(arch_timer_count(), ns_mult);
}

static void program(struct timer_queue *q)
{
    if (!q->head) {
        arch_timer_stop();
        return;
    }
    arch_timer_set_deadline(mul_shift32(q->head->deadline_ns, ticks_mult) + 1);
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
    uint64_t now = time_now_ns();
    while (q->head && q->head->deadline_ns <= now) {
        struct timer *t = q->head;
        unlink(q, t);
        q->fired++;
        t->fn(t, t->arg); /* may re-arm t */
        now = time_now_ns();
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
        ns_mult = (1000000000UL << 32) / freq;
        ticks_mult = (freq << 32) / 1000000000UL;
        int err = irq_register(platform.timer_irq, timer_irq, NULL);
        if (err)
            panic("timer: cannot register interrupt %u", platform.timer_irq);
    }
    arch_timer_stop();
    if (irq_enable(platform.timer_irq) != 0)
        panic("timer: cannot enable interrupt %u", platform.timer_irq);
}
