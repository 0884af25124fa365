/*
 * linux: the Linux personality server (see linux.h). procmgr runs it as a
 * service; clients (the shell, tests) ask it to start programs (LX_SPAWN).
 * Every program's syscalls, faults and our own helper threads' reports
 * arrive on the one service endpoint and are told apart by badge:
 *   LX_BADGE | thread << 24 | slot  a program's syscall or fault,
 *   LX_INTERNAL_BADGE      the console reader or the timer thread,
 *   anything else          a client request.
 * Handlers return the syscall's result, or LX_DEFERRED when they saved the
 * reply to answer later.
 */
#include "linux.h"
#include <mica/elf.h>
#include <mica/malloc.h>
#include <mica/proto/linux.h>
#include <mica/proto/procmgr.h>
#include <string.h>

#define SIGILL 4
#define SIGBUS 7
#define SIGSEGV 11
#define SIGINT 2
#define SIG_IGN 1

mica_handle_t lx_console;
static mica_handle_t procmgr;
static const void *bootfs;
static size_t bootfs_size;
static uint64_t unknown_logged[8]; /* a bit per syscall number below 512 */

/* The handler groups the other system calls go through, and for each
 * number below 512 which group answered it first (1 + its index; 0: not
 * seen yet), so that a frequent call goes straight to its group instead of
 * through the chain. */
typedef int64_t (*syscall_group)(struct lproc *p, unsigned nr, const uint64_t *a);
static const syscall_group groups[] = {lx_sys_files, lx_sys_memory, lx_sys_misc};
static uint8_t group_of[512];

/* Where the reply saved by the next receive goes (lx_defer_reply). */
static mica_handle_t *defer_slot;

void lx_defer_reply(mica_handle_t *slot)
{
    defer_slot = slot;
}

void lx_answer(mica_handle_t reply, int64_t result)
{
    struct mica_msg m = {.info = mica_msg_info(MICA_SYSCALL_RETURN, 1, 0, 0),
                         .w = {(uint64_t)result}};
    mica_reply_to_close(reply, &m); /* fails harmlessly if the program is gone */
}

bool lx_grow(void **array, unsigned *cap, unsigned need, size_t size)
{
    if (need <= *cap)
        return true;
    unsigned n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    void *bigger = realloc(*array, (size_t)n * size);
    if (!bigger)
        return false;
    memset((char *)bigger + (size_t)*cap * size, 0, (size_t)(n - *cap) * size);
    *array = bigger;
    *cap = n;
    return true;
}

int lx_fs_connect(mica_handle_t *out)
{
    return pm_lookup(procmgr, "fs", out);
}

int lx_bootfs_find(const char *path, const void **elf, size_t *size)
{
    return mica_cpio_find(bootfs, bootfs_size, path, elf, size);
}

/* ^C typed while we hold the console: SIGINT for the terminal's
 * foreground group (TIOCSPGRP), or every program if none was set: their
 * handler runs, or the default action ends them (signal.c). */
void lx_console_interrupt(void)
{
    for (unsigned i = 0; i < lx_nprocs; i++) {
        struct lproc *p = lx_proc(i);
        if (p->used && !p->zombie && (!lx_tty_pgrp || p->pgid == lx_tty_pgrp))
            lx_signal_send(p, SIGINT);
    }
}

/* "PROGRAM ARG..." -> a started Linux process in a free slot. Arguments
 * are separated by newlines if there are any (lx_spawn_argv), else by
 * spaces. */
static int spawn(char *cmdline, mica_handle_t *out)
{
    char *argv[33], path[FS_PATH_MAX + 1];
    void *owned;
    char sep = strchr(cmdline, '\n') ? '\n' : ' ';
    int argc = 0;
    for (char *s = cmdline; *s && argc < 32;) {
        while (*s == sep)
            *s++ = '\0';
        if (*s)
            argv[argc++] = s;
        while (*s && *s != sep)
            s++;
    }
    argv[argc] = NULL;
    if (argc == 0)
        return MICA_ERR_INVALID_ARGS;
    snprintf(path, sizeof(path), "%s%s", strchr(argv[0], '/') ? "" : "/linux/bin/", argv[0]);
    const void *elf;
    size_t size;
    if (lx_find_program(0, path, &elf, &size, &owned) != 0) /* the bootfs's */
        return MICA_ERR_NOT_FOUND;
    lx_reap();
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    struct lproc *p = lx_new_proc(base);
    if (!p)
        return MICA_ERR_LIMIT;
    memcpy(p->exe, path, sizeof(p->exe));
    lx_fs_connect(&p->fs); /* without it, file calls fail */
    lx_files_init(p);
    struct mica_thread_state st;
    memset(&st, 0, sizeof(st));
    struct elf_image img;
    int lerr = lx_load_check(elf, size, argc, argv, NULL, &img);
    if (!lerr)
        lerr = lx_load(p, elf, &img, argc, argv, NULL, &st.pc, &st.sp);
    int err = lerr == -LX_ENOEXEC ? MICA_ERR_INVALID_ARGS : lerr ? MICA_ERR_NO_MEMORY : MICA_OK;
    if (!err)
        err = lx_start_thread(p, &st, NULL);
    if (!err)
        err = mica_handle_dup(p->process, MICA_RIGHT_MANAGE | MICA_RIGHT_WAIT | MICA_RIGHT_TRANSFER,
                              out);
    if (err) {
        mica_printf("linux: cannot start %s: %s\n", path, mica_status_name(err));
        lx_end(p, 9, MICA_KILL_WITH_CODE);
    }
    return err;
}

/* Every system call but the few that syscall answers at once. */
__attribute__((noinline)) static int64_t syscall_with_args(struct lproc *p, unsigned nr,
                                                           const struct mica_msg *m)
{
    uint64_t a[6] = {m->w[1], m->w[2], m->w[3], m->w[4], m->w[5], 0};
    if (nr == NR_mmap || nr == NR_futex || nr == NR_pselect6) { /* the sixth argument, x5 */
        struct mica_thread_state st;
        if (mica_thread_read_state(p->thread, &st) == MICA_OK)
            a[5] = st.x[5];
    }
    int64_t r;
    switch (nr) {
    case NR_exit:
        if (lx_thread_exit(p))
            return LX_DEFERRED; /* one thread of several */
        lx_end(p, (int)(a[0] & 0xFF), MICA_KILL_AS_EXIT);
        return LX_DEFERRED;
    case NR_exit_group: lx_end(p, (int)(a[0] & 0xFF), MICA_KILL_AS_EXIT); return LX_DEFERRED;
    case NR_clone: return lx_fork(p, a);
    case NR_execve: return lx_execve(p, a);
    case NR_wait4: return lx_wait4(p, a);
    case NR_kill: return lx_kill(p, (int64_t)(int32_t)a[0], (int)a[1]);
    case NR_tkill: return lx_tkill(false, 0, (int)a[0], (int)a[1]);
    case NR_tgkill: return lx_tkill(true, (int)a[0], (int)a[1], (int)a[2]);
    case NR_pipe2: return lx_pipe2(p, a[0], (unsigned)a[1]);
    case NR_ppoll: return lx_ppoll(p, a);
    case NR_pselect6: return lx_pselect6(p, a);
    case NR_rt_sigreturn: return lx_sigreturn(p);
    case NR_rt_sigsuspend: return lx_sigsuspend(p, a[0], a[1]);
    default: break;
    }
    if (nr < 512 && group_of[nr])
        return groups[group_of[nr] - 1](p, nr, a);
    r = -LX_ENOSYS;
    for (unsigned g = 0; g < sizeof(groups) / sizeof(groups[0]) && r == -LX_ENOSYS; g++)
        if ((r = groups[g](p, nr, a)) != -LX_ENOSYS && nr < 512)
            group_of[nr] = (uint8_t)(g + 1);
    if (r == -LX_ENOSYS && nr < 512 && !(unknown_logged[nr / 64] & (1UL << (nr % 64)))) {
        unknown_logged[nr / 64] |= 1UL << (nr % 64);
        mica_printf("linux: %s (pid %d): syscall %u is not implemented (ENOSYS)\n", p->name, p->pid,
                    nr);
    }
    return r;
}

/* A Linux system call from p. What the server knows already is answered
 * first, before any argument is unpacked: getppid is the benchmark of the
 * whole round trip (docs/perf.md). */
static int64_t syscall(struct lproc *p, const struct mica_msg *m)
{
    unsigned nr = (unsigned)m->w[0];
    switch (nr) {
    case NR_getpid: return p->pid;
    case NR_gettid: return p->threads[p->cur].tid;
    case NR_getppid: return p->ppid;
    case NR_rseq: return -LX_ENOSYS; /* as a kernel built without it; not logged */
    default: return syscall_with_args(p, nr, m);
    }
}

/* A program's fault (no signal handlers yet): the signal's default action,
 * unless memory ran out (budget.c); true if m is now a reply (resume). */
static bool fault(struct lproc *p, struct mica_msg *m)
{
    bool resume;
    if (m->w[0] == MICA_FAULT_PAGE && lx_oom(p, m->w[2], m->w[1] & (1UL << 6), &resume)) {
        m->info = mica_msg_info(MICA_FAULT_RESUME, 0, 0, 0);
        return resume;
    }
    int sig = m->w[0] == MICA_FAULT_UNDEFINED   ? SIGILL
              : m->w[0] == MICA_FAULT_ALIGNMENT ? SIGBUS
                                                : SIGSEGV;
    mica_printf("linux: %s (pid %d) killed by signal %d: pc 0x%lx, address 0x%lx (ESR 0x%lx)\n",
                p->name, p->pid, sig, m->w[3], m->w[2], m->w[1]);
    lx_end(p, sig, MICA_KILL_WITH_CODE);
    return false;
}

static bool handle_service(struct mica_msg *m, uint32_t label);

/* One message in m; returns true if m now holds a reply to send. */
static bool handle(struct mica_msg *m)
{
    uint32_t label = MICA_MSG_LABEL(m->info);
    if (LX_BADGE_IS_PROGRAM(m->badge) && LX_BADGE_SLOT(m->badge) < lx_nprocs) {
        struct lproc *p = lx_proc(LX_BADGE_SLOT(m->badge));
        __asm__("" : "+r"(p)); /* keep p in a register, not recomputed at each use */
        unsigned t = LX_BADGE_THREAD(m->badge);
        if (!p->used || p->zombie || t >= p->thread_cap || !p->threads[t].handle) {
            m->info = mica_msg_info(MICA_FAULT_KILL, 0, 0, 0);
            return true;
        }
        p->cur = t; /* the calling thread, for the handlers */
        p->thread = p->threads[t].handle;
        if (label != MICA_SYSCALL_LABEL)
            return fault(p, m);
        int64_t r = syscall(p, m);
        if (r == LX_DEFERRED)
            return false;
        if (p->used && lx_signal_ready(p) && lx_signal_deliver(p, r, 0))
            return false; /* answered by entering a signal handler */
        m->info = mica_msg_info(MICA_SYSCALL_RETURN, 1, 0, 0);
        m->w[0] = (uint64_t)r;
        return true;
    }
    return handle_service(m, label);
}

/* A message that is no program's system call or fault: from our own
 * threads (console input, timer ticks) or a client of the service
 * (LX_SPAWN). Out of line: the receive loop stays lean for system calls. */
__attribute__((noinline)) static bool handle_service(struct mica_msg *m, uint32_t label)
{
    if (m->badge == LX_INTERNAL_BADGE) {
        if (label == LX_INTERNAL_CONSOLE) {
            lx_reap();
            lx_console_line(m);
        } else if (label == LX_INTERNAL_TICK) {
            lx_timer_tick();
        }
        m->info = mica_msg_info(0, 1, 0, 0);
        m->w[0] = MICA_OK;
        return true;
    }
    int64_t status = MICA_ERR_NOT_SUPPORTED;
    unsigned handles = 0;
    if (label == LX_SPAWN && MICA_MSG_WORDS(m->info) >= LX_CMDLINE_WORDS) {
        uint64_t words[LX_CMDLINE_WORDS];
        char cmdline[LX_CMDLINE_MAX + 1];
        for (unsigned i = 0; i < LX_CMDLINE_WORDS; i++)
            words[i] = mica_msg_word(m, i);
        mica_string_unpack(words, LX_CMDLINE_WORDS, cmdline);
        status = spawn(cmdline, &mica_ipc_buffer_here()->handles[0]);
        handles = status == MICA_OK;
    } else if (label == LX_SPAWN) {
        status = MICA_ERR_INVALID_ARGS;
    }
    for (unsigned h = 0; h < MICA_MSG_HANDLES(m->info); h++) /* we take none */
        mica_handle_close(mica_ipc_buffer_here()->handles[h]);
    m->info = mica_msg_info(0, 1, handles, 0);
    m->w[0] = (uint64_t)status;
    return true;
}

int main(const struct mica_bootinfo *bi)
{
    uintptr_t base;
    size_t mapped = (bi->bootfs_size + MICA_PAGE_SIZE - 1) & ~(MICA_PAGE_SIZE - 1);
    mica_handle_t service_ep = bi->startup_handle;
    procmgr = bi->procmgr;
    if (!service_ep || !procmgr || !mica_ipc_buffer_here() ||
        mica_aspace_map(bi->self_aspace, bi->bootfs_vmo, 0, mapped, 0, MICA_MAP_READ, &base)) {
        mica_printf("linux: needs its endpoint, procmgr and the bootfs\n");
        return 1;
    }
    bootfs = (const void *)base;
    bootfs_size = bi->bootfs_size;
    if (lx_budget_init(procmgr) != MICA_OK) {
        mica_printf("linux: cannot make the programs' memory pool\n");
        return 1;
    }
    if (pm_lookup_wait(procmgr, "console", 10000000000UL, &lx_console) != MICA_OK)
        lx_console = 0; /* programs' output goes to the kernel log instead */
    lx_console_init();
    lx_timer_init();
    struct mica_msg m;
    bool reply = false;
    for (;;) {
        int err = reply        ? mica_reply_recv(service_ep, &m)
                  : defer_slot ? mica_recv_saving_reply(service_ep, 0, &m, defer_slot)
                               : mica_recv(service_ep, 0, &m);
        defer_slot = NULL;
        if (err == MICA_ERR_PEER_CLOSED) { /* the caller went away: nothing to answer */
            reply = false;
            continue;
        }
        if (err) {
            mica_printf("linux: receive failed: %s\n", mica_status_name(err));
            return 1;
        }
        reply = handle(&m);
    }
}
