/*
 * ppoll for Linux programs. Readiness is known here: the console has
 * bytes when the reader thread brought some (console.c), a pipe by its
 * ring and its ends (pipe.c), files are always ready. A ppoll with nothing
 * ready and time to wait saves its reply; lx_poll_recheck (called when a
 * console line arrives, a pipe moves, or the timer ticks) answers every
 * waiter that is ready or out of time. A signal mask given to ppoll or
 * pselect6 is the thread's while it waits (lx_sigmask_wait_begin).
 */
#include "linux.h"
#include <string.h>

#define POLLIN 0x1
#define POLLOUT 0x4
#define POLLERR 0x8
#define POLLHUP 0x10
#define POLLNVAL 0x20
#define CHUNK_FDS 64 /* pollfds checked at a time */

struct pollfd_k {
    int32_t fd;
    int16_t events, revents;
};

struct poller {
    int pid, tid;
    bool masked; /* the thread has the call's signal mask until it ends */
    mica_handle_t reply;
    uintptr_t fds;     /* ppoll: the pollfd array; pselect6: 0 */
    unsigned n;        /* its length, or pselect6's nfds */
    uintptr_t sets[3]; /* pselect6: read, write, except sets (0: none) */
    uint64_t deadline;
};
static struct poller *pollers; /* one per waiting thread, in a table that grows */
static unsigned n_pollers, cap_pollers;

static short ready(struct lproc *p, int fd, short events, bool *console)
{
    struct lfile *f = fd < 0 ? NULL : lx_fd(p, (uint64_t)fd);
    if (fd < 0)
        return 0;
    if (!f)
        return POLLNVAL;
    short r = 0;
    switch (f->kind) {
    case FD_CONSOLE:
        *console = true;
        r = (lx_console_readable() ? POLLIN : 0) | POLLOUT;
        break;
    case FD_PIPE_READ:
    case FD_PIPE_WRITE: r = lx_pipe_poll(f); break;
    default: r = POLLIN | POLLOUT; break;
    }
    return r & (events | POLLERR | POLLHUP | POLLNVAL);
}

#define SET_WORDS 16 /* an fd_set: 1024 bits */

/* pselect6's check: keep only the ready descriptors in the sets, written
 * back only when the call ends (something is ready, or `ending`: out of
 * time), so a waiting select still has its sets when checked again. */
static int64_t check_sets(struct lproc *p, const uintptr_t *sets, unsigned nfds, bool *console,
                          bool ending)
{
    uint64_t bits[3][SET_WORDS] = {{0}};
    unsigned words = (nfds + 63) / 64;
    int64_t count = 0;
    for (int s = 0; s < 3; s++)
        if (sets[s] && lx_read(p, sets[s], bits[s], words * 8))
            return -LX_EFAULT;
    for (unsigned fd = 0; fd < nfds; fd++) {
        uint64_t mask = 1UL << (fd % 64);
        bool want_r = bits[0][fd / 64] & mask, want_w = bits[1][fd / 64] & mask;
        bits[2][fd / 64] &= ~mask; /* nothing is ever exceptional here */
        if (!want_r && !want_w)
            continue;
        short r = ready(p, (int)fd, POLLIN | POLLOUT, console);
        if (r & POLLNVAL)
            return -LX_EBADF;
        if (want_r && !(r & (POLLIN | POLLHUP | POLLERR)))
            bits[0][fd / 64] &= ~mask;
        if (want_w && !(r & (POLLOUT | POLLERR)))
            bits[1][fd / 64] &= ~mask;
        count += ((bits[0][fd / 64] & mask) != 0) + ((bits[1][fd / 64] & mask) != 0);
    }
    for (int s = 0; (count || ending) && s < 3; s++)
        if (sets[s] && lx_write(p, sets[s], bits[s], words * 8))
            return -LX_EFAULT;
    return count;
}

/* Check p's pollfd array; write revents back. Returns how many are ready
 * (or -errno); *console: the console is among them. */
static int64_t check(struct lproc *p, uintptr_t va, unsigned n, bool *console)
{
    struct pollfd_k fds[CHUNK_FDS];
    int64_t count = 0;
    for (unsigned at = 0; at < n; at += CHUNK_FDS) {
        unsigned k = n - at < CHUNK_FDS ? n - at : CHUNK_FDS;
        uintptr_t chunk = va + at * sizeof(fds[0]);
        if (lx_read(p, chunk, fds, k * sizeof(fds[0])))
            return -LX_EFAULT;
        for (unsigned i = 0; i < k; i++) {
            fds[i].revents = ready(p, fds[i].fd, fds[i].events, console);
            count += fds[i].revents != 0;
        }
        if (lx_write(p, chunk, fds, k * sizeof(fds[0])))
            return -LX_EFAULT;
    }
    return count;
}

static int64_t check_any(struct lproc *p, const struct poller *w, bool *console)
{
    bool ending = w->deadline <= mica_clock_ns();
    return w->fds ? check(p, w->fds, w->n, console) : check_sets(p, w->sets, w->n, console, ending);
}

/* The signal mask argument: ppoll's (x3, x4 its size) or pselect6's (x5
 * points at {mask pointer, size}). 1 with *mask set, 0 for none, or an
 * error. */
static int64_t mask_argument(struct lproc *p, const uint64_t *a, bool select, uint64_t *mask)
{
    uint64_t ptr = a[3], size = a[4];
    if (select) {
        uint64_t pair[2] = {0, 0};
        if (a[5] && lx_read(p, a[5], pair, sizeof(pair)))
            return -LX_EFAULT;
        ptr = pair[0];
        size = pair[1];
    }
    if (!ptr)
        return 0;
    if (size != 8)
        return -LX_EINVAL;
    return lx_read(p, ptr, mask, 8) ? -LX_EFAULT : 1;
}

/* ppoll (select false) and pselect6 share the waiting. */
static int64_t wait_ready(struct lproc *p, const uint64_t *a, bool select)
{
    uint64_t deadline = MICA_DEADLINE_INFINITE;
    uintptr_t timeout = select ? a[4] : a[2];
    bool console = false;
    if (select ? a[0] > 64 * SET_WORDS : a[1] > p->rlimits[LX_RLIMIT_NOFILE][0])
        return -LX_EINVAL; /* Linux: nfds past RLIMIT_NOFILE */
    if (timeout) {
        int64_t ts[2];
        if (lx_read(p, timeout, ts, sizeof(ts)))
            return -LX_EFAULT;
        if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000L)
            return -LX_EINVAL;
        deadline = ts[0] > 1000000
                       ? MICA_DEADLINE_INFINITE
                       : mica_clock_ns() + (uint64_t)ts[0] * 1000000000UL + (uint64_t)ts[1];
    }
    uint64_t mask;
    int64_t masked = mask_argument(p, a, select, &mask);
    if (masked < 0)
        return masked;
    if (masked && lx_sigmask_wait_begin(p, mask))
        return -LX_EINTR; /* the handler runs on the way out, then the old mask */
    struct poller req = {.pid = p->pid,
                         .tid = lx_tid(p),
                         .masked = masked,
                         .fds = select ? 0 : a[0],
                         .n = (unsigned)(select ? a[0] : a[1]),
                         .sets = {select ? a[1] : 0, select ? a[2] : 0, select ? a[3] : 0},
                         .deadline = deadline};
    int64_t count = check_any(p, &req, &console);
    if (count == 0 && deadline > mica_clock_ns())
        count = !lx_grow((void **)&pollers, &cap_pollers, n_pollers + 1, sizeof(*pollers))
                    ? -LX_ENOMEM
                : mica_reply_save(&req.reply) != MICA_OK ? -LX_EINTR
                                                         : LX_DEFERRED;
    if (count != LX_DEFERRED) {
        if (masked)
            lx_sigmask_wait_end(p, req.tid);
        return count;
    }
    pollers[n_pollers++] = req;
    if (console)
        lx_console_want();
    lx_timer_rearm();
    return LX_DEFERRED;
}

int64_t lx_ppoll(struct lproc *p, const uint64_t *a)
{
    return wait_ready(p, a, false);
}

int64_t lx_pselect6(struct lproc *p, const uint64_t *a)
{
    return wait_ready(p, a, true);
}

static void answer(unsigned i, int64_t result)
{
    struct lproc *p = pollers[i].masked ? lx_by_pid(pollers[i].pid) : NULL;
    if (p)
        lx_sigmask_wait_end(p, pollers[i].tid);
    lx_answer(pollers[i].reply, result);
    pollers[i] = pollers[--n_pollers];
}

void lx_poll_recheck(void)
{
    uint64_t now = mica_clock_ns();
    for (unsigned i = 0; i < n_pollers;) {
        struct lproc *p = lx_by_pid(pollers[i].pid);
        bool console = false;
        int64_t count = p ? check_any(p, &pollers[i], &console) : -LX_EIO;
        if (count != 0 || pollers[i].deadline <= now) {
            answer(i, count);
            continue;
        }
        if (console)
            lx_console_want();
        i++;
    }
}

void lx_poll_forget(struct lproc *p)
{
    for (unsigned i = 0; i < n_pollers;) {
        if (pollers[i].pid == p->pid) {
            mica_handle_close(pollers[i].reply);
            pollers[i] = pollers[--n_pollers];
        } else {
            i++;
        }
    }
}

uint64_t lx_poll_next_deadline(void)
{
    uint64_t earliest = MICA_DEADLINE_INFINITE;
    for (unsigned i = 0; i < n_pollers; i++)
        if (pollers[i].deadline < earliest)
            earliest = pollers[i].deadline;
    return earliest;
}

/* A signal interrupts a ppoll: its saved reply, or 0. */
mica_handle_t lx_poll_take(struct lproc *p, int tid)
{
    for (unsigned i = 0; i < n_pollers; i++) {
        if (pollers[i].pid == p->pid && pollers[i].tid == tid) {
            mica_handle_t r = pollers[i].reply;
            pollers[i] = pollers[--n_pollers];
            return r;
        }
    }
    return 0;
}
