/* Thread control syscalls: fault endpoint, suspend/resume, register state
 * (general and FP/SIMD), priority. Register access needs the thread stopped: suspended, not yet
 * started, or waiting for its fault handler. */
#include <mica/ipc.h>
#include <mica/syscall.h>
#include <mica/usercopy.h>

static int thread_arg(uint64_t value, struct thread **t)
{
    struct handle *h;
    int err = lookup(value, MICA_OBJ_THREAD, MICA_RIGHT_MANAGE, &h);
    if (err)
        return err;
    *t = (struct thread *)h->obj;
    return (*t)->state == THREAD_DEAD ? ERR_BAD_STATE : OK;
}

int sys_thread_set_fault_endpoint(struct trap_frame *f)
{
    struct thread *t;
    struct handle *ep = NULL;
    int err = thread_arg(f->x[0], &t);
    if (!err && f->x[1])
        err = lookup(f->x[1], MICA_OBJ_ENDPOINT, MICA_RIGHT_WRITE, &ep);
    if (err)
        return err;
    return ipc_set_fault_endpoint(t, ep ? (struct endpoint *)ep->obj : NULL, ep ? ep->badge : 0);
}

int sys_thread_kill(struct trap_frame *f)
{
    struct thread *t;
    int err = thread_arg(f->x[0], &t);
    if (err)
        return err;
    if (t->killed)
        return ERR_BAD_STATE; /* already dying */
    if (t == current_thread())
        thread_exit_current();
    thread_kill(t);
    return OK;
}

int sys_thread_suspend(struct trap_frame *f)
{
    struct thread *t;
    int err = thread_arg(f->x[0], &t);
    if (!err && t->killed)
        err = ERR_BAD_STATE; /* it is dying */
    if (!err)
        sched_suspend(t);
    return err;
}

int sys_thread_resume(struct trap_frame *f)
{
    struct thread *t;
    int err = thread_arg(f->x[0], &t);
    if (!err && !t->suspended)
        err = ERR_BAD_STATE;
    if (!err)
        sched_resume(t);
    return err;
}

static bool stopped(struct thread *t)
{
    return t->state == THREAD_SUSPENDED || t->state == THREAD_NEW ||
           (t->state == THREAD_BLOCKED && (t->ipc_op == IPC_FAULT || t->ipc_op == IPC_AWAIT_FAULT));
}

static void to_state(const struct thread *t, struct mica_thread_state *st)
{
    const struct trap_frame *fr = t->frame;
    for (int i = 0; i < 31; i++)
        st->x[i] = fr->x[i];
    st->sp = fr->sp;
    st->pc = fr->elr;
    st->pstate = fr->spsr;
    st->tpidr = t->ctx.tpidr_el0; /* saved when it was switched out */
    st->flags =
        t->ipc_op == IPC_FAULT || t->ipc_op == IPC_AWAIT_FAULT ? MICA_THREAD_IN_HANDLER_CALL : 0;
}

/* Validation shared by the read_state/write_state and read_fp/write_fp
 * calls: x0 a thread handle, x2 a buffer of at least `size` bytes, and the
 * thread stopped. */
static int stopped_thread_arg(struct trap_frame *f, struct thread **t, size_t size)
{
    int err = thread_arg(f->x[0], t);
    if (err)
        return err;
    if (f->x[2] < size)
        return ERR_INVALID_ARGS;
    return stopped(*t) ? OK : ERR_BAD_STATE;
}

int sys_thread_read_state(struct trap_frame *f)
{
    struct thread *t;
    int err = stopped_thread_arg(f, &t, sizeof(struct mica_thread_state));
    if (err)
        return err;
    struct mica_thread_state st;
    to_state(t, &st);
    return copy_to_user(f->x[1], &st, sizeof(st));
}

int sys_thread_write_state(struct trap_frame *f)
{
    struct thread *t;
    int err = stopped_thread_arg(f, &t, sizeof(struct mica_thread_state));
    if (err)
        return err;
    struct mica_thread_state st;
    if (copy_from_user(&st, f->x[1], sizeof(st)) != OK)
        return ERR_FAULT;
    /* EL0 stays EL0: only the condition flags may change. */
    if ((st.pstate & ~0xF0000000UL) != 0 || st.pc >= MICA_USER_END || st.sp >= MICA_USER_END)
        return ERR_INVALID_ARGS;
    for (int i = 0; i < 31; i++)
        t->frame->x[i] = st.x[i];
    t->frame->sp = st.sp;
    t->frame->elr = st.pc;
    t->frame->spsr = st.pstate;
    t->ctx.tpidr_el0 = st.tpidr; /* loaded when it next runs */
    return OK;
}

int sys_thread_read_fp(struct trap_frame *f)
{
    struct thread *t;
    int err = stopped_thread_arg(f, &t, sizeof(struct mica_fp_state));
    if (err)
        return err;
    struct mica_fp_state fp;
    _Static_assert(sizeof(fp) == sizeof(t->fp_regs), "fp_regs is struct mica_fp_state");
    fpsimd_get(t, (uint64_t *)&fp);
    return copy_to_user(f->x[1], &fp, sizeof(fp));
}

int sys_thread_write_fp(struct trap_frame *f)
{
    struct thread *t;
    int err = stopped_thread_arg(f, &t, sizeof(struct mica_fp_state));
    if (err)
        return err;
    struct mica_fp_state fp;
    if (copy_from_user(&fp, f->x[1], sizeof(fp)) != OK)
        return ERR_FAULT;
    /* FPSR and FPCR are 32-bit registers in 64-bit words: the upper half is RES0. */
    if ((fp.fpsr >> 32) != 0 || (fp.fpcr >> 32) != 0)
        return ERR_INVALID_ARGS;
    fpsimd_set(t, (const uint64_t *)&fp);
    return OK;
}

int sys_thread_set_priority(struct trap_frame *f)
{
    struct thread *t;
    int err = thread_arg(f->x[0], &t);
    if (err)
        return err;
    if (f->x[1] >= NUM_PRIORITIES)
        return ERR_INVALID_ARGS;
    /* No escalation: at most the caller's own priority. */
    if (f->x[1] > current_thread()->priority)
        return ERR_ACCESS_DENIED;
    sched_set_priority(t, (unsigned)f->x[1]);
    return OK;
}
