/* ktest: procmgr and supervision, against the services of the test image's
 * boot manifest (tests/user/manifest): lookup, a crashing server restarted
 * with its clients reconnecting through the same handle, one_for_all and
 * rest_for_one groups, a temporary service, restart intensity, and bad
 * requests. */
#include "ktest.h"
#include <mica/proto/kv.h>
#include <mica/proto/procmgr.h>
#include <string.h>

static mica_handle_t procmgr(void)
{
    return kt_bootinfo()->startup_handle;
}

/* Wait (up to 5 s) until name's restart count reaches `restarts`. */
static int wait_restarts(const char *name, uint64_t restarts, uint64_t *state)
{
    uint64_t st = 0, r = 0;
    for (int i = 0; i < 500; i++) {
        int err = pm_status(procmgr(), name, &st, &r);
        if (err)
            return err;
        if (r >= restarts && st != 0) {
            *state = st;
            return r == restarts ? MICA_OK : MICA_ERR_BAD_STATE;
        }
        mica_sleep_until(mica_clock_ns() + 10000000UL);
    }
    return MICA_ERR_TIMED_OUT;
}

static int test_lookup_and_restart(void)
{
    mica_handle_t kv;
    uint64_t state, restarts, v;
    CHECK(procmgr() != 0);
    CHECK_OK(pm_lookup(procmgr(), "kv", &kv));
    CHECK_OK(pm_status(procmgr(), "kv", &state, &restarts));
    CHECK(state == PM_STATE_RUNNING && restarts == 0);
    CHECK_OK(kv_put(kv, 1, 11));
    CHECK_OK(kv_get(kv, 1, &v));
    CHECK(v == 11);
    /* The server faults on purpose: we lose our call, procmgr restarts it,
     * and the same handle reaches the new instance. */
    CHECK_STATUS(kv_crash(kv), MICA_ERR_PEER_CLOSED);
    CHECK_OK(wait_restarts("kv", 1, &state));
    CHECK(state == PM_STATE_RUNNING);
    CHECK_STATUS(kv_get(kv, 1, &v), MICA_ERR_NOT_FOUND); /* a fresh instance */
    CHECK_OK(kv_put(kv, 1, 12));
    CHECK_OK(kv_get(kv, 1, &v));
    CHECK(v == 12);
    CHECK_OK(mica_handle_close(kv));
    return 0;
}

static int test_group_strategies(void)
{
    uint64_t state, ra, rb, rc, s2;
    /* one_for_all: killing pair-a restarts pair-b too. */
    CHECK_OK(pm_kill(procmgr(), "pair-a"));
    CHECK_OK(wait_restarts("pair-a", 1, &state));
    CHECK_OK(pm_status(procmgr(), "pair-b", &s2, &rb));
    CHECK(rb == 1 && s2 == PM_STATE_RUNNING);
    /* rest_for_one: chain-b's crash restarts chain-b and chain-c, not chain-a. */
    mica_handle_t b;
    CHECK_OK(pm_lookup(procmgr(), "chain-b", &b));
    CHECK_STATUS(kv_crash(b), MICA_ERR_PEER_CLOSED);
    CHECK_OK(wait_restarts("chain-b", 1, &state));
    CHECK_OK(wait_restarts("chain-c", 1, &state));
    CHECK_OK(pm_status(procmgr(), "chain-a", &s2, &ra));
    CHECK(ra == 0 && s2 == PM_STATE_RUNNING);
    CHECK_OK(pm_status(procmgr(), "chain-c", &s2, &rc));
    CHECK(rc == 1);
    CHECK_OK(mica_handle_close(b));
    /* temporary: not restarted. */
    CHECK_OK(pm_kill(procmgr(), "once"));
    for (int i = 0; i < 300; i++) {
        CHECK_OK(pm_status(procmgr(), "once", &state, &ra));
        if (state == PM_STATE_STOPPED)
            break;
        mica_sleep_until(mica_clock_ns() + 10000000UL);
    }
    CHECK(state == PM_STATE_STOPPED && ra == 0);
    CHECK_STATUS(pm_kill(procmgr(), "once"), MICA_ERR_BAD_STATE);
    return 0;
}

static int test_intensity_and_bad_requests(void)
{
    mica_handle_t kv, x;
    uint64_t state, restarts;
    CHECK_STATUS(pm_lookup(procmgr(), "no-such-service", &x), MICA_ERR_NOT_FOUND);
    CHECK_STATUS(pm_lookup(procmgr(), "a-name-that-is-far-too-long-to-fit-in-32", &x),
                 MICA_ERR_INVALID_ARGS);
    uint64_t forged[4] = {0, 1, 0, 0};
    CHECK_STATUS(mica_request(procmgr(), 100, forged, 4, NULL, 0), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_request(procmgr(), 77, NULL, 0, NULL, 0), MICA_ERR_NOT_SUPPORTED);
    /* kv allows 3 restarts a minute (it used one above): crash it until
     * procmgr gives up on it. */
    CHECK_OK(pm_lookup(procmgr(), "kv", &kv));
    for (int crash = 0; crash < 4; crash++) {
        CHECK_OK(pm_status(procmgr(), "kv", &state, &restarts));
        if (state == PM_STATE_FAILED)
            break;
        CHECK_STATUS(kv_crash(kv), MICA_ERR_PEER_CLOSED);
        for (int i = 0; i < 300; i++) {
            uint64_t r2;
            CHECK_OK(pm_status(procmgr(), "kv", &state, &r2));
            if (r2 > restarts || state == PM_STATE_FAILED)
                break;
            mica_sleep_until(mica_clock_ns() + 10000000UL);
        }
    }
    CHECK_OK(pm_status(procmgr(), "kv", &state, &restarts));
    CHECK(state == PM_STATE_FAILED && restarts == 3);
    /* Given up, it answers errors at once, to old handles and new ones
     * (procmgr closed its receive side); calls carry a timeout only so
     * that a regression fails instead of hanging. */
    struct mica_msg poll = {.info = mica_msg_info(KV_GET, 1, 0, 0) | MICA_MSG_POLL};
    CHECK_STATUS(mica_call(kv, &poll), MICA_ERR_PEER_CLOSED);
    uint64_t t0 = mica_clock_ns();
    struct mica_msg m = {.info = mica_msg_info(KV_GET, 1, 0, 2000000)};
    CHECK_STATUS(mica_call(kv, &m), MICA_ERR_PEER_CLOSED);
    CHECK_OK(pm_lookup(procmgr(), "kv", &x));
    m.info = mica_msg_info(KV_GET, 1, 0, 2000000);
    CHECK_STATUS(mica_call(x, &m), MICA_ERR_PEER_CLOSED);
    CHECK(mica_clock_ns() - t0 < 1000000000UL);
    CHECK_OK(mica_handle_close(x));
    CHECK_OK(mica_handle_close(kv));
    return 0;
}

/* Killing services is the operator's: a program procmgr started (its
 * procmgr handle has a badge) is refused, and the service lives on. */
static int test_kill_authority(void)
{
    mica_handle_t child;
    uint64_t state, restarts, again;
    int64_t code;
    uint32_t reason;
    CHECK_OK(pm_status(procmgr(), "pair-b", &state, &restarts));
    CHECK(state == PM_STATE_RUNNING);
    CHECK_OK(pm_spawn_args(procmgr(), "bin/ktest", "role=pm-kill", 0, &child));
    CHECK_OK(kt_wait(child, 5000, &code, &reason));
    CHECK_OK(mica_handle_close(child));
    CHECK(reason == MICA_EXIT_NORMAL);
    CHECK_STATUS((int)-code, MICA_ERR_ACCESS_DENIED);
    mica_sleep_until(mica_clock_ns() + 100000000UL); /* a restart would show by now */
    CHECK_OK(pm_status(procmgr(), "pair-b", &state, &again));
    CHECK(state == PM_STATE_RUNNING && again == restarts);
    return 0;
}

/* Spawning through procmgr: a program with a handle passed to it, listed,
 * waited for; missing programs and bad ELF files refused cleanly. */
static int test_spawn_and_list(void)
{
    mica_handle_t ep, server_end, child, x;
    CHECK_OK(mica_endpoint_create(&ep));
    CHECK_OK(mica_handle_dup(ep, MICA_RIGHT_READ | MICA_RIGHT_TRANSFER, &server_end));
    CHECK_OK(pm_spawn(procmgr(), "bin/kv", server_end, &child));
    uint64_t v;
    CHECK_OK(kv_put(ep, 5, 55)); /* the spawned kv serves the endpoint we gave it */
    CHECK_OK(kv_get(ep, 5, &v));
    CHECK(v == 55);
    uint64_t count, state;
    char name[MICA_NAME_MAX + 1];
    CHECK_OK(mica_request(procmgr(), PM_COUNT, NULL, 0, &count, 1));
    bool listed = false;
    for (unsigned i = 0; i < count; i++) {
        CHECK_OK(pm_list(procmgr(), i, name, &state));
        listed |= strcmp(name, "kv") == 0 && state == PM_STATE_RUNNING && i >= 7;
    }
    CHECK(listed);
    CHECK_STATUS(pm_list(procmgr(), (unsigned)count, name, &state), MICA_ERR_NOT_FOUND);
    CHECK_OK(mica_process_kill(child));
    int64_t code;
    uint32_t reason;
    CHECK_OK(kt_wait(child, 5000, &code, &reason));
    CHECK(reason == MICA_EXIT_KILLED);
    CHECK_OK(mica_handle_close(child));
    CHECK_OK(mica_handle_close(ep));
    /* An explicit handle list: the startup handle, then handles[]. */
    mica_handle_t list[3], keep;
    uint64_t thirty = 30, twelve = 12;
    CHECK_OK(mica_endpoint_create(&list[0]));
    CHECK_OK(mica_vmo_create(4096, &list[1]));
    CHECK_OK(mica_vmo_write(list[1], 0, &thirty, 8));
    CHECK_OK(mica_vmo_create(4096, &list[2]));
    CHECK_OK(mica_vmo_write(list[2], 0, &twelve, 8));
    CHECK_OK(mica_handle_dup(list[2], MICA_RIGHT_READ, &keep));
    CHECK_OK(pm_spawn_handles(procmgr(), "bin/ktest", "role=handles", list, 3, &child));
    CHECK_STATUS(mica_handle_close(list[1]), MICA_ERR_BAD_HANDLE); /* they moved */
    CHECK_OK(kt_wait(child, 5000, &code, &reason));
    CHECK(reason == MICA_EXIT_NORMAL && code == 42);
    CHECK_OK(mica_handle_close(child));
    CHECK_OK(mica_handle_close(keep));
    CHECK_STATUS(pm_spawn(procmgr(), "bin/no-such-program", 0, &x), MICA_ERR_NOT_FOUND);
    CHECK_STATUS(pm_spawn(procmgr(), "boot/manifest", 0, &x), MICA_ERR_INVALID_ARGS); /* not ELF */
    return 0;
}

const struct ktest ktests_procmgr[] = {
    {"user_procmgr_spawn_list", test_spawn_and_list},
    {"user_procmgr_lookup_restart", test_lookup_and_restart},
    {"user_procmgr_group_strategies", test_group_strategies},
    {"user_procmgr_kill_authority", test_kill_authority},
    {"user_procmgr_intensity", test_intensity_and_bad_requests},
    {NULL, NULL},
};
