/*
 * Shared by the bootfs host tests (test_bootfs.c: the archive reader;
 * test_bootfs_image.c: other writers' archives and the image header): a
 * tiny newc archive writer and exact-size copies, so valgrind or ASan
 * flags any read past the end of the bytes under test.
 */
#ifndef BOOTFS_TEST_UTIL_H
#define BOOTFS_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define NB_MAX 16384
#define HDR 110                /* newc header size */
#define FIELD(i) (6 + 8 * (i)) /* offset of header field i */
#define F_MODE 1
#define F_FILESIZE 6
#define F_NAMESIZE 11
#define REG 0100644u
#define DIR 0040755u

/* A newc archive under construction. */
struct nb {
    uint8_t buf[NB_MAX];
    size_t len;
    uint32_t ino;
};

void put_hex(uint8_t *p, uint32_t v);
void nb_pad(struct nb *b);
/* Append one entry; returns the offset of its header. */
size_t nb_add(struct nb *b, const char *name, uint32_t mode, const void *data, size_t size);
size_t nb_trailer(struct nb *b);
/* A copy of buf in a block of exactly len bytes (never NULL). */
uint8_t *exact(const void *buf, size_t len);
/* bootfs_init on an exact-size copy; returns its result. */
int init_copy(const void *buf, size_t len);

/* Files for the round trip: every name length and data length mod 4. */
struct bootfs_test_file {
    const char *name;
    const char *data;
    size_t size;
};
#define BOOTFS_TEST_FILES 8
extern const struct bootfs_test_file bootfs_test_files[BOOTFS_TEST_FILES];
/* An archive of bootfs_test_files, then the trailer. */
void build_files(struct nb *b);

#endif
