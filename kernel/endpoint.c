/*
 * Endpoints and message transfer (see mica/ipc.h). All under the big
 * kernel lock; the calling thread's message is read from and written to
 * its trap frame (x1 info, x2..x7 words, x8 badge) and IPC buffer.
 *
 * An endpoint lives as long as anything refers to it, but it can only be
 * served while some handle may receive on it (MICA_RIGHT_READ). When the
 * last such handle goes — its server died and its supervisor gave it up,
 * or a server closed its receive side — every queued sender is woken with
 * ERR_PEER_CLOSED and later sends fail at once with it, instead of waiting
 * for a receiver that can never come. A thread already blocked in a
 * receive still counts as a receiver: it took its handle's right when it
 * started waiting.
 */
#include <mica/aspace.h>
#include <mica/ipc.h>
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/process.h>
#include <mica/status.h>
#include <mica/vm.h>
#include <mica/vmo.h>
#include <string.h>

static struct kmem_cache endpoint_cache, reply_cache;
extern struct kmem_cache notification_cache;

void ipc_init(void)
{
    if (kmem_cache_init(&endpoint_cache, "endpoint", sizeof(struct endpoint), 8,
                        &kernel_slab_pages) ||
        kmem_cache_init(&notification_cache, "notification", sizeof(struct notification), 8,
                        &kernel_slab_pages) ||
        kmem_cache_init(&reply_cache, "reply", sizeof(struct reply_obj), 8, &kernel_slab_pages))
        panic("ipc: cannot create caches");
}

int endpoint_create(struct process *payer, struct endpoint **out)
{
    int err;
    struct endpoint *ep = object_create(&endpoint_cache, MICA_OBJ_ENDPOINT, payer, 1, &err);
    if (!ep)
        return err;
    ep->receive_handles = 0; /* the creator's handle is counted as it is installed */
    *out = ep;
    return OK;
}

void endpoint_receive_handle_added(struct endpoint *ep)
{
    ep->receive_handles++;
}

void endpoint_receive_handle_gone(struct endpoint *ep)
{
    ASSERT(ep->receive_handles > 0);
    if (--ep->receive_handles == 0)
        wait_queue_wake_all(&ep->senders, ERR_PEER_CLOSED);
}

/* Nobody waits to receive and nobody ever can: a send would wait for ever. */
static bool unserved(struct endpoint *ep)
{
    return !ep->receivers.head && ep->receive_handles == 0;
}

void endpoint_destroy(struct object *obj)
{
    struct endpoint *ep = (struct endpoint *)obj;
    wait_queue_wake_all(&ep->senders, ERR_PEER_CLOSED);
    wait_queue_wake_all(&ep->receivers, ERR_PEER_CLOSED);
    kmem_cache_free(&endpoint_cache, ep);
}

static struct mica_ipc_buffer *ipc_buffer(struct thread *t)
{
    return t->ipc_buffer_vmo ? phys_to_virt(t->ipc_buffer_pa) : NULL;
}

/* Check the shape of t's outgoing message before anything waits on it. */
static int check_message(struct thread *t)
{
    uint64_t info = t->frame->x[1];
    unsigned words = MICA_MSG_WORDS(info), handles = MICA_MSG_HANDLES(info);
    if (words > MICA_MSG_MAX_WORDS || handles > MICA_MSG_MAX_HANDLES)
        return ERR_INVALID_ARGS;
    if ((words > MICA_MSG_REG_WORDS || handles) && !t->ipc_buffer_vmo)
        return ERR_INVALID_ARGS; /* needs an IPC buffer */
    return OK;
}

/* Move the handles named in from's buffer into to's process: all or none. */
static int move_handles(struct thread *from, struct thread *to, unsigned n)
{
    struct mica_ipc_buffer *src = ipc_buffer(from), *dst = ipc_buffer(to);
    if (!dst)
        return ERR_BAD_STATE; /* the receiver cannot take handles */
    for (unsigned i = 0; i < n; i++) {
        struct handle *h;
        int err = handle_get(from->proc, src->handles[i], 0, MICA_RIGHT_TRANSFER, &h);
        if (err)
            return err;
        for (unsigned j = 0; j < i; j++)
            if (src->handles[j] == src->handles[i])
                return ERR_INVALID_ARGS;
    }
    int err = handle_table_reserve(to->proc, n);
    if (err)
        return err;
    for (unsigned i = 0; i < n; i++) {
        int err = handle_move(from->proc, src->handles[i], to->proc, &dst->handles[i]);
        ASSERT(err == OK); /* validated above */
    }
    return OK;
}

/* A message as the kernel moves it: info, then the six register words. */
static void frame_message(struct thread *t, uint64_t msg[7])
{
    for (int i = 0; i < 7; i++)
        msg[i] = t->frame->x[1 + i];
}

/* Deliver msg (from `from`, whose IPC buffer holds any further words and
 * handles) to `to`. On an error nothing has changed. */
static int transfer(struct thread *from, const uint64_t msg[7], struct thread *to, uint64_t badge)
{
    uint64_t info = msg[0];
    unsigned words = MICA_MSG_WORDS(info), n_handles = MICA_MSG_HANDLES(info);
    uint64_t out = info & 0x07FFFFFFUL; /* label, length, handle count */
    if ((words > MICA_MSG_REG_WORDS || n_handles) && !ipc_buffer(from))
        return ERR_INVALID_ARGS; /* its buffer was removed while it waited */
    if (n_handles) {
        int err = move_handles(from, to, n_handles);
        if (err)
            return err;
    }
    for (int i = 0; i < 6; i++)
        to->frame->x[2 + i] = msg[1 + i];
    if (words > MICA_MSG_REG_WORDS) {
        struct mica_ipc_buffer *dst = ipc_buffer(to);
        if (dst) {
            memcpy(dst->words, ipc_buffer(from)->words, (words - MICA_MSG_REG_WORDS) * 8);
        } else {
            out =
                (out & ~(0xFFUL << 16)) | ((uint64_t)MICA_MSG_REG_WORDS << 16) | MICA_MSG_TRUNCATED;
        }
    }
    to->frame->x[1] = out;
    to->frame->x[8] = badge;
    return OK;
}

/* The caller t stops waiting for its reply (timeout, kill, exit): no server
 * link or reply object may keep pointing at it. */
void ipc_forget_server(struct thread *t)
{
    if (t->reply_from) {
        struct thread *server = t->reply_from;
        if (server->reply_to == t) {
            server->reply_to = NULL;
            server->reply_abandoned = true; /* its reply will get ERR_PEER_CLOSED */
        }
        t->reply_from = NULL;
    }
    if (t->saved_reply) {
        t->saved_reply->caller = NULL;
        t->saved_reply = NULL;
    }
}

static void link_reply(struct thread *server, struct thread *caller)
{
    caller->ipc_op = caller->ipc_op == IPC_FAULT ? IPC_AWAIT_FAULT : IPC_AWAIT_REPLY;
    caller->reply_from = server;
    server->reply_to = caller;
    server->reply_abandoned = false;
}

/* A server that starts a new receive drops the reply it still owed. */
void ipc_abandon_reply(struct thread *server)
{
    struct thread *caller = server->reply_to;
    if (!caller)
        return;
    server->reply_to = NULL;
    if (caller->reply_from == server) {
        caller->reply_from = NULL;
        thread_wake(caller, ERR_PEER_CLOSED);
    }
}

int ipc_send(struct endpoint *ep, uint64_t badge, bool call, uint64_t deadline)
{
    struct thread *self = current_thread();
    int err = check_message(self);
    if (err)
        return err;
    if (unserved(ep))
        return ERR_PEER_CLOSED;
    struct thread *r = ep->receivers.head;
    if (r) {
        uint64_t msg[7];
        frame_message(self, msg);
        if ((err = transfer(self, msg, r, badge)) != OK)
            return err;
        wait_queue_remove(r);
        r->ipc_op = IPC_NONE;
        r->wake_status = OK;
        if (!call) {
            thread_wake(r, OK);
            return OK;
        }
        link_reply(r, self);
        err = thread_block(NULL, deadline == MICA_DEADLINE_NONE ? MICA_DEADLINE_INFINITE : deadline,
                           r);
    } else {
        if (deadline == MICA_DEADLINE_NONE)
            return ERR_TIMED_OUT; /* poll: nobody is receiving */
        self->ipc_op = call ? IPC_CALL : IPC_SEND;
        self->ipc_badge = badge;
        err = thread_block(&ep->senders, deadline, NULL);
    }
    self->ipc_op = IPC_NONE;
    if (err) /* timed out or killed while awaiting the reply */
        ipc_forget_server(self);
    return err;
}

/* Receive on ep. `handoff`, if given, is a caller we just replied to: it
 * runs next if we block (the fast path), or is made ready if we do not. */
static int receive(struct endpoint *ep, uint64_t deadline, struct thread *handoff)
{
    struct thread *self = current_thread();
    ipc_abandon_reply(self);
    self->reply_abandoned = false;
    struct notification *n = self->bound;
    if (n && n->bits) {
        self->frame->x[1] = MICA_MSG_NOTIFICATION;
        self->frame->x[2] = n->bits;
        self->frame->x[8] = 0;
        n->bits = 0;
        if (handoff)
            sched_wake_handoff(handoff);
        return OK;
    }
    struct thread *s;
    while ((s = ep->senders.head) != NULL) {
        uint64_t msg[7];
        if (s->ipc_op == IPC_FAULT)
            memcpy(msg, s->fault_msg, sizeof(msg));
        else
            frame_message(s, msg);
        int err = transfer(s, msg, self, s->ipc_badge);
        wait_queue_remove(s);
        if (err) {
            s->ipc_op = IPC_NONE;
            thread_wake(s, err); /* the sender's message was bad: its error */
            continue;
        }
        if (s->ipc_op == IPC_CALL || s->ipc_op == IPC_FAULT) {
            link_reply(self, s); /* s stays blocked, now awaiting our reply */
        } else {
            s->ipc_op = IPC_NONE;
            thread_wake(s, OK);
        }
        if (handoff)
            sched_wake_handoff(handoff);
        return OK;
    }
    self->ipc_op = IPC_RECV;
    if (handoff && deadline == MICA_DEADLINE_NONE) {
        sched_wake_handoff(handoff); /* polling: we do not block */
        handoff = NULL;
    }
    int err = thread_block(&ep->receivers, deadline, handoff);
    self->ipc_op = IPC_NONE;
    return err;
}

int ipc_recv(struct endpoint *ep, uint64_t deadline)
{
    return receive(ep, deadline, NULL);
}

/* The handler's verdict on a fault: resume (maybe at a new pc, with a new
 * x0) or kill. Registers it wants changed beyond that it writes with
 * thread_write_state before replying. */
static int apply_fault_reply(struct thread *handler, struct thread *c)
{
    uint64_t info = handler->frame->x[1];
    unsigned words = MICA_MSG_WORDS(info);
    if (MICA_MSG_LABEL(info) == MICA_FAULT_KILL) {
        c->killed = true;
        return OK;
    }
    if (MICA_MSG_LABEL(info) == MICA_SYSCALL_RETURN) { /* a Linux syscall's result */
        if (words >= 1)
            c->frame->x[0] = handler->frame->x[2];
        return OK;
    }
    if (MICA_MSG_LABEL(info) != MICA_FAULT_RESUME)
        return ERR_INVALID_ARGS;
    if (words >= 1 && handler->frame->x[2] >= MICA_USER_END)
        return ERR_INVALID_ARGS;
    if (words >= 1)
        c->frame->elr = handler->frame->x[2];
    if (words >= 2)
        c->frame->x[0] = handler->frame->x[3];
    return OK;
}

/* Deliver the current thread's reply. On success the caller is runnable
 * again; if `handoff` is given it is returned there instead of being made
 * ready, for the reply-recv fast path to switch to it directly. */
/* The reply in self's registers goes to caller c: new registers for a
 * faulted thread, or a message. Shared by reply and reply_to. */
static int deliver_reply(struct thread *self, struct thread *c, bool fault)
{
    int err = check_message(self);
    if (err)
        return err;
    if (fault)
        return apply_fault_reply(self, c);
    uint64_t msg[7];
    frame_message(self, msg);
    return transfer(self, msg, c, 0);
}

static int reply_to_caller(struct thread **handoff)
{
    struct thread *self = current_thread();
    struct thread *c = self->reply_to;
    if (!c && self->reply_abandoned) {
        self->reply_abandoned = false;
        return ERR_PEER_CLOSED; /* the caller gave up or died */
    }
    if (!c)
        return ERR_BAD_STATE; /* nobody is waiting for a reply from us */
    bool fault = c->ipc_op == IPC_AWAIT_FAULT;
    if (c->reply_from != self || c->state != THREAD_BLOCKED ||
        (c->ipc_op != IPC_AWAIT_REPLY && !fault)) {
        self->reply_to = NULL;
        if (c->reply_from == self)
            c->reply_from = NULL; /* no pointer to us may outlive the link */
        return ERR_PEER_CLOSED;
    }
    int err = deliver_reply(self, c, fault);
    if (err)
        return err; /* the link stays: fix the reply and try again */
    self->reply_to = NULL;
    c->reply_from = NULL;
    c->ipc_op = IPC_NONE;
    if (handoff && !c->suspended) {
        c->wake_status = OK;
        *handoff = c;
    } else {
        thread_wake(c, OK);
    }
    return OK;
}

int ipc_reply(void)
{
    return reply_to_caller(NULL);
}

int ipc_reply_recv(struct endpoint *ep, uint64_t deadline)
{
    struct thread *caller = NULL;
    int err = reply_to_caller(&caller);
    if (err && err != ERR_PEER_CLOSED && err != ERR_BAD_STATE)
        return err; /* a malformed reply: nothing received either */
    return receive(ep, deadline, caller);
}

/* Let go of t's IPC buffer page (see ipc_set_buffer). */
static void unpin_buffer(struct thread *t)
{
    if (t->ipc_buffer_vmo) {
        t->ipc_buffer_vmo->pins--;
        object_unref(&t->ipc_buffer_vmo->obj);
    }
    t->ipc_buffer_vmo = NULL;
}

void ipc_thread_exit(struct thread *t)
{
    ipc_abandon_reply(t);
    ipc_forget_server(t);
    unpin_buffer(t);
    ipc_set_fault_endpoint(t, NULL, 0);
    notification_bind(t, NULL);
}

int ipc_set_fault_endpoint(struct thread *t, struct endpoint *ep, uint64_t badge)
{
    if (ep)
        object_ref(&ep->obj);
    if (t->fault_ep)
        object_unref(&t->fault_ep->obj);
    t->fault_ep = ep;
    t->fault_badge = badge;
    return OK;
}

static int send_fault(struct thread *t);

int ipc_fault(struct thread *t, uint64_t kind, struct trap_frame *f)
{
    uint64_t *msg = t->fault_msg;
    msg[0] = mica_msg_info(MICA_FAULT_LABEL, 6, 0, 0);
    msg[1] = kind;
    msg[2] = f->esr;
    msg[3] = f->far;
    msg[4] = f->elr;
    msg[5] = f->sp;
    msg[6] = f->x[8];
    return send_fault(t);
}

int ipc_syscall(struct thread *t, struct trap_frame *f)
{
    uint64_t *msg = t->fault_msg;
    msg[0] = mica_msg_info(MICA_SYSCALL_LABEL, 6, 0, 0);
    msg[1] = f->x[8];
    for (int i = 0; i < 5; i++)
        msg[2 + i] = f->x[i];
    return send_fault(t);
}

/* t's fault message (t->fault_msg) to its fault endpoint; t waits for the
 * verdict. */
static int send_fault(struct thread *t)
{
    struct endpoint *ep = t->fault_ep;
    uint64_t *msg = t->fault_msg;
    if (!ep)
        return ERR_NOT_FOUND;
    if (unserved(ep)) /* its handler is gone for good */
        return ERR_PEER_CLOSED;
    object_ref(&ep->obj); /* the thread may drop its fault endpoint meanwhile */
    int err;
    struct thread *r = ep->receivers.head;
    if (r) {
        err = transfer(t, msg, r, t->fault_badge);
        ASSERT(err == OK); /* no handles, no buffer words */
        wait_queue_remove(r);
        r->ipc_op = IPC_NONE;
        r->wake_status = OK;
        t->ipc_op = IPC_FAULT;
        link_reply(r, t);
        err = thread_block(NULL, MICA_DEADLINE_INFINITE, r);
    } else {
        t->ipc_op = IPC_FAULT;
        t->ipc_badge = t->fault_badge;
        err = thread_block(&ep->senders, MICA_DEADLINE_INFINITE, NULL);
    }
    t->ipc_op = IPC_NONE;
    if (err)
        ipc_forget_server(t);
    object_unref(&ep->obj);
    return err;
}

int ipc_set_buffer(struct thread *t, vaddr_t va)
{
    if (va == 0) {
        unpin_buffer(t);
        return OK;
    }
    if (!IS_ALIGNED(va, PAGE_SIZE) || va >= MICA_USER_END)
        return ERR_INVALID_ARGS;
    struct vmo *vmo;
    uint64_t offset;
    uint32_t flags;
    int err = aspace_lookup(t->proc->aspace, va, &vmo, &offset, &flags);
    if (err)
        return err;
    if ((flags & (MICA_MAP_READ | MICA_MAP_WRITE)) != (MICA_MAP_READ | MICA_MAP_WRITE) ||
        vmo->physical)
        return ERR_ACCESS_DENIED;
    paddr_t pa;
    if ((err = vmo_get_page(vmo, offset, true, &pa, NULL)) != OK)
        return err;
    object_ref(&vmo->obj); /* pins the page as long as it is the buffer */
    vmo->pins++;           /* and keeps it the VMO's own (no snapshot) */
    unpin_buffer(t);
    t->ipc_buffer_vmo = vmo;
    t->ipc_buffer_pa = pa;
    return OK;
}

/* ---- saved replies ---- */

/* A server that defers answers saves and drops a reply object per request:
 * a few freed ones are kept for the next reply_save instead of going back
 * to the slab (the charge is taken and released each time as usual). */
#define SPARE_REPLIES 8
static struct reply_obj *spare_replies[SPARE_REPLIES];
static unsigned n_spare_replies;

static struct reply_obj *reply_alloc(struct process *payer, int *err)
{
    if (!n_spare_replies)
        return object_create(&reply_cache, MICA_OBJ_REPLY, payer, 1, err);
    struct charge charge = {0};
    if ((*err = charge_take(&charge, payer, 1)) != OK)
        return NULL;
    struct reply_obj *r = spare_replies[--n_spare_replies];
    object_init(&r->obj, MICA_OBJ_REPLY);
    r->obj.charge = charge;
    r->caller = NULL;
    r->used = false;
    return r;
}

int ipc_reply_save(struct process *payer, struct reply_obj **out)
{
    struct thread *self = current_thread();
    struct thread *c = self->reply_to;
    if (!c && self->reply_abandoned) {
        self->reply_abandoned = false;
        return ERR_PEER_CLOSED;
    }
    if (!c)
        return ERR_BAD_STATE; /* no reply pending */
    if (c->reply_from != self || c->state != THREAD_BLOCKED ||
        (c->ipc_op != IPC_AWAIT_REPLY && c->ipc_op != IPC_AWAIT_FAULT)) {
        self->reply_to = NULL;
        if (c->reply_from == self)
            c->reply_from = NULL;
        return ERR_PEER_CLOSED;
    }
    int err;
    struct reply_obj *r = reply_alloc(payer, &err);
    if (!r)
        return err;
    r->caller = c;
    c->reply_from = NULL;
    c->saved_reply = r;
    self->reply_to = NULL;
    *out = r;
    return OK;
}

int ipc_reply_to(struct reply_obj *r)
{
    struct thread *self = current_thread();
    if (r->used)
        return ERR_BAD_STATE; /* one shot */
    struct thread *c = r->caller;
    if (!c)
        return ERR_PEER_CLOSED; /* the caller stopped waiting */
    int err = deliver_reply(self, c, c->ipc_op == IPC_AWAIT_FAULT);
    if (err)
        return err;
    r->used = true;
    r->caller = NULL;
    c->saved_reply = NULL;
    c->ipc_op = IPC_NONE;
    thread_wake(c, OK);
    return OK;
}

void reply_destroy(struct object *obj)
{
    struct reply_obj *r = (struct reply_obj *)obj;
    struct thread *c = r->caller;
    if (c) { /* dropped without an answer */
        c->saved_reply = NULL;
        thread_wake(c, ERR_PEER_CLOSED);
    }
    if (n_spare_replies < SPARE_REPLIES)
        spare_replies[n_spare_replies++] = r; /* for the next reply_save */
    else
        kmem_cache_free(&reply_cache, r);
}
