/* Handle syscalls: close, dup, mint, revoke, info, give (see mica/handle.h). */
#include <mica/syscall.h>

static int check_rights(uint64_t rights)
{
    return rights & ~(uint64_t)MICA_RIGHTS_ALL ? ERR_INVALID_ARGS : OK;
}

int sys_handle_close(struct trap_frame *f)
{
    if (f->x[0] > UINT32_MAX)
        return ERR_BAD_HANDLE;
    return handle_close(current_process(), (uint32_t)f->x[0]);
}

int sys_handle_dup(struct trap_frame *f)
{
    uint32_t out;
    if (f->x[0] > UINT32_MAX)
        return ERR_BAD_HANDLE;
    int err = check_rights(f->x[1]);
    if (!err)
        err = handle_dup(current_process(), (uint32_t)f->x[0], (uint32_t)f->x[1], 0, false, &out);
    if (!err)
        f->x[1] = out;
    return err;
}

int sys_handle_mint(struct trap_frame *f)
{
    uint32_t out;
    if (f->x[0] > UINT32_MAX)
        return ERR_BAD_HANDLE;
    int err = check_rights(f->x[1]);
    if (!err && f->x[2] == 0)
        err = ERR_INVALID_ARGS; /* badge 0 means "no badge" */
    if (!err)
        err = handle_dup(current_process(), (uint32_t)f->x[0], (uint32_t)f->x[1], f->x[2], true,
                         &out);
    if (!err)
        f->x[1] = out;
    return err;
}

int sys_handle_revoke(struct trap_frame *f)
{
    if (f->x[0] > UINT32_MAX)
        return ERR_BAD_HANDLE;
    return handle_revoke(current_process(), (uint32_t)f->x[0]);
}

int sys_handle_info(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], 0, 0, &h);
    if (err)
        return err;
    f->x[1] = h->obj->type;
    f->x[2] = h->rights;
    f->x[3] = h->badge;
    return OK;
}

int sys_handle_give(struct trap_frame *f)
{
    struct handle *target;
    int err = lookup(f->x[1], MICA_OBJ_PROCESS, MICA_RIGHT_MANAGE, &target);
    if (err)
        return err;
    struct process *to = (struct process *)target->obj;
    if (to->dead || to->terminating)
        return ERR_PEER_CLOSED;
    if (f->x[0] > UINT32_MAX)
        return ERR_BAD_HANDLE;
    uint32_t out;
    err = handle_move(current_process(), (uint32_t)f->x[0], to, &out);
    if (!err)
        f->x[1] = out;
    return err;
}
