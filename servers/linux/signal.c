/*
 * Signals with handlers. A signal whose action is a handler is made
 * pending; it is delivered when its process next comes back from a system
 * call (every syscall reply passes through lx_signal_deliver), or at once
 * if the process waits in one (a sleep, a console or pipe read, wait4,
 * ppoll, sigsuspend): that call ends with -EINTR, or with SA_RESTART is
 * made again after the handler (reads, writes, wait4, futex, as Linux
 * does). Delivery writes Linux's
 * arm64 signal frame (sigframe.c: siginfo, then a ucontext with uc_stack,
 * the interrupted registers, signal mask and FP/SIMD registers) below the
 * stack pointer, or on the thread's sigaltstack for a SA_ONSTACK handler,
 * and starts the handler with x0 = signal, x1 = &siginfo, x2 = &ucontext
 * and x30 = the sa_restorer, which calls rt_sigreturn to put everything
 * back (including FP/SIMD registers the handler changed in the frame).
 *
 * A thread running user code (no system call under way, e.g. a busy loop)
 * is interrupted: we suspend it, and unless the kernel reports it waiting
 * for us (MICA_THREAD_IN_HANDLER_CALL: its call's reply will deliver the
 * signal), write the frame and resume it in the handler.
 *
 * Threads: each has its own signal mask (rt_sigprocmask, sigsuspend, a
 * handler's mask) and its own pending set for signals sent to it (tkill,
 * tgkill). A signal for the process goes to the first thread that does not
 * block it and can take it now: waiting in a call (every saved reply
 * records its thread), or running user code. If none can (all block it,
 * or all are in calls we are serving or have queued), it stays pending
 * until a thread that does not block it comes back from a system call.
 */
#include "linux.h"
#include <string.h>

#define SIGKILL 9
#define SIGSTOP 19
#define SIGCHLD 17
#define SA_RESTART 0x10000000UL
#define SA_NODEFER 0x40000000UL
#define SA_RESETHAND 0x80000000UL
#define SIG_IGN 1

static uint64_t bit(int sig)
{
    return 1UL << (sig - 1);
}

/* Default action "ignore": SIGCHLD, SIGURG, SIGWINCH. */
static bool ignored_by_default(int sig)
{
    return sig == SIGCHLD || sig == 23 || sig == 28;
}

static uint64_t thread_ready(const struct lproc *p, unsigned t)
{
    return (p->sig_pending | p->threads[t].sig_pending) & ~p->threads[t].sigmask;
}

int lx_signal_deliverable(const struct lproc *p, unsigned t)
{
    uint64_t ready = thread_ready(p, t);
    return ready ? __builtin_ctzl(ready) + 1 : 0;
}

/* p->sig_any again, after a pending signal was taken or dropped. */
void lx_signal_recount(struct lproc *p)
{
    uint64_t any = p->sig_pending;
    for (unsigned i = 0; i < p->thread_cap; i++)
        any |= p->threads[i].sig_pending;
    p->sig_any = any;
}

/* Calls Linux restarts after a SA_RESTART handler; sleeps, polls and
 * sigsuspend end with EINTR whatever the flag says. */
static bool restartable(uint64_t nr)
{
    return nr == NR_read || nr == NR_readv || nr == NR_write || nr == NR_writev || nr == NR_wait4 ||
           nr == NR_futex;
}

/* Push sig's frame for the registers in st and point them at its handler,
 * with the signal mask it asks for. False if there was no room for the
 * frame: the process is ended by SIGSEGV, as Linux does. */
static bool enter_handler(struct lproc *p, int sig, struct mica_thread_state *st)
{
    struct sigaction_k *act = &p->actions[sig];
    struct lthread *th = &p->threads[p->cur];
    uint64_t old_mask = th->sigsuspended ? th->suspend_saved_mask : th->sigmask;
    if (th->sig_pending & bit(sig)) /* its own first, as Linux takes them */
        th->sig_pending &= ~bit(sig);
    else
        p->sig_pending &= ~bit(sig);
    lx_signal_recount(p);
    th->sigsuspended = false;
    if (lx_frame_push(p, p->cur, st, sig, act, old_mask) != 0) {
        lx_end(p, 11 /* SIGSEGV: no room for the frame */, MICA_KILL_WITH_CODE);
        return false;
    }
    th->sigmask = old_mask | act->mask | (act->flags & SA_NODEFER ? 0 : bit(sig));
    th->sigmask &= ~(bit(SIGKILL) | bit(SIGSTOP));
    if (act->flags & SA_RESETHAND)
        memset(act, 0, sizeof(*act));
    return true;
}

/* Thread t of p (p->cur) may be running user code: stop it there and
 * enter the handler now, unless it waits for us (then a reply delivers the
 * signal). True if the handler was entered (or the process ended for want
 * of room for the frame). */
static bool interrupt_thread(struct lproc *p, unsigned t)
{
    struct mica_thread_state st;
    int sig = lx_signal_deliverable(p, t);
    mica_handle_t thread = p->threads[t].handle;
    if (!sig || !thread || mica_thread_suspend(thread) != MICA_OK)
        return false;
    bool entered = false;
    if (mica_thread_read_state(thread, &st) == MICA_OK &&
        !(st.flags & MICA_THREAD_IN_HANDLER_CALL)) {
        entered = true;
        if (enter_handler(p, sig, &st))
            mica_thread_write_state(thread, &st);
    }
    if (p->used && !p->zombie)
        mica_thread_resume(thread);
    return entered;
}

/* Answer p's syscall (through `reply`, or the current caller if 0) by
 * entering the handler of its lowest deliverable signal; the syscall's
 * result goes into the saved registers. False if none is deliverable. */
bool lx_signal_deliver(struct lproc *p, int64_t result, mica_handle_t reply)
{
    struct mica_thread_state st;
    int sig = lx_signal_deliverable(p, p->cur);
    if (!sig || mica_thread_read_state(p->thread, &st) != MICA_OK)
        return false;
    if (result == -LX_EINTR && (p->actions[sig].flags & SA_RESTART) && restartable(st.x[8]))
        st.pc -= 4; /* after the handler, the svc again, with its arguments (x0 unchanged) */
    else
        st.x[0] = (uint64_t)result; /* what the interrupted call returns after sigreturn */
    if (!enter_handler(p, sig, &st)) {
        if (reply)
            mica_handle_close(reply);
        return true;
    }
    struct mica_msg m = {.info = mica_msg_info(MICA_FAULT_RESUME, 2, 0, 0), .w = {st.pc, st.x[0]}};
    if (mica_thread_write_state(p->thread, &st) != MICA_OK)
        return false;
    if (reply) {
        mica_reply_to_close(reply, &m);
    } else {
        mica_reply(&m);
    }
    return true;
}

/* The saved reply of the syscall thread t of p waits in, taken from
 * whoever holds it, or 0. */
static mica_handle_t take_deferred(struct lproc *p, unsigned t)
{
    struct lthread *th = &p->threads[t];
    mica_handle_t r;
    if (p->wait_reply && p->wait_thread == t) {
        r = p->wait_reply;
        p->wait_reply = 0;
        return r;
    }
    if (th->suspend_reply) {
        r = th->suspend_reply;
        th->suspend_reply = 0;
        return r;
    }
    if ((r = lx_console_take(p, th->tid)) || (r = lx_timer_take(p, th->tid)) ||
        (r = lx_pipe_take(p, th->tid)) || (r = lx_poll_take(p, th->tid)))
        return r;
    return lx_futex_take(p, th->tid);
}

/* Let thread t of p take a signal now if it can: a call it waits in ends
 * through the handler (with EINTR, or made again after it), user code it
 * runs is interrupted. False if it is in a call we are serving or have
 * queued (that call's reply delivers the signal). */
static bool signal_thread(struct lproc *p, unsigned t)
{
    unsigned cur = p->cur; /* the thread being served, maybe of this process */
    mica_handle_t thread = p->thread;
    p->cur = t;
    p->thread = p->threads[t].handle;
    bool taken = false;
    mica_handle_t reply = take_deferred(p, t);
    if (reply && lx_signal_deliver(p, -LX_EINTR, reply)) {
        taken = true;
    } else {
        if (reply) { /* a wait it had already left: running now */
            lx_sigmask_wait_end(p, p->threads[t].tid);
            lx_answer(reply, -LX_EINTR);
        }
        taken = interrupt_thread(p, t);
    }
    if (p->used) {
        p->cur = cur;
        p->thread = thread;
    }
    return taken;
}

/* sig for p, or (thread >= 0) for that thread of p. */
static void post(struct lproc *p, int thread, int sig)
{
    if (!p || !p->used || p->zombie || sig < 1 || sig > 64)
        return;
    uint64_t handler = p->actions[sig].handler;
    if (sig == SIGKILL || sig == SIGSTOP || (handler == 0 && !ignored_by_default(sig))) {
        lx_end(p, sig, MICA_KILL_WITH_CODE); /* the default action: terminate */
        return;
    }
    if (handler == SIG_IGN || handler == 0)
        return;
    if (thread >= 0)
        p->threads[thread].sig_pending |= bit(sig);
    else
        p->sig_pending |= bit(sig);
    p->sig_any |= bit(sig);
    for (unsigned i = 0; i < p->thread_cap && p->used; i++) {
        if ((thread >= 0 && i != (unsigned)thread) || !p->threads[i].handle ||
            !(thread_ready(p, i) & bit(sig)))
            continue; /* not this one, or it blocks sig */
        if (signal_thread(p, i))
            return;
    }
}

void lx_signal_send(struct lproc *t, int sig)
{
    post(t, -1, sig);
}

void lx_signal_send_thread(struct lproc *p, int thread, int sig)
{
    if (thread >= 0 && (unsigned)thread < p->thread_cap && p->threads[thread].handle)
        post(p, thread, sig);
}

int64_t lx_sigreturn(struct lproc *p)
{
    struct mica_thread_state st;
    uint64_t mask;
    if (mica_thread_read_state(p->thread, &st) != MICA_OK ||
        lx_frame_pop(p, p->cur, &st, &mask) != 0 ||
        mica_thread_write_state(p->thread, &st) != MICA_OK) {
        lx_end(p, 11, MICA_KILL_WITH_CODE);
        return LX_DEFERRED;
    }
    p->threads[p->cur].sigmask = mask & ~(bit(SIGKILL) | bit(SIGSTOP));
    /* Another signal may have become deliverable with the old mask. */
    if (lx_signal_deliver(p, (int64_t)st.x[0], 0))
        return LX_DEFERRED;
    struct mica_msg m = {.info = mica_msg_info(MICA_FAULT_RESUME, 2, 0, 0), .w = {st.pc, st.x[0]}};
    mica_reply(&m);
    return LX_DEFERRED;
}

bool lx_sigmask_wait_begin(struct lproc *p, uint64_t mask)
{
    struct lthread *th = &p->threads[p->cur];
    th->suspend_saved_mask = th->sigmask;
    th->sigsuspended = true;
    th->sigmask = mask & ~(bit(SIGKILL) | bit(SIGSTOP));
    return lx_signal_deliverable(p, p->cur) != 0;
}

void lx_sigmask_wait_end(struct lproc *p, int tid)
{
    for (unsigned t = 0; t < p->thread_cap; t++) {
        struct lthread *th = &p->threads[t];
        if (th->handle && th->tid == tid && th->sigsuspended) {
            th->sigmask = th->suspend_saved_mask;
            th->sigsuspended = false;
        }
    }
}

int64_t lx_sigsuspend(struct lproc *p, uintptr_t mask_va, uint64_t size)
{
    uint64_t mask;
    if (size != 8)
        return -LX_EINVAL;
    if (lx_read(p, mask_va, &mask, 8))
        return -LX_EFAULT;
    struct lthread *th = &p->threads[p->cur];
    th->suspend_saved_mask = th->sigmask;
    th->sigsuspended = true;
    th->sigmask = mask & ~(bit(SIGKILL) | bit(SIGSTOP));
    if (lx_signal_deliverable(p, p->cur))
        return -LX_EINTR; /* delivered on the way out (main.c) */
    if (mica_reply_save(&th->suspend_reply) != MICA_OK) {
        th->sigmask = th->suspend_saved_mask;
        th->sigsuspended = false;
        return -LX_EINTR;
    }
    return LX_DEFERRED;
}
