/*
 * File descriptors of Linux programs. A descriptor points to an open file
 * description (struct lfile, shared by dup): the console (the uart
 * driver's "console" service: fds 0, 1, 2 at start, /dev/tty), /dev/null,
 * or a file or directory of the fs server, opened with the program's own
 * fs handle. Paths are made absolute and normalised here ("." and ".."
 * resolved) before the fs server sees them. Console reads wait for a line
 * (console.c); everything else answers at once.
 */
#include "linux.h"
#include <mica/malloc.h>
#include <mica/proto/uart.h>
#include <string.h>

#define AT_FDCWD (-100)
#define O_ACCMODE 3
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_DIRECTORY 040000
#define O_CLOEXEC 02000000
#define IO_CHUNK 960

int lx_errno(int status)
{
    switch (status) {
    case MICA_ERR_NOT_FOUND: return -LX_ENOENT;
    case MICA_ERR_BAD_STATE: return -LX_EEXIST;
    case MICA_ERR_NO_MEMORY: return -LX_ENOSPC;
    case MICA_ERR_LIMIT: return -LX_EMFILE;
    case MICA_ERR_ACCESS_DENIED: return -LX_EACCES;
    case MICA_ERR_BAD_HANDLE: return -LX_EBADF;
    case MICA_ERR_OUT_OF_RANGE: return -LX_EINVAL;
    case MICA_ERR_PEER_CLOSED: return -LX_EIO;
    default: return -LX_EINVAL;
    }
}

struct lfile *lx_new_file(enum fd_kind kind)
{
    struct lfile *f = malloc(sizeof(*f));
    if (f)
        *f = (struct lfile){.refs = 1, .kind = kind, .flags = O_RDWR};
    return f;
}

void lx_put_file(struct lproc *p, struct lfile *f)
{
    (void)p; /* the description carries its own fs handle */
    if (--f->refs)
        return;
    if (f->kind == FD_FILE || f->kind == FD_DIR) {
        fs_close(f->fs, f->fs_fd);
        mica_handle_close(f->fs);
    }
    if (f->kind == FD_PIPE_READ || f->kind == FD_PIPE_WRITE)
        lx_pipe_close(f);
    free(f);
}

bool lx_fd_room(struct lproc *p, unsigned fd)
{
    if (fd >= p->rlimits[LX_RLIMIT_NOFILE][0] && fd >= 3)
        return false;
    return lx_fd_table(p, fd + 1);
}

bool lx_fd_table(struct lproc *p, unsigned n)
{
    unsigned cap = p->fd_cap; /* both tables grow alike: fd_cap counts for both */
    return lx_grow((void **)&p->fds, &cap, n, sizeof(*p->fds)) &&
           lx_grow((void **)&p->cloexec, &p->fd_cap, n, sizeof(*p->cloexec));
}

/* The lowest free descriptor from `from` under RLIMIT_NOFILE: EMFILE. */
int lx_install(struct lproc *p, struct lfile *f, int from, bool cloexec)
{
    for (unsigned fd = (unsigned)from; fd < p->rlimits[LX_RLIMIT_NOFILE][0]; fd++) {
        if (fd >= p->fd_cap && !lx_fd_room(p, fd))
            return fd < p->rlimits[LX_RLIMIT_NOFILE][0] ? -LX_ENOMEM : -LX_EMFILE;
        if (!p->fds[fd]) {
            p->fds[fd] = f;
            p->cloexec[fd] = cloexec;
            return (int)fd;
        }
    }
    return -LX_EMFILE;
}

struct lfile *lx_fd(struct lproc *p, uint64_t fd)
{
    return fd < p->fd_cap ? p->fds[fd] : NULL;
}

void lx_files_init(struct lproc *p)
{
    struct lfile *con = lx_new_file(FD_CONSOLE);
    if (!con)
        return;
    con->refs = 3;
    p->fds[0] = p->fds[1] = p->fds[2] = con;
    strcpy(p->cwd, "/");
}

void lx_files_close_all(struct lproc *p)
{
    for (int fd = 0; fd < (int)p->fd_cap; fd++) {
        if (p->fds[fd])
            lx_put_file(p, p->fds[fd]);
        p->fds[fd] = NULL;
    }
}

/* Make path absolute (against dirfd or the cwd) and normal: no ".", "..",
 * doubled or trailing slashes. */
int lx_resolve(struct lproc *p, int dirfd, uintptr_t upath, char *out)
{
    char path[FS_PATH_MAX + 1], joined[2 * FS_PATH_MAX + 2];
    int err = lx_read_string(p, upath, path, sizeof(path));
    if (err)
        return err;
    if (!path[0])
        return -LX_ENOENT;
    const char *base = p->cwd;
    if (path[0] != '/' && dirfd != AT_FDCWD) {
        struct lfile *d = lx_fd(p, (uint64_t)dirfd);
        if (!d)
            return -LX_EBADF;
        if (d->kind != FD_DIR)
            return -LX_ENOTDIR;
        base = d->path;
    }
    snprintf(joined, sizeof(joined), "%s/%s", path[0] == '/' ? "" : base, path);
    size_t n = 0;
    for (char *s = joined; *s;) {
        while (*s == '/')
            s++;
        char *e = s;
        while (*e && *e != '/')
            e++;
        size_t len = (size_t)(e - s);
        if (len == 0 || (len == 1 && s[0] == '.')) {
        } else if (len == 2 && s[0] == '.' && s[1] == '.') {
            while (n > 0 && out[--n] != '/')
                ;
        } else {
            if (len > FS_NAME_MAX || n + 1 + len > FS_PATH_MAX)
                return -LX_ENAMETOOLONG;
            out[n++] = '/';
            memcpy(out + n, s, len);
            n += len;
        }
        s = e;
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = '\0';
    return 0;
}

static int64_t sys_openat(struct lproc *p, int dirfd, uintptr_t upath, unsigned flags)
{
    char path[FS_PATH_MAX + 1];
    int err = lx_resolve(p, dirfd, upath, path);
    if (err)
        return err;
    if (strcmp(path, "/dev/tty") == 0 || strcmp(path, "/dev/console") == 0 ||
        strcmp(path, "/dev/null") == 0) {
        struct lfile *f = lx_new_file(strcmp(path, "/dev/null") == 0 ? FD_NULL : FD_CONSOLE);
        if (!f)
            return -LX_ENOMEM;
        f->flags = flags;
        int fd = lx_install(p, f, 0, flags & O_CLOEXEC);
        if (fd < 0)
            free(f);
        return fd;
    }
    struct fs_stat st;
    err = fs_stat(p->fs, path, &st);
    if (err == MICA_OK && (flags & O_CREAT) && (flags & O_EXCL))
        return -LX_EEXIST;
    if (err == MICA_OK && st.type == FS_TYPE_DIR && (flags & O_ACCMODE))
        return -LX_EISDIR;
    if (err == MICA_OK && st.type != FS_TYPE_DIR && (flags & O_DIRECTORY))
        return -LX_ENOTDIR;
    if (err && !(err == MICA_ERR_NOT_FOUND && (flags & O_CREAT)))
        return lx_errno(err);
    unsigned fs_flags = (flags & O_CREAT ? FS_O_CREATE : 0) | (flags & O_EXCL ? FS_O_EXCL : 0) |
                        (flags & O_TRUNC && (flags & O_ACCMODE) ? FS_O_TRUNC : 0) |
                        (flags & O_APPEND ? FS_O_APPEND : 0);
    struct lfile *f = lx_new_file(err == MICA_OK && st.type == FS_TYPE_DIR ? FD_DIR : FD_FILE);
    if (!f)
        return -LX_ENOMEM;
    if (mica_handle_dup(p->fs, MICA_RIGHT_WRITE, &f->fs) != MICA_OK) {
        free(f);
        return -LX_ENOMEM;
    }
    if ((err = fs_open(f->fs, path, fs_flags, &f->fs_fd)) != MICA_OK) {
        mica_handle_close(f->fs);
        free(f);
        return err == MICA_ERR_INVALID_ARGS ? -LX_ENOTDIR : lx_errno(err);
    }
    f->flags = flags & ~(unsigned)O_CLOEXEC;
    memcpy(f->path, path, sizeof(path));
    int fd = lx_install(p, f, 0, flags & O_CLOEXEC);
    if (fd < 0)
        lx_put_file(p, f);
    return fd;
}

static int64_t sys_close(struct lproc *p, uint64_t fd)
{
    struct lfile *f = lx_fd(p, fd);
    if (!f)
        return -LX_EBADF;
    p->fds[fd] = NULL;
    lx_put_file(p, f);
    return 0;
}

/* Console output: '\n' stays '\n' (the driver adds the '\r'); without a
 * console driver, the kernel's log. */
static int console_write(const char *buf, size_t len)
{
    if (lx_console) {
        int err = uart_write(lx_console, buf, len);
        if (err == MICA_ERR_PEER_CLOSED) { /* the driver died: once more, found again */
            lx_console_reconnect();
            err = uart_write(lx_console, buf, len);
        }
        return err == MICA_OK ? 0 : -LX_EIO;
    }
    return mica_debug_log(buf, len) == MICA_OK ? 0 : -LX_EIO;
}

/* write/pwrite of one buffer; pos < 0: at the file position. */
static int64_t do_write(struct lproc *p, struct lfile *f, uintptr_t ubuf, size_t len, int64_t pos)
{
    static char chunk[IO_CHUNK];
    if ((f->flags & O_ACCMODE) == 0 && f->kind == FD_FILE)
        return -LX_EBADF;
    if (f->kind == FD_DIR)
        return -LX_EISDIR;
    size_t done = 0;
    if (pos >= 0 && fs_seek(f->fs, f->fs_fd, pos, FS_SEEK_SET, &(uint64_t){0}) != MICA_OK)
        return -LX_EINVAL;
    while (done < len) {
        size_t n = len - done < IO_CHUNK ? len - done : IO_CHUNK, wrote = n;
        int err = lx_read(p, ubuf + done, chunk, n);
        if (err)
            return done ? (int64_t)done : err;
        if (f->kind == FD_CONSOLE) {
            err = console_write(chunk, n);
        } else if (f->kind == FD_FILE) {
            int status = fs_write(f->fs, f->fs_fd, chunk, n, &wrote);
            err = status ? lx_errno(status) : 0;
        }
        if (err)
            return done ? (int64_t)done : err;
        done += wrote;
        if (wrote < n)
            break;
    }
    return (int64_t)done;
}

static int64_t do_read(struct lproc *p, struct lfile *f, uintptr_t ubuf, size_t len, int64_t pos)
{
    static char chunk[IO_CHUNK];
    if (f->kind == FD_DIR)
        return -LX_EISDIR;
    if (f->kind == FD_NULL)
        return 0;
    if ((f->flags & O_ACCMODE) == O_WRONLY)
        return -LX_EBADF;
    if (pos >= 0 && fs_seek(f->fs, f->fs_fd, pos, FS_SEEK_SET, &(uint64_t){0}) != MICA_OK)
        return -LX_EINVAL;
    size_t done = 0;
    while (done < len) {
        size_t want = len - done < IO_CHUNK ? len - done : IO_CHUNK, got;
        int err = fs_read(f->fs, f->fs_fd, chunk, want, &got);
        if (err)
            return done ? (int64_t)done : lx_errno(err);
        if ((err = lx_write(p, ubuf + done, chunk, got)) != 0) {
            /* Bytes the program could not take stay unread, as on Linux. */
            fs_seek(f->fs, f->fs_fd, -(int64_t)got, FS_SEEK_CUR, &(uint64_t){0});
            return done ? (int64_t)done : err;
        }
        done += got;
        if (got < want)
            break;
    }
    return (int64_t)done;
}

/* sendfile: a regular file's bytes to a file or the console, moved here
 * in the server (busybox's cat uses it). Other kinds of descriptor get
 * EINVAL, and callers fall back to read and write. With an offset, the
 * input's own position stays where it was. */
static int64_t sys_sendfile(struct lproc *p, const uint64_t *a)
{
    static char chunk[IO_CHUNK];
    struct lfile *out = lx_fd(p, a[0]), *in = lx_fd(p, a[1]);
    int64_t off = -1;
    uint64_t saved = 0, ignored;
    if (!out || !in || (in->flags & O_ACCMODE) == O_WRONLY ||
        (out->kind == FD_FILE && (out->flags & O_ACCMODE) == 0))
        return -LX_EBADF;
    if (in->kind != FD_FILE || (out->kind != FD_FILE && out->kind != FD_CONSOLE))
        return -LX_EINVAL;
    if (a[2] && lx_read(p, a[2], &off, sizeof(off)))
        return -LX_EFAULT;
    if (a[2] && (off < 0 || fs_seek(in->fs, in->fs_fd, 0, FS_SEEK_CUR, &saved) != MICA_OK ||
                 fs_seek(in->fs, in->fs_fd, (uint64_t)off, FS_SEEK_SET, &ignored) != MICA_OK))
        return -LX_EINVAL;
    size_t done = 0;
    int err = 0;
    while (!err && done < a[3]) {
        size_t want = a[3] - done < IO_CHUNK ? a[3] - done : IO_CHUNK, got = 0, wrote = 0;
        int status = fs_read(in->fs, in->fs_fd, chunk, want, &got);
        if (status || got == 0) {
            err = status ? lx_errno(status) : 0;
            break;
        }
        if (out->kind == FD_CONSOLE) {
            err = console_write(chunk, got);
            wrote = got;
        } else if ((status = fs_write(out->fs, out->fs_fd, chunk, got, &wrote)) != 0) {
            err = lx_errno(status);
        }
        done += wrote;
        if (wrote < got || got < want)
            break;
    }
    if (a[2]) {
        off += (int64_t)done;
        fs_seek(in->fs, in->fs_fd, saved, FS_SEEK_SET, &ignored);
        if (lx_write(p, a[2], &off, sizeof(off)))
            return -LX_EFAULT;
    }
    return done ? (int64_t)done : err;
}

/* read, write and their vector and positioned forms. */
static int64_t sys_rw(struct lproc *p, unsigned nr, const uint64_t *a)
{
    struct lfile *f = lx_fd(p, a[0]);
    bool write = nr == NR_write || nr == NR_writev || nr == NR_pwrite64;
    bool vector = nr == NR_readv || nr == NR_writev;
    int64_t pos = nr == NR_pread64 || nr == NR_pwrite64 ? (int64_t)a[3] : -1;
    if (!f)
        return -LX_EBADF;
    if (pos >= 0 && f->kind != FD_FILE)
        return -LX_ESPIPE;
    if (!write && f->kind == FD_CONSOLE)
        return lx_console_read(p, a, vector);
    if (f->kind == FD_PIPE_READ || f->kind == FD_PIPE_WRITE) {
        uint64_t iov[2] = {a[1], a[2]};
        if ((f->kind == FD_PIPE_WRITE) != write)
            return -LX_EBADF;
        /* readv/writev on a pipe: the first non-empty buffer (a short
         * transfer, which callers handle). */
        for (uint64_t i = 0; vector && i < a[2] && i < 1024; i++)
            if (lx_read(p, a[1] + 16 * i, iov, sizeof(iov)) || iov[1])
                break;
        if (vector && a[2] == 0)
            iov[1] = 0;
        return write ? lx_pipe_write(p, f, iov[0], iov[1]) : lx_pipe_read(p, f, iov[0], iov[1]);
    }
    if (!vector)
        return write ? do_write(p, f, a[1], a[2], pos) : do_read(p, f, a[1], a[2], pos);
    if (a[2] > 1024)
        return -LX_EINVAL;
    int64_t total = 0;
    for (uint64_t i = 0; i < a[2]; i++) {
        uint64_t iov[2];
        if (lx_read(p, a[1] + 16 * i, iov, sizeof(iov)))
            return total ? total : -LX_EFAULT;
        if (iov[1] == 0)
            continue;
        int64_t n = write ? do_write(p, f, iov[0], iov[1], -1) : do_read(p, f, iov[0], iov[1], -1);
        if (n < 0)
            return total ? total : n;
        total += n;
        if ((uint64_t)n < iov[1])
            break;
    }
    return total;
}

/* mmap of a file: len bytes from offset into the program at va (the file
 * position is left where it was). */
int lx_file_copy_in(struct lproc *p, struct lfile *f, uint64_t offset, uintptr_t va, size_t len)
{
    static char chunk[IO_CHUNK];
    uint64_t saved;
    if (fs_seek(f->fs, f->fs_fd, 0, FS_SEEK_CUR, &saved) != MICA_OK ||
        fs_seek(f->fs, f->fs_fd, (int64_t)offset, FS_SEEK_SET, &(uint64_t){0}) != MICA_OK)
        return -LX_EINVAL;
    int err = 0;
    for (size_t done = 0; !err && done < len;) {
        size_t got, want = len - done < IO_CHUNK ? len - done : IO_CHUNK;
        if (fs_read(f->fs, f->fs_fd, chunk, want, &got) != MICA_OK)
            err = -LX_EIO;
        else if (got && lx_fill(p, va + done, chunk, got))
            err = -LX_EFAULT;
        if (got < want)
            break; /* past the end: the rest stays zero */
        done += got;
    }
    fs_seek(f->fs, f->fs_fd, (int64_t)saved, FS_SEEK_SET, &(uint64_t){0});
    return err;
}

static int64_t sys_lseek(struct lproc *p, uint64_t fd, int64_t offset, unsigned whence)
{
    struct lfile *f = lx_fd(p, fd);
    uint64_t pos;
    if (!f)
        return -LX_EBADF;
    if (f->kind != FD_FILE)
        return -LX_ESPIPE;
    if (whence > FS_SEEK_END)
        return -LX_EINVAL;
    int err = fs_seek(f->fs, f->fs_fd, offset, whence, &pos);
    return err ? -LX_EINVAL : (int64_t)pos;
}

int64_t lx_sys_files(struct lproc *p, unsigned nr, const uint64_t *a)
{
    switch (nr) {
    case NR_openat: return sys_openat(p, (int)a[0], a[1], (unsigned)a[2]);
    case NR_close: return sys_close(p, a[0]);
    case NR_read:
    case NR_write:
    case NR_readv:
    case NR_writev:
    case NR_pread64:
    case NR_pwrite64: return sys_rw(p, nr, a);
    case NR_lseek: return sys_lseek(p, a[0], (int64_t)a[1], (unsigned)a[2]);
    case NR_sendfile: return sys_sendfile(p, a);
    default: return lx_sys_paths(p, nr, a);
    }
}
