/*
 * servers/linux: the Linux personality. Each Linux program is a Mica
 * process created with MICA_PROCESS_LINUX; its `svc #0` arrive here as
 * MICA_SYSCALL_LABEL messages on our endpoint (the badge says whose), and
 * we answer with the result for x0. This server owns everything Linux
 * about those processes: their memory map, file descriptors, pids, signal
 * state. docs/linux.md describes what is implemented.
 *
 * One thread serves every program, so a syscall handler never blocks:
 * calls that must wait (sleeps, console reads) save the reply and finish
 * later (time.c, files.c).
 */
#ifndef LINUX_H
#define LINUX_H

#include <mica/cap.h>
#include <mica/proto/fs.h>
#include <stdbool.h>

#include "errno.h"

/* Limits (docs/linux.md): programs are bounded by memory (and by the
 * kernel's limit on our handles); per program, threads by LX_MAX_THREADS,
 * mappings by LX_MAX_REGIONS, descriptors by RLIMIT_NOFILE (soft
 * LX_NOFILE, hard LX_NOFILE_MAX). Tables grow as they are used. */
#define LX_MAX_THREADS 512
#define LX_MAX_REGIONS 2048 /* each holds a VMO handle of ours: see docs/linux.md */
#define LX_NOFILE 1024
#define LX_NOFILE_MAX 65536
#define LX_BADGE 0x4C58000000000000UL /* | thread << 24 | slot: a program's syscalls */
#define LX_BADGE_SLOT(b) ((unsigned)((b)&0xFFFFFF))
#define LX_BADGE_THREAD(b) ((unsigned)((b) >> 24) & 0xFFFFFF)
#define LX_BADGE_IS_PROGRAM(b) (((b) >> 48) == (LX_BADGE >> 48))
#define LX_DEFERRED INT64_MIN                  /* a handler saved the reply; nothing to send now */
#define LX_INTERNAL_BADGE 0x4C59000000000000UL /* our own threads' reports */
#define LX_INTERNAL_CONSOLE 100                /* reader thread: a line (console.c) */
#define LX_INTERNAL_TICK 101                   /* timer thread: a deadline passed (misc.c) */

/* User address space layout of a Linux program. */
#define LX_STACK_TOP 0x0000007FFFFF0000UL
#define LX_STACK_SIZE (8UL << 20) /* RLIMIT_STACK's default, as Linux's */
#define LX_STACK_MIN (128UL << 10)
#define LX_STACK_MAX (1UL << 30)
#define LX_MMAP_TOP 0x0000007F00000000UL /* mmap grows down from here */
#define LX_BRK_MAX (8UL << 20)           /* room reserved for the heap (then mmap) */
#define LX_SIGRETURN_VA LX_STACK_TOP     /* a page: mov x8, #139; svc #0 */
#define LX_PIE_BASE 0x10000000UL         /* where a static-PIE program is placed */

/* A piece of the program's memory and the VMO behind it. */
struct region {
    uintptr_t start;
    size_t size;
    mica_handle_t vmo;
    uint64_t offset; /* of start within the VMO */
    unsigned prot;   /* as mapped (MICA_MAP_*); 0: reserved only */
    bool shared;     /* MAP_SHARED|MAP_ANONYMOUS: fork gives the child the same VMO */
    bool cow_shared; /* private, but read-only at a fork that shared its VMO: made a
                      * snapshot of its own before it may be written (mprotect) */
    bool borrowed;   /* a vfork child's view of its parent's private memory */
};

enum fd_kind { FD_CONSOLE = 1, FD_NULL, FD_FILE, FD_DIR, FD_PIPE_READ, FD_PIPE_WRITE };

/* An open file description; descriptors (dup) share it. */
struct lfile {
    unsigned refs;
    enum fd_kind kind;
    mica_handle_t fs;   /* FD_FILE, FD_DIR: the fs handle it was opened with */
    uint64_t fs_fd;     /* and the fs server's number for it */
    struct pipe *pipe;  /* FD_PIPE_*: the pipe */
    unsigned flags;     /* O_APPEND, O_NONBLOCK, the access mode */
    unsigned dir_index; /* FD_DIR: next entry for getdents64 */
    char path[FS_PATH_MAX + 1];
};

struct sigaction_k {
    uint64_t handler, flags, restorer, mask;
};

/* The rlimits we honour (getrlimit, setrlimit, prlimit64). */
enum {
    LX_RLIMIT_STACK,
    LX_RLIMIT_DATA,
    LX_RLIMIT_NOFILE,
    LX_RLIMIT_AS,
    LX_RLIMIT_NPROC,
    LX_RLIMITS
};

struct lproc {
    bool used;
    unsigned slot; /* lx_proc(slot) == this: the badge of its syscalls says it */
    int pid, ppid, pgid, sid;
    char name[32];
    mica_handle_t process, aspace;
    mica_handle_t thread; /* the thread whose syscall is being handled (threads[cur]) */
    struct lthread {
        mica_handle_t handle; /* 0: a free entry */
        int tid;
        uintptr_t clear_tid; /* CLONE_CHILD_CLEARTID: zeroed and woken at its exit */
        uintptr_t ss_sp;     /* sigaltstack: the alternate signal stack (size 0: none) */
        size_t ss_size;
        unsigned ss_flags;           /* as set: SS_DISABLE, SS_AUTODISARM */
        uint64_t sigmask;            /* blocked signals (rt_sigprocmask is per thread) */
        uint64_t sig_pending;        /* sent to this thread: tkill, tgkill (raise) */
        bool sigsuspended;           /* in rt_sigsuspend: */
        uint64_t suspend_saved_mask; /* the mask to restore after the handler */
        mica_handle_t suspend_reply;
    } * threads; /* thread_cap entries (handle 0: free) */
    unsigned thread_cap;
    unsigned cur;
    mica_handle_t fs;       /* this program's own fs handle (own badge, own open files) */
    struct region *regions; /* region_cap entries, n_regions used */
    unsigned n_regions, region_cap;
    unsigned region_hint; /* where find_region last found an address: tried first */
    uintptr_t brk_base, brk, mmap_next;
    struct lfile **fds; /* fd_cap descriptors, and a close-on-exec flag each */
    bool *cloexec;
    unsigned fd_cap;
    uint64_t rlimits[LX_RLIMITS][2]; /* soft, hard */
    char cwd[FS_PATH_MAX + 1];
    unsigned umask;
    uint64_t tid_address;
    struct sigaction_k actions[65];
    char exe[FS_PATH_MAX + 1];  /* the bootfs path of its program (/proc/self/exe) */
    bool zombie;                /* ended, waiting for its parent's wait4 */
    int exit_code, term_signal; /* how it ended (a zombie's) */
    mica_handle_t wait_reply;   /* a waiting wait4's saved reply, or 0 */
    unsigned wait_thread;       /* the thread waiting in it */
    uint64_t sig_pending;       /* sent to the process, with handlers, not yet delivered */
    uint64_t sig_any;           /* sig_pending and every thread's together (0: none) */
    int64_t wait_pid;
    uintptr_t wait_status;
    mica_handle_t vfork_reply; /* a vfork child's: its parent's saved reply */
};

/* Every program's slot (proc.c): slots 0..lx_nprocs-1, in chunks that
 * never move, so a struct lproc pointer stays valid while others come. */
extern unsigned lx_nprocs;
struct lproc *lx_proc(unsigned slot);
/* Room for one more region, descriptor up to fd, thread up to index:
 * false if a limit or memory says no (memory.c, files.c, proc.c). */
bool lx_region_room(struct lproc *p);
bool lx_fd_room(struct lproc *p, unsigned fd);
bool lx_fd_table(struct lproc *p, unsigned n); /* n descriptors, whatever the limit */
bool lx_thread_room(struct lproc *p, unsigned index);
void lx_forget_proc(struct lproc *p); /* its tables freed, the slot free */
extern mica_handle_t lx_console;      /* the uart driver's "console", or 0 */

/* Make *array (of *cap elements of `size` bytes) hold at least `need`,
 * zeroing what is new; false if memory ran out (main.c). Elements may
 * move: callers index them, never keep pointers across a grow. */
bool lx_grow(void **array, unsigned *cap, unsigned need, size_t size);

/* Finish a syscall whose reply was saved: result into x0 (main.c). */
void lx_answer(mica_handle_t reply, int64_t result);
/* A handler about to return LX_DEFERRED: the reply owed to the caller is
 * saved by the server's next receive (MICA_MSG_SAVE_REPLY) into *slot,
 * which must stay valid until then (0 there: the caller already left). */
void lx_defer_reply(mica_handle_t *slot);

/* memory.c: the program's memory seen from here, and its map. lx_read
 * and lx_write see it as the program does (a page it may not read or
 * write is -EFAULT); lx_fill writes a private region whatever its
 * protection, for the personality's own loading into memory it has just
 * mapped (ELF segments, the first stack, a file's mmap). */
enum lx_access { LX_FOR_READ, LX_FOR_WRITE, LX_FOR_LOAD, LX_FOR_PEEK /* mremap's move */ };
int lx_read(struct lproc *p, uintptr_t va, void *buf, size_t len); /* 0 or -EFAULT */
int lx_write(struct lproc *p, uintptr_t va, const void *buf, size_t len);
int lx_fill(struct lproc *p, uintptr_t va, const void *buf, size_t len);
int lx_read_string(struct lproc *p, uintptr_t va, char *buf, size_t size); /* -ENAMETOOLONG */
/* len bytes from src's memory to dst's, VMO to VMO in the kernel: 0 or -EFAULT. */
int lx_transfer(struct lproc *dst, uintptr_t dst_va, struct lproc *src, uintptr_t src_va,
                size_t len);
int lx_map_new(struct lproc *p, uintptr_t va, size_t size, unsigned prot, bool fixed,
               uintptr_t *out);
/* The one way a VMO or a snapshot is made for p's memory: charged to p's
 * process, under its limit and the programs' pool (budget.c). */
int lx_vmo_create(struct lproc *p, size_t size, mica_handle_t *out);
int lx_vmo_snapshot(struct lproc *p, mica_handle_t vmo, uint64_t offset, size_t size,
                    mica_handle_t *out);
/* May p read (or write) va, as we mapped it? */
bool lx_mapped(struct lproc *p, uintptr_t va, bool write);
/* Close every region's VMO; unmap them too unless the address space dies anyway. */
void lx_unmap_all(struct lproc *p, bool unmap);
int64_t lx_sys_memory(struct lproc *p, unsigned nr, const uint64_t *a);

/* budget.c: the programs' pool, their limits, the OOM killer */
extern mica_handle_t lx_pool; /* every program's process is paid for by it */
int lx_budget_init(mica_handle_t procmgr);
uint64_t lx_room(struct lproc *p); /* pages p may still be charged */
void lx_budget_inherit(struct lproc *child, struct lproc *parent); /* fork */
/* RLIMIT_AS/RLIMIT_DATA: set from *want (if not NULL), read into lim. */
int lx_budget_rlimit(struct lproc *p, unsigned resource, const uint64_t *want, uint64_t lim[2]);
/* A page fault of p at addr: true if it was for want of memory (then p
 * or the largest program was killed; *resume: p goes on). */
bool lx_oom(struct lproc *p, uintptr_t addr, bool write, bool *resume);

/* proc.c: fork, execve, exit, wait4, kill */
struct lproc *lx_new_proc(const char *name);
struct lproc *lx_by_pid(int pid); /* a living program, or NULL */
/* Thread 0 of p (fp: the FP/SIMD registers to start with, NULL: zeros). */
int lx_start_thread(struct lproc *p, const struct mica_thread_state *st,
                    const struct mica_fp_state *fp);
void lx_vfork_done(struct lproc *c); /* a vfork child execs or ends: its parent goes on */
void lx_end(struct lproc *p, int code, unsigned how); /* MICA_KILL_AS_EXIT or _WITH_CODE */
int64_t lx_fork(struct lproc *p, const uint64_t *a);
int64_t lx_wait4(struct lproc *p, const uint64_t *a);
int64_t lx_kill(struct lproc *p, int64_t pid, int sig);
/* tkill and tgkill (thread group tgid): a signal for thread tid. */
int64_t lx_tkill(bool tgkill, int tgid, int tid, int sig);
int64_t lx_execve(struct lproc *p, const uint64_t *a);
int lx_find_program(mica_handle_t fs, const char *path, const void **elf, size_t *size,
                    void **owned);

/* signal.c: handlers, their frames, sigreturn, sigsuspend. A signal for
 * the process (thread -1) or for one of its threads (an index). */
void lx_signal_send(struct lproc *t, int sig);
void lx_signal_send_thread(struct lproc *p, int thread, int sig);
void lx_signal_recount(struct lproc *p); /* after a thread's pending signals went */
/* The lowest signal thread t of p may take now, 0 if none. */
int lx_signal_deliverable(const struct lproc *p, unsigned t);
/* Has the thread being served a signal to take? Inline, and one load when
 * nothing is pending anywhere in p: checked at every syscall's reply. */
static inline bool lx_signal_ready(const struct lproc *p)
{
    return p->sig_any && lx_signal_deliverable(p, p->cur);
}
/* The tid of the thread being served (saved replies record it). */
static inline int lx_tid(const struct lproc *p)
{
    return p->threads[p->cur].tid;
}
bool lx_signal_deliver(struct lproc *p, int64_t result, mica_handle_t reply);
int64_t lx_sigreturn(struct lproc *p);
int64_t lx_sigsuspend(struct lproc *p, uintptr_t mask_va, uint64_t size);
/* ppoll/pselect6 with a signal mask: the thread being served has `mask`
 * while the call waits, as in sigsuspend (a handler entered meanwhile
 * returns to the old mask). begin: true if a signal may be taken at once
 * (the call then ends with EINTR); end: the old mask back for thread tid,
 * the call over without a handler. */
bool lx_sigmask_wait_begin(struct lproc *p, uint64_t mask);
void lx_sigmask_wait_end(struct lproc *p, int tid);
/* sigframe.c: the frame of a handler, sigaltstack */
int lx_frame_push(struct lproc *p, unsigned t, struct mica_thread_state *st, int sig,
                  const struct sigaction_k *act, uint64_t old_mask);
int lx_frame_pop(struct lproc *p, unsigned t, struct mica_thread_state *st, uint64_t *mask);
int64_t lx_sigaltstack(struct lproc *p, uintptr_t ss_va, uintptr_t old_va);
/* The saved reply of a call thread `tid` of p waits in, for a signal to
 * interrupt (0: none). */
mica_handle_t lx_console_take(struct lproc *p, int tid);
mica_handle_t lx_timer_take(struct lproc *p, int tid);
mica_handle_t lx_pipe_take(struct lproc *p, int tid);
mica_handle_t lx_poll_take(struct lproc *p, int tid);
mica_handle_t lx_futex_take(struct lproc *p, int tid);
int64_t lx_futex_wake(struct lproc *p, uintptr_t addr, int64_t n);
bool lx_thread_exit(struct lproc *p); /* SYS_exit: false if it was the last thread */

/* loader.c: lx_load_check refuses what cannot be loaded (ENOEXEC, E2BIG)
 * without touching any program, and parses the ELF into *img; lx_load
 * then replaces p's memory with that program. */
struct elf_image;
int lx_load_check(const void *elf, size_t size, int argc, char **argv, char *const *envp,
                  struct elf_image *img);
int lx_load(struct lproc *p, const void *elf, const struct elf_image *img, int argc, char **argv,
            char *const *envp, uintptr_t *entry, uintptr_t *sp);
int lx_bootfs_find(const char *path, const void **elf, size_t *size); /* main.c */
/* A new client identity at the fs server (its own badge, own open-file
 * budget): each program has one, fork children too (main.c). */
int lx_fs_connect(mica_handle_t *out);

/* files.c: descriptors, read/write, open/close */
void lx_files_init(struct lproc *p);
void lx_files_close_all(struct lproc *p);
int64_t lx_sys_files(struct lproc *p, unsigned nr, const uint64_t *a);
int lx_errno(int mica_status);
struct lfile *lx_new_file(enum fd_kind kind);
void lx_put_file(struct lproc *p, struct lfile *f);
struct lfile *lx_fd(struct lproc *p, uint64_t fd);
int lx_install(struct lproc *p, struct lfile *f, int from, bool cloexec);
int lx_file_copy_in(struct lproc *p, struct lfile *f, uint64_t offset, uintptr_t va, size_t len);
/* An absolute, normalised path from a program's (dirfd, path). */
int lx_resolve(struct lproc *p, int dirfd, uintptr_t upath, char *out);

/* pipe.c */
struct pipe;
int64_t lx_pipe2(struct lproc *p, uintptr_t fds, unsigned flags);
int64_t lx_pipe_read(struct lproc *p, struct lfile *f, uintptr_t buf, size_t len);
int64_t lx_pipe_write(struct lproc *p, struct lfile *f, uintptr_t buf, size_t len);
void lx_pipe_close(struct lfile *f);
void lx_pipe_forget(struct lproc *p);
short lx_pipe_poll(struct lfile *f);
size_t lx_pipe_available(struct lfile *f); /* FIONREAD */

/* paths.c: stat, directories, names, the cwd, fcntl and ioctl */
int64_t lx_sys_paths(struct lproc *p, unsigned nr, const uint64_t *a);

/* console.c: reads of the console wait for a line (reader thread) */
int64_t lx_console_read(struct lproc *p, const uint64_t *a, bool vector);
void lx_console_init(void);
void lx_console_line(const struct mica_msg *m);                /* the reader thread's report */
void lx_console_forget(struct lproc *p);                       /* its waiting read, if it ends */
void lx_console_interrupt(void);                               /* ^C typed (main.c) */
extern uint8_t lx_termios[36];                                 /* TCGETS */
int64_t lx_console_set_termios(struct lproc *p, uintptr_t va); /* TCSETS: raw or cooked */
void lx_console_restore(struct lproc *p);                      /* cooked again when p ends */
bool lx_console_readable(void);
size_t lx_console_available(void); /* FIONREAD */
void lx_console_want(void);
extern int lx_tty_pgrp;                /* ^C's process group (TIOCSPGRP) */
void lx_console_take_foreground(void); /* ^C comes to us, not the native shell */
void lx_console_reconnect(void);       /* the console's driver died: find it again */

/* poll.c: ppoll; waiters are re-checked whenever something moves */
int64_t lx_ppoll(struct lproc *p, const uint64_t *a);
int64_t lx_pselect6(struct lproc *p, const uint64_t *a);
void lx_poll_recheck(void);
void lx_poll_forget(struct lproc *p);
uint64_t lx_poll_next_deadline(void);
void lx_reap(void); /* forget programs that ended from outside (main.c) */
void lx_timer_init(void);
void lx_timer_tick(void);
void lx_timer_forget(struct lproc *p);
void lx_timer_rearm(void); /* a deadline changed (sleeps, ppoll) */

/* misc.c: identity, time, signals' bookkeeping, limits */
int64_t lx_sys_misc(struct lproc *p, unsigned nr, const uint64_t *a);

#endif
