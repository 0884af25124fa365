/*
 * Linux processes: fork (clone without shared memory) and threads, exit
 * with zombies, wait4, kill, and process groups' bookkeeping (execve is in
 * exec.c).
 *
 * fork copies the parent's memory map: read-only regions (program text)
 * and anonymous MAP_SHARED ones share their VMO (a private one is marked
 * cow_shared, and either side that makes it writable first takes a
 * snapshot of its own: memory.c); the child gets a
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
#define RLIM_INFINITY (~0UL)

static int next_pid = 2;

struct lproc *lx_by_pid(int pid)
{
    for (unsigned i = 0; i < lx_nprocs; i++)
        if (lx_proc(i)->used && !lx_proc(i)->zombie && lx_proc(i)->pid == pid)
            return lx_proc(i);
    return NULL;
}

/* The slots: chunks of SLOTS_PER_CHUNK, allocated as programs come. */
#define SLOTS_PER_CHUNK 64
static struct lproc **chunks;
static unsigned n_chunks;
unsigned lx_nprocs;

struct lproc *lx_proc(unsigned slot)
{
    return &chunks[slot / SLOTS_PER_CHUNK][slot % SLOTS_PER_CHUNK];
}

/* A free slot, a new chunk of them if all are used; NULL without memory. */
static struct lproc *free_slot(void)
{
    for (unsigned i = 0; i < lx_nprocs; i++)
        if (!lx_proc(i)->used)
            return lx_proc(i);
    if (lx_nprocs >= 0xFFFFFF) /* what the badge can name */
        return NULL;
    struct lproc *chunk = calloc(SLOTS_PER_CHUNK, sizeof(*chunk));
    if (!chunk ||
        !lx_grow((void **)&chunks, &n_chunks, lx_nprocs / SLOTS_PER_CHUNK + 1, sizeof(*chunks))) {
        free(chunk);
        return NULL;
    }
    chunks[lx_nprocs / SLOTS_PER_CHUNK] = chunk;
    for (unsigned i = 0; i < SLOTS_PER_CHUNK; i++)
        chunk[i].slot = lx_nprocs + i;
    lx_nprocs += SLOTS_PER_CHUNK;
    return lx_proc(lx_nprocs - SLOTS_PER_CHUNK);
}

void lx_forget_proc(struct lproc *p)
{
    unsigned slot = p->slot;
    free(p->threads);
    free(p->regions);
    free(p->fds);
    free(p->cloexec);
    memset(p, 0, sizeof(*p));
    p->slot = slot;
}

bool lx_thread_room(struct lproc *p, unsigned index)
{
    return index < LX_MAX_THREADS &&
           lx_grow((void **)&p->threads, &p->thread_cap, index + 1, sizeof(*p->threads));
}

static unsigned living_programs(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < lx_nprocs; i++)
        n += lx_proc(i)->used && !lx_proc(i)->zombie;
    return n;
}

struct lproc *lx_new_proc(const char *name)
{
    struct lproc *p = free_slot();
    if (!p)
        return NULL;
    lx_forget_proc(p);
    if (!lx_thread_room(p, 0) || !lx_fd_room(p, 2) ||
        mica_process_create_under(name, MICA_PROCESS_LINUX, lx_pool, &p->process, &p->aspace)) {
        lx_forget_proc(p);
        return NULL;
    }
    p->used = true;
    p->pid = p->pgid = p->sid = next_pid++;
    p->ppid = 1;
    p->umask = 022;
    static const uint64_t defaults[LX_RLIMITS][2] = {
        [LX_RLIMIT_STACK] = {LX_STACK_SIZE, RLIM_INFINITY},
        [LX_RLIMIT_DATA] = {RLIM_INFINITY, RLIM_INFINITY},
        [LX_RLIMIT_NOFILE] = {LX_NOFILE, LX_NOFILE_MAX},
        [LX_RLIMIT_AS] = {RLIM_INFINITY, RLIM_INFINITY},
        [LX_RLIMIT_NPROC] = {RLIM_INFINITY, RLIM_INFINITY},
    };
    memcpy(p->rlimits, defaults, sizeof(defaults));
    snprintf(p->name, sizeof(p->name), "%s", name);
    return p;
}

/* Give p thread number `index` with `st`'s registers; its syscalls come
 * badged with p's slot and the index. */
static int add_thread(struct lproc *p, unsigned index, int tid, const struct mica_thread_state *st,
                      const struct mica_fp_state *fp)
{
    mica_handle_t fault_ep, t;
    int err = mica_thread_create_for(p->process, p->process, 128, &t); /* its stack: p's */
    if (err)
        return err;
    if ((err = mica_handle_mint(mica_bootinfo->startup_handle, MICA_RIGHT_WRITE,
                                LX_BADGE | (uint64_t)index << 24 | p->slot, &fault_ep)) ==
        MICA_OK) {
        err = mica_thread_set_fault_endpoint(t, fault_ep);
        mica_handle_close(fault_ep);
    }
    if (!err)
        err = mica_thread_write_state(t, st);
    if (!err && fp) /* fork and clone copy the FP/SIMD registers, FPCR and FPSR too */
        err = mica_thread_write_fp(t, fp);
    if (!err)
        err = mica_thread_start(t, st->pc, st->sp, st->x[0], st->x[1]);
    if (err) {
        mica_handle_close(t);
        return err;
    }
    p->threads[index] = (struct lthread){.handle = t, .tid = tid}; /* no mask, nothing pending */
    return 0;
}

int lx_start_thread(struct lproc *p, const struct mica_thread_state *st,
                    const struct mica_fp_state *fp)
{
    int err = add_thread(p, 0, p->pid, st, fp);
    p->cur = 0;
    p->thread = p->threads[0].handle;
    return err;
}

/* clone for a thread: same memory, files and signal actions. */
static int64_t new_thread(struct lproc *p, const uint64_t *a, struct mica_thread_state *st,
                          const struct mica_fp_state *fp)
{
    unsigned index = 1;
    while (index < p->thread_cap && p->threads[index].handle)
        index++;
    if (!lx_thread_room(p, index))
        return -LX_EAGAIN;
    int tid = next_pid++;
    st->x[0] = 0;
    st->sp = a[1];
    if (a[0] & CLONE_SETTLS)
        st->tpidr = a[3];
    if ((a[0] & CLONE_PARENT_SETTID) && lx_write(p, a[2], &tid, 4))
        return -LX_EFAULT;
    if (add_thread(p, index, tid, st, fp) != MICA_OK)
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
    for (unsigned i = 0; i < p->thread_cap; i++)
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
    lx_vfork_done(p);
    lx_console_forget(p);
    lx_timer_forget(p);
    lx_pipe_forget(p);
    lx_poll_forget(p);
    lx_console_restore(p);
    lx_files_close_all(p);
    lx_unmap_all(p, false); /* the address space goes with the process */
    if (p->fs)
        mica_handle_close(p->fs);
    for (unsigned i = 0; i < p->thread_cap; i++) {
        if (p->threads[i].handle)
            mica_handle_close(p->threads[i].handle);
        if (p->threads[i].suspend_reply)
            mica_handle_close(p->threads[i].suspend_reply);
    }
    mica_handle_close(p->aspace);
    mica_handle_close(p->process);
    p->fs = p->thread = p->aspace = p->process = 0;
    memset(p->threads, 0, p->thread_cap * sizeof(*p->threads));
    if (p->wait_reply)
        mica_handle_close(p->wait_reply);
    p->wait_reply = 0;
    p->sig_pending = p->sig_any = 0;
}

static struct lproc *parent_of(struct lproc *p)
{
    for (unsigned i = 0; i < lx_nprocs; i++)
        if (lx_proc(i)->used && !lx_proc(i)->zombie && lx_proc(i)->pid == p->ppid)
            return lx_proc(i);
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
    lx_forget_proc(c);
    return pid;
}

/* A child of p changed: finish p's wait4 if it can. */
static void wake_waiter(struct lproc *p)
{
    if (!p->wait_reply)
        return;
    for (unsigned i = 0; i < lx_nprocs; i++) {
        struct lproc *c = lx_proc(i);
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
    for (unsigned i = 0; i < lx_nprocs; i++) {
        struct lproc *c = lx_proc(i);
        if (c->used && c->ppid == p->pid && c != p) {
            if (c->zombie)
                lx_forget_proc(c);
            else
                c->ppid = 1;
        }
    }
    struct lproc *parent = parent_of(p);
    if (!parent || parent->actions[SIGCHLD].handler == SIG_IGN) {
        lx_forget_proc(p);
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
    for (unsigned i = 0; i < lx_nprocs; i++) {
        struct lproc *p = lx_proc(i);
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
    if (!lx_region_room(c) ||
        (r->prot && mica_aspace_map(c->aspace, snap, 0, r->size, r->start, r->prot | MICA_MAP_FIXED,
                                    NULL) != MICA_OK)) {
        mica_handle_close(snap);
        return -LX_ENOMEM;
    }
    c->regions[c->n_regions++] =
        (struct region){r->start, r->size, snap, 0, r->prot, false, false, false};
    return 0;
}

/* *vmo without its WRITE right from now on (a private region about to be
 * shared read-only with a fork child: memory.c's cow_shared). */
static int drop_write(mica_handle_t *vmo, uint32_t *rights)
{
    mica_handle_t ro;
    if (!(*rights & MICA_RIGHT_WRITE))
        return 0;
    *rights &= ~MICA_RIGHT_WRITE;
    if (mica_handle_dup(*vmo, *rights, &ro) != MICA_OK)
        return -LX_ENOMEM;
    mica_handle_close(*vmo);
    *vmo = ro;
    return 0;
}

static int copy_memory(struct lproc *p, struct lproc *c, uintptr_t sp)
{
    for (unsigned i = 0; i < p->n_regions; i++) {
        struct region *r = &p->regions[i];
        uintptr_t from = r->start, to = r->start + r->size;
        int err;
        /* MAP_SHARED and text: shared. Not what a vfork child borrowed: the
         * lender may still write it, so the grandchild takes a snapshot. */
        if (r->shared || (!(r->prot & MICA_MAP_WRITE) && r->prot && !r->borrowed)) {
            mica_handle_t vmo;
            uint32_t rights;
            err = mica_handle_info(r->vmo, NULL, &rights, NULL) || !lx_region_room(c) ? -LX_ENOMEM
                                                                                      : 0;
            if (!err && !r->shared && (err = drop_write(&r->vmo, &rights)) == 0)
                r->cow_shared = true; /* shared read-only: neither side may write it */
            if (!err && mica_handle_dup(r->vmo, rights, &vmo) != MICA_OK)
                err = -LX_ENOMEM;
            if (!err && r->prot &&
                mica_aspace_map(c->aspace, vmo, r->offset, r->size, r->start,
                                r->prot | MICA_MAP_FIXED, NULL) != MICA_OK)
                err = -LX_ENOMEM;
            if (err)
                return err;
            r->cow_shared = !r->shared; /* both sides unshare it to write (memory.c) */
            c->regions[c->n_regions++] = (struct region){
                r->start, r->size, vmo, r->offset, r->prot, r->shared, r->cow_shared, false};
            continue;
        }
        mica_handle_t snap;
        if (lx_vmo_snapshot(c, r->vmo, r->offset, r->size, &snap) == MICA_OK) {
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

/* vfork's child: every region of p, on the same VMOs with the same
 * rights and protection (a shared read-only one stays unwritable). */
static int share_memory(struct lproc *p, struct lproc *c)
{
    for (unsigned i = 0; i < p->n_regions; i++) {
        struct region *r = &p->regions[i];
        mica_handle_t vmo;
        uint32_t rights;
        if (!lx_region_room(c) || mica_handle_info(r->vmo, NULL, &rights, NULL) ||
            mica_handle_dup(r->vmo, rights, &vmo))
            return -LX_ENOMEM;
        struct region copy = *r;
        copy.vmo = vmo;
        copy.borrowed = !r->shared; /* the parent may write it: never share it on */
        c->regions[c->n_regions++] = copy;
        if (r->prot && mica_aspace_map(c->aspace, vmo, r->offset, r->size, r->start,
                                       r->prot | MICA_MAP_FIXED, NULL) != MICA_OK)
            return -LX_ENOMEM;
    }
    return 0;
}

int64_t lx_fork(struct lproc *p, const uint64_t *a)
{
    uint64_t flags = a[0];
    struct mica_thread_state st;
    struct mica_fp_state fp;
    if (mica_thread_read_state(p->thread, &st) != MICA_OK ||
        mica_thread_read_fp(p->thread, &fp) != MICA_OK)
        return -LX_EIO;
    if (flags & CLONE_THREAD) {
        if ((flags & (CLONE_VM | CLONE_SIGHAND)) != (CLONE_VM | CLONE_SIGHAND) || !a[1])
            return -LX_EINVAL;
        return new_thread(p, a, &st, &fp);
    }
    if ((flags & CLONE_VM) && !(flags & CLONE_VFORK))
        return -LX_EINVAL; /* shared memory without a thread: not here */
    lx_reap();
    if (living_programs() >= p->rlimits[LX_RLIMIT_NPROC][0])
        return -LX_EAGAIN;
    struct lproc *c = lx_new_proc(p->name);
    if (!c)
        return -LX_EAGAIN;
    lx_budget_inherit(c, p);
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
    memcpy(c->rlimits, p->rlimits, sizeof(c->rlimits));
    /* Its own fs identity: the files it opens count against its own budget
     * (the descriptions it inherits keep the handle they were opened with). */
    if (lx_fs_connect(&c->fs) != MICA_OK)
        mica_handle_dup(p->fs, MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE, &c->fs);
    if (!lx_fd_table(c, p->fd_cap)) { /* (descriptors past a lowered limit stay open) */
        mica_process_kill(c->process);
        release_resources(c);
        lx_forget_proc(c);
        return -LX_ENOMEM;
    }
    for (unsigned fd = 0; fd < p->fd_cap; fd++) {
        if ((c->fds[fd] = p->fds[fd]) != NULL)
            c->fds[fd]->refs++;
        c->cloexec[fd] = p->cloexec[fd];
    }
    /* vfork (CLONE_VM|CLONE_VFORK): the child borrows the parent's memory,
     * which waits for it to exec or end, as on Linux. */
    int err = (flags & CLONE_VM) ? share_memory(p, c) : copy_memory(p, c, st.sp);
    if (!err) {
        st.x[0] = 0; /* the child's fork() returns 0 */
        if (a[1])
            st.sp = a[1];
        if (flags & CLONE_SETTLS)
            st.tpidr = a[3];
        err = lx_start_thread(c, &st, &fp) ? -LX_ENOMEM : 0;
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
        lx_forget_proc(c);
        return err;
    }
    if (flags & CLONE_VFORK) { /* answered by lx_vfork_done */
        lx_defer_reply(&c->vfork_reply);
        return LX_DEFERRED;
    }
    return c->pid;
}

/* The child of a vfork execs or ends: its parent's vfork returns now. */
void lx_vfork_done(struct lproc *c)
{
    if (c->vfork_reply)
        lx_answer(c->vfork_reply, c->pid);
    c->vfork_reply = 0;
}

int64_t lx_wait4(struct lproc *p, const uint64_t *a)
{
    int64_t pid = (int64_t)a[0];
    bool any = false;
    if (a[2] & ~(uint64_t)(WNOHANG | 2 | 8 | 0x40000000))
        return -LX_EINVAL;
    lx_reap();
    for (unsigned i = 0; i < lx_nprocs; i++) {
        struct lproc *c = lx_proc(i);
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
    for (unsigned i = 0; i < lx_nprocs; i++) {
        struct lproc *t = lx_proc(i);
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

int64_t lx_tkill(bool tgkill, int tgid, int tid, int sig)
{
    if (sig < 0 || sig > 64 || tid <= 0 || (tgkill && tgid <= 0))
        return -LX_EINVAL;
    for (unsigned i = 0; i < lx_nprocs; i++) {
        struct lproc *t = lx_proc(i);
        if (!t->used || t->zombie || (tgkill && t->pid != tgid))
            continue;
        for (unsigned k = 0; k < t->thread_cap; k++) {
            if (t->threads[k].handle && t->threads[k].tid == tid) {
                if (sig)
                    lx_signal_send_thread(t, (int)k, sig);
                return 0;
            }
        }
    }
    return -LX_ESRCH;
}
