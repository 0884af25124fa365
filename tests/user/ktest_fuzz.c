/*
 * ktest: the seeded syscall fuzzer. A child process makes 100,000 calls
 * with random numbers, handles (real ones, stale ones, garbage), pointers
 * (valid, NULL, unmapped, kernel, unaligned) and lengths. The parent checks
 * the child finished every call, the kernel survived, and after the child
 * is gone every kernel object count is back at its baseline.
 *
 * The kernel command line may ask for another count, mica.fuzz=N, and
 * another seed, mica.fuzz_seed=S (decimal or 0x hex; the default is
 * 0xF00D, and the run prints the seed it used): the same seed makes the
 * same calls. Only the parent sees the kernel command line, so it passes
 * both to the child in the child's own ("role=fuzz calls=N seed=S").
 *
 * To keep the fuzzer alive it gives up its handles to itself (so it cannot
 * kill itself or unmap its own code) and never calls exit; deadlines are
 * clamped so nothing blocks for long.
 */
#include "ktest.h"

static uint8_t scratch[8192] __attribute__((aligned(16)));
static mica_handle_t made[64];
static unsigned n_made;

static uint64_t pick_handle(void)
{
    uint64_t r = kt_random();
    switch (r % 6) {
    case 0: return 0;
    case 1: return r >> 8; /* garbage, often > 32 bits */
    case 2: return (uint32_t)(r >> 8);
    case 3: return ((r >> 8) & 0xFFFF) | (1u << 16); /* plausible slot, generation 1 */
    default: return n_made ? made[(r >> 8) % n_made] : 0;
    }
}

static uint64_t pick_pointer(void)
{
    uint64_t r = kt_random();
    switch (r % 7) {
    case 0: return 0;
    case 1: return (uintptr_t)scratch + (r >> 8) % sizeof(scratch);
    case 2: return 0xFFFF000000000000UL + ((r >> 8) & 0xFFFFFFF);
    case 3: return 0xFFFFFFFF80000000UL;
    case 4: return (r >> 8) & 0x0000FFFFFFFFFFFFUL;
    case 5: return MICA_BOOTINFO_VA;
    default: return r;
    }
}

static uint64_t pick_length(void)
{
    uint64_t r = kt_random();
    switch (r % 5) {
    case 0: return 0;
    case 1: return (r >> 8) % 64;
    case 2: return (r >> 8) % 8192;
    case 3: return 1UL << ((r >> 8) % 64);
    default: return r;
    }
}

static uint64_t pick_any(void)
{
    switch (kt_random() % 3) {
    case 0: return pick_handle();
    case 1: return pick_pointer();
    default: return pick_length();
    }
}

int kt_fuzz_role(uint64_t calls, uint64_t seed)
{
    const struct mica_bootinfo *bi = kt_bootinfo();
    /* No way back to ourselves: keep only what cannot end us. */
    mica_handle_close(bi->self_process);
    mica_handle_close(bi->self_aspace);
    mica_handle_close(bi->self_thread);
    kt_seed(seed);
    uint64_t done = 0;
    while (done < calls) { /* `calls` system calls made: numbers skipped here do not count */
        uint64_t num = kt_random() % (MICA_SYS_COUNT + 2);
        if (num == MICA_SYS_THREAD_EXIT || num == MICA_SYS_PROCESS_EXIT ||
            num == MICA_SYS_SYSTEM_EXIT)
            continue;
        if (num == MICA_SYS_DEBUG_LOG && kt_random() % 16)
            continue; /* mostly garbage on the console: keep it rare */
        done++;
        uint64_t a[6];
        for (int k = 0; k < 6; k++)
            a[k] = pick_any();
        /* Nothing may block for long: clamp deadlines and timeouts. */
        uint64_t soon = mica_clock_ns() + (kt_random() % 200000);
        if (num == MICA_SYS_SLEEP)
            a[0] = soon;
        if (num == MICA_SYS_PROCESS_WAIT || num == MICA_SYS_NOTIFY_WAIT)
            a[1] = soon;
        if (num == MICA_SYS_CALL || num == MICA_SYS_SEND || num == MICA_SYS_RECV ||
            num == MICA_SYS_REPLY_RECV)
            a[1] = (a[1] & 0xFFFFFFFFUL & ~MICA_MSG_POLL) | ((1 + kt_random() % 200) << 32);
        struct mica_result r = mica_syscall(num, a[0], a[1], a[2], a[3], a[4], a[5]);
        if (r.status == MICA_OK && n_made < 64 &&
            (num == MICA_SYS_VMO_CREATE || num == MICA_SYS_PROCESS_CREATE ||
             num == MICA_SYS_HANDLE_DUP || num == MICA_SYS_THREAD_CREATE ||
             num == MICA_SYS_ENDPOINT_CREATE || num == MICA_SYS_NOTIFICATION_CREATE))
            made[n_made++] = (mica_handle_t)r.r1;
        if (n_made == 64 && kt_random() % 64 == 0) {
            for (unsigned k = 0; k < n_made; k++)
                mica_handle_close(made[k]);
            n_made = 0;
        }
    }
    /* The parent checks the count it asked for was made (the fuzzing may
     * have closed the console's handle: no printing here). */
    return (int)(done & 0x3FFFFFFF);
}

static int test_fuzz(void)
{
    struct mica_kernel_stats before, after;
    mica_handle_t child;
    int64_t code;
    uint32_t reason;
    const char *cmdline = kt_bootinfo()->cmdline;
    uint64_t calls = kt_cmdline_number(cmdline, "mica.fuzz=", 100000);
    uint64_t seed = kt_cmdline_number(cmdline, "mica.fuzz_seed=", 0xF00D);
    char role[80];
    snprintf(role, sizeof(role), "fuzz calls=%lu seed=%lu", calls, seed);
    CHECK_OK(kt_stats(&before));
    mica_printf(
        "    fuzzer: %lu calls, seed 0x%lx (mica.fuzz=%lu mica.fuzz_seed=0x%lx repeats it)\n",
        calls, seed, calls, seed);
    uint64_t t0 = mica_clock_ns();
    CHECK_OK(kt_spawn_role(role, &child));
    CHECK_OK(kt_wait(child, 3600000, &code, &reason));
    mica_printf("    fuzzer: %lu calls in %lu ms, exit reason %u code %ld\n", calls,
                (mica_clock_ns() - t0) / 1000000, reason, code);
    CHECK(reason == MICA_EXIT_NORMAL && code == (int64_t)(calls & 0x3FFFFFFF));
    CHECK_OK(mica_handle_close(child));
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    CHECK(before.free_pages - after.free_pages <= 8); /* slab caches keep an empty page each */
    return 0;
}

const struct ktest ktests_fuzz[] = {
    {"user_fuzz_syscalls", test_fuzz},
    {NULL, NULL},
};
