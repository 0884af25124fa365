/*
 * Protocol of the fs server (servers/fs): the bootfs, read-only at boot,
 * with a writable in-memory tree over it (servers/fs/ramfs.h). One table
 * defines every operation; the client stubs (libcap/src/fs_client.c) and
 * the server's dispatch table are both built from it.
 *
 * Paths and data travel in the IPC buffer: the request's message words
 * 6.. are the bytes, packed little-endian, and a length word says how many
 * are meant. Open files are per client (told apart by the badge of the
 * endpoint handle procmgr minted for them): another client's file number
 * is MICA_ERR_BAD_HANDLE. Status codes are the kernel's MICA_ERR_*:
 * NOT_FOUND (no such path), BAD_STATE (exists / not empty), INVALID_ARGS
 * (bad path, name too long, wrong node type), NO_MEMORY (the fs is full),
 * LIMIT (too many open files), OUT_OF_RANGE (offset too large).
 */
#ifndef MICA_PROTO_FS_H
#define MICA_PROTO_FS_H

#include <mica/server.h>

/*     name          label  request words    reply words */
#define FS_OPS(X)                                                                                  \
    X(FS_OPEN, 1, 2, 1)      /* (flags, path length; path) -> fd */                                \
    X(FS_CLOSE, 2, 1, 0)     /* (fd) */                                                            \
    X(FS_READ, 3, 2, 125)    /* (fd, length) -> count; bytes in words 6.. */                       \
    X(FS_WRITE, 4, 2, 1)     /* (fd, length; bytes in words 6..) -> count */                       \
    X(FS_SEEK, 5, 3, 1)      /* (fd, offset, whence) -> new position */                            \
    X(FS_STAT, 6, 1, 3)      /* (path length; path) -> type, size, entries */                      \
    X(FS_FSTAT, 7, 1, 3)     /* (fd) -> type, size, entries */                                     \
    X(FS_READDIR, 8, 2, 125) /* (directory fd, index) -> type, name length; name in words 6.. */   \
    X(FS_MKDIR, 9, 1, 0)     /* (path length; path) */                                             \
    X(FS_UNLINK, 10, 1, 0)   /* (path length; path): a file or an empty directory */               \
    X(FS_RENAME, 11, 2, 0)   /* (from length, to length; from, then to at the next word) */        \
    X(FS_TRUNCATE, 12, 2, 0) /* (fd, size) */

enum {
#define FS_LABEL(name, label, req, rep) name = label,
    FS_OPS(FS_LABEL)
#undef FS_LABEL
};

/* FS_OPEN flags */
#define FS_O_CREATE 1u /* create the file if it is missing */
#define FS_O_TRUNC 2u  /* empty it */
#define FS_O_EXCL 4u   /* with CREATE: BAD_STATE if it exists */
#define FS_O_APPEND 8u /* every write goes to the end */

/* FS_SEEK whence */
#define FS_SEEK_SET 0
#define FS_SEEK_CUR 1
#define FS_SEEK_END 2

/* Node types (FS_STAT, FS_READDIR) */
#define FS_TYPE_FILE 1
#define FS_TYPE_DIR 2

#define FS_PATH_MAX 255 /* bytes */
#define FS_NAME_MAX 59  /* bytes in one path component */
/* Largest read or write per request: the IPC buffer's words. */
#define FS_IO_MAX (MICA_MSG_BUF_WORDS * 8)
#define FS_OPEN_MAX 1024 /* open files per client */

struct fs_stat {
    uint64_t type, size, entries;
};

int fs_open(mica_handle_t fs, const char *path, unsigned flags, uint64_t *fd);
int fs_close(mica_handle_t fs, uint64_t fd);
/* Up to len (<= FS_IO_MAX) bytes; *got is 0 at the end of the file. */
int fs_read(mica_handle_t fs, uint64_t fd, void *buf, size_t len, size_t *got);
int fs_write(mica_handle_t fs, uint64_t fd, const void *buf, size_t len, size_t *written);
int fs_seek(mica_handle_t fs, uint64_t fd, int64_t offset, unsigned whence, uint64_t *pos);
int fs_stat(mica_handle_t fs, const char *path, struct fs_stat *st);
int fs_fstat(mica_handle_t fs, uint64_t fd, struct fs_stat *st);
/* Entry `index` of an open directory: NOT_FOUND past the last. */
int fs_readdir(mica_handle_t fs, uint64_t fd, unsigned index, char name[FS_NAME_MAX + 1],
               uint64_t *type);
int fs_mkdir(mica_handle_t fs, const char *path);
int fs_unlink(mica_handle_t fs, const char *path);
int fs_rename(mica_handle_t fs, const char *from, const char *to);
int fs_truncate(mica_handle_t fs, uint64_t fd, uint64_t size);

#endif
