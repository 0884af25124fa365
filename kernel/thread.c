/*
 * Thread objects (see mica/thread.h): creation with a kernel stack whose
 * top holds the user register frame, start at an entry point, exit and
 * kill. The scheduler itself is in sched.c.
 */
#include <mica/ipc.h>
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/process.h>
#include <mica/status.h>
#include <mica/thread.h>
#include <mica/vm.h>
#include <stddef.h>
#include <string.h>

/* arch/aarch64/switch.S stores these by offset. */
_Static_assert(offsetof(struct context, sp) == 96, "switch.S: sp");
_Static_assert(offsetof(struct context, tpidr_el0) == 104, "switch.S: tpidr_el0");

static struct kmem_cache thread_cache;

void thread_init(void)
{
    if (kmem_cache_init(&thread_cache, "thread", sizeof(struct thread), 16, &kernel_slab_pages))
        panic("thread: cannot create the thread cache");
}

int thread_create(struct process *proc, struct process *payer, unsigned priority,
                  struct thread **out)
{
    if (priority >= NUM_PRIORITIES)
        return ERR_INVALID_ARGS;
    if (proc->dead || proc->terminating)
        return ERR_BAD_STATE;
    if (proc->n_threads >= PROCESS_MAX_THREADS)
        return ERR_LIMIT;
    struct charge charge = {0};
    int err = charge_take(&charge, payer, KSTACK_PAGES + 1);
    if (err)
        return err;
    struct thread *t = kmem_cache_alloc(&thread_cache);
    paddr_t stack;
    if (!t || page_alloc_pages(&kernel_page_alloc, KSTACK_PAGES, &stack) != OK) {
        if (t)
            kmem_cache_free(&thread_cache, t);
        charge_release(&charge);
        return ERR_NO_MEMORY;
    }
    object_init(&t->obj, MICA_OBJ_THREAD);
    t->charge = charge;
    t->kstack = phys_to_virt(stack);
    t->frame = (struct trap_frame *)((char *)t->kstack + KSTACK_PAGES * PAGE_SIZE) - 1;
    memset(t->frame, 0, sizeof(*t->frame));
    t->priority = (uint8_t)priority;
    t->state = THREAD_NEW;
    t->proc = proc;
    t->linux_abi = proc->linux_abi; /* fixed before any thread exists */
    object_ref(&proc->obj);
    t->proc_next = proc->threads;
    proc->threads = t;
    proc->n_threads++;
    *out = t;
    return OK;
}

int thread_start(struct thread *t, uint64_t pc, uint64_t sp, uint64_t arg0, uint64_t arg1)
{
    if (t->state != THREAD_NEW || t->killed)
        return ERR_BAD_STATE;
    if (pc >= MICA_USER_END || sp >= MICA_USER_END || (sp & 15))
        return ERR_INVALID_ARGS;
    t->frame->elr = pc;
    t->frame->sp = sp;
    t->frame->spsr = 0; /* EL0t, interrupts unmasked */
    t->frame->x[0] = arg0;
    t->frame->x[1] = arg1;
    uint64_t tpidr = t->ctx.tpidr_el0; /* thread_write_state may have set it */
    memset(&t->ctx, 0, sizeof(t->ctx));
    t->ctx.tpidr_el0 = tpidr;
    t->ctx.sp = (uintptr_t)t->frame;
    t->ctx.lr = (uintptr_t)thread_enter_user;
    process_mark_started(t->proc);
    t->state = THREAD_BLOCKED; /* sched_ready() expects a non-ready thread */
    sched_ready(t);
    return OK;
}

void thread_exit_current(void)
{
    struct thread *t = current_thread();
    ASSERT(!t->is_idle);
    t->state = THREAD_DEAD;
    if (t->timeout.pending)
        timer_cancel(&t->timeout);
    ipc_thread_exit(t);
    fpsimd_release(t);
    process_thread_exited(t->proc, t);
    schedule(); /* the next thread frees our stack (sched_finish_switch) */
    panic("thread_exit_current: a dead thread was scheduled");
}

void thread_kill(struct thread *t)
{
    if (t->state == THREAD_DEAD || t->killed)
        return;
    t->killed = true;
    if (t->state == THREAD_NEW) {
        /* Never started: nothing runs it, so finish it here. */
        t->state = THREAD_DEAD;
        ipc_thread_exit(t);
        process_thread_exited(t->proc, t);
        page_free_pages(&kernel_page_alloc, virt_to_phys(t->kstack), KSTACK_PAGES);
        t->kstack = NULL;
        object_unref(&t->obj);
        return;
    }
    /* A dying thread is never parked, and runs soon even if its priority
     * is low, so that its process ends promptly. */
    t->suspended = false;
    if (t->state == THREAD_SUSPENDED)
        t->state = THREAD_BLOCKED;
    sched_set_priority(t, NUM_PRIORITIES - 1);
    if (t->state == THREAD_BLOCKED)
        thread_wake(t, ERR_PEER_CLOSED);
    /* READY or RUNNING: it exits on its way out of the kernel. */
}

void thread_destroy(struct object *obj)
{
    struct thread *t = (struct thread *)obj;
    /* A thread holds its own reference until it has exited (and, if never
     * started, until its process ends and kills it). */
    ASSERT(t->state == THREAD_DEAD && !t->kstack);
    charge_release(&t->charge);
    object_unref(&t->proc->obj);
    kmem_cache_free(&thread_cache, t);
}
