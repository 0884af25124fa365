/*
 * lx-confine: a Linux program's svc reaches only the Linux personality,
 * never Mica's native system calls. It issues `svc` with Mica's native
 * numbers in x8 (libcap/include/mica/abi.h) and arguments that would
 * mean something natively: create a VMO, an endpoint, a process; kill a
 * process, exit the system, write the debug log, exit the process. Each
 * is the Linux system call of that number instead (Linux's 8 is getxattr,
 * 16 fremovexattr, 26 inotify_init1, ...), so each must come back with the
 * personality's answer for that Linux call: -ENOSYS for the ones it does
 * not implement, -EBADF for dup, fcntl and close of a descriptor that
 * does not exist. Native answers look different: MICA_OK (0) or a Mica
 * status (-1..-13), and on success values in x1..x3, where a Linux call
 * leaves every register but x0 as it was; so the test also checks x1..x8
 * come back unchanged. The immediate of svc must not matter either.
 *
 * A native effect would also show: the program would end (process_exit,
 * thread_exit), or sleep forever (sleep), or the machine would stop
 * (system_exit); the debug log's text never appears on the console (the
 * harness checks it does not). The ones that would end us come last.
 */
#include "check.h"
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

/* Mica's native numbers (libcap/include/mica/abi.h), written out: this
 * program is built against musl, not libcap. */
enum {
    MICA_SYS_NULL = 0,
    MICA_SYS_DEBUG_LOG = 1,
    MICA_SYS_CLOCK_GET = 2,
    MICA_SYS_HANDLE_CLOSE = 3,
    MICA_SYS_HANDLE_DUP = 4,
    MICA_SYS_HANDLE_INFO = 7,
    MICA_SYS_VMO_CREATE = 8,
    MICA_SYS_VMO_WRITE = 10,
    MICA_SYS_ASPACE_MAP = 12,
    MICA_SYS_PROCESS_CREATE = 15,
    MICA_SYS_PROCESS_KILL = 16,
    MICA_SYS_THREAD_CREATE = 18,
    MICA_SYS_THREAD_EXIT = 20,
    MICA_SYS_PROCESS_EXIT = 21,
    MICA_SYS_YIELD = 22,
    MICA_SYS_SLEEP = 23,
    MICA_SYS_KERNEL_STATS = 25,
    MICA_SYS_SYSTEM_EXIT = 26,
    MICA_SYS_ENDPOINT_CREATE = 27,
    MICA_SYS_CALL = 28,
    MICA_SYS_RECV = 30,
    MICA_SYS_NOTIFICATION_CREATE = 33,
    MICA_SYS_THREAD_KILL = 51,
    MICA_SYS_THREAD_READ_FP = 57,
};

/* A plausible handle: slot n, generation 1, as the kernel hands them out. */
#define HANDLE(n) ((1UL << 16) | (n))

static const char log_text[] = "LX-CONFINE-NATIVE-LOG-LEAK\n";
static uint64_t buffer[128];

struct native_call {
    const char *what;
    uint64_t nr, a[6];
    long want; /* the Linux personality's answer for this Linux number */
};

static const struct native_call calls[] = {
    {"null", MICA_SYS_NULL, {0}, -ENOSYS},
    {"debug_log",
     MICA_SYS_DEBUG_LOG,
     {HANDLE(4), (uintptr_t)log_text, sizeof(log_text) - 1},
     -ENOSYS},
    {"clock_get", MICA_SYS_CLOCK_GET, {0}, -ENOSYS},
    {"handle_close", MICA_SYS_HANDLE_CLOSE, {HANDLE(0)}, -ENOSYS},
    {"handle_dup", MICA_SYS_HANDLE_DUP, {HANDLE(0), 0x1FF}, -ENOSYS},
    {"handle_info", MICA_SYS_HANDLE_INFO, {HANDLE(0)}, -ENOSYS},
    {"vmo_create", MICA_SYS_VMO_CREATE, {4096}, -ENOSYS},
    {"vmo_write", MICA_SYS_VMO_WRITE, {HANDLE(1), 0, (uintptr_t)buffer, 64}, -ENOSYS},
    {"aspace_map", MICA_SYS_ASPACE_MAP, {HANDLE(1), HANDLE(2), 0, 4096, 0, 3}, -ENOSYS},
    {"process_create", MICA_SYS_PROCESS_CREATE, {(uintptr_t) "evil", 4, 0}, -ENOSYS},
    {"process_kill", MICA_SYS_PROCESS_KILL, {HANDLE(0), 9, 0}, -ENOSYS},
    {"thread_create", MICA_SYS_THREAD_CREATE, {HANDLE(0), 128}, -ENOSYS},
    {"yield", MICA_SYS_YIELD, {0}, -ENOSYS},
    {"sleep (dup of a huge fd)", MICA_SYS_SLEEP, {UINT64_MAX}, -EBADF},
    {"kernel_stats (fcntl of a huge fd)", MICA_SYS_KERNEL_STATS, {(uintptr_t)buffer, 256}, -EBADF},
    {"system_exit", MICA_SYS_SYSTEM_EXIT, {HANDLE(0), 0, 0}, -ENOSYS},
    {"endpoint_create", MICA_SYS_ENDPOINT_CREATE, {0}, -ENOSYS},
    {"call", MICA_SYS_CALL, {HANDLE(3), 0, 1, 2, 3, 4}, -ENOSYS},
    {"recv", MICA_SYS_RECV, {HANDLE(3), 0}, -ENOSYS},
    {"notification_create", MICA_SYS_NOTIFICATION_CREATE, {0}, -ENOSYS},
    {"thread_kill", MICA_SYS_THREAD_KILL, {HANDLE(2)}, -ENOSYS},
    {"thread_read_fp (close of a huge fd)",
     MICA_SYS_THREAD_READ_FP,
     {HANDLE(2), (uintptr_t)buffer, 528},
     -EBADF},
    /* Natively these end the thread or the process: last. */
    {"thread_exit", MICA_SYS_THREAD_EXIT, {0}, -ENOSYS},
    {"process_exit", MICA_SYS_PROCESS_EXIT, {42}, -ENOSYS},
};

#define MARK 0x5A5A000000000000UL /* x6, x7: no argument of ours */

/* svc #imm with x8 = nr, x0..x5 = a, x6/x7 marked; out: x0..x8 after. */
#define SVC(imm, nr, a, out)                                                                       \
    do {                                                                                           \
        register uint64_t x0 __asm__("x0") = (a)[0], x1 __asm__("x1") = (a)[1];                    \
        register uint64_t x2 __asm__("x2") = (a)[2], x3 __asm__("x3") = (a)[3];                    \
        register uint64_t x4 __asm__("x4") = (a)[4], x5 __asm__("x5") = (a)[5];                    \
        register uint64_t x6 __asm__("x6") = MARK | 6, x7 __asm__("x7") = MARK | 7;                \
        register uint64_t x8 __asm__("x8") = (nr);                                                 \
        __asm__ volatile("svc #" #imm                                                              \
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6),   \
                           "+r"(x7), "+r"(x8)                                                      \
                         :                                                                         \
                         : "memory");                                                              \
        (out)[0] = x0, (out)[1] = x1, (out)[2] = x2, (out)[3] = x3, (out)[4] = x4;                 \
        (out)[5] = x5, (out)[6] = x6, (out)[7] = x7, (out)[8] = x8;                                \
    } while (0)

static void check_call(const struct native_call *c, int imm)
{
    uint64_t out[9];
    if (imm == 0)
        SVC(0, c->nr, c->a, out);
    else if (imm == 1)
        SVC(1, c->nr, c->a, out);
    else
        SVC(0xFFFF, c->nr, c->a, out);
    bool same = out[6] == (MARK | 6) && out[7] == (MARK | 7) && out[8] == c->nr;
    for (int i = 1; i < 6; i++)
        same &= out[i] == c->a[i];
    if ((long)out[0] != c->want || !same) {
        printf("FAIL native %s (x8 = %lu, svc #%d): x0 %ld (want %ld), x1..x8 %s\n", c->what,
               (unsigned long)c->nr, imm == 2 ? 0xFFFF : imm, (long)out[0], c->want,
               same ? "kept" : "CHANGED");
        checks_failed++;
    }
}

int main(void)
{
    pid_t pid = getpid();
    for (int imm = 0; imm < 3; imm++)
        for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
            check_call(&calls[i], imm);
    /* Still here, still the same Linux process, and Linux calls still work. */
    CHECK(getpid() == pid);
    CHECK(write(1, "", 0) == 0);
    return finish("lx-confine");
}
