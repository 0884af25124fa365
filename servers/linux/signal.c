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
 * A process running user code (no system call under way, e.g. a busy
 * loop) is interrupted: we suspend its thread, and unless
 * the kernel reports it waiting for us (MICA_THREAD_IN_HANDLER_CALL: its
 * call's reply will deliver the signal), write the frame and resume it
 * in the handler.
 *
 * With several threads, the first thread found running user code takes
 * it the same way. Not done there: interrupting a call one of them waits
 * in (the signal then waits for the next syscall return of any of them).
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

/* The lowest pending signal p may take now, 0 if none. */
static int deliverable(struct lproc *p)
{
    uint64_t ready = p->sig_pending & ~p->sigmask;
    return ready ? __builtin_ctzl(ready) + 1 : 0;
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
    uint64_t old_mask = p->suspended ? p->suspend_saved_mask : p->sigmask;
    p->sig_pending &= ~bit(sig);
    p->suspended = false;
    if (lx_frame_push(p, p->cur, st, sig, act, old_mask) != 0) {
        lx_end(p, 11 /* SIGSEGV: no room for the frame */, MICA_KILL_WITH_CODE);
        return false;
    }
    p->sigmask = old_mask | act->mask | (act->flags & SA_NODEFER ? 0 : bit(sig));
    p->sigmask &= ~(bit(SIGKILL) | bit(SIGSTOP));
    if (act->flags & SA_RESETHAND)
        memset(act, 0, sizeof(*act));
    return true;
}

/* Thread t of p may be running user code: stop it there and enter the
 * handler now, unless it waits for us (then a reply delivers the signal).
 * True if the handler was entered (or the process ended for want of room
 * for the frame). */
static bool interrupt_thread(struct lproc *p, unsigned t)
{
    struct mica_thread_state st;
    int sig = deliverable(p);
    mica_handle_t thread = p->threads[t].handle;
    if (!sig || !thread || mica_thread_suspend(thread) != MICA_OK)
        return false;
    p->cur = t; /* enter_handler's thread (its alternate stack) */
    p->thread = thread;
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

/* A process with several threads: the first one running user code takes
 * the signal; if all wait in calls, the next one to come back does. The
 * thread being served (p->cur) is left as it was. */
static void interrupt_some_thread(struct lproc *p)
{
    unsigned cur = p->cur;
    mica_handle_t thread = p->thread;
    for (unsigned i = 0; i < LX_MAX_THREADS && p->used && deliverable(p); i++)
        if (p->threads[i].handle && interrupt_thread(p, i))
            break;
    if (p->used) {
        p->cur = cur;
        p->thread = thread;
    }
}

/* Answer p's syscall (through `reply`, or the current caller if 0) by
 * entering the handler of its lowest deliverable signal; the syscall's
 * result goes into the saved registers. False if none is deliverable. */
bool lx_signal_deliver(struct lproc *p, int64_t result, mica_handle_t reply)
{
    struct mica_thread_state st;
    int sig = deliverable(p);
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

/* The saved reply of p's waiting syscall, taken from whoever holds it. */
static mica_handle_t take_deferred(struct lproc *p)
{
    mica_handle_t r = p->wait_reply ? p->wait_reply : p->suspend_reply;
    if (r) {
        p->wait_reply = p->wait_reply == r ? 0 : p->wait_reply;
        p->suspend_reply = p->suspend_reply == r ? 0 : p->suspend_reply;
        return r;
    }
    if ((r = lx_console_take(p)) != 0 || (r = lx_timer_take(p)) != 0 ||
        (r = lx_pipe_take(p)) != 0 || (r = lx_poll_take(p)) != 0 || (r = lx_futex_take(p)) != 0)
        return r;
    return 0;
}

void lx_signal_send(struct lproc *t, int sig)
{
    if (!t || t->zombie || sig < 1 || sig > 64)
        return;
    uint64_t handler = t->actions[sig].handler;
    if (sig == SIGKILL || sig == SIGSTOP || (handler == 0 && !ignored_by_default(sig))) {
        lx_end(t, sig, MICA_KILL_WITH_CODE); /* the default action: terminate */
        return;
    }
    if (handler == SIG_IGN || handler == 0)
        return;
    t->sig_pending |= bit(sig);
    if (!deliverable(t))
        return; /* blocked: delivered when unblocked, at a syscall's return */
    unsigned threads = 0, last = 0;
    for (unsigned i = 0; i < LX_MAX_THREADS; i++)
        if (t->threads[i].handle)
            threads++, last = i;
    if (threads != 1) { /* which thread waits in a call is not recorded */
        interrupt_some_thread(t);
        return;
    }
    t->cur = last; /* the only thread (the last caller may have exited) */
    t->thread = t->threads[last].handle;
    mica_handle_t reply = take_deferred(t);
    if (reply && !lx_signal_deliver(t, -LX_EINTR, reply)) {
        lx_answer(reply, -LX_EINTR); /* a wait it had already left: running now */
        reply = 0;
    }
    if (!reply)
        interrupt_thread(t, last); /* not waiting in a call: running, or queued to us */
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
    p->sigmask = mask & ~(bit(SIGKILL) | bit(SIGSTOP));
    /* Another signal may have become deliverable with the old mask. */
    if (lx_signal_deliver(p, (int64_t)st.x[0], 0))
        return LX_DEFERRED;
    struct mica_msg m = {.info = mica_msg_info(MICA_FAULT_RESUME, 2, 0, 0), .w = {st.pc, st.x[0]}};
    mica_reply(&m);
    return LX_DEFERRED;
}

int64_t lx_sigsuspend(struct lproc *p, uintptr_t mask_va, uint64_t size)
{
    uint64_t mask;
    if (size != 8)
        return -LX_EINVAL;
    if (lx_read(p, mask_va, &mask, 8))
        return -LX_EFAULT;
    p->suspend_saved_mask = p->sigmask;
    p->suspended = true;
    p->sigmask = mask & ~(bit(SIGKILL) | bit(SIGSTOP));
    if (deliverable(p))
        return -LX_EINTR; /* delivered on the way out (main.c) */
    if (mica_reply_save(&p->suspend_reply) != MICA_OK) {
        p->sigmask = p->suspend_saved_mask;
        p->suspended = false;
        return -LX_EINTR;
    }
    return LX_DEFERRED;
}
