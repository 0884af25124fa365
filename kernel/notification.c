/* Notifications (see mica/ipc.h): signal bits, waiters, a bound thread. */
#include <mica/ipc.h>
#include <mica/memory.h>
#include <mica/status.h>

struct kmem_cache notification_cache;

int notification_create(struct process *payer, struct notification **out)
{
    int err;
    struct notification *n =
        object_create(&notification_cache, MICA_OBJ_NOTIFICATION, payer, 1, &err);
    if (!n)
        return err;
    *out = n;
    return OK;
}

void notification_destroy(struct object *obj)
{
    struct notification *n = (struct notification *)obj;
    wait_queue_wake_all(&n->waiters, ERR_PEER_CLOSED);
    kmem_cache_free(&notification_cache, n);
}

void notification_signal(struct notification *n, uint64_t bits)
{
    n->bits |= bits;
    if (!n->bits)
        return;
    struct thread *t = n->bound;
    if (t && t->state == THREAD_BLOCKED && t->ipc_op == IPC_RECV) {
        t->frame->x[1] = MICA_MSG_NOTIFICATION;
        t->frame->x[2] = n->bits;
        t->frame->x[8] = 0;
        n->bits = 0;
        thread_wake(t, OK);
        return;
    }
    if ((t = n->waiters.head) != NULL) {
        t->frame->x[1] = n->bits;
        n->bits = 0;
        thread_wake(t, OK);
    }
}

int notification_wait(struct notification *n, uint64_t deadline, uint64_t *bits)
{
    struct thread *self = current_thread();
    if (n->bits) {
        *bits = n->bits;
        n->bits = 0;
        return OK;
    }
    int err = wait_queue_block(&n->waiters, deadline);
    if (!err)
        *bits = self->frame->x[1]; /* the signaller left the bits there */
    return err;
}

int notification_bind(struct thread *t, struct notification *n)
{
    if (n && n->bound && n->bound != t)
        return ERR_BAD_STATE; /* one bound thread per notification */
    struct notification *old = t->bound;
    if (old) {
        old->bound = NULL;
        t->bound = NULL;
        object_unref(&old->obj);
    }
    if (n) {
        object_ref(&n->obj);
        n->bound = t;
        t->bound = n;
    }
    return OK;
}
