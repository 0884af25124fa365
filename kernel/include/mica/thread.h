/*
 * Threads and the scheduler. A thread has a kernel stack whose top holds
 * its saved user registers (struct trap_frame), a kernel context for
 * switching (callee-saved registers), a priority (0..255, higher runs
 * first) and a state. The scheduler keeps one run queue per CPU: a list per
 * priority and a bitmap of non-empty lists; round robin within a priority,
 * with a time slice armed only while another thread of the same priority
 * is ready (no periodic tick).
 *
 * Blocking: a thread waits on a wait_queue with a deadline; whoever wakes
 * it passes a status that the sleeper's wait call returns.
 *
 * Locking: the big kernel lock (mica/object.h) covers all of it; it is
 * handed from thread to thread across context_switch().
 */
#ifndef MICA_THREAD_H
#define MICA_THREAD_H

#include <mica/charge.h>
#include <mica/cpu.h>
#include <mica/object.h>
#include <mica/timer.h>

#define KSTACK_PAGES 4
#define NUM_PRIORITIES 256
#define TIME_SLICE_NS 10000000UL /* 10 ms */

struct process;
struct wait_queue;

/* Callee-saved state for context_switch (arch/aarch64/switch.S). */
struct context {
    uint64_t x19_x28[10];
    uint64_t fp, lr, sp;
    uint64_t tpidr_el0; /* the user thread pointer (TLS) */
};

enum thread_state {
    THREAD_NEW,
    THREAD_READY,
    THREAD_RUNNING,
    THREAD_BLOCKED,
    THREAD_SUSPENDED, /* parked by thread_suspend: on no queue */
    THREAD_DEAD,
};

struct thread {
    struct object obj;
    struct process *proc; /* holds a reference */
    struct thread *proc_next;
    struct context ctx;
    void *kstack;             /* KSTACK_PAGES pages */
    struct trap_frame *frame; /* user registers, at the top of kstack */
    uint8_t priority;
    enum thread_state state;
    bool suspended;
    bool killed;    /* exit at the next return towards EL0 */
    bool linux_abi; /* its process's MICA_PROCESS_LINUX: one load on the syscall path */
    bool is_idle;
    struct thread *rq_next, *rq_prev;

    /* Waiting (sched.c). */
    struct wait_queue *wq;
    struct thread *wq_next, *wq_prev;
    struct timer timeout;
    int wake_status;

    /* IPC (endpoint.c). A caller waiting for its reply and the server
     * that owes it are linked both ways; either side dying breaks it. */
    uint8_t ipc_op;          /* IPC_* while queued on an endpoint */
    uint8_t fast_op;         /* FAST_* (ipc_fast.c): blocked by the fast path, kernel stack empty */
    uint64_t ipc_badge;      /* badge of the endpoint handle used to send */
    struct thread *reply_to; /* server: the caller awaiting our reply */
    struct thread *reply_from;     /* caller: the server that owes us one */
    bool reply_abandoned;          /* server: our caller left (timeout, death) */
    struct reply_obj *saved_reply; /* caller: the reply object it waits on */
    struct vmo *ipc_buffer_vmo;    /* holds a reference; the buffer page is pinned */
    paddr_t ipc_buffer_pa;
    struct notification *bound; /* holds a reference (notification.c) */
    struct endpoint *fault_ep;  /* holds a reference: where our faults go */
    uint64_t fault_badge;
    uint64_t fault_msg[7]; /* info + 6 words of a pending fault message */
    /* FP/SIMD state, switched lazily (fpsimd.c): q0-q31, FPSR, FPCR. */
    struct charge charge; /* kernel stack + struct, paid by the creator */
    bool fp_used;
    uint64_t fp_regs[66] __attribute__((aligned(16)));
};

struct wait_queue {
    struct thread *head, *tail;
};

struct runqueue {
    struct thread *head[NUM_PRIORITIES], *tail[NUM_PRIORITIES];
    uint64_t bitmap[NUM_PRIORITIES / 64];
    unsigned ready;
};

void thread_init(void); /* boot: thread cache */
/* A thread of proc; its kernel stack is charged to payer (the creator). */
int thread_create(struct process *proc, struct process *payer, unsigned priority,
                  struct thread **out);
int thread_start(struct thread *t, uint64_t pc, uint64_t sp, uint64_t arg0, uint64_t arg1);
/* End the calling thread (never returns). */
NORETURN void thread_exit_current(void);
/* Kill t: if it is the caller, exits now; otherwise it is woken (with
 * ERR_PEER_CLOSED) and exits on its way out of the kernel. */
void thread_kill(struct thread *t);

/* sched.c */
void sched_init_cpu(void);          /* turns the boot context into the idle thread */
NORETURN void sched_run_idle(void); /* the boot CPU's last step in kernel_main */
void sched_ready(struct thread *t); /* make runnable */
void schedule(void);                /* give up the CPU; returns when picked again */
void sched_yield(void);
void sched_finish_switch(void); /* after a context switch: free a dead thread's stack */
void sched_preempt_check(void); /* on the way to EL0: switch if asked */
/* Suspension and priority changes (thread.c calls these). */
void sched_suspend(struct thread *t);
void sched_resume(struct thread *t);
void sched_set_priority(struct thread *t, unsigned priority);
static inline struct thread *current_thread(void)
{
    return this_cpu()->current;
}

/* Block the current thread on wq until woken or until deadline (absolute ns;
 * MICA_DEADLINE_INFINITE for none). Returns the waker's status or
 * ERR_TIMED_OUT. */
int wait_queue_block(struct wait_queue *wq, uint64_t deadline);
/* The general form: block on wq (may be NULL: woken only by name or by
 * the deadline), and if handoff is given, run it next (its wake status is
 * already set). */
int thread_block(struct wait_queue *wq, uint64_t deadline, struct thread *handoff);
/* Make a thread that was handed to us for a direct switch runnable the
 * ordinary way after all (its wake status is already set). */
void sched_wake_handoff(struct thread *t);
/* For the IPC fast path (ipc_fast.c), which switches threads inline, and
 * mica/sched_switch.h: the run queues, their highest ready priority (-1:
 * none), and the time slice. */
extern struct runqueue runqueues[MAX_CPUS];
/* Highest priority with a ready thread, or -1. Inline: the IPC fast path
 * asks on every hand-off and makes no calls. */
static inline int rq_top(const struct runqueue *rq)
{
    for (int w = NUM_PRIORITIES / 64 - 1; w >= 0; w--)
        if (rq->bitmap[w])
            return w * 64 + 63 - __builtin_clzl(rq->bitmap[w]);
    return -1;
}
void slice_arm(struct cpu *c); /* sched.c: the time slice from now */

/* The running thread changed, or one of its priority became ready: arm
 * the time slice if another thread of that priority waits and none runs;
 * the idle thread takes no slice. Otherwise nothing: a running slice keeps
 * its deadline, and with no competitor left a pending one stays armed
 * rather than being cancelled and re-armed at every IPC hand-off (if it
 * fires with nobody waiting it is ignored). Inline: it is on every switch. */
static inline void update_slice(struct cpu *c, struct runqueue *rq)
{
    struct thread *cur = c->current;
    if (cur->is_idle) {
        if (c->slice.pending)
            timer_cancel(&c->slice);
    } else if (!c->slice.pending && rq->head[cur->priority]) {
        slice_arm(c);
    }
}

void thread_fast_resume(void); /* ctx.lr of a thread blocked by the IPC fast path */
/* The IPC fast path blocked t (and set t->fast_op) with all its user
 * state in its trap frame: its kernel stack holds nothing. Keeps its
 * TPIDR_EL0; the rest of its kernel context is made only if the ordinary
 * path ever resumes it (thread_fast_ctx), as the fast path does not. */
static inline void thread_park_fast(struct thread *t)
{
    uint64_t tpidr;
    __asm__ volatile("mrs %0, tpidr_el0" : "=r"(tpidr));
    t->ctx.tpidr_el0 = tpidr;
}
/* Before a context switch or load to t (sched.c): a thread the fast path
 * parked starts afresh at thread_fast_resume on an empty stack. */
static inline void thread_fast_ctx(struct thread *t)
{
    if (t->fast_op) { /* not FAST_NONE (mica/ipc.h) */
        t->ctx.sp = (uintptr_t)t->frame;
        t->ctx.lr = (uintptr_t)thread_fast_resume;
        t->ctx.fp = 0;
    }
}
/* The current thread, parked so, gives the CPU to the next ready thread
 * (or idle) without saving a kernel context. */
NORETURN void sched_block_fast(struct thread *prev);

/* Queue t at the tail of wq / take it off its queue (if any), no wake-up.
 * Inline: the IPC fast path does both on every call. */
static inline void wait_queue_append(struct wait_queue *wq, struct thread *t)
{
    t->wq = wq;
    t->wq_next = NULL;
    t->wq_prev = wq->tail;
    if (wq->tail)
        wq->tail->wq_next = t;
    else
        wq->head = t;
    wq->tail = t;
}

static inline void wait_queue_remove(struct thread *t)
{
    struct wait_queue *wq = t->wq;
    if (!wq)
        return;
    if (t->wq_prev)
        t->wq_prev->wq_next = t->wq_next;
    else
        wq->head = t->wq_next;
    if (t->wq_next)
        t->wq_next->wq_prev = t->wq_prev;
    else
        wq->tail = t->wq_prev;
    t->wq = NULL;
    t->wq_next = t->wq_prev = NULL;
}

/* wait_queue_remove for the first thread on its queue. */
static inline void wait_queue_pop(struct thread *t)
{
    struct wait_queue *wq = t->wq;
    struct thread *next = t->wq_next;
    wq->head = next;
    if (next)
        next->wq_prev = NULL;
    else
        wq->tail = NULL;
    t->wq = NULL;
    t->wq_next = NULL;
}
/* Wake the first waiter / every waiter with status; returns how many. */
unsigned wait_queue_wake_one(struct wait_queue *wq, int status);
unsigned wait_queue_wake_all(struct wait_queue *wq, int status);
/* Wake t out of whatever wait it is in. */
void thread_wake(struct thread *t, int status);

/* fpsimd.c: lazy FP/SIMD switching */
void fpsimd_init_cpu(void);
void fpsimd_trap(struct thread *t); /* EL0 touched FP/SIMD */
#define CPACR_FPEN_SHIFT 20
#define FPEN_TRAP_EL0 1UL
#define FPEN_NO_TRAP 3UL
/* Set CPACR_EL1.FPEN on CPU c (the kernel uses no other CPACR_EL1 field). */
static inline void fpsimd_set_fpen(struct cpu *c, uint64_t value)
{
    if (c->fpen == value)
        return;
    c->fpen = value;
    __asm__ volatile("msr cpacr_el1, %0\n isb" ::"r"(value << CPACR_FPEN_SHIFT));
}
/* The scheduler switches to next: EL0 FP/SIMD traps unless next owns the
 * registers. Inline: it is on the IPC fast path. */
static inline void fpsimd_switch(struct cpu *c, struct thread *next)
{
    fpsimd_set_fpen(c, c->fp_owner == next ? FPEN_NO_TRAP : FPEN_TRAP_EL0);
}
void fpsimd_release(struct thread *t); /* t is exiting */
/* A stopped thread's registers, in fp_regs' layout (thread_read_fp/_write_fp). */
void fpsimd_get(struct thread *t, uint64_t area[66]);
void fpsimd_set(struct thread *t, const uint64_t area[66]);

/* arch/aarch64/switch.S */
void context_switch(struct context *from, struct context *to);
NORETURN void context_load(struct context *to);
void thread_enter_user(void);

#endif
