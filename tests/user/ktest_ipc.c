/* ktest: IPC and notifications — call/reply, badges, long messages with
 * handle transfer, deadlines, dead partners, bound notifications, and bad
 * arguments. Servers run as extra threads of this process or as children. */
#include "ktest.h"
#include <string.h>

#define STACK_SIZE (16 * 1024)

static void thread_entry(void (*fn)(uint64_t), uint64_t arg)
{
    fn(arg);
    mica_thread_exit();
}

/* Start fn(arg) in a new thread of this process, with its own stack and,
 * if given, an IPC buffer registered before it runs. */
int kt_thread_ex(void (*fn)(uint64_t), uint64_t arg, struct mica_ipc_buffer *buf,
                 mica_handle_t *thread)
{
    return kt_thread_prio(fn, arg, buf, 128, thread);
}

int kt_thread_prio(void (*fn)(uint64_t), uint64_t arg, struct mica_ipc_buffer *buf,
                   unsigned priority, mica_handle_t *thread)
{
    mica_handle_t vmo;
    uintptr_t stack;
    int err = mica_vmo_create(STACK_SIZE, &vmo);
    if (err)
        return err;
    err = mica_aspace_map(kt_bootinfo()->self_aspace, vmo, 0, STACK_SIZE, 0,
                          MICA_MAP_READ | MICA_MAP_WRITE, &stack);
    mica_handle_close(vmo);
    if (!err)
        err = mica_thread_create(kt_bootinfo()->self_process, priority, thread);
    if (!err && buf)
        err = mica_thread_set_ipc_buffer(*thread, buf);
    if (!err)
        err = mica_thread_start(*thread, (uintptr_t)thread_entry, stack + STACK_SIZE, (uintptr_t)fn,
                                arg);
    return err;
}

int kt_thread(void (*fn)(uint64_t), uint64_t arg, mica_handle_t *thread)
{
    return kt_thread_ex(fn, arg, NULL, thread);
}

static mica_handle_t server_ep;

/* Echo server: replies with label+1 and every word+1; label 0 ends it. */
static void echo_server(uint64_t limit)
{
    struct mica_msg m;
    if (mica_recv(server_ep, 0, &m) != MICA_OK)
        return;
    for (uint64_t served = 0; served < limit; served++) {
        uint32_t label = MICA_MSG_LABEL(m.info);
        if (label == 0) {
            mica_reply(&(struct mica_msg){.info = 0});
            return;
        }
        for (int i = 0; i < 6; i++)
            m.w[i] += 1;
        m.w[5] = m.badge;
        m.info = mica_msg_info(label + 1, 6, 0, 0);
        if (mica_reply_recv(server_ep, &m) != MICA_OK)
            return;
    }
}

static int test_call_reply(void)
{
    mica_handle_t thread, badged;
    CHECK_OK(mica_endpoint_create(&server_ep));
    CHECK_OK(
        mica_handle_mint(server_ep, MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE, 0xBADC0DE, &badged));
    CHECK_OK(kt_thread(echo_server, 1000, &thread));
    for (int round = 0; round < 50; round++) {
        struct mica_msg m = {.info = mica_msg_info(7, 6, 0, 0), .w = {1, 2, 3, 4, 5, 6}};
        m.w[0] = (uint64_t)round;
        CHECK_OK(mica_call(round % 2 ? badged : server_ep, &m));
        CHECK(MICA_MSG_LABEL(m.info) == 8 && MICA_MSG_WORDS(m.info) == 6);
        CHECK(m.w[0] == (uint64_t)round + 1 && m.w[1] == 3 && m.w[4] == 6);
        CHECK(m.w[5] == (round % 2 ? 0xBADC0DEu : 0)); /* the server saw our badge */
    }
    /* Minting: a badged handle keeps its badge; badge 0 is not a badge. */
    mica_handle_t again;
    CHECK_STATUS(mica_handle_mint(badged, MICA_RIGHT_WRITE, 5, &again), MICA_ERR_BAD_STATE);
    CHECK_STATUS(mica_handle_mint(server_ep, MICA_RIGHT_WRITE, 0, &again), MICA_ERR_INVALID_ARGS);
    mica_handle_t vmo;
    CHECK_OK(mica_vmo_create(4096, &vmo));
    CHECK_STATUS(mica_handle_mint(vmo, MICA_RIGHT_READ, 5, &again), MICA_ERR_WRONG_TYPE);
    CHECK_OK(mica_handle_close(vmo));
    struct mica_msg stop = {.info = 0};
    CHECK_OK(mica_call(server_ep, &stop));
    CHECK_OK(mica_handle_close(badged));
    CHECK_OK(mica_handle_close(thread));
    CHECK_OK(mica_handle_close(server_ep));
    return 0;
}

static struct mica_ipc_buffer client_buf __attribute__((aligned(4096)));
static struct mica_ipc_buffer server_buf __attribute__((aligned(4096)));

/* Receives one long message with handles; replies with the sum of its words
 * and, in w[1..4], the type and rights of each handle it got. */
static void long_server(uint64_t arg)
{
    (void)arg;
    struct mica_msg m;
    if (mica_recv(server_ep, 0, &m) != MICA_OK)
        return;
    uint64_t sum = 0;
    for (int i = 0; i < 6; i++)
        sum += m.w[i];
    for (unsigned i = 0; i + 6 < MICA_MSG_WORDS(m.info); i++)
        sum += server_buf.words[i];
    struct mica_msg r = {.info = mica_msg_info(1, 6, 0, 0)};
    r.w[0] = sum;
    for (unsigned i = 0; i < MICA_MSG_HANDLES(m.info); i++) {
        uint32_t type, rights;
        mica_handle_info(server_buf.handles[i], &type, &rights, NULL);
        r.w[1 + i] = ((uint64_t)type << 32) | rights;
    }
    r.w[5] = m.info;
    mica_reply(&r);
}

static int test_long_message_and_handles(void)
{
    mica_handle_t thread, self = kt_bootinfo()->self_thread;
    CHECK_OK(mica_endpoint_create(&server_ep));
    CHECK_OK(mica_thread_set_ipc_buffer(self, &client_buf));
    CHECK_OK(kt_thread_ex(long_server, 0, &server_buf, &thread));
    mica_handle_t vmo_a, vmo_b, ro_b;
    CHECK_OK(mica_vmo_create(4096, &vmo_a));
    CHECK_OK(mica_vmo_create(4096, &vmo_b));
    CHECK_OK(mica_handle_dup(vmo_b, MICA_RIGHT_READ | MICA_RIGHT_TRANSFER, &ro_b));
    uint64_t expect = 0;
    struct mica_msg m = {.info = mica_msg_info(3, MICA_MSG_MAX_WORDS, 2, 0)};
    for (int i = 0; i < 6; i++)
        expect += m.w[i] = 1000 + (uint64_t)i;
    for (int i = 0; i < MICA_MSG_BUF_WORDS; i++)
        expect += client_buf.words[i] = (uint64_t)i * 3 + 1;
    client_buf.handles[0] = vmo_a;
    client_buf.handles[1] = ro_b;
    CHECK_OK(mica_call(server_ep, &m));
    CHECK(m.w[0] == expect);
    CHECK(m.w[1] >> 32 == MICA_OBJ_VMO &&
          (uint32_t)m.w[1] == (MICA_RIGHT_READ | MICA_RIGHT_WRITE | MICA_RIGHT_MAP |
                               MICA_RIGHT_EXEC | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER));
    CHECK(m.w[2] >> 32 == MICA_OBJ_VMO &&
          (uint32_t)m.w[2] == (MICA_RIGHT_READ | MICA_RIGHT_TRANSFER));
    CHECK(MICA_MSG_WORDS(m.w[5]) == MICA_MSG_MAX_WORDS && MICA_MSG_HANDLES(m.w[5]) == 2);
    /* Within one process a moved handle keeps its value (it moved to the
     * same table); moves between processes are tested with handle_give. */
    uint64_t size;
    CHECK(server_buf.handles[0] == vmo_a && server_buf.handles[1] == ro_b);
    CHECK_OK(mica_handle_close(vmo_a));
    CHECK_OK(mica_handle_close(ro_b));
    CHECK_OK(mica_vmo_get_size(vmo_b, &size));
    /* Malformed messages are refused before anything waits. */
    m.info = mica_msg_info(3, MICA_MSG_MAX_WORDS + 1, 0, 0);
    CHECK_STATUS(mica_call(server_ep, &m), MICA_ERR_INVALID_ARGS);
    m.info = mica_msg_info(3, 0, 5, 0);
    CHECK_STATUS(mica_call(server_ep, &m), MICA_ERR_INVALID_ARGS);
    /* A handle without TRANSFER cannot travel (no receiver needed to tell). */
    mica_handle_t notransfer;
    CHECK_OK(mica_handle_dup(vmo_b, MICA_RIGHT_READ, &notransfer));
    CHECK_OK(kt_thread_ex(long_server, 0, &server_buf, &thread));
    client_buf.handles[0] = notransfer;
    m.info = mica_msg_info(3, 6, 1, 100000);
    CHECK_STATUS(mica_call(server_ep, &m), MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_vmo_get_size(notransfer, &size)); /* still ours */
    /* Without a buffer, long messages and handles are refused. */
    CHECK_OK(mica_thread_set_ipc_buffer(self, NULL));
    m.info = mica_msg_info(3, 7, 0, 0);
    CHECK_STATUS(mica_call(server_ep, &m), MICA_ERR_INVALID_ARGS);
    m.info = mica_msg_info(0, 0, 0, 0); /* stop the second server */
    CHECK_OK(mica_call(server_ep, &m));
    CHECK_OK(mica_handle_close(notransfer));
    CHECK_OK(mica_handle_close(vmo_b));
    CHECK_OK(mica_handle_close(server_ep));
    return 0;
}

static volatile int silent_result = 1;

/* Receives one call and answers only after 50 ms. */
static void slow_server(uint64_t arg)
{
    (void)arg;
    struct mica_msg m;
    if (mica_recv(server_ep, 0, &m) != MICA_OK)
        return;
    mica_sleep_until(mica_clock_ns() + 50000000UL);
    silent_result = mica_reply(&(struct mica_msg){.info = 0});
}

static void exit_without_reply(uint64_t arg)
{
    (void)arg;
    struct mica_msg m;
    mica_recv(server_ep, 0, &m);
}

static volatile int recv_result = 1;

static void blocked_receiver(uint64_t arg)
{
    (void)arg;
    struct mica_msg m;
    recv_result = mica_recv(server_ep, 0, &m);
}

static int wait_for(volatile int *flag, int not_value)
{
    for (int i = 0; i < 2000 && *flag == not_value; i++)
        mica_sleep_until(mica_clock_ns() + 1000000);
    return *flag != not_value;
}

static int test_deadlines_and_dead_partners(void)
{
    mica_handle_t thread;
    struct mica_msg m;
    CHECK_OK(mica_endpoint_create(&server_ep));
    uint64_t t0 = mica_clock_ns();
    CHECK_STATUS(mica_recv(server_ep, mica_msg_info(0, 0, 0, 10000), &m), MICA_ERR_TIMED_OUT);
    CHECK(mica_clock_ns() - t0 >= 10000000UL);
    CHECK_STATUS(mica_recv(server_ep, MICA_MSG_POLL, &m), MICA_ERR_TIMED_OUT);
    m.info = mica_msg_info(1, 0, 0, 0) | MICA_MSG_POLL;
    CHECK_STATUS(mica_call(server_ep, &m), MICA_ERR_TIMED_OUT); /* nobody receiving */
    /* The call's timeout covers the wait for the reply too. */
    CHECK_OK(kt_thread(slow_server, 0, &thread));
    CHECK_OK(mica_handle_close(thread));
    m.info = mica_msg_info(1, 0, 0, 20000);
    CHECK_STATUS(mica_call(server_ep, &m), MICA_ERR_TIMED_OUT);
    CHECK(wait_for(&silent_result, 1));
    CHECK_STATUS(silent_result, MICA_ERR_PEER_CLOSED); /* replying to a caller who left */
    /* A server that exits owing a reply wakes its caller. */
    CHECK_OK(kt_thread(exit_without_reply, 0, &thread));
    CHECK_OK(mica_handle_close(thread));
    m.info = mica_msg_info(1, 0, 0, 0);
    CHECK_STATUS(mica_call(server_ep, &m), MICA_ERR_PEER_CLOSED);
    /* Closing the last handle to an endpoint wakes whoever waits on it. */
    CHECK_OK(kt_thread(blocked_receiver, 0, &thread));
    CHECK_OK(mica_handle_close(thread));
    CHECK_OK(mica_sleep_until(mica_clock_ns() + 5000000));
    CHECK_OK(mica_handle_close(server_ep));
    CHECK(wait_for(&recv_result, 1));
    CHECK_STATUS(recv_result, MICA_ERR_PEER_CLOSED);
    CHECK_STATUS(mica_reply(&m), MICA_ERR_BAD_STATE); /* we owe nobody a reply */
    return 0;
}

static mica_handle_t lone_ep; /* send side only */
static volatile int lone_result = 1;

static void lone_caller(uint64_t arg)
{
    (void)arg;
    struct mica_msg m = {.info = mica_msg_info(1, 0, 0, 5000000)}; /* 5 s */
    lone_result = mica_call(lone_ep, &m);
}

/* An endpoint nobody can receive on any more (its last handle with
 * MICA_RIGHT_READ closed, as when procmgr gives a service up) answers its
 * waiting and future callers with PEER_CLOSED at once, though send-side
 * handles keep it alive; another receive handle keeps it served. */
static int test_receive_side_closed(void)
{
    mica_handle_t ep, second_reader, minted, thread;
    struct mica_kernel_stats before, after;
    struct mica_msg m;
    CHECK_OK(kt_stats(&before));
    CHECK_OK(mica_endpoint_create(&ep));
    CHECK_OK(mica_handle_dup(ep, MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE, &lone_ep));
    CHECK_OK(mica_handle_dup(ep, MICA_RIGHT_READ, &second_reader));
    lone_result = 1;
    CHECK_OK(kt_thread(lone_caller, 0, &thread));
    CHECK_OK(mica_sleep_until(mica_clock_ns() + 5000000));
    CHECK_OK(mica_handle_close(ep)); /* one receive handle is left: it waits on */
    CHECK_OK(mica_sleep_until(mica_clock_ns() + 20000000));
    CHECK(lone_result == 1);
    uint64_t t0 = mica_clock_ns();
    CHECK_OK(mica_handle_close(second_reader));
    CHECK(wait_for(&lone_result, 1));
    CHECK_STATUS(lone_result, MICA_ERR_PEER_CLOSED);
    CHECK(mica_clock_ns() - t0 < 1000000000UL); /* woken, not timed out */
    m.info = mica_msg_info(1, 0, 0, 200000);
    CHECK_STATUS(mica_call(lone_ep, &m), MICA_ERR_PEER_CLOSED);
    m.info = mica_msg_info(1, 0, 0, 0) | MICA_MSG_POLL;
    CHECK_STATUS(mica_call(lone_ep, &m), MICA_ERR_PEER_CLOSED);
    m.info = mica_msg_info(1, 0, 0, 200000);
    CHECK_STATUS(mica_send(lone_ep, &m), MICA_ERR_PEER_CLOSED);
    CHECK_OK(mica_handle_mint(lone_ep, MICA_RIGHT_WRITE, 9, &minted));
    m.info = mica_msg_info(1, 0, 0, 200000);
    CHECK_STATUS(mica_call(minted, &m), MICA_ERR_PEER_CLOSED);
    CHECK_OK(mica_handle_close(minted));
    CHECK_OK(mica_handle_close(lone_ep));
    CHECK_OK(mica_handle_close(thread));
    CHECK_OK(kt_stats(&after)); /* the endpoint went with its last handle */
    CHECK(after.objects[MICA_OBJ_ENDPOINT] == before.objects[MICA_OBJ_ENDPOINT]);
    return 0;
}

static mica_handle_t shared_ntfn;

static void signal_later(uint64_t bits)
{
    mica_sleep_until(mica_clock_ns() + 3000000);
    mica_notify_signal(shared_ntfn, bits);
}

static int test_notifications(void)
{
    mica_handle_t n, wait_only, thread, ep, self = kt_bootinfo()->self_thread;
    uint64_t bits;
    CHECK_OK(mica_notification_create(&n));
    CHECK_OK(mica_notify_signal(n, 0x5));
    CHECK_OK(mica_notify_signal(n, 0x10));
    CHECK_OK(mica_notify_wait(n, MICA_DEADLINE_INFINITE, &bits));
    CHECK(bits == 0x15);
    CHECK_STATUS(mica_notify_wait(n, mica_clock_ns() + 5000000, &bits), MICA_ERR_TIMED_OUT);
    CHECK_STATUS(mica_notify_wait(n, MICA_DEADLINE_NONE, &bits), MICA_ERR_TIMED_OUT);
    shared_ntfn = n;
    CHECK_OK(kt_thread(signal_later, 0x80, &thread));
    CHECK_OK(mica_handle_close(thread));
    CHECK_OK(mica_notify_wait(n, MICA_DEADLINE_INFINITE, &bits));
    CHECK(bits == 0x80);
    CHECK_OK(mica_handle_dup(n, MICA_RIGHT_WAIT, &wait_only));
    CHECK_STATUS(mica_notify_signal(wait_only, 1), MICA_ERR_ACCESS_DENIED);
    /* Bound to this thread, signals end an endpoint receive. */
    CHECK_OK(mica_endpoint_create(&ep));
    CHECK_OK(mica_thread_bind_notification(self, n));
    struct mica_msg m;
    CHECK_OK(kt_thread(signal_later, 0x300, &thread));
    CHECK_OK(mica_handle_close(thread));
    CHECK_OK(mica_recv(ep, 0, &m));
    CHECK((m.info & MICA_MSG_NOTIFICATION) && m.w[0] == 0x300);
    CHECK_OK(mica_notify_signal(n, 0x2)); /* pending before the receive */
    CHECK_OK(mica_recv(ep, MICA_MSG_POLL, &m));
    CHECK((m.info & MICA_MSG_NOTIFICATION) && m.w[0] == 0x2);
    /* One bound thread per notification. */
    CHECK_OK(mica_thread_create(kt_bootinfo()->self_process, 10, &thread));
    CHECK_STATUS(mica_thread_bind_notification(thread, n), MICA_ERR_BAD_STATE);
    CHECK_OK(mica_thread_bind_notification(self, 0));
    CHECK_OK(mica_thread_bind_notification(thread, n));
    CHECK_OK(mica_thread_bind_notification(thread, 0));
    CHECK_OK(mica_handle_close(thread));
    CHECK_OK(mica_handle_close(wait_only));
    CHECK_OK(mica_handle_close(ep));
    CHECK_OK(mica_handle_close(n));
    return 0;
}

static int test_ipc_bad_args(void)
{
    mica_handle_t ep, ro, wo, vmo, self = kt_bootinfo()->self_thread;
    struct mica_msg m = {.info = mica_msg_info(1, 0, 0, 1000)};
    CHECK_OK(mica_endpoint_create(&ep));
    CHECK_OK(mica_handle_dup(ep, MICA_RIGHT_READ, &ro));
    CHECK_OK(mica_handle_dup(ep, MICA_RIGHT_WRITE, &wo));
    CHECK_OK(mica_vmo_create(4096, &vmo));
    CHECK_STATUS(mica_call(ro, &m), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_send(ro, &m), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_recv(wo, 0, &m), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_call(vmo, &m), MICA_ERR_WRONG_TYPE);
    CHECK_STATUS(mica_call(0, &m), MICA_ERR_BAD_HANDLE);
    m.info = mica_msg_info(1, 0, 1, 1000);
    CHECK_STATUS(mica_send(ep, &m), MICA_ERR_INVALID_ARGS); /* handles but no buffer */
    CHECK_STATUS(mica_thread_set_ipc_buffer(self, (void *)(MICA_BOOTINFO_VA + 8)),
                 MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_thread_set_ipc_buffer(self, (void *)0x7000000000UL), MICA_ERR_NOT_FOUND);
    CHECK_STATUS(mica_thread_set_ipc_buffer(self, (void *)MICA_BOOTINFO_VA),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_thread_set_ipc_buffer(self, (void *)0xFFFF000000000000UL),
                 MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_thread_set_ipc_buffer(vmo, &client_buf), MICA_ERR_WRONG_TYPE);
    CHECK_OK(mica_handle_close(vmo));
    CHECK_OK(mica_handle_close(ro));
    CHECK_OK(mica_handle_close(wo));
    CHECK_OK(mica_handle_close(ep));
    return 0;
}

static volatile int deferred_done;

/* Takes two calls before answering either, then answers in reverse order
 * through saved replies; a third call's reply is dropped unanswered. */
static void deferring_server(uint64_t arg)
{
    (void)arg;
    struct mica_msg m;
    mica_handle_t first, second, third;
    if (mica_recv(server_ep, 0, &m) || mica_reply_save(&first))
        return;
    uint64_t a = m.w[0];
    if (mica_recv(server_ep, 0, &m) || mica_reply_save(&second))
        return;
    uint64_t b = m.w[0];
    struct mica_msg r = {.info = mica_msg_info(0, 1, 0, 0)};
    r.w[0] = b * 10;
    mica_reply_to(second, &r);
    r.w[0] = a * 10;
    mica_reply_to(first, &r);
    deferred_done = mica_reply_to(first, &r); /* one shot: a second use fails */
    mica_handle_close(first);
    mica_handle_close(second);
    if (mica_recv(server_ep, 0, &m) || mica_reply_save(&third))
        return;
    mica_handle_close(third); /* never answered */
}

static volatile int caller_result = 1;
static volatile uint64_t caller_value;

static void second_caller(uint64_t value)
{
    struct mica_msg m = {.info = mica_msg_info(1, 1, 0, 0), .w = {value}};
    caller_result = mica_call(server_ep, &m);
    caller_value = m.w[0];
}

static int test_saved_replies(void)
{
    mica_handle_t server, other;
    deferred_done = 0;
    caller_result = 1;
    CHECK_OK(mica_endpoint_create(&server_ep));
    CHECK_OK(kt_thread(deferring_server, 0, &server));
    CHECK_OK(kt_thread(second_caller, 7, &other)); /* calls first */
    CHECK_OK(mica_sleep_until(mica_clock_ns() + 5000000));
    struct mica_msg m = {.info = mica_msg_info(1, 1, 0, 0), .w = {3}};
    CHECK_OK(mica_call(server_ep, &m)); /* answered before the first caller */
    CHECK(m.w[0] == 30);
    for (int i = 0; i < 100 && caller_result == 1; i++)
        mica_sleep_until(mica_clock_ns() + 1000000);
    CHECK_OK(caller_result);
    CHECK(caller_value == 70);
    CHECK_STATUS(deferred_done, MICA_ERR_BAD_STATE);
    m.info = mica_msg_info(1, 1, 0, 0);
    CHECK_STATUS(mica_call(server_ep, &m), MICA_ERR_PEER_CLOSED); /* dropped reply */
    mica_handle_t r;
    CHECK_STATUS(mica_reply_save(&r), MICA_ERR_BAD_STATE); /* nothing owed */
    CHECK_STATUS(mica_reply_to(server_ep, &m), MICA_ERR_WRONG_TYPE);
    CHECK_OK(mica_handle_close(server));
    CHECK_OK(mica_handle_close(other));
    CHECK_OK(mica_handle_close(server_ep));
    return 0;
}

const struct ktest ktests_ipc[] = {
    {"user_ipc_saved_replies", test_saved_replies},
    {"user_ipc_call_reply_badge", test_call_reply},
    {"user_ipc_long_and_handles", test_long_message_and_handles},
    {"user_ipc_deadlines_dead_partners", test_deadlines_and_dead_partners},
    {"user_ipc_receive_side_closed", test_receive_side_closed},
    {"user_notifications", test_notifications},
    {"user_ipc_bad_args", test_ipc_bad_args},
    {NULL, NULL},
};
