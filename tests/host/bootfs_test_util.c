/* Helpers shared by the bootfs host tests (see bootfs_test_util.h). */
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

void put_hex(uint8_t *p, uint32_t v)
{
    static const char digits[] = "0123456789ABCDEF";
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)digits[(v >> (28 - 4 * i)) & 15];
}

void nb_pad(struct nb *b)
{
    while (b->len % 4 != 0)
        b->buf[b->len++] = 0;
}

/* Append one entry; returns the offset of its header. */
size_t nb_add(struct nb *b, const char *name, uint32_t mode, const void *data, size_t size)
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

size_t nb_trailer(struct nb *b)
{
    return nb_add(b, "TRAILER!!!", 0, NULL, 0);
}

/* A copy of buf in a block of exactly len bytes (never NULL). */
uint8_t *exact(const void *buf, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    if (len > 0)
        memcpy(p, buf, len);
    return p;
}

/* bootfs_init on an exact-size copy; returns its result. */
int init_copy(const void *buf, size_t len)
{
    struct bootfs fs;
    uint8_t *p = exact(buf, len);
    int err = bootfs_init(&fs, p, len);
    free(p);
    return err;
}

/* Files for the round trip: every name length and data length mod 4. */
const struct bootfs_test_file bootfs_test_files[] = {

    {"a", "", 0},
    {"bb", "1", 1},
    {"ccc", "22", 2},
    {"dddd", "333", 3},
    {"srv/init", "\177ELF\0\0\1", 7},
    {"boot/manifest", "init srv/init\n", 14},
    {"e/f/g", "\0\0\0\0\0", 5},
    {"zero", "", 0},
};

void build_files(struct nb *b)
{
    memset(b, 0, sizeof(*b));
    for (size_t i = 0; i < BOOTFS_TEST_FILES; i++)
        nb_add(b, bootfs_test_files[i].name, REG, bootfs_test_files[i].data,
               bootfs_test_files[i].size);
    nb_trailer(b);
}
