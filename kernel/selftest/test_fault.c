/*
 * Exception self-tests: deliberate faults are caught and decoded, and the
 * kernel's W^X mappings hold (rodata and text are not writable, data is not
 * executable, the linear-map alias of text is read-only). Each fault goes
 * through a probe with recovery armed (arch/aarch64/probe.S), and the
 * decoded dump is printed for the harness to check.
 */
#include <arch/mmu.h>
#include <mica/cpu.h>
#include <mica/selftest.h>
#include <mica/trap.h>
#include <mica/vm.h>
#include <string.h>

#define EC(esr) (((esr) >> 26) & 0x3F)
#define FSC(esr) ((esr)&0x3F)
#define WNR(esr) (((esr) >> 6) & 1)
#define FSC_IS_TRANSLATION(f) (((f) >> 2) == 1)
#define FSC_IS_PERMISSION(f) (((f) >> 2) == 3)

static const uint64_t rodata_word = 0x0123456789ABCDEFUL;
static uint64_t data_words[4] __attribute__((aligned(16)));

static int test_unmapped_read(void)
{
    uintptr_t addr = 0xFFFF7F0000001008UL; /* a hole in the kernel's half */
    uint64_t value = 0;
    unsigned before = this_cpu()->recovery.count;
    CHECK_EQ(fault_probe_read(addr, &value), -1);
    struct fault_recovery *r = &this_cpu()->recovery;
    CHECK_EQ(r->count, before + 1);
    CHECK_EQ(EC(r->esr), 0x25); /* data abort, same EL */
    CHECK(FSC_IS_TRANSLATION(FSC(r->esr)));
    CHECK_EQ(WNR(r->esr), 0);
    CHECK_EQ(r->far, addr);
    return 0;
}

static int test_null_dereference(void)
{
    /* TTBR0 walks are disabled in the kernel: low addresses always fault. */
    uint64_t value;
    CHECK_EQ(fault_probe_read(0x10, &value), -1);
    CHECK_EQ(EC(this_cpu()->recovery.esr), 0x25);
    CHECK_EQ(this_cpu()->recovery.far, 0x10);
    return 0;
}

static int test_rodata_write_faults(void)
{
    uintptr_t addr = (uintptr_t)&rodata_word;
    CHECK_EQ(fault_probe_write(addr, 42), -1);
    struct fault_recovery *r = &this_cpu()->recovery;
    CHECK_EQ(EC(r->esr), 0x25);
    CHECK(FSC_IS_PERMISSION(FSC(r->esr)));
    CHECK_EQ(WNR(r->esr), 1);
    CHECK_EQ(r->far, addr);
    CHECK_EQ(*(volatile const uint64_t *)&rodata_word, 0x0123456789ABCDEFUL);
    return 0;
}

static int test_text_write_faults(void)
{
    uintptr_t addr = (uintptr_t)&test_text_write_faults;
    CHECK_EQ(fault_probe_write(addr, 0), -1);
    CHECK(FSC_IS_PERMISSION(FSC(this_cpu()->recovery.esr)));
    /* ...and through the linear map alias of the same page. */
    uintptr_t alias = (uintptr_t)phys_to_virt(virt_to_phys((void *)addr));
    CHECK_EQ(fault_probe_write(alias, 0), -1);
    CHECK(FSC_IS_PERMISSION(FSC(this_cpu()->recovery.esr)));
    CHECK_EQ(this_cpu()->recovery.far, alias);
    return 0;
}

static int test_data_not_executable(void)
{
    data_words[0] = 0xD65F03C0; /* ret */
    uintptr_t addr = (uintptr_t)data_words;
    CHECK_EQ(fault_probe_exec(addr), -1);
    struct fault_recovery *r = &this_cpu()->recovery;
    CHECK_EQ(EC(r->esr), 0x21); /* instruction abort, same EL */
    CHECK(FSC_IS_PERMISSION(FSC(r->esr)));
    CHECK_EQ(r->elr, addr);
    /* And the linear map is never executable either. */
    CHECK_EQ(fault_probe_exec((uintptr_t)phys_to_virt(virt_to_phys(data_words))), -1);
    CHECK_EQ(EC(this_cpu()->recovery.esr), 0x21);
    return 0;
}

static int test_mapping_permissions(void)
{
    int level;
    uint64_t text = kernel_pte((uintptr_t)&test_mapping_permissions, &level);
    uint64_t ro = kernel_pte((uintptr_t)&rodata_word, &level);
    uint64_t rw = kernel_pte((uintptr_t)data_words, &level);
    CHECK(text && ro && rw);
    CHECK((text & PTE_AP_RO_EL1) && !(text & PTE_PXN) && (text & PTE_UXN));
    CHECK((ro & PTE_AP_RO_EL1) && (ro & PTE_PXN));
    CHECK(!(rw & PTE_AP_RO_EL1) && (rw & PTE_PXN));
    uint64_t sctlr;
    __asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
    CHECK(sctlr & (1 << 19)); /* WXN */
    return 0;
}

static int test_fault_decoding(void)
{
    char buf[64];
    fault_status_describe(0x07, buf, sizeof(buf));
    CHECK(strcmp(buf, "translation fault, level 3") == 0);
    fault_status_describe(0x0D | (1 << 6), buf, sizeof(buf));
    CHECK(strcmp(buf, "permission fault, level 1") == 0);
    fault_status_describe(0x21, buf, sizeof(buf));
    CHECK(strcmp(buf, "alignment fault (FSC 0x21)") == 0);
    CHECK(strcmp(exception_class_name(0x25), "Data Abort (same EL)") == 0);
    CHECK(strcmp(exception_class_name(0x15), "SVC from AArch64") == 0);
    return 0;
}

const struct selftest selftests_fault[] = {
    {"fault_unmapped_read", test_unmapped_read},
    {"fault_null_dereference", test_null_dereference},
    {"wx_rodata_write_faults", test_rodata_write_faults},
    {"wx_text_write_faults", test_text_write_faults},
    {"wx_data_not_executable", test_data_not_executable},
    {"wx_mapping_permissions", test_mapping_permissions},
    {"fault_decoding", test_fault_decoding},
    {NULL, NULL},
};
