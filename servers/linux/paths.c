/*
 * The path and descriptor calls of the Linux personality that do not move
 * data: stat (newfstatat, fstat, statx), getdents64, mkdirat, unlinkat,
 * renameat(2), faccessat, getcwd, chdir, fchdir, umask, dup, dup3, fcntl,
 * ftruncate, readlinkat (no symlinks here) and the console's ioctls. All
 * over the fs server; the fs has no owners, times or permissions, so stat
 * reports root-owned files, 0644 / 0755, time 0.
 */
#include "linux.h"
#include <string.h>

#define AT_FDCWD (-100)
#define AT_REMOVEDIR 0x200
#define AT_EMPTY_PATH 0x1000
#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC 1
#define O_CLOEXEC 02000000
#define O_APPEND 02000
#define O_NONBLOCK 04000
#define TCGETS 0x5401
#define TCSETS 0x5402
#define TCSETSW 0x5403
#define TCSETSF 0x5404
#define TIOCGPGRP 0x540F
#define TIOCSPGRP 0x5410
#define TIOCGWINSZ 0x5413
#define FIONREAD 0x541B
#define S_IFIFO 0010000
#define S_IFCHR 0020000
#define S_IFDIR 0040000
#define S_IFREG 0100000
#define DT_DIR 4
#define DT_REG 8
#define STATX_BASIC_STATS 0x7FF

/* struct stat of arm64 (asm-generic/stat.h), 128 bytes. */
struct lx_stat {
    uint64_t dev, ino;
    uint32_t mode, nlink, uid, gid;
    uint64_t rdev, pad1;
    int64_t size;
    int32_t blksize, pad2;
    int64_t blocks;
    int64_t times[6];
    uint32_t unused[2];
};

/* A small stable number per path, for st_ino. */
static uint64_t inode_of(const char *path)
{
    uint64_t h = 1469598103934665603UL;
    for (; *path; path++)
        h = (h ^ (uint8_t)*path) * 1099511628211UL;
    return h & 0xFFFFFFFFFFFFUL;
}

static void fill_stat(struct lx_stat *st, const char *path, enum fd_kind kind, uint64_t size)
{
    memset(st, 0, sizeof(*st));
    st->dev = 1;
    st->ino = inode_of(path);
    st->nlink = kind == FD_DIR ? 2 : 1;
    st->mode = kind == FD_DIR                                  ? S_IFDIR | 0755
               : kind == FD_FILE                               ? S_IFREG | 0644
               : kind == FD_PIPE_READ || kind == FD_PIPE_WRITE ? S_IFIFO | 0600
                                                               : S_IFCHR | 0620;
    st->rdev = kind == FD_CONSOLE ? (5UL << 8) | 1 : kind == FD_NULL ? (1UL << 8) | 3 : 0;
    st->size = (int64_t)size;
    st->blksize = 4096;
    st->blocks = (int64_t)((size + 511) / 512);
}

/* stat of a path or (AT_EMPTY_PATH / fstat) of a descriptor. */
static int stat_of(struct lproc *p, int dirfd, uintptr_t upath, unsigned flags, struct lx_stat *st)
{
    char path[FS_PATH_MAX + 1] = "";
    if (flags & AT_EMPTY_PATH || !upath) {
        char c = 0;
        if (upath && lx_read(p, upath, &c, 1) != 0)
            return -LX_EFAULT;
        if (!c) {
            struct lfile *f = lx_fd(p, (uint64_t)dirfd);
            struct fs_stat fst = {0};
            if (!f)
                return -LX_EBADF;
            if ((f->kind == FD_FILE || f->kind == FD_DIR) && fs_fstat(f->fs, f->fs_fd, &fst))
                return -LX_EBADF;
            fill_stat(st, f->path, f->kind, fst.size);
            return 0;
        }
    }
    int err = lx_resolve(p, dirfd, upath, path);
    if (err)
        return err;
    if (strcmp(path, "/dev/tty") == 0 || strcmp(path, "/dev/console") == 0 ||
        strcmp(path, "/dev/null") == 0) {
        fill_stat(st, path, strcmp(path, "/dev/null") ? FD_CONSOLE : FD_NULL, 0);
        return 0;
    }
    struct fs_stat fst;
    if ((err = fs_stat(p->fs, path, &fst)) != MICA_OK)
        return err == MICA_ERR_INVALID_ARGS ? -LX_ENOTDIR : lx_errno(err);
    fill_stat(st, path, fst.type == FS_TYPE_DIR ? FD_DIR : FD_FILE, fst.size);
    return 0;
}

static int64_t sys_stat(struct lproc *p, unsigned nr, const uint64_t *a)
{
    struct lx_stat st;
    int err = nr == NR_fstat ? stat_of(p, (int)a[0], 0, AT_EMPTY_PATH, &st)
                             : stat_of(p, (int)a[0], a[1], (unsigned)a[3], &st);
    if (err)
        return err;
    if (nr != NR_statx)
        return lx_write(p, nr == NR_fstat ? a[1] : a[2], &st, sizeof(st));
    /* struct statx: mask, blksize, attributes, nlink, uid, gid, mode, ino,
     * size, blocks, attributes_mask, four timestamps, devices. */
    uint8_t sx[256];
    memset(sx, 0, sizeof(sx));
    uint32_t mask = STATX_BASIC_STATS, blksize = 4096;
    uint16_t mode = (uint16_t)st.mode;
    memcpy(sx + 0, &mask, 4);
    memcpy(sx + 4, &blksize, 4);
    memcpy(sx + 16, &st.nlink, 4);
    memcpy(sx + 28, &mode, 2);
    memcpy(sx + 32, &st.ino, 8);
    memcpy(sx + 40, &st.size, 8);
    memcpy(sx + 48, &st.blocks, 8);
    return lx_write(p, a[4], sx, sizeof(sx));
}

/* The path of dir (which = 0) or of its parent (which = 1), as stat
 * names it, so that st_ino of "." and ".." match. */
static void parent_of(const char *dir, unsigned which, char *out, size_t size)
{
    snprintf(out, size, "%s", dir);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    if (which == 0)
        return;
    char *slash = strrchr(out, '/');
    if (slash == out || !slash)
        strcpy(out, "/");
    else
        *slash = '\0';
}

static int64_t sys_getdents64(struct lproc *p, uint64_t fd, uintptr_t ubuf, size_t len)
{
    struct lfile *f = lx_fd(p, fd);
    uint8_t rec[288];
    size_t done = 0;
    if (!f)
        return -LX_EBADF;
    if (f->kind != FD_DIR)
        return -LX_ENOTDIR;
    for (;;) {
        /* "." and ".." first, as Linux lists them; then the fs's entries. */
        char name[FS_NAME_MAX + 1], full[2 * FS_PATH_MAX];
        uint64_t type = FS_TYPE_DIR;
        int err = MICA_OK;
        if (f->dir_index < 2)
            strcpy(name, f->dir_index ? ".." : ".");
        else
            err = fs_readdir(f->fs, f->fs_fd, f->dir_index - 2, name, &type);
        if (err == MICA_ERR_NOT_FOUND)
            break;
        if (err)
            return done ? (int64_t)done : lx_errno(err);
        size_t nlen = strlen(name), reclen = (19 + nlen + 1 + 7) & ~7UL;
        if (done + reclen > len)
            return done ? (int64_t)done : -LX_EINVAL;
        if (f->dir_index >= 2)
            snprintf(full, sizeof(full), "%s/%s", f->path, name);
        else /* the directory itself, or its parent (the root's is the root) */
            parent_of(f->path, f->dir_index, full, sizeof(full));
        uint64_t ino = inode_of(full), off = f->dir_index + 1;
        uint16_t rl = (uint16_t)reclen;
        memset(rec, 0, reclen);
        memcpy(rec, &ino, 8);
        memcpy(rec + 8, &off, 8);
        memcpy(rec + 16, &rl, 2);
        rec[18] = type == FS_TYPE_DIR ? DT_DIR : DT_REG;
        memcpy(rec + 19, name, nlen + 1);
        if ((err = lx_write(p, ubuf + done, rec, reclen)) != 0)
            return err;
        done += reclen;
        f->dir_index++;
    }
    return (int64_t)done;
}

/* mkdirat, unlinkat, renameat2: one or two paths to the fs server. */
static int64_t sys_names(struct lproc *p, unsigned nr, const uint64_t *a)
{
    char from[FS_PATH_MAX + 1], to[FS_PATH_MAX + 1];
    int err = lx_resolve(p, (int)a[0], a[1], from);
    if (err)
        return err;
    if (nr == NR_mkdirat) {
        err = fs_mkdir(p->fs, from);
        return err == MICA_ERR_INVALID_ARGS ? -LX_ENOTDIR : lx_errno(err) * (err != 0);
    }
    if (nr == NR_unlinkat) {
        struct fs_stat st;
        if ((err = fs_stat(p->fs, from, &st)) != MICA_OK)
            return lx_errno(err);
        bool dir = st.type == FS_TYPE_DIR;
        if (dir != ((a[2] & AT_REMOVEDIR) != 0))
            return dir ? -LX_EISDIR : -LX_ENOTDIR;
        err = fs_unlink(p->fs, from);
        return err == MICA_ERR_BAD_STATE ? -LX_ENOTEMPTY : err ? lx_errno(err) : 0;
    }
    if ((err = lx_resolve(p, (int)a[2], a[3], to)) != 0)
        return err;
    if (nr == NR_renameat2 && a[4] != 0)
        return -LX_EINVAL; /* no RENAME_NOREPLACE / EXCHANGE */
    err = fs_rename(p->fs, from, to);
    if (err == MICA_ERR_BAD_STATE)
        return -LX_ENOTEMPTY; /* over a directory that is not empty */
    if (err == MICA_ERR_INVALID_ARGS) {
        /* Tell Linux's cases apart: a directory over a file, a file over
         * a directory, a file used as a directory, or into itself. */
        struct fs_stat sf, st;
        int ef = fs_stat(p->fs, from, &sf), et = fs_stat(p->fs, to, &st);
        if (ef == MICA_ERR_INVALID_ARGS || et == MICA_ERR_INVALID_ARGS)
            return -LX_ENOTDIR;
        if (ef == MICA_OK && et == MICA_OK && (sf.type == FS_TYPE_DIR) != (st.type == FS_TYPE_DIR))
            return sf.type == FS_TYPE_DIR ? -LX_ENOTDIR : -LX_EISDIR;
        return -LX_EINVAL;
    }
    return err ? lx_errno(err) : 0;
}

static int64_t sys_cwd(struct lproc *p, unsigned nr, const uint64_t *a)
{
    char path[FS_PATH_MAX + 1];
    struct fs_stat st;
    if (nr == NR_getcwd) {
        size_t n = strlen(p->cwd) + 1;
        if (a[1] < n)
            return -LX_ERANGE;
        int err = lx_write(p, a[0], p->cwd, n);
        return err ? err : (int64_t)n;
    }
    if (nr == NR_fchdir) {
        struct lfile *f = lx_fd(p, a[0]);
        if (!f)
            return -LX_EBADF;
        if (f->kind != FD_DIR)
            return -LX_ENOTDIR;
        memcpy(p->cwd, f->path, sizeof(p->cwd));
        return 0;
    }
    int err = lx_resolve(p, AT_FDCWD, a[0], path);
    if (!err && (err = fs_stat(p->fs, path, &st)) != MICA_OK)
        err = lx_errno(err);
    if (!err && st.type != FS_TYPE_DIR)
        err = -LX_ENOTDIR;
    if (!err)
        memcpy(p->cwd, path, sizeof(path));
    return err;
}

static int64_t sys_dup(struct lproc *p, unsigned nr, const uint64_t *a)
{
    struct lfile *f = lx_fd(p, a[0]);
    if (!f)
        return -LX_EBADF;
    if (nr == NR_dup3) {
        uint64_t to = a[1];
        if (to >= p->rlimits[LX_RLIMIT_NOFILE][0])
            return -LX_EBADF;
        if (to == a[0] || (a[2] & ~(uint64_t)O_CLOEXEC))
            return -LX_EINVAL;
        if (!lx_fd_room(p, (unsigned)to))
            return -LX_ENOMEM;
        if (p->fds[to])
            lx_put_file(p, p->fds[to]);
        p->fds[to] = NULL;
        f->refs++;
        return lx_install(p, f, (int)to, a[2] & O_CLOEXEC);
    }
    if (nr == NR_fcntl && a[2] >= p->rlimits[LX_RLIMIT_NOFILE][0])
        return -LX_EINVAL; /* F_DUPFD at or past the limit */
    f->refs++;
    int fd =
        lx_install(p, f, nr == NR_dup ? 0 : (int)a[2], nr == NR_fcntl && a[1] == F_DUPFD_CLOEXEC);
    if (fd < 0)
        f->refs--;
    return fd;
}

static int64_t sys_fcntl(struct lproc *p, const uint64_t *a)
{
    struct lfile *f = lx_fd(p, a[0]);
    if (!f)
        return -LX_EBADF;
    switch (a[1]) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: return sys_dup(p, NR_fcntl, a);
    case F_GETFD: return p->cloexec[a[0]] ? FD_CLOEXEC : 0;
    case F_SETFD: p->cloexec[a[0]] = a[2] & FD_CLOEXEC; return 0;
    case F_GETFL: return f->flags;
    case F_SETFL:
        f->flags = (f->flags & ~(O_APPEND | O_NONBLOCK)) | (a[2] & (O_APPEND | O_NONBLOCK));
        return 0;
    default: return -LX_EINVAL;
    }
}

static int64_t sys_ioctl(struct lproc *p, const uint64_t *a)
{
    struct lfile *f = lx_fd(p, a[0]);
    if (!f)
        return -LX_EBADF;
    if (a[1] == FIONREAD && f->kind == FD_PIPE_READ) {
        int32_t n = (int32_t)lx_pipe_available(f);
        return lx_write(p, a[2], &n, 4);
    }
    if (f->kind != FD_CONSOLE)
        return -LX_ENOTTY;
    switch (a[1]) {
    case TIOCGWINSZ: {
        uint16_t ws[4] = {24, 80, 0, 0};
        return lx_write(p, a[2], ws, sizeof(ws));
    }
    case TCGETS:
        /* The kernel's struct termios (36 bytes): iflag, oflag, cflag,
         * lflag, line, cc[19]; as the program last set it, first the
         * uart driver's cooked discipline (ICRNL, OPOST|ONLCR,
         * ICANON|ECHO|ISIG...). */
        return lx_write(p, a[2], lx_termios, sizeof(lx_termios));
    case TCSETS:
    case TCSETSW:
    case TCSETSF: return lx_console_set_termios(p, a[2]);
    case TIOCGPGRP: {
        int32_t pgrp = lx_tty_pgrp ? lx_tty_pgrp : p->pgid;
        return lx_write(p, a[2], &pgrp, 4);
    }
    case TIOCSPGRP: {
        int32_t pgrp;
        if (lx_read(p, a[2], &pgrp, 4))
            return -LX_EFAULT;
        if (pgrp <= 0)
            return -LX_EINVAL;
        lx_tty_pgrp = pgrp; /* ^C goes to this group now */
        lx_console_take_foreground();
        return 0;
    }
    case FIONREAD: { /* what the reader thread already brought */
        int32_t n = (int32_t)lx_console_available();
        return lx_write(p, a[2], &n, 4);
    }
    default: return -LX_ENOTTY;
    }
}

int64_t lx_sys_paths(struct lproc *p, unsigned nr, const uint64_t *a)
{
    switch (nr) {
    case NR_newfstatat:
    case NR_fstat:
    case NR_statx: return sys_stat(p, nr, a);
    case NR_getdents64: return sys_getdents64(p, a[0], a[1], a[2]);
    case NR_mkdirat:
    case NR_unlinkat:
    case NR_renameat:
    case NR_renameat2: return sys_names(p, nr, a);
    case NR_getcwd:
    case NR_chdir:
    case NR_fchdir: return sys_cwd(p, nr, a);
    case NR_dup:
    case NR_dup3: return sys_dup(p, nr, a);
    case NR_fcntl: return sys_fcntl(p, a);
    case NR_ioctl: return sys_ioctl(p, a);
    case NR_faccessat: {
        struct lx_stat st;
        return stat_of(p, (int)a[0], a[1], 0, &st);
    }
    case NR_umask: {
        unsigned old = p->umask;
        p->umask = a[0] & 0777;
        return old;
    }
    case NR_ftruncate: {
        struct lfile *f = lx_fd(p, a[0]);
        if (!f || f->kind != FD_FILE)
            return f ? -LX_EINVAL : -LX_EBADF;
        int err = fs_truncate(f->fs, f->fs_fd, a[1]);
        return err ? lx_errno(err) : 0;
    }
    case NR_readlinkat: return -LX_EINVAL; /* nothing here is a symlink */
    default: return -LX_ENOSYS;
    }
}
