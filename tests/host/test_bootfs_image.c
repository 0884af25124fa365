/*
 * Host unit tests for the bootfs reader (libcap/src/bootfs.c) on what
 * other writers made: an archive written by GNU cpio 2.13 (`cpio -o -H
 * newc --reproducible`, kept here as bytes, so no cpio is needed at run
 * time), and the image header (bootfs_header_check). With arguments
 * (IMAGE NAME=PATH ...), as bootfs.cmake registers it, it also reads an
 * image that scripts/tools/mkbootfs.py and mkimage.py built and checks
 * that every NAME holds PATH's contents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mica/bootfs.h>
#include <mica/status.h>
#include <mica/types.h>

#include "bootfs_test_util.h"

static int g_argc;
static char **g_argv;

/*
 * Written by GNU cpio 2.13: the files boot/manifest, srv/init and empty
 * and the directories ".", boot and srv, piped in as "./boot" etc. (cpio
 * dropped the "./" itself). Upper-case hex; cpio pads the archive to 512
 * bytes, which the test puts back after the trailer.
 */
static const char gnu_cpio[] = "07070100000000000041ED0000000000000000000000046B01685E"
                               "00000000000000000000000000000000000000000000000200000000"
                               ".\0"
                               "07070100000001000041ED0000000000000000000000026B01685E"
                               "00000000000000000000000000000000000000000000000500000000"
                               "boot\0\0"
                               "07070100000002000081A40000000000000000000000016B01685E"
                               "00000016000000000000000000000000000000000000000E00000000"
                               "boot/manifest\0service init srv/init\n\0\0"
                               "07070100000003000041ED0000000000000000000000026B01685E"
                               "00000000000000000000000000000000000000000000000400000000"
                               "srv\0\0\0"
                               "07070100000004000081A40000000000000000000000016B01685E"
                               "0000000D000000000000000000000000000000000000000900000000"
                               "srv/init\0\0hello, bootfs\0\0\0"
                               "07070100000005000081A40000000000000000000000016B01685E"
                               "00000000000000000000000000000000000000000000000600000000"
                               "empty\0"
                               "070701000000000000000000000000000000000000000100000000"
                               "00000000000000000000000000000000000000000000000B00000000"
                               "TRAILER!!!\0\0\0\0";
#define GNU_CPIO_LEN (sizeof(gnu_cpio) - 1) /* 868 */
#define GNU_CPIO_BLOCKS 1024

static void test_gnu_cpio(void **state)
{
    (void)state;
    static uint8_t img[GNU_CPIO_BLOCKS];
    assert_int_equal(GNU_CPIO_LEN, 868);
    memset(img, 0, sizeof(img));
    memcpy(img, gnu_cpio, GNU_CPIO_LEN);
    uint8_t *p = exact(img, sizeof(img));
    struct bootfs fs;
    const void *data;
    size_t size;
    assert_int_equal(bootfs_init(&fs, p, sizeof(img)), OK);
    assert_int_equal(fs.size, GNU_CPIO_LEN);

    assert_int_equal(bootfs_find(&fs, "boot/manifest", &data, &size), OK);
    assert_int_equal(size, 22);
    assert_memory_equal(data, "service init srv/init\n", 22);
    assert_int_equal(bootfs_find(&fs, "srv/init", &data, &size), OK);
    assert_int_equal(size, 13);
    assert_memory_equal(data, "hello, bootfs", 13);
    assert_int_equal(bootfs_find(&fs, "empty", &data, &size), OK);
    assert_int_equal(size, 0);
    const char *dirs[] = {".", "", "boot", "srv", "TRAILER!!!"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
        assert_int_equal(bootfs_find(&fs, dirs[i], &data, &size), ERR_NOT_FOUND);

    static const char *const names[] = {"boot/manifest", "srv/init", "empty"};
    size_t cursor = 0;
    const char *name;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        assert_int_equal(bootfs_iterate(&fs, &cursor, &name, &data, &size), OK);
        assert_string_equal(name, names[i]);
    }
    assert_int_equal(bootfs_iterate(&fs, &cursor, &name, &data, &size), ERR_NOT_FOUND);
    free(p);

    /* Every prefix, with and without the block padding. */
    for (size_t len = 0; len <= sizeof(img); len++)
        assert_int_equal(init_copy(img, len), len < GNU_CPIO_LEN ? ERR_INVALID_ARGS : OK);
}

/* ---- bootfs header ---- */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Header at img[0], archive at img[off]; returns the total length. */
static size_t make_image(uint8_t *img, size_t off, const struct nb *b)
{
    memset(img, 0, off);
    memcpy(img, "MIBOOTFS", 8);
    put32(img + 8, 1);
    put32(img + 12, 64);
    put64(img + 16, off);
    put64(img + 24, b->len);
    put32(img + 32, bootfs_crc32(b->buf, b->len));
    memcpy(img + off, b->buf, b->len);
    return off + b->len;
}

/* bootfs_header_check on an exact-size copy of img[0..avail). */
static int check_copy(const uint8_t *img, size_t avail, size_t *off, size_t *size)
{
    uint8_t *p = exact(img, avail);
    int err = bootfs_header_check(p, avail, off, size);
    free(p);
    return err;
}

static void test_header_good(void **state)
{
    (void)state;
    static struct nb b;
    static uint8_t img[NB_MAX + 256];
    build_files(&b);
    size_t len = make_image(img, 64, &b);
    size_t off = 1, size = 1;
    assert_int_equal(BOOTFS_MAGIC, 0x5346544f4f42494dull);
    assert_int_equal(check_copy(img, len, &off, &size), OK);
    assert_int_equal(off, 64);
    assert_int_equal(size, b.len);
    struct bootfs fs;
    assert_int_equal(bootfs_init(&fs, img + off, size), OK);
    assert_int_equal(bootfs_find(&fs, "boot/manifest", NULL, NULL), OK);

    /* A later, aligned offset and spare bytes after the archive are fine. */
    len = make_image(img, 128, &b);
    assert_int_equal(check_copy(img, len + 100, &off, &size), OK);
    assert_int_equal(off, 128);
}

/* A CRC that counts its calls and returns what the table does, or a
 * wrong value when crc_lie is set. */
static int crc_calls;
static bool crc_lie;

static uint32_t crc_probe(const void *buf, size_t len)
{
    crc_calls++;
    return bootfs_crc32(buf, len) ^ (crc_lie ? 1u : 0u);
}

/* Bit by bit from the polynomial: the reference the table must match. */
static uint32_t crc_bitwise(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

/* bootfs_header_check_crc checks the archive with the function it is
 * given (the kernel passes the CRC32-instruction one), and the table
 * matches the bitwise CRC on random buffers of many lengths. */
static void test_header_crc_fn(void **state)
{
    (void)state;
    static struct nb b;
    static uint8_t img[NB_MAX + 256];
    build_files(&b);
    size_t len = make_image(img, 64, &b);
    size_t off, size;
    crc_calls = 0;
    crc_lie = false;
    assert_int_equal(bootfs_header_check_crc(img, len, &off, &size, crc_probe), OK);
    assert_int_equal(crc_calls, 1);
    crc_lie = true;
    assert_int_equal(bootfs_header_check_crc(img, len, &off, &size, crc_probe), ERR_INVALID_ARGS);
    assert_int_equal(crc_calls, 2);
    assert_int_equal(bootfs_header_check_crc(img, len, &off, &size, NULL), ERR_INVALID_ARGS);

    static uint8_t buf[2048];
    srand(13);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rand();
    for (size_t start = 0; start < 8; start++) {
        for (size_t n = 0; n + start <= sizeof(buf); n += 1 + n / 4)
            assert_int_equal(bootfs_crc32(buf + start, n), crc_bitwise(buf + start, n));
    }
}

static void test_header_bad(void **state)
{
    (void)state;
    static struct nb b;
    static uint8_t img[NB_MAX + 256];
    build_files(&b);
    size_t len = make_image(img, 64, &b);
    size_t off, size;

    /* Every short view: never OK, and no magic means ERR_NOT_FOUND. */
    for (size_t avail = 0; avail < len; avail++) {
        int err = check_copy(img, avail, &off, &size);
        assert_int_equal(err, avail < 8 ? ERR_NOT_FOUND : ERR_INVALID_ARGS);
        assert_int_equal(off, 0);
        assert_int_equal(size, 0);
    }

    img[3] ^= 0x20; /* bad magic */
    assert_int_equal(check_copy(img, len, &off, &size), ERR_NOT_FOUND);
    img[3] ^= 0x20;

    img[64 + 200] ^= 1; /* archive changed: bad crc */
    assert_int_equal(check_copy(img, len, &off, &size), ERR_INVALID_ARGS);
    img[64 + 200] ^= 1;
    img[33] ^= 0x80; /* crc field changed */
    assert_int_equal(check_copy(img, len, &off, &size), ERR_INVALID_ARGS);
    img[33] ^= 0x80;

    put32(img + 8, 2);
    assert_int_equal(check_copy(img, len, &off, &size), ERR_NOT_SUPPORTED);
    put32(img + 8, 1);
    put32(img + 12, 128);
    assert_int_equal(check_copy(img, len, &off, &size), ERR_INVALID_ARGS);
    put32(img + 12, 64);
    for (size_t i = 36; i < 64; i++) {
        img[i] = 1;
        assert_int_equal(check_copy(img, len, &off, &size), ERR_INVALID_ARGS);
        img[i] = 0;
    }

    const uint64_t bad[][2] = {
        {64, (uint64_t)b.len + 1},      /* cpio_size beyond avail */
        {64, UINT64_MAX},               /* huge size */
        {UINT64_MAX - 63, 128},         /* offset + size wraps */
        {UINT64_MAX, 1},                /* huge offset */
        {(uint64_t)len + 4, 0},         /* offset beyond avail */
        {60, (uint64_t)b.len},          /* offset inside the header */
        {0, (uint64_t)b.len},           /* offset 0 */
        {66, (uint64_t)b.len - 4},      /* misaligned */
        {((uint64_t)1 << 63) + 64, 16}, /* wraps a 64-bit add */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        put64(img + 16, bad[i][0]);
        put64(img + 24, bad[i][1]);
        assert_int_equal(check_copy(img, len, &off, &size), ERR_INVALID_ARGS);
    }
    put64(img + 16, 64);
    put64(img + 24, b.len);
    assert_int_equal(check_copy(img, len, &off, &size), OK);
    assert_int_equal(bootfs_header_check(NULL, len, &off, &size), ERR_INVALID_ARGS);
    assert_int_equal(bootfs_header_check(img, len, NULL, &size), ERR_INVALID_ARGS);
}

/* ---- an image built by mkbootfs.py + mkimage.py (arguments) ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long end = ftell(f);
    assert_true(end >= 0);
    rewind(f);
    *len = (size_t)end;
    uint8_t *buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static void test_tool_image(void **state)
{
    (void)state;
    if (g_argc < 2)
        skip();
    size_t len;
    uint8_t *img = slurp(g_argv[1], &len);
    assert_true(len >= 4096 && len % 4096 == 0);
    uint64_t image_size = 0;
    for (int i = 7; i >= 0; i--)
        image_size = image_size << 8 | img[16 + i];
    assert_int_equal(image_size, len);

    /* Find the header as the kernel would: at a 4 KiB boundary. */
    size_t tail = 4096, off = 0, size = 0;
    while (tail < len && bootfs_header_check(img + tail, len - tail, &off, &size) == ERR_NOT_FOUND)
        tail += 4096;
    assert_true(tail < len);
    assert_int_equal(bootfs_header_check(img + tail, len - tail, &off, &size), OK);
    struct bootfs fs;
    assert_int_equal(bootfs_init(&fs, img + tail + off, size), OK);

    for (int i = 2; i < g_argc; i++) {
        char *eq = strchr(g_argv[i], '=');
        assert_non_null(eq);
        *eq = '\0';
        size_t want_len;
        uint8_t *want = slurp(eq + 1, &want_len);
        const void *data;
        size_t got;
        if (bootfs_find(&fs, g_argv[i], &data, &got) != OK)
            fail_msg("%s not in the bootfs", g_argv[i]);
        assert_int_equal(got, want_len);
        assert_memory_equal(data, want, want_len);
        free(want);
        *eq = '=';
    }
    size_t cursor = 0, n = 0;
    while (bootfs_iterate(&fs, &cursor, NULL, NULL, NULL) == OK)
        n++;
    assert_int_equal(n, (size_t)(g_argc - 2));
    free(img);
}

int main(int argc, char **argv)
{
    g_argc = argc;
    g_argv = argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gnu_cpio),   cmocka_unit_test(test_header_good),
        cmocka_unit_test(test_header_bad), cmocka_unit_test(test_header_crc_fn),
        cmocka_unit_test(test_tool_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
