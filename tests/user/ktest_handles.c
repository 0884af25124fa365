/* ktest: handles — rights, attenuation, stale and bad values, revoke, give,
 * the per-process handle limit, unknown syscalls, the debug log, clocks. */
#include "ktest.h"
#include <string.h>

#define VMO_RIGHTS                                                                                 \
    (MICA_RIGHT_READ | MICA_RIGHT_WRITE | MICA_RIGHT_MAP | MICA_RIGHT_EXEC |                       \
     MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER)

static int test_handle_info_and_dup(void)
{
    mica_handle_t vmo, ro;
    uint32_t type, rights;
    uint64_t badge;
    CHECK_OK(mica_vmo_create(4096, &vmo));
    CHECK_OK(mica_handle_info(vmo, &type, &rights, &badge));
    CHECK(type == MICA_OBJ_VMO && rights == VMO_RIGHTS && badge == 0);
    CHECK_OK(mica_handle_dup(vmo, MICA_RIGHT_READ | MICA_RIGHT_DUPLICATE, &ro));
    CHECK_OK(mica_handle_info(ro, &type, &rights, NULL));
    CHECK(rights == (MICA_RIGHT_READ | MICA_RIGHT_DUPLICATE));
    /* Attenuation only: no right can be added back. */
    mica_handle_t wider;
    CHECK_STATUS(mica_handle_dup(ro, MICA_RIGHT_READ | MICA_RIGHT_WRITE, &wider),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_handle_dup(ro, 1u << 20, &wider), MICA_ERR_INVALID_ARGS);
    char byte = 1;
    CHECK_STATUS(mica_vmo_write(ro, 0, &byte, 1), MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_vmo_read(ro, 0, &byte, 1));
    /* Without DUPLICATE nothing can be copied. */
    mica_handle_t nodup, x;
    CHECK_OK(mica_handle_dup(vmo, MICA_RIGHT_READ, &nodup));
    CHECK_STATUS(mica_handle_dup(nodup, MICA_RIGHT_READ, &x), MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_handle_close(nodup));
    CHECK_OK(mica_handle_close(ro));
    CHECK_OK(mica_handle_close(vmo));
    return 0;
}

static int test_bad_and_stale_handles(void)
{
    mica_handle_t vmo;
    CHECK_OK(mica_vmo_create(4096, &vmo));
    CHECK_OK(mica_handle_close(vmo));
    uint64_t size;
    CHECK_STATUS(mica_vmo_get_size(vmo, &size), MICA_ERR_BAD_HANDLE); /* stale */
    CHECK_STATUS(mica_handle_close(vmo), MICA_ERR_BAD_HANDLE);
    CHECK_STATUS(mica_handle_close(0), MICA_ERR_BAD_HANDLE);
    CHECK_STATUS(mica_handle_close(0xFFFFFFFF), MICA_ERR_BAD_HANDLE);
    CHECK_STATUS(mica_handle_close(0x12345678), MICA_ERR_BAD_HANDLE);
    /* Values wider than 32 bits never name a handle. */
    CHECK_STATUS((int)mica_syscall(MICA_SYS_HANDLE_CLOSE, 1UL << 40, 0, 0, 0, 0, 0).status,
                 MICA_ERR_BAD_HANDLE);
    /* A new handle in the same slot gets a new generation. */
    mica_handle_t again;
    CHECK_OK(mica_vmo_create(4096, &again));
    CHECK(again != vmo || (again >> 16) != (vmo >> 16));
    /* Wrong type. */
    CHECK_STATUS(mica_process_kill(again), MICA_ERR_WRONG_TYPE);
    CHECK_STATUS(mica_vmo_get_size(kt_bootinfo()->self_aspace, &size), MICA_ERR_WRONG_TYPE);
    CHECK_OK(mica_handle_close(again));
    return 0;
}

static int test_revoke(void)
{
    mica_handle_t a, b, c, d;
    CHECK_OK(mica_vmo_create(4096, &a));
    CHECK_OK(mica_handle_dup(a, VMO_RIGHTS, &b));
    CHECK_OK(mica_handle_dup(b, VMO_RIGHTS, &c));
    CHECK_OK(mica_handle_dup(a, MICA_RIGHT_READ, &d));
    /* Closing b in the middle keeps c reachable from a. */
    CHECK_OK(mica_handle_close(b));
    CHECK_OK(mica_handle_revoke(a));
    uint64_t size;
    CHECK_STATUS(mica_vmo_get_size(c, &size), MICA_ERR_BAD_HANDLE);
    CHECK_STATUS(mica_vmo_get_size(d, &size), MICA_ERR_BAD_HANDLE);
    CHECK_OK(mica_vmo_get_size(a, &size)); /* the root itself stays */
    CHECK(size == 4096);
    CHECK_STATUS(mica_handle_revoke(c), MICA_ERR_BAD_HANDLE);
    CHECK_OK(mica_handle_close(a));
    return 0;
}

static int test_give(void)
{
    mica_handle_t child, vmo, in_child, notransfer;
    CHECK_OK(kt_spawn_role("sleep", &child));
    CHECK_OK(mica_vmo_create(4096, &vmo));
    CHECK_OK(mica_handle_dup(vmo, MICA_RIGHT_READ, &notransfer));
    CHECK_STATUS(mica_handle_give(notransfer, child, &in_child), MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_handle_give(vmo, child, &in_child));
    uint64_t size;
    CHECK_STATUS(mica_vmo_get_size(vmo, &size), MICA_ERR_BAD_HANDLE); /* moved away */
    CHECK_STATUS(mica_handle_give(notransfer, vmo, &in_child), MICA_ERR_BAD_HANDLE);
    CHECK_OK(mica_handle_close(notransfer));
    CHECK_OK(mica_process_kill(child));
    int64_t code;
    uint32_t reason;
    CHECK_OK(kt_wait(child, 5000, &code, &reason));
    CHECK(reason == MICA_EXIT_KILLED);
    CHECK_STATUS(mica_handle_give(0, child, &in_child), MICA_ERR_PEER_CLOSED);
    CHECK_OK(mica_handle_close(child));
    return 0;
}

/* The table grows past its first 1,024 slots to 65,536 handles, each
 * growth charged to the process: with its memory limit nearly used up a
 * process stops at ERR_LIMIT before growing; with room, it reaches
 * 65,536; and everything comes back. */
static int test_handle_limit(void)
{
    struct mica_kernel_stats before, after;
    mica_handle_t self = kt_bootinfo()->self_process, first, h, child;
    uint64_t held0, held;
    int64_t code;
    uint32_t reason;
    CHECK_OK(kt_spawn_role("handles_low", &child));
    CHECK_OK(kt_wait(child, 10000, &code, &reason));
    if (reason != MICA_EXIT_NORMAL || code <= 900 || code >= 1024)
        mica_printf("    handles_low: reason %u code %ld\n", reason, code);
    CHECK(reason == MICA_EXIT_NORMAL && code > 900 && code < 1024);
    CHECK_OK(mica_handle_close(child));
    CHECK_OK(kt_stats(&before));
    CHECK_OK(mica_vmo_create(4096, &first));
    CHECK_OK(mica_process_memory(self, &held0, NULL, NULL));
    int err = MICA_OK;
    unsigned made = 0;
    while ((err = mica_handle_dup(first, MICA_RIGHT_READ | MICA_RIGHT_DUPLICATE, &h)) == MICA_OK)
        made++;
    CHECK_STATUS(err, MICA_ERR_LIMIT);
    CHECK(made > 65000 && made < 65536);
    CHECK_OK(mica_process_memory(self, &held, NULL, NULL));
    CHECK(held > held0 + 1000);          /* the grown table and its handles are ours to pay */
    CHECK_OK(mica_handle_revoke(first)); /* closes every duplicate */
    CHECK_OK(mica_handle_close(first));
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    return 0;
}

static int test_unknown_syscalls(void)
{
    CHECK_STATUS((int)mica_syscall(MICA_SYS_COUNT, 0, 0, 0, 0, 0, 0).status,
                 MICA_ERR_NOT_SUPPORTED);
    CHECK_STATUS((int)mica_syscall(~0UL, 0, 0, 0, 0, 0, 0).status, MICA_ERR_NOT_SUPPORTED);
    CHECK_OK((int)mica_syscall(MICA_SYS_NULL, 1, 2, 3, 4, 5, 6).status);
    return 0;
}

static int test_debug_log(void)
{
    CHECK_OK(mica_debug_log("    (debug log ok)\n", 19));
    CHECK_OK(mica_debug_log(NULL, 0));
    CHECK_STATUS(mica_debug_log(NULL, 10), MICA_ERR_FAULT);
    CHECK_STATUS(mica_debug_log((const char *)0xFFFF000040000000UL, 8), MICA_ERR_FAULT);
    CHECK_STATUS(mica_debug_log((const char *)0x00007FFFFFFFFFF0UL, 64), MICA_ERR_FAULT);
    CHECK_STATUS(mica_debug_log("x", 100000), MICA_ERR_INVALID_ARGS);
    /* Logging is a capability: a LOG resource (bootinfo->debug_log). */
    const char *msg = "    (log)\n";
    CHECK_STATUS((int)mica_syscall(MICA_SYS_DEBUG_LOG, 0, (uintptr_t)msg, 10, 0, 0, 0).status,
                 MICA_ERR_BAD_HANDLE);
    mica_handle_t vmo, mmio;
    CHECK_OK(mica_vmo_create(4096, &vmo));
    CHECK_STATUS((int)mica_syscall(MICA_SYS_DEBUG_LOG, vmo, (uintptr_t)msg, 10, 0, 0, 0).status,
                 MICA_ERR_WRONG_TYPE);
    CHECK_OK(mica_handle_close(vmo));
    CHECK_OK(mica_resource_create(kt_bootinfo()->root_resource, MICA_RESOURCE_MMIO, 0x10000000,
                                  4096, &mmio));
    CHECK_STATUS((int)mica_syscall(MICA_SYS_DEBUG_LOG, mmio, (uintptr_t)msg, 10, 0, 0, 0).status,
                 MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_handle_close(mmio));
    return 0;
}

/* The last `size` bytes of the kernel log, read with log_read from the
 * start; returns how many are in tail (size must exceed MICA_LOG_READ_MAX). */
static size_t log_tail(char *tail, size_t size)
{
    static char buf[MICA_LOG_READ_MAX];
    uint64_t pos = 0, first;
    size_t got, kept = 0;
    while (mica_log_read(pos, buf, sizeof(buf), &got, &first) == MICA_OK && got) {
        if (kept + got > size) { /* drop the oldest to make room */
            size_t drop = kept + got - size;
            memmove(tail, tail + drop, kept - drop);
            kept -= drop;
        }
        memcpy(tail + kept, buf, got);
        kept += got;
        pos = first + got;
    }
    return kept;
}

/* log_read (dmesg) reads back what was logged, services' lines included;
 * bad arguments are refused. */
static int test_log_read(void)
{
    static char tail[4096];
    char line[64], buf[16];
    size_t got;
    uint64_t first;
    snprintf(line, sizeof(line), "    (service line %lu)\n", (unsigned long)mica_clock_ns());
    CHECK_OK(mica_debug_log_flags(line, strlen(line), MICA_LOG_SERVICE));
    size_t n = log_tail(tail, sizeof(tail) - 1);
    tail[n] = '\0';
    CHECK(strstr(tail, line) != NULL);
    CHECK_STATUS(mica_debug_log_flags("x\n", 2, 2), MICA_ERR_INVALID_ARGS); /* unknown flag */
    /* A position older than the ring: from the oldest byte; past the end: nothing. */
    CHECK_OK(mica_log_read(0, buf, sizeof(buf), &got, &first));
    CHECK(got == sizeof(buf));
    CHECK_OK(mica_log_read(UINT64_MAX / 2, buf, sizeof(buf), &got, &first));
    CHECK(got == 0);
    CHECK_STATUS(mica_log_read(0, buf, MICA_LOG_READ_MAX + 1, &got, &first), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_log_read(0, (void *)0xFFFF000040000000UL, 8, &got, &first), MICA_ERR_FAULT);
    CHECK_STATUS(mica_log_read(0, NULL, 8, &got, &first), MICA_ERR_FAULT);
    /* Reading is a LOG capability too. */
    mica_handle_t vmo, mmio;
    CHECK_STATUS((int)mica_syscall(MICA_SYS_LOG_READ, 0, 0, (uintptr_t)buf, 8, 0, 0).status,
                 MICA_ERR_BAD_HANDLE);
    CHECK_OK(mica_vmo_create(4096, &vmo));
    CHECK_STATUS((int)mica_syscall(MICA_SYS_LOG_READ, vmo, 0, (uintptr_t)buf, 8, 0, 0).status,
                 MICA_ERR_WRONG_TYPE);
    CHECK_OK(mica_handle_close(vmo));
    CHECK_OK(mica_resource_create(kt_bootinfo()->root_resource, MICA_RESOURCE_MMIO, 0x10000000,
                                  4096, &mmio));
    CHECK_STATUS((int)mica_syscall(MICA_SYS_LOG_READ, mmio, 0, (uintptr_t)buf, 8, 0, 0).status,
                 MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_handle_close(mmio));
    /* Without READ on the LOG resource (a child spawned without the root
     * resource, as every service and spawned program is): write, not read. */
    mica_handle_t child, no_read;
    int64_t code;
    uint32_t reason;
    CHECK_OK(kt_spawn_role("log-read", &child));
    CHECK_OK(kt_wait(child, 5000, &code, &reason));
    CHECK(reason == MICA_EXIT_NORMAL && code == -MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_handle_close(child));
    CHECK_OK(mica_handle_dup(kt_bootinfo()->debug_log, MICA_RIGHT_MANAGE, &no_read));
    CHECK_STATUS((int)mica_syscall(MICA_SYS_LOG_READ, no_read, 0, (uintptr_t)buf, 8, 0, 0).status,
                 MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_handle_close(no_read));
    return 0;
}

static int test_clocks(void)
{
    uint64_t a = mica_clock_ns(), k = mica_clock_get(), b = mica_clock_ns();
    CHECK(a <= k && k <= b);
    uint64_t until = mica_clock_ns() + 2000000; /* 2 ms */
    CHECK_OK(mica_sleep_until(until));
    CHECK(mica_clock_ns() >= until);
    CHECK_OK(mica_sleep_until(MICA_DEADLINE_NONE));
    CHECK_OK(mica_yield());
    return 0;
}

const struct ktest ktests_handles[] = {
    {"user_handle_info_dup", test_handle_info_and_dup},
    {"user_handle_bad_stale", test_bad_and_stale_handles},
    {"user_handle_revoke", test_revoke},
    {"user_handle_give", test_give},
    {"user_handle_limit", test_handle_limit},
    {"user_unknown_syscall", test_unknown_syscalls},
    {"user_debug_log", test_debug_log},
    {"user_log_read", test_log_read},
    {"user_clocks", test_clocks},
    {NULL, NULL},
};
