/*
 * Process objects (see mica/process.h). Created by the kernel for init and
 * by sys_process_create; each owns an address space and a handle table.
 *
 * Memory accounting. Every page the kernel allocates for userspace (VMO
 * pages and page lists, page tables, thread stacks, the structs of
 * processes) is charged to one process, its payer, and counts against the
 * payer's page_limit and against every limit up the payer chain. Who pays
 * for a new process (by default its creator) is its parent in this tree,
 * and the child starts with the parent's limit. init, made by the kernel,
 * is the root: its own use is not limited, but its limit (the RAM free
 * when it starts, less a reserve the kernel keeps for itself) is what its
 * children inherit. So a subtree's limits are a budget: a server can make
 * a pool process (never started) whose limit is what its clients may take
 * together, and have each client's process paid by the pool, with a limit
 * of its own below it.
 */
#include <mica/aspace.h>
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/printk.h>
#include <mica/process.h>
#include <mica/status.h>
#include <string.h>

static struct kmem_cache process_cache;

void process_init(void)
{
    if (kmem_cache_init(&process_cache, "process", sizeof(struct process), 8, &kernel_slab_pages))
        panic("process: cannot create the process cache");
}

int process_create(const char *name, size_t name_len, struct process *payer, struct process **out)
{
    struct charge charge = {0};
    int err = charge_take(&charge, payer, PROCESS_COST);
    if (err)
        return err;
    struct process *p = kmem_cache_alloc(&process_cache);
    if (!p) {
        charge_release(&charge);
        return ERR_NO_MEMORY;
    }
    p->charge = charge;
    p->page_limit = payer ? payer->page_limit : SIZE_MAX;
    object_init(&p->obj, MICA_OBJ_PROCESS);
    p->log_tokens = PROCESS_LOG_BURST;
    p->log_refilled_at = time_now_ns();
    size_t n = MIN(name_len, sizeof(p->name) - 1);
    memcpy(p->name, name, n);
    p->name[n] = '\0';
    err = aspace_create(payer, &p->aspace);
    if (err) {
        object_counts[MICA_OBJ_PROCESS]--;
        charge_release(&p->charge);
        kmem_cache_free(&process_cache, p);
        return err;
    }
    *out = p;
    return OK;
}

/*
 * Limits are hierarchical: what a process uses also counts against the
 * process that created it, and so on up to one of init's children (init,
 * created by the kernel, is unlimited). A process cannot escape its limit
 * by creating children with budgets of their own.
 */
int process_charge(struct process *p, size_t pages)
{
    for (struct process *q = p; q && q->charge.payer; q = q->charge.payer)
        if (q->pages_charged > q->page_limit || pages > q->page_limit - q->pages_charged)
            return ERR_LIMIT;
    for (struct process *q = p; q && q->charge.payer; q = q->charge.payer)
        q->pages_charged += pages;
    return OK;
}

void process_uncharge(struct process *p, size_t pages)
{
    for (struct process *q = p; q && q->charge.payer; q = q->charge.payer) {
        ASSERT(pages <= q->pages_charged);
        q->pages_charged -= pages;
    }
}

size_t process_room(const struct process *p)
{
    size_t room = SIZE_MAX;
    for (const struct process *q = p; q && q->charge.payer; q = q->charge.payer) {
        size_t left = q->pages_charged > q->page_limit ? 0 : q->page_limit - q->pages_charged;
        room = MIN(room, left);
    }
    return room;
}

bool process_is_under(const struct process *p, const struct process *ancestor)
{
    for (const struct process *q = p; q; q = q->charge.payer)
        if (q == ancestor)
            return true;
    return false;
}

/*
 * Anyone who may manage p may lower its limit, p itself included (as
 * Linux's setrlimit); only a process that pays for p, directly or up the
 * chain, may raise it, so a limit set from above holds. Never below what
 * p holds now: nothing is taken back, the caller must free it first.
 */
int process_set_limit(struct process *p, const struct process *caller, size_t pages)
{
    if (pages < p->pages_charged)
        return ERR_BAD_STATE;
    if (pages > p->page_limit && (p == caller || !process_is_under(p, caller)))
        return ERR_ACCESS_DENIED;
    p->page_limit = pages;
    return OK;
}

/* The kernel keeps 1/32 of the free RAM, at least 4 MiB, for what nobody
 * is charged for (init's own objects, slab pages kept for reuse). */
void process_set_root_limit(struct process *init)
{
    size_t free = page_alloc_free_count(&kernel_page_alloc);
    size_t reserve = MAX(free / 32, (size_t)1024);
    init->page_limit = free > reserve ? free - reserve : 0;
}

int charge_take(struct charge *c, struct process *payer, size_t pages)
{
    int err = process_charge(payer, pages);
    if (err)
        return err;
    c->payer = payer;
    c->pages = pages;
    if (payer)
        object_ref(&payer->obj);
    return OK;
}

int charge_add(struct charge *c, size_t pages)
{
    int err = process_charge(c->payer, pages);
    if (!err)
        c->pages += pages;
    return err;
}

void charge_release(struct charge *c)
{
    struct process *payer = c->payer;
    if (!payer)
        return;
    process_uncharge(payer, c->pages);
    c->payer = NULL;
    c->pages = 0;
    object_unref(&payer->obj);
}

void process_adopt(struct process *creator, struct process *p)
{
    p->creator = creator;
    p->unstarted_next = creator->unstarted;
    creator->unstarted = p;
}

static void detach_from_creator(struct process *p)
{
    struct process *c = p->creator;
    if (!c)
        return;
    for (struct process **pp = &c->unstarted; *pp; pp = &(*pp)->unstarted_next) {
        if (*pp == p) {
            *pp = p->unstarted_next;
            break;
        }
    }
    p->creator = NULL;
    p->unstarted_next = NULL;
}

static void process_mark_dead(struct process *p);

static void kill_unstarted(struct process *p)
{
    while (p->unstarted) {
        struct process *child = p->unstarted;
        detach_from_creator(child);
        object_ref(&child->obj);
        process_terminate(child, -1, MICA_EXIT_KILLED);
        if (!child->dead && !child->threads)
            process_mark_dead(child);
        object_unref(&child->obj);
    }
}

void process_mark_started(struct process *p)
{
    p->started = true;
    detach_from_creator(p);
}

/* The end: every thread is gone. Close the handles (breaking any cycle
 * through a handle to ourselves), tell the waiters, drop the address space. */
static void process_mark_dead(struct process *p)
{
    if (p->dead)
        return;
    p->dead = true;
    console_release(p); /* a dead UART driver: the kernel writes its log again */
    detach_from_creator(p);
    kill_unstarted(p);
    /* Closing the handles may drop the last outside reference to p; keep
     * it alive until we are done. */
    object_ref(&p->obj);
    handle_table_destroy(p);
    wait_queue_wake_all(&p->exit_waiters, OK);
    struct aspace *as = p->aspace;
    if (as) {
        p->aspace = NULL;
        object_unref(&as->obj);
    }
    object_unref(&p->obj);
}

/* Begin ending p: record how, kill its threads. It is dead (and waiters
 * wake) once the last of them has exited, so a waiter never sees a
 * half-torn-down process. */
void process_terminate(struct process *p, int64_t code, uint32_t reason)
{
    if (p->dead || p->terminating)
        return;
    p->terminating = true;
    p->exit_code = code;
    p->exit_reason = reason;
    object_ref(&p->obj);
    struct thread *t = p->threads;
    while (t) {
        struct thread *next = t->proc_next; /* t may be freed by the kill */
        thread_kill(t);
        t = next;
    }
    if (!p->threads)
        process_mark_dead(p);
    object_unref(&p->obj);
}

void process_thread_exited(struct process *p, struct thread *t)
{
    for (struct thread **pp = &p->threads; *pp; pp = &(*pp)->proc_next) {
        if (*pp == t) {
            *pp = t->proc_next;
            break;
        }
    }
    p->n_threads--;
    if (!p->threads) {
        if (!p->terminating) { /* the last thread left on its own, or was killed */
            p->terminating = true;
            p->exit_code = t->killed ? -1 : 0;
            p->exit_reason = t->killed ? MICA_EXIT_KILLED : MICA_EXIT_NORMAL;
        }
        process_mark_dead(p);
        return;
    }
    /* Threads created but never started cannot keep a process alive. */
    bool started_left = false;
    for (struct thread *o = p->threads; o; o = o->proc_next)
        started_left |= o->state != THREAD_NEW;
    if (!started_left)
        process_terminate(p, 0, MICA_EXIT_NORMAL);
}

/* Terminations requested while another is running (closing a handle table
 * can close the last handle of an unstarted process, whose table closes the
 * next...) are queued and run one after another, on a bounded stack. */
static struct process *terminate_queue;
static bool terminating_queue;

void process_terminate_later(struct process *p)
{
    object_ref(&p->obj);
    p->terminate_next = terminate_queue;
    terminate_queue = p;
    if (terminating_queue)
        return;
    terminating_queue = true;
    while (terminate_queue) {
        struct process *q = terminate_queue;
        terminate_queue = q->terminate_next;
        process_terminate(q, -1, MICA_EXIT_KILLED);
        object_unref(&q->obj);
    }
    terminating_queue = false;
}

int process_wait(struct process *p, uint64_t deadline)
{
    while (!p->dead) {
        int err = wait_queue_block(&p->exit_waiters, deadline);
        if (err)
            return err;
    }
    return OK;
}

void process_destroy(struct object *obj)
{
    struct process *p = (struct process *)obj;
    ASSERT(!p->threads);
    detach_from_creator(p);
    kill_unstarted(p);
    handle_table_destroy(p);
    if (p->aspace)
        object_unref(&p->aspace->obj);
    charge_release(&p->charge);
    kmem_cache_free(&process_cache, p);
}
