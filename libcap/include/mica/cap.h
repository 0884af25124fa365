/*
 * libcap: the userspace interface to Mica. Thin wrappers over the syscalls
 * of mica/abi.h (same names without the SYS_ part, lower case), each
 * returning the status and passing results through out-pointers, plus a
 * few conveniences: printf to the debug log, a clock read at EL0 without a
 * syscall, and spawning a program from an ELF image.
 */
#ifndef MICA_CAP_H
#define MICA_CAP_H

#include <mica/abi.h>
#include <mica/format.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t mica_handle_t;

struct mica_result {
    int64_t status;
    uint64_t r1, r2, r3;
};

/* The raw call: svc #0 with x8 = num. */
static inline struct mica_result mica_syscall(uint64_t num, uint64_t a0, uint64_t a1, uint64_t a2,
                                              uint64_t a3, uint64_t a4, uint64_t a5)
{
    register uint64_t x0 __asm__("x0") = a0;
    register uint64_t x1 __asm__("x1") = a1;
    register uint64_t x2 __asm__("x2") = a2;
    register uint64_t x3 __asm__("x3") = a3;
    register uint64_t x4 __asm__("x4") = a4;
    register uint64_t x5 __asm__("x5") = a5;
    register uint64_t x8 __asm__("x8") = num;
    __asm__ volatile("svc #0"
                     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x8)
                     : "r"(x4), "r"(x5)
                     : "memory");
    return (struct mica_result){(int64_t)x0, x1, x2, x3};
}

int mica_debug_log(const char *buf, size_t len);
/* debug_log with MICA_LOG_* flags (mica_printf passes MICA_LOG_SERVICE in
 * a service: bootinfo->flags has MICA_BOOT_SERVICE). */
int mica_debug_log_flags(const char *buf, size_t len, unsigned flags);
/* The kernel log from position pos (dmesg, see MICA_SYS_LOG_READ): *got
 * bytes copied, *first the position of the first of them. */
int mica_log_read(uint64_t pos, void *buf, size_t len, size_t *got, uint64_t *first);
int mica_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t mica_clock_ns(void);  /* the generic counter, read at EL0 */
uint64_t mica_clock_get(void); /* the same through the kernel */

int mica_handle_close(mica_handle_t h);
int mica_handle_dup(mica_handle_t h, uint32_t rights, mica_handle_t *out);
int mica_handle_mint(mica_handle_t h, uint32_t rights, uint64_t badge, mica_handle_t *out);
int mica_handle_revoke(mica_handle_t h);
int mica_handle_info(mica_handle_t h, uint32_t *type, uint32_t *rights, uint64_t *badge);
int mica_handle_give(mica_handle_t h, mica_handle_t process, mica_handle_t *in_process);

int mica_vmo_create(uint64_t size, mica_handle_t *out);
/* The same, its pages charged to `payer`: a process handle with MANAGE to
 * the caller itself or a process it pays for (mica/abi.h, memory limits). */
int mica_vmo_create_for(mica_handle_t payer, uint64_t size, mica_handle_t *out);
int mica_vmo_read(mica_handle_t vmo, uint64_t offset, void *buf, size_t len);
int mica_vmo_write(mica_handle_t vmo, uint64_t offset, const void *buf, size_t len);
int mica_vmo_get_size(mica_handle_t vmo, uint64_t *size);
/* len bytes from src at src_offset to dst at dst_offset, in the kernel. */
int mica_vmo_copy(mica_handle_t dst, uint64_t dst_offset, mica_handle_t src, uint64_t src_offset,
                  size_t len);
int mica_aspace_map(mica_handle_t aspace, mica_handle_t vmo, uint64_t offset, size_t size,
                    uintptr_t va, uint32_t flags, uintptr_t *out);
int mica_aspace_unmap(mica_handle_t aspace, uintptr_t va, size_t size);
int mica_aspace_protect(mica_handle_t aspace, uintptr_t va, size_t size, uint32_t flags);

int mica_process_create(const char *name, mica_handle_t *process, mica_handle_t *aspace);
/* flags: MICA_PROCESS_LINUX for the Linux personality (mica/abi.h). */
int mica_process_create_flags(const char *name, uint32_t flags, mica_handle_t *process,
                              mica_handle_t *aspace);
/* The same, paid for by `payer` (0: the caller), under whose limit it
 * sits and whose limit it starts with. */
int mica_process_create_under(const char *name, uint32_t flags, mica_handle_t payer,
                              mica_handle_t *process, mica_handle_t *aspace);
/* Memory limits in pages (mica/abi.h): set one; read what a process holds,
 * its limit, and the room left to it up its payer chain (NULL: unwanted). */
int mica_process_set_limit(mica_handle_t process, uint64_t pages);
int mica_process_memory(mica_handle_t process, uint64_t *pages, uint64_t *limit, uint64_t *room);
int mica_process_kill(mica_handle_t process);
/* End a process reporting (code, how): MICA_KILL_AS_EXIT or MICA_KILL_WITH_CODE. */
int mica_process_end(mica_handle_t process, int64_t code, unsigned how);
int mica_process_wait(mica_handle_t process, uint64_t deadline, int64_t *code, uint32_t *reason);
__attribute__((noreturn)) void mica_process_exit(int64_t code);
int mica_thread_create(mica_handle_t process, unsigned priority, mica_handle_t *out);
int mica_thread_create_for(mica_handle_t payer, mica_handle_t process, unsigned priority,
                           mica_handle_t *out);
int mica_thread_start(mica_handle_t thread, uintptr_t pc, uintptr_t sp, uint64_t arg0,
                      uint64_t arg1);
__attribute__((noreturn)) void mica_thread_exit(void);
int mica_yield(void);
int mica_sleep_until(uint64_t deadline);
int mica_kernel_stats(struct mica_kernel_stats *out);
int mica_system_exit(mica_handle_t resource, int code);
int mica_system_reset(mica_handle_t resource); /* returns only on failure */

/* Start the ELF program `elf` as a new process. The child receives a
 * struct mica_bootinfo at MICA_BOOTINFO_VA holding its own process,
 * address space and thread handles, plus duplicates of `bootfs` and
 * `resource` if non-zero, and `cmdline`. Returns the child's process
 * handle (MANAGE|WAIT) in *process. */
int mica_spawn(const void *elf, size_t size, const char *name, const char *cmdline,
               mica_handle_t bootfs, mica_handle_t resource, mica_handle_t *process);
/* The same, also moving `startup` (needs TRANSFER) into the child as
 * bootinfo->startup_handle. */
int mica_spawn_with(const void *elf, size_t size, const char *name, const char *cmdline,
                    mica_handle_t bootfs, mica_handle_t resource, mica_handle_t startup,
                    mica_handle_t *process);
/* Everything a child can be given, for mica_spawn_ex. Handles other than
 * `startup` are duplicated (the caller keeps its own); `startup` moves. */
struct mica_spawn_args {
    const char *name, *cmdline;
    mica_handle_t bootfs, resource, startup;
    mica_handle_t dtb; /* with dtb_size: the device tree, read-only */
    uint64_t dtb_size;
    mica_handle_t procmgr; /* a handle to procmgr (bootinfo->procmgr) */
    uint32_t boot_flags;   /* bootinfo->flags: MICA_BOOT_SERVICE for a service */
    uint64_t page_limit;   /* its memory limit in pages (0: the caller's, inherited) */
    unsigned n_handles;    /* bootinfo->handles[]: their meaning is per program */
    mica_handle_t handles[MICA_BOOT_HANDLES];
};
int mica_spawn_ex(const void *elf, size_t size, const struct mica_spawn_args *args,
                  mica_handle_t *process);

/* ---- IPC ---- */
struct mica_msg {
    uint64_t info; /* mica_msg_info(label, words, handles, timeout_us) | flags */
    uint64_t w[MICA_MSG_REG_WORDS];
    uint64_t badge; /* received: the badge of the sender's endpoint handle */
};

int mica_endpoint_create(mica_handle_t *out);
/* call: msg in, reply out (same struct). */
int mica_call(mica_handle_t ep, struct mica_msg *msg);
int mica_send(mica_handle_t ep, const struct mica_msg *msg);
/* recv: `flags` is the info word's timeout/poll part; the message comes out. */
int mica_recv(mica_handle_t ep, uint64_t flags, struct mica_msg *msg);
/* mica_reply_save and mica_recv in one system call (MICA_MSG_SAVE_REPLY):
 * *reply is the saved reply's handle, 0 if no reply was owed or its caller
 * left; it is set even when the receive fails. */
int mica_recv_saving_reply(mica_handle_t ep, uint64_t flags, struct mica_msg *msg,
                           mica_handle_t *reply);
int mica_reply(const struct mica_msg *msg);
/* Turn the reply owed to the last caller into a one-shot reply handle, so
 * the server can receive other requests and answer this one later with
 * mica_reply_to (closing it unanswered gives the caller PEER_CLOSED). */
int mica_reply_save(mica_handle_t *reply);
int mica_reply_to(mica_handle_t reply, const struct mica_msg *msg);
/* mica_reply_to, and the reply handle is closed in the same system call
 * once the reply is done with (delivered, or its caller gone). */
int mica_reply_to_close(mica_handle_t reply, const struct mica_msg *msg);
/* reply with msg, then receive the next message into msg. */
int mica_reply_recv(mica_handle_t ep, struct mica_msg *msg);
int mica_notification_create(mica_handle_t *out);
int mica_notify_signal(mica_handle_t n, uint64_t bits);
int mica_notify_wait(mica_handle_t n, uint64_t deadline, uint64_t *bits);
int mica_thread_bind_notification(mica_handle_t thread, mica_handle_t n);
int mica_thread_set_ipc_buffer(mica_handle_t thread, void *buffer);
/* The calling (main) thread's IPC buffer, set up on first use; NULL if
 * that failed. */
struct mica_ipc_buffer *mica_ipc_buffer_here(void);
/* Run fn(arg) in a new thread of this process (its own 16 KiB stack). */
int mica_thread_spawn(void (*fn)(void *), void *arg, unsigned priority, mica_handle_t *thread);

/* ---- thread control ---- */
int mica_thread_set_fault_endpoint(mica_handle_t thread, mica_handle_t ep);
int mica_thread_kill(mica_handle_t thread);
int mica_thread_suspend(mica_handle_t thread);
int mica_thread_resume(mica_handle_t thread);
int mica_thread_read_state(mica_handle_t thread, struct mica_thread_state *st);
int mica_thread_write_state(mica_handle_t thread, const struct mica_thread_state *st);
int mica_thread_read_fp(mica_handle_t thread, struct mica_fp_state *fp);
int mica_thread_write_fp(mica_handle_t thread, const struct mica_fp_state *fp);
int mica_thread_set_priority(mica_handle_t thread, unsigned priority);

/* ---- devices and copy-on-write ---- */
int mica_resource_create(mica_handle_t parent, uint32_t kind, uint64_t base, uint64_t size,
                         mica_handle_t *out);
int mica_vmo_create_physical(mica_handle_t resource, uint64_t pa, uint64_t size,
                             mica_handle_t *out);
int mica_vmo_create_child(mica_handle_t vmo, uint64_t offset, uint64_t size, mica_handle_t *out);
/* The same, paid for by `payer` (0: the caller; see docs/syscalls.md). */
int mica_vmo_create_child_for(mica_handle_t payer, mica_handle_t vmo, uint64_t offset,
                              uint64_t size, mica_handle_t *out);
/* A copy-on-write snapshot of [offset, offset+size) of vmo: neither sees
 * the other's later writes (fork). */
int mica_vmo_create_snapshot(mica_handle_t vmo, uint64_t offset, uint64_t size, mica_handle_t *out);
/* The same, the snapshot's pages (and the frozen ones) charged to `payer`. */
int mica_vmo_create_snapshot_for(mica_handle_t payer, mica_handle_t vmo, uint64_t offset,
                                 uint64_t size, mica_handle_t *out);
/* Physically contiguous, zeroed RAM for DMA; its physical address in *pa. */
int mica_vmo_create_contiguous(mica_handle_t ram_resource, uint64_t size, mica_handle_t *out,
                               uint64_t *pa);
int mica_irq_create(mica_handle_t resource, unsigned irq, mica_handle_t *out);
int mica_irq_bind(mica_handle_t irq, mica_handle_t notification, uint64_t bits);
int mica_irq_ack(mica_handle_t irq);
int mica_irq_mask(mica_handle_t irq);
/* Console handover (the UART driver; see MICA_SYS_CONSOLE_TAKE). */
int mica_console_take(mica_handle_t resource, mica_handle_t notification, uint64_t bits);
int mica_console_read(mica_handle_t resource, void *buf, size_t len, size_t *got);
/* The same with MICA_CONSOLE_READ_* flags (the uart driver). */
int mica_console_read_flags(mica_handle_t resource, void *buf, size_t len, unsigned flags,
                            size_t *got);

/* Look a file up in a cpio newc archive mapped in memory. */
int mica_cpio_find(const void *archive, size_t size, const char *name, const void **data,
                   size_t *len);

/* The bootinfo of this process (crt0 records it). */
extern const struct mica_bootinfo *mica_bootinfo;

const char *mica_status_name(int status);

#endif
