/* IPC and notification syscalls (see mica/ipc.h). The blocking ones take
 * their timeout from the message info word (or MICA_MSG_POLL). */
#include <mica/handle.h>
#include <mica/ipc.h>
#include <mica/syscall.h>

#define EP_RIGHTS (MICA_RIGHT_READ | MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER)
#define REPLY_RIGHTS (MICA_RIGHT_WRITE | MICA_RIGHT_TRANSFER)
#define NTFN_RIGHTS                                                                                \
    (MICA_RIGHT_SIGNAL | MICA_RIGHT_WAIT | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER)

static uint64_t deadline_of(uint64_t info)
{
    if (info & MICA_MSG_POLL)
        return MICA_DEADLINE_NONE;
    uint64_t us = info >> 32;
    return us ? time_now_ns() + us * 1000 : MICA_DEADLINE_INFINITE;
}

int sys_endpoint_create(struct trap_frame *f)
{
    struct endpoint *ep;
    int err = endpoint_create(current_process(), &ep);
    return err ? err : install_new_handle(&ep->obj, EP_RIGHTS, f);
}

int sys_notification_create(struct trap_frame *f)
{
    struct notification *n;
    int err = notification_create(current_process(), &n);
    return err ? err : install_new_handle(&n->obj, NTFN_RIGHTS, f);
}

static int send_common(struct trap_frame *f, bool call)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_ENDPOINT, MICA_RIGHT_WRITE, &h);
    if (err)
        return err;
    return ipc_send((struct endpoint *)h->obj, h->badge, call, deadline_of(f->x[1]));
}

int sys_call(struct trap_frame *f)
{
    return send_common(f, true);
}
int sys_send(struct trap_frame *f)
{
    return send_common(f, false);
}

int sys_recv(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_ENDPOINT, MICA_RIGHT_READ, &h);
    if (err)
        return err;
    if (f->x[1] & MICA_MSG_SAVE_REPLY)
        ipc_save_reply_to_x9(f);
    return ipc_recv((struct endpoint *)h->obj, deadline_of(f->x[1]));
}

int sys_reply(struct trap_frame *f)
{
    (void)f;
    return ipc_reply();
}

int sys_reply_recv(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_ENDPOINT, MICA_RIGHT_READ, &h);
    if (err)
        return err;
    return ipc_reply_recv((struct endpoint *)h->obj, deadline_of(f->x[1]));
}

void ipc_save_reply_to_x9(struct trap_frame *f)
{
    struct reply_obj *r;
    uint32_t h;
    f->x[9] = 0;
    if (ipc_reply_save(current_process(), &r) != OK) {
        ipc_abandon_reply(current_thread()); /* no reply object: the caller hears so */
        return;
    }
    int err = handle_install(current_process(), &r->obj, REPLY_RIGHTS, 0, NULL, &h);
    object_unref(&r->obj); /* without a handle it dies: its caller gets PEER_CLOSED */
    if (!err)
        f->x[9] = h;
}

int sys_reply_save(struct trap_frame *f)
{
    struct reply_obj *r;
    int err = ipc_reply_save(current_process(), &r);
    return err ? err : install_new_handle(&r->obj, REPLY_RIGHTS, f);
}

int sys_reply_to(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_REPLY, MICA_RIGHT_WRITE, &h);
    if (err)
        return err;
    struct reply_obj *r = (struct reply_obj *)h->obj;
    err = ipc_reply_to(r);
    /* MICA_MSG_CLOSE_REPLY: the handle goes too once the reply is done
     * with (sent now or before, or its caller gone); a message that could
     * not be delivered leaves it to be fixed and sent again. */
    if ((f->x[1] & MICA_MSG_CLOSE_REPLY) && (r->used || !r->caller))
        handle_close(current_process(), (uint32_t)f->x[0]);
    return err;
}

int sys_notify_signal(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_NOTIFICATION, MICA_RIGHT_SIGNAL, &h);
    if (!err)
        notification_signal((struct notification *)h->obj, f->x[1]);
    return err;
}

int sys_notify_wait(struct trap_frame *f)
{
    struct handle *h;
    uint64_t bits = 0;
    int err = lookup(f->x[0], MICA_OBJ_NOTIFICATION, MICA_RIGHT_WAIT, &h);
    if (err)
        return err;
    struct notification *n = (struct notification *)h->obj;
    object_ref(&n->obj); /* the handle may go while we sleep */
    err = notification_wait(n, f->x[1], &bits);
    object_unref(&n->obj);
    if (!err)
        f->x[1] = bits;
    return err;
}

int sys_thread_bind_notification(struct trap_frame *f)
{
    struct handle *t, *n = NULL;
    int err = lookup(f->x[0], MICA_OBJ_THREAD, MICA_RIGHT_MANAGE, &t);
    if (!err && f->x[1])
        err = lookup(f->x[1], MICA_OBJ_NOTIFICATION, MICA_RIGHT_WAIT, &n);
    if (err)
        return err;
    struct thread *th = (struct thread *)t->obj;
    if (th->state == THREAD_DEAD)
        return ERR_BAD_STATE;
    return notification_bind(th, n ? (struct notification *)n->obj : NULL);
}

int sys_thread_set_ipc_buffer(struct trap_frame *f)
{
    struct handle *t;
    int err = lookup(f->x[0], MICA_OBJ_THREAD, MICA_RIGHT_MANAGE, &t);
    if (err)
        return err;
    struct thread *th = (struct thread *)t->obj;
    if (th->state == THREAD_DEAD)
        return ERR_BAD_STATE;
    return ipc_set_buffer(th, f->x[1]);
}
