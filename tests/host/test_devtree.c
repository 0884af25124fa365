/*
 * Host tests for devmgr's device-tree queries (servers/devmgr/devtree.c)
 * on the trees Mica boots with: QEMU virt's (GICv2 and GICv3) and Debian's
 * Raspberry Pi 3B and Zero 2 W trees. Register addresses must come out as
 * CPU addresses and interrupts in the kernel's numbering, exactly what the
 * drivers need.
 *
 * Usage: test_devtree VIRT_GICV2.dtb VIRT_GICV3.dtb BOOT_FILES_DTB_DIR
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

#include "devtree.h"
#include "dtb_util.h"

static const char *paths[3];

static void *load(const char *path)
{
    void *buf = dtb_load(path, NULL);
    assert_int_equal(fdt_check_header(buf), 0);
    return buf;
}

static void *load_pi(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", paths[2], name);
    return load(path);
}

/* The first enabled node compatible with `compatible`: its reg and IRQ. */
static void expect_device(const void *fdt, const char *compatible, uint64_t base, unsigned irq)
{
    int node = fdt_node_offset_by_compatible(fdt, -1, compatible);
    while (node >= 0 && !devtree_enabled(fdt, node))
        node = fdt_node_offset_by_compatible(fdt, node, compatible);
    if (node < 0)
        fail_msg("no enabled %s node", compatible);
    uint64_t got_base, size;
    unsigned got_irq;
    assert_int_equal(devtree_reg(fdt, node, 0, &got_base, &size), 0);
    assert_int_equal(got_base, base);
    assert_true(size >= 0x40 && size <= 0x10000);
    assert_int_equal(devtree_irq(fdt, node, &got_irq), 0);
    assert_int_equal(got_irq, irq);
}

static void test_virt(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++) {
        void *fdt = load(paths[i]);
        expect_device(fdt, "arm,pl011", 0x09000000, 32 + 1);
        expect_device(fdt, "arm,pl031", 0x09010000, 32 + 2);
        expect_device(fdt, "arm,pl061", 0x09030000, 32 + 7);
        /* No interrupts, no reg. */
        unsigned irq;
        uint64_t base, size;
        int chosen = fdt_path_offset(fdt, "/chosen");
        assert_true(chosen >= 0);
        assert_int_equal(devtree_irq(fdt, chosen, &irq), -FDT_ERR_NOTFOUND);
        assert_int_equal(devtree_reg(fdt, chosen, 0, &base, &size), -FDT_ERR_NOTFOUND);
        int uart = fdt_node_offset_by_compatible(fdt, -1, "arm,pl011");
        assert_int_equal(devtree_reg(fdt, uart, 1, &base, &size), -FDT_ERR_BADVALUE);
        assert_int_equal(devtree_reg(fdt, uart, -1, &base, &size), -FDT_ERR_BADVALUE);
        free(fdt);
    }
}

static void check_pi(void *fdt)
{
    /* Bus 0x7E...... is CPU 0x3F......; armctrl bank 1 is 32+n, bank 2 64+n. */
    expect_device(fdt, "brcm,bcm2835-aux-uart", 0x3F215040, 32 + 29);
    expect_device(fdt, "brcm,bcm2835-gpio", 0x3F200000, 64 + 17);
    expect_device(fdt, "brcm,bcm2835-system-timer", 0x3F003000, 32 + 0);
    /* A node the firmware leaves off is not enabled. */
    int node, disabled = 0;
    fdt_for_each_subnode(node, fdt, fdt_path_offset(fdt, "/soc"))
    {
        const char *status = fdt_getprop(fdt, node, "status", NULL);
        if (status && strcmp(status, "disabled") == 0) {
            assert_false(devtree_enabled(fdt, node));
            disabled++;
        }
    }
    assert_true(disabled > 0);
}

static void test_rpi3b(void **state)
{
    (void)state;
    void *fdt = load_pi("bcm2837-rpi-3-b.dtb");
    check_pi(fdt);
    expect_device(fdt, "arm,pl011", 0x3F201000, 64 + 25);
    free(fdt);
}

static void test_zero2w(void **state)
{
    (void)state;
    void *fdt = load_pi("bcm2837-rpi-zero-2-w.dtb");
    check_pi(fdt);
    free(fdt);
}

/* The local controller's own numbering: the ARM timer's PPIs. */
static void test_local_controller(void **state)
{
    (void)state;
    void *fdt = load_pi("bcm2837-rpi-3-b.dtb");
    int timer = fdt_node_offset_by_compatible(fdt, -1, "arm,armv7-timer");
    unsigned irq;
    assert_true(timer >= 0);
    assert_int_equal(devtree_irq(fdt, timer, &irq), 0);
    assert_int_equal(irq, 0); /* secure physical timer: local source 0 */
    free(fdt);
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
        cmocka_unit_test(test_virt),
        cmocka_unit_test(test_rpi3b),
        cmocka_unit_test(test_zero2w),
        cmocka_unit_test(test_local_controller),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
