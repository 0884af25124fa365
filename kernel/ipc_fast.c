/*
 * The IPC fast path. The commonest IPC shapes take it straight from the
 * SVC vector (vectors.S calls el0_svc for every svc from EL0):
 *
 *   - a Linux system call of a MICA_PROCESS_LINUX thread, to its fault
 *     endpoint (what ipc_syscall does);
 *   - MICA_SYS_CALL with at most six words, no handles and no timeout;
 *   - MICA_SYS_REPLY_RECV answering such a caller (a plain reply, or
 *     MICA_SYSCALL_RETURN's x0) and then waiting without a timeout;
 *   - MICA_SYS_RECV that must wait (no timeout): the thread blocks and the
 *     next ready thread runs (sched_block_fast).
 *
 * It applies only when the partner is already waiting and may run at once
 * (no higher-priority thread ready, no pending reschedule, not suspended).
 * Then the message moves register to register, trap frame to trap frame;
 * the current thread blocks with its whole user state in its trap frame,
 * so nothing of its kernel stack is kept; and the CPU switches to the
 * partner. If the fast path blocked the partner too, that is no kernel
 * context switch at all: vectors.S moves to the top of the partner's
 * kernel stack and returns through its frame. A partner blocked by the
 * ordinary path gets its kernel context back (context_load) and finishes
 * its system call there. Everything else returns NULL here and takes the
 * ordinary path (endpoint.c), which gives the same results more slowly.
 *
 * A thread the fast path blocked (thread->fast_op != FAST_NONE) may still
 * be woken by the ordinary path (a sender, a deferred reply, a kill, the
 * endpoint dying): its saved kernel context points at thread_fast_resume,
 * and ipc_fast_resumed finishes its system call from its wake status, as
 * the ordinary path would have on its way out.
 *
 * Locking: the big kernel lock, taken in el0_svc and let go there (or in
 * user_return) on the new thread's way out.
 *
 * Built with -DMICA_IPC_FASTPATH=OFF (MICA_IPC_FASTPATH 0, mica/ipc.h),
 * el0_svc sends every svc to el0_syscall: nothing is ever blocked by the
 * fast path, and the test suite checks that the ordinary path alone gives
 * the same results (guest.virt.slowpath). The code below still compiles.
 */
#include <mica/ipc.h>
#include <mica/printk.h>
#include <mica/sched_switch.h>
#include <mica/syscall.h>
#include <mica/trap.h>

#define LINUX_ENOSYS 38
/* Everything below is inlined into ipc_fast: one stack frame for the path. */
#define FAST static inline __attribute__((always_inline))

void user_return(struct trap_frame *f);

/* May `next` (blocked, off the run queue) run now in place of the current
 * thread without a trip through the run queue? Not if a reschedule is
 * pending, it is suspended, or a higher-priority thread is ready; nor if
 * its wait has a timeout to cancel, a time slice must be armed or its
 * address space needs a new ASID (sched_enter_is_simple): the ordinary path
 * does those, which keeps this one free of calls and so of saved
 * registers. */
FAST bool can_switch_to(struct cpu *c, const struct thread *next)
{
    struct runqueue *rq = c->rq;
    const struct thread *prev = c->current;
    if (c->need_resched || next->suspended || next->timeout.pending)
        return false;
    if (__builtin_expect(rq->ready != 0, 0) && rq_top(rq) > (int)next->priority)
        return false;
    return sched_enter_is_simple(c, prev, next);
}

/* Switch to `next` without a kernel context switch (sched_enter_simple,
 * plus TPIDR_EL0, which context_switch would carry). The current thread
 * has blocked with all its user state in its trap frame; its kernel stack
 * is abandoned. */
FAST void switch_fast(struct cpu *c, struct thread *prev, struct thread *next)
{
    thread_park_fast(prev);
    sched_enter_simple(c, prev, next);
    __asm__ volatile("msr tpidr_el0, %0" ::"r"(next->ctx.tpidr_el0));
}

/* The endpoint handle `value` of p with `rights`, or NULL. */
FAST struct handle *endpoint_handle(struct process *p, uint64_t value, uint32_t rights)
{
    struct handle *h;
    return value >> 32 || handle_table_get(&p->handles, (uint32_t)value, MICA_OBJ_ENDPOINT, rights,
                                           &h) != OK
               ? NULL
               : h;
}

/* Is `info` a message the fast path may carry: registers only, no
 * handles, no timeout? */
FAST bool fast_message(uint64_t info)
{
    return MICA_MSG_WORDS(info) <= MICA_MSG_REG_WORDS && !MICA_MSG_HANDLES(info) && !(info >> 32) &&
           !(info & MICA_MSG_POLL);
}

/* The register message in f (info, six words) into `to`'s frame, as
 * transfer in endpoint.c delivers it: the info's label and length only. */
FAST void put_message(struct trap_frame *to, const struct trap_frame *f, uint64_t badge)
{
    to->x[1] = f->x[1] & 0x07FFFFFFUL;
    for (int i = 2; i < 8; i++)
        to->x[i] = f->x[i];
    to->x[8] = badge;
}

/* The first receiver on ep, if it may run now. */
FAST struct thread *fast_receiver(struct cpu *c, struct endpoint *ep)
{
    struct thread *r = ep->receivers.head;
    return r && can_switch_to(c, r) ? r : NULL;
}

/* The current thread has blocked: run `next`, whose system call is done. */
FAST struct thread *switch_to_partner(struct cpu *c, struct thread *self, struct thread *next)
{
    bool was_fast = next->fast_op != FAST_NONE;
    next->fast_op = FAST_NONE;
    next->wake_status = OK;
    c->ipc_fast++;
    switch_fast(c, self, next);
    if (!was_fast)
        context_load(&next->ctx); /* back into its wait in endpoint.c */
    return next;
}

/* self's message is now in r's frame: r (the first receiver) leaves the endpoint, self waits for
 * r's reply (how: fast_op), and the CPU goes to r. */
FAST struct thread *hand_over(struct cpu *cpu, struct thread *self, struct thread *r,
                              uint8_t ipc_op, uint8_t fast_op)
{
    r->frame->x[0] = OK; /* r's receive succeeded */
    wait_queue_pop(r);
    r->ipc_op = IPC_NONE;
    r->reply_to = self;
    r->reply_abandoned = false;
    self->reply_from = r;
    self->ipc_op = ipc_op;
    self->fast_op = fast_op;
    self->state = THREAD_BLOCKED;
    return switch_to_partner(cpu, self, r);
}

/* A Linux system call: MICA_SYSCALL_LABEL, w0 = x8, w1..w5 = x0..x4. */
FAST struct thread *fast_linux_syscall(struct cpu *cpu, struct thread *self, struct trap_frame *f)
{
    struct endpoint *ep = self->fault_ep;
    struct thread *r = ep ? fast_receiver(cpu, ep) : NULL;
    if (!r || self->killed)
        return NULL;
    uint64_t *x = r->frame->x;
    x[1] = mica_msg_info(MICA_SYSCALL_LABEL, 6, 0, 0);
    x[2] = f->x[8];
    x[3] = f->x[0];
    x[4] = f->x[1];
    x[5] = f->x[2];
    x[6] = f->x[3];
    x[7] = f->x[4];
    x[8] = self->fault_badge;
    return hand_over(cpu, self, r, IPC_AWAIT_FAULT, FAST_AWAIT_SYSCALL);
}

FAST struct thread *fast_call(struct cpu *cpu, struct thread *self, struct trap_frame *f)
{
    struct handle *h;
    if (!fast_message(f->x[1]) || self->killed ||
        !(h = endpoint_handle(self->proc, f->x[0], MICA_RIGHT_WRITE)))
        return NULL;
    struct thread *r = fast_receiver(cpu, (struct endpoint *)h->obj);
    if (!r)
        return NULL;
    put_message(r->frame, f, h->badge);
    return hand_over(cpu, self, r, IPC_AWAIT_REPLY, FAST_AWAIT_REPLY);
}

FAST struct thread *fast_reply_recv(struct cpu *cpu, struct thread *self, struct trap_frame *f)
{
    uint64_t info = f->x[1];
    struct thread *c = self->reply_to;
    struct handle *h;
    if (!fast_message(info) || !c || c->reply_from != self || c->state != THREAD_BLOCKED ||
        (c->ipc_op != IPC_AWAIT_REPLY && c->ipc_op != IPC_AWAIT_FAULT) || !can_switch_to(cpu, c) ||
        (self->bound && self->bound->bits) ||
        !(h = endpoint_handle(self->proc, f->x[0], MICA_RIGHT_READ)))
        return NULL;
    struct endpoint *ep = (struct endpoint *)h->obj;
    if (ep->senders.head)
        return NULL; /* a message waits: the ordinary receive takes it */
    if (c->ipc_op == IPC_AWAIT_FAULT) {
        if (MICA_MSG_LABEL(info) != MICA_SYSCALL_RETURN || MICA_MSG_WORDS(info) < 1)
            return NULL; /* kill, resume elsewhere, a bad verdict: ordinary path */
        c->frame->x[0] = f->x[2];
    } else {
        c->frame->x[0] = OK; /* its call succeeded */
        put_message(c->frame, f, 0);
    }
    self->reply_to = NULL;
    self->reply_abandoned = false;
    c->reply_from = NULL;
    c->ipc_op = IPC_NONE;
    wait_queue_append(&ep->receivers, self);
    self->ipc_op = IPC_RECV;
    self->fast_op = FAST_RECV;
    self->state = THREAD_BLOCKED;
    return switch_to_partner(cpu, self, c);
}

/* recv with nothing to take: wait on the endpoint keeping no kernel
 * context, and run whatever is ready (never returns). A sender or a
 * notification already waiting, a timeout or poll, or a reply still owed
 * (unless MICA_MSG_SAVE_REPLY saves it) take the ordinary path, from here.
 * Out of line: its call to ipc_save_reply_to_x9 would cost el0_svc saved
 * registers on every path. */
__attribute__((noinline)) static struct trap_frame *recv_fast(struct thread *self,
                                                              struct trap_frame *f)
{
    uint64_t info = f->x[1];
    bool save = info & MICA_MSG_SAVE_REPLY;
    struct handle *h;
    if ((info >> 32) || (info & MICA_MSG_POLL) || (self->reply_to && !save) || self->killed ||
        (self->bound && self->bound->bits) ||
        !(h = endpoint_handle(self->proc, f->x[0], MICA_RIGHT_READ)))
        return el0_syscall(f);
    struct endpoint *ep = (struct endpoint *)h->obj;
    if (ep->senders.head)
        return el0_syscall(f);
    if (save) /* from here on the fast path goes through with it */
        ipc_save_reply_to_x9(f);
    self->reply_abandoned = false;
    wait_queue_append(&ep->receivers, self);
    self->ipc_op = IPC_RECV;
    self->fast_op = FAST_RECV;
    self->state = THREAD_BLOCKED;
    sched_block_fast(self);
}

struct trap_frame *el0_svc(struct trap_frame *f)
{
    spin_lock(&kernel_lock);
    if (!MICA_IPC_FASTPATH)
        return el0_syscall(f);
    struct cpu *cpu = this_cpu();
    struct thread *self = cpu->current;
    struct thread *next = NULL;
    if (self->linux_abi)
        next = fast_linux_syscall(cpu, self, f);
    else if (f->x[8] == MICA_SYS_CALL)
        next = fast_call(cpu, self, f);
    else if (f->x[8] == MICA_SYS_REPLY_RECV)
        next = fast_reply_recv(cpu, self, f);
    else if (f->x[8] == MICA_SYS_RECV)
        return recv_fast(self, f);
    if (!next)
        return el0_syscall(f);
    /* The switch left next running with need_resched clear; a kill or new
     * log text still needs user_return's work, on next's own stack. */
    if (__builtin_expect(console_kick_pending || next->killed, 0))
        return (struct trap_frame *)((uintptr_t)next->frame | 1);
    spin_unlock(&kernel_lock);
    return next->frame;
}

void ipc_fast_entered(struct trap_frame *f)
{
    console_kick();
    user_return(f);
}

void ipc_fast_resumed(struct trap_frame *f)
{
    sched_finish_switch();
    struct thread *self = current_thread();
    int err = self->wake_status;
    switch (self->fast_op) {
    case FAST_AWAIT_SYSCALL: /* as send_fault, then syscall_dispatch */
        if (err) {
            ipc_forget_server(self);
            if (!self->killed)
                f->x[0] = (uint64_t)-LINUX_ENOSYS;
        }
        break;
    case FAST_AWAIT_REPLY: /* as ipc_send */
        if (err)
            ipc_forget_server(self);
        f->x[0] = (uint64_t)(int64_t)err;
        break;
    case FAST_RECV: /* as receive: the waker left the message in f */
        f->x[0] = (uint64_t)(int64_t)err;
        break;
    default: break;
    }
    self->ipc_op = IPC_NONE;
    self->fast_op = FAST_NONE;
    console_kick();
    user_return(f);
}
