/*
 * ktest: scheduling across priorities. ktest's own thread runs at 128,
 * the highest it may give (no escalation), so these tests use threads
 * below it and watch the order in which they run:
 *
 *   - an IPC hand-off goes straight to the partner only if no
 *     higher-priority thread is ready: a call to a receiver at 50 while a
 *     thread at 100 is ready runs the thread at 100 first, and so does a
 *     reply to a caller at 50. Without a timeout the call and the
 *     reply-recv take the IPC fast path (kernel/ipc_fast.c, can_switch_to),
 *     with one the ordinary path (kernel/sched.c, switch_to): a test each;
 *   - a thread woken by a lower-priority one (a notification, a message, a
 *     timer) runs at once, before the waker's next instruction;
 *   - a server whose bound notification was signalled while it worked
 *     gets the notification from its next reply-recv or recv, before any
 *     new message, at two server priorities.
 *
 * Each was written against a mutation of the scheduler that the rest of
 * the suite, whose threads all run at 128, did not notice.
 */
#include "ktest.h"

#define LOW 50
#define MID 100
#define TIMEOUT_US 2000000 /* a timeout long enough never to expire: the ordinary path */

static mica_handle_t sched_ep;
static volatile char order[8];
static volatile unsigned n_order, low_ready;

static void note(char who)
{
    if (n_order < sizeof(order) - 1)
        order[n_order++] = who;
}

static void sleep_ms(uint64_t ms)
{
    mica_sleep_until(mica_clock_ns() + ms * 1000000UL);
}

/* Sleep until *flag is set (at most 2 s), then once more, so that the
 * thread that set it has gone on to block. */
static void wait_for(volatile unsigned *flag)
{
    for (int i = 0; i < 2000 && !*flag; i++)
        sleep_ms(1);
    sleep_ms(2);
}

static void mid_thread(uint64_t arg)
{
    (void)arg;
    note('M');
}

/* The receiver at LOW: take one call, note it, answer. */
static void low_receiver(uint64_t arg)
{
    (void)arg;
    struct mica_msg m;
    low_ready = 1;
    if (mica_recv(sched_ep, 0, &m) == MICA_OK) {
        note('R');
        mica_reply(&(struct mica_msg){.info = 0});
    }
}

/* The caller at LOW: call, note the reply, tell the server it is done. */
static void low_caller(uint64_t arg)
{
    (void)arg;
    struct mica_msg m = {.info = mica_msg_info(1, 0, 0, 0)};
    low_ready = 1;
    if (mica_call(sched_ep, &m) == MICA_OK)
        note('C');
    m.info = mica_msg_info(2, 0, 0, 0);
    mica_call(sched_ep, &m);
}

/* One hand-off with a thread at MID ready: the partner at LOW must run
 * after it. `reply`: we are the server replying to a caller at LOW, else
 * the caller of a receiver at LOW. `flags`: the info word's timeout. */
static int handoff_order(bool reply, uint64_t flags)
{
    mica_handle_t low, mid;
    n_order = low_ready = 0;
    CHECK_OK(mica_endpoint_create(&sched_ep));
    CHECK_OK(kt_thread_prio(reply ? low_caller : low_receiver, 0, NULL, LOW, &low));
    struct mica_msg m;
    if (reply) {
        CHECK_OK(mica_recv(sched_ep, 0, &m)); /* the caller at LOW runs and calls */
        CHECK(MICA_MSG_LABEL(m.info) == 1);
        CHECK_OK(kt_thread_prio(mid_thread, 0, NULL, MID, &mid)); /* ready, not running */
        m = (struct mica_msg){.info = flags};
        CHECK_OK(mica_reply_recv(sched_ep, &m)); /* and then its "done" call */
        CHECK(MICA_MSG_LABEL(m.info) == 2);
        CHECK_OK(mica_reply(&(struct mica_msg){.info = 0}));
    } else {
        wait_for(&low_ready); /* the receiver at LOW waits */
        CHECK_OK(kt_thread_prio(mid_thread, 0, NULL, MID, &mid));
        m = (struct mica_msg){.info = mica_msg_info(1, 0, 0, 0) | flags};
        CHECK_OK(mica_call(sched_ep, &m));
    }
    for (int i = 0; i < 2000 && n_order < 2; i++)
        sleep_ms(1);
    order[n_order] = 0;
    mica_printf("    %s%s: ran %s (want M first)\n", reply ? "reply-recv" : "call",
                flags ? " with a timeout" : "", (const char *)order);
    CHECK(n_order == 2 && order[0] == 'M' && order[1] == (reply ? 'C' : 'R'));
    CHECK_OK(mica_handle_close(low));
    CHECK_OK(mica_handle_close(mid));
    CHECK_OK(mica_handle_close(sched_ep));
    return 0;
}

/* The IPC fast path (call, reply-recv) leaves a ready higher-priority
 * thread waiting for the partner only if it looks at priorities. */
static int test_fast_handoff_priority(void)
{
    int call = handoff_order(false, 0), reply = handoff_order(true, 0);
    CHECK(call == 0 && reply == 0);
    return 0;
}

/* The same through the ordinary path's hand-off (a timeout keeps the
 * fast path out). */
static int test_slow_handoff_priority(void)
{
    uint64_t timeout = mica_msg_info(0, 0, 0, TIMEOUT_US);
    int call = handoff_order(false, timeout), reply = handoff_order(true, timeout);
    CHECK(call == 0 && reply == 0);
    return 0;
}

static mica_handle_t wake_ntfn;
static volatile unsigned woken, waker_done;
static volatile unsigned seen[3];

/* At MID: woken three ways in turn, noting each at once. */
static void woken_thread(uint64_t arg)
{
    (void)arg;
    uint64_t bits;
    struct mica_msg m;
    low_ready = 1;
    if (mica_notify_wait(wake_ntfn, MICA_DEADLINE_INFINITE, &bits) != MICA_OK)
        return;
    woken = 1;
    if (mica_recv(sched_ep, 0, &m) != MICA_OK)
        return;
    woken = 2;
    sleep_ms(5);
    woken = 3;
}

/* At LOW: wake the thread at MID and look, straight after, whether it ran. */
static void waker(uint64_t arg)
{
    (void)arg;
    mica_notify_signal(wake_ntfn, 1);
    seen[0] = woken;
    mica_send(sched_ep, &(struct mica_msg){.info = 0});
    seen[1] = woken;
    /* Its timer fires while we spin (making system calls, as a slice
     * would not end: nothing else runs at LOW). */
    uint64_t until = mica_clock_ns() + 200000000UL;
    while (woken < 3 && mica_clock_ns() < until)
        ;
    seen[2] = woken;
    waker_done = 1;
}

/* A thread woken by a lower-priority thread's signal, message or a timer
 * preempts it. */
static int test_wake_preempts(void)
{
    mica_handle_t high, low;
    low_ready = woken = waker_done = 0;
    seen[0] = seen[1] = seen[2] = 0;
    CHECK_OK(mica_endpoint_create(&sched_ep));
    CHECK_OK(mica_notification_create(&wake_ntfn));
    CHECK_OK(kt_thread_prio(woken_thread, 0, NULL, MID, &high));
    wait_for(&low_ready);
    CHECK_OK(kt_thread_prio(waker, 0, NULL, LOW, &low));
    for (int i = 0; i < 2000 && !waker_done; i++)
        sleep_ms(1);
    mica_printf("    woken thread seen by its waker: %u %u %u (want 1 2 3)\n", seen[0], seen[1],
                seen[2]);
    CHECK(waker_done);
    CHECK(seen[0] == 1); /* the notification's waiter ran before notify_signal returned */
    CHECK(seen[1] == 2); /* the receiver ran before send returned */
    CHECK(seen[2] == 3); /* the sleeper ran when its timer fired */
    CHECK_OK(mica_handle_close(high));
    CHECK_OK(mica_handle_close(low));
    CHECK_OK(mica_handle_close(wake_ntfn));
    CHECK_OK(mica_handle_close(sched_ep));
    return 0;
}

enum { PING = 1, SIGNAL_REPLY_RECV, REPLY_SIGNAL_RECV, QUERY, STOP };
static mica_handle_t bound_ntfn;
static volatile unsigned server_stopped;

/* A server with a bound notification that signals it to itself while it
 * works, then reply-recvs (or replies and recvs): the notification must
 * come first. QUERY answers with the bits it got since the last QUERY and
 * how many notifications brought them. */
static void bound_server(uint64_t arg)
{
    (void)arg;
    struct mica_msg m;
    uint64_t bits = 0, count = 0;
    int err = mica_recv(sched_ep, 0, &m);
    while (!err) {
        if (m.info & MICA_MSG_NOTIFICATION) {
            bits |= m.w[0];
            count++;
            err = mica_recv(sched_ep, 0, &m);
            continue;
        }
        switch (MICA_MSG_LABEL(m.info)) {
        case SIGNAL_REPLY_RECV:
            mica_notify_signal(bound_ntfn, 0x8); /* we are not receiving: it waits */
            m.info = 0;
            err = mica_reply_recv(sched_ep, &m);
            continue;
        case REPLY_SIGNAL_RECV:
            mica_reply(&(struct mica_msg){.info = 0});
            mica_notify_signal(bound_ntfn, 0x10);
            err = mica_recv(sched_ep, 0, &m);
            continue;
        case QUERY:
            m = (struct mica_msg){.info = mica_msg_info(QUERY, 2, 0, 0), .w = {bits, count}};
            bits = count = 0;
            err = mica_reply_recv(sched_ep, &m);
            continue;
        case STOP:
            mica_reply(&(struct mica_msg){.info = 0});
            server_stopped = 1;
            return;
        default: m.info = 0; err = mica_reply_recv(sched_ep, &m);
        }
    }
}

static int query(uint64_t *bits, uint64_t *count)
{
    struct mica_msg m = {.info = mica_msg_info(QUERY, 0, 0, 0)};
    int err = mica_call(sched_ep, &m);
    *bits = m.w[0];
    *count = m.w[1];
    return err;
}

static int bound_notification_first(unsigned priority)
{
    mica_handle_t server;
    uint64_t bits, count;
    server_stopped = 0;
    CHECK_OK(mica_endpoint_create(&sched_ep));
    CHECK_OK(mica_notification_create(&bound_ntfn));
    CHECK_OK(kt_thread_prio(bound_server, 0, NULL, priority, &server));
    CHECK_OK(mica_thread_bind_notification(server, bound_ntfn));
    for (int i = 0; i < 3; i++) /* the server now waits through the fast path */
        CHECK_OK(mica_call(sched_ep, &(struct mica_msg){.info = mica_msg_info(PING, 0, 0, 0)}));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(mica_call(sched_ep,
                           &(struct mica_msg){.info = mica_msg_info(SIGNAL_REPLY_RECV, 0, 0, 0)}));
        CHECK_OK(query(&bits, &count));
        if (i == 0 || bits != 0x8 || count != 1)
            mica_printf("    server at %u, signalled before reply-recv: bits 0x%lx in %lu (want "
                        "0x8 in 1)\n",
                        priority, bits, count);
        CHECK(bits == 0x8 && count == 1);
        CHECK_OK(mica_call(sched_ep,
                           &(struct mica_msg){.info = mica_msg_info(REPLY_SIGNAL_RECV, 0, 0, 0)}));
        CHECK_OK(query(&bits, &count));
        CHECK(bits == 0x10 && count == 1);
    }
    CHECK_OK(mica_call(sched_ep, &(struct mica_msg){.info = mica_msg_info(STOP, 0, 0, 0)}));
    for (int i = 0; i < 2000 && !server_stopped; i++)
        sleep_ms(1);
    CHECK(server_stopped);
    CHECK_OK(mica_handle_close(server));
    CHECK_OK(mica_handle_close(bound_ntfn));
    CHECK_OK(mica_handle_close(sched_ep));
    return 0;
}

/* Notification bits that wait for a server are delivered by its next
 * reply-recv or recv, before the next message. */
static int test_reply_recv_pending_notification(void)
{
    int same = bound_notification_first(128), low = bound_notification_first(LOW);
    CHECK(same == 0 && low == 0);
    return 0;
}

const struct ktest ktests_sched[] = {
    {"user_sched_fast_handoff_priority", test_fast_handoff_priority},
    {"user_sched_slow_handoff_priority", test_slow_handoff_priority},
    {"user_sched_wake_preempts", test_wake_preempts},
    {"user_sched_reply_recv_pending_notification", test_reply_recv_pending_notification},
    {NULL, NULL},
};
