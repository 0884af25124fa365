/*
 * ktest runner and shared helpers. Run without a role it runs every test
 * group; spawned with "role=NAME" in its command line it plays a part for
 * another test (exit with a code, fault, sleep, fuzz).
 */
#include "ktest.h"
#include <mica/proto/procmgr.h>
#include <mica/server.h>
#include <string.h>

static const struct ktest *const groups[] = {
    ktests_handles, ktests_memory,   ktests_process, ktests_ipc,    ktests_ipc_fast,
    ktests_sched,   ktests_fault,    ktests_device,  ktests_server, ktests_procmgr,
    ktests_fs,      ktests_snapshot, ktests_drivers, ktests_limits, ktests_linux,
    ktests_hostile, ktests_confine,  ktests_fuzz,    ktests_mfuzz,
};
static const void *self_elf;
static size_t self_elf_size;
static uint64_t random_state = 0x9E3779B97F4A7C15UL;

const struct mica_bootinfo *kt_bootinfo(void)
{
    return mica_bootinfo;
}

void kt_seed(uint64_t seed)
{
    random_state = (seed ^ 0x9E3779B97F4A7C15UL) ? seed ^ 0x9E3779B97F4A7C15UL : 1;
}

uint64_t kt_random(void)
{
    /* xorshift64*: deterministic for a given seed */
    random_state ^= random_state >> 12;
    random_state ^= random_state << 25;
    random_state ^= random_state >> 27;
    return random_state * 0x2545F4914F6CDD1DUL;
}

int kt_spawn_role(const char *role, mica_handle_t *child)
{
    char cmdline[128], name[32];
    snprintf(cmdline, sizeof(cmdline), "role=%s", role);
    snprintf(name, sizeof(name), "%s", role);
    for (char *c = name; *c; c++)
        if (*c == ' ')
            *c = 0; /* the role's name, without its arguments */
    return mica_spawn(self_elf, self_elf_size, name, cmdline, kt_bootinfo()->bootfs_vmo, 0, child);
}

int kt_wait(mica_handle_t child, uint64_t timeout_ms, int64_t *code, uint32_t *reason)
{
    return mica_process_wait(child, mica_clock_ns() + timeout_ms * 1000000UL, code, reason);
}

/* Object counts are system-wide and other processes (procmgr's services)
 * may be busy: take a snapshot only once two readings 20 ms apart agree. */
int kt_stats(struct mica_kernel_stats *st)
{
    struct mica_kernel_stats prev;
    int err = mica_kernel_stats(&prev);
    for (int i = 0; !err && i < 100; i++) {
        mica_sleep_until(mica_clock_ns() + 20000000UL);
        if ((err = mica_kernel_stats(st)) != MICA_OK)
            break;
        bool same = st->handles == prev.handles;
        for (unsigned k = 0; k < MICA_OBJ_TYPE_COUNT; k++)
            same &= st->objects[k] == prev.objects[k];
        if (same)
            return MICA_OK;
        prev = *st;
    }
    return err ? err : MICA_ERR_TIMED_OUT;
}

int kt_same_objects(const struct mica_kernel_stats *a, const struct mica_kernel_stats *b)
{
    int same = a->handles == b->handles;
    for (unsigned i = 0; i < MICA_OBJ_TYPE_COUNT; i++)
        same &= a->objects[i] == b->objects[i];
    if (!same) {
        mica_printf("    objects differ: handles %lu -> %lu", a->handles, b->handles);
        for (unsigned i = 1; i < MICA_OBJ_TYPE_COUNT; i++)
            mica_printf(", type %u: %lu -> %lu", i, a->objects[i], b->objects[i]);
        mica_printf("\n");
    }
    return same;
}

/* The number after `key` in cmdline (decimal, or hex after 0x), or `def`
 * if the key is not there. */
uint64_t kt_cmdline_number(const char *cmdline, const char *key, uint64_t def)
{
    const char *p = strstr(cmdline, key);
    uint64_t n = 0;
    if (!p)
        return def;
    p += strlen(key);
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        for (p += 2;; p++) {
            unsigned d = *p >= '0' && *p <= '9'   ? (unsigned)(*p - '0')
                         : *p >= 'a' && *p <= 'f' ? (unsigned)(*p - 'a' + 10)
                         : *p >= 'A' && *p <= 'F' ? (unsigned)(*p - 'A' + 10)
                                                  : 16;
            if (d == 16)
                return n;
            n = n * 16 + d;
        }
    }
    for (; *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (uint64_t)(*p - '0');
    return n;
}

static const char *role_of(const char *cmdline)
{
    const char *p = strstr(cmdline, "role=");
    return p ? p + 5 : NULL;
}

/* Child roles: small behaviours the process tests observe from outside. */
static int play_role(const char *role)
{
    if (strcmp(role, "exit42") == 0)
        return 42;
    if (strcmp(role, "tls") == 0) {
        uint64_t tp;
        __asm__ volatile("mrs %0, tpidr_el0" : "=r"(tp));
        __asm__ volatile("msr tpidr_el0, %0" ::"r"(0x3333UL));
        mica_yield();
        return tp == 0 ? 0 : 1;
    }
    if (strcmp(role, "handles") == 0) {
        /* Spawned by procmgr with an explicit handle list (PM_SPAWN): an
         * endpoint as the startup handle, two VMOs holding numbers. Exit
         * with their sum; wrong handles add 1000s. */
        const struct mica_bootinfo *bi = mica_bootinfo;
        uint32_t type = 0;
        uint64_t a = 0, b = 0;
        mica_handle_t fs;
        int result = 0;
        mica_handle_info(bi->startup_handle, &type, NULL, NULL);
        result += type == MICA_OBJ_ENDPOINT ? 0 : 1000;
        result += bi->n_handles == 2 ? 0 : 2000;
        if (mica_vmo_read(bi->handles[0], 0, &a, 8) || mica_vmo_read(bi->handles[1], 0, &b, 8))
            result += 3000;
        result += bi->procmgr && pm_lookup(bi->procmgr, "fs", &fs) == MICA_OK ? 0 : 4000;
        return result + (int)(a + b);
    }
    if (strcmp(role, "handles_low") == 0) {
        /* Our own memory limit lowered to what we hold plus two pages: the
         * handle table cannot grow past its first 1,024 slots. Exit with
         * how many duplicates we made before ERR_LIMIT (2000 and more: another
         * error). */
        mica_handle_t self = mica_bootinfo->self_process, h;
        uint64_t held;
        int err;
        unsigned made = 0;
        if (mica_process_memory(self, &held, NULL, NULL) || mica_process_set_limit(self, held + 2))
            return 0;
        while ((err = mica_handle_dup(mica_bootinfo->bootfs_vmo, MICA_RIGHT_READ, &h)) == MICA_OK)
            made++;
        return err == MICA_ERR_LIMIT ? (int)made : 2000 - err;
    }
    if (strcmp(role, "pm-kill") == 0) /* spawned by procmgr: may it kill a service? */
        return -pm_kill(mica_bootinfo->procmgr, "pair-b");
    if (strcmp(role, "log-read") == 0) { /* may we read the log? (0, or -error) */
        char buf[8];
        size_t got;
        uint64_t first;
        return -mica_log_read(0, buf, sizeof(buf), &got, &first);
    }
    if (strcmp(role, "fault") == 0) {
        *(volatile int *)0x8 = 1; /* page 0 is never mapped */
        return 0;
    }
    if (strcmp(role, "sleep") == 0) {
        for (;;)
            mica_sleep_until(MICA_DEADLINE_INFINITE);
    }
    if (strcmp(role, "spin") == 0) {
        for (;;)
            mica_yield();
    }
    if (strcmp(role, "exec-data") == 0) {
        static volatile uint32_t code[1] = {0xD65F03C0}; /* ret, in a non-exec page */
        ((void (*)(void))(uintptr_t)code)();
        return 0;
    }
    if (strcmp(role, "memcheck") == 0) {
        /* Our memory must stay ours across context switches and ASID
         * rollovers: write, yield, verify, many times. */
        static volatile uint64_t words[1024];
        for (uint64_t round = 1; round <= 3000; round++) {
            for (int i = 0; i < 1024; i += 64)
                words[i] = round * 1000 + (uint64_t)i;
            mica_yield();
            for (int i = 0; i < 1024; i += 64)
                if (words[i] != round * 1000 + (uint64_t)i)
                    return 1;
        }
        return 0;
    }
    if (strcmp(role, "hog") == 0) {
        /* Commit memory until the kernel says no; exit with why. */
        static uint8_t chunk[65536];
        mica_handle_t vmo;
        if (mica_vmo_create(1UL << 30, &vmo) != MICA_OK)
            return 98;
        for (uint64_t off = 0;; off += sizeof(chunk)) {
            int err = mica_vmo_write(vmo, off, chunk, sizeof(chunk));
            if (err)
                return -err; /* e.g. 13 = MICA_ERR_LIMIT */
        }
    }
    if (strcmp(role, "confine") == 0)
        return kt_confine_role();
    if (strncmp(role, "mfuzz", 5) == 0)
        return kt_mfuzz_role(10000, 0x1234567 + (uint64_t)(role[5] - '0') * 7919);
    if (strncmp(role, "fuzz", 4) == 0)
        /* The parent passes what the kernel command line asked for:
         * this process's own command line is "role=fuzz calls=N seed=S". */
        return kt_fuzz_role(kt_cmdline_number(kt_bootinfo()->cmdline, "calls=", 0),
                            kt_cmdline_number(kt_bootinfo()->cmdline, "seed=", 0));
    mica_printf("ktest: unknown role '%s'\n", role);
    return 99;
}

static int find_self(const struct mica_bootinfo *bi)
{
    uintptr_t base;
    size_t size = (bi->bootfs_size + MICA_PAGE_SIZE - 1) & ~(MICA_PAGE_SIZE - 1);
    int err = mica_aspace_map(bi->self_aspace, bi->bootfs_vmo, 0, size, 0, MICA_MAP_READ, &base);
    if (!err)
        err = mica_cpio_find((const void *)base, bi->bootfs_size, "bin/ktest", &self_elf,
                             &self_elf_size);
    return err;
}

int main(const struct mica_bootinfo *bi)
{
    const char *role = role_of(bi->cmdline);
    if (role)
        return play_role(role);
    if (find_self(bi) != MICA_OK) {
        mica_printf("ktest: cannot find bin/ktest in the bootfs\n");
        return 100;
    }
    /* procmgr answers only once it has started every service: wait for it,
     * so that the services' start-up does not blur the leak checks. */
    uint64_t count;
    if (bi->startup_handle)
        mica_request(bi->startup_handle, 4 /* PM_COUNT */, NULL, 0, &count, 1);
    /* The checks of limits (the hog, many processes) assume a budget of
     * 256 MiB, well below the RAM: ours, and our children's, whatever the
     * board (by default we would inherit init's, nearly all the RAM). */
    uint64_t limit;
    if (mica_process_memory(bi->self_process, NULL, &limit, NULL) == MICA_OK && limit > 65536)
        mica_process_set_limit(bi->self_process, 65536);
    int passed = 0, failed = 0;
    for (unsigned g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        for (const struct ktest *t = groups[g]; t->name; t++) {
            mica_printf("[ RUN  ] %s\n", t->name);
            int rc = t->fn();
            mica_printf("[ %s ] %s\n", rc == 0 ? "PASS" : "FAIL", t->name);
            rc == 0 ? passed++ : failed++;
        }
    }
    mica_printf("ktest: %d passed, %d failed\n", passed, failed);
    return failed;
}
