/*
 * The self-test runner. The test build boots exactly like the normal
 * kernel, then runs every test group and reports the result to the harness
 * through the console and the semihosting exit status.
 *
 * Special modes, chosen with the kernel command line (QEMU -append):
 *   mica.test=panic  fault with no recovery armed: the harness checks the
 *                    decoded dump, the backtrace and the panic exit status
 *   mica.test=idle   sit idle with one timer 3 s ahead: the harness checks
 *                    that QEMU used little host CPU, the kernel that no
 *                    interrupt but that one arrived
 */
#include <arch/irqflags.h>
#include <mica/cpu.h>
#include <mica/idle.h>
#include <mica/panic.h>
#include <mica/selftest.h>
#include <mica/timer.h>
#include <string.h>

static const struct selftest *const groups[] = {
    selftests_misc,
    selftests_mm,
    selftests_timer,
    selftests_fault,
};

static bool mode_is(const char *bootargs, const char *mode)
{
    const char *p = strstr(bootargs, "mica.test=");
    if (!p)
        return false;
    p += strlen("mica.test=");
    size_t n = strlen(mode);
    return strncmp(p, mode, n) == 0 && (p[n] == '\0' || p[n] == ' ');
}

/* Not inlined so that it shows in the panic backtrace the harness checks. */
__attribute__((noinline)) static void selftest_panic_fault(void)
{
    printk("selftest: faulting on purpose with no recovery armed\n");
    *(volatile uint64_t *)0xFFFF7F0000000040UL = 0x1234; /* unmapped kernel VA */
    __asm__ volatile("" ::: "memory");
}

static volatile bool idle_woke;

static void idle_wake(struct timer *t, void *arg)
{
    (void)t;
    (void)arg;
    idle_woke = true;
}

/* One pending timer, 3 s away: the CPU must sleep through until it fires,
 * taking exactly one interrupt (no periodic tick). */
static int run_idle_mode(void)
{
    static struct timer wake;
    struct cpu *c = this_cpu();
    uint64_t irqs = c->irq_count, wfis = c->idle_wfi_count, start = time_now_ns();
    printk("[ RUN  ] idle_tickless\n");
    irqflags_t flags = arch_irq_save(); /* see idle_wait */
    timer_arm(&wake, start + 3000000000UL, idle_wake, NULL);
    while (!idle_woke)
        idle_wait();
    arch_irq_restore(flags);
    uint64_t elapsed = time_now_ns() - start;
    irqs = c->irq_count - irqs;
    wfis = c->idle_wfi_count - wfis;
    printk("    idle %lu ms: %lu interrupt(s), %lu WFI wake-up(s), timer now %s\n",
           elapsed / 1000000, irqs, wfis, arch_timer_enabled() ? "armed" : "off");
    bool ok = irqs == 1 && wfis == 1 && elapsed >= 3000000000UL && !arch_timer_enabled();
    printk("[ %s ] idle_tickless\n", ok ? "PASS" : "FAIL");
    printk("selftest: %d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
    return ok ? 0 : 1;
}

bool selftest_mode_exits(const char *bootargs)
{
    return mode_is(bootargs, "panic") || mode_is(bootargs, "idle");
}

int selftest_run(const char *bootargs)
{
    if (mode_is(bootargs, "panic")) {
        selftest_panic_fault();
        return 1; /* not reached: the fault panics */
    }
    if (mode_is(bootargs, "idle"))
        return run_idle_mode();

    int passed = 0, failed = 0;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        for (const struct selftest *t = groups[g]; t->name; t++) {
            printk("[ RUN  ] %s\n", t->name);
            int rc = t->fn();
            printk("[ %s ] %s\n", rc == 0 ? "PASS" : "FAIL", t->name);
            if (rc == 0)
                passed++;
            else
                failed++;
        }
    }
    printk("selftest: %d passed, %d failed\n", passed, failed);
    return failed;
}
