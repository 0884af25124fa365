/*
 * execve: the new program replaces the old in the same process (same pid,
 * open files but the close-on-exec ones, ignored signals; other threads
 * and the memory map go), and LX_SPAWN's program lookup. A program is a
 * file of the bootfs (used in place) or of the fs server (read into the
 * server's memory first); a "#!" script runs its interpreter with the
 * script's path.
 */
#include "linux.h"
#include <mica/elf.h>
#include <mica/malloc.h>
#include <string.h>

#define SIG_IGN 1

#define PROGRAM_MAX (8UL << 20) /* a program read from the fs */

/* A program file for execve/LX_SPAWN at an absolute, normalised path: in
 * the bootfs (used in place), else a file of the fs server (written at run
 * time: read into *owned, which the caller frees). */
int lx_find_program(mica_handle_t fs, const char *path, const void **elf, size_t *size,
                    void **owned)
{
    struct fs_stat st;
    uint64_t fd;
    *owned = NULL;
    if (lx_bootfs_find(path[0] == '/' ? path + 1 : path, elf, size) == MICA_OK)
        return 0;
    if (!fs || fs_stat(fs, path, &st) != MICA_OK)
        return -LX_ENOENT;
    if (st.type != FS_TYPE_FILE)
        return -LX_EACCES;
    if (st.size == 0 || st.size > PROGRAM_MAX)
        return -LX_ENOEXEC;
    char *buf = malloc(st.size);
    if (!buf)
        return -LX_ENOMEM;
    size_t done = 0, got = 0;
    int err = fs_open(fs, path, 0, &fd);
    while (!err && done < st.size) {
        size_t want = st.size - done < FS_IO_MAX ? st.size - done : FS_IO_MAX;
        if ((err = fs_read(fs, fd, buf + done, want, &got)) == MICA_OK && got == 0)
            break;
        done += got;
    }
    if (!err)
        fs_close(fs, fd);
    if (err || done != st.size) {
        free(buf);
        return -LX_EIO;
    }
    *elf = buf;
    *size = done;
    *owned = buf;
    return 0;
}

/* "#!INTERPRETER [ARG]" at the start of a script: its interpreter and
 * argument into interp/iarg; false if it is not a script. */
static bool shebang(const char *file, size_t size, char *interp, char *iarg)
{
    if (size < 3 || file[0] != '#' || file[1] != '!')
        return false;
    size_t i = 2, n = 0;
    while (i < size && (file[i] == ' ' || file[i] == '\t'))
        i++;
    while (i < size && file[i] != ' ' && file[i] != '\t' && file[i] != '\n' && n < FS_PATH_MAX)
        interp[n++] = file[i++];
    interp[n] = '\0';
    while (i < size && (file[i] == ' ' || file[i] == '\t'))
        i++;
    for (n = 0; i < size && file[i] != '\n' && n < 63;)
        iarg[n++] = file[i++];
    while (n && (iarg[n - 1] == ' ' || iarg[n - 1] == '\t' || iarg[n - 1] == '\r'))
        n--;
    iarg[n] = '\0';
    return interp[0] == '/';
}

/* Read a NULL-terminated vector of strings from the program into
 * `strings` (one after another), pointers into it in out[]. */
static int read_vector(struct lproc *p, uintptr_t va, char **out, int max, char *strings,
                       size_t room)
{
    int n = 0;
    size_t used = 0;
    for (; va; n++) {
        uint64_t ptr;
        if (lx_read(p, va + 8 * (uintptr_t)n, &ptr, 8))
            return -LX_EFAULT;
        if (!ptr)
            break;
        if (n == max || used >= room)
            return -LX_E2BIG;
        int err = lx_read_string(p, ptr, strings + used, room - used);
        if (err)
            return err == -LX_ENAMETOOLONG ? -LX_E2BIG : err;
        out[n] = strings + used;
        used += strlen(strings + used) + 1;
    }
    out[n] = NULL;
    return n;
}

int64_t lx_execve(struct lproc *p, const uint64_t *a)
{
    static char strings[8192];
    static char path[FS_PATH_MAX + 1], interp[FS_PATH_MAX + 1], iarg[64];
    char *argv[36], *envp[33];
    const void *elf;
    size_t size;
    void *owned;
    int err = lx_resolve(p, -100 /* AT_FDCWD */, a[0], path);
    if (err)
        return err;
    if (strcmp(path, "/proc/self/exe") == 0)
        memcpy(path, p->exe, sizeof(path));
    if ((err = lx_find_program(p->fs, path, &elf, &size, &owned)) != 0)
        return err;
    int argc = read_vector(p, a[1], argv, 32, strings, 4096);
    int envc = argc < 0 ? 0 : read_vector(p, a[2], envp, 32, strings + 4096, 4096);
    if (argc < 0 || envc < 0) {
        free(owned);
        return argc < 0 ? argc : envc;
    }
    if (argc == 0) { /* Linux runs it with an empty argv; musl wants argv[0] */
        argv[0] = path;
        argv[1] = NULL;
        argc = 1;
    }
    bool script = shebang(elf, size, interp, iarg);
    if (script) { /* run its interpreter with the script's path */
        free(owned);
        if ((err = lx_find_program(p->fs, interp, &elf, &size, &owned)) != 0)
            return err;
        int extra = iarg[0] ? 2 : 1;
        memmove(argv + extra + 1, argv + 1, (size_t)argc * sizeof(argv[0])); /* with NULL */
        argv[0] = interp;
        if (iarg[0])
            argv[1] = iarg;
        argv[extra] = path;
        argc += extra;
    }
    /* Everything that can refuse the program comes before the point of no
     * return (Linux: ENOEXEC, and ash then runs the file as a script). */
    struct elf_image img;
    if ((err = lx_load_check(elf, size, argc, argv, envc ? envp : NULL, &img)) != 0) {
        free(owned);
        return err;
    }
    /* The point of no return: the old program is gone, and its other
     * threads; a vfork parent goes on (the memory it lent is left alone). */
    lx_vfork_done(p);
    for (unsigned i = 0; i < p->thread_cap; i++) {
        if (i != p->cur && p->threads[i].handle) {
            mica_thread_kill(p->threads[i].handle);
            mica_handle_close(p->threads[i].handle);
            p->threads[i].handle = 0;
        }
    }
    lx_unmap_all(p, true);
    for (int fd = 0; fd < (int)p->fd_cap; fd++) {
        if (p->fds[fd] && p->cloexec[fd]) {
            lx_put_file(p, p->fds[fd]);
            p->fds[fd] = NULL;
        }
    }
    p->sig_pending = p->threads[p->cur].sig_pending = 0;
    lx_signal_recount(p);
    p->threads[p->cur].ss_sp = p->threads[p->cur].ss_size = p->threads[p->cur].ss_flags = 0;
    for (int sig = 1; sig <= 64; sig++)
        if (p->actions[sig].handler != SIG_IGN)
            memset(&p->actions[sig], 0, sizeof(p->actions[sig]));
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    snprintf(p->name, sizeof(p->name), "%s", base);
    memcpy(p->exe, script ? interp : path, sizeof(p->exe));
    uintptr_t entry, sp;
    struct mica_thread_state st;
    memset(&st, 0, sizeof(st));
    int lerr = lx_load(p, elf, &img, argc, argv, envc ? envp : NULL, &entry, &sp);
    free(owned);
    if (lerr != 0) {
        lx_end(p, 11 /* SIGSEGV, as Linux does */, MICA_KILL_WITH_CODE);
        return LX_DEFERRED;
    }
    st.pc = entry;
    st.sp = sp;
    struct mica_msg m = {.info = mica_msg_info(MICA_FAULT_RESUME, 2, 0, 0), .w = {entry, 0}};
    if (mica_thread_write_state(p->thread, &st) != MICA_OK || mica_reply(&m) != MICA_OK)
        lx_end(p, 11, MICA_KILL_WITH_CODE);
    return LX_DEFERRED;
}
