/*
 * Host tests for kernel/dt.c: the device trees the kernel really boots
 * with (QEMU virt's, dumped at build time with GICv2 and GICv3, and
 * Debian's Raspberry Pi 3B and Zero 2 W trees) parse into the expected
 * platform description, and broken blobs are rejected with a reason.
 *
 * Usage: test_dt VIRT_GICV2.dtb VIRT_GICV3.dtb BOOT_FILES_DTB_DIR
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>
#include <mica/platform.h>

#include "dtb_util.h"

static const char *paths[4];

static void parse_ok(const char *path, struct platform_info *out)
{
    size_t size;
    void *blob = dtb_load(path, &size);
    char err[160] = "";
    int rc = dt_parse(blob, size, out, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s: %s", path, err);
    free(blob);
}

static void test_virt_gicv2(void **state)
{
    (void)state;
    struct platform_info p;
    parse_ok(paths[0], &p);
    assert_true(p.from_dtb);
    assert_int_equal(p.n_memory, 1);
    assert_int_equal(p.memory[0].base, 0x40000000);
    assert_int_equal(p.memory[0].size, 512UL << 20);
    assert_int_equal(p.intc, INTC_GICV2);
    assert_int_equal(p.intc_regs[0].base, 0x08000000);
    assert_int_equal(p.intc_regs[1].base, 0x08010000);
    assert_int_equal(p.timer_irq, 30);
    assert_int_equal(p.console, UART_PL011);
    assert_int_equal(p.console_pa, 0x09000000);
    assert_int_equal(p.n_cpus, 2);
    assert_string_equal(p.cpu_enable_method, "psci");
}

static void test_virt_gicv3(void **state)
{
    (void)state;
    struct platform_info p;
    parse_ok(paths[1], &p);
    assert_int_equal(p.intc, INTC_GICV3);
    assert_int_equal(p.intc_regs[0].base, 0x08000000);
    assert_int_equal(p.intc_regs[1].base, 0x080A0000);
    assert_true(p.intc_regs[1].size >= 0x20000);
    assert_int_equal(p.timer_irq, 30);
}

static void test_rpi(const char *name, uint64_t ram, const char *model)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", paths[2], name);
    struct platform_info p;
    parse_ok(path, &p);
    assert_string_equal(p.model, model);
    assert_int_equal(p.memory[0].base, 0);
    assert_int_equal(p.memory[0].size, ram);
    /* stdout-path is "serial1:115200n8": the alias, then /soc ranges
     * translate bus address 0x7e215040 to 0x3f215040. */
    assert_int_equal(p.console, UART_MINIUART);
    assert_int_equal(p.console_pa, 0x3F215040);
    assert_string_equal(p.console_path, "serial1");
    assert_int_equal(p.intc, INTC_BCM2836);
    assert_int_equal(p.intc_regs[0].base, 0x40000000);
    assert_int_equal(p.intc_regs[1].base, 0x3F00B200);
    assert_int_equal(p.timer_irq, 1);
    assert_int_equal(p.n_cpus, 4);
    assert_string_equal(p.cpu_enable_method, "spin-table");
    assert_int_equal(p.cpu_release_addr[1], 0xE0);
    assert_int_equal(p.cpu_release_addr[3], 0xF0);
}

static void test_rpi3b(void **state)
{
    (void)state;
    test_rpi("bcm2837-rpi-3-b.dtb", 1UL << 30, "Raspberry Pi 3 Model B");
}

static void test_zero2w(void **state)
{
    (void)state;
    test_rpi("bcm2837-rpi-zero-2-w.dtb", 512UL << 20, "Raspberry Pi Zero 2 W");
}

/* The Pi tree with /chosen/bootargs set to args; returns what Mica kept. */
static void bootargs_kept(const char *args, char *kept, size_t len)
{
    char path[512];
    size_t size;
    snprintf(path, sizeof(path), "%s/bcm2837-rpi-3-b.dtb", paths[2]);
    void *blob = dtb_load(path, &size), *big = malloc(size + 4096);
    assert_non_null(big);
    assert_int_equal(fdt_open_into(blob, big, (int)size + 4096), 0);
    int chosen = fdt_path_offset(big, "/chosen");
    assert_true(chosen >= 0);
    assert_int_equal(fdt_setprop_string(big, chosen, "bootargs", args), 0);
    struct platform_info p;
    char err[160] = "";
    if (dt_parse(big, fdt_totalsize(big), &p, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    snprintf(kept, len, "%s", p.bootargs);
    free(big);
    free(blob);
}

/* A command line that fits is kept whole; a Pi firmware's long one keeps
 * its mica.* words, cmdline.txt's at the end included. */
static void test_bootargs(void **state)
{
    (void)state;
    char kept[sizeof(((struct platform_info *)0)->bootargs)];
    bootargs_kept("console=ttyS0,115200 mica.run=shell", kept, sizeof(kept));
    assert_string_equal(kept, "console=ttyS0,115200 mica.run=shell");
    bootargs_kept("coherent_pool=1M 8250.nr_uarts=1 mica.test=idle snd_bcm2835.enable_headphones=0 "
                  "bcm2708_fb.fbwidth=656 bcm2708_fb.fbheight=416 bcm2708_fb.fbswap=1 "
                  "smsc95xx.macaddr=B8:27:EB:00:00:00 vc_mem.mem_base=0x3ec00000 "
                  "vc_mem.mem_size=0x40000000  mica.run=shell",
                  kept, sizeof(kept));
    assert_string_equal(kept, "mica.test=idle mica.run=shell");
}

/* Parse a modified copy of the virt tree; expect failure mentioning why. */
static void expect_reject(void (*damage)(uint8_t *blob, size_t *size), const char *why)
{
    size_t size;
    uint8_t *blob = dtb_load(paths[0], &size);
    damage(blob, &size);
    struct platform_info p;
    char err[160] = "";
    assert_true(dt_parse(blob, size, &p, err, sizeof(err)) < 0);
    if (!strstr(err, why))
        fail_msg("error '%s' does not mention '%s'", err, why);
    free(blob);
}

static void bad_magic(uint8_t *b, size_t *s)
{
    (void)s;
    b[0] ^= 0xFF;
}
static void truncated(uint8_t *b, size_t *s)
{
    (void)b;
    *s = fdt_totalsize(b) / 2;
}
static void tiny(uint8_t *b, size_t *s)
{
    (void)b;
    *s = 8;
}
static void bad_version(uint8_t *b, size_t *s)
{
    (void)s;
    fdt_set_version(b, 1);
}
static void bad_struct(uint8_t *b, size_t *s)
{
    (void)s;
    uint32_t off = fdt_off_dt_struct(b);
    memset(b + off + 8, 0xEE, 16); /* garbage tokens inside the root node */
}
static void struct_out_of_bounds(uint8_t *b, size_t *s)
{
    (void)s;
    fdt_set_off_dt_struct(b, fdt_totalsize(b) - 4);
}
static void no_intc(uint8_t *b, size_t *s)
{
    (void)s;
    int node;
    while ((node = fdt_node_offset_by_compatible(b, -1, "arm,cortex-a15-gic")) >= 0)
        assert_int_equal(fdt_nop_node(b, node), 0);
}
static void no_memory(uint8_t *b, size_t *s)
{
    (void)s;
    int node = fdt_path_offset(b, "/memory@40000000");
    assert_true(node >= 0);
    assert_int_equal(fdt_nop_node(b, node), 0);
}

static void test_rejects(void **state)
{
    (void)state;
    expect_reject(bad_magic, "bad magic");
    expect_reject(truncated, "only");
    expect_reject(tiny, "too small");
    expect_reject(bad_version, "bad header");
    expect_reject(bad_struct, "corrupt");
    expect_reject(struct_out_of_bounds, "bad header");
    expect_reject(no_intc, "no supported interrupt controller");
    expect_reject(no_memory, "no memory node");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s VIRT_GICV2.dtb VIRT_GICV3.dtb DTB_DIR\n", argv[0]);
        return 2;
    }
    paths[0] = argv[1];
    paths[1] = argv[2];
    paths[2] = argv[3];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_virt_gicv2), cmocka_unit_test(test_virt_gicv3),
        cmocka_unit_test(test_rpi3b),      cmocka_unit_test(test_zero2w),
        cmocka_unit_test(test_bootargs),   cmocka_unit_test(test_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
