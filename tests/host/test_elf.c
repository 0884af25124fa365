/*
 * Host unit tests for the ELF64 reader (libcap/src/elf.c): the valid
 * image and the file and program-header checks (segments:
 * test_elf_segments.c).
 *
 * Images are described by a struct (header fields plus program headers)
 * and written by a tiny little-endian ELF64 writer (elf_test_util.c) into a malloc'd
 * block of exactly the file's size, so valgrind or ASan flags any read
 * past the end even where a test still passes. Every rejection test
 * starts from the valid two-segment image and changes one thing; each
 * must fail with MICA_ERR_INVALID_ARGS and a reason naming the check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mica/abi.h>
#include <mica/elf.h>

#include "elf_test_util.h"

static void test_valid(void **state)
{
    (void)state;
    struct desc d = valid();
    struct elf_image img;
    expect_ok(&d, &img);
    assert_int_equal(img.entry, ENTRY);
    assert_int_equal(img.n_segments, 2);

    const struct elf_segment *t = &img.segments[0];
    assert_int_equal(t->vaddr, 0x400000);
    assert_int_equal(t->mem_size, 0x1000);
    assert_int_equal(t->data_addr, TEXT_VA);
    assert_int_equal(t->file_offset, TEXT_OFF);
    assert_int_equal(t->file_size, TEXT_SZ);
    assert_int_equal(t->flags, MICA_MAP_READ | MICA_MAP_EXEC);

    const struct elf_segment *s = &img.segments[1];
    assert_int_equal(s->vaddr, 0x410000);
    assert_int_equal(s->mem_size, 0x3000); /* 0x4101b0 + 0x2000 rounds up to 0x413000 */
    assert_int_equal(s->data_addr, DATA_VA);
    assert_int_equal(s->file_offset, DATA_OFF);
    assert_int_equal(s->file_size, DATA_FSZ);
    assert_int_equal(s->flags, MICA_MAP_READ | MICA_MAP_WRITE);
}

/* Page-aligned segments, every flag combination, and trailing bytes. */
static void test_valid_variants(void **state)
{
    (void)state;
    for (uint32_t fl = 0; fl < 8; fl++) {
        struct desc d = valid();
        d.ph[1].flags = fl;
        struct elf_image img;
        expect_ok(&d, &img);
        uint32_t want = ((fl & PF_R) ? MICA_MAP_READ : 0) | ((fl & PF_W) ? MICA_MAP_WRITE : 0) |
                        ((fl & PF_X) ? MICA_MAP_EXEC : 0);
        assert_int_equal(img.segments[1].flags, want);
    }

    /* Both segments page-aligned in the file and in memory; data all bss. */
    struct desc d = valid();
    d.ph[0] = (struct ph){PT_LOAD, PF_R | PF_X, 0x1000, 0x400000, 0x1000, 0x1000};
    d.ph[1] = (struct ph){PT_LOAD, PF_R | PF_W, 0x2000, 0x401000, 0, 0x1001};
    d.entry = 0x400000;
    d.size = 0x2000;
    struct elf_image img;
    expect_ok(&d, &img);
    assert_int_equal(img.segments[0].vaddr, 0x400000);
    assert_int_equal(img.segments[0].mem_size, 0x1000);
    assert_int_equal(img.segments[0].data_addr, 0x400000);
    assert_int_equal(img.segments[1].vaddr, 0x401000); /* adjacent pages do not overlap */
    assert_int_equal(img.segments[1].mem_size, 0x2000);
    assert_int_equal(img.segments[1].file_size, 0);

    /* Bytes after the last segment (section headers, say) are fine. */
    d = valid();
    d.size = FILE_SZ + 1000;
    expect_ok(&d, &img);

    /* Program headers after the segment data. */
    d = valid();
    d.phoff = FILE_SZ;
    d.size = FILE_SZ + 2 * PHDR_SIZE;
    expect_ok(&d, &img);
    assert_int_equal(img.n_segments, 2);
}

/* Every proper prefix of the valid file is rejected (the data segment
 * ends exactly at the end of the file), each in an exact-size block. */
static void test_truncated_every_length(void **state)
{
    (void)state;
    struct desc d = valid();
    uint8_t *full = build(&d);
    for (size_t len = 0; len < FILE_SZ; len++) {
        uint8_t *p = malloc(len ? len : 1);
        assert_non_null(p);
        memcpy(p, full, len);
        struct elf_image img;
        const char *why = NULL;
        int err = elf_parse(p, len, BASE, END, &img, &why);
        free(p);
        if (err != MICA_ERR_INVALID_ARGS)
            fail_msg("prefix of %zu bytes: got %d", len, err);
        assert_non_null(why);
        assert_true(why[0] != '\0');
        assert_non_null(strstr(why, "truncated"));
    }
    free(full);
}

static void test_bad_ident(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++) {
        struct desc d = valid();
        d.ident[i] ^= 0x20;
        expect_bad(&d, "magic");
    }
    struct desc d = valid();
    d.ident[4] = 1; /* ELFCLASS32 */
    expect_bad(&d, "64-bit");
    d.ident[4] = 0;
    expect_bad(&d, "64-bit");
    d = valid();
    d.ident[5] = 2; /* ELFDATA2MSB */
    expect_bad(&d, "little-endian");
    d.ident[5] = 0;
    expect_bad(&d, "little-endian");
}

static void test_bad_machine_and_type(void **state)
{
    (void)state;
    static const uint16_t machines[] = {0, EM_ARM, EM_X86_64, EM_AARCH64 << 8};
    for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++) {
        struct desc d = valid();
        d.machine = machines[i];
        expect_bad(&d, "machine");
    }
    static const uint16_t types[] = {0, ET_REL, ET_DYN, 4, ET_EXEC << 8};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct desc d = valid();
        d.type = types[i];
        expect_bad(&d, "ET_EXEC");
    }
}

static void test_bad_phentsize(void **state)
{
    (void)state;
    static const uint16_t sizes[] = {0, 32, PHDR_SIZE - 1, PHDR_SIZE + 1, 64};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct desc d = valid();
        d.phentsize = sizes[i];
        expect_bad(&d, "program header size");
    }
}

static void test_no_program_headers(void **state)
{
    (void)state;
    struct desc d = valid();
    d.phnum = 0;
    expect_bad(&d, "no program headers");
}

static void test_program_headers_beyond_file(void **state)
{
    (void)state;
    struct desc d = valid();
    d.phoff = FILE_SZ - 2 * PHDR_SIZE + 1; /* the second one is one byte short */
    expect_bad(&d, "program headers beyond");
    d.phoff = FILE_SZ - PHDR_SIZE + 1; /* the first one is */
    d.phnum = 1;
    expect_bad(&d, "program headers beyond");
    d.phoff = FILE_SZ;
    expect_bad(&d, "program headers beyond");
    d.phoff = FILE_SZ + 1;
    expect_bad(&d, "program headers beyond");
    /* phoff + phnum * 56 wraps around 2^64 to a small number. */
    d.phoff = UINT64_MAX - PHDR_SIZE + 1;
    d.phnum = 2;
    expect_bad(&d, "program headers beyond");
    d.phoff = UINT64_MAX;
    expect_bad(&d, "program headers beyond");
    d.phoff = (uint64_t)1 << 63;
    expect_bad(&d, "program headers beyond");
    /* As many headers as phnum can say. */
    d = valid();
    d.phnum = UINT16_MAX;
    expect_bad(&d, "program headers beyond");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_valid_variants),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_bad_ident),
        cmocka_unit_test(test_bad_machine_and_type),
        cmocka_unit_test(test_bad_phentsize),
        cmocka_unit_test(test_no_program_headers),
        cmocka_unit_test(test_program_headers_beyond_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
