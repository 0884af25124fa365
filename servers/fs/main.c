/*
 * fs: the file server. At start it links every file of the bootfs into a
 * ramfs (servers/fs/ramfs.h) without copying, then serves the protocol of
 * libcap/include/mica/proto/fs.h on its startup endpoint. Writes copy a
 * bootfs file into memory the server owns, up to half of the server's
 * memory limit (the rest is for the node and open-file tables, malloc's
 * rounding and a growing file's old and new buffers during a copy); 4 MiB
 * if the limit cannot be read. /tmp is made at start if the bootfs has
 * none.
 *
 * Open files: one table shared by all clients, each entry tagged with the
 * badge of the client that opened it, so a client can use only its own
 * file numbers (and at most FS_OPEN_MAX of them). A file number is the
 * table index plus a per-slot generation, so a closed number stays dead,
 * plus a per-instance epoch, so a number from before a restart does too.
 * Requests are untrusted: every length is checked against the words that
 * actually arrived, and a bad request gets an error, never a crash.
 */
#include <mica/bootfs.h>
#include <mica/malloc.h>
#include <mica/proto/fs.h>
#include <string.h>

#include "ramfs.h"

_Static_assert(FS_NAME_MAX == RAMFS_NAME_MAX && FS_PATH_MAX == RAMFS_PATH_MAX,
               "the protocol's limits are the tree's");

#define FS_CAPACITY_FALLBACK (4u << 20) /* bytes of file contents, if the limit is unknown */
#define FILES_MAX 65536                 /* open files, all clients together (a number's 16 bits) */

struct open_file {
    uint64_t client; /* badge; 0: free slot */
    uint32_t generation;
    unsigned flags;
    ramfs_ino ino;
    uint64_t pos;
};

static struct ramfs fs;
static struct open_file *files; /* n_files entries, grown as files are opened */
static unsigned n_files;
/* Bits 48..63 of every file number: differ between instances, so a number
 * from before a restart is refused rather than naming some new file. */
static uint64_t epoch;

static struct mica_ipc_buffer *ipc;

/* The path of a request: `len` bytes at byte `at` of the IPC buffer, which
 * the message must have carried. Copied out NUL terminated. */
static int request_path(const struct mica_msg *req, uint64_t at, uint64_t len,
                        char out[FS_PATH_MAX + 1])
{
    uint64_t carried = MICA_MSG_WORDS(req->info) > MICA_MSG_REG_WORDS
                           ? (MICA_MSG_WORDS(req->info) - MICA_MSG_REG_WORDS) * 8
                           : 0;
    if (len > FS_PATH_MAX || at > carried || len > carried - at)
        return MICA_ERR_INVALID_ARGS;
    memcpy(out, (const char *)ipc->words + at, len);
    out[len] = '\0';
    if (memchr(out, '\0', len))
        return MICA_ERR_INVALID_ARGS; /* a NUL inside the path */
    return MICA_OK;
}

/* Reply words for `bytes` of data in the IPC buffer: the six register
 * words, then only the words the data fills, its last one zero padded so
 * nothing stale from an earlier message leaves the server. */
static unsigned reply_words_for(uint64_t bytes)
{
    if (bytes == 0)
        return MICA_MSG_REG_WORDS;
    uint64_t padded = (bytes + 7) / 8 * 8;
    memset((char *)ipc->words + bytes, 0, padded - bytes);
    return MICA_MSG_REG_WORDS + (unsigned)(padded / 8);
}

static struct open_file *lookup_fd(const struct mica_msg *req, uint64_t fd)
{
    uint64_t slot = fd & 0xFFFF;
    if (slot >= n_files || files[slot].client != req->badge || !req->badge ||
        files[slot].generation != (uint32_t)(fd >> 16) || (fd >> 48) != epoch)
        return NULL;
    return &files[slot];
}

static int64_t handle_FS_OPEN(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    char path[FS_PATH_MAX + 1];
    unsigned flags = (unsigned)req->w[0];
    if (req->w[0] & ~(uint64_t)(FS_O_CREATE | FS_O_TRUNC | FS_O_EXCL | FS_O_APPEND))
        return MICA_ERR_INVALID_ARGS;
    int err = request_path(req, 0, req->w[1], path);
    if (err)
        return err;
    unsigned mine = 0;
    struct open_file *f = NULL;
    for (unsigned i = 0; i < n_files; i++) {
        mine += files[i].client == req->badge;
        if (!files[i].client && !f)
            f = &files[i];
    }
    if (mine >= FS_OPEN_MAX || !req->badge)
        return MICA_ERR_LIMIT;
    if (!f) { /* all in use: twice as many (the generations of new slots start at 0) */
        unsigned n = n_files ? 2 * n_files : 64;
        struct open_file *more = n_files < FILES_MAX ? realloc(files, n * sizeof(*files)) : NULL;
        if (!more)
            return MICA_ERR_LIMIT;
        memset(more + n_files, 0, (n - n_files) * sizeof(*files));
        f = &more[n_files];
        files = more;
        n_files = n;
    }
    ramfs_ino ino;
    err = ramfs_lookup(&fs, path, &ino);
    if (err == MICA_OK && (flags & FS_O_CREATE) && (flags & FS_O_EXCL))
        return MICA_ERR_BAD_STATE;
    if (err == MICA_ERR_NOT_FOUND && (flags & FS_O_CREATE))
        err = ramfs_create(&fs, path, RAMFS_FILE, &ino);
    if (err)
        return err;
    struct ramfs_stat st;
    ramfs_stat(&fs, ino, &st);
    if ((flags & FS_O_TRUNC) && (st.type != RAMFS_FILE || (err = ramfs_truncate(&fs, ino, 0))))
        return err ? err : MICA_ERR_INVALID_ARGS;
    uint32_t generation = f->generation + 1;
    *f = (struct open_file){req->badge, generation, flags, ino, 0};
    reply->w[1] = epoch << 48 | (uint64_t)generation << 16 | (uint64_t)(f - files);
    return MICA_OK;
}

static int64_t handle_FS_CLOSE(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)reply;
    struct open_file *f = lookup_fd(req, req->w[0]);
    if (!f)
        return MICA_ERR_BAD_HANDLE;
    f->client = 0;
    return MICA_OK;
}

static int64_t handle_FS_READ(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    struct open_file *f = lookup_fd(req, req->w[0]);
    uint64_t got;
    if (!f)
        return MICA_ERR_BAD_HANDLE;
    if (req->w[1] > FS_IO_MAX)
        return MICA_ERR_INVALID_ARGS;
    int err = ramfs_read(&fs, f->ino, f->pos, ipc->words, req->w[1], &got);
    if (err)
        return err;
    f->pos += got;
    reply->w[1] = got;
    reply->info = mica_msg_info(0, reply_words_for(got), 0, 0);
    return MICA_OK;
}

static int64_t handle_FS_WRITE(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    struct open_file *f = lookup_fd(req, req->w[0]);
    if (!f)
        return MICA_ERR_BAD_HANDLE;
    uint64_t len = req->w[1];
    unsigned words = MICA_MSG_WORDS(req->info);
    if (len > FS_IO_MAX ||
        (len && (words <= MICA_MSG_REG_WORDS || len > (uint64_t)(words - MICA_MSG_REG_WORDS) * 8)))
        return MICA_ERR_INVALID_ARGS;
    if (f->flags & FS_O_APPEND) {
        struct ramfs_stat st;
        if (ramfs_stat(&fs, f->ino, &st) == MICA_OK)
            f->pos = st.size;
    }
    int err = ramfs_write(&fs, f->ino, f->pos, ipc->words, len);
    if (err)
        return err;
    f->pos += len;
    reply->w[1] = len;
    return MICA_OK;
}

static int64_t handle_FS_SEEK(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    struct open_file *f = lookup_fd(req, req->w[0]);
    struct ramfs_stat st;
    if (!f)
        return MICA_ERR_BAD_HANDLE;
    int err = ramfs_stat(&fs, f->ino, &st);
    if (err)
        return err;
    int64_t offset = (int64_t)req->w[1], base;
    switch (req->w[2]) {
    case FS_SEEK_SET: base = 0; break;
    case FS_SEEK_CUR: base = (int64_t)f->pos; break;
    case FS_SEEK_END: base = (int64_t)st.size; break;
    default: return MICA_ERR_INVALID_ARGS;
    }
    if ((offset < 0 && -(offset + 1) >= base) ||
        (offset > 0 &&
         ((uint64_t)base > fs.capacity || (uint64_t)offset > fs.capacity - (uint64_t)base)))
        return MICA_ERR_OUT_OF_RANGE;
    f->pos = (uint64_t)(base + offset);
    reply->w[1] = f->pos;
    return MICA_OK;
}

static int64_t stat_reply(ramfs_ino ino, struct mica_msg *reply)
{
    struct ramfs_stat st;
    int err = ramfs_stat(&fs, ino, &st);
    if (err)
        return err;
    reply->w[1] = st.type;
    reply->w[2] = st.size;
    reply->w[3] = st.entries;
    return MICA_OK;
}

static int64_t handle_FS_STAT(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    char path[FS_PATH_MAX + 1];
    ramfs_ino ino;
    int err = request_path(req, 0, req->w[0], path);
    if (!err)
        err = ramfs_lookup(&fs, path, &ino);
    return err ? err : stat_reply(ino, reply);
}

static int64_t handle_FS_FSTAT(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    struct open_file *f = lookup_fd(req, req->w[0]);
    return f ? stat_reply(f->ino, reply) : MICA_ERR_BAD_HANDLE;
}

static int64_t handle_FS_READDIR(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    struct open_file *f = lookup_fd(req, req->w[0]);
    char name[RAMFS_NAME_MAX + 1];
    ramfs_ino ino;
    struct ramfs_stat st;
    if (!f)
        return MICA_ERR_BAD_HANDLE;
    if (req->w[1] > UINT32_MAX)
        return MICA_ERR_NOT_FOUND;
    int err = ramfs_readdir(&fs, f->ino, (uint32_t)req->w[1], name, &ino);
    if (!err)
        err = ramfs_stat(&fs, ino, &st);
    if (err)
        return err;
    reply->w[1] = st.type;
    reply->w[2] = strlen(name);
    memcpy(ipc->words, name, reply->w[2]);
    reply->info = mica_msg_info(0, reply_words_for(reply->w[2]), 0, 0);
    return MICA_OK;
}

static int64_t handle_FS_MKDIR(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)reply;
    char path[FS_PATH_MAX + 1];
    ramfs_ino ino;
    int err = request_path(req, 0, req->w[0], path);
    return err ? err : ramfs_create(&fs, path, RAMFS_DIR, &ino);
}

static int64_t handle_FS_UNLINK(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)reply;
    char path[FS_PATH_MAX + 1];
    int err = request_path(req, 0, req->w[0], path);
    return err ? err : ramfs_unlink(&fs, path);
}

static int64_t handle_FS_RENAME(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)reply;
    char from[FS_PATH_MAX + 1], to[FS_PATH_MAX + 1];
    int err = request_path(req, 0, req->w[0], from);
    if (!err)
        err = request_path(req, (req->w[0] + 7) / 8 * 8, req->w[1], to);
    return err ? err : ramfs_rename(&fs, from, to);
}

static int64_t handle_FS_TRUNCATE(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)reply;
    struct open_file *f = lookup_fd(req, req->w[0]);
    return f ? ramfs_truncate(&fs, f->ino, req->w[1]) : MICA_ERR_BAD_HANDLE;
}

static const struct mica_server_op ops[] = {
#define FS_SERVER_OP(name, label, req, rep) {label, req, handle_##name, rep, 0},
    FS_OPS(FS_SERVER_OP)
#undef FS_SERVER_OP
};

/* Link every bootfs file into the tree; a bad archive leaves it empty. */
static void load_bootfs(const struct mica_bootinfo *bi)
{
    uintptr_t base;
    size_t mapped = (bi->bootfs_size + MICA_PAGE_SIZE - 1) & ~(size_t)(MICA_PAGE_SIZE - 1);
    struct bootfs archive;
    if (!bi->bootfs_vmo || !mapped ||
        mica_aspace_map(bi->self_aspace, bi->bootfs_vmo, 0, mapped, 0, MICA_MAP_READ, &base) ||
        bootfs_init(&archive, (const void *)base, bi->bootfs_size)) {
        mica_printf("fs: no bootfs; starting empty\n");
        return;
    }
    size_t cursor = 0, size;
    const char *name;
    const void *data;
    while (bootfs_iterate(&archive, &cursor, &name, &data, &size) == MICA_OK) {
        int err = ramfs_add_readonly(&fs, name, data, size);
        if (err)
            mica_printf("fs: skipping bootfs file %s: %s\n", name, mica_status_name(err));
    }
}

/* ramfs's can_commit: room for `bytes` more (and a margin for our own
 * tables and the allocator), counting our payers' room too. */
static mica_handle_t self_process;
static bool room_for(uint64_t bytes)
{
    uint64_t room;
    if (mica_process_memory(self_process, NULL, NULL, &room) != MICA_OK)
        return true; /* no way to know: as before */
    uint64_t pages = (bytes + MICA_PAGE_SIZE - 1) / MICA_PAGE_SIZE + 64;
    return room >= pages;
}

/* Half of what this process may still hold: its limit, or less if its
 * payers have less room. */
static uint64_t capacity_of(const struct mica_bootinfo *bi)
{
    uint64_t pages, limit, room;
    if (!bi->self_process || mica_process_memory(bi->self_process, &pages, &limit, &room))
        return FS_CAPACITY_FALLBACK;
    uint64_t left = limit > pages ? limit - pages : 0;
    uint64_t have = room < left ? room : left;
    if (have > (1ull << 28)) /* 1 TiB: no overflow below */
        have = 1ull << 28;
    return have ? have / 2 * MICA_PAGE_SIZE : FS_CAPACITY_FALLBACK;
}

int main(const struct mica_bootinfo *bi)
{
    ipc = mica_ipc_buffer_here(); /* paths and data arrive here */
    if (!bi->startup_handle || !ipc) {
        mica_printf("fs: no endpoint to serve, or no IPC buffer\n");
        return 1;
    }
    epoch = (mica_clock_ns() ^ mica_clock_ns() >> 16) & 0xFFFF;
    self_process = bi->self_process;
    if (ramfs_init(&fs, capacity_of(bi))) {
        mica_printf("fs: no memory for the node table\n");
        return 1;
    }
    fs.can_commit = bi->self_process ? room_for : NULL;
    load_bootfs(bi);
    ramfs_ino tmp;
    if (ramfs_lookup(&fs, "/tmp", &tmp) == MICA_ERR_NOT_FOUND)
        ramfs_create(&fs, "/tmp", RAMFS_DIR, &tmp);
    int err = mica_serve(bi->startup_handle, ops, sizeof(ops) / sizeof(ops[0]), NULL, NULL);
    mica_printf("fs: stopped serving: %s\n", mica_status_name(err));
    return err == MICA_ERR_PEER_CLOSED ? 0 : 1;
}
