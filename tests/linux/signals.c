/*
 * lx-signals: signal handlers' stacks and registers under the Linux
 * personality. sigaltstack (set/get, errno values, SS_ONSTACK, EPERM on
 * it, SA_ONSTACK handlers running on it, uc_stack), and the FP/SIMD
 * registers in the signal frame: saved around a handler that clobbers
 * them, visible in the frame's fpsimd_context, and changed by a handler
 * that edits the frame. The raw sigaltstack syscall is used where musl's
 * wrapper would answer itself (its MINSIGSTKSZ is not the kernel's).
 * And a signal for a process busy in a loop without system calls (in its
 * only thread, or one of two): its handler runs at once, interrupting it.
 * And threads: each has its own signal mask; a signal for the process goes
 * to a thread that does not block it, one for a thread (pthread_kill,
 * raise) to that thread, even one waiting in a system call (which ends with
 * EINTR).
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

#define ALT_SIZE 65536
#define KERNEL_MINSIGSTKSZ 5120 /* arm64 Linux's */

static char alt[ALT_SIZE] __attribute__((aligned(16)));

static long altstack(const stack_t *ss, stack_t *old)
{
    return syscall(SYS_sigaltstack, ss, old);
}

/* What the SA_ONSTACK handler saw. */
static volatile uintptr_t local_addr;
static volatile int seen_flags, seen_eperm, handled;
static volatile stack_t seen_uc_stack;

static void on_alt(int sig, siginfo_t *info, void *ctx)
{
    volatile int local = sig;
    stack_t now, other = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0};
    ucontext_t *uc = ctx;
    (void)info;
    local_addr = (uintptr_t)&local;
    seen_flags = altstack(NULL, &now) == 0 ? now.ss_flags : -1;
    errno = 0;
    seen_eperm = altstack(&other, NULL) == -1 && errno == EPERM;
    seen_uc_stack.ss_sp = uc->uc_stack.ss_sp;
    seen_uc_stack.ss_size = uc->uc_stack.ss_size;
    seen_uc_stack.ss_flags = uc->uc_stack.ss_flags;
    handled++;
}

static bool in_alt(uintptr_t a)
{
    return a >= (uintptr_t)alt && a < (uintptr_t)alt + ALT_SIZE;
}

static void test_sigaltstack(void)
{
    stack_t ss, old;
    CHECK(altstack(NULL, &old) == 0);
    CHECK(old.ss_flags == SS_DISABLE && old.ss_size == 0);
    ss = (stack_t){.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 4};
    CHECK_ERRNO(altstack(&ss, NULL), EINVAL);
    ss.ss_flags = 0;
    ss.ss_size = KERNEL_MINSIGSTKSZ - 1;
    CHECK_ERRNO(altstack(&ss, NULL), ENOMEM);
    CHECK_ERRNO(altstack((stack_t *)8, NULL), EFAULT);
    CHECK_ERRNO(altstack(NULL, (stack_t *)8), EFAULT);
    ss.ss_size = KERNEL_MINSIGSTKSZ; /* the smallest allowed */
    CHECK(altstack(&ss, NULL) == 0);
    ss.ss_size = ALT_SIZE;
    CHECK(altstack(&ss, &old) == 0); /* the old value comes back */
    CHECK(old.ss_sp == alt && old.ss_size == KERNEL_MINSIGSTKSZ && old.ss_flags == 0);
    CHECK(altstack(NULL, &old) == 0);
    CHECK(old.ss_sp == alt && old.ss_size == ALT_SIZE && old.ss_flags == 0);

    /* A SA_ONSTACK handler runs on it and sees itself there. */
    struct sigaction sa = {.sa_sigaction = on_alt, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(handled == 1);
    CHECK(in_alt(local_addr));
    CHECK(seen_flags == SS_ONSTACK);
    CHECK(seen_eperm);
    CHECK(seen_uc_stack.ss_sp == alt && seen_uc_stack.ss_size == ALT_SIZE);
    CHECK(seen_uc_stack.ss_flags == 0);
    CHECK(altstack(NULL, &old) == 0 && old.ss_flags == 0); /* off it again */

    /* Without SA_ONSTACK: the normal stack. */
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(handled == 2 && !in_alt(local_addr) && seen_flags == 0);

    /* A child of fork keeps it. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        raise(SIGUSR1);
        _exit(handled == 3 && in_alt(local_addr) && seen_flags == SS_ONSTACK ? 0 : 1);
    }
    int status = -1;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* SS_DISABLE: SA_ONSTACK handlers use the normal stack. */
    ss.ss_flags = SS_DISABLE;
    CHECK(altstack(&ss, NULL) == 0);
    CHECK(altstack(NULL, &old) == 0 && old.ss_flags == SS_DISABLE && old.ss_size == 0);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(handled == 3 && !in_alt(local_addr) && seen_flags == SS_DISABLE);
    CHECK(seen_uc_stack.ss_flags == SS_DISABLE);
    signal(SIGUSR1, SIG_DFL);
}

/* ---- FP/SIMD registers around a handler ---- */

static uint64_t fp_in[64] __attribute__((aligned(16))), fp_out[64] __attribute__((aligned(16)));
static uint64_t fp_junk[64] __attribute__((aligned(16)));
static volatile int fp_mode; /* 0: only clobber, 1: also edit the frame, 2: break the frame */
static volatile int fp_frame_ok, fp_handled;
static volatile uint64_t fpcr_in;

#define NEW_V5_LO 0x5555AAAA5555AAAAULL
#define NEW_V5_HI 0x0123456789ABCDEFULL
#define NEW_FPCR (1ULL << 23) /* round towards minus infinity */

/* Load v0-v31 and FPCR, kill(getpid(), SIGUSR1) with a raw svc, store
 * v0-v31 and FPCR as they are when the svc returns. */
static uint64_t fp_roundtrip(long pid)
{
    uint64_t fpcr_out;
    __asm__ volatile(
        "msr fpcr, %[fpcr]\n"
        "ldp q0, q1, [%[in], #0]\n ldp q2, q3, [%[in], #32]\n"
        "ldp q4, q5, [%[in], #64]\n ldp q6, q7, [%[in], #96]\n"
        "ldp q8, q9, [%[in], #128]\n ldp q10, q11, [%[in], #160]\n"
        "ldp q12, q13, [%[in], #192]\n ldp q14, q15, [%[in], #224]\n"
        "ldp q16, q17, [%[in], #256]\n ldp q18, q19, [%[in], #288]\n"
        "ldp q20, q21, [%[in], #320]\n ldp q22, q23, [%[in], #352]\n"
        "ldp q24, q25, [%[in], #384]\n ldp q26, q27, [%[in], #416]\n"
        "ldp q28, q29, [%[in], #448]\n ldp q30, q31, [%[in], #480]\n"
        "mov x0, %[pid]\n mov x1, #10\n mov x8, #129\n svc #0\n" /* kill(pid, SIGUSR1) */
        "stp q0, q1, [%[out], #0]\n stp q2, q3, [%[out], #32]\n"
        "stp q4, q5, [%[out], #64]\n stp q6, q7, [%[out], #96]\n"
        "stp q8, q9, [%[out], #128]\n stp q10, q11, [%[out], #160]\n"
        "stp q12, q13, [%[out], #192]\n stp q14, q15, [%[out], #224]\n"
        "stp q16, q17, [%[out], #256]\n stp q18, q19, [%[out], #288]\n"
        "stp q20, q21, [%[out], #320]\n stp q22, q23, [%[out], #352]\n"
        "stp q24, q25, [%[out], #384]\n stp q26, q27, [%[out], #416]\n"
        "stp q28, q29, [%[out], #448]\n stp q30, q31, [%[out], #480]\n"
        "mrs %[fo], fpcr\n"
        "msr fpcr, xzr\n"
        : [fo] "=&r"(fpcr_out)
        : [in] "r"(fp_in), [out] "r"(fp_out), [fpcr] "r"((uint64_t)fpcr_in), [pid] "r"(pid)
        : "x0", "x1", "x8", "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9",
          "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22",
          "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
    return fpcr_out;
}

/* Every FP/SIMD register and FPCR changed, as a careless handler might. */
static void clobber_fp(void)
{
    __asm__ volatile("msr fpcr, %[fpcr]\n"
                     "ldp q0, q1, [%[j]]\n ldp q2, q3, [%[j]]\n ldp q4, q5, [%[j]]\n"
                     "ldp q6, q7, [%[j]]\n ldp q8, q9, [%[j]]\n ldp q10, q11, [%[j]]\n"
                     "ldp q12, q13, [%[j]]\n ldp q14, q15, [%[j]]\n ldp q16, q17, [%[j]]\n"
                     "ldp q18, q19, [%[j]]\n ldp q20, q21, [%[j]]\n ldp q22, q23, [%[j]]\n"
                     "ldp q24, q25, [%[j]]\n ldp q26, q27, [%[j]]\n ldp q28, q29, [%[j]]\n"
                     "ldp q30, q31, [%[j]]\n"
                     :
                     : [j] "r"(fp_junk), [fpcr] "r"((uint64_t)(1ULL << 24))
                     : "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10",
                       "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21",
                       "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
}

static void fp_handler(int sig, siginfo_t *info, void *ctx)
{
    ucontext_t *uc = ctx;
    struct fpsimd_context *fc = (struct fpsimd_context *)uc->uc_mcontext.__reserved;
    struct _aarch64_ctx *end = (struct _aarch64_ctx *)((char *)fc + 528);
    (void)sig;
    (void)info;
    bool ok = fc->head.magic == FPSIMD_MAGIC && fc->head.size == 528 && fc->fpcr == fpcr_in &&
              end->magic == 0 && end->size == 0;
    for (int n = 0; ok && n < 32; n++)
        ok = (uint64_t)fc->vregs[n] == fp_in[2 * n] &&
             (uint64_t)(fc->vregs[n] >> 64) == fp_in[2 * n + 1];
    fp_frame_ok = ok;
    clobber_fp();
    if (fp_mode == 1) {
        fc->vregs[5] = (__uint128_t)NEW_V5_HI << 64 | NEW_V5_LO;
        fc->fpcr = NEW_FPCR;
    } else if (fp_mode == 2) {
        fc->head.magic = 0x12345678; /* rt_sigreturn must refuse it */
    }
    fp_handled++;
}

static void test_fp_frame(void)
{
    for (int i = 0; i < 64; i++) {
        fp_in[i] = 0x1111000000000000ULL + (uint64_t)i * 0x10001;
        fp_junk[i] = 0xDEADBEEFDEADBEEFULL;
    }
    fpcr_in = (1ULL << 22) | (1ULL << 25); /* round towards +infinity, default NaN */
    struct sigaction sa = {.sa_sigaction = fp_handler, .sa_flags = SA_SIGINFO};
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);

    /* The handler clobbers everything: sigreturn puts it back. */
    fp_mode = 0;
    uint64_t fpcr_out = fp_roundtrip(getpid());
    CHECK(fp_handled == 1);
    CHECK(fp_frame_ok);
    CHECK(memcmp(fp_in, fp_out, sizeof(fp_in)) == 0);
    CHECK(fpcr_out == fpcr_in);

    /* The handler edits the frame: sigreturn applies it. */
    fp_mode = 1;
    fpcr_out = fp_roundtrip(getpid());
    CHECK(fp_handled == 2 && fp_frame_ok);
    CHECK(fp_out[10] == NEW_V5_LO && fp_out[11] == NEW_V5_HI);
    CHECK(memcmp(fp_in, fp_out, 10 * 8) == 0 && memcmp(fp_in + 12, fp_out + 12, 52 * 8) == 0);
    CHECK(fpcr_out == NEW_FPCR);

    /* On the alternate stack too. */
    static char fp_alt[16384] __attribute__((aligned(16)));
    stack_t ss = {.ss_sp = fp_alt, .ss_size = sizeof(fp_alt)};
    CHECK(altstack(&ss, NULL) == 0);
    sa.sa_flags |= SA_ONSTACK;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    fp_mode = 0;
    fpcr_out = fp_roundtrip(getpid());
    CHECK(fp_handled == 3 && fp_frame_ok);
    CHECK(memcmp(fp_in, fp_out, sizeof(fp_in)) == 0 && fpcr_out == fpcr_in);
    ss.ss_flags = SS_DISABLE;
    CHECK(altstack(&ss, NULL) == 0);

    /* A frame without its fpsimd_context: rt_sigreturn kills with SIGSEGV. */
    pid_t pid = fork();
    if (pid == 0) {
        fp_mode = 2;
        fp_roundtrip(getpid());
        _exit(0); /* not reached */
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    signal(SIGUSR1, SIG_DFL);
}

static volatile int spin_stop;

static void stop_spinning(int sig)
{
    spin_stop = sig;
}

static void *spinner(void *arg)
{
    (void)arg;
    while (!spin_stop)
        ; /* no system call in here */
    return NULL;
}

/* The child spins on a flag only its SIGUSR1 handler sets, never making a
 * system call, in its only thread or (threaded) in a second thread while
 * the first waits for it in pthread_join; the parent's kill must run that
 * handler. */
static void test_busy_loop(bool threaded)
{
    int status = -1;
    pid_t child = fork();
    if (child == 0) {
        signal(SIGUSR1, stop_spinning);
        spin_stop = 0;
        pthread_t t;
        if (threaded) {
            if (pthread_create(&t, NULL, spinner, NULL) != 0 || pthread_join(t, NULL) != 0)
                _exit(2);
        } else {
            spinner(NULL);
        }
        _exit(spin_stop == SIGUSR1 ? 42 : 1);
    }
    CHECK(child > 0);
    struct timespec pause = {0, 20000000};
    nanosleep(&pause, NULL); /* the child is spinning by now */
    CHECK(kill(child, SIGUSR1) == 0);
    pid_t got = 0;
    for (int i = 0; i < 200 && got == 0; i++) {
        nanosleep(&pause, NULL);
        got = waitpid(child, &status, WNOHANG);
    }
    if (got == 0) { /* the handler never ran */
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
    }
    CHECK(got == child && WIFEXITED(status) && WEXITSTATUS(status) == 42);
}

static volatile pid_t handler_tid;
static volatile int thread_handled;

static void note_thread(int sig)
{
    (void)sig;
    handler_tid = (pid_t)syscall(SYS_gettid);
    thread_handled++;
}

static pthread_barrier_t ready;
static volatile pid_t worker_tid;
static volatile int worker_stop, worker_sleep_errno;
static volatile long worker_blocked_mask;

/* Blocks nothing (or SIGUSR2 when told to), records its tid and its own
 * mask, then either waits to be told to stop or sleeps 10 s. */
static void *worker(void *arg)
{
    intptr_t mode = (intptr_t)arg;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(mode == 2 ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
    pthread_sigmask(SIG_BLOCK, NULL, &old);
    worker_blocked_mask = sigismember(&old, SIGUSR2);
    worker_tid = (pid_t)syscall(SYS_gettid);
    pthread_barrier_wait(&ready);
    if (mode == 1) { /* a long sleep a signal must cut short */
        struct timespec ts = {10, 0};
        errno = 0;
        worker_sleep_errno = nanosleep(&ts, NULL) == -1 ? errno : 0;
        return NULL;
    }
    while (!worker_stop)
        sched_yield();
    return NULL;
}

/* Has a handler run n times within about `ms` milliseconds? Sleeps, so
 * that the other threads run meanwhile. */
static bool wait_handled(int n, int ms)
{
    struct timespec tick = {0, 1000000};
    for (int i = 0; i < ms && thread_handled < n; i++)
        nanosleep(&tick, NULL);
    return thread_handled >= n;
}

static void test_thread_signals(void)
{
    struct sigaction sa = {.sa_handler = note_thread}; /* no SA_RESTART */
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    pid_t main_tid = (pid_t)syscall(SYS_gettid);
    pthread_t t;

    /* Masks are per thread: the worker's block does not show in ours. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);
    pthread_barrier_init(&ready, NULL, 2);
    worker_stop = 0;
    CHECK(pthread_create(&t, NULL, worker, (void *)0) == 0);
    pthread_barrier_wait(&ready);
    CHECK(worker_blocked_mask == 0); /* it unblocked SIGUSR2 for itself only */
    CHECK(pthread_sigmask(SIG_BLOCK, NULL, &old) == 0 && sigismember(&old, SIGUSR2));

    /* For the process: the thread that does not block it takes it. */
    thread_handled = 0;
    CHECK(kill(getpid(), SIGUSR2) == 0);
    CHECK(wait_handled(1, 3000) && handler_tid == worker_tid);

    /* For a thread: pthread_kill (tgkill) reaches that thread, and raise
     * (tkill) the caller, whatever the other threads block. */
    thread_handled = 0;
    CHECK(pthread_kill(t, SIGUSR1) == 0);
    CHECK(wait_handled(1, 3000) && handler_tid == worker_tid);
    thread_handled = 0;
    CHECK(raise(SIGUSR1) == 0);
    CHECK(thread_handled == 1 && handler_tid == main_tid);
    CHECK(syscall(SYS_tgkill, getpid(), 999999, SIGUSR1) == -1 && errno == ESRCH);
    CHECK(syscall(SYS_tgkill, 0, main_tid, SIGUSR1) == -1 && errno == EINVAL);
    CHECK(syscall(SYS_tgkill, getpid(), main_tid, 0) == 0); /* only asks if it exists */
    worker_stop = 1;
    CHECK(pthread_join(t, NULL) == 0);
    pthread_barrier_destroy(&ready);

    /* A thread waiting in a call: a signal for it ends the call with EINTR,
     * and one for the process goes to it when the others block it. */
    for (int how = 0; how < 2; how++) {
        pthread_barrier_init(&ready, NULL, 2);
        worker_sleep_errno = -1;
        thread_handled = 0;
        CHECK(pthread_create(&t, NULL, worker, (void *)1) == 0);
        pthread_barrier_wait(&ready);
        struct timespec pause = {0, 20000000};
        nanosleep(&pause, NULL); /* it is asleep by now */
        if (how == 0)
            CHECK(pthread_kill(t, SIGUSR1) == 0);
        else
            CHECK(kill(getpid(), SIGUSR2) == 0); /* we block SIGUSR2 */
        CHECK(pthread_join(t, NULL) == 0);
        CHECK(worker_sleep_errno == EINTR && thread_handled == 1 && handler_tid == worker_tid);
        pthread_barrier_destroy(&ready);
    }

    /* A signal every thread blocks waits, and the first to unblock takes it. */
    pthread_barrier_init(&ready, NULL, 2);
    worker_stop = 0;
    thread_handled = 0;
    CHECK(pthread_create(&t, NULL, worker, (void *)2) == 0);
    pthread_barrier_wait(&ready);
    CHECK(kill(getpid(), SIGUSR2) == 0);
    CHECK(!wait_handled(1, 50));
    CHECK(pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0);
    CHECK(thread_handled == 1 && handler_tid == main_tid);
    worker_stop = 1;
    CHECK(pthread_join(t, NULL) == 0);
    pthread_barrier_destroy(&ready);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

static volatile int usr1_seen;

static void count_usr1(int sig)
{
    (void)sig;
    usr1_seen++;
}

static bool usr1_blocked(void)
{
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, SIGUSR1);
}

/* ppoll's and pselect's signal mask is the caller's while it waits: a
 * signal it unblocks ends the wait with EINTR (pending before, or sent
 * meanwhile), and the old mask is back afterwards. */
static void test_wait_masks(void)
{
    struct sigaction sa = {.sa_handler = count_usr1};
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1, none;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    int fds[2];
    CHECK(pipe(fds) == 0);
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    struct timespec second = {1, 0}, short_wait = {0, 10000000};

    for (int select_too = 0; select_too < 2; select_too++) {
        /* Pending before the call. */
        usr1_seen = 0;
        raise(SIGUSR1);
        CHECK(usr1_seen == 0); /* blocked */
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(fds[0], &rd);
        errno = 0;
        int r = select_too ? pselect(fds[0] + 1, &rd, NULL, NULL, &second, &none)
                           : ppoll(&pfd, 1, &second, &none);
        CHECK(r == -1 && errno == EINTR && usr1_seen == 1 && usr1_blocked());

        /* Sent while it waits (by a child, 20 ms in). */
        usr1_seen = 0;
        pid_t parent = getpid(), child = fork();
        if (child == 0) {
            struct timespec pause = {0, 20000000};
            nanosleep(&pause, NULL);
            kill(parent, SIGUSR1);
            _exit(0);
        }
        FD_ZERO(&rd);
        FD_SET(fds[0], &rd);
        errno = 0;
        r = select_too ? pselect(fds[0] + 1, &rd, NULL, NULL, &second, &none)
                       : ppoll(&pfd, 1, &second, &none);
        CHECK(r == -1 && errno == EINTR && usr1_seen == 1 && usr1_blocked());
        waitpid(child, NULL, 0);

        /* Nothing comes: a timeout, and the mask as it was. */
        FD_ZERO(&rd);
        FD_SET(fds[0], &rd);
        r = select_too ? pselect(fds[0] + 1, &rd, NULL, NULL, &short_wait, &none)
                       : ppoll(&pfd, 1, &short_wait, &none);
        CHECK(r == 0 && usr1_blocked());
    }
    CHECK(syscall(SYS_ppoll, &pfd, 1, &short_wait, &none, 4) == -1 && errno == EINVAL);
    close(fds[0]);
    close(fds[1]);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
    test_sigaltstack();
    test_fp_frame();
    test_busy_loop(false);
    test_busy_loop(true);
    test_thread_signals();
    test_wait_masks();
    return finish("lx-signals");
}
