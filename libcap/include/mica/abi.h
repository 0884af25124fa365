/*
 * Mica's system call ABI: the one definition shared by the kernel and by
 * userspace (libcap). docs/syscalls.md describes every call; keep the two
 * in step (tests/host/test_syscall_doc.py checks the names).
 *
 * Calling convention: `svc #0` with the syscall number in x8 and arguments
 * in x0..x7. On return x0 holds the status (0 or a negative MICA_ERR_*),
 * results are in x1 onward; every other register is preserved except x8.
 *
 * Handles are 32-bit values: (generation << 16) | slot. Value 0 is never a
 * handle. A closed handle's slot gets a new generation, so a stale value is
 * detected (MICA_ERR_BAD_HANDLE) rather than aliased.
 */
#ifndef MICA_ABI_H
#define MICA_ABI_H

#include <stdint.h>

/* ---- status codes (x0) ---- */
#define MICA_OK 0
#define MICA_ERR_NO_MEMORY (-1)     /* the kernel is out of memory (limits give MICA_ERR_LIMIT) */
#define MICA_ERR_INVALID_ARGS (-2)  /* an argument is malformed */
#define MICA_ERR_OUT_OF_RANGE (-3)  /* offset/address outside the object */
#define MICA_ERR_BAD_STATE (-4)     /* the object's state forbids it */
#define MICA_ERR_NOT_FOUND (-5)     /* no such thing */
#define MICA_ERR_NOT_SUPPORTED (-6) /* unknown syscall or operation */
#define MICA_ERR_TIMED_OUT (-7)     /* the deadline passed */
#define MICA_ERR_BAD_HANDLE (-8)    /* no such handle, or a stale one */
#define MICA_ERR_ACCESS_DENIED (-9) /* the handle lacks a right */
#define MICA_ERR_WRONG_TYPE (-10)   /* the handle names another kind of object */
#define MICA_ERR_FAULT (-11)        /* a user pointer is unmapped or not writable */
#define MICA_ERR_PEER_CLOSED (-12)  /* the other side of an IPC died or closed */
#define MICA_ERR_LIMIT (-13)        /* a per-process kernel resource limit */

/* ---- rights ---- */
#define MICA_RIGHT_READ (1u << 0)      /* vmo read/map-read; endpoint receive */
#define MICA_RIGHT_WRITE (1u << 1)     /* vmo write/map-write; endpoint send/call */
#define MICA_RIGHT_EXEC (1u << 2)      /* vmo map-exec */
#define MICA_RIGHT_MAP (1u << 3)       /* vmo may be mapped */
#define MICA_RIGHT_DUPLICATE (1u << 4) /* handle_dup / handle_mint */
#define MICA_RIGHT_TRANSFER (1u << 5)  /* may be moved over IPC */
#define MICA_RIGHT_SIGNAL (1u << 6)    /* notification signal */
#define MICA_RIGHT_WAIT (1u << 7)      /* notification wait; process wait */
#define MICA_RIGHT_MANAGE                                                                          \
    (1u << 8) /* control: map into an address space,                                               \
                 start/kill threads, create from a resource */
#define MICA_RIGHTS_ALL 0x1FFu

/* ---- object types (handle_info) ---- */
#define MICA_OBJ_PROCESS 1
#define MICA_OBJ_THREAD 2
#define MICA_OBJ_VMO 3
#define MICA_OBJ_ASPACE 4
#define MICA_OBJ_ENDPOINT 5
#define MICA_OBJ_NOTIFICATION 6
#define MICA_OBJ_IRQ 7
#define MICA_OBJ_RESOURCE 8
#define MICA_OBJ_REPLY 9 /* a saved one-shot reply (reply_save) */
#define MICA_OBJ_TYPE_COUNT 10

/* ---- syscall numbers (x8) ---- */
#define MICA_SYS_NULL 0                 /* () -> nothing; for benchmarks */
#define MICA_SYS_DEBUG_LOG 1            /* (log resource, buf, len, MICA_LOG_* flags) */
#define MICA_SYS_CLOCK_GET 2            /* () -> x1 ns since boot */
#define MICA_SYS_HANDLE_CLOSE 3         /* (h) */
#define MICA_SYS_HANDLE_DUP 4           /* (h, rights) -> x1 new handle */
#define MICA_SYS_HANDLE_MINT 5          /* (endpoint h, rights, badge) -> x1 */
#define MICA_SYS_HANDLE_REVOKE 6        /* (h): close every handle derived from h */
#define MICA_SYS_HANDLE_INFO 7          /* (h) -> x1 type, x2 rights, x3 badge */
#define MICA_SYS_VMO_CREATE 8           /* (size[, payer]) -> x1 vmo */
#define MICA_SYS_VMO_READ 9             /* (vmo, offset, buf, len) */
#define MICA_SYS_VMO_WRITE 10           /* (vmo, offset, buf, len) */
#define MICA_SYS_VMO_GET_SIZE 11        /* (vmo) -> x1 size */
#define MICA_SYS_ASPACE_MAP 12          /* (aspace, vmo, offset, size, va, flags) -> x1 va */
#define MICA_SYS_ASPACE_UNMAP 13        /* (aspace, va, size) */
#define MICA_SYS_ASPACE_PROTECT 14      /* (aspace, va, size, flags) */
#define MICA_SYS_PROCESS_CREATE 15      /* (name, len, flags[, payer]) -> x1 process, x2 aspace */
#define MICA_SYS_PROCESS_KILL 16        /* (process[, code, how]) */
#define MICA_SYS_PROCESS_WAIT 17        /* (process, deadline) -> x1 exit code, x2 reason */
#define MICA_SYS_THREAD_CREATE 18       /* (process, priority[, payer]) -> x1 thread */
#define MICA_SYS_THREAD_START 19        /* (thread, pc, sp, arg0, arg1) */
#define MICA_SYS_THREAD_EXIT 20         /* (): ends the calling thread */
#define MICA_SYS_PROCESS_EXIT 21        /* (code): ends the calling process */
#define MICA_SYS_YIELD 22               /* () */
#define MICA_SYS_SLEEP 23               /* (deadline) */
#define MICA_SYS_HANDLE_GIVE 24         /* (h, process) -> x1 handle in process (moves h) */
#define MICA_SYS_KERNEL_STATS 25        /* (buf, len): struct mica_kernel_stats */
#define MICA_SYS_SYSTEM_EXIT 26         /* (resource, code, mode): end or restart the machine */
#define MICA_SYS_ENDPOINT_CREATE 27     /* () -> x1 endpoint */
#define MICA_SYS_CALL 28                /* (ep, info, m0..m5) -> x1 info, x2..x7 m0..m5 */
#define MICA_SYS_SEND 29                /* (ep, info, m0..m5) */
#define MICA_SYS_RECV 30                /* (ep, info) -> x1 info, x2..x7 m0..m5, x8 badge */
#define MICA_SYS_REPLY 31               /* (0, info, m0..m5) */
#define MICA_SYS_REPLY_RECV 32          /* (ep, info, m0..m5) -> as recv */
#define MICA_SYS_NOTIFICATION_CREATE 33 /* () -> x1 notification */
#define MICA_SYS_NOTIFY_SIGNAL 34       /* (notification, bits) */
#define MICA_SYS_NOTIFY_WAIT 35         /* (notification, deadline) -> x1 bits */
#define MICA_SYS_THREAD_BIND_NOTIFICATION 36  /* (thread, notification or 0) */
#define MICA_SYS_THREAD_SET_IPC_BUFFER 37     /* (thread, va or 0) */
#define MICA_SYS_THREAD_SET_FAULT_ENDPOINT 38 /* (thread, endpoint or 0) */
#define MICA_SYS_THREAD_SUSPEND 39            /* (thread) */
#define MICA_SYS_THREAD_RESUME 40             /* (thread) */
#define MICA_SYS_THREAD_READ_STATE 41         /* (thread, buf, len): struct mica_thread_state */
#define MICA_SYS_THREAD_WRITE_STATE 42        /* (thread, buf, len) */
#define MICA_SYS_THREAD_SET_PRIORITY 43       /* (thread, priority) */
#define MICA_SYS_RESOURCE_CREATE 44           /* (resource, kind, base, size) -> x1 resource */
#define MICA_SYS_VMO_CREATE_PHYSICAL 45       /* (resource, pa, size) -> x1 vmo (Device memory) */
#define MICA_SYS_IRQ_CREATE 46                /* (resource, irq) -> x1 irq */
#define MICA_SYS_IRQ_BIND 47                  /* (irq, notification, bits) */
#define MICA_SYS_IRQ_ACK 48                   /* (irq): unmask after handling */
#define MICA_SYS_IRQ_MASK 49                  /* (irq) */
#define MICA_SYS_VMO_CREATE_CHILD 50          /* (vmo, offset, size[, payer]) -> x1 copy-on-write child */
#define MICA_SYS_THREAD_KILL 51               /* (thread) */
#define MICA_SYS_VMO_CREATE_CONTIGUOUS 52     /* (RAM resource, size) -> x1 vmo, x2 pa */
#define MICA_SYS_REPLY_SAVE 53                /* () -> x1 reply: the pending reply as a handle */
#define MICA_SYS_REPLY_TO 54                  /* (reply, info, m0..m5): answer through it, once */
#define MICA_SYS_CONSOLE_TAKE 55              /* (console resource, notification, bits) */
#define MICA_SYS_CONSOLE_READ 56              /* (console resource, buf, len) -> x1 bytes */
#define MICA_SYS_THREAD_READ_FP 57            /* (thread, buf, len): struct mica_fp_state */
#define MICA_SYS_THREAD_WRITE_FP 58           /* (thread, buf, len) */
#define MICA_SYS_VMO_COPY 59                  /* (dst vmo, dst offset, src vmo, src offset, len) */
#define MICA_SYS_VMO_CREATE_SNAPSHOT 60       /* (vmo, offset, size[, payer]) -> x1 snapshot */
#define MICA_SYS_PROCESS_SET_LIMIT 61         /* (process, pages): its memory limit */
#define MICA_SYS_PROCESS_MEMORY 62            /* (process) -> x1 pages, x2 limit, x3 room */
#define MICA_SYS_LOG_READ 63 /* (log resource, pos, buf, len) -> x1 bytes, x2 pos */
#define MICA_SYS_COUNT 64

/*
 * Memory limits (docs/syscalls.md, "Limits"). Every page the kernel
 * allocates for userspace is charged to a process, its payer: the caller,
 * or (the optional payer argument of vmo_create, vmo_create_snapshot and
 * process_create) a process the caller holds with MANAGE that is itself
 * or one it pays for. A process's pages count against its own limit and
 * every limit up the chain of payers. A new process is paid for by its
 * payer (by default its creator) and starts with the payer's limit;
 * init's is the RAM free at boot less the kernel's reserve.
 * process_set_limit lowers a limit (anyone with MANAGE, the process itself
 * included) or raises it (only a process up its payer chain), never below
 * what it holds (MICA_ERR_BAD_STATE). A charge past any limit fails with
 * MICA_ERR_LIMIT; a page fault that cannot be charged goes to the
 * thread's fault handler (or ends the process).
 */

/*
 * Resources: authority over physical things. The root resource (init's)
 * covers everything; resource_create carves a narrower one of a kind:
 * MMIO (physical addresses outside RAM, for vmo_create_physical), IRQ
 * (interrupt numbers of the board's controller, for irq_create), RAM (a
 * number of bytes of physically contiguous memory, for DMA buffers:
 * vmo_create_contiguous; its base is ignored, its size is the allowance)
 * or LOG (the right to write the kernel's debug log; no range), or
 * CONSOLE (the right to take the kernel's console over; no range).
 */
#define MICA_RESOURCE_ROOT 0
#define MICA_RESOURCE_MMIO 1
#define MICA_RESOURCE_IRQ 2
#define MICA_RESOURCE_RAM 3
#define MICA_RESOURCE_LOG 4
#define MICA_RESOURCE_CONSOLE 5

/*
 * Console handover: the UART driver calls console_take with a CONSOLE
 * resource and a notification; the kernel stops writing its log to the
 * UART (except on panic and system exit) and signals `bits` whenever log
 * text is waiting; console_read returns up to len bytes of it (at most
 * MICA_CONSOLE_READ_MAX). When the owner's process ends the kernel writes
 * again, starting where the driver stopped.
 */
#define MICA_CONSOLE_READ_MAX 512
/* console_read flags (x3): leave out service lines (MICA_LOG_SERVICE), for
 * a driver whose console a program is using; they stay in the log. */
#define MICA_CONSOLE_READ_NO_SERVICE 1u

/*
 * The kernel log. debug_log's flags (x3): MICA_LOG_SERVICE marks a
 * service's line (libcap's mica_printf in a process started with
 * MICA_BOOT_SERVICE); the console driver leaves such lines out while a
 * program has the console, and log_read (dmesg) shows every line.
 * log_read copies up to MICA_LOG_READ_MAX bytes of the log from position
 * pos (bytes logged since boot), or from the oldest byte the ring still
 * holds if pos is older; x2 is the position of the first byte copied.
 */
#define MICA_LOG_SERVICE 1u
#define MICA_LOG_READ_MAX 512

/* system_exit modes (x2) */
#define MICA_SYSTEM_OFF 0   /* end the machine with the status (semihosting exit) */
#define MICA_SYSTEM_RESET 1 /* restart it */

/*
 * IRQ objects: one interrupt line, bound to a notification. When the line
 * fires the kernel masks it and signals the notification's bits; the
 * driver handles the device and calls irq_ack to unmask.
 */

/*
 * Faults. A thread with a fault endpoint turns a fault it cannot survive
 * (an unresolvable page fault, an undefined instruction, an alignment fault,
 * any other synchronous exception) and an unknown syscall number into a
 * call on that endpoint: label MICA_FAULT_LABEL, six words
 *   w0 kind (MICA_FAULT_*), w1 ESR, w2 FAR, w3 pc, w4 sp, w5 x8,
 * with the badge of the fault endpoint handle identifying the thread. The
 * handler may read and change the thread's registers
 * (thread_read_state/thread_write_state) and replies:
 *   label MICA_FAULT_RESUME: continue (w0, if sent: the new pc; w1, if
 *       sent: the new x0, e.g. an emulated syscall's result);
 *   label MICA_FAULT_KILL: the thread dies.
 * Without a fault endpoint, a fault ends the process (process_wait reports
 * MICA_EXIT_FAULT with the ESR) and an unknown syscall returns
 * MICA_ERR_NOT_SUPPORTED.
 */
#define MICA_FAULT_LABEL 0xFA17
#define MICA_FAULT_PAGE 1
#define MICA_FAULT_UNDEFINED 2
#define MICA_FAULT_ALIGNMENT 3
#define MICA_FAULT_UNKNOWN_SYSCALL 4
#define MICA_FAULT_OTHER 5
#define MICA_FAULT_RESUME 0
#define MICA_FAULT_KILL 1
#define MICA_SYSCALL_RETURN 2 /* Linux personality: w0 is the new x0 */

/*
 * The Linux personality. A process created with MICA_PROCESS_LINUX has no
 * Mica syscalls: every `svc #0` of its threads becomes a call on the
 * thread's fault endpoint, label MICA_SYSCALL_LABEL, six register words
 *   w0 the Linux syscall number (x8), w1..w5 its arguments x0..x4
 * (a sixth argument, x5, the handler reads with thread_read_state), with
 * the fault endpoint handle's badge. The handler answers with
 *   MICA_SYSCALL_RETURN: w0 becomes x0 and the thread continues after the
 *       svc (other registers it may change with thread_write_state first);
 *   MICA_FAULT_RESUME / MICA_FAULT_KILL as for faults.
 * Without a fault endpoint the syscall returns -ENOSYS (-38).
 */
#define MICA_SYSCALL_LABEL 0x5C
#define MICA_PROCESS_LINUX 1u /* process_create flags (x2) */

/* A thread's user registers (thread_read_state / thread_write_state). Only
 * the condition flags of pstate can be changed; pc and sp must be user
 * addresses. */
struct mica_thread_state {
    uint64_t x[31];
    uint64_t sp;
    uint64_t pc;
    uint64_t pstate;
    uint64_t tpidr; /* TPIDR_EL0, the user thread pointer (TLS) */
    uint64_t flags; /* read_state only: MICA_THREAD_* below (write_state ignores it) */
};
/* The thread waits for its fault endpoint's handler: a fault message or a
 * personality's system call, queued or being handled. The handler's reply
 * will set its registers, so a debugger or a personality should not
 * redirect it now (a Linux signal is delivered with that reply instead). */
#define MICA_THREAD_IN_HANDLER_CALL 1UL

/* A thread's FP/SIMD registers (thread_read_fp / thread_write_fp): q0-q31
 * as two words each (v[2n] the low half of qn, v[2n+1] the high half),
 * then FPSR and FPCR, whose upper 32 bits are always 0. */
struct mica_fp_state {
    uint64_t v[64];
    uint64_t fpsr;
    uint64_t fpcr;
};

/*
 * IPC messages. A message is a 64-bit info word plus up to
 * MICA_MSG_MAX_WORDS words: the first MICA_MSG_REG_WORDS travel in x2..x7,
 * the rest in the sender's IPC buffer (struct mica_ipc_buffer, registered
 * per thread), and up to MICA_MSG_MAX_HANDLES handles move with it (the
 * sender's handle values in its buffer's handles[]; the receiver finds its
 * new values in its own). The receiver learns the badge of the endpoint
 * handle the sender used (x8 on return from recv).
 *
 * info: bits 0-15 label, 16-23 length in words, 24-26 handle count,
 * 27 flags (see below); bits 32-63 a timeout in microseconds for the
 * blocking part of the call (0: wait forever). MICA_MSG_POLL instead
 * never blocks.
 */
#define MICA_MSG_REG_WORDS 6
#define MICA_MSG_BUF_WORDS 120
#define MICA_MSG_MAX_WORDS (MICA_MSG_REG_WORDS + MICA_MSG_BUF_WORDS)
#define MICA_MSG_MAX_HANDLES 4
#define MICA_MSG_POLL (1UL << 27)         /* in: do not block */
#define MICA_MSG_NOTIFICATION (1UL << 28) /* out: a notification, not a message */
#define MICA_MSG_TRUNCATED (1UL << 29)    /* out: words beyond the receiver's buffer dropped */
#define MICA_MSG_CLOSE_REPLY (1UL << 30)  /* in, reply_to: close the reply handle too */
#define MICA_MSG_SAVE_REPLY (1UL << 31)   /* in, recv: reply_save first; its handle in x9 */

static inline uint64_t mica_msg_info(uint32_t label, unsigned words, unsigned handles,
                                     uint32_t timeout_us)
{
    return (uint64_t)(label & 0xFFFF) | ((uint64_t)(words & 0xFF) << 16) |
           ((uint64_t)(handles & 7) << 24) | ((uint64_t)timeout_us << 32);
}
#define MICA_MSG_LABEL(info) ((uint32_t)((info)&0xFFFF))
#define MICA_MSG_WORDS(info) ((unsigned)(((info) >> 16) & 0xFF))
#define MICA_MSG_HANDLES(info) ((unsigned)(((info) >> 24) & 7))

struct mica_ipc_buffer {
    uint64_t words[MICA_MSG_BUF_WORDS]; /* message words 6.. */
    uint32_t handles[MICA_MSG_MAX_HANDLES];
    uint64_t reserved[14];
};

/* aspace_map flags: the rights of the mapping, plus placement. */
#define MICA_MAP_READ MICA_RIGHT_READ
#define MICA_MAP_WRITE MICA_RIGHT_WRITE
#define MICA_MAP_EXEC MICA_RIGHT_EXEC
#define MICA_MAP_FIXED (1u << 16) /* map exactly at va (else va is ignored) */

/* Deadlines are absolute ns since boot (MICA_SYS_CLOCK_GET); these two are
 * special: */
#define MICA_DEADLINE_NONE 0 /* do not block at all */
#define MICA_DEADLINE_INFINITE UINT64_MAX

/* process_kill x2: how the process's end is reported (0: killed, code -1) */
#define MICA_KILL_AS_EXIT 1   /* as if it exited: MICA_EXIT_NORMAL with code x1 */
#define MICA_KILL_WITH_CODE 2 /* MICA_EXIT_KILLED with code x1 (a signal number) */

/* process_wait reasons */
#define MICA_EXIT_NORMAL 0 /* process_exit / last thread_exit */
#define MICA_EXIT_KILLED 1 /* process_kill */
#define MICA_EXIT_FAULT 2  /* an unhandled fault; the code is the ESR */

/* User address space: [MICA_USER_BASE, MICA_USER_END). */
#define MICA_USER_BASE 0x1000UL
#define MICA_USER_END 0x0000800000000000UL
#define MICA_PAGE_SIZE 4096UL

struct mica_kernel_stats {
    uint64_t objects[MICA_OBJ_TYPE_COUNT]; /* live objects by type */
    uint64_t handles;                      /* live handles */
    uint64_t free_pages;
    uint64_t asid_rollovers; /* times the ASID space was recycled */
    uint64_t ipc_fast; /* IPC handovers done by the fast path (calls, replies, Linux syscalls) */
};

/*
 * The boot-info page the kernel maps read-only into init at
 * MICA_BOOTINFO_VA; its address is also in x0 at init's entry.
 */
#define MICA_BOOTINFO_VA 0x10000UL
#define MICA_BOOTINFO_MAGIC 0x4f464e49544f4f42UL /* "BOOTINFO" */
#define MICA_BOOT_HANDLES 8
struct mica_bootinfo {
    uint64_t magic;
    uint32_t version;      /* 1 */
    uint32_t self_process; /* handle: init's own process */
    uint32_t self_aspace;  /* its address space */
    uint32_t self_thread;  /* its first thread */
    uint32_t bootfs_vmo;   /* the bootfs (cpio newc), read-only */
    uint64_t bootfs_size;
    uint32_t dtb_vmo;       /* the device tree blob, read-only (0: none) */
    uint32_t root_resource; /* authority over RAM, MMIO, IRQs, and system exit */
    uint64_t dtb_size;
    uint32_t startup_handle; /* one handle the spawner chose to pass (0: none) */
    uint32_t debug_log;      /* a LOG resource: the right to write the debug log */
    char cmdline[128];       /* the kernel command line (/chosen bootargs) */
    uint64_t console_pa;     /* the kernel console UART's registers (0: unknown) */
    uint32_t procmgr;        /* a handle to procmgr, for services (0: none) */
    uint32_t n_handles;      /* handles[]: what the spawner passed, meaning per program */
    uint32_t handles[MICA_BOOT_HANDLES];
    uint32_t flags; /* MICA_BOOT_* */
};
/* bootinfo flags: a service of the manifest (procmgr, and what procmgr
 * starts as a service or driver): its log lines are service lines. */
#define MICA_BOOT_SERVICE 1u

#endif
