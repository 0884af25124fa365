/*
 * Host unit tests for the boot file system reader (libcap/src/bootfs.c,
 * documented in libcap/include/mica/bootfs.h).
 *
 * Archives are built in memory by a tiny newc writer below, then broken
 * in every way the reader must catch. One archive was written by GNU cpio
 * 2.13 (`cpio -o -H newc --reproducible`) and is kept here as bytes, so
 * the reader is checked against a writer other than our own without
 * needing cpio at run time. Whenever bounds matter the bytes
 * under test are copied into a malloc'd block of exactly their size, so
 * valgrind or ASan flags any read past the end even where the test still
 * passes. With arguments (IMAGE NAME=PATH ...), as bootfs.cmake registers
 * it, the test also reads an image that scripts/tools/mkbootfs.py and
 * mkimage.py built and checks that every NAME holds PATH's contents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mica/bootfs.h>
#include <mica/status.h>
#include <mica/types.h>

#define NB_MAX 16384
#define HDR 110                /* newc header size */
#define FIELD(i) (6 + 8 * (i)) /* offset of header field i */
#define F_MODE 1
#define F_FILESIZE 6
#define F_NAMESIZE 11
#define REG 0100644u
#define DIR 0040755u

static int g_argc;
static char **g_argv;

/* A newc archive under construction. */
struct nb {
    uint8_t buf[NB_MAX];
    size_t len;
    uint32_t ino;
};

static void put_hex(uint8_t *p, uint32_t v)
{
    static const char digits[] = "0123456789ABCDEF";
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)digits[(v >> (28 - 4 * i)) & 15];
}

static void nb_pad(struct nb *b)
{
    while (b->len % 4 != 0)
        b->buf[b->len++] = 0;
}

/* Append one entry; returns the offset of its header. */
static size_t nb_add(struct nb *b, const char *name, uint32_t mode, const void *data, size_t size)
{
    size_t namesize = strlen(name) + 1;
    size_t at = b->len;
    assert_true(at + HDR + namesize + 3 + size + 3 <= NB_MAX);
    memcpy(b->buf + at, "070701", 6);
    uint32_t f[13] = {0}; /* uid, gid, mtime, devices, check: 0 */
    f[0] = ++b->ino;
    f[F_MODE] = mode;
    f[4] = 1; /* nlink */
    f[F_FILESIZE] = (uint32_t)size;
    f[F_NAMESIZE] = (uint32_t)namesize;
    for (int i = 0; i < 13; i++)
        put_hex(b->buf + at + FIELD(i), f[i]);
    b->len += HDR;
    memcpy(b->buf + b->len, name, namesize);
    b->len += namesize;
    nb_pad(b);
    if (size > 0)
        memcpy(b->buf + b->len, data, size);
    b->len += size;
    nb_pad(b);
    return at;
}

static size_t nb_trailer(struct nb *b)
{
    return nb_add(b, "TRAILER!!!", 0, NULL, 0);
}

/* A copy of buf in a block of exactly len bytes (never NULL). */
static uint8_t *exact(const void *buf, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    if (len > 0)
        memcpy(p, buf, len);
    return p;
}

/* bootfs_init on an exact-size copy; returns its result. */
static int init_copy(const void *buf, size_t len)
{
    struct bootfs fs;
    uint8_t *p = exact(buf, len);
    int err = bootfs_init(&fs, p, len);
    free(p);
    return err;
}

/* Files for the round trip: every name length and data length mod 4. */
static const struct {
    const char *name;
    const char *data;
    size_t size;
} files[] = {
    {"a", "", 0},
    {"bb", "1", 1},
    {"ccc", "22", 2},
    {"dddd", "333", 3},
    {"srv/init", "\177ELF\0\0\1", 7},
    {"boot/manifest", "init srv/init\n", 14},
    {"e/f/g", "\0\0\0\0\0", 5},
    {"zero", "", 0},
};

static void build_files(struct nb *b)
{
    memset(b, 0, sizeof(*b));
    for (size_t i = 0; i < ARRAY_SIZE(files); i++)
        nb_add(b, files[i].name, REG, files[i].data, files[i].size);
    nb_trailer(b);
}

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(bootfs_crc32("", 0), 0);
    assert_int_equal(bootfs_crc32("123456789", 9), 0xcbf43926u);
    assert_int_equal(bootfs_crc32("a", 1), 0xe8b7be43u);
    assert_int_equal(bootfs_crc32("The quick brown fox jumps over the lazy dog", 43), 0x414fa339u);
}

static void test_round_trip(void **state)
{
    (void)state;
    static struct nb b;
    build_files(&b);
    uint8_t *p = exact(b.buf, b.len);
    struct bootfs fs;
    assert_int_equal(bootfs_init(&fs, p, b.len), OK);
    assert_int_equal(fs.size, b.len);
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        const void *data = NULL;
        size_t size = 99;
        assert_int_equal(bootfs_find(&fs, files[i].name, &data, &size), OK);
        assert_int_equal(size, files[i].size);
        assert_true((const uint8_t *)data >= p && (const uint8_t *)data + size <= p + b.len);
        assert_int_equal(((const uint8_t *)data - p) % 4, 0);
        assert_memory_equal(data, files[i].data, size);
    }
    free(p);
}

static void test_find_missing(void **state)
{
    (void)state;
    static struct nb b;
    build_files(&b);
    nb_add(&b, "dir", DIR, NULL, 0);
    struct bootfs fs;
    const void *data = NULL;
    size_t size = 0;
    assert_int_equal(bootfs_init(&fs, b.buf, b.len), OK);
    const char *missing[] = {"nope", "",   "d",   "ddd",        "ddddd", "srv",
                             "srv/", "/a", "./a", "TRAILER!!!", "dir",   "A"};
    for (size_t i = 0; i < ARRAY_SIZE(missing); i++)
        assert_int_equal(bootfs_find(&fs, missing[i], &data, &size), ERR_NOT_FOUND);
    assert_int_equal(bootfs_find(&fs, NULL, &data, &size), ERR_INVALID_ARGS);
}

static void test_iterate_all(void **state)
{
    (void)state;
    static struct nb b;
    memset(&b, 0, sizeof(b));
    nb_add(&b, ".", DIR, NULL, 0);
    nb_add(&b, "./srv", DIR, NULL, 0);
    nb_add(&b, "./srv/x", REG, "xyz", 3);
    nb_add(&b, "link", 0120777u, "srv/x", 5);
    nb_add(&b, "y", 0100755u, "", 0);
    nb_add(&b, "./", DIR, NULL, 0);
    nb_trailer(&b);

    struct bootfs fs;
    assert_int_equal(bootfs_init(&fs, b.buf, b.len), OK);
    size_t cursor = 0, size;
    const char *name;
    const void *data;
    assert_int_equal(bootfs_iterate(&fs, &cursor, &name, &data, &size), OK);
    assert_string_equal(name, "srv/x");
    assert_int_equal(size, 3);
    assert_memory_equal(data, "xyz", 3);
    assert_int_equal(bootfs_iterate(&fs, &cursor, &name, &data, &size), OK);
    assert_string_equal(name, "y");
    assert_int_equal(size, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(bootfs_iterate(&fs, &cursor, &name, &data, &size), ERR_NOT_FOUND);

    assert_int_equal(bootfs_find(&fs, "srv/x", &data, &size), OK);
    assert_int_equal(bootfs_find(&fs, "link", &data, &size), ERR_NOT_FOUND);
    assert_int_equal(bootfs_find(&fs, "srv", &data, &size), ERR_NOT_FOUND);

    /* Every file of the round-trip archive, in order. */
    build_files(&b);
    assert_int_equal(bootfs_init(&fs, b.buf, b.len), OK);
    cursor = 0;
    size_t n = 0;
    while (bootfs_iterate(&fs, &cursor, &name, &data, &size) == OK) {
        assert_true(n < ARRAY_SIZE(files));
        assert_string_equal(name, files[n].name);
        assert_int_equal(size, files[n].size);
        n++;
    }
    assert_int_equal(n, ARRAY_SIZE(files));
}

static void test_iterate_bad_cursor(void **state)
{
    (void)state;
    static struct nb b;
    build_files(&b);
    struct bootfs fs;
    assert_int_equal(bootfs_init(&fs, b.buf, b.len), OK);
    size_t cursor = 2;
    assert_int_equal(bootfs_iterate(&fs, &cursor, NULL, NULL, NULL), ERR_INVALID_ARGS);
    cursor = 4; /* aligned, but inside a header */
    assert_int_equal(bootfs_iterate(&fs, &cursor, NULL, NULL, NULL), ERR_INVALID_ARGS);
    /* Past the end is no cursor iterate makes either (it stops at fs.size). */
    cursor = b.len + 4;
    assert_int_equal(bootfs_iterate(&fs, &cursor, NULL, NULL, NULL), ERR_INVALID_ARGS);
    cursor = SIZE_MAX;
    assert_int_equal(bootfs_iterate(&fs, &cursor, NULL, NULL, NULL), ERR_INVALID_ARGS);
    cursor = fs.size;
    assert_int_equal(bootfs_iterate(&fs, &cursor, NULL, NULL, NULL), ERR_NOT_FOUND);
}

static void test_trailer_only_and_trailing_bytes(void **state)
{
    (void)state;
    static struct nb b;
    memset(&b, 0, sizeof(b));
    nb_trailer(&b);
    struct bootfs fs;
    size_t cursor = 0;
    assert_int_equal(bootfs_init(&fs, b.buf, b.len), OK);
    assert_int_equal(bootfs_iterate(&fs, &cursor, NULL, NULL, NULL), ERR_NOT_FOUND);

    /* Bytes after the trailer (block padding) are ignored. */
    build_files(&b);
    size_t len = b.len;
    memset(b.buf + len, 0xa5, 509);
    assert_int_equal(bootfs_init(&fs, b.buf, len + 509), OK);
    assert_int_equal(fs.size, len);
}

static void test_truncated_every_length(void **state)
{
    (void)state;
    static struct nb b;
    build_files(&b);
    for (size_t len = 0; len < b.len; len++)
        assert_int_equal(init_copy(b.buf, len), ERR_INVALID_ARGS);
    assert_int_equal(init_copy(b.buf, b.len), OK);
}

static void test_corrupt_magic(void **state)
{
    (void)state;
    static struct nb b;
    memset(&b, 0, sizeof(b));
    size_t first = nb_add(&b, "a", REG, "x", 1);
    size_t second = nb_add(&b, "b", REG, "yy", 2);
    size_t trailer = nb_trailer(&b);
    size_t at[] = {first, second, trailer};
    for (size_t e = 0; e < ARRAY_SIZE(at); e++) {
        for (size_t i = 0; i < 6; i++) {
            uint8_t saved = b.buf[at[e] + i];
            b.buf[at[e] + i] = '8';
            assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);
            b.buf[at[e] + i] = saved;
        }
    }
    memcpy(b.buf, "070702", 6); /* the crc variant is not accepted either */
    assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);
}

static void test_bad_hex_digit(void **state)
{
    (void)state;
    static struct nb b;
    memset(&b, 0, sizeof(b));
    nb_add(&b, "file", REG, "data", 4);
    size_t at = nb_add(&b, "other", REG, "z", 1);
    nb_trailer(&b);
    const uint8_t bad[] = {'g', 'G', 'x', ' ', '-', '+', '\0', '/', ':', '@', '`', 0xff};
    for (size_t pos = 6; pos < HDR; pos++) {
        for (size_t k = 0; k < ARRAY_SIZE(bad); k++) {
            uint8_t saved = b.buf[at + pos];
            b.buf[at + pos] = bad[k];
            assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);
            b.buf[at + pos] = saved;
        }
    }
    /* Lower-case digits are fine. */
    memcpy(b.buf + at + FIELD(F_MODE), "000081a4", 8);
    assert_int_equal(init_copy(b.buf, b.len), OK);
}

static void test_filesize_beyond_end(void **state)
{
    (void)state;
    static struct nb b;
    memset(&b, 0, sizeof(b));
    size_t at = nb_add(&b, "big", REG, "1234", 4);
    nb_trailer(&b);
    size_t data_off = at + HDR + 4 + 2; /* "big\0" + 2 bytes of padding */
    uint32_t sizes[] = {(uint32_t)(b.len - data_off + 1),
                        (uint32_t)(b.len - data_off),
                        (uint32_t)(b.len - data_off - 1),
                        0x7fffffff,
                        0x80000000,
                        0xffffffff,
                        0xfffffffc};
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        put_hex(b.buf + at + FIELD(F_FILESIZE), sizes[i]);
        assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);
    }

    /* The trailer's own data and padding must fit too. */
    memset(&b, 0, sizeof(b));
    nb_add(&b, "f", REG, "1", 1);
    at = nb_add(&b, "TRAILER!!!", 0, "x", 1);
    struct bootfs fs;
    assert_int_equal(bootfs_init(&fs, b.buf, b.len), OK);
    assert_int_equal(fs.size, b.len);
    for (size_t len = 0; len < b.len; len++)
        assert_int_equal(init_copy(b.buf, len), ERR_INVALID_ARGS);
    put_hex(b.buf + at + FIELD(F_FILESIZE), 0xffffffff);
    assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);
}

static void test_namesize(void **state)
{
    (void)state;
    static struct nb b;
    memset(&b, 0, sizeof(b));
    size_t at = nb_add(&b, "ab", REG, "q", 1);
    nb_trailer(&b);
    uint8_t *name = b.buf + at + HDR;

    put_hex(b.buf + at + FIELD(F_NAMESIZE), 0);
    assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);
    put_hex(b.buf + at + FIELD(F_NAMESIZE), 0xffffffff);
    assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);
    put_hex(b.buf + at + FIELD(F_NAMESIZE), (uint32_t)(b.len - at - HDR + 1));
    assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);

    /* namesize 2: the last name byte is 'b', not the NUL. */
    put_hex(b.buf + at + FIELD(F_NAMESIZE), 2);
    assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);
    /* namesize right, but the NUL overwritten. */
    put_hex(b.buf + at + FIELD(F_NAMESIZE), 3);
    name[2] = 'x';
    assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);
    /* An embedded NUL before the end. */
    name[2] = '\0';
    name[0] = '\0';
    assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);
    name[0] = 'a';
    assert_int_equal(init_copy(b.buf, b.len), OK);

    /* A regular file whose name is empty once "./" is dropped. */
    memset(&b, 0, sizeof(b));
    nb_add(&b, "./", REG, "q", 1);
    nb_trailer(&b);
    assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);
}

static void test_missing_trailer(void **state)
{
    (void)state;
    static struct nb b;
    struct bootfs fs;
    memset(&b, 0, sizeof(b));
    nb_add(&b, "a", REG, "x", 1);
    nb_add(&b, "b", REG, "", 0);
    assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);
    nb_add(&b, "TRAILER!!", REG, "", 0); /* close, but not it */
    assert_int_equal(init_copy(b.buf, b.len), ERR_INVALID_ARGS);

    /* A failed init leaves an empty file system behind. */
    assert_int_equal(bootfs_init(&fs, b.buf, b.len), ERR_INVALID_ARGS);
    assert_int_equal(bootfs_find(&fs, "a", NULL, NULL), ERR_NOT_FOUND);
    assert_int_equal(bootfs_init(&fs, NULL, 100), ERR_INVALID_ARGS);
    assert_int_equal(bootfs_init(NULL, b.buf, b.len), ERR_INVALID_ARGS);
}

/* xorshift64: reproducible noise for the mutation test. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_random_mutations(void **state)
{
    (void)state;
    static struct nb b;
    build_files(&b);
    uint64_t seed = 0x6d696361u;
    for (int round = 0; round < 20000; round++) {
        uint8_t *p = exact(b.buf, b.len);
        int flips = 1 + (int)(rng_next(&seed) % 3);
        for (int i = 0; i < flips; i++) {
            size_t pos = rng_next(&seed) % b.len;
            uint64_t r = rng_next(&seed);
            /* Half the time a hex digit, which survives the digit check. */
            p[pos] = (r & 1) ? (uint8_t) "0123456789abcdefF"[(r >> 1) % 17] : (uint8_t)(r >> 8);
        }
        struct bootfs fs;
        if (bootfs_init(&fs, p, b.len) == OK) {
            size_t cursor = 0, size, n = 0;
            const char *name;
            const void *data;
            while (bootfs_iterate(&fs, &cursor, &name, &data, &size) == OK) {
                assert_true((const uint8_t *)data >= p);
                assert_true(size <= b.len - (size_t)((const uint8_t *)data - p));
                assert_true(strlen(name) > 0);
                assert_int_equal(bootfs_find(&fs, name, NULL, NULL), OK);
                assert_true(++n <= b.len / HDR);
            }
        }
        free(p);
    }
}

static void test_duplicates_first_wins(void **state)
{
    (void)state;
    static struct nb b;
    memset(&b, 0, sizeof(b));
    nb_add(&b, "x", REG, "first", 5);
    nb_add(&b, "./x", REG, "second", 6);
    nb_add(&b, "x", REG, "3", 1);
    nb_add(&b, "d", DIR, NULL, 0);       /* a directory does not shadow ... */
    nb_add(&b, "./d", REG, "file d", 6); /* ... a later file of the same name */
    nb_add(&b, "./e", REG, "file e", 6);
    nb_add(&b, "e", DIR, NULL, 0);
    nb_trailer(&b);
    uint8_t *p = exact(b.buf, b.len);
    struct bootfs fs;
    const void *data;
    size_t size;
    assert_int_equal(bootfs_init(&fs, p, b.len), OK);
    assert_int_equal(bootfs_find(&fs, "x", &data, &size), OK);
    assert_int_equal(size, 5);
    assert_memory_equal(data, "first", 5);
    assert_int_equal(bootfs_find(&fs, "d", &data, &size), OK);
    assert_int_equal(size, 6);
    assert_memory_equal(data, "file d", 6);
    assert_int_equal(bootfs_find(&fs, "e", &data, &size), OK);
    assert_memory_equal(data, "file e", 6);

    /* Iterate still sees every copy, in order, with "./" dropped. */
    static const char *const names[] = {"x", "x", "x", "d", "e"};
    static const size_t sizes[] = {5, 6, 1, 6, 6};
    size_t cursor = 0, n = 0;
    const char *name;
    while (bootfs_iterate(&fs, &cursor, &name, &data, &size) == OK) {
        assert_true(n < ARRAY_SIZE(names));
        assert_string_equal(name, names[n]);
        assert_int_equal(size, sizes[n]);
        n++;
    }
    assert_int_equal(n, ARRAY_SIZE(names));
    assert_int_equal(bootfs_iterate(&fs, &cursor, &name, &data, &size), ERR_NOT_FOUND);
    free(p);
}

/* Ways to break the archive "a"(x) "bb"(yy) TRAILER!!! built below. */
enum {
    BREAK_MAGIC,
    BREAK_HEX,
    BREAK_NAMESIZE_0,
    BREAK_NAME_NUL,
    BREAK_NAME_PAST_END,
    BREAK_NAMESIZE_HUGE,
    BREAK_FILESIZE_PAST_END,
    BREAK_FILESIZE_HUGE,
    BREAK_NO_TRAILER,
    BREAK_COUNT,
};

static void build_broken(struct nb *b, int how)
{
    memset(b, 0, sizeof(*b));
    nb_add(b, "a", REG, "x", 1);
    size_t at = nb_add(b, "bb", REG, "yy", 2);
    size_t trailer = nb_trailer(b);
    uint8_t *h = b->buf + at;
    switch (how) {
    case BREAK_MAGIC: h[5] = '2'; break;
    case BREAK_HEX: h[FIELD(F_MODE) + 3] = 'z'; break;
    case BREAK_NAMESIZE_0: put_hex(h + FIELD(F_NAMESIZE), 0); break;
    case BREAK_NAME_NUL:
        h[HDR + 2] = 'c'; /* "bbc", no NUL within namesize 3 */
        break;
    case BREAK_NAME_PAST_END:
        put_hex(h + FIELD(F_NAMESIZE), (uint32_t)(b->len - at - HDR + 1));
        break;
    case BREAK_NAMESIZE_HUGE: put_hex(h + FIELD(F_NAMESIZE), 0xffffffffu); break;
    case BREAK_FILESIZE_PAST_END: put_hex(h + FIELD(F_FILESIZE), (uint32_t)(b->len - at)); break;
    case BREAK_FILESIZE_HUGE: put_hex(h + FIELD(F_FILESIZE), 0xffffffffu); break;
    case BREAK_NO_TRAILER:
        b->buf[trailer + HDR] = 't'; /* "tRAILER!!!" */
        break;
    }
}

/* A failed bootfs_init empties even a struct bootfs that held a good archive. */
static void test_failed_init_finds_nothing(void **state)
{
    (void)state;
    static struct nb good, bad;
    memset(&good, 0, sizeof(good));
    nb_add(&good, "a", REG, "x", 1);
    nb_trailer(&good);
    for (int how = 0; how < BREAK_COUNT; how++) {
        struct bootfs fs;
        const void *data = NULL;
        size_t size = 0, cursor = 0;
        assert_int_equal(bootfs_init(&fs, good.buf, good.len), OK);
        assert_int_equal(bootfs_find(&fs, "a", &data, &size), OK);

        build_broken(&bad, how);
        uint8_t *p = exact(bad.buf, bad.len);
        if (bootfs_init(&fs, p, bad.len) != ERR_INVALID_ARGS)
            fail_msg("breakage %d not rejected", how);
        assert_int_equal(fs.size, 0);
        assert_int_equal(bootfs_find(&fs, "a", &data, &size), ERR_NOT_FOUND);
        assert_int_equal(bootfs_find(&fs, "bb", &data, &size), ERR_NOT_FOUND);
        assert_int_equal(bootfs_iterate(&fs, &cursor, NULL, NULL, NULL), ERR_NOT_FOUND);
        free(p);
    }
}

/*
 * Prefixes of an archive followed by junk: OK exactly when the prefix
 * holds the whole trailer entry (its padding included), and then the
 * file system ends there whatever follows.
 */
static void test_prefixes_with_trailing_bytes(void **state)
{
    (void)state;
    static struct nb b;
    build_files(&b);
    size_t end = b.len;
    for (size_t i = 0; i < 37; i++)
        b.buf[b.len++] = (uint8_t)(i * 7 + 1);
    memcpy(b.buf + end + 4, "070701", 6); /* looks like the start of another entry */
    for (size_t len = 0; len <= b.len; len++) {
        struct bootfs fs;
        uint8_t *p = exact(b.buf, len);
        int err = bootfs_init(&fs, p, len);
        if (len < end) {
            assert_int_equal(err, ERR_INVALID_ARGS);
        } else {
            assert_int_equal(err, OK);
            assert_int_equal(fs.size, end);
            assert_int_equal(bootfs_find(&fs, "boot/manifest", NULL, NULL), OK);
        }
        free(p);
    }
}

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

/*
 * A cursor bootfs_iterate did not produce is refused even when it points
 * at bytes that parse as an entry: here "real"'s data is itself a newc
 * entry for a file "fake", which must not appear.
 */
static void test_iterate_forged_cursor(void **state)
{
    (void)state;
    static struct nb inner, b;
    memset(&inner, 0, sizeof(inner));
    nb_add(&inner, "fake", REG, "evil", 4);
    memset(&b, 0, sizeof(b));
    nb_add(&b, "real", REG, inner.buf, inner.len);
    nb_trailer(&b);
    struct bootfs fs;
    assert_int_equal(bootfs_init(&fs, b.buf, b.len), OK);
    size_t cursor = HDR + 6; /* "real\0" + 1 byte of padding */
    const char *name = NULL;
    assert_int_equal(bootfs_iterate(&fs, &cursor, &name, NULL, NULL), ERR_INVALID_ARGS);
    assert_null(name);
    cursor = 0; /* the real walk finds only "real" */
    assert_int_equal(bootfs_iterate(&fs, &cursor, &name, NULL, NULL), OK);
    assert_string_equal(name, "real");
    assert_int_equal(bootfs_iterate(&fs, &cursor, &name, NULL, NULL), ERR_NOT_FOUND);
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
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_find_missing),
        cmocka_unit_test(test_iterate_all),
        cmocka_unit_test(test_iterate_bad_cursor),
        cmocka_unit_test(test_trailer_only_and_trailing_bytes),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_corrupt_magic),
        cmocka_unit_test(test_bad_hex_digit),
        cmocka_unit_test(test_filesize_beyond_end),
        cmocka_unit_test(test_namesize),
        cmocka_unit_test(test_missing_trailer),
        cmocka_unit_test(test_random_mutations),
        cmocka_unit_test(test_duplicates_first_wins),
        cmocka_unit_test(test_failed_init_finds_nothing),
        cmocka_unit_test(test_prefixes_with_trailing_bytes),
        cmocka_unit_test(test_gnu_cpio),
        cmocka_unit_test(test_iterate_forged_cursor),
        cmocka_unit_test(test_header_good),
        cmocka_unit_test(test_header_bad),
        cmocka_unit_test(test_tool_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
