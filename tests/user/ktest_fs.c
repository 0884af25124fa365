/*
 * fs server tests: the bootfs is readable through it, the writable tree
 * behaves like a file system, every malformed request gets an error, open
 * files are private to each client, a full fs says so and recovers, and a
 * killed fs server is restarted by procmgr behind the same endpoint.
 */
#include <mica/bootfs.h>
#include <mica/proto/fs.h>
#include <mica/proto/procmgr.h>
#include <string.h>

#include "ktest.h"

static mica_handle_t fs_ep;

/* The fs endpoint, looked up once through procmgr. */
static mica_handle_t fs(void)
{
    if (!fs_ep && pm_lookup(kt_bootinfo()->startup_handle, "fs", &fs_ep) != MICA_OK)
        fs_ep = 0;
    return fs_ep;
}

static int read_all(mica_handle_t ep, uint64_t fd, char *out, size_t max, size_t *total)
{
    *total = 0;
    for (;;) {
        size_t got;
        int err = fs_read(ep, fd, out + *total, max - *total < 100 ? max - *total : 100, &got);
        if (err)
            return err;
        if (got == 0)
            return MICA_OK;
        *total += got;
    }
}

static int test_bootfs_files(void)
{
    const struct mica_bootinfo *bi = kt_bootinfo();
    uintptr_t base;
    size_t mapped = (bi->bootfs_size + MICA_PAGE_SIZE - 1) & ~(size_t)(MICA_PAGE_SIZE - 1);
    const void *want;
    size_t want_len, got_len;
    static char text[4096];
    uint64_t fd, type;
    struct fs_stat st;
    CHECK(fs() != 0);
    CHECK_OK(mica_aspace_map(bi->self_aspace, bi->bootfs_vmo, 0, mapped, 0, MICA_MAP_READ, &base));
    CHECK_OK(
        mica_cpio_find((const void *)base, bi->bootfs_size, "boot/manifest", &want, &want_len));
    CHECK(want_len < sizeof(text));
    /* The manifest, read in 100-byte pieces, is the bootfs's bytes. */
    CHECK_OK(fs_open(fs(), "/boot/manifest", 0, &fd));
    CHECK_OK(read_all(fs(), fd, text, sizeof(text), &got_len));
    CHECK(got_len == want_len && memcmp(text, want, want_len) == 0);
    CHECK_OK(fs_fstat(fs(), fd, &st));
    CHECK(st.type == FS_TYPE_FILE && st.size == want_len);
    CHECK_OK(fs_close(fs(), fd));
    CHECK_STATUS(fs_close(fs(), fd), MICA_ERR_BAD_HANDLE);
    /* A closed number stays dead even when its slot is reused. */
    uint64_t again;
    CHECK_OK(fs_open(fs(), "/boot/manifest", 0, &again));
    CHECK((again & 0xFFFF) == (fd & 0xFFFF) && again != fd);
    CHECK_STATUS(fs_fstat(fs(), fd, &st), MICA_ERR_BAD_HANDLE);
    CHECK_OK(fs_close(fs(), again));
    CHECK_OK(fs_stat(fs(), "bin/fs", &st));
    CHECK(st.type == FS_TYPE_FILE && st.size > 0);
    /* The root lists bin and boot, each once. */
    char name[FS_NAME_MAX + 1];
    int seen_bin = 0, seen_boot = 0;
    CHECK_OK(fs_open(fs(), "/", 0, &fd));
    unsigned i = 0;
    for (; fs_readdir(fs(), fd, i, name, &type) == MICA_OK; i++) {
        seen_bin += strcmp(name, "bin") == 0 && type == FS_TYPE_DIR;
        seen_boot += strcmp(name, "boot") == 0 && type == FS_TYPE_DIR;
    }
    CHECK(seen_bin == 1 && seen_boot == 1);
    CHECK_OK(fs_fstat(fs(), fd, &st));
    CHECK(st.type == FS_TYPE_DIR && st.entries == i);
    CHECK_OK(fs_close(fs(), fd));
    return mica_aspace_unmap(bi->self_aspace, base, mapped);
}

static int test_read_write(void)
{
    static char data[2000], back[2100];
    uint64_t fd, fd2, pos;
    size_t n;
    struct fs_stat st;
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (char)(i * 7 + 3);
    /* /tmp is there from the start; making it, or the root, again says
     * BAD_STATE (EEXIST), not INVALID_ARGS (the root was ENOTDIR). */
    CHECK_OK(fs_stat(fs(), "/tmp", &st));
    CHECK(st.type == FS_TYPE_DIR);
    CHECK_STATUS(fs_mkdir(fs(), "/tmp"), MICA_ERR_BAD_STATE);
    CHECK_STATUS(fs_mkdir(fs(), "/"), MICA_ERR_BAD_STATE);
    CHECK_OK(fs_open(fs(), "/tmp/a", FS_O_CREATE | FS_O_EXCL, &fd));
    CHECK_STATUS(fs_open(fs(), "/tmp/a", FS_O_CREATE | FS_O_EXCL, &fd2), MICA_ERR_BAD_STATE);
    for (size_t done = 0; done < sizeof(data); done += n) {
        size_t chunk = sizeof(data) - done < FS_IO_MAX ? sizeof(data) - done : FS_IO_MAX;
        CHECK_OK(fs_write(fs(), fd, data + done, chunk, &n));
        CHECK(n == chunk);
    }
    CHECK_STATUS(fs_write(fs(), fd, data, FS_IO_MAX + 1, &n), MICA_ERR_INVALID_ARGS);
    CHECK_OK(fs_seek(fs(), fd, 0, FS_SEEK_SET, &pos));
    CHECK(pos == 0);
    CHECK_OK(read_all(fs(), fd, back, sizeof(back), &n));
    CHECK(n == sizeof(data) && memcmp(back, data, n) == 0);
    /* Seek relative to the end and the current position. */
    CHECK_OK(fs_seek(fs(), fd, -10, FS_SEEK_END, &pos));
    CHECK(pos == sizeof(data) - 10);
    CHECK_OK(fs_seek(fs(), fd, -5, FS_SEEK_CUR, &pos));
    CHECK_OK(fs_read(fs(), fd, back, 100, &n));
    CHECK(n == 15 && memcmp(back, data + sizeof(data) - 15, 15) == 0);
    CHECK_STATUS(fs_seek(fs(), fd, -1, FS_SEEK_SET, &pos), MICA_ERR_OUT_OF_RANGE);
    CHECK_STATUS(fs_seek(fs(), fd, 0, 3, &pos), MICA_ERR_INVALID_ARGS);
    /* Writing past the end leaves a gap of zeros; truncate shrinks. */
    CHECK_OK(fs_seek(fs(), fd, 3000, FS_SEEK_SET, &pos));
    CHECK_OK(fs_write(fs(), fd, "xy", 2, &n));
    CHECK_OK(fs_fstat(fs(), fd, &st));
    CHECK(st.size == 3002);
    CHECK_OK(fs_seek(fs(), fd, 2500, FS_SEEK_SET, &pos));
    CHECK_OK(fs_read(fs(), fd, back, 4, &n));
    CHECK(n == 4 && back[0] == 0 && back[3] == 0);
    /* Bytes cut off by truncate read as zeros when the file grows again. */
    static char ones[100];
    memset(ones, 0xFF, sizeof(ones));
    CHECK_OK(fs_seek(fs(), fd, 0, FS_SEEK_SET, &pos));
    CHECK_OK(fs_write(fs(), fd, ones, sizeof(ones), &n));
    CHECK_OK(fs_truncate(fs(), fd, 50));
    CHECK_OK(fs_seek(fs(), fd, 90, FS_SEEK_SET, &pos));
    CHECK_OK(fs_write(fs(), fd, "z", 1, &n));
    CHECK_OK(fs_seek(fs(), fd, 0, FS_SEEK_SET, &pos));
    CHECK_OK(fs_read(fs(), fd, back, 91, &n));
    CHECK(n == 91 && (uint8_t)back[49] == 0xFF && back[50] == 0 && back[89] == 0 &&
          back[90] == 'z');
    CHECK_OK(fs_truncate(fs(), fd, 10));
    CHECK_OK(fs_stat(fs(), "tmp/a", &st));
    CHECK(st.size == 10);
    /* Append mode writes at the end whatever the position. */
    CHECK_OK(fs_open(fs(), "/tmp/a", FS_O_APPEND, &fd2));
    CHECK_OK(fs_write(fs(), fd2, "!", 1, &n));
    CHECK_OK(fs_stat(fs(), "tmp/a", &st));
    CHECK(st.size == 11);
    CHECK_OK(fs_close(fs(), fd2));
    /* Rename moves it; the open file follows; unlink makes it stale. */
    CHECK_OK(fs_mkdir(fs(), "/tmp/sub"));
    CHECK_OK(fs_rename(fs(), "/tmp/a", "/tmp/sub/b"));
    CHECK_STATUS(fs_stat(fs(), "/tmp/a", &st), MICA_ERR_NOT_FOUND);
    CHECK_OK(fs_fstat(fs(), fd, &st));
    CHECK(st.size == 11);
    CHECK_STATUS(fs_rename(fs(), "/tmp", "/tmp/sub/tmp"), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(fs_unlink(fs(), "/tmp/sub"), MICA_ERR_BAD_STATE); /* not empty */
    CHECK_OK(fs_unlink(fs(), "/tmp/sub/b"));
    CHECK_STATUS(fs_fstat(fs(), fd, &st), MICA_ERR_NOT_FOUND);
    CHECK_OK(fs_close(fs(), fd));
    CHECK_OK(fs_unlink(fs(), "/tmp/sub"));
    /* Rename onto an existing file replaces it. */
    CHECK_OK(fs_open(fs(), "/tmp/x", FS_O_CREATE, &fd));
    CHECK_OK(fs_write(fs(), fd, "new", 3, &n));
    CHECK_OK(fs_close(fs(), fd));
    CHECK_OK(fs_open(fs(), "/tmp/y", FS_O_CREATE, &fd));
    CHECK_OK(fs_close(fs(), fd));
    CHECK_OK(fs_rename(fs(), "/tmp/x", "/tmp/y"));
    CHECK_OK(fs_stat(fs(), "/tmp/y", &st));
    CHECK(st.size == 3);
    CHECK_STATUS(fs_stat(fs(), "/tmp/x", &st), MICA_ERR_NOT_FOUND);
    CHECK_OK(fs_unlink(fs(), "/tmp/y"));
    /* A bootfs file is writable; the bootfs itself is not changed. */
    CHECK_OK(fs_open(fs(), "/boot/manifest", 0, &fd));
    CHECK_OK(fs_write(fs(), fd, "#", 1, &n));
    CHECK_OK(fs_close(fs(), fd));
    return MICA_OK;
}

/* Send a raw request: `words` words, the first six from w. */
static int raw(uint32_t label, unsigned words, uint64_t w0, uint64_t w1, uint64_t w2)
{
    struct mica_msg m = {.w = {w0, w1, w2}};
    m.info = mica_msg_info(label, words, 0, 0);
    int err = mica_call(fs(), &m);
    return err ? err : (int)(int64_t)m.w[0];
}

static int test_bad_requests(void)
{
    uint64_t fd, n64;
    struct fs_stat st;
    char name[FS_NAME_MAX + 2], path[FS_PATH_MAX + 2];
    memset(name, 'n', sizeof(name));
    name[FS_NAME_MAX + 1] = '\0';
    CHECK_STATUS(fs_mkdir(fs(), name), MICA_ERR_INVALID_ARGS); /* 60-byte name */
    name[FS_NAME_MAX] = '\0';
    CHECK_OK(fs_mkdir(fs(), name)); /* 59 bytes is fine */
    CHECK_OK(fs_unlink(fs(), name));
    memset(path, 'p', sizeof(path));
    path[FS_PATH_MAX + 1] = '\0';
    CHECK_STATUS(fs_stat(fs(), path, &st), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(fs_stat(fs(), "/boot/../bin", &st), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(fs_stat(fs(), "/no/such", &st), MICA_ERR_NOT_FOUND);
    CHECK_STATUS(fs_mkdir(fs(), "/boot/manifest/x"), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(fs_unlink(fs(), "/"), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(fs_open(fs(), "/nope", 0, &fd), MICA_ERR_NOT_FOUND);
    CHECK_OK(fs_open(fs(), "/bin", 0, &fd));
    char byte;
    size_t n;
    CHECK_STATUS(fs_read(fs(), fd, &byte, 1, &n), MICA_ERR_INVALID_ARGS); /* a directory */
    CHECK_STATUS(fs_write(fs(), fd, "x", 1, &n), MICA_ERR_INVALID_ARGS);
    CHECK_OK(fs_close(fs(), fd));
    /* Raw messages a stub would never send. */
    CHECK_STATUS(raw(FS_STAT, 1, 10, 0, 0), MICA_ERR_INVALID_ARGS); /* path not carried */
    CHECK_STATUS(raw(FS_STAT, 1, 5000, 0, 0), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(raw(FS_OPEN, 2, 1u << 20, 0, 0), MICA_ERR_INVALID_ARGS); /* unknown flag */
    CHECK_STATUS(raw(FS_OPEN, 1, 0, 0, 0), MICA_ERR_INVALID_ARGS);        /* too short */
    CHECK_STATUS(raw(FS_READ, 2, 0x7777, 1, 0), MICA_ERR_BAD_HANDLE);
    CHECK_STATUS(raw(FS_WRITE, 2, ~0ull, 1, 0), MICA_ERR_BAD_HANDLE);
    CHECK_STATUS(raw(99, 0, 0, 0, 0), MICA_ERR_NOT_SUPPORTED);
    CHECK_OK(fs_open(fs(), "/boot/manifest", 0, &fd));
    CHECK_STATUS(raw(FS_READ, 2, fd, FS_IO_MAX + 1, 0), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(raw(FS_WRITE, 2, fd, 8, 0), MICA_ERR_INVALID_ARGS); /* data not carried */
    CHECK_STATUS(raw(FS_SEEK, 3, fd, 1ull << 40, FS_SEEK_SET), MICA_ERR_OUT_OF_RANGE);
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    CHECK(buf != NULL);
    memcpy(buf->words, "boot\0xyz", 8); /* a NUL inside the path */
    CHECK_STATUS(raw(FS_STAT, 7, 8, 0, 0), MICA_ERR_INVALID_ARGS);
    memset(buf->words, 'q', 256); /* 256 bytes that did arrive: still too long */
    CHECK_STATUS(raw(FS_STAT, 6 + 32, 256, 0, 0), MICA_ERR_INVALID_ARGS);
    /* Nothing stale leaves the server: a write it refused (to a directory)
     * leaves its bytes in the server's buffer, and a read at the end of a
     * file replies with no buffer words at all. */
    uint64_t dir, empty;
    CHECK_OK(fs_open(fs(), "/boot", 0, &dir));
    memset(buf->words, 'S', FS_IO_MAX);
    CHECK_STATUS(raw(FS_WRITE, 6 + MICA_MSG_BUF_WORDS, dir, FS_IO_MAX, 0), MICA_ERR_INVALID_ARGS);
    CHECK_OK(fs_close(fs(), dir));
    CHECK_OK(fs_open(fs(), "/empty", FS_O_CREATE, &empty));
    struct mica_msg m = {.w = {empty, FS_IO_MAX}, .info = mica_msg_info(FS_READ, 2, 0, 0)};
    memset(buf->words, 0, FS_IO_MAX);
    CHECK_OK(mica_call(fs(), &m));
    CHECK(m.w[0] == MICA_OK && m.w[1] == 0 && MICA_MSG_WORDS(m.info) == MICA_MSG_REG_WORDS);
    CHECK(((char *)buf->words)[0] == 0);
    CHECK_OK(fs_write(fs(), empty, "abc", 3, &n));
    CHECK_OK(fs_seek(fs(), empty, 0, FS_SEEK_SET, &n64));
    m = (struct mica_msg){.w = {empty, FS_IO_MAX}, .info = mica_msg_info(FS_READ, 2, 0, 0)};
    memset(buf->words, 0, FS_IO_MAX);
    CHECK_OK(mica_call(fs(), &m));
    CHECK(m.w[1] == 3 && MICA_MSG_WORDS(m.info) == MICA_MSG_REG_WORDS + 1);
    CHECK(memcmp(buf->words, "abc\0\0\0\0\0", 8) == 0 && ((char *)buf->words)[8] == 0);
    CHECK_OK(fs_close(fs(), empty));
    CHECK_OK(fs_unlink(fs(), "/empty"));
    return fs_close(fs(), fd);
}

static int test_clients_and_limits(void)
{
    mica_handle_t other;
    static uint64_t fds[FS_OPEN_MAX];
    uint64_t fd, extra;
    struct fs_stat st;
    size_t n;
    /* A second lookup is a second client, with its own badge. */
    CHECK_OK(pm_lookup(kt_bootinfo()->startup_handle, "fs", &other));
    CHECK_OK(fs_open(fs(), "/boot/manifest", 0, &fd));
    CHECK_STATUS(fs_fstat(other, fd, &st), MICA_ERR_BAD_HANDLE);
    CHECK_STATUS(fs_close(other, fd), MICA_ERR_BAD_HANDLE);
    CHECK_OK(fs_close(fs(), fd));
    for (unsigned i = 0; i < FS_OPEN_MAX; i++)
        CHECK_OK(fs_open(other, "/boot/manifest", 0, &fds[i]));
    CHECK_STATUS(fs_open(other, "/boot/manifest", 0, &extra), MICA_ERR_LIMIT);
    CHECK_OK(fs_open(fs(), "/boot/manifest", 0, &fd)); /* others are not limited by it */
    CHECK_OK(fs_close(fs(), fd));
    for (unsigned i = 0; i < FS_OPEN_MAX; i++)
        CHECK_OK(fs_close(other, fds[i]));
    CHECK_OK(mica_handle_close(other));
    /* A file past the old 16 MiB limit: seek to 40 MiB and write there. */
    static char block[FS_IO_MAX];
    memset(block, 0xAB, sizeof(block));
    uint64_t pos;
    CHECK_OK(fs_open(fs(), "/big", FS_O_CREATE | FS_O_TRUNC, &fd));
    CHECK_OK(fs_seek(fs(), fd, 40u << 20, FS_SEEK_SET, &pos));
    CHECK_OK(fs_write(fs(), fd, "end", 3, &n));
    CHECK_OK(fs_fstat(fs(), fd, &st));
    CHECK(st.size == (40u << 20) + 3);
    CHECK_OK(fs_close(fs(), fd));
    /* Fill the fs: it says NO_MEMORY, and deleting makes room again. Its
     * capacity is half the server's memory limit (hundreds of MiB), so
     * fill it with files made by truncate, 16 MiB each, then ever smaller
     * down to 32 bytes: every byte is zeroed once. */
    char name[16];
    unsigned files = 0;
    uint64_t total = (40u << 20) + 3;
    for (uint64_t step = 16u << 20; step >= 32; step /= 2) {
        for (;;) {
            snprintf(name, sizeof(name), "/fill%u", files);
            CHECK_OK(fs_open(fs(), name, FS_O_CREATE, &fd));
            int err = fs_truncate(fs(), fd, step);
            CHECK_OK(fs_close(fs(), fd));
            if (err) {
                CHECK_STATUS(err, MICA_ERR_NO_MEMORY);
                CHECK_OK(fs_unlink(fs(), name));
                break;
            }
            files++;
            total += step;
        }
    }
    CHECK(total > (64u << 20)); /* the capacity was 4 MiB before */
    CHECK_OK(fs_open(fs(), "/small", FS_O_CREATE, &extra));
    CHECK_STATUS(fs_write(fs(), extra, block, sizeof(block), &n), MICA_ERR_NO_MEMORY);
    CHECK_OK(fs_unlink(fs(), "/big"));
    CHECK_OK(fs_write(fs(), extra, block, sizeof(block), &n));
    CHECK_OK(fs_close(fs(), extra));
    while (files > 0) {
        snprintf(name, sizeof(name), "/fill%u", --files);
        CHECK_OK(fs_unlink(fs(), name));
    }
    return fs_unlink(fs(), "/small");
}

static int test_restart(void)
{
    mica_handle_t pm = kt_bootinfo()->startup_handle;
    uint64_t fd, state, restarts, before;
    struct fs_stat st;
    CHECK_OK(fs_mkdir(fs(), "/lost"));
    CHECK_OK(pm_status(pm, "fs", &state, &before));
    CHECK_OK(pm_kill(pm, "fs"));
    /* The same endpoint reaches the new instance once it is up: a fresh
     * tree (memory only), the bootfs again. */
    int err = MICA_ERR_TIMED_OUT;
    for (int i = 0; i < 500 && err != MICA_OK; i++) {
        err = pm_status(pm, "fs", &state, &restarts);
        if (!err && !(restarts > before && state == PM_STATE_RUNNING))
            err = MICA_ERR_TIMED_OUT;
        if (err)
            mica_sleep_until(mica_clock_ns() + 10000000UL);
    }
    CHECK_OK(err);
    for (int i = 0; i < 500; i++) {
        err = fs_open(fs(), "/boot/manifest", 0, &fd);
        if (err == MICA_OK)
            break;
        mica_sleep_until(mica_clock_ns() + 10000000UL);
    }
    CHECK_OK(err);
    CHECK_OK(fs_close(fs(), fd));
    CHECK_STATUS(fs_stat(fs(), "/lost", &st), MICA_ERR_NOT_FOUND);
    return MICA_OK;
}

const struct ktest ktests_fs[] = {
    {"user_fs_bootfs_files", test_bootfs_files},
    {"user_fs_read_write", test_read_write},
    {"user_fs_bad_requests", test_bad_requests},
    {"user_fs_clients_and_limits", test_clients_and_limits},
    {"user_fs_restart", test_restart},
    {NULL, NULL},
};
