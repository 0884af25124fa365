/*
 * Boot self-tests: the exception level we entered at was handled (we run at
 * EL1 with timer access from EL1), the platform description is complete,
 * the formatter and the kernel symbol table work, and the bootfs CRC-32
 * with the CPU's CRC32 instructions agrees with the table.
 */
#include <arch/cpufeature.h>
#include <mica/bootfs.h>
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

/* bootfs_crc32_arm against the table on pseudo-random buffers of every
 * length 0..300 at every start alignment 0..7, and on one long buffer.
 * Without the instructions there is nothing to compare: the boot then
 * uses the table, which the host tests check. */
static int test_crc32_arm(void)
{
    static uint8_t buf[4096 + 8];
    if (!arch_has_crc32()) {
        printk("    no CRC32 instructions (ID_AA64ISAR0_EL1.CRC32 = 0): the table is used\n");
        return 0;
    }
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    CHECK_EQ(bootfs_crc32_arm("123456789", 9), 0xcbf43926u);
    for (size_t align = 0; align < 8; align++) {
        for (size_t len = 0; len <= 300; len++)
            CHECK_EQ(bootfs_crc32_arm(buf + align, len), bootfs_crc32(buf + align, len));
    }
    CHECK_EQ(bootfs_crc32_arm(buf + 3, 4096), bootfs_crc32(buf + 3, 4096));
    return 0;
}

const struct selftest selftests_misc[] = {
    {"boot_exception_level", test_exception_level},
    {"boot_platform", test_platform},
    {"lib_snprintf", test_snprintf},
    {"ksyms_lookup", test_ksyms},
    {"bootfs_crc32_arm", test_crc32_arm},
    {NULL, NULL},
};
