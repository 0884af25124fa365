/* ktest: the IPC fast path (kernel/ipc_fast.c). Calls that fit in
 * registers go through it — the kernel's ipc_fast counter shows it — and
 * give the same results as the ordinary path; threads it blocked can still
 * be woken by the ordinary path: a notification to a waiting server, a
 * caller killed while it waits for its reply, a reply saved and sent
 * later (saved by the receive itself, MICA_MSG_SAVE_REPLY, and answered
 * with MICA_MSG_CLOSE_REPLY, which also closes its handle). Built with
 * -DMICA_IPC_FASTPATH=OFF, the kernel must make no fast handover at all
 * and every other result must be the same. */
#include "ktest.h"

static mica_handle_t fast_ep, fast_ntfn;
static volatile uint64_t notified_bits;
static volatile int hold_seen, hold_go, hold_status = 1, deferred_result = 1, server_done;
static volatile uint64_t deferred_value;
static volatile int release_status = 1, closed_status = 1, bad_status = 1;
static struct mica_ipc_buffer server_buffer __attribute__((aligned(4096)));

enum { STOP, PING, HOLD, DEFER, DEFER_SLOW, RELEASE };
static volatile uint64_t first_saved = 99; /* the reply saved when none was owed */

static uint64_t fast_count(void)
{
    struct mica_kernel_stats st;
    return mica_kernel_stats(&st) == MICA_OK ? st.ipc_fast : 0;
}

static void wait_flag(volatile int *flag)
{
    for (int i = 0; i < 2000 && !*flag; i++)
        mica_sleep_until(mica_clock_ns() + 1000000);
}

/* PING: reply with every word + 1 and the caller's badge; HOLD: answer
 * only when told (the caller is killed meanwhile); DEFER/RELEASE: save a
 * reply with the next receive (MICA_MSG_SAVE_REPLY; DEFER_SLOW's receive
 * has a timeout, so it takes the ordinary path), answer it on the next
 * request; bound notifications are noted. */
static void fast_server(uint64_t arg)
{
    (void)arg;
    struct mica_msg m;
    mica_handle_t saved = 0, none;
    int err = mica_recv_saving_reply(fast_ep, 0, &m, &none); /* nothing is owed yet */
    first_saved = none;
    while (!err) {
        if (m.info & MICA_MSG_NOTIFICATION) {
            notified_bits = m.w[0];
            err = mica_recv(fast_ep, 0, &m);
            continue;
        }
        switch (MICA_MSG_LABEL(m.info)) {
        case PING:
            for (int i = 0; i < 5; i++)
                m.w[i] += 1;
            m.w[5] = m.badge;
            m.info = mica_msg_info(PING, 6, 0, 0);
            err = mica_reply_recv(fast_ep, &m);
            continue;
        case HOLD:
            hold_seen = 1;
            wait_flag(&hold_go);
            hold_status = mica_reply(&(struct mica_msg){.info = 0});
            break;
        case DEFER: err = mica_recv_saving_reply(fast_ep, 0, &m, &saved); continue;
        case DEFER_SLOW:
            err = mica_recv_saving_reply(fast_ep, mica_msg_info(0, 0, 0, 30000000), &m, &saved);
            continue;
        case RELEASE:
            /* A reply that cannot be delivered (a handle for a caller with
             * no IPC buffer) fails and, even with MICA_MSG_CLOSE_REPLY,
             * keeps the reply handle to try again. */
            mica_ipc_buffer_here()->handles[0] = 0xDEAD0001;
            bad_status =
                mica_reply_to_close(saved, &(struct mica_msg){.info = mica_msg_info(0, 1, 1, 0)});
            release_status = mica_reply_to_close(
                saved, &(struct mica_msg){.info = mica_msg_info(0, 1, 0, 0), .w = {77}});
            closed_status = mica_handle_close(saved); /* already gone */
            m.info = 0;
            err = mica_reply_recv(fast_ep, &m);
            continue;
        default:
            mica_reply(&(struct mica_msg){.info = 0});
            server_done = 1;
            return;
        }
        err = mica_recv(fast_ep, 0, &m);
    }
}

static int test_fast_path(void)
{
    mica_handle_t thread, badged;
    CHECK_OK(mica_endpoint_create(&fast_ep));
    CHECK_OK(mica_handle_mint(fast_ep, MICA_RIGHT_WRITE, 0x5EED, &badged));
    CHECK_OK(kt_thread_ex(fast_server, 0, &server_buffer, &thread));
    uint64_t before = fast_count();
    for (uint64_t round = 0; round < 200; round++) {
        struct mica_msg m = {.info = mica_msg_info(PING, 6, 0, 0), .w = {round, 10, 20, 30, 40, 0}};
        CHECK_OK(mica_call(round % 2 ? badged : fast_ep, &m));
        CHECK(MICA_MSG_LABEL(m.info) == PING && MICA_MSG_WORDS(m.info) == 6);
        CHECK(m.w[0] == round + 1 && m.w[1] == 11 && m.w[4] == 41);
        CHECK(m.w[5] == (round % 2 ? 0x5EEDu : 0));
    }
    uint64_t fast = fast_count() - before;
    mica_printf("    %lu of 400 handovers took the fast path\n", fast);
#if MICA_IPC_FASTPATH
    CHECK(fast >= 390); /* all but the first call and a timer's preemption or two */
#else
    CHECK(fast == 0); /* a kernel built without it (MICA_IPC_FASTPATH=OFF) */
#endif
    /* A call with a timeout takes the ordinary path, with the same result. */
    struct mica_msg m = {.info = mica_msg_info(PING, 6, 0, 1000000), .w = {5}};
    CHECK_OK(mica_call(fast_ep, &m));
    CHECK(m.w[0] == 6 && MICA_MSG_LABEL(m.info) == PING);
    /* So does one that does not fit in registers. */
    m = (struct mica_msg){.info = mica_msg_info(PING, 7, 0, 0), .w = {1}};
    mica_ipc_buffer_here()->words[0] = 99;
    CHECK_OK(mica_call(fast_ep, &m));
    CHECK(m.w[0] == 2 && MICA_MSG_WORDS(m.info) == 6);
    CHECK_OK(mica_call(fast_ep, &(struct mica_msg){.info = mica_msg_info(STOP, 0, 0, 0)}));
    wait_flag(&server_done);
    CHECK(server_done);
    CHECK_OK(mica_handle_close(thread));
    CHECK_OK(mica_handle_close(badged));
    CHECK_OK(mica_handle_close(fast_ep));
    return 0;
}

static void held_caller(uint64_t arg)
{
    (void)arg;
    struct mica_msg m = {.info = mica_msg_info(HOLD, 0, 0, 0)};
    mica_call(fast_ep, &m); /* killed while it waits */
}

static void deferred_caller(uint64_t label)
{
    struct mica_msg m = {.info = mica_msg_info((uint32_t)label, 0, 0, 0)};
    deferred_result = mica_call(fast_ep, &m);
    deferred_value = m.w[0];
}

static int test_fast_path_wakeups(void)
{
    mica_handle_t server, caller;
    CHECK_OK(mica_endpoint_create(&fast_ep));
    CHECK_OK(mica_notification_create(&fast_ntfn));
    server_done = hold_seen = hold_go = 0;
    hold_status = deferred_result = 1;
    CHECK_OK(kt_thread_ex(fast_server, 0, &server_buffer, &server));
    CHECK_OK(mica_thread_bind_notification(server, fast_ntfn));
    struct mica_msg m = {.info = mica_msg_info(PING, 6, 0, 0)};
    for (int i = 0; i < 3; i++) /* leaves the server waiting through the fast path */
        CHECK_OK(mica_call(fast_ep, &m));
    /* A notification ends the fast-blocked server's receive. */
    CHECK_OK(mica_notify_signal(fast_ntfn, 0x40));
    for (int i = 0; i < 2000 && notified_bits != 0x40; i++)
        mica_sleep_until(mica_clock_ns() + 1000000);
    CHECK(notified_bits == 0x40);
    /* A caller killed while it waits: the server's late reply finds nobody. */
    CHECK_OK(kt_thread(held_caller, 0, &caller));
    wait_flag(&hold_seen);
    CHECK(hold_seen);
    CHECK_OK(mica_thread_kill(caller));
    hold_go = 1;
    for (int i = 0; i < 2000 && hold_status == 1; i++)
        mica_sleep_until(mica_clock_ns() + 1000000);
    CHECK_STATUS(hold_status, MICA_ERR_PEER_CLOSED);
    CHECK_OK(mica_handle_close(caller));
    CHECK(first_saved == 0); /* MICA_MSG_SAVE_REPLY with no reply owed */
    /* A reply saved and sent later reaches a caller the fast path blocked,
     * saved by a receive through the fast path and through the ordinary one. */
    for (uint64_t label = DEFER; label <= DEFER_SLOW; label++) {
        deferred_result = release_status = closed_status = bad_status = 1;
        deferred_value = 0;
        CHECK_OK(kt_thread(deferred_caller, label, &caller));
        for (int i = 0; i < 10; i++)
            mica_sleep_until(mica_clock_ns() + 1000000);
        CHECK(deferred_result == 1); /* still waiting */
        CHECK_OK(mica_call(fast_ep, &(struct mica_msg){.info = mica_msg_info(RELEASE, 0, 0, 0)}));
        for (int i = 0; i < 2000 && deferred_result == 1; i++)
            mica_sleep_until(mica_clock_ns() + 1000000);
        CHECK_OK(deferred_result);
        CHECK(deferred_value == 77);
        /* The caller has no IPC buffer to take the handle into: that
         * reply is refused, and the reply handle stays for the next try. */
        CHECK_STATUS(bad_status, MICA_ERR_BAD_STATE);
        CHECK_OK(release_status);                         /* reply_to, MICA_MSG_CLOSE_REPLY... */
        CHECK_STATUS(closed_status, MICA_ERR_BAD_HANDLE); /* ...closed the handle too */
        CHECK_OK(mica_handle_close(caller));
    }
    /* The server still works, through the fast path again. */
    m = (struct mica_msg){.info = mica_msg_info(PING, 6, 0, 0), .w = {41}};
    CHECK_OK(mica_call(fast_ep, &m));
    CHECK(m.w[0] == 42);
    CHECK_OK(mica_call(fast_ep, &(struct mica_msg){.info = mica_msg_info(STOP, 0, 0, 0)}));
    wait_flag(&server_done);
    CHECK(server_done);
    CHECK_OK(mica_handle_close(server));
    CHECK_OK(mica_handle_close(fast_ntfn));
    CHECK_OK(mica_handle_close(fast_ep));
    return 0;
}

const struct ktest ktests_ipc_fast[] = {
    {"user_ipc_fast_path", test_fast_path},
    {"user_ipc_fast_path_wakeups", test_fast_path_wakeups},
    {NULL, NULL},
};
