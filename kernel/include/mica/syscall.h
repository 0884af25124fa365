/*
 * The syscall layer. Each handler has the same shape: validate the raw
 * arguments, look the handles up with the rights the operation needs, call
 * the object, write results to x1.. and return a status for x0. Handlers
 * live in sys_*.c, one file per family; kernel/syscall.c dispatches.
 */
#ifndef MICA_SYSCALL_H
#define MICA_SYSCALL_H

#include <mica/cpu.h>
#include <mica/process.h>
#include <mica/status.h>

typedef int (*syscall_fn)(struct trap_frame *f);

void syscall_dispatch(struct trap_frame *f);

static inline struct process *current_process(void)
{
    return current_thread()->proc;
}

/* Look a handle of the calling process up (type 0: any). */
static inline int lookup(uint64_t value, uint32_t type, uint32_t rights, struct handle **h)
{
    if (value > UINT32_MAX)
        return ERR_BAD_HANDLE;
    return handle_get(current_process(), (uint32_t)value, type, rights, h);
}

/* The process a new object is charged to: the caller (value 0) or a
 * process it holds with MANAGE that is itself or one it pays for
 * (sys_process.c), so what a process creates for others still counts
 * against its own limit. */
int lookup_payer(uint64_t value, struct process **payer);

/* Give the caller a handle with `rights` to a just-created object, whose
 * creation reference the handle then holds; the value goes to x1. */
int install_new_handle(struct object *obj, uint32_t rights, struct trap_frame *f);

#define SYSCALLS(X)                                                                                \
    X(MICA_SYS_NULL, sys_null)                                                                     \
    X(MICA_SYS_DEBUG_LOG, sys_debug_log)                                                           \
    X(MICA_SYS_CLOCK_GET, sys_clock_get)                                                           \
    X(MICA_SYS_HANDLE_CLOSE, sys_handle_close)                                                     \
    X(MICA_SYS_HANDLE_DUP, sys_handle_dup)                                                         \
    X(MICA_SYS_HANDLE_MINT, sys_handle_mint)                                                       \
    X(MICA_SYS_HANDLE_REVOKE, sys_handle_revoke)                                                   \
    X(MICA_SYS_HANDLE_INFO, sys_handle_info)                                                       \
    X(MICA_SYS_VMO_CREATE, sys_vmo_create)                                                         \
    X(MICA_SYS_VMO_READ, sys_vmo_read)                                                             \
    X(MICA_SYS_VMO_WRITE, sys_vmo_write)                                                           \
    X(MICA_SYS_VMO_GET_SIZE, sys_vmo_get_size)                                                     \
    X(MICA_SYS_ASPACE_MAP, sys_aspace_map)                                                         \
    X(MICA_SYS_ASPACE_UNMAP, sys_aspace_unmap)                                                     \
    X(MICA_SYS_ASPACE_PROTECT, sys_aspace_protect)                                                 \
    X(MICA_SYS_PROCESS_CREATE, sys_process_create)                                                 \
    X(MICA_SYS_PROCESS_KILL, sys_process_kill)                                                     \
    X(MICA_SYS_PROCESS_WAIT, sys_process_wait)                                                     \
    X(MICA_SYS_THREAD_CREATE, sys_thread_create)                                                   \
    X(MICA_SYS_THREAD_START, sys_thread_start)                                                     \
    X(MICA_SYS_THREAD_EXIT, sys_thread_exit)                                                       \
    X(MICA_SYS_PROCESS_EXIT, sys_process_exit)                                                     \
    X(MICA_SYS_YIELD, sys_yield)                                                                   \
    X(MICA_SYS_SLEEP, sys_sleep)                                                                   \
    X(MICA_SYS_HANDLE_GIVE, sys_handle_give)                                                       \
    X(MICA_SYS_KERNEL_STATS, sys_kernel_stats)                                                     \
    X(MICA_SYS_SYSTEM_EXIT, sys_system_exit)                                                       \
    X(MICA_SYS_ENDPOINT_CREATE, sys_endpoint_create)                                               \
    X(MICA_SYS_CALL, sys_call)                                                                     \
    X(MICA_SYS_SEND, sys_send)                                                                     \
    X(MICA_SYS_RECV, sys_recv)                                                                     \
    X(MICA_SYS_REPLY, sys_reply)                                                                   \
    X(MICA_SYS_REPLY_RECV, sys_reply_recv)                                                         \
    X(MICA_SYS_NOTIFICATION_CREATE, sys_notification_create)                                       \
    X(MICA_SYS_NOTIFY_SIGNAL, sys_notify_signal)                                                   \
    X(MICA_SYS_NOTIFY_WAIT, sys_notify_wait)                                                       \
    X(MICA_SYS_THREAD_BIND_NOTIFICATION, sys_thread_bind_notification)                             \
    X(MICA_SYS_THREAD_SET_IPC_BUFFER, sys_thread_set_ipc_buffer)                                   \
    X(MICA_SYS_THREAD_SET_FAULT_ENDPOINT, sys_thread_set_fault_endpoint)                           \
    X(MICA_SYS_THREAD_SUSPEND, sys_thread_suspend)                                                 \
    X(MICA_SYS_THREAD_RESUME, sys_thread_resume)                                                   \
    X(MICA_SYS_THREAD_READ_STATE, sys_thread_read_state)                                           \
    X(MICA_SYS_THREAD_WRITE_STATE, sys_thread_write_state)                                         \
    X(MICA_SYS_THREAD_SET_PRIORITY, sys_thread_set_priority)                                       \
    X(MICA_SYS_RESOURCE_CREATE, sys_resource_create)                                               \
    X(MICA_SYS_VMO_CREATE_PHYSICAL, sys_vmo_create_physical)                                       \
    X(MICA_SYS_IRQ_CREATE, sys_irq_create)                                                         \
    X(MICA_SYS_IRQ_BIND, sys_irq_bind)                                                             \
    X(MICA_SYS_IRQ_ACK, sys_irq_ack)                                                               \
    X(MICA_SYS_IRQ_MASK, sys_irq_mask)                                                             \
    X(MICA_SYS_VMO_CREATE_CHILD, sys_vmo_create_child)                                             \
    X(MICA_SYS_THREAD_KILL, sys_thread_kill)                                                       \
    X(MICA_SYS_VMO_CREATE_CONTIGUOUS, sys_vmo_create_contiguous)                                   \
    X(MICA_SYS_REPLY_SAVE, sys_reply_save)                                                         \
    X(MICA_SYS_REPLY_TO, sys_reply_to)                                                             \
    X(MICA_SYS_CONSOLE_TAKE, sys_console_take)                                                     \
    X(MICA_SYS_CONSOLE_READ, sys_console_read)                                                     \
    X(MICA_SYS_THREAD_READ_FP, sys_thread_read_fp)                                                 \
    X(MICA_SYS_THREAD_WRITE_FP, sys_thread_write_fp)                                               \
    X(MICA_SYS_VMO_COPY, sys_vmo_copy)                                                             \
    X(MICA_SYS_VMO_CREATE_SNAPSHOT, sys_vmo_create_snapshot)                                       \
    X(MICA_SYS_PROCESS_SET_LIMIT, sys_process_set_limit)                                           \
    X(MICA_SYS_PROCESS_MEMORY, sys_process_memory)                                                 \
    X(MICA_SYS_LOG_READ, sys_log_read)

#define DECLARE_SYSCALL(num, fn) int fn(struct trap_frame *f);
SYSCALLS(DECLARE_SYSCALL)
#undef DECLARE_SYSCALL

#endif
