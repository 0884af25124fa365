/*
 * ramfs: the fs server's file tree, pure logic with no IPC so the host
 * unit tests (tests/host/test_ramfs.c) can drive it directly.
 *
 * The tree starts as the bootfs: ramfs_add_readonly() links each archive
 * file in without copying it. Everything is writable afterwards — the
 * first write or truncate of such a file copies its bytes into memory the
 * ramfs owns (copy on write, at file granularity). Memory the ramfs owns
 * (file contents) is limited to `capacity` bytes so a full fs answers
 * MICA_ERR_NO_MEMORY instead of starving the server. The limit counts
 * allocated bytes: a growing file gets a quarter more than it needs,
 * rounded up to a page (only what is left when space is short; given back
 * on truncating below half), so a nearly full fs can refuse a write that
 * its contents alone would fit. malloc's own rounding is not counted. A
 * file may grow as far as the capacity allows; past what is free it is
 * NO_MEMORY (there is no other limit on a file's size).
 *
 * Nodes live in a table that doubles as it fills, up to RAMFS_MAX_NODES
 * (its memory is the server's, not counted in `capacity`); a node is
 * named by (index, generation) packed
 * into a ramfs_ino, so a node that was unlinked and reused is detected
 * (MICA_ERR_NOT_FOUND) instead of aliased. Paths are absolute or relative
 * to the root, '/' separated; empty components and "." are skipped, ".."
 * is refused (MICA_ERR_INVALID_ARGS), as are components longer than
 * RAMFS_NAME_MAX and paths longer than RAMFS_PATH_MAX.
 *
 * Errors: NOT_FOUND (no such path or stale node), INVALID_ARGS (malformed
 * path, wrong node type for the operation, rename into itself),
 * BAD_STATE (already exists, directory not empty), NO_MEMORY (node table or
 * capacity full), OUT_OF_RANGE (a write whose end would wrap).
 * Single threaded: the fs server calls it from its one serving thread.
 */
#ifndef MICA_RAMFS_H
#define MICA_RAMFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAMFS_NAME_MAX 59               /* bytes in one path component */
#define RAMFS_PATH_MAX 255              /* bytes in a whole path */
#define RAMFS_MAX_NODES 16384           /* files and directories, root included */
#define RAMFS_ROOT ((ramfs_ino)1 << 32) /* the root directory: index 0, generation 1 */

typedef uint64_t ramfs_ino; /* generation << 32 | index */

enum ramfs_type { RAMFS_FILE = 1, RAMFS_DIR = 2 };

struct ramfs_node {
    uint32_t generation; /* bumped each time the slot is freed */
    uint8_t type;        /* 0: free */
    bool owned;          /* data is ramfs memory (else it points into the bootfs) */
    uint32_t parent;     /* index of the parent directory */
    char name[RAMFS_NAME_MAX + 1];
    uint8_t *data;
    uint64_t size;     /* bytes of content */
    uint64_t capacity; /* bytes allocated at data (owned only) */
};

struct ramfs {
    struct ramfs_node *nodes; /* n_nodes slots (malloc'd), grown by doubling */
    uint32_t n_nodes;
    uint64_t capacity; /* limit on owned bytes */
    uint64_t used;     /* owned bytes allocated */
    /* Optional (the fs server's): may `bytes` more be committed now? The
     * server's memory is shared with its payers' other children, so room
     * counted at start may be gone; a buffer is then refused (NO_MEMORY)
     * instead of faulting when its pages are first touched. Each new
     * buffer is touched at once, while that answer still holds. */
    bool (*can_commit)(uint64_t bytes);
};

struct ramfs_stat {
    uint8_t type;
    uint64_t size;
    uint32_t entries; /* directories: number of children */
};

/* An empty tree (just the root) that may own up to `capacity` bytes.
 * NO_MEMORY if the first node table cannot be allocated. */
int ramfs_init(struct ramfs *fs, uint64_t capacity);
/* Frees every owned buffer (the host tests call it; the server never stops). */
void ramfs_destroy(struct ramfs *fs);

/* Link a read-only file at `path` (parents are created as directories,
 * and stay if the file itself then fails), its contents staying at
 * `data`. BAD_STATE if the path exists. */
int ramfs_add_readonly(struct ramfs *fs, const char *path, const void *data, uint64_t size);

int ramfs_lookup(struct ramfs *fs, const char *path, ramfs_ino *out);
/* Create an empty file or directory; its parent must exist and be a
 * directory. BAD_STATE if the path exists (the root included). */
int ramfs_create(struct ramfs *fs, const char *path, enum ramfs_type type, ramfs_ino *out);
/* Remove a file or an empty directory (not the root). */
int ramfs_unlink(struct ramfs *fs, const char *path);
/* Move `from` to `to`, whose parent must be a directory that is not
 * `from` or inside it. An existing `to` is replaced in the same step: a
 * file by a file, an empty directory by a directory; a non-empty
 * directory is BAD_STATE, a file over a directory or a directory over a
 * file INVALID_ARGS. `from` and `to` the same node: nothing happens. */
int ramfs_rename(struct ramfs *fs, const char *from, const char *to);

int ramfs_stat(struct ramfs *fs, ramfs_ino ino, struct ramfs_stat *out);
/* Up to len bytes from offset into buf; *got is 0 at or past the end. */
int ramfs_read(struct ramfs *fs, ramfs_ino ino, uint64_t offset, void *buf, uint64_t len,
               uint64_t *got);
/* Write len bytes at offset, growing the file (a gap reads as zeros). A
 * zero-length write changes nothing. */
int ramfs_write(struct ramfs *fs, ramfs_ino ino, uint64_t offset, const void *buf, uint64_t len);
int ramfs_truncate(struct ramfs *fs, ramfs_ino ino, uint64_t size);
/* The `index`th child of directory `dir` (in table order): its name
 * (NUL terminated) and node. NOT_FOUND past the last. */
int ramfs_readdir(struct ramfs *fs, ramfs_ino dir, uint32_t index, char name[RAMFS_NAME_MAX + 1],
                  ramfs_ino *out);

#endif
