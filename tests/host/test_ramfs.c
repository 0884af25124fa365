/*
 * Host unit tests for the fs server's file tree (servers/fs/ramfs.c; the
 * spec is the comment block in servers/fs/ramfs.h).
 *
 * Every test builds its own tree on the heap (struct ramfs holds the whole
 * node table, too big to want on the stack), drives it only through the
 * public calls and ends with ramfs_destroy, so valgrind or ASan see every
 * owned buffer freed. The node table is public, so a few tests also look
 * at it: a read-only file must point straight at its source (no copy until
 * the first write) and `used` must never exceed `capacity`.
 *
 * Read-only sources are `static const` arrays: they live in .rodata, so an
 * implementation that wrote through to the bootfs bytes would fault rather
 * than pass, and each test also compares them against a private copy.
 *
 * Where ramfs.h leaves an error code open (say, which of two checks comes
 * first), the tests accept either; where it names one, they insist on it.
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

#define INO_INDEX(ino) ((uint32_t)((ino)&0xffffffffu))
#define INO_GENERATION(ino) ((uint32_t)((ino) >> 32))

static struct ramfs *new_fs(uint64_t capacity)
{
    struct ramfs *fs = calloc(1, sizeof(*fs));
    assert_non_null(fs);
    ramfs_init(fs, capacity);
    return fs;
}

static void free_fs(struct ramfs *fs)
{
    assert_true(fs->used <= fs->capacity);
    ramfs_destroy(fs);
    free(fs);
}

static ramfs_ino lookup_ok(struct ramfs *fs, const char *path)
{
    ramfs_ino ino = 0;
    int err = ramfs_lookup(fs, path, &ino);
    if (err != MICA_OK)
        fail_msg("lookup \"%s\": %d", path, err);
    return ino;
}

static int lookup_err(struct ramfs *fs, const char *path)
{
    ramfs_ino ino = 0;
    return ramfs_lookup(fs, path, &ino);
}

static ramfs_ino create_ok(struct ramfs *fs, const char *path, enum ramfs_type type)
{
    ramfs_ino ino = 0;
    int err = ramfs_create(fs, path, type, &ino);
    if (err != MICA_OK)
        fail_msg("create \"%s\": %d", path, err);
    assert_int_equal(lookup_ok(fs, path), ino);
    return ino;
}

static int create_err(struct ramfs *fs, const char *path, enum ramfs_type type)
{
    ramfs_ino ino = 0;
    return ramfs_create(fs, path, type, &ino);
}

/* The root as a target: it exists (BAD_STATE), but it also has no name
 * of its own (INVALID_ARGS); ramfs.h does not say which check wins. */
static void expect_exists_err(int err)
{
    if (err != MICA_ERR_BAD_STATE && err != MICA_ERR_INVALID_ARGS)
        fail_msg("root as a target: %d", err);
}

static struct ramfs_stat stat_ok(struct ramfs *fs, ramfs_ino ino)
{
    struct ramfs_stat st;
    memset(&st, 0xa5, sizeof(st));
    assert_int_equal(ramfs_stat(fs, ino, &st), MICA_OK);
    return st;
}

static void write_ok(struct ramfs *fs, ramfs_ino ino, uint64_t off, const void *buf, uint64_t len)
{
    int err = ramfs_write(fs, ino, off, buf, len);
    if (err != MICA_OK)
        fail_msg("write %llu bytes at %llu: %d", (unsigned long long)len, (unsigned long long)off,
                 err);
    assert_true(fs->used <= fs->capacity);
}

static void write_str(struct ramfs *fs, ramfs_ino ino, uint64_t off, const char *s)
{
    write_ok(fs, ino, off, s, strlen(s));
}

/* The file is exactly `len` bytes equal to `want`: its stat size, one read of
 * everything (with room to spare), byte-by-byte reads, and nothing at the end. */
static void expect_contents(struct ramfs *fs, ramfs_ino ino, const void *want, uint64_t len)
{
    struct ramfs_stat st = stat_ok(fs, ino);
    assert_int_equal(st.type, RAMFS_FILE);
    assert_int_equal(st.size, len);

    uint8_t *buf = malloc(len + 16);
    assert_non_null(buf);
    memset(buf, 0xee, len + 16);
    uint64_t got = 12345;
    assert_int_equal(ramfs_read(fs, ino, 0, buf, len + 16, &got), MICA_OK);
    assert_int_equal(got, len);
    assert_memory_equal(buf, want, len);
    for (size_t i = len; i < len + 16; i++)
        assert_int_equal(buf[i], 0xee); /* nothing written past `got` */
    free(buf);

    got = 12345;
    uint8_t byte;
    assert_int_equal(ramfs_read(fs, ino, len, &byte, 1, &got), MICA_OK);
    assert_int_equal(got, 0);
}

static void expect_text(struct ramfs *fs, ramfs_ino ino, const char *s)
{
    expect_contents(fs, ino, s, strlen(s));
}

/* The children of `dir` are exactly `names` (in any order), each once. */
static void expect_children(struct ramfs *fs, ramfs_ino dir, const char *const *names, size_t n)
{
    assert_int_equal(stat_ok(fs, dir).entries, n);
    unsigned char *seen = calloc(n + 1, 1);
    assert_non_null(seen);
    uint32_t i;
    for (i = 0;; i++) {
        char name[RAMFS_NAME_MAX + 1];
        ramfs_ino child = 0;
        memset(name, 'Z', sizeof(name));
        int err = ramfs_readdir(fs, dir, i, name, &child);
        if (err == MICA_ERR_NOT_FOUND)
            break;
        assert_int_equal(err, MICA_OK);
        assert_non_null(memchr(name, '\0', sizeof(name)));
        size_t j;
        for (j = 0; j < n; j++)
            if (strcmp(name, names[j]) == 0)
                break;
        if (j == n)
            fail_msg("readdir %u: unexpected \"%s\"", i, name);
        if (seen[j]++)
            fail_msg("readdir %u: \"%s\" listed twice", i, name);
        assert_true(stat_ok(fs, child).type != 0);
        assert_true(i <= n);
    }
    assert_int_equal(i, n);
    /* Still the end a little further on. */
    char name[RAMFS_NAME_MAX + 1];
    ramfs_ino child;
    assert_int_equal(ramfs_readdir(fs, dir, i + 1, name, &child), MICA_ERR_NOT_FOUND);
    free(seen);
}

static void test_init(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(4096);
    assert_int_equal(fs->used, 0);
    assert_int_equal(lookup_ok(fs, "/"), RAMFS_ROOT);
    assert_int_equal(lookup_ok(fs, ""), RAMFS_ROOT);
    assert_int_equal(lookup_ok(fs, "."), RAMFS_ROOT);
    assert_int_equal(lookup_ok(fs, "///"), RAMFS_ROOT);
    struct ramfs_stat st = stat_ok(fs, RAMFS_ROOT);
    assert_int_equal(st.type, RAMFS_DIR);
    assert_int_equal(st.entries, 0);
    expect_children(fs, RAMFS_ROOT, NULL, 0);
    assert_int_equal(lookup_err(fs, "/a"), MICA_ERR_NOT_FOUND);
    assert_int_equal(lookup_err(fs, "a/b"), MICA_ERR_NOT_FOUND);
    /* Inos that name nothing: index 0 with the wrong generation, a free
     * slot, an index past the table. */
    struct ramfs_stat dummy;
    assert_int_equal(ramfs_stat(fs, 0, &dummy), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_stat(fs, (ramfs_ino)2 << 32, &dummy), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_stat(fs, 5, &dummy), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_stat(fs, ((ramfs_ino)1 << 32) | 5, &dummy), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_stat(fs, ((ramfs_ino)1 << 32) | RAMFS_MAX_NODES, &dummy),
                     MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_stat(fs, UINT64_MAX, &dummy), MICA_ERR_NOT_FOUND);
    free_fs(fs);
}

static const char hello_src[] = "hello, bootfs world\n";
static const char init_src[] = "\x7f"
                               "ELF pretend binary";

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

static void test_create(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(4096);
    ramfs_ino d = create_ok(fs, "/d", RAMFS_DIR);
    ramfs_ino f = create_ok(fs, "/d/f", RAMFS_FILE);
    ramfs_ino g = create_ok(fs, "d/g", RAMFS_FILE);
    ramfs_ino e = create_ok(fs, "/d/e", RAMFS_DIR);
    assert_true(d != f && f != g && g != e && d != e && d != RAMFS_ROOT);

    struct ramfs_stat st = stat_ok(fs, d);
    assert_int_equal(st.type, RAMFS_DIR);
    assert_int_equal(st.entries, 3);
    st = stat_ok(fs, f);
    assert_int_equal(st.type, RAMFS_FILE);
    assert_int_equal(st.size, 0);
    expect_contents(fs, f, "", 0);
    assert_int_equal(stat_ok(fs, e).entries, 0);
    assert_int_equal(stat_ok(fs, RAMFS_ROOT).entries, 1);

    /* Already exists, whichever type is asked for. */
    assert_int_equal(create_err(fs, "/d", RAMFS_DIR), MICA_ERR_BAD_STATE);
    assert_int_equal(create_err(fs, "/d", RAMFS_FILE), MICA_ERR_BAD_STATE);
    assert_int_equal(create_err(fs, "/d/f", RAMFS_FILE), MICA_ERR_BAD_STATE);
    assert_int_equal(create_err(fs, "//d//f/", RAMFS_DIR), MICA_ERR_BAD_STATE);
    expect_exists_err(create_err(fs, "/", RAMFS_DIR));
    /* A missing parent. */
    assert_int_equal(create_err(fs, "/nope/f", RAMFS_FILE), MICA_ERR_NOT_FOUND);
    assert_int_equal(create_err(fs, "/d/nope/f", RAMFS_DIR), MICA_ERR_NOT_FOUND);
    /* A file as the parent. */
    assert_int_equal(create_err(fs, "/d/f/x", RAMFS_FILE), MICA_ERR_INVALID_ARGS);
    assert_int_equal(create_err(fs, "/d/f/x", RAMFS_DIR), MICA_ERR_INVALID_ARGS);
    /* Nothing above left a trace. */
    static const char *const names[] = {"f", "g", "e"};
    expect_children(fs, d, names, 3);
    assert_int_equal(stat_ok(fs, RAMFS_ROOT).entries, 1);
    assert_int_equal(stat_ok(fs, f).size, 0);
    assert_int_equal(fs->used, 0);
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
static void test_wrong_type(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(4096);
    ramfs_ino d = create_ok(fs, "/d", RAMFS_DIR);
    ramfs_ino f = create_ok(fs, "/d/f", RAMFS_FILE);
    char buf[8];
    uint64_t got;
    assert_int_equal(ramfs_read(fs, d, 0, buf, sizeof(buf), &got), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_read(fs, RAMFS_ROOT, 0, buf, sizeof(buf), &got), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_write(fs, d, 0, "x", 1), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_write(fs, RAMFS_ROOT, 0, "x", 1), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_truncate(fs, d, 10), MICA_ERR_INVALID_ARGS);
    char name[RAMFS_NAME_MAX + 1];
    ramfs_ino child;
    assert_int_equal(ramfs_readdir(fs, f, 0, name, &child), MICA_ERR_INVALID_ARGS);
    assert_int_equal(stat_ok(fs, d).type, RAMFS_DIR);
    assert_int_equal(stat_ok(fs, d).entries, 1);
    assert_int_equal(fs->used, 0);
    free_fs(fs);
}

static void test_stat(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(4096);
    ramfs_ino d = create_ok(fs, "/d", RAMFS_DIR);
    ramfs_ino f = create_ok(fs, "/d/f", RAMFS_FILE);
    create_ok(fs, "/d/sub", RAMFS_DIR);
    assert_int_equal(ramfs_add_readonly(fs, "/d/ro", hello_src, 5), MICA_OK);

    struct ramfs_stat st = stat_ok(fs, d);
    assert_int_equal(st.type, RAMFS_DIR);
    assert_int_equal(st.entries, 3);
    assert_int_equal(stat_ok(fs, RAMFS_ROOT).entries, 1);

    write_str(fs, f, 0, "12345678");
    st = stat_ok(fs, f);
    assert_int_equal(st.type, RAMFS_FILE);
    assert_int_equal(st.size, 8);
    st = stat_ok(fs, lookup_ok(fs, "/d/ro"));
    assert_int_equal(st.type, RAMFS_FILE);
    assert_int_equal(st.size, 5);

    assert_int_equal(ramfs_unlink(fs, "/d/sub"), MICA_OK);
    assert_int_equal(stat_ok(fs, d).entries, 2);
    free_fs(fs);
}

static void test_readdir(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(4096);
    char longname[RAMFS_NAME_MAX + 2];
    memset(longname, 'n', RAMFS_NAME_MAX + 1);
    longname[0] = '/';
    longname[RAMFS_NAME_MAX + 1] = '\0'; /* "/" + RAMFS_NAME_MAX bytes */

    ramfs_ino d = create_ok(fs, "/d", RAMFS_DIR);
    create_ok(fs, "/other", RAMFS_DIR); /* interleave nodes of two directories */
    create_ok(fs, "/d/one", RAMFS_FILE);
    create_ok(fs, "/other/x", RAMFS_FILE);
    create_ok(fs, "/d/two", RAMFS_DIR);
    create_ok(fs, "/d/two/deep", RAMFS_FILE); /* a grandchild is not a child */
    char path[RAMFS_PATH_MAX + 1];
    snprintf(path, sizeof(path), "/d%s", longname);
    create_ok(fs, path, RAMFS_FILE);
    assert_int_equal(ramfs_add_readonly(fs, "/d/three", hello_src, 3), MICA_OK);

    const char *names[] = {"one", "two", longname + 1, "three"};
    expect_children(fs, d, names, 4);

    /* Each child's ino is the one lookup gives. */
    for (uint32_t i = 0;; i++) {
        char name[RAMFS_NAME_MAX + 1];
        ramfs_ino child;
        int err = ramfs_readdir(fs, d, i, name, &child);
        if (err == MICA_ERR_NOT_FOUND)
            break;
        assert_int_equal(err, MICA_OK);
        snprintf(path, sizeof(path), "/d/%s", name);
        assert_int_equal(lookup_ok(fs, path), child);
    }

    /* After an unlink the rest are still each listed once. */
    assert_int_equal(ramfs_unlink(fs, "/d/one"), MICA_OK);
    expect_children(fs, d, names + 1, 3);
    static const char *const root_names[] = {"d", "other"};
    expect_children(fs, RAMFS_ROOT, root_names, 2);
    ramfs_ino empty = create_ok(fs, "/d/empty", RAMFS_DIR);
    expect_children(fs, empty, NULL, 0);

    /* A stale directory. */
    assert_int_equal(ramfs_unlink(fs, "/d/empty"), MICA_OK);
    char name[RAMFS_NAME_MAX + 1];
    ramfs_ino child;
    assert_int_equal(ramfs_readdir(fs, empty, 0, name, &child), MICA_ERR_NOT_FOUND);
    free_fs(fs);
}

static void test_unlink(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(4096);
    ramfs_ino d = create_ok(fs, "/d", RAMFS_DIR);
    ramfs_ino f = create_ok(fs, "/d/f", RAMFS_FILE);
    ramfs_ino e = create_ok(fs, "/d/e", RAMFS_DIR);
    write_str(fs, f, 0, "data");
    assert_true(fs->used >= 4);

    /* A non-empty directory stays. */
    assert_int_equal(ramfs_unlink(fs, "/d"), MICA_ERR_BAD_STATE);
    assert_int_equal(lookup_ok(fs, "/d"), d);
    /* The root is refused, empty or not, under any spelling. */
    int err = ramfs_unlink(fs, "/");
    assert_true(err == MICA_ERR_INVALID_ARGS || err == MICA_ERR_BAD_STATE);
    err = ramfs_unlink(fs, "");
    assert_true(err == MICA_ERR_INVALID_ARGS || err == MICA_ERR_BAD_STATE);
    /* Missing. */
    assert_int_equal(ramfs_unlink(fs, "/d/nope"), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_unlink(fs, "/nope/f"), MICA_ERR_NOT_FOUND);

    /* A file: gone, its ino stale, its memory back. */
    assert_int_equal(ramfs_unlink(fs, "/d/f"), MICA_OK);
    assert_int_equal(lookup_err(fs, "/d/f"), MICA_ERR_NOT_FOUND);
    assert_int_equal(fs->used, 0);
    struct ramfs_stat st;
    char buf[4];
    uint64_t got;
    assert_int_equal(ramfs_stat(fs, f, &st), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_read(fs, f, 0, buf, sizeof(buf), &got), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_write(fs, f, 0, "x", 1), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_truncate(fs, f, 0), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_unlink(fs, "/d/f"), MICA_ERR_NOT_FOUND);
    assert_int_equal(stat_ok(fs, d).entries, 1);

    /* An empty directory, then its (now empty) parent. */
    assert_int_equal(ramfs_unlink(fs, "/d/e/"), MICA_OK);
    assert_int_equal(ramfs_stat(fs, e, &st), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_unlink(fs, "d"), MICA_OK);
    assert_int_equal(ramfs_stat(fs, d, &st), MICA_ERR_NOT_FOUND);
    assert_int_equal(stat_ok(fs, RAMFS_ROOT).entries, 0);
    assert_int_equal(stat_ok(fs, RAMFS_ROOT).type, RAMFS_DIR);

    /* The same path again is a new node: the old ino stays stale. */
    ramfs_ino f2 = create_ok(fs, "/f", RAMFS_FILE);
    ramfs_ino d2 = create_ok(fs, "/d", RAMFS_DIR);
    ramfs_ino f3 = create_ok(fs, "/d/f", RAMFS_FILE);
    assert_true(f2 != f && f3 != f && d2 != d);
    assert_int_equal(ramfs_stat(fs, f, &st), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_stat(fs, d, &st), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_write(fs, f, 0, "x", 1), MICA_ERR_NOT_FOUND);
    expect_contents(fs, f2, "", 0);
    expect_contents(fs, f3, "", 0);
    free_fs(fs);
}

/* A full table forces the next create into the slot just freed: same index,
 * new generation, and the old ino must not reach the new node. Also checks
 * the table holds exactly RAMFS_MAX_NODES nodes, root included. */
static void test_node_table_full(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(4096);
    char path[64];
    create_ok(fs, "/d", RAMFS_DIR);
    ramfs_ino victim = 0;
    for (int i = 0; i < RAMFS_MAX_NODES - 2; i++) {
        snprintf(path, sizeof(path), "/d/f%d", i);
        ramfs_ino ino = create_ok(fs, path, RAMFS_FILE);
        if (i == 77)
            victim = ino;
    }
    assert_int_equal(stat_ok(fs, lookup_ok(fs, "/d")).entries, RAMFS_MAX_NODES - 2);
    assert_int_equal(create_err(fs, "/x", RAMFS_FILE), MICA_ERR_NO_MEMORY);
    assert_int_equal(create_err(fs, "/x", RAMFS_DIR), MICA_ERR_NO_MEMORY);
    assert_int_equal(create_err(fs, "/d/x", RAMFS_FILE), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_add_readonly(fs, "/x", hello_src, 3), MICA_ERR_NO_MEMORY);
    assert_int_equal(ramfs_add_readonly(fs, "/y/z", hello_src, 3), MICA_ERR_NO_MEMORY);
    assert_int_equal(lookup_err(fs, "/x"), MICA_ERR_NOT_FOUND);
    assert_int_equal(lookup_err(fs, "/y"), MICA_ERR_NOT_FOUND);
    assert_int_equal(stat_ok(fs, RAMFS_ROOT).entries, 1);
    /* Full or not, names still resolve and data still writes. */
    ramfs_ino last = lookup_ok(fs, "/d/f253");
    write_str(fs, last, 0, "still works");
    expect_text(fs, last, "still works");

    write_str(fs, victim, 0, "victim");
    assert_int_equal(ramfs_unlink(fs, "/d/f77"), MICA_OK);
    ramfs_ino reborn = create_ok(fs, "/x", RAMFS_FILE);
    assert_int_equal(INO_INDEX(reborn), INO_INDEX(victim));
    assert_true(INO_GENERATION(reborn) != INO_GENERATION(victim));
    assert_true(reborn != victim);

    struct ramfs_stat st;
    char buf[8];
    uint64_t got;
    assert_int_equal(ramfs_stat(fs, victim, &st), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_read(fs, victim, 0, buf, sizeof(buf), &got), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_write(fs, victim, 0, "bad", 3), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_truncate(fs, victim, 100), MICA_ERR_NOT_FOUND);
    char name[RAMFS_NAME_MAX + 1];
    ramfs_ino child;
    assert_int_equal(ramfs_readdir(fs, victim, 0, name, &child), MICA_ERR_NOT_FOUND);
    /* The new node is untouched by the attempts and starts empty. */
    expect_contents(fs, reborn, "", 0);
    assert_int_equal(create_err(fs, "/y", RAMFS_FILE), MICA_ERR_NO_MEMORY);

    /* Freeing a directory of nodes makes room for as many again. */
    for (int i = 0; i < RAMFS_MAX_NODES - 2; i++) {
        snprintf(path, sizeof(path), "/d/f%d", i);
        assert_int_equal(ramfs_unlink(fs, path), i == 77 ? MICA_ERR_NOT_FOUND : MICA_OK);
    }
    assert_int_equal(ramfs_unlink(fs, "/d"), MICA_OK);
    for (int i = 0; i < RAMFS_MAX_NODES - 2; i++) {
        snprintf(path, sizeof(path), "/n%d", i);
        create_ok(fs, path, i % 2 ? RAMFS_DIR : RAMFS_FILE);
    }
    assert_int_equal(create_err(fs, "/z", RAMFS_FILE), MICA_ERR_NO_MEMORY);
    assert_int_equal(stat_ok(fs, RAMFS_ROOT).entries, RAMFS_MAX_NODES - 1);
    free_fs(fs);
}

static void test_rename(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(4096);
    ramfs_ino a = create_ok(fs, "/a", RAMFS_DIR);
    ramfs_ino b = create_ok(fs, "/a/b", RAMFS_DIR);
    ramfs_ino f = create_ok(fs, "/a/b/f", RAMFS_FILE);
    ramfs_ino g = create_ok(fs, "/g", RAMFS_FILE);
    write_str(fs, f, 0, "contents of f");

    /* A file, within a directory and across directories. The node keeps
     * its ino and its contents. */
    assert_int_equal(ramfs_rename(fs, "/a/b/f", "/a/b/f2"), MICA_OK);
    assert_int_equal(lookup_err(fs, "/a/b/f"), MICA_ERR_NOT_FOUND);
    assert_int_equal(lookup_ok(fs, "/a/b/f2"), f);
    assert_int_equal(ramfs_rename(fs, "/a/b/f2", "/top"), MICA_OK);
    assert_int_equal(lookup_ok(fs, "/top"), f);
    expect_text(fs, f, "contents of f");
    assert_int_equal(stat_ok(fs, b).entries, 0);
    assert_int_equal(stat_ok(fs, RAMFS_ROOT).entries, 3);
    static const char *const root_names[] = {"a", "g", "top"};
    expect_children(fs, RAMFS_ROOT, root_names, 3);
    assert_int_equal(ramfs_rename(fs, "top", "/a/b/f"), MICA_OK);

    /* A directory moves with its subtree. */
    assert_int_equal(ramfs_rename(fs, "/a/b", "/b2"), MICA_OK);
    assert_int_equal(lookup_ok(fs, "/b2"), b);
    assert_int_equal(lookup_ok(fs, "/b2/f"), f);
    assert_int_equal(lookup_err(fs, "/a/b"), MICA_ERR_NOT_FOUND);
    assert_int_equal(lookup_err(fs, "/a/b/f"), MICA_ERR_NOT_FOUND);
    assert_int_equal(stat_ok(fs, a).entries, 0);
    assert_int_equal(ramfs_rename(fs, "/a", "/b2/a"), MICA_OK); /* into a sibling */
    assert_int_equal(lookup_ok(fs, "/b2/a"), a);
    expect_text(fs, lookup_ok(fs, "/b2/f"), "contents of f");

    /* Into itself or its own subtree. */
    create_ok(fs, "/b2/a/deep", RAMFS_DIR);
    assert_int_equal(ramfs_rename(fs, "/b2", "/b2/x"), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_rename(fs, "/b2", "/b2/a/x"), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_rename(fs, "/b2", "/b2/a/deep/x"), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_rename(fs, "/b2/a", "/b2/a/deep/x"), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_rename(fs, "/", "/x"), MICA_ERR_INVALID_ARGS);
    assert_int_equal(lookup_ok(fs, "/b2/a"), a);
    assert_int_equal(lookup_ok(fs, "/b2"), b);

    /* Onto something that exists: file or directory, even itself. */
    assert_int_equal(ramfs_rename(fs, "/g", "/b2/f"), MICA_ERR_BAD_STATE);
    assert_int_equal(ramfs_rename(fs, "/g", "/b2"), MICA_ERR_BAD_STATE);
    assert_int_equal(ramfs_rename(fs, "/b2/a", "/b2"), MICA_ERR_BAD_STATE);
    assert_int_equal(ramfs_rename(fs, "/g", "/g"), MICA_ERR_BAD_STATE);
    expect_exists_err(ramfs_rename(fs, "/g", "/"));
    expect_text(fs, lookup_ok(fs, "/b2/f"), "contents of f");
    assert_int_equal(lookup_ok(fs, "/g"), g);

    /* Missing source, missing target parent, a file as the target parent. */
    assert_int_equal(ramfs_rename(fs, "/nope", "/x"), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_rename(fs, "/g", "/nope/x"), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_rename(fs, "/g", "/b2/f/x"), MICA_ERR_INVALID_ARGS);
    /* Malformed target names. */
    assert_int_equal(ramfs_rename(fs, "/g", "/b2/.."), MICA_ERR_INVALID_ARGS);
    assert_int_equal(lookup_ok(fs, "/g"), g);

    /* A read-only file moves without being copied. */
    assert_int_equal(ramfs_add_readonly(fs, "/ro", hello_src, strlen(hello_src)), MICA_OK);
    size_t used = fs->used;
    assert_int_equal(ramfs_rename(fs, "/ro", "/b2/ro"), MICA_OK);
    assert_int_equal(fs->used, used);
    expect_text(fs, lookup_ok(fs, "/b2/ro"), hello_src);

    static const char *const b2_names[] = {"f", "a", "ro"};
    expect_children(fs, b, b2_names, 3);
    static const char *const root_after[] = {"b2", "g"};
    expect_children(fs, RAMFS_ROOT, root_after, 2);
    free_fs(fs);
}

static void test_paths(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(4096);
    ramfs_ino a = create_ok(fs, "/a", RAMFS_DIR);
    ramfs_ino b = create_ok(fs, "/a/b", RAMFS_FILE);

    /* Empty components and "." are skipped. */
    assert_int_equal(lookup_ok(fs, "//a//b/"), b);
    assert_int_equal(lookup_ok(fs, "a/b"), b);
    assert_int_equal(lookup_ok(fs, "./a"), a);
    assert_int_equal(lookup_ok(fs, "/./a/./b/."), b);
    assert_int_equal(lookup_ok(fs, "a/"), a);
    assert_int_equal(lookup_ok(fs, "./"), RAMFS_ROOT);
    ramfs_ino c = create_ok(fs, "//a/./c//", RAMFS_DIR);
    assert_int_equal(lookup_ok(fs, "/a/c"), c);

    /* ".." is refused wherever it appears, and by every call. */
    static const char *const dotdot[] = {"..",   "/..",    "/a/..",     "/a/../a/b",
                                         "../a", "a/b/..", "/a/c/../.."};
    for (size_t i = 0; i < sizeof(dotdot) / sizeof(dotdot[0]); i++) {
        assert_int_equal(lookup_err(fs, dotdot[i]), MICA_ERR_INVALID_ARGS);
        assert_int_equal(create_err(fs, dotdot[i], RAMFS_FILE), MICA_ERR_INVALID_ARGS);
        assert_int_equal(ramfs_unlink(fs, dotdot[i]), MICA_ERR_INVALID_ARGS);
    }
    assert_int_equal(create_err(fs, "/a/../x", RAMFS_FILE), MICA_ERR_INVALID_ARGS);
    assert_int_equal(lookup_err(fs, "/x"), MICA_ERR_NOT_FOUND);
    assert_int_equal(ramfs_rename(fs, "/a/../a/b", "/z"), MICA_ERR_INVALID_ARGS);
    assert_int_equal(lookup_ok(fs, "/a/b"), b);

    /* Names that merely contain dots are ordinary. */
    ramfs_ino d3 = create_ok(fs, "/a/...", RAMFS_FILE);
    ramfs_ino hid = create_ok(fs, "/a/.hidden", RAMFS_FILE);
    ramfs_ino dd = create_ok(fs, "/a/..x", RAMFS_FILE);
    assert_true(d3 != hid && hid != dd && dd != d3);

    /* Component length: RAMFS_NAME_MAX bytes is fine, one more is not. */
    char path[2 * RAMFS_PATH_MAX];
    char name[RAMFS_NAME_MAX + 2];
    memset(name, 'q', RAMFS_NAME_MAX);
    name[RAMFS_NAME_MAX] = '\0';
    snprintf(path, sizeof(path), "/a/%s", name);
    ramfs_ino maxname = create_ok(fs, path, RAMFS_FILE);
    assert_string_equal(fs->nodes[INO_INDEX(maxname)].name, name);
    name[RAMFS_NAME_MAX] = 'q';
    name[RAMFS_NAME_MAX + 1] = '\0';
    snprintf(path, sizeof(path), "/a/%s", name);
    assert_int_equal(create_err(fs, path, RAMFS_FILE), MICA_ERR_INVALID_ARGS);
    assert_int_equal(lookup_err(fs, path), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_add_readonly(fs, path, hello_src, 1), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_rename(fs, "/a/b", path), MICA_ERR_INVALID_ARGS);
    snprintf(path, sizeof(path), "/%s/b", name); /* too long in a parent */
    assert_int_equal(create_err(fs, path, RAMFS_FILE), MICA_ERR_INVALID_ARGS);

    /* Path length: exactly RAMFS_PATH_MAX bytes resolves; one more byte,
     * even a harmless '/', is refused. Four 60-byte "/qqq…" components make
     * 240 bytes, then "/" and 14 bytes make 255. */
    name[RAMFS_NAME_MAX] = '\0';
    path[0] = '\0';
    for (int i = 0; i < 4; i++) {
        strcat(path, "/");
        strcat(path, name);
        create_ok(fs, path, RAMFS_DIR);
    }
    strcat(path, "/ffffffffffffff");
    assert_int_equal(strlen(path), RAMFS_PATH_MAX);
    ramfs_ino deep = create_ok(fs, path, RAMFS_FILE);
    write_str(fs, deep, 0, "deep");
    strcat(path, "/");
    assert_int_equal(lookup_err(fs, path), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_unlink(fs, path), MICA_ERR_INVALID_ARGS);
    path[strlen(path) - 1] = 'g'; /* a new name, 256 bytes long */
    assert_int_equal(create_err(fs, path, RAMFS_FILE), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_add_readonly(fs, path, hello_src, 1), MICA_ERR_INVALID_ARGS);
    /* Slashes alone count too. */
    memset(path, '/', RAMFS_PATH_MAX + 1);
    path[RAMFS_PATH_MAX + 1] = '\0';
    assert_int_equal(lookup_err(fs, path), MICA_ERR_INVALID_ARGS);
    path[RAMFS_PATH_MAX] = '\0';
    assert_int_equal(lookup_ok(fs, path), RAMFS_ROOT);
    /* Much longer, for a parser that copies into a fixed buffer. */
    memset(path, 'x', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    assert_int_equal(lookup_err(fs, path), MICA_ERR_INVALID_ARGS);
    assert_int_equal(create_err(fs, path, RAMFS_FILE), MICA_ERR_INVALID_ARGS);
    free_fs(fs);
}

/* Owned bytes are limited to the capacity; what unlink and shrinking give
 * back can be used again. Sizes are powers of two so an allocator that
 * rounds up to pages or powers of two still fits exactly. */
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

static void test_file_max(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(2ull * RAMFS_FILE_MAX);
    ramfs_ino f = create_ok(fs, "/f", RAMFS_FILE);

    /* Offsets or ends past RAMFS_FILE_MAX, including ones that wrap. */
    assert_int_equal(ramfs_write(fs, f, RAMFS_FILE_MAX, "x", 1), MICA_ERR_OUT_OF_RANGE);
    assert_int_equal(ramfs_write(fs, f, RAMFS_FILE_MAX - 1, "xy", 2), MICA_ERR_OUT_OF_RANGE);
    assert_int_equal(ramfs_write(fs, f, UINT64_MAX, "x", 1), MICA_ERR_OUT_OF_RANGE);
    assert_int_equal(ramfs_write(fs, f, UINT64_MAX - 1, "xyz", 3), MICA_ERR_OUT_OF_RANGE);
    assert_int_equal(ramfs_write(fs, f, 1ull << 32, "x", 1), MICA_ERR_OUT_OF_RANGE);
    assert_int_equal(ramfs_truncate(fs, f, RAMFS_FILE_MAX + 1ull), MICA_ERR_OUT_OF_RANGE);
    assert_int_equal(ramfs_truncate(fs, f, UINT64_MAX), MICA_ERR_OUT_OF_RANGE);
    assert_int_equal(stat_ok(fs, f).size, 0);
    assert_int_equal(fs->used, 0);
    /* Reading far out is just past the end. */
    char buf[4];
    uint64_t got = 99;
    assert_int_equal(ramfs_read(fs, f, 1000, buf, sizeof(buf), &got), MICA_OK);
    assert_int_equal(got, 0);

    /* Exactly RAMFS_FILE_MAX is allowed. */
    write_ok(fs, f, RAMFS_FILE_MAX - 3, "end", 3);
    assert_int_equal(stat_ok(fs, f).size, RAMFS_FILE_MAX);
    got = 0;
    memset(buf, 0x55, sizeof(buf));
    assert_int_equal(ramfs_read(fs, f, RAMFS_FILE_MAX - 4, buf, sizeof(buf), &got), MICA_OK);
    assert_int_equal(got, 4);
    assert_memory_equal(buf, "\0end", 4);
    got = 0;
    assert_int_equal(ramfs_read(fs, f, RAMFS_FILE_MAX / 2, buf, sizeof(buf), &got), MICA_OK);
    assert_int_equal(got, 4);
    assert_memory_equal(buf, "\0\0\0\0", 4);
    assert_int_equal(ramfs_truncate(fs, f, RAMFS_FILE_MAX), MICA_OK);
    assert_int_equal(ramfs_write(fs, f, RAMFS_FILE_MAX, "x", 1), MICA_ERR_OUT_OF_RANGE);
    assert_int_equal(ramfs_truncate(fs, f, RAMFS_FILE_MAX + 1ull), MICA_ERR_OUT_OF_RANGE);
    assert_int_equal(stat_ok(fs, f).size, RAMFS_FILE_MAX);
    assert_int_equal(ramfs_truncate(fs, f, 1), MICA_OK);
    expect_contents(fs, f, "\0", 1);
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
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_add_readonly),
        cmocka_unit_test(test_readonly_copy_on_truncate),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_read_write),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_stat),
        cmocka_unit_test(test_readdir),
        cmocka_unit_test(test_unlink),
        cmocka_unit_test(test_node_table_full),
        cmocka_unit_test(test_rename),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_zero_capacity),
        cmocka_unit_test(test_file_max),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
