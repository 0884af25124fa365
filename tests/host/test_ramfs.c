/*
 * Host unit tests for the fs server's file tree (servers/fs/ramfs.c; the
 * spec is the comment block in servers/fs/ramfs.h): its shape — create,
 * readdir, unlink, rename, paths, the node table. File contents and the
 * capacity limit are in test_ramfs_data.c; shared helpers in
 * ramfs_test_util.c.
 *
 * Every test builds its own tree on the heap (struct ramfs holds the whole
 * node table, too big to want on the stack), drives it only through the
 * public calls and ends with ramfs_destroy, so valgrind or ASan see every
 * owned buffer freed. The node table is public, so a few tests also look
 * at it: a read-only file must point straight at its source (no copy until
 * the first write) and `used` must never exceed `capacity`.
 *
 * Read-only sources are `const` arrays: they live in .rodata, so an
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
#include "ramfs_test_util.h"

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
    /* The root exists too (mkdir -p / works on it): not ENOTDIR. */
    assert_int_equal(create_err(fs, "/", RAMFS_DIR), MICA_ERR_BAD_STATE);
    assert_int_equal(create_err(fs, "", RAMFS_DIR), MICA_ERR_BAD_STATE);
    assert_int_equal(create_err(fs, "//.", RAMFS_DIR), MICA_ERR_BAD_STATE);
    assert_int_equal(create_err(fs, "/", RAMFS_FILE), MICA_ERR_BAD_STATE);
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
    snprintf(path, sizeof(path), "/d/f%d", RAMFS_MAX_NODES - 3);
    ramfs_ino last = lookup_ok(fs, path);
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

/* rename onto an existing name replaces it in one step, as POSIX asks: a
 * file over a file, a directory over an empty directory. The replaced
 * node is gone (its ino stale, its memory given back). Before, both were
 * refused with BAD_STATE. */
static void test_rename_replace(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(1 << 20);
    ramfs_ino old = create_ok(fs, "/old", RAMFS_FILE);
    ramfs_ino neu = create_ok(fs, "/new", RAMFS_FILE);
    write_str(fs, old, 0, "old contents, longer than the new ones");
    write_str(fs, neu, 0, "new");
    uint64_t used = fs->used;
    assert_int_equal(ramfs_rename(fs, "/new", "/old"), MICA_OK);
    assert_int_equal(lookup_ok(fs, "/old"), neu);
    assert_int_equal(lookup_err(fs, "/new"), MICA_ERR_NOT_FOUND);
    expect_text(fs, neu, "new");
    struct ramfs_stat st;
    assert_int_equal(ramfs_stat(fs, old, &st), MICA_ERR_NOT_FOUND);
    assert_true(fs->used < used);
    assert_int_equal(stat_ok(fs, RAMFS_ROOT).entries, 1);

    /* A directory with its subtree over an empty directory elsewhere. */
    ramfs_ino d = create_ok(fs, "/d", RAMFS_DIR);
    create_ok(fs, "/d/inner", RAMFS_FILE);
    ramfs_ino empty = create_ok(fs, "/e", RAMFS_DIR);
    ramfs_ino sub = create_ok(fs, "/e/sub", RAMFS_DIR);
    assert_int_equal(ramfs_rename(fs, "/d", "/e/sub"), MICA_OK);
    assert_int_equal(lookup_ok(fs, "/e/sub"), d);
    lookup_ok(fs, "/e/sub/inner");
    assert_int_equal(ramfs_stat(fs, sub, &st), MICA_ERR_NOT_FOUND);
    assert_int_equal(stat_ok(fs, empty).entries, 1);
    /* A read-only (bootfs) file replaced and replacing. */
    assert_int_equal(ramfs_add_readonly(fs, "/ro", hello_src, strlen(hello_src)), MICA_OK);
    assert_int_equal(ramfs_rename(fs, "/ro", "/old"), MICA_OK);
    expect_text(fs, lookup_ok(fs, "/old"), hello_src);
    free_fs(fs);
}

/* Thousands of nodes (the table grows; it held 256 before). */
static void test_many_nodes(void **state)
{
    (void)state;
    struct ramfs *fs = new_fs(1 << 20);
    char path[64];
    create_ok(fs, "/many", RAMFS_DIR);
    for (int i = 0; i < 5000; i++) {
        snprintf(path, sizeof(path), "/many/%d", i);
        create_ok(fs, path, i % 3 ? RAMFS_FILE : RAMFS_DIR);
    }
    assert_int_equal(stat_ok(fs, lookup_ok(fs, "/many")).entries, 5000);
    snprintf(path, sizeof(path), "/many/%d", 4999);
    lookup_ok(fs, path);
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

    /* Onto something that exists (replacing is test_rename_replace's): a
     * file over a directory or the reverse, a directory over one that is
     * not empty; a name onto itself changes nothing. */
    assert_int_equal(ramfs_rename(fs, "/g", "/b2"), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_rename(fs, "/b2/a", "/g"), MICA_ERR_INVALID_ARGS);
    assert_int_equal(ramfs_rename(fs, "/b2/a", "/b2"), MICA_ERR_BAD_STATE); /* its parent */
    create_ok(fs, "/full", RAMFS_DIR);
    create_ok(fs, "/full/x", RAMFS_FILE);
    assert_int_equal(ramfs_rename(fs, "/b2/a", "/full"), MICA_ERR_BAD_STATE);
    assert_int_equal(ramfs_unlink(fs, "/full/x"), MICA_OK);
    assert_int_equal(ramfs_unlink(fs, "/full"), MICA_OK);
    assert_int_equal(ramfs_rename(fs, "/g", "/g"), MICA_OK);
    assert_int_equal(ramfs_rename(fs, "/b2/f", "//b2/./f"), MICA_OK);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_stat),
        cmocka_unit_test(test_readdir),
        cmocka_unit_test(test_unlink),
        cmocka_unit_test(test_node_table_full),
        cmocka_unit_test(test_rename),
        cmocka_unit_test(test_rename_replace),
        cmocka_unit_test(test_many_nodes),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
