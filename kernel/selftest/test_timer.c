/*
 * Timer self-tests: the counter advances, one-shot deadlines fire in
 * deadline order and never early, a re-arming timer fires repeatedly while
 * the CPU waits in WFI, and with nothing pending the timer is switched off.
 */
#include <arch/irqflags.h>
#include <mica/cpu.h>
#include <mica/idle.h>
#include <mica/selftest.h>
#include <mica/timer.h>

#define MS 1000000UL

static int test_time_advances(void)
{
    uint64_t t0 = time_now_ns(), c0 = arch_timer_count();
    for (volatile int i = 0; i < 100000; i++)
        ;
    uint64_t t1 = time_now_ns(), c1 = arch_timer_count();
    CHECK(c1 > c0);
    CHECK(t1 > t0);
    CHECK(arch_timer_frequency() >= 1000000); /* at least 1 MHz */
    return 0;
}

struct fire_log {
    unsigned order[4];
    uint64_t late_ns[4];
    unsigned n;
    bool early;
};

static struct fire_log log;

static void record_fire(struct timer *t, void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t now = time_now_ns();
    if (now < t->deadline_ns)
        log.early = true;
    if (log.n < 4) {
        log.late_ns[log.n] = now - t->deadline_ns;
        log.order[log.n++] = id;
    }
}

static int test_deadlines_in_order(void)
{
    static struct timer a, b, c;
    log = (struct fire_log){0};
    /* Arm all three with interrupts masked: under emulation the host may
     * stall us past a deadline between two calls, and this test is about
     * ordering, not about how fast we arm. */
    irqflags_t flags = arch_irq_save();
    uint64_t now = time_now_ns();
    timer_arm(&a, now + 3 * MS, record_fire, (void *)3);
    timer_arm(&b, now + 1 * MS, record_fire, (void *)1);
    timer_arm(&c, now + 2 * MS, record_fire, (void *)2);
    arch_irq_restore(flags);
    uint64_t give_up = now + 2000 * MS;
    flags = arch_irq_save(); /* check and sleep without losing a wake-up */
    while (log.n < 3 && time_now_ns() < give_up)
        idle_wait();
    arch_irq_restore(flags);
    for (unsigned i = 0; i < log.n; i++)
        printk("    fired #%u: timer %u, %lu ns late\n", i, log.order[i], log.late_ns[i]);
    CHECK_EQ(log.n, 3);
    CHECK_EQ(log.order[0], 1);
    CHECK_EQ(log.order[1], 2);
    CHECK_EQ(log.order[2], 3);
    CHECK(!log.early);
    CHECK(!arch_timer_enabled()); /* nothing pending: timer off */
    return 0;
}

static int test_cancel(void)
{
    static struct timer a, b;
    log = (struct fire_log){0};
    irqflags_t flags = arch_irq_save(); /* as above: arm and cancel atomically */
    uint64_t now = time_now_ns();
    timer_arm(&a, now + 1 * MS, record_fire, (void *)1);
    timer_arm(&b, now + 2 * MS, record_fire, (void *)2);
    timer_cancel(&a);
    while (log.n < 1)
        idle_wait();
    arch_irq_restore(flags);
    CHECK_EQ(log.n, 1);
    CHECK_EQ(log.order[0], 2);
    CHECK(!a.pending);
    return 0;
}

static volatile unsigned repeats;

static void rearm(struct timer *t, void *arg)
{
    (void)arg;
    /* Re-arm from now, not from the old deadline: if the emulator stalls,
     * missed periods must not all fire in one interrupt. */
    if (++repeats < 20)
        timer_arm(t, time_now_ns() + 1 * MS, rearm, NULL);
}

static int test_repeated_firing_in_wfi(void)
{
    static struct timer t;
    struct cpu *cpu = this_cpu();
    uint64_t wfi0 = cpu->idle_wfi_count, irq0 = cpu->irq_count, start = time_now_ns();
    repeats = 0;
    irqflags_t flags = arch_irq_save();
    timer_arm(&t, start + 1 * MS, rearm, NULL);
    while (repeats < 20 && time_now_ns() < start + 5000 * MS)
        idle_wait();
    arch_irq_restore(flags);
    uint64_t elapsed = time_now_ns() - start;
    printk("    %u firings in %lu us, %lu interrupts, %lu WFIs\n", repeats, elapsed / 1000,
           cpu->irq_count - irq0, cpu->idle_wfi_count - wfi0);
    CHECK_EQ(repeats, 20);
    CHECK(elapsed >= 20 * MS);
    /* It slept, and interrupts drove it. Not one WFI and one interrupt per
     * firing: each host stall under emulation (common on a loaded 2-core CI
     * machine) can let a deadline pass before the next WFI, or let the
     * re-armed timer expire within the same interrupt. guest.*.idle checks
     * sleeping exactly. */
    CHECK(cpu->idle_wfi_count - wfi0 >= 1);
    CHECK(cpu->irq_count - irq0 >= 1);
    CHECK(!arch_timer_enabled());
    return 0;
}

/* Round trips at this board's frequency (19.2 MHz on a real Pi, 62.5 MHz
 * under QEMU) and at the other, including large uptimes: a deadline's tick
 * value must never read back as earlier than the deadline. */
static int test_tick_conversion(void)
{
    static const uint64_t samples[] = {0,
                                       1,
                                       999,
                                       1000000,
                                       123456789,
                                       1000000000UL,
                                       86400UL * 1000000000UL + 7,
                                       30UL * 86400 * 1000000000UL + 3};
    for (unsigned i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        uint64_t d = samples[i];
        uint64_t t = ns_to_ticks(d);
        CHECK(ticks_to_ns(t) >= d);
        CHECK(t == 0 || ticks_to_ns(t - 1) < d); /* and it is the first such tick */
    }
    return 0;
}

const struct selftest selftests_timer[] = {
    {"time_advances", test_time_advances},
    {"timer_tick_conversion", test_tick_conversion},
    {"timer_deadlines_in_order", test_deadlines_in_order},
    {"timer_cancel", test_cancel},
    {"timer_repeats_in_wfi", test_repeated_firing_in_wfi},
    {NULL, NULL},
};
