/* ktest: processes and threads — exit codes, faults reported to the waiter,
 * kill, wait deadlines, bad thread arguments, and no leaked objects. */
#include "ktest.h"

static int test_exit_code(void)
{
    mica_handle_t child;
    int64_t code;
    uint32_t reason;
    CHECK_OK(kt_spawn_role("exit42", &child));
    CHECK_OK(kt_wait(child, 5000, &code, &reason));
    CHECK(code == 42 && reason == MICA_EXIT_NORMAL);
    CHECK_OK(kt_wait(child, 5000, &code, &reason)); /* waiting again: same answer */
    CHECK(code == 42);
    CHECK_STATUS(mica_process_kill(child), MICA_ERR_BAD_STATE);
    CHECK_OK(mica_handle_close(child));
    return 0;
}

static int expect_fault(const char *role, uint64_t ec)
{
    mica_handle_t child;
    int64_t code;
    uint32_t reason;
    CHECK_OK(kt_spawn_role(role, &child));
    CHECK_OK(kt_wait(child, 5000, &code, &reason));
    CHECK(reason == MICA_EXIT_FAULT);
    CHECK((((uint64_t)code >> 26) & 0x3F) == ec); /* the ESR's exception class */
    CHECK_OK(mica_handle_close(child));
    return 0;
}

static int test_fault_kills_process(void)
{
    CHECK(expect_fault("fault", 0x24) == 0);     /* data abort from EL0 */
    CHECK(expect_fault("exec-data", 0x20) == 0); /* instruction abort: data is not executable */
    return 0;
}

static int test_kill_and_deadline(void)
{
    mica_handle_t child;
    int64_t code;
    uint32_t reason;
    CHECK_OK(kt_spawn_role("sleep", &child));
    uint64_t t0 = mica_clock_ns();
    CHECK_STATUS(kt_wait(child, 20, &code, &reason), MICA_ERR_TIMED_OUT);
    CHECK(mica_clock_ns() - t0 >= 20000000UL);
    CHECK_STATUS(mica_process_wait(child, MICA_DEADLINE_NONE, &code, &reason), MICA_ERR_TIMED_OUT);
    CHECK_OK(mica_process_kill(child));
    CHECK_OK(kt_wait(child, 5000, &code, &reason));
    CHECK(reason == MICA_EXIT_KILLED);
    CHECK_OK(mica_handle_close(child));
    /* A busy child (yielding in a loop) can be killed too. */
    CHECK_OK(kt_spawn_role("spin", &child));
    CHECK_OK(mica_sleep_until(mica_clock_ns() + 5000000));
    CHECK_OK(mica_process_kill(child));
    CHECK_OK(kt_wait(child, 5000, &code, &reason));
    CHECK(reason == MICA_EXIT_KILLED);
    CHECK_OK(mica_handle_close(child));
    /* Waiting on oneself would never end. */
    CHECK_STATUS(
        mica_process_wait(kt_bootinfo()->self_process, MICA_DEADLINE_INFINITE, &code, &reason),
        MICA_ERR_INVALID_ARGS);
    return 0;
}

static int test_thread_bad_args(void)
{
    mica_handle_t proc, as, thread;
    CHECK_OK(mica_process_create("idle-child", &proc, &as));
    CHECK_STATUS(mica_thread_create(proc, 256, &thread), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_thread_create(as, 10, &thread), MICA_ERR_WRONG_TYPE);
    CHECK_OK(mica_thread_create(proc, 10, &thread));
    CHECK_STATUS(mica_thread_start(thread, 0x400000, 0x7000001, 0, 0), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_thread_start(thread, 0xFFFF000000000000UL, 0x70000000, 0, 0),
                 MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_thread_start(thread, 0x400000, 0xFFFF000000000000UL, 0, 0),
                 MICA_ERR_INVALID_ARGS);
    /* Started with nothing mapped: it faults at once and takes its process
     * with it. */
    CHECK_OK(mica_thread_start(thread, 0x400000, 0x70000000, 0, 0));
    CHECK_STATUS(mica_thread_start(thread, 0x400000, 0x70000000, 0, 0), MICA_ERR_BAD_STATE);
    int64_t code;
    uint32_t reason;
    CHECK_OK(kt_wait(proc, 5000, &code, &reason));
    CHECK(reason == MICA_EXIT_FAULT);
    CHECK_STATUS(mica_thread_create(proc, 10, &thread), MICA_ERR_BAD_STATE); /* dead process */
    CHECK_OK(mica_handle_close(thread));
    CHECK_OK(mica_handle_close(as));
    CHECK_OK(mica_handle_close(proc));
    /* Bad names. */
    CHECK_STATUS((int)mica_syscall(MICA_SYS_PROCESS_CREATE, 0, 8, 0, 0, 0, 0).status,
                 MICA_ERR_FAULT);
    CHECK_STATUS(
        (int)mica_syscall(MICA_SYS_PROCESS_CREATE, (uintptr_t) "x", 1000, 0, 0, 0, 0).status,
        MICA_ERR_INVALID_ARGS);
    return 0;
}

static int test_no_leaks(void)
{
    struct mica_kernel_stats before, after;
    CHECK_OK(kt_stats(&before));
    for (int round = 0; round < 3; round++) {
        mica_handle_t child, unstarted, as, vmo;
        int64_t code;
        uint32_t reason;
        CHECK_OK(kt_spawn_role("exit42", &child));
        CHECK_OK(kt_wait(child, 5000, &code, &reason));
        CHECK_OK(mica_handle_close(child));
        /* An unstarted process holding a handle to itself: it dies with
         * us at the latest, but closing our handles must not leak it now. */
        CHECK_OK(mica_process_create("unstarted", &unstarted, &as));
        CHECK_OK(mica_vmo_create(8192, &vmo));
        CHECK_OK(mica_aspace_map(as, vmo, 0, 8192, 0, MICA_MAP_READ, NULL));
        CHECK_OK(mica_handle_close(vmo));
        CHECK_OK(mica_process_kill(unstarted));
        CHECK_OK(mica_handle_close(as));
        CHECK_OK(mica_handle_close(unstarted));
    }
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    /* Slab caches may keep one empty page each: allow that much. */
    CHECK(before.free_pages - after.free_pages <= 8);
    return 0;
}

/* A process that commits memory without end is stopped by its limit, and
 * all of it comes back when it exits. */
static int test_memory_limit(void)
{
    struct mica_kernel_stats before, after;
    mica_handle_t child;
    int64_t code;
    uint32_t reason;
    CHECK_OK(kt_stats(&before));
    CHECK_OK(kt_spawn_role("hog", &child));
    CHECK_OK(kt_wait(child, 120000, &code, &reason));
    mica_printf("    hog stopped with %s\n", mica_status_name((int)-code));
    CHECK(reason == MICA_EXIT_NORMAL && code == -MICA_ERR_LIMIT);
    CHECK_OK(mica_handle_close(child));
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    CHECK(before.free_pages - after.free_pages <= 8);
    return 0;
}

/* Many short-lived address spaces (the test kernel has only 64 ASIDs, so
 * they roll over several times) while another process checks that its
 * memory stays its own. */
static int test_asid_rollover(void)
{
    mica_handle_t checker, child;
    int64_t code;
    uint32_t reason;
    struct mica_kernel_stats before, after;
    CHECK_OK(kt_stats(&before));
    CHECK_OK(kt_spawn_role("memcheck", &checker));
    for (int i = 0; i < 150; i++) {
        CHECK_OK(kt_spawn_role("exit42", &child));
        CHECK_OK(kt_wait(child, 10000, &code, &reason));
        CHECK(code == 42 && reason == MICA_EXIT_NORMAL);
        CHECK_OK(mica_handle_close(child));
    }
    CHECK_OK(kt_wait(checker, 60000, &code, &reason));
    CHECK(reason == MICA_EXIT_NORMAL && code == 0);
    CHECK_OK(mica_handle_close(checker));
    CHECK_OK(kt_stats(&after));
    mica_printf("    ASID rollovers: %lu\n", after.asid_rollovers - before.asid_rollovers);
    CHECK(after.asid_rollovers >= before.asid_rollovers + 2);
    return 0;
}

static inline uint64_t read_tp(void)
{
    uint64_t v;
    __asm__ volatile("mrs %0, tpidr_el0" : "=r"(v));
    return v;
}

static inline void write_tp(uint64_t v)
{
    __asm__ volatile("msr tpidr_el0, %0" ::"r"(v));
}

static volatile uint64_t tls_seen;

static void tls_thread(void *arg)
{
    (void)arg;
    uint64_t at_start = read_tp();
    /* libcap starts a thread with its own IPC buffer's address there. */
    bool own_buffer = at_start == (uintptr_t)mica_ipc_buffer_here() && at_start != 0x1111;
    write_tp(0x2222);
    mica_sleep_until(mica_clock_ns() + 20000000UL); /* the main thread runs */
    tls_seen = own_buffer && read_tp() == 0x2222 ? 1 : 2;
    write_tp(at_start);
}

/* The user thread pointer (TPIDR_EL0, musl's TLS) belongs to each thread:
 * a new thread does not inherit its creator's, and neither another thread
 * nor another process sees or changes it. */
static int test_thread_pointer(void)
{
    mica_handle_t thread, child;
    int64_t code;
    uint32_t reason;
    write_tp(0x1111);
    tls_seen = 0;
    CHECK_OK(mica_thread_spawn(tls_thread, NULL, 128, &thread));
    mica_sleep_until(mica_clock_ns() + 5000000UL);
    CHECK(read_tp() == 0x1111);
    uint64_t deadline = mica_clock_ns() + 2000000000UL;
    while (!tls_seen && mica_clock_ns() < deadline)
        mica_sleep_until(mica_clock_ns() + 5000000UL);
    CHECK(tls_seen == 1);
    CHECK(read_tp() == 0x1111);
    CHECK_OK(mica_handle_close(thread));
    CHECK_OK(kt_spawn_role("tls", &child)); /* exits 0 if it started with 0 */
    CHECK_OK(kt_wait(child, 5000, &code, &reason));
    CHECK(reason == MICA_EXIT_NORMAL && code == 0);
    CHECK(read_tp() == 0x1111);
    CHECK_OK(mica_handle_close(child));
    write_tp(0);
    return 0;
}

static void signal_and_end(void *arg)
{
    mica_notify_signal(*(mica_handle_t *)arg, 1);
}

/* One short-lived libcap thread, waited for until it has ended. */
static int one_thread(mica_handle_t n)
{
    mica_handle_t t;
    uint64_t bits;
    int err = mica_thread_spawn(signal_and_end, &n, 128, &t);
    if (!err)
        err = mica_notify_wait(n, mica_clock_ns() + 2000000000UL, &bits);
    if (!err)
        err = mica_handle_close(t);
    mica_sleep_until(mica_clock_ns() + 1000000); /* its last instructions */
    return err;
}

/* Threads started by mica_thread_spawn give back their stack and IPC
 * buffer: a hundred of them leave memory and VMO counts as they were. */
static int test_thread_stacks_freed(void)
{
    struct mica_kernel_stats before, after;
    mica_handle_t n;
    CHECK_OK(mica_notification_create(&n));
    CHECK_OK(one_thread(n));
    CHECK_OK(one_thread(n));
    CHECK_OK(kt_stats(&before));
    for (int i = 0; i < 100; i++)
        CHECK_OK(one_thread(n));
    CHECK_OK(kt_stats(&after));
    CHECK(after.objects[MICA_OBJ_VMO] == before.objects[MICA_OBJ_VMO]);
    CHECK(after.objects[MICA_OBJ_THREAD] == before.objects[MICA_OBJ_THREAD]);
    CHECK(after.free_pages + 4 >= before.free_pages); /* not 100 x 5 pages */
    CHECK_OK(mica_handle_close(n));
    return 0;
}

const struct ktest ktests_process[] = {
    {"user_thread_stacks_freed", test_thread_stacks_freed},
    {"user_thread_pointer", test_thread_pointer},
    {"user_asid_rollover", test_asid_rollover},
    {"user_memory_limit", test_memory_limit},
    {"user_process_exit_code", test_exit_code},
    {"user_fault_kills_process", test_fault_kills_process},
    {"user_kill_and_deadline", test_kill_and_deadline},
    {"user_thread_bad_args", test_thread_bad_args},
    {"user_no_leaks", test_no_leaks},
    {NULL, NULL},
};
