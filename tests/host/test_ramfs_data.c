/*
 * Host unit tests for the contents of the fs server's files
 * (servers/fs/ramfs.c): read-only sources copied on first write, reads and
 * writes at offsets, truncate, the capacity limit and RAMFS_FILE_MAX, and a
 * seeded random run against shadow buffers. The tree's shape is tested in
 * test_ramfs.c, which also describes the conventions both follow.
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

#include "ramfs.h"
#include "ramfs_test_util.h"

static void test_add_readonly(void **state)
{
    (void)state;
    char hello_copy[sizeof(hello_src)];
    memcpy(hello_copy, hello_src, sizeof(hello_src));
    struct ramfs *fs = new_fs(4096);

    assert_int_equal(ramfs_add_readonly(fs, "/etc/motd", hello_src, strlen(hello_src)), MICA_OK);
    assert_int_equal(ramfs_add_readonly(fs, "bin/init", init_src, sizeof(init_src) - 1), MICA_OK);
    assert_int_equal(ramfs_add_readonly(fs, "/bin/sub/dir/empty", init_src, 0), MICA_OK);
    assert_int_equal(fs->used, 0); /* nothing copied */

    /* Parents were created as directories. */
    ramfs_ino etc = lookup_ok(fs, "/etc");
    ramfs_ino bin = lookup_ok(fs, "/bin");
    assert_int_equal(stat_ok(fs, etc).type, RAMFS_DIR);
    assert_int_equal(stat_ok(fs, bin).type, RAMFS_DIR);
    assert_int_equal(stat_ok(fs, lookup_ok(fs, "/bin/sub")).type, RAMFS_DIR);
    assert_int_equal(stat_ok(fs, lookup_ok(fs, "/bin/sub/dir")).type, RAMFS_DIR);
    static const char *const root_names[] = {"etc", "bin"};
    expect_children(fs, RAMFS_ROOT, root_names, 2);
    static const char *const bin_names[] = {"init", "sub"};
    expect_children(fs, bin, bin_names, 2);

    ramfs_ino motd = lookup_ok(fs, "/etc/motd");
    expect_text(fs, motd, hello_src);
    expect_contents(fs, lookup_ok(fs, "/bin/init"), init_src, sizeof(init_src) - 1);
    expect_contents(fs, lookup_ok(fs, "/bin/sub/dir/empty"), "", 0);

    /* Linked, not copied. */
    const struct ramfs_node *n = &fs->nodes[INO_INDEX(motd)];
    assert_ptr_equal(n->data, hello_src);
    assert_false(n->owned);

    /* Existing paths, files or directories, are refused. */
    assert_int_equal(ramfs_add_readonly(fs, "/etc/motd", init_src, 3), MICA_ERR_BAD_STATE);
    assert_int_equal(ramfs_add_readonly(fs, "/etc", init_src, 3), MICA_ERR_BAD_STATE);
    expect_exists_err(ramfs_add_readonly(fs, "/", init_src, 3));
    expect_text(fs, motd, hello_src);
    /* A file as a parent is the wrong node type. */
    assert_int_equal(ramfs_add_readonly(fs, "/etc/motd/x", init_src, 3), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_add_readonly(fs, "/etc/../x", init_src, 3), MICA_ERR_INVALID_ARGS);

    /* A partial write copies: the new bytes land in the copy only. */
    write_str(fs, motd, 7, "BOOTFS");
    assert_true(n->owned);
    assert_ptr_not_equal(n->data, hello_src);
    assert_true(fs->used >= strlen(hello_src));
    expect_text(fs, motd, "hello, BOOTFS world\n");
    assert_memory_equal(hello_src, hello_copy, sizeof(hello_src));
    /* Other read-only files stay linked. */
    assert_ptr_equal(fs->nodes[INO_INDEX(lookup_ok(fs, "/bin/init"))].data, init_src);

    /* Unlinking the copy gives its memory back. */
    assert_int_equal(ramfs_unlink(fs, "/etc/motd"), MICA_OK);
    assert_int_equal(fs->used, 0);
    assert_memory_equal(hello_src, hello_copy, sizeof(hello_src));
    free_fs(fs);
}

/* A truncate copies too; so does a write past the end. */

static void test_readonly_copy_on_truncate(void **state)
{
    (void)state;
    char hello_copy[sizeof(hello_src)];
    memcpy(hello_copy, hello_src, sizeof(hello_src));
    struct ramfs *fs = new_fs(4096);

    assert_int_equal(ramfs_add_readonly(fs, "/a", hello_src, strlen(hello_src)), MICA_OK);
    assert_int_equal(ramfs_add_readonly(fs, "/b", hello_src, strlen(hello_src)), MICA_OK);
    assert_int_equal(ramfs_add_readonly(fs, "/c", hello_src, strlen(hello_src)), MICA_OK);
    ramfs_ino a = lookup_ok(fs, "/a"), b = lookup_ok(fs, "/b"), c = lookup_ok(fs, "/c");

    assert_int_equal(ramfs_truncate(fs, a, 5), MICA_OK);
    expect_text(fs, a, "hello");
    assert_int_equal(ramfs_truncate(fs, a, 8), MICA_OK);
    expect_contents(fs, a, "hello\0\0\0", 8);

    assert_int_equal(ramfs_truncate(fs, b, 24), MICA_OK);
    expect_contents(fs, b, "hello, bootfs world\n\0\0\0\0", 24);

    write_str(fs, c, strlen(hello_src) + 2, "!");
    expect_contents(fs, c, "hello, bootfs world\n\0\0!", strlen(hello_src) + 3);

    assert_memory_equal(hello_src, hello_copy, sizeof(hello_src));
    free_fs(fs);
}

static void test_read_write(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(1 << 20);
    ramfs_ino f = create_ok(fs, "/f", RAMFS_FILE);

    write_str(fs, f, 0, "abcdef");
    expect_text(fs, f, "abcdef");
    write_str(fs, f, 2, "XY");
    expect_text(fs, f, "abXYef");
    write_str(fs, f, 4, "0123"); /* overlaps the end */
    expect_text(fs, f, "abXY0123");
    write_str(fs, f, 12, "gap"); /* leaves a hole */
    expect_contents(fs, f, "abXY0123\0\0\0\0gap", 15);
    write_ok(fs, f, 3, "", 0);
    expect_contents(fs, f, "abXY0123\0\0\0\0gap", 15);

    /* Reads at offsets, clipped at the end. */
    char buf[32];
    uint64_t got = 999;
    assert_int_equal(ramfs_read(fs, f, 2, buf, 4, &got), MICA_OK);
    assert_int_equal(got, 4);
    assert_memory_equal(buf, "XY01", 4);
    assert_int_equal(ramfs_read(fs, f, 10, buf, sizeof(buf), &got), MICA_OK);
    assert_int_equal(got, 5);
    assert_memory_equal(buf, "\0\0gap", 5);
    assert_int_equal(ramfs_read(fs, f, 14, buf, sizeof(buf), &got), MICA_OK);
    assert_int_equal(got, 1);
    assert_int_equal(buf[0], 'p');
    got = 999;
    assert_int_equal(ramfs_read(fs, f, 0, buf, 0, &got), MICA_OK);
    assert_int_equal(got, 0);
    /* At and past the end: nothing. */
    got = 999;
    assert_int_equal(ramfs_read(fs, f, 15, buf, sizeof(buf), &got), MICA_OK);
    assert_int_equal(got, 0);
    got = 999;
    assert_int_equal(ramfs_read(fs, f, 1000, buf, sizeof(buf), &got), MICA_OK);
    assert_int_equal(got, 0);

    /* A large write far out: the hole between reads as zeros. */
    static uint8_t big[40000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + 1);
    write_ok(fs, f, 100000, big, sizeof(big));
    uint8_t *all = calloc(1, 140000);
    assert_non_null(all);
    memcpy(all, "abXY0123\0\0\0\0gap", 15);
    memcpy(all + 100000, big, sizeof(big));
    expect_contents(fs, f, all, 140000);
    free(all);
    free_fs(fs);
}

static void test_truncate(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(1 << 20);
    ramfs_ino f = create_ok(fs, "/f", RAMFS_FILE);

    write_str(fs, f, 0, "0123456789");
    assert_int_equal(ramfs_truncate(fs, f, 4), MICA_OK);
    expect_text(fs, f, "0123");
    /* Growing again must not resurrect the old bytes. */
    assert_int_equal(ramfs_truncate(fs, f, 10), MICA_OK);
    expect_contents(fs, f, "0123\0\0\0\0\0\0", 10);
    assert_int_equal(ramfs_truncate(fs, f, 10), MICA_OK);
    expect_contents(fs, f, "0123\0\0\0\0\0\0", 10);
    assert_int_equal(ramfs_truncate(fs, f, 0), MICA_OK);
    expect_contents(fs, f, "", 0);
    /* A write after a shrink fills only its own bytes. */
    write_str(fs, f, 0, "abcdefgh");
    assert_int_equal(ramfs_truncate(fs, f, 2), MICA_OK);
    write_str(fs, f, 5, "Z");
    expect_contents(fs, f, "ab\0\0\0Z", 6);
    /* Growing a large way. */
    assert_int_equal(ramfs_truncate(fs, f, 100000), MICA_OK);
    uint8_t *want = calloc(1, 100000);
    assert_non_null(want);
    memcpy(want, "ab\0\0\0Z", 6);
    expect_contents(fs, f, want, 100000);
    free(want);
    assert_int_equal(ramfs_truncate(fs, f, 0), MICA_OK);
    expect_contents(fs, f, "", 0);
    free_fs(fs);
}

/* Reads, writes and truncates name a file; a directory is the wrong type. */

static void test_capacity(void **state)
{
    (void)state;
    enum { CAP = 8192 };
    static uint8_t pattern[CAP];
    for (size_t i = 0; i < CAP; i++)
        pattern[i] = (uint8_t)(i ^ (i >> 8));
    struct ramfs *fs = new_fs(CAP);
    ramfs_ino a = create_ok(fs, "/a", RAMFS_FILE);
    ramfs_ino b = create_ok(fs, "/b", RAMFS_FILE);

    write_ok(fs, a, 0, pattern, CAP);
    assert_int_equal(fs->used, CAP);
    assert_int_equal(ramfs_write(fs, a, CAP, "x", 1), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_write(fs, b, 0, "x", 1), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_truncate(fs, b, 16), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_truncate(fs, a, CAP + 1), MICA_ERR_NO_MEMORY);
    /* The failures changed nothing. */
    expect_contents(fs, a, pattern, CAP);
    expect_contents(fs, b, "", 0);
    assert_int_equal(fs->used, CAP);
    /* Overwriting in place needs no more memory. */
    write_ok(fs, a, 100, "overwrite", 9);
    write_ok(fs, a, 100, pattern + 100, 9);
    /* Nor does shrinking to nothing, or writing nothing. */
    assert_int_equal(ramfs_truncate(fs, b, 0), MICA_OK);
    write_ok(fs, b, 0, "", 0);

    /* Unlink gives everything back. */
    assert_int_equal(ramfs_unlink(fs, "/a"), MICA_OK);
    assert_int_equal(fs->used, 0);
    write_ok(fs, b, 0, pattern, CAP);
    expect_contents(fs, b, pattern, CAP);

    /* A shrink gives back the cut-off part (ramfs.h counts allocated bytes,
     * so a small shrink may keep slack; a cut to a quarter must not). */
    assert_int_equal(ramfs_truncate(fs, b, CAP / 4), MICA_OK);
    assert_true(fs->used <= CAP / 4);
    ramfs_ino c = create_ok(fs, "/c", RAMFS_FILE);
    write_ok(fs, c, 0, pattern, CAP - CAP / 4);
    expect_contents(fs, b, pattern, CAP / 4);
    expect_contents(fs, c, pattern, CAP - CAP / 4);
    assert_int_equal(ramfs_write(fs, c, CAP - CAP / 4, "x", 1), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_truncate(fs, c, CAP), MICA_ERR_NO_MEMORY);
    expect_contents(fs, c, pattern, CAP - CAP / 4);
    assert_int_equal(ramfs_truncate(fs, b, 0), MICA_OK);
    assert_int_equal(ramfs_truncate(fs, c, CAP), MICA_OK); /* grows into b's space */
    uint8_t *want = calloc(1, CAP);
    assert_non_null(want);
    memcpy(want, pattern, CAP - CAP / 4);
    expect_contents(fs, c, want, CAP);
    free(want);
    assert_int_equal(ramfs_unlink(fs, "/c"), MICA_OK);
    assert_int_equal(ramfs_unlink(fs, "/b"), MICA_OK);
    assert_int_equal(fs->used, 0);

    /* Read-only files cost nothing until copied; a copy that does not fit
     * fails and leaves the file linked. */
    static uint8_t ro_src[2 * CAP];
    for (size_t i = 0; i < sizeof(ro_src); i++)
        ro_src[i] = (uint8_t)(i * 13);
    assert_int_equal(ramfs_add_readonly(fs, "/ro", ro_src, sizeof(ro_src)), MICA_OK);
    assert_int_equal(fs->used, 0);
    ramfs_ino ro = lookup_ok(fs, "/ro");
    assert_int_equal(ramfs_write(fs, ro, 0, "x", 1), MICA_ERR_NO_MEMORY);
    assert_ptr_equal(fs->nodes[INO_INDEX(ro)].data, ro_src);
    expect_contents(fs, ro, ro_src, sizeof(ro_src));
    assert_int_equal(fs->used, 0);
    free_fs(fs);
}

/* A zero capacity: directories and read-only files, but no owned bytes. */

static void test_zero_capacity(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(0);
    ramfs_ino f = create_ok(fs, "/f", RAMFS_FILE);
    create_ok(fs, "/d", RAMFS_DIR);
    assert_int_equal(ramfs_add_readonly(fs, "/d/ro", hello_src, 5), MICA_OK);
    assert_int_equal(ramfs_write(fs, f, 0, "x", 1), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_truncate(fs, f, 1), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_truncate(fs, f, 0), MICA_OK);
    expect_contents(fs, f, "", 0);
    expect_text(fs, lookup_ok(fs, "/d/ro"), "hello");
    assert_int_equal(fs->used, 0);
    free_fs(fs);
}

/* A file may grow as far as the capacity: here 32 MiB and a page, past
 * the 16 MiB every file was limited to before. */
#define FILE_MAX ((32ull << 20) + 4096)

static void test_file_max(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(FILE_MAX);
    ramfs_ino f = create_ok(fs, "/f", RAMFS_FILE);

    /* Offsets or ends past the capacity, including ones that wrap. */
    assert_int_equal(ramfs_write(fs, f, FILE_MAX, "x", 1), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_write(fs, f, FILE_MAX - 1, "xy", 2), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_write(fs, f, UINT64_MAX, "x", 1), MICA_ERR_OUT_OF_RANGE);
    assert_int_equal(ramfs_write(fs, f, UINT64_MAX - 1, "xyz", 3), MICA_ERR_OUT_OF_RANGE);
    assert_int_equal(ramfs_write(fs, f, 1ull << 32, "x", 1), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_truncate(fs, f, FILE_MAX + 1ull), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_truncate(fs, f, UINT64_MAX), MICA_ERR_NO_MEMORY);
    assert_int_equal(stat_ok(fs, f).size, 0);
    assert_int_equal(fs->used, 0);
    /* Reading far out is just past the end. */
    char buf[4];
    uint64_t got = 99;
    assert_int_equal(ramfs_read(fs, f, 1000, buf, sizeof(buf), &got), MICA_OK);
    assert_int_equal(got, 0);

    /* Exactly the capacity is allowed: past the old 16 MiB limit. */
    write_ok(fs, f, FILE_MAX - 3, "end", 3);
    assert_int_equal(stat_ok(fs, f).size, FILE_MAX);
    got = 0;
    memset(buf, 0x55, sizeof(buf));
    assert_int_equal(ramfs_read(fs, f, FILE_MAX - 4, buf, sizeof(buf), &got), MICA_OK);
    assert_int_equal(got, 4);
    assert_memory_equal(buf, "\0end", 4);
    got = 0;
    assert_int_equal(ramfs_read(fs, f, FILE_MAX / 2, buf, sizeof(buf), &got), MICA_OK);
    assert_int_equal(got, 4);
    assert_memory_equal(buf, "\0\0\0\0", 4);
    assert_int_equal(ramfs_truncate(fs, f, FILE_MAX), MICA_OK);
    assert_int_equal(ramfs_write(fs, f, FILE_MAX, "x", 1), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_truncate(fs, f, FILE_MAX + 1ull), MICA_ERR_NO_MEMORY);
    assert_int_equal(stat_ok(fs, f).size, FILE_MAX);
    assert_int_equal(ramfs_truncate(fs, f, 1), MICA_OK);
    expect_contents(fs, f, "\0", 1);
    free_fs(fs);
}

/* A file written in small pieces holds at most a quarter more than its
 * size and a page (growth by doubling held up to twice its size). */
static void test_growth_waste(void **state)
{
    (void)state;
    static uint8_t chunk[960];
    memset(chunk, 'g', sizeof(chunk));
    struct ramfs *fs = new_fs(64ull << 20);
    ramfs_ino f = create_ok(fs, "/grow", RAMFS_FILE);
    uint64_t size = 0;
    for (int i = 0; i < 4000; i++) {
        write_ok(fs, f, size, chunk, sizeof(chunk));
        size += sizeof(chunk);
        assert_true(fs->used <= size + size / 4 + 4096);
    }
    assert_int_equal(stat_ok(fs, f).size, size);
    free_fs(fs);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Random writes, truncates and reads on a few files, one of them starting
 * read-only, checked against shadow copies after every step. */

static void test_random(void **state)
{
    (void)state;
    enum { NFILES = 4, SPAN = 6000, STEPS = 4000 };
    static uint8_t ro_src[3000];
    static uint8_t shadow[NFILES][SPAN + 1024];
    static uint8_t buf[SPAN + 1024];
    uint64_t size[NFILES];
    ramfs_ino ino[NFILES];
    char path[32];

    for (size_t i = 0; i < sizeof(ro_src); i++)
        ro_src[i] = (uint8_t)(i * 31 + 5);
    uint8_t ro_copy[sizeof(ro_src)];
    memcpy(ro_copy, ro_src, sizeof(ro_src));

    struct ramfs *fs = new_fs(1 << 20);
    create_ok(fs, "/r", RAMFS_DIR);
    memset(shadow, 0, sizeof(shadow));
    for (int i = 0; i < NFILES; i++) {
        snprintf(path, sizeof(path), "/r/file%d", i);
        if (i == 0) {
            assert_int_equal(ramfs_add_readonly(fs, path, ro_src, sizeof(ro_src)), MICA_OK);
            memcpy(shadow[0], ro_src, sizeof(ro_src));
            size[i] = sizeof(ro_src);
            ino[i] = lookup_ok(fs, path);
        } else {
            ino[i] = create_ok(fs, path, RAMFS_FILE);
            size[i] = 0;
        }
    }

    rng_state = 0x9e3779b97f4a7c15ull;
    for (int step = 0; step < STEPS; step++) {
        int i = rng() % NFILES;
        uint32_t op = rng() % 10;
        if (op < 5) {
            uint64_t off = rng() % SPAN;
            uint64_t len = rng() % 1024;
            for (uint64_t k = 0; k < len; k++)
                buf[k] = (uint8_t)rng();
            write_ok(fs, ino[i], off, buf, len);
            memcpy(shadow[i] + off, buf, len);
            if (len && off + len > size[i])
                size[i] = off + len;
            else if (!len && off > size[i] && stat_ok(fs, ino[i]).size == off)
                size[i] = off; /* ramfs.h leaves a zero-length write past the end open */
        } else if (op < 7) {
            uint64_t to = rng() % (SPAN + 1);
            assert_int_equal(ramfs_truncate(fs, ino[i], to), MICA_OK);
            if (to < size[i])
                memset(shadow[i] + to, 0, size[i] - to);
            size[i] = to;
        } else {
            uint64_t off = rng() % (SPAN + 200);
            uint64_t len = rng() % 1500;
            uint64_t got = 12345;
            assert_int_equal(ramfs_read(fs, ino[i], off, buf, len, &got), MICA_OK);
            uint64_t want = off >= size[i] ? 0 : size[i] - off < len ? size[i] - off : len;
            assert_int_equal(got, want);
            if (want)
                assert_memory_equal(buf, shadow[i] + off, want);
        }
        assert_int_equal(stat_ok(fs, ino[i]).size, size[i]);
        assert_true(fs->used <= fs->capacity);
        assert_memory_equal(ro_src, ro_copy, sizeof(ro_src));
    }
    for (int i = 0; i < NFILES; i++)
        expect_contents(fs, ino[i], shadow[i], size[i]);
    free_fs(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_readonly), cmocka_unit_test(test_readonly_copy_on_truncate),
        cmocka_unit_test(test_read_write),   cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_capacity),     cmocka_unit_test(test_zero_capacity),
        cmocka_unit_test(test_file_max),     cmocka_unit_test(test_random),
        cmocka_unit_test(test_growth_waste),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
