/*
 * ktest: the native in-guest test program. init runs it in the test image;
 * it exercises every syscall, good and bad input alike, and exits with the
 * number of failed tests. Output matches the kernel self-tests ("[ RUN  ]",
 * "[ PASS ]", "[ FAIL ]") so tests/guest/harness.py checks both.
 */
#ifndef KTEST_H
#define KTEST_H

#include <mica/cap.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            mica_printf("    check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);              \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

#define CHECK_STATUS(expr, want)                                                                   \
    do {                                                                                           \
        int got_ = (expr);                                                                         \
        if (got_ != (want)) {                                                                      \
            mica_printf("    check failed: %s gave %s, want %s (%s:%d)\n", #expr,                  \
                        mica_status_name(got_), mica_status_name(want), __FILE__, __LINE__);       \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, MICA_OK)

struct ktest {
    const char *name;
    int (*fn)(void);
};

extern const struct ktest ktests_handles[], ktests_memory[], ktests_process[], ktests_ipc[],
    ktests_ipc_fast[], ktests_fault[], ktests_device[], ktests_server[], ktests_procmgr[],
    ktests_hostile[], ktests_fuzz[], ktests_mfuzz[], ktests_fs[], ktests_drivers[], ktests_linux[],
    ktests_snapshot[], ktests_sched[], ktests_confine[], ktests_limits[];

/* Helpers (ktest.c). */
const struct mica_bootinfo *kt_bootinfo(void);
/* Spawn bin/ktest again as a child running `role` (see ktest.c roles). */
int kt_spawn_role(const char *role, mica_handle_t *child);
/* Wait for child (up to timeout_ms) and return its exit code/reason. */
int kt_wait(mica_handle_t child, uint64_t timeout_ms, int64_t *code, uint32_t *reason);
uint64_t kt_random(void);
void kt_seed(uint64_t seed); /* restart kt_random's sequence from seed */
/* The number after `key` ("mica.fuzz=") in cmdline, or def if absent. */
uint64_t kt_cmdline_number(const char *cmdline, const char *key, uint64_t def);
/* Snapshot of live kernel objects, and a check that they are back to it. */
int kt_stats(struct mica_kernel_stats *st);
int kt_same_objects(const struct mica_kernel_stats *a, const struct mica_kernel_stats *b);
/* Start fn(arg) in a new thread of this process (ktest_ipc.c), with its own
 * stack and, if given, an IPC buffer registered before it runs. */
int kt_thread_ex(void (*fn)(uint64_t), uint64_t arg, struct mica_ipc_buffer *buf,
                 mica_handle_t *thread);
int kt_thread(void (*fn)(uint64_t), uint64_t arg, mica_handle_t *thread);
/* The same at `priority` (kt_thread_ex: 128, ktest's own). */
int kt_thread_prio(void (*fn)(uint64_t), uint64_t arg, struct mica_ipc_buffer *buf,
                   unsigned priority, mica_handle_t *thread);
/* Role entry for the fuzzer child (ktest_fuzz.c). */
int kt_fuzz_role(uint64_t calls, uint64_t seed);
int kt_mfuzz_role(uint64_t ops, uint64_t seed);
int kt_confine_role(void); /* ktest_confine.c: guesses handle values */

#endif
