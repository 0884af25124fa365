/* Client side of the fs protocol (mica/proto/fs.h): paths and data are
 * copied through the calling thread's IPC buffer. */
#include <mica/proto/fs.h>
#include <string.h>

static unsigned words_for(size_t bytes)
{
    return (unsigned)((bytes + 7) / 8);
}

/* Call `label` with w[0..n) in registers and `extra` bytes already in the
 * IPC buffer; the status is returned and m holds the reply. */
static int call(mica_handle_t fs, uint32_t label, struct mica_msg *m, unsigned n, size_t extra)
{
    unsigned words = extra ? MICA_MSG_REG_WORDS + words_for(extra) : n;
    m->info = mica_msg_info(label, words, 0, 0);
    int err = mica_call(fs, m);
    if (err)
        return err;
    int64_t status = (int64_t)m->w[0];
    if (status > 0 || status < MICA_ERR_LIMIT)
        return MICA_ERR_BAD_STATE; /* not a status: a confused server */
    return (int)status;
}

/* The reply carried at least `bytes` of data in the IPC buffer. */
static bool carried(const struct mica_msg *m, uint64_t bytes)
{
    return MICA_MSG_WORDS(m->info) >= MICA_MSG_REG_WORDS + words_for(bytes);
}

/* Put a path at byte `at` of the IPC buffer; its length in *len. */
static int put_path(struct mica_ipc_buffer *buf, size_t at, const char *path, size_t *len)
{
    *len = strnlen(path, FS_PATH_MAX + 1);
    if (*len > FS_PATH_MAX)
        return MICA_ERR_INVALID_ARGS;
    memcpy((char *)buf->words + at, path, *len);
    return MICA_OK;
}

/* One-path operations: (flags..., path length; path). */
static int path_op(mica_handle_t fs, uint32_t label, const char *path, uint64_t flags,
                   struct mica_msg *m)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    size_t len;
    if (!buf)
        return MICA_ERR_NO_MEMORY;
    int err = put_path(buf, 0, path, &len);
    if (err)
        return err;
    memset(m, 0, sizeof(*m));
    unsigned n = 0;
    if (label == FS_OPEN)
        m->w[n++] = flags;
    m->w[n++] = len;
    return call(fs, label, m, n, len ? len : 1);
}

int fs_open(mica_handle_t fs, const char *path, unsigned flags, uint64_t *fd)
{
    struct mica_msg m;
    int err = path_op(fs, FS_OPEN, path, flags, &m);
    if (!err)
        *fd = m.w[1];
    return err;
}

int fs_close(mica_handle_t fs, uint64_t fd)
{
    return mica_request(fs, FS_CLOSE, &fd, 1, NULL, 0);
}

int fs_read(mica_handle_t fs, uint64_t fd, void *out, size_t len, size_t *got)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    if (!buf)
        return MICA_ERR_NO_MEMORY;
    if (len > FS_IO_MAX)
        return MICA_ERR_INVALID_ARGS;
    struct mica_msg m = {.w = {fd, len}};
    int err = call(fs, FS_READ, &m, 2, 0);
    if (err)
        return err;
    if (m.w[1] > len || !carried(&m, m.w[1]))
        return MICA_ERR_BAD_STATE; /* a confused server */
    memcpy(out, buf->words, m.w[1]);
    *got = m.w[1];
    return MICA_OK;
}

int fs_write(mica_handle_t fs, uint64_t fd, const void *data, size_t len, size_t *written)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    if (!buf)
        return MICA_ERR_NO_MEMORY;
    if (len > FS_IO_MAX)
        return MICA_ERR_INVALID_ARGS;
    memcpy(buf->words, data, len);
    struct mica_msg m = {.w = {fd, len}};
    int err = call(fs, FS_WRITE, &m, 2, len);
    if (!err && m.w[1] > len)
        return MICA_ERR_BAD_STATE;
    if (!err)
        *written = m.w[1];
    return err;
}

int fs_seek(mica_handle_t fs, uint64_t fd, int64_t offset, unsigned whence, uint64_t *pos)
{
    uint64_t args[3] = {fd, (uint64_t)offset, whence};
    return mica_request(fs, FS_SEEK, args, 3, pos, 1);
}

static int stat_out(const struct mica_msg *m, struct fs_stat *st)
{
    if (MICA_MSG_WORDS(m->info) < 4)
        return MICA_ERR_BAD_STATE; /* a short reply */
    *st = (struct fs_stat){m->w[1], m->w[2], m->w[3]};
    return MICA_OK;
}

int fs_stat(mica_handle_t fs, const char *path, struct fs_stat *st)
{
    struct mica_msg m;
    int err = path_op(fs, FS_STAT, path, 0, &m);
    return err ? err : stat_out(&m, st);
}

int fs_fstat(mica_handle_t fs, uint64_t fd, struct fs_stat *st)
{
    struct mica_msg m = {.w = {fd}};
    int err = call(fs, FS_FSTAT, &m, 1, 0);
    return err ? err : stat_out(&m, st);
}

int fs_readdir(mica_handle_t fs, uint64_t fd, unsigned index, char name[FS_NAME_MAX + 1],
               uint64_t *type)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    if (!buf)
        return MICA_ERR_NO_MEMORY;
    struct mica_msg m = {.w = {fd, index}};
    int err = call(fs, FS_READDIR, &m, 2, 0);
    if (err)
        return err;
    if (m.w[2] > FS_NAME_MAX || !carried(&m, m.w[2]))
        return MICA_ERR_BAD_STATE;
    memcpy(name, buf->words, m.w[2]);
    name[m.w[2]] = '\0';
    *type = m.w[1];
    return MICA_OK;
}

int fs_mkdir(mica_handle_t fs, const char *path)
{
    struct mica_msg m;
    return path_op(fs, FS_MKDIR, path, 0, &m);
}

int fs_unlink(mica_handle_t fs, const char *path)
{
    struct mica_msg m;
    return path_op(fs, FS_UNLINK, path, 0, &m);
}

int fs_rename(mica_handle_t fs, const char *from, const char *to)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    size_t from_len, to_len;
    if (!buf)
        return MICA_ERR_NO_MEMORY;
    int err = put_path(buf, 0, from, &from_len);
    if (!err)
        err = put_path(buf, words_for(from_len) * 8, to, &to_len);
    if (err)
        return err;
    struct mica_msg m = {.w = {from_len, to_len}};
    size_t bytes = words_for(from_len) * 8 + to_len;
    return call(fs, FS_RENAME, &m, 2, bytes ? bytes : 1);
}

int fs_truncate(mica_handle_t fs, uint64_t fd, uint64_t size)
{
    uint64_t args[2] = {fd, size};
    return mica_request(fs, FS_TRUNCATE, args, 2, NULL, 0);
}
