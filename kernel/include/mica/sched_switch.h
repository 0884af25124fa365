/*
 * How the CPU passes from one thread to the next, in one place for every
 * switch: schedule, the IPC hand-off (switch_to), sched_block_fast in
 * sched.c, and the IPC fast path (ipc_fast.c). Inline, because the fast
 * path runs it on every call. The caller then changes stacks
 * (context_switch, context_load, or vectors.S for the fast path).
 * Under the big kernel lock.
 */
#ifndef MICA_SCHED_SWITCH_H
#define MICA_SCHED_SWITCH_H

#include <mica/aspace.h>
#include <mica/thread.h>

/* May sched_enter_simple switch from prev to next: no time slice to arm
 * (update_slice, with neither thread idle: none with nothing ready) and no
 * ASID to assign? */
static inline bool sched_enter_is_simple(const struct cpu *c, const struct thread *prev,
                                         const struct thread *next)
{
    return (!c->rq->ready || c->slice.pending || !c->rq->head[next->priority]) &&
           (prev->proc == next->proc || !aspace_asid_stale(next->proc->aspace));
}
/* next (off the run queue) becomes the running thread in place of prev:
 * the scheduler's bookkeeping, next's address space and the lazy-FP trap.
 * No calls: the IPC fast path uses it after checking sched_enter_is_simple. */
static inline void sched_enter_simple(struct cpu *c, struct thread *prev, struct thread *next)
{
    next->state = THREAD_RUNNING;
    c->current = next;
    c->need_resched = false;
    if (prev->proc != next->proc)
        aspace_load(c, next->proc->aspace);
    fpsimd_switch(c, next);
}
/* The same, first arming the time slice or assigning an ASID if needed. For
 * switches between two threads of processes (switch_to in sched.c). */
static inline void sched_enter_thread(struct cpu *c, struct thread *prev, struct thread *next)
{
    if (!c->slice.pending && c->rq->head[next->priority])
        slice_arm(c);
    if (prev->proc != next->proc && aspace_asid_stale(next->proc->aspace))
        aspace_assign_asid(next->proc->aspace);
    sched_enter_simple(c, prev, next);
}

/* The same when either may be the idle thread (schedule, sched_block_fast):
 * idle keeps whatever address space was active and takes no slice. */
static inline void sched_enter(struct cpu *c, struct thread *prev, struct thread *next)
{
    if (!prev->is_idle && !next->is_idle) {
        sched_enter_thread(c, prev, next);
        return;
    }
    next->state = THREAD_RUNNING;
    c->current = next;
    c->need_resched = false;
    update_slice(c, c->rq);
    if (!next->is_idle)
        aspace_activate(next->proc->aspace);
    fpsimd_switch(c, next);
}

#endif
