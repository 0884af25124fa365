/*
 * libcap IPC and thread-control wrappers: move a struct mica_msg into x1..x7 for the kernel
 * and back out of x1..x8. Long messages and handles go through the
 * thread's IPC buffer (mica_thread_set_ipc_buffer), which callers fill
 * directly.
 */
#include <mica/cap.h>

/* svc with the message in x1..x7; the reply or received message comes back
 * into *m (on success), and x9 into *x9 if given (recv's saved reply). */
static inline int ipc_trap_x9(uint64_t num, uint64_t ep, struct mica_msg *m, uint64_t *x9_out)
{
    register uint64_t x0 __asm__("x0") = ep;
    register uint64_t x1 __asm__("x1") = m->info;
    register uint64_t x2 __asm__("x2") = m->w[0];
    register uint64_t x3 __asm__("x3") = m->w[1];
    register uint64_t x4 __asm__("x4") = m->w[2];
    register uint64_t x5 __asm__("x5") = m->w[3];
    register uint64_t x6 __asm__("x6") = m->w[4];
    register uint64_t x7 __asm__("x7") = m->w[5];
    register uint64_t x8 __asm__("x8") = num;
    if (x9_out) { /* only recv's saved reply pays for x9 (constant-folded) */
        register uint64_t x9 __asm__("x9") = 0; /* stays 0 unless the kernel sets it */
        __asm__ volatile("svc #0"
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6),
                           "+r"(x7), "+r"(x8), "+r"(x9)
                         :
                         : "memory");
        *x9_out = x9;
    } else {
        __asm__ volatile("svc #0"
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6),
                           "+r"(x7), "+r"(x8)
                         :
                         : "memory");
    }
    if ((int64_t)x0 == MICA_OK) {
        m->info = x1;
        m->w[0] = x2;
        m->w[1] = x3;
        m->w[2] = x4;
        m->w[3] = x5;
        m->w[4] = x6;
        m->w[5] = x7;
        m->badge = x8;
    }
    return (int)(int64_t)x0;
}

static inline int ipc_trap(uint64_t num, uint64_t ep, struct mica_msg *m)
{
    return ipc_trap_x9(num, ep, m, NULL);
}

int mica_endpoint_create(mica_handle_t *out)
{
    struct mica_result r = mica_syscall(MICA_SYS_ENDPOINT_CREATE, 0, 0, 0, 0, 0, 0);
    if (r.status == MICA_OK)
        *out = (mica_handle_t)r.r1;
    return (int)r.status;
}

int mica_call(mica_handle_t ep, struct mica_msg *msg)
{
    return ipc_trap(MICA_SYS_CALL, ep, msg);
}

int mica_send(mica_handle_t ep, const struct mica_msg *msg)
{
    struct mica_msg copy = *msg;
    return ipc_trap(MICA_SYS_SEND, ep, &copy);
}

int mica_recv(mica_handle_t ep, uint64_t flags, struct mica_msg *msg)
{
    msg->info = flags;
    return ipc_trap(MICA_SYS_RECV, ep, msg);
}

int mica_recv_saving_reply(mica_handle_t ep, uint64_t flags, struct mica_msg *msg,
                           mica_handle_t *reply)
{
    uint64_t saved;
    msg->info = flags | MICA_MSG_SAVE_REPLY;
    int err = ipc_trap_x9(MICA_SYS_RECV, ep, msg, &saved);
    *reply = (mica_handle_t)saved; /* set whether or not the receive worked */
    return err;
}

int mica_reply(const struct mica_msg *msg)
{
    struct mica_msg copy = *msg;
    return ipc_trap(MICA_SYS_REPLY, 0, &copy);
}

int mica_reply_recv(mica_handle_t ep, struct mica_msg *msg)
{
    return ipc_trap(MICA_SYS_REPLY_RECV, ep, msg);
}

int mica_notification_create(mica_handle_t *out)
{
    struct mica_result r = mica_syscall(MICA_SYS_NOTIFICATION_CREATE, 0, 0, 0, 0, 0, 0);
    if (r.status == MICA_OK)
        *out = (mica_handle_t)r.r1;
    return (int)r.status;
}

int mica_notify_signal(mica_handle_t n, uint64_t bits)
{
    return (int)mica_syscall(MICA_SYS_NOTIFY_SIGNAL, n, bits, 0, 0, 0, 0).status;
}

int mica_notify_wait(mica_handle_t n, uint64_t deadline, uint64_t *bits)
{
    struct mica_result r = mica_syscall(MICA_SYS_NOTIFY_WAIT, n, deadline, 0, 0, 0, 0);
    if (r.status == MICA_OK && bits)
        *bits = r.r1;
    return (int)r.status;
}

int mica_thread_bind_notification(mica_handle_t thread, mica_handle_t n)
{
    return (int)mica_syscall(MICA_SYS_THREAD_BIND_NOTIFICATION, thread, n, 0, 0, 0, 0).status;
}

int mica_thread_set_ipc_buffer(mica_handle_t thread, void *buffer)
{
    return (int)mica_syscall(MICA_SYS_THREAD_SET_IPC_BUFFER, thread, (uintptr_t)buffer, 0, 0, 0, 0)
        .status;
}

int mica_thread_set_fault_endpoint(mica_handle_t thread, mica_handle_t ep)
{
    return (int)mica_syscall(MICA_SYS_THREAD_SET_FAULT_ENDPOINT, thread, ep, 0, 0, 0, 0).status;
}

int mica_thread_suspend(mica_handle_t thread)
{
    return (int)mica_syscall(MICA_SYS_THREAD_SUSPEND, thread, 0, 0, 0, 0, 0).status;
}

int mica_thread_resume(mica_handle_t thread)
{
    return (int)mica_syscall(MICA_SYS_THREAD_RESUME, thread, 0, 0, 0, 0, 0).status;
}

int mica_thread_read_state(mica_handle_t thread, struct mica_thread_state *st)
{
    return (int)mica_syscall(MICA_SYS_THREAD_READ_STATE, thread, (uintptr_t)st, sizeof(*st), 0, 0,
                             0)
        .status;
}

int mica_thread_write_state(mica_handle_t thread, const struct mica_thread_state *st)
{
    return (int)mica_syscall(MICA_SYS_THREAD_WRITE_STATE, thread, (uintptr_t)st, sizeof(*st), 0, 0,
                             0)
        .status;
}

int mica_thread_read_fp(mica_handle_t thread, struct mica_fp_state *fp)
{
    return (int)mica_syscall(MICA_SYS_THREAD_READ_FP, thread, (uintptr_t)fp, sizeof(*fp), 0, 0, 0)
        .status;
}

int mica_thread_write_fp(mica_handle_t thread, const struct mica_fp_state *fp)
{
    return (int)mica_syscall(MICA_SYS_THREAD_WRITE_FP, thread, (uintptr_t)fp, sizeof(*fp), 0, 0, 0)
        .status;
}

int mica_thread_set_priority(mica_handle_t thread, unsigned priority)
{
    return (int)mica_syscall(MICA_SYS_THREAD_SET_PRIORITY, thread, priority, 0, 0, 0, 0).status;
}

int mica_thread_kill(mica_handle_t thread)
{
    return (int)mica_syscall(MICA_SYS_THREAD_KILL, thread, 0, 0, 0, 0, 0).status;
}

/* One page for the main thread's IPC buffer, mapped on first use. */
/* A thread started by mica_thread_spawn keeps its own IPC buffer's address
 * in TPIDR_EL0 (the kernel keeps that register per thread); the first
 * thread, whose TPIDR_EL0 is 0, gets one made here on first use. */
struct mica_ipc_buffer *mica_ipc_buffer_here(void)
{
    static struct mica_ipc_buffer *buffer;
    uint64_t own;
    __asm__ volatile("mrs %0, tpidr_el0" : "=r"(own));
    if (own)
        return (struct mica_ipc_buffer *)own;
    if (buffer || !mica_bootinfo)
        return buffer;
    mica_handle_t vmo;
    uintptr_t va;
    if (mica_vmo_create(MICA_PAGE_SIZE, &vmo) != MICA_OK)
        return NULL;
    int err = mica_aspace_map(mica_bootinfo->self_aspace, vmo, 0, MICA_PAGE_SIZE, 0,
                              MICA_MAP_READ | MICA_MAP_WRITE, &va);
    mica_handle_close(vmo);
    if (!err)
        err = mica_thread_set_ipc_buffer(mica_bootinfo->self_thread, (void *)va);
    if (!err)
        buffer = (struct mica_ipc_buffer *)va;
    return buffer;
}

/* Start fn(arg) in a new thread of this process with its own 16 KiB stack
 * and its own IPC buffer (the page above the stack); the thread exits
 * when fn returns, and a later mica_thread_spawn unmaps both. */
#define THREAD_STACK 16384UL
#define THREAD_BLOCK (THREAD_STACK + MICA_PAGE_SIZE) /* the stack, then the IPC buffer */
#define THREAD_DONE 0xD0D0D0D0UL                     /* in reserved[1]: the block is free */
#define MAX_THREAD_BLOCKS 64

/* Blocks of threads started here (0: a free entry), unmapped once their
 * thread has marked itself done. Claimed and reaped with atomics, so any
 * thread may spawn. */
static uintptr_t thread_blocks[MAX_THREAD_BLOCKS];

static void reap_thread_blocks(void)
{
    for (unsigned i = 0; i < MAX_THREAD_BLOCKS; i++) {
        uintptr_t b = __atomic_load_n(&thread_blocks[i], __ATOMIC_ACQUIRE);
        struct mica_ipc_buffer *buf = (struct mica_ipc_buffer *)(b + THREAD_STACK);
        if (!b || __atomic_load_n(&buf->reserved[1], __ATOMIC_ACQUIRE) != THREAD_DONE)
            continue;
        if (__atomic_compare_exchange_n(&thread_blocks[i], &b, 0, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            mica_aspace_unmap(mica_bootinfo->self_aspace, b, THREAD_BLOCK);
    }
}

static void remember_thread_block(uintptr_t b)
{
    for (unsigned i = 0; i < MAX_THREAD_BLOCKS; i++) {
        uintptr_t none = 0;
        if (__atomic_compare_exchange_n(&thread_blocks[i], &none, b, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            return;
    }
    /* Table full: this block stays mapped for good (a bounded leak). */
}

static void thread_trampoline(struct mica_ipc_buffer *buffer, void *arg)
{
    void (*fn)(void *) = (void (*)(void *))buffer->reserved[0];
    __asm__ volatile("msr tpidr_el0, %0" ::"r"(buffer));
    fn(arg);
    /* Mark the block free and exit without touching the stack again: from
     * the store on, another thread may unmap it. */
    register uint64_t x0 __asm__("x0") = (uintptr_t)&buffer->reserved[1];
    register uint64_t x1 __asm__("x1") = THREAD_DONE;
    register uint64_t x8 __asm__("x8") = MICA_SYS_THREAD_EXIT;
    __asm__ volatile("stlr x1, [x0]\n\tsvc #0" ::"r"(x0), "r"(x1), "r"(x8) : "memory");
    __builtin_unreachable();
}

int mica_thread_spawn(void (*fn)(void *), void *arg, unsigned priority, mica_handle_t *thread)
{
    mica_handle_t vmo;
    uintptr_t stack;
    reap_thread_blocks(); /* threads that ended gave their stacks back */
    int err = mica_vmo_create(THREAD_BLOCK, &vmo);
    if (err)
        return err;
    err = mica_aspace_map(mica_bootinfo->self_aspace, vmo, 0, THREAD_BLOCK, 0,
                          MICA_MAP_READ | MICA_MAP_WRITE, &stack);
    mica_handle_close(vmo);
    if (err)
        return err;
    struct mica_ipc_buffer *buffer = (struct mica_ipc_buffer *)(stack + THREAD_STACK);
    buffer->reserved[0] = (uintptr_t)fn;
    err = mica_thread_create(mica_bootinfo->self_process, priority, thread);
    if (!err)
        err = mica_thread_set_ipc_buffer(*thread, buffer);
    if (!err)
        err = mica_thread_start(*thread, (uintptr_t)thread_trampoline, stack + THREAD_STACK,
                                (uintptr_t)buffer, (uintptr_t)arg);
    if (err) {
        mica_aspace_unmap(mica_bootinfo->self_aspace, stack, THREAD_BLOCK);
        return err;
    }
    remember_thread_block(stack);
    return MICA_OK;
}

/* Keep the reply owed to the last caller as a handle, to answer later. */
int mica_reply_save(mica_handle_t *reply)
{
    struct mica_result r = mica_syscall(MICA_SYS_REPLY_SAVE, 0, 0, 0, 0, 0, 0);
    if (r.status == MICA_OK)
        *reply = (mica_handle_t)r.r1;
    return (int)r.status;
}

int mica_reply_to(mica_handle_t reply, const struct mica_msg *msg)
{
    struct mica_msg copy = *msg;
    return ipc_trap(MICA_SYS_REPLY_TO, reply, &copy);
}

int mica_reply_to_close(mica_handle_t reply, const struct mica_msg *msg)
{
    struct mica_msg copy = *msg;
    copy.info |= MICA_MSG_CLOSE_REPLY;
    return ipc_trap(MICA_SYS_REPLY_TO, reply, &copy);
}
