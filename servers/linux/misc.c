/*
 * The Linux calls that touch neither files nor memory maps: identity
 * (pids, ids, sessions), uname, time and sleeping, getrandom, limits, the
 * bookkeeping half of signals (actions and masks; delivery is signal.c's,
 * sigaltstack sigframe.c's), futex.
 *
 * Sleeps: the reply is saved and the program waits in `sleepers`; a timer
 * thread of ours waits for the earliest deadline and reports
 * LX_INTERNAL_TICK, and the main thread answers every sleeper due.
 */
#include "linux.h"
#include <string.h>

#define NS 1000000000L
#define TIMER_ABSTIME 1
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SIGKILL 9
#define SIGSTOP 19
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define RLIMIT_DATA 2
#define RLIMIT_STACK 3
#define RLIMIT_NPROC 6
#define RLIMIT_NOFILE 7
#define RLIMIT_AS 9
#define RLIM_INFINITY (~0UL)

struct sleeper {
    int pid, tid;
    mica_handle_t reply;
    uint64_t deadline;
};
/* Sleepers and futex waiters: as many as there are threads to wait (each
 * waits in one call at a time), in arrays that grow as needed. */
static struct sleeper *sleepers;
static unsigned n_sleepers, cap_sleepers;
/* futex between the threads of a program: FUTEX_WAIT saves its reply
 * (with a deadline for a timeout) until a FUTEX_WAKE on the same address
 * of the same process; the timer thread ends timed-out waits. */
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
struct futex_waiter {
    int pid, tid;
    uintptr_t addr;
    mica_handle_t reply;
    uint64_t deadline;
};
static struct futex_waiter *futexes;
static unsigned n_futexes, cap_futexes;

static void futex_answer(unsigned i, int64_t result)
{
    lx_answer(futexes[i].reply, result);
    futexes[i] = futexes[--n_futexes];
}

static volatile uint64_t next_deadline = MICA_DEADLINE_INFINITE;
static mica_handle_t timer_wake, timer_report;
static uint64_t random_state;

static void timer(void *arg)
{
    (void)arg;
    for (;;) {
        uint64_t bits, deadline = next_deadline;
        int err = mica_notify_wait(timer_wake, deadline, &bits);
        if (err == MICA_ERR_TIMED_OUT) {
            struct mica_msg m = {.info = mica_msg_info(LX_INTERNAL_TICK, 0, 0, 0)};
            mica_call(timer_report, &m);
        }
    }
}

void lx_timer_init(void)
{
    mica_handle_t thread;
    random_state = mica_clock_ns() | 1;
    if (mica_notification_create(&timer_wake) != MICA_OK ||
        mica_handle_mint(mica_bootinfo->startup_handle, MICA_RIGHT_WRITE, LX_INTERNAL_BADGE,
                         &timer_report) != MICA_OK ||
        mica_thread_spawn(timer, NULL, 128, &thread) != MICA_OK)
        mica_printf("linux: no timer thread: sleeps will not end\n");
}

void lx_timer_rearm(void)
{
    uint64_t earliest = lx_poll_next_deadline();
    for (unsigned i = 0; i < n_sleepers; i++)
        if (sleepers[i].deadline < earliest)
            earliest = sleepers[i].deadline;
    for (unsigned i = 0; i < n_futexes; i++)
        if (futexes[i].deadline < earliest)
            earliest = futexes[i].deadline;
    next_deadline = earliest;
    mica_notify_signal(timer_wake, 1);
}

void lx_timer_tick(void)
{
    uint64_t now = mica_clock_ns();
    for (unsigned i = 0; i < n_sleepers;) {
        if (sleepers[i].deadline <= now) {
            lx_answer(sleepers[i].reply, 0);
            sleepers[i] = sleepers[--n_sleepers];
        } else {
            i++;
        }
    }
    for (unsigned i = 0; i < n_futexes;) {
        if (futexes[i].deadline <= now)
            futex_answer(i, -LX_ETIMEDOUT);
        else
            i++;
    }
    lx_poll_recheck(); /* ppolls out of time */
    lx_timer_rearm();
}

void lx_timer_forget(struct lproc *p)
{
    for (unsigned i = 0; i < n_futexes;) {
        if (futexes[i].pid == p->pid) {
            mica_handle_close(futexes[i].reply);
            futexes[i] = futexes[--n_futexes];
        } else {
            i++;
        }
    }
    for (unsigned i = 0; i < n_sleepers;) {
        if (sleepers[i].pid == p->pid) {
            mica_handle_close(sleepers[i].reply);
            sleepers[i] = sleepers[--n_sleepers];
        } else {
            i++;
        }
    }
}

static int64_t sleep_until(struct lproc *p, uint64_t deadline)
{
    if (deadline <= mica_clock_ns())
        return 0;
    if (!lx_grow((void **)&sleepers, &cap_sleepers, n_sleepers + 1, sizeof(*sleepers)))
        return -LX_ENOMEM;
    struct sleeper *s = &sleepers[n_sleepers];
    if (mica_reply_save(&s->reply) != MICA_OK)
        return -LX_EINTR;
    s->pid = p->pid;
    s->tid = lx_tid(p);
    s->deadline = deadline;
    n_sleepers++;
    lx_timer_rearm();
    return LX_DEFERRED;
}

static int64_t sys_sleep(struct lproc *p, unsigned nr, const uint64_t *a)
{
    int64_t ts[2];
    bool absolute = nr == NR_clock_nanosleep && (a[1] & TIMER_ABSTIME);
    uintptr_t req = nr == NR_nanosleep ? a[0] : a[2];
    if (nr == NR_clock_nanosleep && a[0] > 7)
        return -LX_EINVAL;
    if (lx_read(p, req, ts, sizeof(ts)))
        return -LX_EFAULT;
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= NS)
        return -LX_EINVAL;
    uint64_t ns =
        (uint64_t)ts[0] > 1000000000UL ? ~0UL / 2 : (uint64_t)ts[0] * NS + (uint64_t)ts[1];
    return sleep_until(p, absolute ? ns : mica_clock_ns() + ns);
}

static int64_t sys_time(struct lproc *p, unsigned nr, const uint64_t *a)
{
    uint64_t now = mica_clock_ns();
    if (nr == NR_gettimeofday) {
        int64_t tv[2] = {(int64_t)(now / NS), (int64_t)(now % NS / 1000)};
        return a[0] ? lx_write(p, a[0], tv, sizeof(tv)) : 0;
    }
    if (a[0] > 7)
        return -LX_EINVAL;
    int64_t ts[2] = {(int64_t)(now / NS), (int64_t)(now % NS)};
    return lx_write(p, a[1], ts, sizeof(ts));
}

static int64_t sys_uname(struct lproc *p, uintptr_t buf)
{
    static const char *const fields[6] = {"Linux",         "mica",    "6.1.0-mica",
                                          "#1 Mica 0.1.0", "aarch64", "(none)"};
    char u[6][65];
    memset(u, 0, sizeof(u));
    for (int i = 0; i < 6; i++)
        strcpy(u[i], fields[i]);
    return lx_write(p, buf, u, sizeof(u));
}

static int64_t sys_getrandom(struct lproc *p, uintptr_t buf, size_t len)
{
    uint8_t bytes[256];
    if (len > sizeof(bytes))
        len = sizeof(bytes);
    for (size_t i = 0; i < len; i++) {
        random_state ^= random_state << 13;
        random_state ^= random_state >> 7;
        random_state ^= random_state << 17;
        bytes[i] = (uint8_t)(random_state >> 24);
    }
    int err = lx_write(p, buf, bytes, len);
    return err ? err : (int64_t)len;
}

static int64_t sys_sigaction(struct lproc *p, const uint64_t *a)
{
    uint64_t sig = a[0];
    struct sigaction_k act;
    if (sig < 1 || sig > 64 || a[3] != 8)
        return -LX_EINVAL;
    if (a[2] && lx_write(p, a[2], &p->actions[sig], sizeof(act)))
        return -LX_EFAULT;
    if (a[1]) {
        if (sig == SIGKILL || sig == SIGSTOP)
            return -LX_EINVAL;
        if (lx_read(p, a[1], &act, sizeof(act)))
            return -LX_EFAULT;
        p->actions[sig] = act;
    }
    return 0;
}

static int64_t sys_sigprocmask(struct lproc *p, const uint64_t *a)
{
    uint64_t *mask = &p->threads[p->cur].sigmask; /* per thread */
    uint64_t set, old = *mask;
    if (a[3] != 8)
        return -LX_EINVAL;
    if (a[1]) {
        if (lx_read(p, a[1], &set, 8))
            return -LX_EFAULT;
        set &= ~((1UL << (SIGKILL - 1)) | (1UL << (SIGSTOP - 1)));
        if (a[0] == SIG_BLOCK)
            *mask |= set;
        else if (a[0] == SIG_UNBLOCK)
            *mask &= ~set;
        else if (a[0] == SIG_SETMASK)
            *mask = set;
        else
            return -LX_EINVAL;
    }
    return a[2] ? lx_write(p, a[2], &old, 8) : 0;
}

/* Linux's resource numbers -> ours (-1: reported as unlimited, setting
 * one is accepted and has no effect). */
static int rlimit_index(unsigned resource)
{
    switch (resource) {
    case RLIMIT_DATA: return LX_RLIMIT_DATA;
    case RLIMIT_STACK: return LX_RLIMIT_STACK;
    case RLIMIT_NPROC: return LX_RLIMIT_NPROC;
    case RLIMIT_NOFILE: return LX_RLIMIT_NOFILE;
    case RLIMIT_AS: return LX_RLIMIT_AS;
    default: return -1;
    }
}

/* getrlimit, setrlimit, prlimit64 (of any program: every one is root's). */
static int64_t sys_rlimit(struct lproc *p, unsigned nr, const uint64_t *a)
{
    unsigned resource = (unsigned)(nr == NR_prlimit64 ? a[1] : a[0]);
    uintptr_t new_va = nr == NR_prlimit64 ? a[2] : nr == NR_setrlimit ? a[1] : 0;
    uintptr_t old_va = nr == NR_prlimit64 ? a[3] : nr == NR_getrlimit ? a[1] : 0;
    struct lproc *t = nr == NR_prlimit64 && a[0] ? lx_by_pid((int)a[0]) : p;
    if (!t)
        return -LX_ESRCH;
    if (resource > 15)
        return -LX_EINVAL;
    int k = rlimit_index(resource);
    uint64_t old[2] = {RLIM_INFINITY, RLIM_INFINITY}, want[2];
    if (k >= 0)
        memcpy(old, t->rlimits[k], sizeof(old));
    if (k == LX_RLIMIT_AS || k == LX_RLIMIT_DATA) { /* the program's memory budget: budget.c */
        int err = lx_budget_rlimit(t, resource, NULL, old);
        if (err)
            return err;
    }
    if (new_va) {
        if (lx_read(p, new_va, want, sizeof(want)))
            return -LX_EFAULT;
        if (want[0] > want[1])
            return -LX_EINVAL;
        if (k == LX_RLIMIT_NOFILE && want[1] > LX_NOFILE_MAX && want[1] != old[1])
            return -LX_EPERM; /* past fs.nr_open */
    }
    if (old_va && lx_write(p, old_va, old, sizeof(old)))
        return -LX_EFAULT;
    if (new_va && (k == LX_RLIMIT_AS || k == LX_RLIMIT_DATA))
        return lx_budget_rlimit(t, resource, want, old);
    if (new_va && k >= 0)
        memcpy(t->rlimits[k], want, sizeof(want));
    return 0;
}

int64_t lx_futex_wake(struct lproc *p, uintptr_t addr, int64_t n)
{
    int64_t woken = 0;
    for (unsigned i = 0; i < n_futexes && woken < n;) {
        if (futexes[i].pid == p->pid && futexes[i].addr == addr) {
            futex_answer(i, 0);
            woken++;
        } else {
            i++;
        }
    }
    return woken;
}

static int64_t sys_futex(struct lproc *p, const uint64_t *a)
{
    unsigned op = (unsigned)a[1] & 127;
    uint32_t now;
    if (op == FUTEX_WAKE || op == FUTEX_WAKE_BITSET)
        return lx_futex_wake(p, a[0], (int64_t)(uint32_t)a[2]);
    if (op != FUTEX_WAIT && op != FUTEX_WAIT_BITSET)
        return -LX_ENOSYS;
    if (a[0] & 3)
        return -LX_EINVAL;
    if (lx_read(p, a[0], &now, 4))
        return -LX_EFAULT;
    if (now != (uint32_t)a[2])
        return -LX_EAGAIN;
    uint64_t deadline = MICA_DEADLINE_INFINITE;
    if (a[3]) {
        int64_t ts[2];
        if (lx_read(p, a[3], ts, sizeof(ts)))
            return -LX_EFAULT;
        if (ts[0] < 0 || ts[1] < 0 || ts[1] >= NS)
            return -LX_EINVAL;
        uint64_t ns = ts[0] > 1000000 ? ~0UL / 2 : (uint64_t)ts[0] * NS + (uint64_t)ts[1];
        deadline = op == FUTEX_WAIT_BITSET ? ns : mica_clock_ns() + ns; /* BITSET: absolute */
    }
    if (!lx_grow((void **)&futexes, &cap_futexes, n_futexes + 1, sizeof(*futexes)))
        return -LX_ENOMEM;
    struct futex_waiter *w = &futexes[n_futexes];
    if (mica_reply_save(&w->reply) != MICA_OK)
        return -LX_EINTR;
    w->pid = p->pid;
    w->tid = lx_tid(p);
    w->addr = a[0];
    w->deadline = deadline;
    n_futexes++;
    lx_timer_rearm();
    return LX_DEFERRED;
}

mica_handle_t lx_futex_take(struct lproc *p, int tid)
{
    for (unsigned i = 0; i < n_futexes; i++) {
        if (futexes[i].pid == p->pid && futexes[i].tid == tid) {
            mica_handle_t r = futexes[i].reply;
            futexes[i] = futexes[--n_futexes];
            return r;
        }
    }
    return 0;
}

/* sched_yield: every other ready thread has its turn before the caller
 * goes on. The reply is saved and the server yields the CPU itself (the
 * caller waits for the reply meanwhile), then answers; a signal that came
 * in the meantime is delivered with the answer. */
static int64_t sys_sched_yield(struct lproc *p)
{
    mica_handle_t reply;
    if (mica_reply_save(&reply) != MICA_OK)
        return 0;
    mica_yield();
    if (!(p->used && lx_signal_ready(p) && lx_signal_deliver(p, 0, reply)))
        lx_answer(reply, 0);
    return LX_DEFERRED;
}

/* prctl: the thread name (PR_SET_NAME / PR_GET_NAME, 16 bytes with its
 * NUL), shown by the shell's ps; every other option is EINVAL. */
static int64_t sys_prctl(struct lproc *p, const uint64_t *a)
{
    enum { PR_SET_NAME = 15, PR_GET_NAME = 16, TASK_COMM_LEN = 16 };
    char name[TASK_COMM_LEN];
    if (a[0] == PR_GET_NAME) {
        memset(name, 0, sizeof(name));
        snprintf(name, sizeof(name), "%s", p->name);
        return lx_write(p, a[1], name, sizeof(name));
    }
    if (a[0] != PR_SET_NAME)
        return -LX_EINVAL;
    if (lx_read(p, a[1], name, sizeof(name)))
        return -LX_EFAULT;
    name[TASK_COMM_LEN - 1] = '\0';
    snprintf(p->name, sizeof(p->name), "%s", name);
    return 0;
}

int64_t lx_sys_misc(struct lproc *p, unsigned nr, const uint64_t *a)
{
    switch (nr) {
    case NR_getuid:
    case NR_geteuid:
    case NR_getgid:
    case NR_getegid: return 0;
    case NR_getpgid: return a[0] == 0 || a[0] == (uint64_t)p->pid ? p->pgid : -LX_ESRCH;
    case NR_getsid: return a[0] == 0 || a[0] == (uint64_t)p->pid ? p->sid : -LX_ESRCH;
    case NR_setpgid:
        if (a[0] != 0 && a[0] != (uint64_t)p->pid)
            return -LX_ESRCH;
        p->pgid = a[1] ? (int)a[1] : p->pid;
        return 0;
    case NR_setsid:
        if (p->pgid == p->pid)
            return -LX_EPERM;
        p->sid = p->pgid = p->pid;
        return p->sid;
    case NR_set_tid_address: p->tid_address = a[0]; return p->pid;
    case NR_set_robust_list: return a[1] == 24 ? 0 : -LX_EINVAL;
    case NR_sched_yield: return sys_sched_yield(p);
    case NR_prctl: return sys_prctl(p, a);
    case NR_uname: return sys_uname(p, a[0]);
    case NR_clock_gettime:
    case NR_gettimeofday: return sys_time(p, nr, a);
    case NR_nanosleep:
    case NR_clock_nanosleep: return sys_sleep(p, nr, a);
    case NR_getrandom: return sys_getrandom(p, a[0], a[1]);
    case NR_rt_sigaction: return sys_sigaction(p, a);
    case NR_rt_sigprocmask: return sys_sigprocmask(p, a);
    case NR_sigaltstack: return lx_sigaltstack(p, a[0], a[1]);
    case NR_getrlimit:
    case NR_setrlimit:
    case NR_prlimit64: return sys_rlimit(p, nr, a);
    case NR_futex: return sys_futex(p, a);
    default: return -LX_ENOSYS;
    }
}

/* A signal interrupts a sleep: its saved reply, or 0. */
mica_handle_t lx_timer_take(struct lproc *p, int tid)
{
    for (unsigned i = 0; i < n_sleepers; i++) {
        if (sleepers[i].pid == p->pid && sleepers[i].tid == tid) {
            mica_handle_t r = sleepers[i].reply;
            sleepers[i] = sleepers[--n_sleepers];
            lx_timer_rearm();
            return r;
        }
    }
    return 0;
}
