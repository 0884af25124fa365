/*
 * Host unit tests for the ELF64 reader (libcap/src/elf.c).
 *
 * Images are described by a struct (header fields plus program headers)
 * and written by a tiny little-endian ELF64 writer below into a malloc'd
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

#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define PAGE 4096u

#define ET_REL 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_ARM 40
#define EM_X86_64 62
#define EM_AARCH64 183
#define PT_NULL 0
#define PT_LOAD 1
#define PT_NOTE 4
#define PT_GNU_STACK 0x6474e551u
#define PF_X 1
#define PF_W 2
#define PF_R 4

#define MAX_PH 16
#define BASE MICA_USER_BASE
#define END MICA_USER_END

struct ph {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz;
};

/* What the writer puts in the file. */
struct desc {
    uint8_t ident[16];
    uint16_t type, machine, phentsize, phnum;
    uint64_t entry, phoff;
    struct ph ph[MAX_PH];
    size_t size; /* the whole file */
};

/* The valid image: headers, then text (R+X) and data (R+W, with bss).
 *
 *   0x000  ELF header
 *   0x040  2 program headers
 *   0x0b0  text: 0x100 bytes at 0x4000b0 (page 0x400000)
 *   0x1b0  data: 0x40 bytes at 0x4101b0, memsz 0x2000 (pages 0x410000..0x413000)
 *   0x1f0  end of file
 */
#define TEXT_OFF 0x0b0u
#define TEXT_VA 0x4000b0u
#define TEXT_SZ 0x100u
#define DATA_OFF 0x1b0u
#define DATA_VA 0x4101b0u
#define DATA_FSZ 0x40u
#define DATA_MSZ 0x2000u
#define FILE_SZ 0x1f0u
#define ENTRY (TEXT_VA + 0x10)

static struct desc valid(void)
{
    struct desc d;
    memset(&d, 0, sizeof(d));
    memcpy(d.ident, "\177ELF", 4);
    d.ident[4] = 2; /* ELFCLASS64 */
    d.ident[5] = 1; /* ELFDATA2LSB */
    d.ident[6] = 1; /* EV_CURRENT */
    d.type = ET_EXEC;
    d.machine = EM_AARCH64;
    d.phentsize = PHDR_SIZE;
    d.phnum = 2;
    d.entry = ENTRY;
    d.phoff = EHDR_SIZE;
    d.ph[0] = (struct ph){PT_LOAD, PF_R | PF_X, TEXT_OFF, TEXT_VA, TEXT_SZ, TEXT_SZ};
    d.ph[1] = (struct ph){PT_LOAD, PF_R | PF_W, DATA_OFF, DATA_VA, DATA_FSZ, DATA_MSZ};
    d.size = FILE_SZ;
    return d;
}

/* Little-endian stores that drop whatever falls outside the file. */
static void put(uint8_t *f, size_t size, uint64_t at, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        if (at + i >= at && at + i < size)
            f[at + i] = (uint8_t)(v >> (8 * i));
}

/* Write d into a block of exactly d->size bytes (never NULL). Program
 * headers go at phoff, PHDR_SIZE apart whatever phentsize says; segment
 * bytes are a pattern, as far as they fit. */
static uint8_t *build(const struct desc *d)
{
    size_t n = d->size;
    uint8_t *f = malloc(n ? n : 1);
    assert_non_null(f);
    memset(f, 0, n);
    for (unsigned i = 0; i < MAX_PH; i++) {
        const struct ph *p = &d->ph[i];
        if (p->type != PT_LOAD)
            continue;
        for (uint64_t j = 0; j < p->filesz && p->offset + j >= p->offset && p->offset + j < n; j++)
            f[p->offset + j] = (uint8_t)(0xa0 + i + j);
    }
    for (unsigned i = 0; i < 16; i++)
        put(f, n, i, d->ident[i], 1);
    put(f, n, 16, d->type, 2);
    put(f, n, 18, d->machine, 2);
    put(f, n, 20, 1, 4); /* version */
    put(f, n, 24, d->entry, 8);
    put(f, n, 32, d->phoff, 8);
    put(f, n, 40, 0, 8); /* shoff */
    put(f, n, 48, 0, 4); /* flags */
    put(f, n, 52, EHDR_SIZE, 2);
    put(f, n, 54, d->phentsize, 2);
    put(f, n, 56, d->phnum, 2);
    put(f, n, 58, 64, 2); /* shentsize */
    put(f, n, 60, 0, 2);  /* shnum */
    put(f, n, 62, 0, 2);  /* shstrndx */
    for (unsigned i = 0; i < MAX_PH && i < d->phnum; i++) {
        const struct ph *p = &d->ph[i];
        uint64_t at = d->phoff + (uint64_t)i * PHDR_SIZE;
        if (at < d->phoff || at > UINT64_MAX - PHDR_SIZE)
            break; /* wrapped: nothing of it is in the file */
        put(f, n, at + 0, p->type, 4);
        put(f, n, at + 4, p->flags, 4);
        put(f, n, at + 8, p->offset, 8);
        put(f, n, at + 16, p->vaddr, 8);
        put(f, n, at + 24, p->vaddr, 8); /* paddr */
        put(f, n, at + 32, p->filesz, 8);
        put(f, n, at + 40, p->memsz, 8);
        put(f, n, at + 48, PAGE, 8); /* align */
    }
    return f;
}

static int parse_range(const struct desc *d, uint64_t base, uint64_t end, struct elf_image *img,
                       const char **why)
{
    uint8_t *f = build(d);
    *why = "(not set)";
    int err = elf_parse(f, d->size, base, end, img, why);
    free(f);
    return err;
}

static void expect_ok_range(const struct desc *d, uint64_t base, uint64_t end,
                            struct elf_image *img)
{
    const char *why;
    int err = parse_range(d, base, end, img, &why);
    if (err != MICA_OK)
        fail_msg("rejected (%d): %s", err, why ? why : "(null)");
    assert_null(why);
}

static void expect_ok(const struct desc *d, struct elf_image *img)
{
    expect_ok_range(d, BASE, END, img);
}

/* Rejected with a reason containing `reason`. */
static void expect_bad_range(const struct desc *d, uint64_t base, uint64_t end, const char *reason)
{
    struct elf_image img;
    const char *why;
    int err = parse_range(d, base, end, &img, &why);
    if (err == MICA_OK)
        fail_msg("accepted; expected rejection for \"%s\"", reason);
    assert_int_equal(err, MICA_ERR_INVALID_ARGS);
    assert_non_null(why);
    assert_true(why[0] != '\0');
    if (!strstr(why, reason))
        fail_msg("rejected as \"%s\", expected \"%s\"", why, reason);
}

static void expect_bad(const struct desc *d, const char *reason)
{
    expect_bad_range(d, BASE, END, reason);
}

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
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_valid_variants),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_bad_ident),
        cmocka_unit_test(test_bad_machine_and_type),
        cmocka_unit_test(test_bad_phentsize),
        cmocka_unit_test(test_no_program_headers),
        cmocka_unit_test(test_program_headers_beyond_file),
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
