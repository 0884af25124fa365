/*
 * Processes: a handle table, an address space and the threads that run in
 * it. A process dies when its last thread exits or when it is killed: its
 * threads are killed, its handles closed (which breaks any cycle through a
 * handle to itself), and whoever waits on it learns the exit code and why.
 * The struct itself lives on while handles to it remain.
 */
#ifndef MICA_PROCESS_H
#define MICA_PROCESS_H

#include <mica/charge.h>
#include <mica/handle.h>
#include <mica/thread.h>

#define PROCESS_MAX_THREADS 512
#define PROCESS_LOG_BURST 256 /* debug log messages allowed at once */
/* Pages charged to a process's creator for its lifetime: the struct, the
 * handle table and the slab room its handles and mappings may take. */
#define PROCESS_COST 48

struct aspace;

struct process {
    struct object obj;
    char name[32];
    struct aspace *aspace; /* holds a reference until the process dies */
    struct handle_table handles;
    struct thread *threads; /* live threads (each holds a reference to us) */
    unsigned n_threads;
    bool terminating; /* process_terminate ran: threads are being killed */
    bool dead;        /* every thread is gone, handles closed */
    bool linux_abi;   /* MICA_PROCESS_LINUX: every svc goes to the fault endpoint */
    int64_t exit_code;
    uint32_t exit_reason; /* MICA_EXIT_* */
    struct wait_queue exit_waiters;
    size_t pages_charged; /* kernel memory spent on this process's behalf */
    size_t page_limit;    /* the most it may hold (with everything it pays for) */
    /* Processes this one created that have not started yet die with it, so
     * unstarted processes holding handles to each other cannot leak. */
    bool started;                   /* a thread has been started */
    unsigned handles_to_me;         /* handles naming this process (handle.c) */
    struct process *terminate_next; /* process_terminate_later queue */
    /* Debug log rate limit (sys_misc.c): a token bucket per process, so a
     * noisy process cannot silence the others. */
    uint64_t log_tokens, log_refilled_at, log_dropped;
    struct charge charge;      /* paid by the creator */
    struct process *creator;   /* weak: cleared when the creator dies */
    struct process *unstarted; /* created by us, not started yet */
    struct process *unstarted_next;
};

void process_init(void); /* boot: process cache */
int process_create(const char *name, size_t name_len, struct process *payer, struct process **out);
/* Record that creator made p (see `unstarted` above). */
void process_adopt(struct process *creator, struct process *p);
/* A thread of p was started: p now lives on its own. */
void process_mark_started(struct process *p);
/* Kernel memory accounting against each page_limit up the payer chain. */
int process_charge(struct process *p, size_t pages);
void process_uncharge(struct process *p, size_t pages);
/* Is p `ancestor` itself, or does it pay (directly or up the chain) for p? */
bool process_is_under(const struct process *p, const struct process *ancestor);
/* caller sets p's limit (see process.c for who may raise it). */
int process_set_limit(struct process *p, const struct process *caller, size_t pages);
/* The most p could be charged now: the least room left up its chain. */
size_t process_room(const struct process *p);
/* init's limit: the RAM free once it is loaded, less the kernel's reserve. */
void process_set_root_limit(struct process *init);

/* Called by thread.c when a thread of p has exited. */
void process_thread_exited(struct process *p, struct thread *t);
/* End p: kill its threads, close its handles, record how it ended. */
void process_terminate(struct process *p, int64_t code, uint32_t reason);
/* The same, but from code that may itself run inside a termination (a
 * handle table being closed): queued and done iteratively, never nested. */
void process_terminate_later(struct process *p);
/* Block until p is dead or the deadline passes. */
int process_wait(struct process *p, uint64_t deadline);

#endif
