/*
 * Host unit tests for the boot file system reader (libcap/src/bootfs.c,
 * documented in libcap/include/mica/bootfs.h).
 *
 * Archives are built in memory by a tiny newc writer (bootfs_test_util.c),
 * then broken in every way the reader must catch; archives from other
 * writers (GNU cpio, our tools) are checked in test_bootfs_image.c.
 * Whenever bounds matter the bytes under test are copied into a malloc'd
 * block of exactly their size.
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

#include "bootfs_test_util.h"

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
    for (size_t i = 0; i < BOOTFS_TEST_FILES; i++) {
        const void *data = NULL;
        size_t size = 99;
        assert_int_equal(bootfs_find(&fs, bootfs_test_files[i].name, &data, &size), OK);
        assert_int_equal(size, bootfs_test_files[i].size);
        assert_true((const uint8_t *)data >= p && (const uint8_t *)data + size <= p + b.len);
        assert_int_equal(((const uint8_t *)data - p) % 4, 0);
        assert_memory_equal(data, bootfs_test_files[i].data, size);
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
        assert_true(n < BOOTFS_TEST_FILES);
        assert_string_equal(name, bootfs_test_files[n].name);
        assert_int_equal(size, bootfs_test_files[n].size);
        n++;
    }
    assert_int_equal(n, BOOTFS_TEST_FILES);
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

int main(void)
{
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
        cmocka_unit_test(test_iterate_forged_cursor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
