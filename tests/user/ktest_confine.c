/*
 * ktest: confinement by handles. A process reaches an object only through
 * a handle in its own table, and a handle value is (generation << 16) |
 * slot (kernel/handle.c), so guessing values must never find anything the
 * process does not hold: not another slot's object, not a slot's earlier
 * or later occupant (another generation), not a value whose upper 32 bits
 * are set, not a slot number past the table's 1,024.
 *
 * A child process (role "confine") that knows every handle it holds (its
 * bootinfo's, and those it makes) asks handle_info, which harms nothing,
 * about guessed values and checks each answer: MICA_OK with the right
 * object type for exactly its own handles, MICA_ERR_BAD_HANDLE for every
 * other value. It first fills its table to the limit and empties it
 * again, so that its later handles sit in slots whose generation has
 * moved on (2), next to empty slots that held handles before.
 *
 * All 1,024 slots times all 65,536 generations is 67 million calls, about
 * four minutes in QEMU, in each of the suite's boots: too slow. So it tries
 *   - every generation (0..0xFFFF) of a sample of slots: each slot that
 *     holds a handle, the last slot freed, and slots 0, 1023, 1024 and
 *     0xFFFF (the last two past the table's end);
 *   - every slot number (0..0xFFFF, the whole 16-bit field) with a sample
 *     of generations: 0, 1, 2, 3, 0x8000 and 0xFFFF;
 *   - each handle it holds with each upper bit (32..63) set.
 * About 1.2 million calls in all.
 */
#include "ktest.h"

#define MAX_KNOWN 16
#define SHOWN_WRONG 8

static struct {
    uint64_t value;
    uint32_t type; /* 0: held, but of a type we were not told */
} known[MAX_KNOWN];
static unsigned n_known;
static uint64_t tried, wrong;

static void add_known(uint64_t value, uint32_t type)
{
    if (value && n_known < MAX_KNOWN) {
        known[n_known].value = value;
        known[n_known].type = type;
        n_known++;
    }
}

/* handle_info(value) must answer for our own handles only. */
static void try_value(uint64_t value)
{
    struct mica_result r = mica_syscall(MICA_SYS_HANDLE_INFO, value, 0, 0, 0, 0, 0);
    int64_t want = MICA_ERR_BAD_HANDLE;
    uint32_t type = 0;
    for (unsigned i = 0; i < n_known; i++)
        if (known[i].value == value) {
            want = MICA_OK;
            type = known[i].type;
        }
    tried++;
    if (r.status == want && (want != MICA_OK || !type || r.r1 == type))
        return;
    if (wrong++ < SHOWN_WRONG)
        mica_printf("    confine: handle_info(0x%lx) gave %s type %lu, want %s type %u\n", value,
                    mica_status_name((int)r.status), r.status ? 0 : r.r1,
                    mica_status_name((int)want), type);
}

static void try_all_generations(uint32_t slot)
{
    for (uint32_t gen = 0; gen <= 0xFFFF; gen++)
        try_value((uint64_t)gen << 16 | slot);
}

int kt_confine_role(void)
{
    const struct mica_bootinfo *bi = kt_bootinfo();
    /* Fill the table to its limit, then empty it again: the slots we use
     * from now on are at generation 2. (Our memory limit, lowered to what
     * we hold plus a little, keeps the table from growing past its first
     * 1,024 slots: handle.c charges growth to the process.) */
    uint64_t held;
    if (mica_process_memory(bi->self_process, &held, NULL, NULL) ||
        mica_process_set_limit(bi->self_process, held + 16))
        return 5000;
    static mica_handle_t dups[1024];
    unsigned n = 0;
    while (n < 1024 && mica_handle_dup(bi->bootfs_vmo, MICA_RIGHT_READ, &dups[n]) == MICA_OK)
        n++;
    if (n < 1000)
        return 1000 + (int)n; /* the limit is 1,024 handles, and we hold only a few */
    for (unsigned i = 0; i < n; i++)
        if (mica_handle_close(dups[i]) != MICA_OK)
            return 2000;
    add_known(bi->self_process, MICA_OBJ_PROCESS);
    add_known(bi->self_aspace, MICA_OBJ_ASPACE);
    add_known(bi->self_thread, MICA_OBJ_THREAD);
    add_known(bi->bootfs_vmo, MICA_OBJ_VMO);
    add_known(bi->debug_log, MICA_OBJ_RESOURCE);
    add_known(bi->dtb_vmo, MICA_OBJ_VMO);
    add_known(bi->root_resource, MICA_OBJ_RESOURCE);
    add_known(bi->startup_handle, 0);
    add_known(bi->procmgr, 0);
    for (unsigned i = 0; i < bi->n_handles; i++)
        add_known(bi->handles[i], 0);
    mica_handle_t vmo, ep, ntfn, gone;
    if (mica_vmo_create(4096, &vmo) || mica_endpoint_create(&ep) ||
        mica_notification_create(&ntfn) || mica_vmo_create(4096, &gone) || mica_handle_close(gone))
        return 3000;
    add_known(vmo, MICA_OBJ_VMO);
    add_known(ep, MICA_OBJ_ENDPOINT);
    add_known(ntfn, MICA_OBJ_NOTIFICATION);
    if ((vmo >> 16) != 2 || (ep >> 16) != 2)
        return 4000; /* the table was not recycled as meant */

    for (unsigned i = 0; i < n_known; i++)
        try_all_generations((uint32_t)known[i].value & 0xFFFF);
    static const uint32_t slots[] = {0, 1023, 1024, 0xFFFF};
    try_all_generations(gone & 0xFFFF);
    for (unsigned i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
        try_all_generations(slots[i]);
    static const uint32_t gens[] = {0, 1, 2, 3, 0x8000, 0xFFFF};
    for (uint32_t slot = 0; slot <= 0xFFFF; slot++)
        for (unsigned g = 0; g < sizeof(gens) / sizeof(gens[0]); g++)
            try_value((uint64_t)gens[g] << 16 | slot);
    for (unsigned i = 0; i < n_known; i++)
        for (unsigned bit = 32; bit < 64; bit++)
            try_value(known[i].value | 1UL << bit);
    mica_printf("    confine: %lu values tried, %u handles held, %lu wrong answers\n", tried,
                n_known, wrong);
    return wrong > 999 ? 999 : (int)wrong;
}

static int test_confine_handles(void)
{
    mica_handle_t child;
    int64_t code;
    uint32_t reason;
    uint64_t t0 = mica_clock_ns();
    CHECK_OK(kt_spawn_role("confine", &child));
    CHECK_OK(kt_wait(child, 600000, &code, &reason));
    mica_printf("    confine: %lu ms, exit reason %u code %ld\n", (mica_clock_ns() - t0) / 1000000,
                reason, code);
    CHECK_OK(mica_handle_close(child));
    CHECK(reason == MICA_EXIT_NORMAL);
    CHECK(code == 0);
    return 0;
}

const struct ktest ktests_confine[] = {
    {"user_confine_handle_guessing", test_confine_handles},
    {NULL, NULL},
};
