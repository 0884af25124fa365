/* Helpers shared by the ELF host tests (see elf_test_util.h). */
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

/* The valid image (elf_test_util.h shows its layout). */
struct desc valid(void)
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
void put(uint8_t *f, size_t size, uint64_t at, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        if (at + i >= at && at + i < size)
            f[at + i] = (uint8_t)(v >> (8 * i));
}

/* Write d into a block of exactly d->size bytes (never NULL). Program
 * headers go at phoff, PHDR_SIZE apart whatever phentsize says; segment
 * bytes are a pattern, as far as they fit. */
uint8_t *build(const struct desc *d)
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

int parse_range(const struct desc *d, uint64_t base, uint64_t end, struct elf_image *img,
                const char **why)
{
    uint8_t *f = build(d);
    *why = "(not set)";
    int err = elf_parse(f, d->size, base, end, img, why);
    free(f);
    return err;
}

void expect_ok_range(const struct desc *d, uint64_t base, uint64_t end, struct elf_image *img)
{
    const char *why;
    int err = parse_range(d, base, end, img, &why);
    if (err != MICA_OK)
        fail_msg("rejected (%d): %s", err, why ? why : "(null)");
    assert_null(why);
}

void expect_ok(const struct desc *d, struct elf_image *img)
{
    expect_ok_range(d, BASE, END, img);
}

/* Rejected with a reason containing `reason`. */
void expect_bad_range(const struct desc *d, uint64_t base, uint64_t end, const char *reason)
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

void expect_bad(const struct desc *d, const char *reason)
{
    expect_bad_range(d, BASE, END, reason);
}
