/*
 * Host tests for elf_parse_pie (libcap/src/elf.c): static position-
 * independent executables (ET_DYN) are placed at the bias the Linux
 * personality asks for, ET_EXEC files are not moved, dynamically linked
 * ones (PT_INTERP) and ET_DYN for plain elf_parse are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <mica/abi.h>
#include <mica/elf.h>

#define BIAS 0x10000000UL
#define END 0x0000800000000000UL

/* An ELF with one PT_LOAD (R+X, file offset 0, vaddr `va`, 0x1800 bytes)
 * and optionally a PT_INTERP. */
static size_t build(uint8_t *f, uint16_t type, uint64_t va, uint64_t entry, bool interp)
{
    memset(f, 0, 0x2000);
    memcpy(f, "\177ELF\2\1\1", 7);
    uint16_t machine = 183, phentsize = 56, phnum = interp ? 2 : 1;
    uint64_t phoff = 64, filesz = 0x1800;
    uint32_t load = 1, flags = 5 /* R+X */, interp_type = 3;
    memcpy(f + 16, &type, 2);
    memcpy(f + 18, &machine, 2);
    memcpy(f + 24, &entry, 8);
    memcpy(f + 32, &phoff, 8);
    memcpy(f + 54, &phentsize, 2);
    memcpy(f + 56, &phnum, 2);
    uint8_t *ph = f + 64;
    memcpy(ph, &load, 4);
    memcpy(ph + 4, &flags, 4);
    memcpy(ph + 16, &va, 8);
    memcpy(ph + 24, &va, 8);
    memcpy(ph + 32, &filesz, 8);
    memcpy(ph + 40, &filesz, 8);
    if (interp)
        memcpy(ph + 56, &interp_type, 4);
    return 0x2000;
}

static void test_static_pie_is_placed(void **state)
{
    (void)state;
    static uint8_t f[0x2000];
    struct elf_image img;
    const char *why;
    size_t n = build(f, 3 /* ET_DYN */, 0, 0x400, false);
    assert_int_equal(elf_parse_pie(f, n, 0x1000, END, BIAS, &img, &why), MICA_OK);
    assert_int_equal(img.bias, BIAS);
    assert_int_equal(img.entry, BIAS + 0x400);
    assert_int_equal(img.segments[0].vaddr, BIAS);
    assert_int_equal(img.segments[0].data_addr, BIAS);
    assert_int_equal(img.segments[0].mem_size, 0x2000);
    /* the plain parser (the kernel's, procmgr's) still wants ET_EXEC */
    assert_int_equal(elf_parse(f, n, 0x1000, END, &img, &why), MICA_ERR_INVALID_ARGS);
    assert_non_null(strstr(why, "ET_EXEC"));
    /* an unaligned bias is rounded down to a page */
    assert_int_equal(elf_parse_pie(f, n, 0x1000, END, BIAS + 0x123, &img, &why), MICA_OK);
    assert_int_equal(img.bias, BIAS);
}

static void test_exec_is_not_moved(void **state)
{
    (void)state;
    static uint8_t f[0x2000];
    struct elf_image img;
    const char *why;
    size_t n = build(f, 2 /* ET_EXEC */, 0x400000, 0x400400, false);
    assert_int_equal(elf_parse_pie(f, n, 0x1000, END, BIAS, &img, &why), MICA_OK);
    assert_int_equal(img.bias, 0);
    assert_int_equal(img.entry, 0x400400);
    assert_int_equal(img.segments[0].vaddr, 0x400000);
}

static void test_refused(void **state)
{
    (void)state;
    static uint8_t f[0x2000];
    struct elf_image img;
    const char *why;
    size_t n = build(f, 3, 0, 0x400, true);
    assert_int_equal(elf_parse_pie(f, n, 0x1000, END, BIAS, &img, &why), MICA_ERR_INVALID_ARGS);
    assert_non_null(strstr(why, "PT_INTERP"));
    n = build(f, 3, 0, 0x400, false); /* placed at 0: below the user range */
    assert_int_equal(elf_parse_pie(f, n, 0x1000, END, 0, &img, &why), MICA_ERR_INVALID_ARGS);
    n = build(f, 1 /* ET_REL */, 0, 0x400, false);
    assert_int_equal(elf_parse_pie(f, n, 0x1000, END, BIAS, &img, &why), MICA_ERR_INVALID_ARGS);
    n = build(f, 3, 0, 0x3000 /* not in the segment */, false);
    assert_int_equal(elf_parse_pie(f, n, 0x1000, END, BIAS, &img, &why), MICA_ERR_INVALID_ARGS);
    /* a bias that wraps the address space */
    n = build(f, 3, 0x1000, 0x1400, false);
    assert_int_equal(elf_parse_pie(f, n, 0x1000, END, ~0UL & ~0xFFFUL, &img, &why),
                     MICA_ERR_INVALID_ARGS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_pie_is_placed),
        cmocka_unit_test(test_exec_is_not_moved),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
