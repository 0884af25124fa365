/* ktest: fault endpoints and thread control — a page fault handled by
 * mapping memory and resuming, an undefined instruction skipped by a new
 * pc, a kill verdict, an unknown syscall emulated by the handler, suspend/
 * resume with register access (general and FP/SIMD), priorities, and bad
 * arguments. */
#include <string.h>

#include "ktest.h"

#define HOLE 0x0000006000000000UL /* nothing mapped here until the handler does */

static volatile uint64_t fault_result, emulated_result, spin_count;
static volatile int fault_done;

static void touch_hole(uint64_t arg)
{
    (void)arg;
    fault_result = *(volatile uint64_t *)(HOLE + 8); /* faults, handler maps, retried */
    __asm__ volatile("udf #7");                      /* undefined: handler skips it */
    register uint64_t x8 __asm__("x8") = 999;        /* unknown syscall: handler emulates */
    register uint64_t x0 __asm__("x0") = 1;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8) : "memory");
    emulated_result = x0;
    fault_done = 1;
    *(volatile uint64_t *)(HOLE + 0x100000) = 1; /* unmapped again: handler kills us */
    fault_done = 2;                              /* never reached */
}

/* Start fn in a new thread whose faults go to ep (set before it runs). */
static int thread_with_fault_ep(void (*fn)(uint64_t), mica_handle_t ep, uint64_t badge,
                                mica_handle_t *thread)
{
    mica_handle_t minted;
    int err = mica_handle_mint(ep, MICA_RIGHT_WRITE, badge, &minted);
    if (err)
        return err;
    err = mica_thread_create(kt_bootinfo()->self_process, 128, thread);
    if (!err)
        err = mica_thread_set_fault_endpoint(*thread, minted);
    mica_handle_close(minted); /* the thread holds its own reference */
    if (err)
        return err;
    /* Start it the normal way (kt_thread_ex would create another thread):
     * borrow its stack set-up by creating a stack here. */
    mica_handle_t vmo;
    uintptr_t stack;
    if ((err = mica_vmo_create(16384, &vmo)) != MICA_OK)
        return err;
    err = mica_aspace_map(kt_bootinfo()->self_aspace, vmo, 0, 16384, 0,
                          MICA_MAP_READ | MICA_MAP_WRITE, &stack);
    mica_handle_close(vmo);
    if (!err)
        err = mica_thread_start(*thread, (uintptr_t)fn, stack + 16384, 0, 0);
    return err;
}

static int test_fault_handler(void)
{
    mica_handle_t ep, thread, vmo, as = kt_bootinfo()->self_aspace;
    struct mica_msg m;
    CHECK_OK(mica_endpoint_create(&ep));
    CHECK_OK(thread_with_fault_ep(touch_hole, ep, 0x77, &thread));
    /* 1: the page fault. */
    CHECK_OK(mica_recv(ep, mica_msg_info(0, 0, 0, 2000000), &m));
    CHECK(MICA_MSG_LABEL(m.info) == MICA_FAULT_LABEL && m.badge == 0x77);
    CHECK(m.w[0] == MICA_FAULT_PAGE && m.w[2] == HOLE + 8);
    struct mica_thread_state st;
    CHECK_OK(mica_thread_read_state(thread, &st)); /* readable while it waits */
    CHECK(st.pc == m.w[3] && st.sp == m.w[4]);
    CHECK_OK(mica_vmo_create(4096, &vmo));
    uint64_t value = 0x5EED;
    CHECK_OK(mica_vmo_write(vmo, 8, &value, 8));
    CHECK_OK(mica_aspace_map(as, vmo, 0, 4096, HOLE, MICA_MAP_READ | MICA_MAP_FIXED, NULL));
    CHECK_OK(mica_handle_close(vmo));
    m.info = mica_msg_info(MICA_FAULT_RESUME, 0, 0, 0);
    /* 2: the undefined instruction: resume after it. */
    CHECK_OK(mica_reply_recv(ep, &m));
    CHECK(m.w[0] == MICA_FAULT_UNDEFINED);
    m.w[0] = m.w[3] + 4;
    m.info = mica_msg_info(MICA_FAULT_RESUME, 1, 0, 0);
    /* 3: the unknown syscall: emulate it (x0 = 42424). */
    CHECK_OK(mica_reply_recv(ep, &m));
    CHECK(m.w[0] == MICA_FAULT_UNKNOWN_SYSCALL && m.w[5] == 999);
    m.w[0] = m.w[3]; /* pc already past the svc */
    m.w[1] = 42424;
    m.info = mica_msg_info(MICA_FAULT_RESUME, 2, 0, 0);
    /* 4: a fault we answer with death. */
    CHECK_OK(mica_reply_recv(ep, &m));
    CHECK(m.w[0] == MICA_FAULT_PAGE && m.w[2] == HOLE + 0x100000);
    CHECK(fault_result == 0x5EED && emulated_result == 42424 && fault_done == 1);
    m.info = mica_msg_info(MICA_FAULT_KILL, 0, 0, 0);
    CHECK_OK(mica_reply(&m));
    CHECK_OK(mica_sleep_until(mica_clock_ns() + 5000000));
    CHECK(fault_done == 1);
    CHECK_STATUS(mica_thread_suspend(thread), MICA_ERR_BAD_STATE); /* dead */
    CHECK_OK(mica_aspace_unmap(as, HOLE, 4096));
    CHECK_OK(mica_handle_close(thread));
    CHECK_OK(mica_handle_close(ep));
    return 0;
}

static void spin(uint64_t arg)
{
    (void)arg;
    for (;;) {
        spin_count++;
        mica_yield();
    }
}

static volatile int redirected;

static void redirected_here(void)
{
    redirected = 1;
    mica_thread_exit();
}

static int test_suspend_resume_state(void)
{
    mica_handle_t thread;
    struct mica_thread_state st;
    CHECK_OK(kt_thread_ex(spin, 0, NULL, &thread));
    CHECK_OK(mica_sleep_until(mica_clock_ns() + 2000000));
    CHECK_STATUS(mica_thread_read_state(thread, &st), MICA_ERR_BAD_STATE); /* running */
    CHECK_OK(mica_thread_suspend(thread));
    CHECK_OK(mica_yield());
    uint64_t before = spin_count;
    CHECK_OK(mica_sleep_until(mica_clock_ns() + 3000000));
    CHECK(spin_count == before); /* it no longer runs */
    CHECK_OK(mica_thread_read_state(thread, &st));
    CHECK(st.pc >= 0x400000 && st.pc < 0x500000 && (st.pstate & 0xF) == 0);
    /* Bad states are refused: EL1, kernel pc. */
    struct mica_thread_state bad = st;
    bad.pstate = 0x5; /* EL1h */
    CHECK_STATUS(mica_thread_write_state(thread, &bad), MICA_ERR_INVALID_ARGS);
    bad = st;
    bad.pc = 0xFFFF000000001000UL;
    CHECK_STATUS(mica_thread_write_state(thread, &bad), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(
        (int)mica_syscall(MICA_SYS_THREAD_READ_STATE, thread, (uintptr_t)&st, 8, 0, 0, 0).status,
        MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(
        (int)mica_syscall(MICA_SYS_THREAD_READ_STATE, thread, 0, sizeof(st), 0, 0, 0).status,
        MICA_ERR_FAULT);
    /* Send it somewhere else and let it go. */
    st.pc = (uintptr_t)redirected_here;
    st.sp &= ~15UL;
    CHECK_OK(mica_thread_write_state(thread, &st));
    CHECK_OK(mica_thread_resume(thread));
    CHECK_STATUS(mica_thread_resume(thread), MICA_ERR_BAD_STATE);
    for (int i = 0; i < 200 && !redirected; i++)
        mica_sleep_until(mica_clock_ns() + 1000000);
    CHECK(redirected == 1);
    CHECK_OK(mica_handle_close(thread));
    return 0;
}

static int test_priorities(void)
{
    mica_handle_t thread, self = kt_bootinfo()->self_thread;
    CHECK_OK(mica_thread_create(kt_bootinfo()->self_process, 10, &thread));
    CHECK_STATUS(mica_thread_set_priority(thread, 256), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_thread_set_priority(thread, 200), MICA_ERR_ACCESS_DENIED); /* above ours */
    CHECK_OK(mica_thread_set_priority(thread, 100));
    CHECK_OK(mica_thread_set_priority(self, 128));
    CHECK_STATUS(mica_thread_set_fault_endpoint(thread, thread), MICA_ERR_WRONG_TYPE);
    mica_handle_t ep, ro;
    CHECK_OK(mica_endpoint_create(&ep));
    CHECK_OK(mica_handle_dup(ep, MICA_RIGHT_READ, &ro));
    CHECK_STATUS(mica_thread_set_fault_endpoint(thread, ro), MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_thread_set_fault_endpoint(thread, ep));
    CHECK_OK(mica_thread_set_fault_endpoint(thread, 0));
    CHECK_OK(mica_handle_close(ro));
    CHECK_OK(mica_handle_close(ep));
    CHECK_OK(mica_handle_close(thread));
    return 0;
}

static volatile uint64_t busy[2];

/* Never enters the kernel: only the timer can take the CPU from it. */
static void busy_loop(uint64_t which)
{
    for (;;)
        busy[which]++;
}

/* Two threads at our priority that never yield: we (sleeping) and both of
 * them must still get the CPU, through time-slice preemption. A higher
 * priority thread that wakes runs at once. */
static int test_preemption(void)
{
    mica_handle_t a, b;
    busy[0] = busy[1] = 0;
    CHECK_OK(kt_thread_ex(busy_loop, 0, NULL, &a));
    CHECK_OK(kt_thread_ex(busy_loop, 1, NULL, &b));
    uint64_t t0 = mica_clock_ns();
    CHECK_OK(mica_sleep_until(t0 + 50000000UL)); /* we only get back if they are preempted */
    uint64_t a1 = busy[0], b1 = busy[1];
    CHECK(a1 > 0 && b1 > 0);
    CHECK_OK(mica_sleep_until(mica_clock_ns() + 30000000UL));
    CHECK(busy[0] > a1 && busy[1] > b1); /* both keep running: round robin */
    CHECK_OK(mica_thread_kill(a));
    CHECK_OK(mica_thread_kill(b));
    CHECK_STATUS(mica_thread_kill(a), MICA_ERR_BAD_STATE);
    uint64_t a2 = busy[0];
    CHECK_OK(mica_sleep_until(mica_clock_ns() + 20000000UL));
    CHECK(busy[0] == a2); /* dead: it runs no more */
    CHECK_STATUS(mica_thread_suspend(a), MICA_ERR_BAD_STATE);
    CHECK_OK(mica_handle_close(a));
    CHECK_OK(mica_handle_close(b));
    return 0;
}

void kt_fp_fill(uint64_t seed);
uint64_t kt_fp_check(uint64_t seed);
static volatile uint64_t fp_errors, fp_rounds;

/* Fill the FP/SIMD registers with our own pattern, give the CPU away,
 * check them: the kernel switches FP state lazily between threads. */
static void fp_worker(uint64_t seed)
{
    for (int i = 0; i < 300; i++) {
        kt_fp_fill(seed);
        mica_yield();
        fp_errors += kt_fp_check(seed);
        fp_rounds++;
    }
}

static int test_fp_context(void)
{
    mica_handle_t a, b;
    fp_errors = fp_rounds = 0;
    CHECK_OK(kt_thread_ex(fp_worker, 0x1000, NULL, &a));
    CHECK_OK(kt_thread_ex(fp_worker, 0x2000, NULL, &b));
    for (int i = 0; i < 300; i++) { /* a third FP user: this thread */
        kt_fp_fill(0x3000);
        mica_yield();
        fp_errors += kt_fp_check(0x3000);
    }
    for (int i = 0; i < 500 && fp_rounds < 600; i++)
        mica_sleep_until(mica_clock_ns() + 1000000);
    CHECK(fp_rounds == 600);
    CHECK(fp_errors == 0);
    CHECK_OK(mica_handle_close(a));
    CHECK_OK(mica_handle_close(b));
    return 0;
}

uint64_t kt_fp_fpcr(void);
static volatile uint64_t fp_stage, fp_seen_errors, fp_seen_fpcr;

/* Fills its FP registers, spins (no FP, no kernel) until told, then
 * checks them against what the test wrote with thread_write_fp. */
static void fp_holder(uint64_t seed)
{
    kt_fp_fill(seed);
    fp_stage = 1;
    while (fp_stage == 1)
        ;
    fp_seen_errors = kt_fp_check(0x7000);
    fp_seen_fpcr = kt_fp_fpcr();
    fp_stage = 3;
    mica_thread_exit();
}

/* thread_read_fp / thread_write_fp: another thread's FP/SIMD registers,
 * only while it is stopped, with their arguments checked. */
static int test_fp_state(void)
{
    mica_handle_t thread, fresh, weak, ep;
    static struct mica_fp_state fp;
    fp_stage = 0;
    CHECK_OK(kt_thread_ex(fp_holder, 0x5000, NULL, &thread));
    for (int i = 0; i < 500 && fp_stage != 1; i++)
        mica_sleep_until(mica_clock_ns() + 1000000);
    CHECK(fp_stage == 1);
    CHECK_STATUS(mica_thread_read_fp(thread, &fp), MICA_ERR_BAD_STATE); /* running */
    CHECK_OK(mica_thread_suspend(thread));
    CHECK_OK(mica_yield());
    memset(&fp, 0xAA, sizeof(fp));
    CHECK_OK(mica_thread_read_fp(thread, &fp)); /* live in the CPU: saved first */
    for (unsigned n = 0; n < 32; n++)
        CHECK(fp.v[2 * n] == 0x5000 + n && fp.v[2 * n + 1] == 0x5000);
    CHECK(fp.fpcr == 0 && (fp.fpsr >> 32) == 0);
    /* Bad arguments. */
    CHECK_STATUS(
        (int)mica_syscall(MICA_SYS_THREAD_READ_FP, thread, (uintptr_t)&fp, 520, 0, 0, 0).status,
        MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(
        (int)mica_syscall(MICA_SYS_THREAD_WRITE_FP, thread, (uintptr_t)&fp, 8, 0, 0, 0).status,
        MICA_ERR_INVALID_ARGS);
    CHECK_STATUS((int)mica_syscall(MICA_SYS_THREAD_READ_FP, thread, 0, sizeof(fp), 0, 0, 0).status,
                 MICA_ERR_FAULT);
    CHECK_STATUS((int)mica_syscall(MICA_SYS_THREAD_WRITE_FP, thread, 0xFFFF000000001000UL,
                                   sizeof(fp), 0, 0, 0)
                     .status,
                 MICA_ERR_FAULT);
    CHECK_OK(mica_endpoint_create(&ep));
    CHECK_STATUS(mica_thread_read_fp(ep, &fp), MICA_ERR_WRONG_TYPE);
    CHECK_STATUS(mica_thread_write_fp(ep, &fp), MICA_ERR_WRONG_TYPE);
    CHECK_OK(mica_handle_dup(thread, MICA_RIGHT_DUPLICATE, &weak));
    CHECK_STATUS(mica_thread_read_fp(weak, &fp), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_thread_write_fp(weak, &fp), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_thread_read_fp(0xFFFF, &fp), MICA_ERR_BAD_HANDLE);
    /* New values: the upper halves of FPSR/FPCR must stay 0. */
    for (unsigned n = 0; n < 32; n++) {
        fp.v[2 * n] = 0x7000 + n;
        fp.v[2 * n + 1] = 0x7000;
    }
    fp.fpsr = 0;
    fp.fpcr = 1UL << 32;
    CHECK_STATUS(mica_thread_write_fp(thread, &fp), MICA_ERR_INVALID_ARGS);
    fp.fpcr = 0;
    fp.fpsr = 1UL << 40;
    CHECK_STATUS(mica_thread_write_fp(thread, &fp), MICA_ERR_INVALID_ARGS);
    fp.fpsr = 0;
    fp.fpcr = 1UL << 22; /* round towards +infinity */
    CHECK_OK(mica_thread_write_fp(thread, &fp));
    static struct mica_fp_state back;
    CHECK_OK(mica_thread_read_fp(thread, &back));
    CHECK(memcmp(&fp, &back, sizeof(fp)) == 0);
    fp_stage = 2;
    CHECK_OK(mica_thread_resume(thread));
    for (int i = 0; i < 500 && fp_stage != 3; i++)
        mica_sleep_until(mica_clock_ns() + 1000000);
    CHECK(fp_stage == 3);
    CHECK(fp_seen_errors == 0); /* it runs with the written registers */
    CHECK(fp_seen_fpcr == 1UL << 22);
    /* A thread that never used FP reads as zeros. */
    CHECK_OK(mica_thread_create(kt_bootinfo()->self_process, 128, &fresh));
    memset(&back, 0x55, sizeof(back));
    CHECK_OK(mica_thread_read_fp(fresh, &back));
    CHECK(back.v[0] == 0 && back.v[63] == 0 && back.fpsr == 0 && back.fpcr == 0);
    CHECK_OK(mica_handle_close(fresh));
    CHECK_OK(mica_handle_close(weak));
    CHECK_OK(mica_handle_close(ep));
    CHECK_OK(mica_handle_close(thread));
    return 0;
}

const struct ktest ktests_fault[] = {
    {"user_thread_fp_state", test_fp_state},
    {"user_fp_context_switch", test_fp_context},
    {"user_preemption", test_preemption},
    {"user_fault_endpoint", test_fault_handler},
    {"user_suspend_resume_state", test_suspend_resume_state},
    {"user_thread_priorities", test_priorities},
    {NULL, NULL},
};
