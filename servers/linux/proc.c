/*
 * Linux processes: fork (clone without shared memory), execve, exit with
 * zombies, wait4, kill, and process groups' bookkeeping.
 *
 * fork copies the parent's memory map: read-only regions (program text)
 * and anonymous MAP_SHARED ones share their VMO; the child gets a
 * copy-on-write snapshot of each private writable one (heap, stack, data,
 * private mmap: vmo_create_snapshot), so nothing is copied until one side
 * writes a page, and neither sees the other's writes. Should the kernel
 * refuse a snapshot (a chain at its depth limit), that region is copied
 * instead, the heap only up to the break and the stack only from the page
 * of sp up (what can be in use). The child's thread gets the parent's
 * registers and thread pointer, x0 = 0. Open file descriptions are
 * shared, as Linux shares them.
 *
 * A program that ends stays a zombie with its status while its Linux
 * parent lives, until wait4 takes it; one started by LX_SPAWN (ppid 1) or
 * orphaned is forgotten at once. A parent blocked in wait4 is answered
 * when a child ends.
 */
#include "linux.h"
#include <mica/malloc.h>
#include <string.h>

#define CLONE_VM 0x100
#define CLONE_FS 0x200
#define CLONE_FILES 0x400
#define CLONE_SIGHAND 0x800
#define CLONE_VFORK 0x4000
#define CLONE_THREAD 0x10000
#define CLONE_SETTLS 0x80000
#define CLONE_PARENT_SETTID 0x100000
#define CLONE_CHILD_CLEARTID 0x200000
#define WNOHANG 1
#define SIG_IGN 1
#define SIG_DFL 0
#define SIGCHLD 17

static int next_pid = 2;

struct lproc *lx_by_pid(int pid)
{
    for (unsigned i = 0; i < LX_MAX_PROCS; i++)
        if (procs[i].used && !procs[i].zombie && procs[i].pid == pid)
            return &procs[i];
    return NULL;
}

struct lproc *lx_new_proc(const char *name)
{
    for (unsigned i = 0; i < LX_MAX_PROCS; i++) {
        struct lproc *p = &procs[i];
        if (p->used)
            continue;
        memset(p, 0, sizeof(*p));
        if (mica_process_create_flags(name, MICA_PROCESS_LINUX, &p->process, &p->aspace))
            return NULL;
        p->used = true;
        p->pid = p->pgid = p->sid = next_pid++;
        p->ppid = 1;
        p->umask = 022;
        snprintf(p->name, sizeof(p->name), "%s", name);
        return p;
    }
    return NULL;
}

/* Give p thread number `index` with `st`'s registers; its syscalls come
 * badged with p's slot and the index. */
static int add_thread(struct lproc *p, unsigned index, int tid, const struct mica_thread_state *st)
{
    mica_handle_t fault_ep, t;
    int err = mica_thread_create(p->process, 128, &t);
    if (err)
        return err;
    if ((err = mica_handle_mint(mica_bootinfo->startup_handle, MICA_RIGHT_WRITE,
                                LX_BADGE | (uint64_t)index << 8 | (uint64_t)(p - procs),
                                &fault_ep)) == MICA_OK) {
        err = mica_thread_set_fault_endpoint(t, fault_ep);
        mica_handle_close(fault_ep);
    }
    if (!err)
        err = mica_thread_write_state(t, st);
    if (!err)
        err = mica_thread_start(t, st->pc, st->sp, st->x[0], st->x[1]);
    if (err) {
        mica_handle_close(t);
        return err;
    }
    p->threads[index] = (struct lthread){.handle = t, .tid = tid}; /* no mask, nothing pending */
    return 0;
}

int lx_start_thread(struct lproc *p, const struct mica_thread_state *st)
{
    int err = add_thread(p, 0, p->pid, st);
    p->cur = 0;
    p->thread = p->threads[0].handle;
    return err;
}

/* clone for a thread: same memory, files and signal actions. */
static int64_t new_thread(struct lproc *p, const uint64_t *a, struct mica_thread_state *st)
{
    unsigned index = 1;
    while (index < LX_MAX_THREADS && p->threads[index].handle)
        index++;
    if (index == LX_MAX_THREADS)
        return -LX_EAGAIN;
    int tid = next_pid++;
    st->x[0] = 0;
    st->sp = a[1];
    if (a[0] & CLONE_SETTLS)
        st->tpidr = a[3];
    if ((a[0] & CLONE_PARENT_SETTID) && lx_write(p, a[2], &tid, 4))
        return -LX_EFAULT;
    if (add_thread(p, index, tid, st) != MICA_OK)
        return -LX_EAGAIN;
    p->threads[index].sigmask = p->threads[p->cur].sigmask; /* the creator's */
    if (a[0] & CLONE_CHILD_CLEARTID)
        p->threads[index].clear_tid = a[4];
    return tid;
}

/* SYS_exit of one thread: the process goes on if others remain. */
bool lx_thread_exit(struct lproc *p)
{
    unsigned others = 0;
    for (unsigned i = 0; i < LX_MAX_THREADS; i++)
        others += i != p->cur && p->threads[i].handle;
    if (!others)
        return false;
    uintptr_t ctid = p->threads[p->cur].clear_tid;
    if (ctid && lx_write(p, ctid, &(int32_t){0}, 4) == 0)
        lx_futex_wake(p, ctid, 1); /* pthread_join waits on it */
    mica_thread_kill(p->threads[p->cur].handle);
    mica_handle_close(p->threads[p->cur].handle);
    p->threads[p->cur] = (struct lthread){0}; /* signals sent to it go too */
    p->thread = 0;
    lx_signal_recount(p);
    return true;
}

/* Everything of p but its slot (a zombie keeps pid, ppid and status). */
static void release_resources(struct lproc *p)
{
    lx_console_forget(p);
    lx_timer_forget(p);
    lx_pipe_forget(p);
    lx_poll_forget(p);
    lx_console_restore(p);
    lx_files_close_all(p);
    lx_unmap_all(p, false); /* the address space goes with the process */
    if (p->fs)
        mica_handle_close(p->fs);
    for (unsigned i = 0; i < LX_MAX_THREADS; i++) {
        if (p->threads[i].handle)
            mica_handle_close(p->threads[i].handle);
        if (p->threads[i].suspend_reply)
            mica_handle_close(p->threads[i].suspend_reply);
    }
    mica_handle_close(p->aspace);
    mica_handle_close(p->process);
    p->fs = p->thread = p->aspace = p->process = 0;
    memset(p->threads, 0, sizeof(p->threads));
    if (p->wait_reply)
        mica_handle_close(p->wait_reply);
    p->wait_reply = 0;
    p->sig_pending = p->sig_any = 0;
}

static struct lproc *parent_of(struct lproc *p)
{
    for (unsigned i = 0; i < LX_MAX_PROCS; i++)
        if (procs[i].used && !procs[i].zombie && procs[i].pid == p->ppid)
            return &procs[i];
    return NULL;
}

/* Does child c match wait4's pid argument for parent p? */
static bool matches(struct lproc *p, struct lproc *c, int64_t pid)
{
    if (!c->used || c->ppid != p->pid)
        return false;
    return pid == -1 || (pid > 0 && c->pid == pid) || (pid == 0 && c->pgid == p->pgid) ||
           (pid < -1 && c->pgid == -pid);
}

/* Reap zombie c for p: status to *status_va, the slot freed. */
static int64_t reap(struct lproc *p, struct lproc *c, uintptr_t status_va)
{
    int32_t status = c->term_signal ? c->term_signal : (c->exit_code & 0xFF) << 8;
    int64_t pid = c->pid;
    if (status_va && lx_write(p, status_va, &status, sizeof(status)))
        return -LX_EFAULT;
    memset(c, 0, sizeof(*c));
    return pid;
}

/* A child of p changed: finish p's wait4 if it can. */
static void wake_waiter(struct lproc *p)
{
    if (!p->wait_reply)
        return;
    for (unsigned i = 0; i < LX_MAX_PROCS; i++) {
        struct lproc *c = &procs[i];
        if (c->zombie && matches(p, c, p->wait_pid)) {
            lx_answer(p->wait_reply, reap(p, c, p->wait_status));
            p->wait_reply = 0;
            return;
        }
    }
}

void lx_end(struct lproc *p, int code, unsigned how)
{
    if (p->process)
        mica_process_end(p->process, code, how);
    release_resources(p);
    /* Its children are orphans now: zombies go, the living have no parent. */
    for (unsigned i = 0; i < LX_MAX_PROCS; i++) {
        struct lproc *c = &procs[i];
        if (c->used && c->ppid == p->pid && c != p) {
            if (c->zombie)
                memset(c, 0, sizeof(*c));
            else
                c->ppid = 1;
        }
    }
    struct lproc *parent = parent_of(p);
    if (!parent || parent->actions[SIGCHLD].handler == SIG_IGN) {
        memset(p, 0, sizeof(*p));
        return;
    }
    p->zombie = true;
    p->exit_code = how == MICA_KILL_AS_EXIT ? code : 0;
    p->term_signal = how == MICA_KILL_AS_EXIT ? 0 : code;
    /* SIGCHLD first (ignored unless handled): a handled one interrupts the
     * parent's wait4 with EINTR, as on Linux; else wait4 reaps now. */
    lx_signal_send(parent, SIGCHLD);
    wake_waiter(parent);
}

void lx_reap(void)
{
    int64_t code;
    uint32_t reason;
    for (unsigned i = 0; i < LX_MAX_PROCS; i++) {
        struct lproc *p = &procs[i];
        if (p->used && !p->zombie &&
            mica_process_wait(p->process, MICA_DEADLINE_NONE, &code, &reason) == MICA_OK)
            lx_end(p, reason == MICA_EXIT_NORMAL ? (int)code : 9 /* SIGKILL */,
                   reason == MICA_EXIT_NORMAL ? MICA_KILL_AS_EXIT : MICA_KILL_WITH_CODE);
    }
}

/* Copy [from, to) of region r into a fresh VMO mapped the same in c: one
 * vmo_copy, VMO to VMO inside the kernel. */
static int copy_region(struct lproc *c, const struct region *r, uintptr_t from, uintptr_t to)
{
    uintptr_t va;
    int err = lx_map_new(c, r->start, r->size, r->prot, true, &va);
    if (!err && to > from) {
        const struct region *copy = &c->regions[c->n_regions - 1]; /* the new one, offset 0 */
        if (mica_vmo_copy(copy->vmo, from - r->start, r->vmo, r->offset + (from - r->start),
                          to - from) != MICA_OK)
            err = -LX_ENOMEM;
    }
    return err;
}

/* Map snapshot `snap` of private region r the same in c. */
static int add_snapshot(struct lproc *c, const struct region *r, mica_handle_t snap)
{
    if (c->n_regions == LX_MAX_REGIONS ||
        (r->prot && mica_aspace_map(c->aspace, snap, 0, r->size, r->start, r->prot | MICA_MAP_FIXED,
                                    NULL) != MICA_OK)) {
        mica_handle_close(snap);
        return -LX_ENOMEM;
    }
    c->regions[c->n_regions++] = (struct region){r->start, r->size, snap, 0, r->prot, false};
    return 0;
}

static int copy_memory(struct lproc *p, struct lproc *c, uintptr_t sp)
{
    for (unsigned i = 0; i < p->n_regions; i++) {
        const struct region *r = &p->regions[i];
        uintptr_t from = r->start, to = r->start + r->size;
        int err;
        if (r->shared || (!(r->prot & MICA_MAP_WRITE) && r->prot)) { /* MAP_SHARED, text: shared */
            mica_handle_t vmo;
            uint32_t rights;
            err = mica_handle_info(r->vmo, NULL, &rights, NULL) ||
                          mica_handle_dup(r->vmo, rights, &vmo) || c->n_regions == LX_MAX_REGIONS
                      ? -LX_ENOMEM
                      : 0;
            if (!err && r->prot &&
                mica_aspace_map(c->aspace, vmo, r->offset, r->size, r->start,
                                r->prot | MICA_MAP_FIXED, NULL) != MICA_OK)
                err = -LX_ENOMEM;
            if (!err)
                c->regions[c->n_regions++] =
                    (struct region){r->start, r->size, vmo, r->offset, r->prot, r->shared};
            if (err)
                return err;
            continue;
        }
        mica_handle_t snap;
        if (mica_vmo_create_snapshot(r->vmo, r->offset, r->size, &snap) == MICA_OK) {
            if ((err = add_snapshot(c, r, snap)) != 0)
                return err;
            continue;
        }
        if (sp >= from && sp < to) /* the stack: only what is in use */
            from = sp & ~(MICA_PAGE_SIZE - 1);
        if (p->brk_base == from) /* the heap: only up to the break */
            to = from + ((p->brk - from + MICA_PAGE_SIZE - 1) & ~(MICA_PAGE_SIZE - 1));
        if ((err = copy_region(c, r, from, to)) != 0)
            return err;
    }
    return 0;
}

int64_t lx_fork(struct lproc *p, const uint64_t *a)
{
    uint64_t flags = a[0];
    struct mica_thread_state st;
    if (mica_thread_read_state(p->thread, &st) != MICA_OK)
        return -LX_EIO;
    if (flags & CLONE_THREAD) {
        if ((flags & (CLONE_VM | CLONE_SIGHAND)) != (CLONE_VM | CLONE_SIGHAND) || !a[1])
            return -LX_EINVAL;
        return new_thread(p, a, &st);
    }
    if ((flags & CLONE_VM) && !(flags & CLONE_VFORK))
        return -LX_EINVAL; /* shared memory without a thread: not here */
    lx_reap();
    struct lproc *c = lx_new_proc(p->name);
    if (!c)
        return -LX_EAGAIN;
    c->ppid = p->pid;
    c->pgid = p->pgid;
    c->sid = p->sid;
    c->umask = p->umask;
    memcpy(c->actions, p->actions, sizeof(c->actions));
    memcpy(c->cwd, p->cwd, sizeof(c->cwd));
    memcpy(c->exe, p->exe, sizeof(c->exe));
    c->brk_base = p->brk_base;
    c->brk = p->brk;
    c->mmap_next = p->mmap_next;
    mica_handle_dup(p->fs, MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE, &c->fs);
    for (int fd = 0; fd < LX_MAX_FDS; fd++)
        if ((c->fds[fd] = p->fds[fd]) != NULL)
            c->fds[fd]->refs++;
    c->cloexec = p->cloexec;
    int err = copy_memory(p, c, st.sp);
    if (!err) {
        st.x[0] = 0; /* the child's fork() returns 0 */
        if (a[1])
            st.sp = a[1];
        if (flags & CLONE_SETTLS)
            st.tpidr = a[3];
        err = lx_start_thread(c, &st) ? -LX_ENOMEM : 0;
    }
    if (!err) { /* the forking thread's sigaltstack and signal mask go with it */
        c->threads[0].ss_sp = p->threads[p->cur].ss_sp;
        c->threads[0].ss_size = p->threads[p->cur].ss_size;
        c->threads[0].ss_flags = p->threads[p->cur].ss_flags;
        c->threads[0].sigmask = p->threads[p->cur].sigmask;
    }
    if (err) {
        mica_process_kill(c->process);
        release_resources(c);
        memset(c, 0, sizeof(*c));
        return err;
    }
    return c->pid;
}

int64_t lx_wait4(struct lproc *p, const uint64_t *a)
{
    int64_t pid = (int64_t)a[0];
    bool any = false;
    if (a[2] & ~(uint64_t)(WNOHANG | 2 | 8 | 0x40000000))
        return -LX_EINVAL;
    lx_reap();
    for (unsigned i = 0; i < LX_MAX_PROCS; i++) {
        struct lproc *c = &procs[i];
        if (!matches(p, c, pid))
            continue;
        if (c->zombie)
            return reap(p, c, a[1]);
        any = true;
    }
    if (!any)
        return -LX_ECHILD;
    if (a[2] & WNOHANG)
        return 0;
    if (p->wait_reply || mica_reply_save(&p->wait_reply) != MICA_OK)
        return -LX_EINTR;
    p->wait_thread = p->cur;
    p->wait_pid = pid;
    p->wait_status = a[1];
    return LX_DEFERRED;
}

int64_t lx_kill(struct lproc *p, int64_t pid, int sig)
{
    bool found = false;
    if (sig < 0 || sig > 64)
        return -LX_EINVAL;
    for (unsigned i = 0; i < LX_MAX_PROCS; i++) {
        struct lproc *t = &procs[i];
        if (!t->used || t->zombie)
            continue;
        bool hit = pid > 0     ? t->pid == pid
                   : pid == 0  ? t->pgid == p->pgid
                   : pid == -1 ? t != p
                               : t->pgid == -pid;
        if (!hit)
            continue;
        found = true;
        if (sig)
            lx_signal_send(t, sig); /* default action, ignore, or its handler */
    }
    return found ? 0 : -LX_ESRCH;
}

int64_t lx_tkill(struct lproc *p, int tgid, int tid, int sig)
{
    if (sig < 0 || sig > 64 || tid <= 0 || tgid < 0)
        return -LX_EINVAL;
    for (unsigned i = 0; i < LX_MAX_PROCS; i++) {
        struct lproc *t = &procs[i];
        if (!t->used || t->zombie || (tgid && t->pid != tgid))
            continue;
        for (unsigned k = 0; k < LX_MAX_THREADS; k++) {
            if (t->threads[k].handle && t->threads[k].tid == tid) {
                if (sig)
                    lx_signal_send_thread(t, (int)k, sig);
                return 0;
            }
        }
    }
    (void)p;
    return -LX_ESRCH;
}

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
    /* The point of no return: the old program is gone, and its other threads. */
    for (unsigned i = 0; i < LX_MAX_THREADS; i++) {
        if (i != p->cur && p->threads[i].handle) {
            mica_thread_kill(p->threads[i].handle);
            mica_handle_close(p->threads[i].handle);
            p->threads[i].handle = 0;
        }
    }
    lx_unmap_all(p, true);
    for (int fd = 0; fd < LX_MAX_FDS; fd++) {
        if (p->fds[fd] && (p->cloexec & (1u << fd))) {
            lx_put_file(p, p->fds[fd]);
            p->fds[fd] = NULL;
        }
    }
    p->cloexec = 0;
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
    int lerr = lx_load(p, elf, size, argc, argv, envc ? envp : NULL, &entry, &sp);
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
