/*
 * The scheduler (see mica/thread.h): per-CPU run queues, context switches,
 * the idle loop, preemption and time slices, and wait queues with
 * deadlines. Everything runs under the big kernel lock with interrupts
 * masked; only the idle loop's WFI and EL0 run with interrupts on.
 */
#include <arch/irqflags.h>
#include <mica/aspace.h>
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/process.h>
#include <mica/sched_switch.h>
#include <mica/status.h>
#include <mica/thread.h>
#include <mica/vm.h>

struct runqueue runqueues[MAX_CPUS];
static struct thread idle_threads[MAX_CPUS];

static void rq_push(struct runqueue *rq, struct thread *t)
{
    unsigned p = t->priority;
    t->rq_next = NULL;
    t->rq_prev = rq->tail[p];
    if (rq->tail[p])
        rq->tail[p]->rq_next = t;
    else
        rq->head[p] = t;
    rq->tail[p] = t;
    rq->bitmap[p / 64] |= 1UL << (p % 64);
    rq->ready++;
}

static void rq_remove(struct runqueue *rq, struct thread *t)
{
    unsigned p = t->priority;
    if (t->rq_prev)
        t->rq_prev->rq_next = t->rq_next;
    else
        rq->head[p] = t->rq_next;
    if (t->rq_next)
        t->rq_next->rq_prev = t->rq_prev;
    else
        rq->tail[p] = t->rq_prev;
    if (!rq->head[p])
        rq->bitmap[p / 64] &= ~(1UL << (p % 64));
    t->rq_next = t->rq_prev = NULL;
    rq->ready--;
}

/* The slice ran out: switch if a thread of the running priority waits
 * (the timer may have outlived the competition: see update_slice). */
static void slice_expired(struct timer *t, void *arg)
{
    (void)t;
    (void)arg;
    struct cpu *c = this_cpu();
    if (!c->current->is_idle && runqueues[c->id].head[c->current->priority])
        c->need_resched = true;
}

/* A time slice from now (update_slice in mica/thread.h decides when). */
void slice_arm(struct cpu *c)
{
    timer_arm(&c->slice, time_now_ns() + TIME_SLICE_NS, slice_expired, NULL);
}

void sched_ready(struct thread *t)
{
    struct cpu *c = this_cpu();
    struct runqueue *rq = &runqueues[c->id];
    ASSERT(t->state != THREAD_READY && t->state != THREAD_DEAD);
    if (t->suspended) {
        t->state = THREAD_SUSPENDED; /* runnable, but parked until resumed */
        return;
    }
    t->state = THREAD_READY;
    rq_push(rq, t);
    if (c->current->is_idle || t->priority > c->current->priority)
        c->need_resched = true;
    else if (t->priority == c->current->priority)
        update_slice(c, rq);
}

void sched_finish_switch(void)
{
    struct cpu *c = this_cpu();
    struct thread *dead = c->reap;
    if (dead) {
        c->reap = NULL;
        page_free_pages(&kernel_page_alloc, virt_to_phys(dead->kstack), KSTACK_PAGES);
        dead->kstack = NULL;
        object_unref(&dead->obj); /* the thread's own "alive" reference */
    }
}

/* The highest-priority ready thread (or idle) becomes the current one, with
 * its address space and FP trap setting; the caller switches stacks.
 * schedule and sched_block_fast share it. */
static struct thread *run_next(struct cpu *c, struct runqueue *rq, struct thread *prev)
{
    int top = rq_top(rq);
    struct thread *next = top >= 0 ? rq->head[top] : c->idle;
    if (top >= 0)
        rq_remove(rq, next);
    sched_enter(c, prev, next);
    return next;
}

void schedule(void)
{
    struct cpu *c = this_cpu();
    struct runqueue *rq = &runqueues[c->id];
    struct thread *prev = c->current;
    if (prev->state == THREAD_RUNNING && !prev->is_idle) {
        prev->state = THREAD_READY;
        rq_push(rq, prev);
    } else if (prev->state == THREAD_DEAD) {
        c->reap = prev;
    }
    struct thread *next = run_next(c, rq, prev);
    if (next == prev)
        return;
    thread_fast_ctx(next);
    context_switch(&prev->ctx, &next->ctx);
    sched_finish_switch();
}

void sched_block_fast(struct thread *prev)
{
    struct cpu *c = this_cpu();
    struct runqueue *rq = &runqueues[c->id];
    thread_park_fast(prev);
    struct thread *next = run_next(c, rq, prev);
    thread_fast_ctx(next);
    context_load(&next->ctx); /* its own kernel context, or thread_fast_resume */
}

void sched_yield(void)
{
    schedule();
}

void sched_init_cpu(void)
{
    struct cpu *c = this_cpu();
    struct thread *idle = &idle_threads[c->id];
    idle->is_idle = true;
    idle->state = THREAD_RUNNING;
    idle->priority = 0;
    c->idle = c->current = idle;
    c->rq = &runqueues[c->id];
}

void sched_run_idle(void)
{
    struct cpu *c = this_cpu();
    for (;;) {
        arch_irq_disable();
        spin_lock(&kernel_lock);
        while (runqueues[c->id].ready)
            schedule();
        sched_finish_switch();
        spin_unlock(&kernel_lock);
        c->idle_wfi_count++;
        __asm__ volatile("dsb sy\n wfi" ::: "memory");
        arch_irq_enable(); /* take the interrupt that woke us */
    }
}

/* On the way back to EL0 (trap return): honour kill, suspension, then
 * preemption. */
void sched_preempt_check(void)
{
    struct cpu *c = this_cpu();
    while (c->need_resched || c->current->killed || c->current->suspended) {
        if (c->current->killed)
            thread_exit_current();
        if (c->current->suspended)
            c->current->state = THREAD_SUSPENDED;
        schedule();
    }
}

void sched_suspend(struct thread *t)
{
    if (t->killed)
        return; /* dying threads are not parked */
    t->suspended = true;
    if (t->state == THREAD_READY) {
        rq_remove(&runqueues[this_cpu()->id], t);
        t->state = THREAD_SUSPENDED;
    }
    /* RUNNING: parks on its way to EL0; BLOCKED: parks when woken. */
}

void sched_resume(struct thread *t)
{
    t->suspended = false;
    if (t->state == THREAD_SUSPENDED) {
        t->state = THREAD_BLOCKED;
        sched_ready(t);
    }
}

void sched_set_priority(struct thread *t, unsigned priority)
{
    struct runqueue *rq = &runqueues[this_cpu()->id];
    if (t->state == THREAD_READY) {
        rq_remove(rq, t);
        t->priority = (uint8_t)priority;
        t->state = THREAD_BLOCKED;
        sched_ready(t);
    } else {
        t->priority = (uint8_t)priority;
        if (t == this_cpu()->current && rq_top(rq) > (int)priority)
            this_cpu()->need_resched = true;
    }
}

/* ---- wait queues ---- */

void thread_wake(struct thread *t, int status)
{
    if (t->state != THREAD_BLOCKED)
        return;
    if (t->wq)
        wait_queue_remove(t);
    if (t->timeout.pending)
        timer_cancel(&t->timeout);
    t->wake_status = status;
    sched_ready(t);
}

/* Timer callback: runs in the interrupt path, which holds the kernel lock. */
static void wait_timed_out(struct timer *timer, void *arg)
{
    (void)timer;
    thread_wake(arg, ERR_TIMED_OUT);
}

/* Hand the CPU straight to `next` (blocked, off every queue), skipping the
 * run queue unless a higher-priority thread is waiting for it: the IPC fast
 * path. The caller has already set its own state. */
static void switch_to(struct thread *next)
{
    struct cpu *c = this_cpu();
    struct runqueue *rq = &runqueues[c->id];
    if (next->timeout.pending)
        timer_cancel(&next->timeout);
    if (rq_top(rq) > (int)next->priority) {
        next->state = THREAD_BLOCKED;
        sched_ready(next);
        schedule();
        return;
    }
    struct thread *prev = c->current;
    if (prev->state == THREAD_RUNNING) {
        prev->state = THREAD_READY;
        rq_push(rq, prev);
    }
    sched_enter_thread(c, prev, next);
    thread_fast_ctx(next);
    context_switch(&prev->ctx, &next->ctx);
    sched_finish_switch();
}

int thread_block(struct wait_queue *wq, uint64_t deadline, struct thread *handoff)
{
    struct thread *t = current_thread();
    int early = OK;
    if (deadline == MICA_DEADLINE_NONE ||
        (deadline != MICA_DEADLINE_INFINITE && deadline <= time_now_ns()))
        early = ERR_TIMED_OUT;
    else if (t->killed)
        early = ERR_PEER_CLOSED;
    if (early) {
        if (handoff)
            sched_wake_handoff(handoff); /* it still gets to run */
        return early;
    }
    if (wq)
        wait_queue_append(wq, t);
    if (deadline != MICA_DEADLINE_INFINITE)
        timer_arm(&t->timeout, deadline, wait_timed_out, t);
    t->state = THREAD_BLOCKED;
    if (handoff)
        switch_to(handoff);
    else
        schedule();
    return t->wake_status;
}

void sched_wake_handoff(struct thread *t)
{
    if (t->timeout.pending)
        timer_cancel(&t->timeout);
    sched_ready(t);
}

int wait_queue_block(struct wait_queue *wq, uint64_t deadline)
{
    return thread_block(wq, deadline, NULL);
}

unsigned wait_queue_wake_one(struct wait_queue *wq, int status)
{
    if (!wq->head)
        return 0;
    thread_wake(wq->head, status);
    return 1;
}

unsigned wait_queue_wake_all(struct wait_queue *wq, int status)
{
    unsigned n = 0;
    while (wq->head) {
        thread_wake(wq->head, status);
        n++;
    }
    return n;
}
