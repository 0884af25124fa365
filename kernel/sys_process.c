/* Process and thread syscalls (see mica/process.h, mica/thread.h). */
#include <mica/aspace.h>
#include <mica/syscall.h>
#include <mica/usercopy.h>

#define ALL_PROCESS_RIGHTS                                                                         \
    (MICA_RIGHT_MANAGE | MICA_RIGHT_WAIT | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER)

int lookup_payer(uint64_t value, struct process **payer)
{
    struct process *self = current_process();
    struct handle *h;
    if (value == 0) {
        *payer = self;
        return OK;
    }
    int err = lookup(value, MICA_OBJ_PROCESS, MICA_RIGHT_MANAGE, &h);
    if (err)
        return err;
    if (!process_is_under((struct process *)h->obj, self))
        return ERR_ACCESS_DENIED;
    *payer = (struct process *)h->obj;
    return OK;
}

int sys_process_create(struct trap_frame *f)
{
    char name[32];
    size_t len = f->x[1];
    if (len >= sizeof(name) || (f->x[2] & ~(uint64_t)MICA_PROCESS_LINUX))
        return ERR_INVALID_ARGS;
    struct process *self = current_process(), *payer, *p;
    int err = lookup_payer(f->x[3], &payer);
    if (err)
        return err;
    if (copy_from_user(name, f->x[0], len) != OK)
        return ERR_FAULT;
    /* A process and its tables are kernel memory spent for the payer (the
     * caller, or one it pays for): the new process sits under it. */
    err = process_create(name, len, payer, &p);
    if (err)
        return err;
    p->linux_abi = f->x[2] & MICA_PROCESS_LINUX;
    uint32_t hp, ha;
    err = handle_install(self, &p->obj, ALL_PROCESS_RIGHTS, 0, NULL, &hp);
    if (!err) {
        err = handle_install(self, &p->aspace->obj,
                             MICA_RIGHT_MANAGE | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER, 0,
                             NULL, &ha);
        if (err)
            handle_close(self, hp);
    }
    if (err) {
        process_terminate(p, 0, MICA_EXIT_KILLED);
        object_unref(&p->obj);
        return err;
    }
    process_adopt(self, p);
    object_unref(&p->obj); /* held by the handle now */
    f->x[1] = hp;
    f->x[2] = ha;
    return OK;
}

int sys_process_set_limit(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_PROCESS, MICA_RIGHT_MANAGE, &h);
    if (err)
        return err;
    return process_set_limit((struct process *)h->obj, current_process(), f->x[1]);
}

int sys_process_memory(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_PROCESS, 0, &h);
    if (err)
        return err;
    struct process *p = (struct process *)h->obj;
    f->x[1] = p->pages_charged;
    f->x[2] = p->page_limit;
    f->x[3] = process_room(p);
    return OK;
}

int sys_process_kill(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_PROCESS, MICA_RIGHT_MANAGE, &h);
    if (err)
        return err;
    struct process *p = (struct process *)h->obj;
    uint64_t reason = f->x[2];
    if (reason != 0 && reason != MICA_KILL_AS_EXIT && reason != MICA_KILL_WITH_CODE)
        return ERR_INVALID_ARGS;
    if (p->dead || p->terminating)
        return ERR_BAD_STATE;
    if (reason == MICA_KILL_AS_EXIT) /* a personality server ending its program */
        process_terminate(p, (int64_t)f->x[1], MICA_EXIT_NORMAL);
    else
        process_terminate(p, reason ? (int64_t)f->x[1] : -1, MICA_EXIT_KILLED);
    return OK;
}

int sys_process_wait(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_PROCESS, MICA_RIGHT_WAIT, &h);
    if (err)
        return err;
    struct process *p = (struct process *)h->obj;
    if (p == current_process())
        return ERR_INVALID_ARGS; /* would wait forever */
    object_ref(&p->obj);         /* the handle may be closed while we sleep */
    err = process_wait(p, f->x[1]);
    if (!err) {
        f->x[1] = (uint64_t)p->exit_code;
        f->x[2] = p->exit_reason;
    }
    object_unref(&p->obj);
    return err;
}

int sys_thread_create(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_PROCESS, MICA_RIGHT_MANAGE, &h);
    if (err)
        return err;
    if (f->x[1] >= NUM_PRIORITIES)
        return ERR_INVALID_ARGS;
    if (f->x[1] > current_thread()->priority)
        return ERR_ACCESS_DENIED; /* no escalation: at most the caller's priority */
    struct process *payer;
    if ((err = lookup_payer(f->x[2], &payer)) != OK)
        return err;
    struct thread *t;
    err = thread_create((struct process *)h->obj, payer, (unsigned)f->x[1], &t);
    if (err)
        return err;
    uint32_t ht;
    err = handle_install(current_process(), &t->obj,
                         MICA_RIGHT_MANAGE | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER, 0, NULL,
                         &ht);
    if (err) {
        thread_kill(t);
        return err;
    }
    f->x[1] = ht;
    return OK;
}

int sys_thread_start(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_THREAD, MICA_RIGHT_MANAGE, &h);
    if (err)
        return err;
    return thread_start((struct thread *)h->obj, f->x[1], f->x[2], f->x[3], f->x[4]);
}

int sys_thread_exit(struct trap_frame *f)
{
    (void)f;
    thread_exit_current();
}

int sys_process_exit(struct trap_frame *f)
{
    struct process *p = current_process();
    process_terminate(p, (int64_t)f->x[0], MICA_EXIT_NORMAL);
    thread_exit_current();
}
