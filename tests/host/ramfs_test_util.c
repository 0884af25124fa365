/* Helpers shared by the ramfs host tests (see ramfs_test_util.h). */
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

const char hello_src[] = "hello, bootfs world\n";
const char init_src[] = "\x7f"
                        "ELF pretend binary";

struct ramfs *new_fs(uint64_t capacity)
{
    struct ramfs *fs = calloc(1, sizeof(*fs));
    assert_non_null(fs);
    ramfs_init(fs, capacity);
    return fs;
}

void free_fs(struct ramfs *fs)
{
    assert_true(fs->used <= fs->capacity);
    ramfs_destroy(fs);
    free(fs);
}

ramfs_ino lookup_ok(struct ramfs *fs, const char *path)
{
    ramfs_ino ino = 0;
    int err = ramfs_lookup(fs, path, &ino);
    if (err != MICA_OK)
        fail_msg("lookup \"%s\": %d", path, err);
    return ino;
}

int lookup_err(struct ramfs *fs, const char *path)
{
    ramfs_ino ino = 0;
    return ramfs_lookup(fs, path, &ino);
}

ramfs_ino create_ok(struct ramfs *fs, const char *path, enum ramfs_type type)
{
    ramfs_ino ino = 0;
    int err = ramfs_create(fs, path, type, &ino);
    if (err != MICA_OK)
        fail_msg("create \"%s\": %d", path, err);
    assert_int_equal(lookup_ok(fs, path), ino);
    return ino;
}

int create_err(struct ramfs *fs, const char *path, enum ramfs_type type)
{
    ramfs_ino ino = 0;
    return ramfs_create(fs, path, type, &ino);
}

/* The root as a target: it exists (BAD_STATE), but it also has no name
 * of its own (INVALID_ARGS); ramfs.h does not say which check wins. */
void expect_exists_err(int err)
{
    if (err != MICA_ERR_BAD_STATE && err != MICA_ERR_INVALID_ARGS)
        fail_msg("root as a target: %d", err);
}

struct ramfs_stat stat_ok(struct ramfs *fs, ramfs_ino ino)
{
    struct ramfs_stat st;
    memset(&st, 0xa5, sizeof(st));
    assert_int_equal(ramfs_stat(fs, ino, &st), MICA_OK);
    return st;
}

void write_ok(struct ramfs *fs, ramfs_ino ino, uint64_t off, const void *buf, uint64_t len)
{
    int err = ramfs_write(fs, ino, off, buf, len);
    if (err != MICA_OK)
        fail_msg("write %llu bytes at %llu: %d", (unsigned long long)len, (unsigned long long)off,
                 err);
    assert_true(fs->used <= fs->capacity);
}

void write_str(struct ramfs *fs, ramfs_ino ino, uint64_t off, const char *s)
{
    write_ok(fs, ino, off, s, strlen(s));
}

/* The file is exactly `len` bytes equal to `want`: its stat size, one read of
 * everything (with room to spare), byte-by-byte reads, and nothing at the end. */
void expect_contents(struct ramfs *fs, ramfs_ino ino, const void *want, uint64_t len)
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

void expect_text(struct ramfs *fs, ramfs_ino ino, const char *s)
{
    expect_contents(fs, ino, s, strlen(s));
}

/* The children of `dir` are exactly `names` (in any order), each once. */
void expect_children(struct ramfs *fs, ramfs_ino dir, const char *const *names, size_t n)
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
