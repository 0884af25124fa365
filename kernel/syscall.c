/*
 * Syscall dispatch: x8 selects the handler from a table built from the
 * SYSCALLS() list in mica/syscall.h; x0 receives its status. An unknown
 * number goes to the thread's fault endpoint if it has one (how a syscall
 * personality is built), else returns MICA_ERR_NOT_SUPPORTED. In a
 * process created with MICA_PROCESS_LINUX every svc is a Linux system call:
 * it goes whole to the thread's fault endpoint (ipc_syscall), and the
 * handler's answer becomes x0.
 */
#include <mica/ipc.h>
#include <mica/syscall.h>

#define TABLE_ENTRY(num, fn) [num] = fn,
static const syscall_fn syscall_table[MICA_SYS_COUNT] = {SYSCALLS(TABLE_ENTRY)};
#undef TABLE_ENTRY

#define LINUX_ENOSYS 38

void syscall_dispatch(struct trap_frame *f)
{
    struct thread *self = current_thread();
    if (self->linux_abi) {
        if (!self->fault_ep || (ipc_syscall(self, f) != OK && !self->killed))
            f->x[0] = (uint64_t)-LINUX_ENOSYS; /* no personality server (any more) */
        return;
    }
    uint64_t num = f->x[8];
    syscall_fn fn = num < MICA_SYS_COUNT ? syscall_table[num] : NULL;
    if (fn) {
        f->x[0] = (uint64_t)(int64_t)fn(f);
        return;
    }
    /* Unknown: a fault for the thread's handler (who sets x0 in its
     * reply), else an error. */
    struct thread *t = current_thread();
    if (t->fault_ep && (ipc_fault(t, MICA_FAULT_UNKNOWN_SYSCALL, f) == OK || t->killed))
        return;
    f->x[0] = (uint64_t)(int64_t)ERR_NOT_SUPPORTED;
}

int install_new_handle(struct object *obj, uint32_t rights, struct trap_frame *f)
{
    uint32_t h;
    int err = handle_install(current_process(), obj, rights, 0, NULL, &h);
    object_unref(obj);
    if (!err)
        f->x[1] = h;
    return err;
}
