/*
 * Synchronous IPC through endpoints, and notifications.
 *
 * An endpoint is a rendezvous: senders and receivers queue on it until a
 * partner arrives. call = send + wait for the reply through the receiver's
 * one-shot reply link (the server thread's reply_to); reply-recv answers
 * and waits for the next message in one step. When both parties are ready
 * the kernel switches straight to the partner, without the run queue.
 *
 * A notification is a word of signal bits: signal ORs bits in, wait takes
 * and clears them. Bound to a thread, its signals also end that thread's
 * endpoint receive, so a server serves requests and interrupts in one loop.
 */
#ifndef MICA_IPC_H
#define MICA_IPC_H

#include <mica/process.h>

enum { IPC_NONE, IPC_SEND, IPC_CALL, IPC_RECV, IPC_AWAIT_REPLY, IPC_FAULT, IPC_AWAIT_FAULT };

struct endpoint {
    struct object obj;
    struct wait_queue senders;   /* IPC_SEND / IPC_CALL */
    struct wait_queue receivers; /* IPC_RECV */
    /* Handles with MICA_RIGHT_READ (handle.c counts them): at 0 nobody can
     * ever receive again, so senders get ERR_PEER_CLOSED. */
    uint32_t receive_handles;
};

struct notification {
    struct object obj;
    uint64_t bits;
    struct wait_queue waiters;
    struct thread *bound; /* weak: cleared when the thread unbinds or exits */
};

/* A saved one-shot reply (reply_save): the caller waits on it until a
 * reply_to, or until the object is destroyed (ERR_PEER_CLOSED). */
struct reply_obj {
    struct object obj;
    struct thread *caller; /* weak: cleared if the caller stops waiting */
    bool used;
};

void ipc_init(void);
int ipc_reply_save(struct process *payer, struct reply_obj **out);
/* recv's MICA_MSG_SAVE_REPLY: the reply the current thread owes becomes a
 * reply handle in f->x[9], as reply_save would make it (0 if it owes none,
 * its caller left, or the handle table is full: the caller is then told
 * MICA_ERR_PEER_CLOSED). */
void ipc_save_reply_to_x9(struct trap_frame *f);
int ipc_reply_to(struct reply_obj *r);
int endpoint_create(struct process *payer, struct endpoint **out);
/* handle.c, as a handle with MICA_RIGHT_READ to ep is made or freed. */
void endpoint_receive_handle_added(struct endpoint *ep);
void endpoint_receive_handle_gone(struct endpoint *ep);
int notification_create(struct process *payer, struct notification **out);

/* The calling thread's message is in its trap frame (x1 info, x2..x7) and
 * IPC buffer; results land in the same places. Deadlines are absolute ns. */
int ipc_send(struct endpoint *ep, uint64_t badge, bool call, uint64_t deadline);
int ipc_recv(struct endpoint *ep, uint64_t deadline);
int ipc_reply(void);
/* Reply, then receive; the caller runs next if we block (fast path). */
int ipc_reply_recv(struct endpoint *ep, uint64_t deadline);
/* Break every IPC link of an exiting thread (partners get ERR_PEER_CLOSED). */
void ipc_thread_exit(struct thread *t);
int ipc_set_buffer(struct thread *t, vaddr_t va);
/* Deliver a fault of the current thread to its fault endpoint (a call with
 * a kernel-made message) and wait for the handler's verdict. OK: resume
 * (the thread may have been told to die: t->killed); an error: nobody
 * handled it. */
int ipc_fault(struct thread *t, uint64_t kind, struct trap_frame *f);
/* A Linux system call of t (MICA_PROCESS_LINUX) as a message on its fault
 * endpoint: MICA_SYSCALL_LABEL, w0 = x8, w1..w5 = x0..x4. */
int ipc_syscall(struct thread *t, struct trap_frame *f);
int ipc_set_fault_endpoint(struct thread *t, struct endpoint *ep, uint64_t badge);
/* The server drops the reply it owes: its caller gets ERR_PEER_CLOSED. */
void ipc_abandon_reply(struct thread *server);
/* The caller t stops waiting for a reply: unlink it from its server. */
void ipc_forget_server(struct thread *t);

/* The build option -DMICA_IPC_FASTPATH=OFF makes this 0: every svc then
 * takes the ordinary path (el0_syscall). */
#ifndef MICA_IPC_FASTPATH
#define MICA_IPC_FASTPATH 1
#endif
/* The fast path (ipc_fast.c): how a thread it blocked waits (thread->fast_op). */
enum { FAST_NONE, FAST_AWAIT_SYSCALL, FAST_AWAIT_REPLY, FAST_RECV };
/* vectors.S: every svc from EL0 (the kernel lock not yet held). Tries the
 * fast path, else el0_syscall; returns the frame to return through (see
 * vectors.S el0_leave). */
struct trap_frame *el0_svc(struct trap_frame *f);
/* el0.c: the ordinary system call path, with the kernel lock held. */
struct trap_frame *el0_syscall(struct trap_frame *f);
/* vectors.S, on the new thread's stack after the fast path switched to a
 * thread with something to do before it returns to EL0. */
void ipc_fast_entered(struct trap_frame *f);
/* switch.S thread_fast_resume: a fast-blocked thread woken by the ordinary
 * path finishes its system call. */
void ipc_fast_resumed(struct trap_frame *f);

void notification_signal(struct notification *n, uint64_t bits);
int notification_wait(struct notification *n, uint64_t deadline, uint64_t *bits);
int notification_bind(struct thread *t, struct notification *n);

#endif
