/*
 * bench: in-guest microbenchmarks of the kernel's hot paths — the null
 * syscall, IPC call+reply within and across address spaces, a notification
 * round trip, and a page fault the kernel resolves lazily. Each figure is
 * the mean over many iterations after an untimed warm-up, timed in rounds
 * with the generic counter read at EL0 (mica_clock_ns: no syscall, so the
 * clock costs nothing per iteration). Every figure is printed as one
 * machine-readable line, values in fixed point with two decimals:
 *
 *     BENCH <key> <ns per operation> <iterations>
 *     BENCH clock ns_per_tick <ns>          (the counter's resolution)
 *
 * plus a line for people. scripts/bench boots it under QEMU -icount
 * shift=0, where one guest nanosecond is one retired instruction, and
 * writes docs/perf.md; ctest boots it without icount as a functional check
 * (nothing here asserts a speed). The exit status is the number of figures
 * that could not be measured.
 *
 * The cross-address-space server is this same program, spawned from the
 * bootfs with "role=server" and the endpoint as its startup handle.
 */
#include <mica/cap.h>
#include <string.h>

#define ROUNDS 5
#define STACK_SIZE (16 * 1024UL)
#define LABEL_STOP 0
#define LABEL_PING 1
#define NOTIFY_PING 1UL
#define NOTIFY_STOP 2UL
#define JOIN_TIMEOUT_NS 5000000000UL /* helpers must be done 5 s after a stop */

struct bench {
    const char *key;  /* BENCH line key */
    const char *what; /* for people */
    unsigned warmup;  /* untimed iterations first */
    unsigned round;   /* timed iterations per round (ROUNDS rounds) */
    int (*setup)(const struct bench *b);
    int (*loop)(unsigned n); /* n iterations of the operation */
    int (*teardown)(void);
};

static const struct mica_bootinfo *boot;
static const void *self_elf;
static size_t self_elf_size;

/* ---- helpers ---- */

static void thread_main(void (*fn)(uint64_t), uint64_t arg)
{
    fn(arg);
    mica_thread_exit();
}

/* Run fn(arg) in a new thread of this process on a stack of its own. The
 * stack stays mapped: the process ends soon after the benchmarks. */
static int start_thread(void (*fn)(uint64_t), uint64_t arg, mica_handle_t *thread)
{
    mica_handle_t vmo;
    uintptr_t stack;
    int err = mica_vmo_create(STACK_SIZE, &vmo);
    if (err)
        return err;
    err = mica_aspace_map(boot->self_aspace, vmo, 0, STACK_SIZE, 0, MICA_MAP_READ | MICA_MAP_WRITE,
                          &stack);
    mica_handle_close(vmo);
    if (!err)
        err = mica_thread_create(boot->self_process, 128, thread);
    if (!err)
        err = mica_thread_start(*thread, (uintptr_t)thread_main, stack + STACK_SIZE, (uintptr_t)fn,
                                arg);
    return err;
}

/* Wait (yielding, bounded) until a helper thread has stored its status. */
static int join_status(volatile int *status, int running)
{
    uint64_t deadline = mica_clock_ns() + JOIN_TIMEOUT_NS;
    while (*status == running && mica_clock_ns() < deadline)
        mica_yield();
    return *status == running ? MICA_ERR_TIMED_OUT : *status;
}

static const char *role_of(const char *cmdline)
{
    const char *p = strstr(cmdline, "role=");
    return p ? p + 5 : NULL;
}

static int find_self(void)
{
    uintptr_t base;
    size_t size = (boot->bootfs_size + MICA_PAGE_SIZE - 1) & ~(MICA_PAGE_SIZE - 1);
    int err =
        mica_aspace_map(boot->self_aspace, boot->bootfs_vmo, 0, size, 0, MICA_MAP_READ, &base);
    if (!err)
        err = mica_cpio_find((const void *)base, boot->bootfs_size, "bin/bench", &self_elf,
                             &self_elf_size);
    return err;
}

/* ---- null syscall ---- */

static int loop_null(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        int64_t status = mica_syscall(MICA_SYS_NULL, 0, 0, 0, 0, 0, 0).status;
        if (status != MICA_OK)
            return (int)status;
    }
    return MICA_OK;
}

/* ---- IPC call + reply ---- */

static mica_handle_t call_ep;
static volatile int server_status;

/* Echo server: answers every call with the words it got, until a call
 * labelled LABEL_STOP, which it answers with a plain reply. */
static int serve(mica_handle_t ep)
{
    struct mica_msg m;
    int err = mica_recv(ep, 0, &m);
    while (err == MICA_OK) {
        if (MICA_MSG_LABEL(m.info) == LABEL_STOP)
            return mica_reply(&(struct mica_msg){.info = mica_msg_info(LABEL_STOP, 0, 0, 0)});
        m.info = mica_msg_info(LABEL_PING, MICA_MSG_REG_WORDS, 0, 0);
        err = mica_reply_recv(ep, &m);
    }
    return err;
}

static void server_thread(uint64_t ep)
{
    server_status = serve((mica_handle_t)ep);
}

static int loop_call(unsigned n)
{
    struct mica_msg m;
    for (unsigned i = 0; i < n; i++) {
        m.info = mica_msg_info(LABEL_PING, MICA_MSG_REG_WORDS, 0, 0);
        m.w[0] = i;
        m.w[1] = 1;
        m.w[2] = 2;
        m.w[3] = 3;
        m.w[4] = 4;
        m.w[5] = 5;
        int err = mica_call(call_ep, &m);
        if (err)
            return err;
        if (m.w[0] != i || m.w[5] != 5 || MICA_MSG_WORDS(m.info) != MICA_MSG_REG_WORDS) {
            mica_printf("bench: the echo server returned a wrong message\n");
            return MICA_ERR_BAD_STATE;
        }
    }
    return MICA_OK;
}

static int stop_server(void)
{
    struct mica_msg m = {.info = mica_msg_info(LABEL_STOP, 0, 0, 0)};
    return mica_call(call_ep, &m);
}

static mica_handle_t server;

static int setup_same_as(const struct bench *b)
{
    (void)b;
    server_status = 1;
    int err = mica_endpoint_create(&call_ep);
    if (!err)
        err = start_thread(server_thread, call_ep, &server);
    return err;
}

static int teardown_same_as(void)
{
    int err = stop_server();
    if (!err)
        err = join_status(&server_status, 1);
    mica_handle_close(server);
    mica_handle_close(call_ep);
    return err;
}

static int setup_cross_as(const struct bench *b)
{
    (void)b;
    mica_handle_t server_end;
    int err = mica_endpoint_create(&call_ep);
    if (err)
        return err;
    err = mica_handle_dup(call_ep, MICA_RIGHT_READ | MICA_RIGHT_TRANSFER, &server_end);
    if (!err)
        err = mica_spawn_with(self_elf, self_elf_size, "bench-server", "role=server", 0, 0,
                              server_end, &server);
    if (err)
        mica_handle_close(call_ep);
    return err;
}

static int teardown_cross_as(void)
{
    int64_t code = -1;
    uint32_t reason = MICA_EXIT_KILLED;
    int err = stop_server();
    if (!err)
        err = mica_process_wait(server, mica_clock_ns() + JOIN_TIMEOUT_NS, &code, &reason);
    if (err)
        mica_process_kill(server);
    else if (reason != MICA_EXIT_NORMAL || code != 0)
        err = MICA_ERR_BAD_STATE;
    mica_handle_close(server);
    mica_handle_close(call_ep);
    return err;
}

/* ---- notification round trip ---- */

static mica_handle_t ping, pong;
static volatile int ponger_status;

/* Answers every signal on `ping` with one on `pong`, until NOTIFY_STOP. */
static void ponger(uint64_t arg)
{
    (void)arg;
    for (;;) {
        uint64_t bits = 0;
        int err = mica_notify_wait(ping, MICA_DEADLINE_INFINITE, &bits);
        if (!err)
            err = mica_notify_signal(pong, NOTIFY_PING);
        if (err || (bits & NOTIFY_STOP)) {
            ponger_status = err;
            return;
        }
    }
}

static int loop_notify(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t bits;
        int err = mica_notify_signal(ping, NOTIFY_PING);
        if (!err)
            err = mica_notify_wait(pong, MICA_DEADLINE_INFINITE, &bits);
        if (err)
            return err;
    }
    return MICA_OK;
}

static int setup_notify(const struct bench *b)
{
    (void)b;
    mica_handle_t thread;
    ponger_status = 1;
    int err = mica_notification_create(&ping);
    if (!err)
        err = mica_notification_create(&pong);
    if (!err)
        err = start_thread(ponger, 0, &thread);
    if (!err)
        mica_handle_close(thread);
    return err;
}

static int teardown_notify(void)
{
    uint64_t bits;
    int err = mica_notify_signal(ping, NOTIFY_STOP);
    if (!err)
        err = mica_notify_wait(pong, mica_clock_ns() + JOIN_TIMEOUT_NS, &bits);
    if (!err)
        err = join_status(&ponger_status, 1);
    mica_handle_close(ping);
    mica_handle_close(pong);
    return err;
}

/* ---- page fault ---- */

static mica_handle_t fault_vmo;
static uintptr_t fault_base;
static size_t fault_size, fault_next;

/* One VMO big enough for every iteration: each touches a page no one has
 * touched, which the kernel allocates, zeroes and maps on the fault. */
static int setup_fault(const struct bench *b)
{
    fault_size = ((size_t)b->warmup + (size_t)b->round * ROUNDS) * MICA_PAGE_SIZE;
    fault_next = 0;
    int err = mica_vmo_create(fault_size, &fault_vmo);
    if (err)
        return err;
    err = mica_aspace_map(boot->self_aspace, fault_vmo, 0, fault_size, 0,
                          MICA_MAP_READ | MICA_MAP_WRITE, &fault_base);
    if (err)
        mica_handle_close(fault_vmo);
    return err;
}

static int loop_fault(unsigned n)
{
    if (fault_next + n > fault_size / MICA_PAGE_SIZE)
        return MICA_ERR_OUT_OF_RANGE;
    volatile uint8_t *p = (volatile uint8_t *)(fault_base + fault_next * MICA_PAGE_SIZE);
    for (unsigned i = 0; i < n; i++, p += MICA_PAGE_SIZE)
        *p = 1;
    fault_next += n;
    return MICA_OK;
}

static int teardown_fault(void)
{
    int err = mica_aspace_unmap(boot->self_aspace, fault_base, fault_size);
    int err2 = mica_handle_close(fault_vmo);
    return err ? err : err2;
}

/* ---- driver ---- */

static const struct bench benches[] = {
    {"null_syscall", "null syscall", 1000, 4000, NULL, loop_null, NULL},
    {"ipc_call_reply_same_as", "IPC call+reply, same address space", 500, 4000, setup_same_as,
     loop_call, teardown_same_as},
    {"ipc_call_reply_cross_as", "IPC call+reply, across address spaces", 500, 4000, setup_cross_as,
     loop_call, teardown_cross_as},
    {"notify_roundtrip", "notification signal->wait round trip", 500, 2000, setup_notify,
     loop_notify, teardown_notify},
    {"page_fault_kernel", "page fault, resolved by the kernel", 100, 2000, setup_fault, loop_fault,
     teardown_fault},
};

struct figure {
    uint64_t total_ns, iterations;
    uint64_t best_x100, worst_x100; /* the fastest and slowest round, ns/op x100 */
};

static int measure(const struct bench *b, struct figure *fig)
{
    int err = b->loop(b->warmup);
    if (err)
        return err;
    *fig = (struct figure){.best_x100 = UINT64_MAX};
    for (unsigned r = 0; r < ROUNDS; r++) {
        uint64_t t0 = mica_clock_ns();
        err = b->loop(b->round);
        uint64_t t1 = mica_clock_ns();
        if (err)
            return err;
        uint64_t per_op = (t1 - t0) * 100 / b->round;
        fig->total_ns += t1 - t0;
        fig->iterations += b->round;
        fig->best_x100 = per_op < fig->best_x100 ? per_op : fig->best_x100;
        fig->worst_x100 = per_op > fig->worst_x100 ? per_op : fig->worst_x100;
    }
    return MICA_OK;
}

static int run_bench(const struct bench *b)
{
    struct figure fig;
    int err = b->setup ? b->setup(b) : MICA_OK;
    if (err) {
        mica_printf("bench: %s: setup failed: %s\n", b->key, mica_status_name(err));
        return err;
    }
    err = measure(b, &fig);
    int down = b->teardown ? b->teardown() : MICA_OK;
    if (err) {
        mica_printf("bench: %s: an operation failed: %s\n", b->key, mica_status_name(err));
        return err;
    }
    if (down) {
        mica_printf("bench: %s: teardown failed: %s\n", b->key, mica_status_name(down));
        return down;
    }
    uint64_t mean = fig.total_ns * 100 / fig.iterations;
    mica_printf("BENCH %s %lu.%02lu %lu\n", b->key, mean / 100, mean % 100, fig.iterations);
    mica_printf("bench: %-40s %7lu.%02lu ns/op  (rounds %lu.%02lu..%lu.%02lu, %lu iterations)\n",
                b->what, mean / 100, mean % 100, fig.best_x100 / 100, fig.best_x100 % 100,
                fig.worst_x100 / 100, fig.worst_x100 % 100, fig.iterations);
    return MICA_OK;
}

static void report_clock(void)
{
    uint64_t freq;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
    uint64_t tick_x100 = freq ? 100000000000UL / freq : 0;
    mica_printf("BENCH clock ns_per_tick %lu.%02lu\n", tick_x100 / 100, tick_x100 % 100);
    mica_printf("bench: counter at %lu Hz, one tick is %lu.%02lu ns; %u rounds per figure\n", freq,
                tick_x100 / 100, tick_x100 % 100, ROUNDS);
}

int main(const struct mica_bootinfo *bi)
{
    boot = bi;
    const char *role = role_of(bi->cmdline);
    if (role) {
        if (strcmp(role, "server") == 0)
            return serve(bi->startup_handle) == MICA_OK ? 0 : 1;
        mica_printf("bench: unknown role '%s'\n", role);
        return 99;
    }
    if (find_self() != MICA_OK) {
        mica_printf("bench: cannot find bin/bench in the bootfs\n");
        return 100;
    }
    report_clock();
    int failed = 0;
    for (unsigned i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
        failed += run_bench(&benches[i]) != MICA_OK;
    mica_printf("bench: %d of %u figures failed\n", failed,
                (unsigned)(sizeof(benches) / sizeof(benches[0])));
    return failed;
}
