/*
 * Boot self-tests: the exception level we entered at was handled (we run at
 * EL1 with timer access from EL1), the platform description is complete,
 * the formatter and the kernel symbol table work.
 */
#include <mica/cpu.h>
#include <mica/irq.h>
#include <mica/ksyms.h>
#include <mica/platform.h>
#include <mica/selftest.h>
#include <string.h>

static int test_exception_level(void)
{
    uint64_t el;
    __asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
    printk("    entered at EL%u, running at EL%lu\n", boot_entry_el, (el >> 2) & 3);
    CHECK_EQ((el >> 2) & 3, 1);
    CHECK(boot_entry_el >= 1 && boot_entry_el <= 3);
    /* From EL2/EL3 the entry code must have opened the physical counter
     * and timer to EL1 (CNTHCTL_EL2): reading and programming them works. */
    uint64_t ctl;
    __asm__ volatile("mrs %0, cntpct_el0\n mrs %0, cntp_ctl_el0" : "=r"(ctl));
    (void)ctl;
    uint64_t daif;
    __asm__ volatile("mrs %0, daif" : "=r"(daif));
    CHECK(!(daif & (1 << 7))); /* IRQs unmasked by kernel_main */
    return 0;
}

static int test_platform(void)
{
    printk("    %s: %u RAM range(s), %s, timer IRQ %u, %u CPU(s), bootargs '%s'\n",
           platform.from_dtb ? "device tree" : "board defaults", platform.n_memory,
           intc_kind_name(platform.intc), platform.timer_irq, platform.n_cpus, platform.bootargs);
    CHECK(platform.n_memory >= 1);
    CHECK(platform.memory[0].size >= 64UL << 20);
    CHECK(platform.intc != INTC_NONE);
    CHECK(platform.timer_irq != 0 || platform.intc == INTC_BCM2836);
    CHECK(platform.n_cpus >= 1);
    return 0;
}

static int test_snprintf(void)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%d|%5u|%-4x|%08lx|%s|%c", -42, 7u, 0xabu, 0x1234UL, "ok", 'z');
    CHECK(strcmp(buf, "-42|    7|ab  |00001234|ok|z") == 0);
    CHECK_EQ(snprintf(buf, 4, "%s", "truncated"), 9);
    CHECK(strcmp(buf, "tru") == 0);
    snprintf(buf, sizeof(buf), "[%.*s|%.2s]", 3, "serial1:115200", "abc");
    CHECK(strcmp(buf, "[ser|ab]") == 0);
    return 0;
}

static int test_ksyms(void)
{
    char buf[80];
    uint64_t addr = ksyms_lookup("kernel_main");
    CHECK(addr != 0);
    ksyms_describe(addr + 8, buf, sizeof(buf));
    CHECK(strcmp(buf, "kernel_main+0x8") == 0);
    CHECK_EQ(ksyms_lookup("test_ksyms"), (uintptr_t)test_ksyms);
    return 0;
}

const struct selftest selftests_misc[] = {
    {"boot_exception_level", test_exception_level},
    {"boot_platform", test_platform},
    {"lib_snprintf", test_snprintf},
    {"ksyms_lookup", test_ksyms},
    {NULL, NULL},
};
