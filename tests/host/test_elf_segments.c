/*
 * Host unit tests for the ELF64 reader (libcap/src/elf.c): its segment
 * checks (sizes, file bounds, alignment, the user range, overlaps, count,
 * the entry point, ignored segment types) and seeded random mutations of
 * the valid image (built by elf_test_util.c, as in test_elf.c).
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

static void test_filesz_exceeds_memsz(void **state)
{
    (void)state;
    struct desc d = valid();
    d.ph[1].memsz = DATA_FSZ - 1;
    expect_bad(&d, "file size exceeds");
    d = valid();
    d.ph[0].memsz = TEXT_SZ - 1;
    expect_bad(&d, "file size exceeds");
}

static void test_segment_data_beyond_file(void **state)
{
    (void)state;
    struct desc d = valid();
    d.ph[1].filesz = DATA_FSZ + 1; /* one byte past the end */
    expect_bad(&d, "segment data beyond");
    d = valid();
    d.ph[1].offset += PAGE; /* starts past the end (same page offset) */
    expect_bad(&d, "segment data beyond");
    d = valid();
    d.ph[1].offset = FILE_SZ + 1; /* even with nothing to read */
    d.ph[1].vaddr = 0x410000 + FILE_SZ + 1;
    d.ph[1].filesz = 0;
    expect_bad(&d, "segment data beyond");
    /* offset + filesz wraps around 2^64. */
    d = valid();
    d.ph[1].filesz = UINT64_MAX - DATA_OFF + 2;
    d.ph[1].memsz = UINT64_MAX;
    expect_bad(&d, "segment data beyond");
    d = valid();
    d.ph[1].offset = UINT64_MAX - 0xe4f; /* same page offset as DATA_VA */
    d.ph[1].filesz = 0x1000;
    expect_bad(&d, "segment data beyond");
}

static void test_offset_vaddr_disagree(void **state)
{
    (void)state;
    static const uint64_t deltas[] = {1, 8, 0x800, PAGE - 1};
    for (size_t i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
        struct desc d = valid();
        d.ph[1].vaddr += deltas[i];
        expect_bad(&d, "modulo");
    }
}

static void test_below_user_base(void **state)
{
    (void)state;
    struct desc d = valid();
    d.ph[0].vaddr = TEXT_OFF; /* page 0 */
    d.entry = TEXT_OFF;
    expect_bad(&d, "user address range");
    /* With a higher base: the text is below it, the data above. */
    d = valid();
    expect_bad_range(&d, 0x401000, END, "user address range");
    expect_bad_range(&d, TEXT_VA + 1, END, "user address range");
    /* A text segment starting exactly at the (page-aligned) base is fine,
     * one byte lower is not. */
    d.ph[0] =
        (struct ph){PT_LOAD, PF_R | PF_X, 0, 0x400000, TEXT_OFF + TEXT_SZ, TEXT_OFF + TEXT_SZ};
    struct elf_image img;
    expect_ok_range(&d, 0x400000, END, &img);
    assert_int_equal(img.segments[0].vaddr, 0x400000);
    assert_int_equal(img.segments[0].mem_size, PAGE);
    expect_bad_range(&d, 0x400001, END, "user address range");
    /* Limits must be page aligned, or rounding could leave the range. */
    expect_bad_range(&d, 0x400000, END - 1, "page aligned");
    expect_bad_range(&d, END, 0x400000, "page aligned");
}

static void test_beyond_user_end(void **state)
{
    (void)state;
    struct elf_image img;
    struct desc d = valid();
    /* The data's bss ends exactly at a page-aligned end, then one byte beyond. */
    d.ph[1].memsz = 0x413000 - DATA_VA;
    expect_ok_range(&d, BASE, 0x413000, &img);
    assert_int_equal(img.segments[1].vaddr + img.segments[1].mem_size, 0x413000);
    expect_bad_range(&d, BASE, 0x412fff, "user address range");
    expect_bad_range(&d, BASE, 0x412000, "user address range");
    /* Starting at or past the end. */
    expect_bad_range(&d, BASE, DATA_VA, "user address range");
    d.ph[1].vaddr = END + 0x1b0;
    expect_bad(&d, "user address range");
    d.ph[1].vaddr = UINT64_MAX - 0xe4f;
    expect_bad(&d, "user address range");
    /* vaddr + memsz wraps around 2^64 to a small address. */
    d = valid();
    d.ph[1].memsz = UINT64_MAX - DATA_VA + 2;
    expect_bad(&d, "user address range");
    expect_bad_range(&d, BASE, UINT64_MAX, "user address range");
    expect_bad_range(&d, BASE, UINT64_MAX & ~(uint64_t)(PAGE - 1), "user address range");
    d.ph[1].memsz = UINT64_MAX;
    expect_bad_range(&d, BASE, UINT64_MAX, "user address range");
    /* A huge segment at the top of the real user range. */
    d = valid();
    d.ph[1].vaddr = END - PAGE + DATA_OFF;
    d.ph[1].memsz = PAGE;
    expect_bad(&d, "user address range");
    d.ph[1].memsz = PAGE - DATA_OFF;
    expect_ok(&d, &img);
    assert_int_equal(img.segments[1].vaddr, END - PAGE);
    assert_int_equal(img.segments[1].mem_size, PAGE);
}

static void test_overlapping(void **state)
{
    (void)state;
    /* The data starts in the text's last page. */
    struct desc d = valid();
    d.ph[1].vaddr = 0x400000 + DATA_OFF;
    expect_bad(&d, "overlapping");
    /* The data's bss runs into the text's page. */
    d = valid();
    d.ph[1].vaddr = 0x3ff000 + DATA_OFF;
    expect_bad(&d, "overlapping");
    /* The data covers the text entirely. */
    d = valid();
    d.ph[1].vaddr = 0x300000 + DATA_OFF;
    d.ph[1].memsz = 0x200000;
    expect_bad(&d, "overlapping");
    /* The same segment twice. */
    d = valid();
    d.ph[1] = d.ph[0];
    expect_bad(&d, "overlapping");
    /* A third segment overlapping the first, not the second. */
    d = valid();
    d.phnum = 3;
    d.ph[2] = (struct ph){PT_LOAD, PF_R, 0, 0x400000, 0x10, 0x10};
    expect_bad(&d, "overlapping");
}

/* n loadable one-page segments at 0x400000, 0x401000, ... */
static struct desc many(unsigned n)
{
    struct desc d = valid();
    d.phnum = (uint16_t)n;
    d.phoff = EHDR_SIZE;
    for (unsigned i = 0; i < n; i++)
        d.ph[i] = (struct ph){PT_LOAD, PF_R | PF_X, 0, 0x400000 + i * PAGE, 0x10, 0x10};
    d.entry = 0x400000 + EHDR_SIZE;
    d.size = EHDR_SIZE + n * PHDR_SIZE;
    return d;
}

static void test_too_many_segments(void **state)
{
    (void)state;
    struct elf_image img;
    struct desc d = many(ELF_MAX_SEGMENTS);
    expect_ok(&d, &img);
    assert_int_equal(img.n_segments, ELF_MAX_SEGMENTS);
    assert_int_equal(img.segments[ELF_MAX_SEGMENTS - 1].vaddr,
                     0x400000 + (ELF_MAX_SEGMENTS - 1) * PAGE);
    d = many(ELF_MAX_SEGMENTS + 1);
    expect_bad(&d, "too many");
    d = many(MAX_PH);
    expect_bad(&d, "too many");
    /* Non-loadable extras do not count. */
    d = many(ELF_MAX_SEGMENTS + 2);
    d.ph[3].type = PT_NOTE;
    d.ph[7].memsz = 0;
    d.ph[7].filesz = 0;
    expect_ok(&d, &img);
    assert_int_equal(img.n_segments, ELF_MAX_SEGMENTS);
}

static void test_bad_entry(void **state)
{
    (void)state;
    static const uint64_t entries[] = {0, BASE, 0x3fffff, 0x401000, DATA_VA, 0x412fff, UINT64_MAX};
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        struct desc d = valid();
        d.entry = entries[i];
        expect_bad(&d, "entry point");
    }
    /* In the text, but the text is not executable (and the data is not). */
    struct desc d = valid();
    d.ph[0].flags = PF_R;
    expect_bad(&d, "entry point");
    d.ph[0].flags = PF_R | PF_W;
    expect_bad(&d, "entry point");
    /* The data executable and the entry in it: fine. */
    d = valid();
    d.ph[1].flags = PF_R | PF_X;
    d.entry = DATA_VA + 0x1000;
    struct elf_image img;
    expect_ok(&d, &img);
    assert_int_equal(img.entry, DATA_VA + 0x1000);
    /* First and last bytes of the text. */
    d = valid();
    d.entry = TEXT_VA;
    expect_ok(&d, &img);
    d.entry = TEXT_VA + TEXT_SZ - 1;
    expect_ok(&d, &img);
}

static void test_ignored_segments(void **state)
{
    (void)state;
    struct desc d = valid();
    d.phnum = 6;
    /* Nonsense that would be rejected in a loadable segment. */
    d.ph[2] = (struct ph){PT_NOTE, PF_R, UINT64_MAX, 0, 100, 1};
    d.ph[3] = (struct ph){PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0};
    d.ph[4] = (struct ph){PT_LOAD, PF_R | PF_X, FILE_SZ + 7, 0x400000 + 5, 0, 0};
    d.ph[5] = (struct ph){PT_NULL, 0, 0, TEXT_VA, TEXT_SZ, TEXT_SZ};
    d.phoff = FILE_SZ;
    d.size = FILE_SZ + 6 * PHDR_SIZE;
    struct elf_image img;
    expect_ok(&d, &img);
    assert_int_equal(img.n_segments, 2);
    assert_int_equal(img.segments[0].data_addr, TEXT_VA);
    assert_int_equal(img.segments[1].data_addr, DATA_VA);
    /* A zero-memsz segment first, before the real ones. */
    d = valid();
    d.phnum = 3;
    d.ph[2] = d.ph[1];
    d.ph[1] = d.ph[0];
    d.ph[0] = (struct ph){PT_LOAD, PF_R | PF_W, 0, 0, 0, 0};
    d.phoff = FILE_SZ;
    d.size = FILE_SZ + 3 * PHDR_SIZE;
    expect_ok(&d, &img);
    assert_int_equal(img.n_segments, 2);
    assert_int_equal(img.segments[0].data_addr, TEXT_VA);
    /* Nothing loadable at all. */
    d = valid();
    d.ph[0].type = PT_NOTE;
    d.ph[1].memsz = 0;
    d.ph[1].filesz = 0;
    expect_bad(&d, "no loadable");
}

/* xorshift64: deterministic pseudo-random numbers. */
static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Random byte changes to the valid file: never a crash, and whatever is
 * accepted keeps the promises elf.h makes. */
static void test_random_mutations(void **state)
{
    (void)state;
    struct desc d = valid();
    uint8_t *orig = build(&d);
    unsigned accepted = 0;
    for (int iter = 0; iter < 50000; iter++) {
        uint8_t *f = malloc(FILE_SZ);
        assert_non_null(f);
        memcpy(f, orig, FILE_SZ);
        int changes = 1 + (int)(next_rand() % 4);
        for (int c = 0; c < changes; c++) {
            uint64_t r = next_rand();
            /* Mostly the headers, where the parser looks. */
            size_t at = (r & 1) ? (size_t)((r >> 8) % (EHDR_SIZE + 2 * PHDR_SIZE))
                                : (size_t)((r >> 8) % FILE_SZ);
            f[at] = (r & 2) ? (uint8_t)(r >> 40) : (uint8_t)(f[at] ^ (1u << ((r >> 40) % 8)));
        }
        struct elf_image img;
        const char *why = NULL;
        int err = elf_parse(f, FILE_SZ, BASE, END, &img, &why);
        free(f);
        if (err != MICA_OK) {
            assert_int_equal(err, MICA_ERR_INVALID_ARGS);
            assert_non_null(why);
            assert_true(why[0] != '\0');
            continue;
        }
        accepted++;
        assert_true(img.n_segments >= 1 && img.n_segments <= ELF_MAX_SEGMENTS);
        int entry_ok = 0;
        for (unsigned i = 0; i < img.n_segments; i++) {
            const struct elf_segment *s = &img.segments[i];
            assert_int_equal(s->vaddr % PAGE, 0);
            assert_int_equal(s->mem_size % PAGE, 0);
            assert_true(s->mem_size > 0);
            assert_true(s->vaddr >= BASE && s->vaddr < END && s->mem_size <= END - s->vaddr);
            assert_true(s->data_addr >= s->vaddr && s->data_addr - s->vaddr < PAGE);
            assert_true(s->file_offset <= FILE_SZ && s->file_size <= FILE_SZ - s->file_offset);
            assert_true(s->file_size <= s->mem_size - (s->data_addr - s->vaddr));
            assert_int_equal(s->file_offset % PAGE, s->data_addr % PAGE);
            assert_int_equal(s->flags & ~(uint32_t)(MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC),
                             0);
            for (unsigned j = 0; j < i; j++) {
                const struct elf_segment *o = &img.segments[j];
                assert_true(s->vaddr >= o->vaddr + o->mem_size ||
                            o->vaddr >= s->vaddr + s->mem_size);
            }
            if ((s->flags & MICA_MAP_EXEC) && img.entry >= s->vaddr &&
                img.entry - s->vaddr < s->mem_size)
                entry_ok = 1;
        }
        assert_true(entry_ok);
    }
    free(orig);
    /* The mutations are not all fatal: the accepted side was exercised. */
    assert_true(accepted > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filesz_exceeds_memsz),
        cmocka_unit_test(test_segment_data_beyond_file),
        cmocka_unit_test(test_offset_vaddr_disagree),
        cmocka_unit_test(test_below_user_base),
        cmocka_unit_test(test_beyond_user_end),
        cmocka_unit_test(test_overlapping),
        cmocka_unit_test(test_too_many_segments),
        cmocka_unit_test(test_bad_entry),
        cmocka_unit_test(test_ignored_segments),
        cmocka_unit_test(test_random_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
