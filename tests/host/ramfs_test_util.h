/* Helpers shared by the ramfs host tests (test_ramfs.c, test_ramfs_data.c):
 * checked wrappers around the ramfs calls and read-only sources. */
#ifndef RAMFS_TEST_UTIL_H
#define RAMFS_TEST_UTIL_H

#include "ramfs.h"

#define INO_INDEX(ino) ((uint32_t)((ino)&0xffffffffu))
#define INO_GENERATION(ino) ((uint32_t)((ino) >> 32))

/* Read-only sources for ramfs_add_readonly (sizes include the NUL). */
extern const char hello_src[sizeof("hello, bootfs world\n")];
extern const char init_src[sizeof("\x7f"
                                  "ELF pretend binary")];

struct ramfs *new_fs(uint64_t capacity);
void free_fs(struct ramfs *fs);
ramfs_ino lookup_ok(struct ramfs *fs, const char *path);
int lookup_err(struct ramfs *fs, const char *path);
ramfs_ino create_ok(struct ramfs *fs, const char *path, enum ramfs_type type);
int create_err(struct ramfs *fs, const char *path, enum ramfs_type type);
void expect_exists_err(int err);
struct ramfs_stat stat_ok(struct ramfs *fs, ramfs_ino ino);
void write_ok(struct ramfs *fs, ramfs_ino ino, uint64_t off, const void *buf, uint64_t len);
void write_str(struct ramfs *fs, ramfs_ino ino, uint64_t off, const char *s);
void expect_contents(struct ramfs *fs, ramfs_ino ino, const void *want, uint64_t len);
void expect_text(struct ramfs *fs, ramfs_ino ino, const char *s);
void expect_children(struct ramfs *fs, ramfs_ino dir, const char *const *names, size_t n);

#endif
