/* ktest: regressions from the kernel review — each of these once crashed,
 * corrupted or exhausted the kernel from EL0. */
#include "ktest.h"

static mica_handle_t hostile_ep;
static volatile int sender_result = 1;
static struct mica_ipc_buffer sender_buf __attribute__((aligned(4096)));

static void long_sender(uint64_t arg)
{
    (void)arg;
    struct mica_msg m = {.info = mica_msg_info(1, 20, 0, 0)};
    sender_result = mica_send(hostile_ep, &m);
}

/* A queued sender whose IPC buffer is removed before delivery. */
static int test_buffer_removed_while_queued(void)
{
    mica_handle_t thread;
    struct mica_msg m;
    sender_result = 1;
    CHECK_OK(mica_endpoint_create(&hostile_ep));
    CHECK_OK(kt_thread_ex(long_sender, 0, &sender_buf, &thread));
    CHECK_OK(mica_sleep_until(mica_clock_ns() + 5000000)); /* it is queued now */
    CHECK_OK(mica_thread_set_ipc_buffer(thread, NULL));
    CHECK_STATUS(mica_recv(hostile_ep, mica_msg_info(0, 0, 0, 20000), &m), MICA_ERR_TIMED_OUT);
    for (int i = 0; i < 100 && sender_result == 1; i++)
        mica_sleep_until(mica_clock_ns() + 1000000);
    CHECK_STATUS(sender_result, MICA_ERR_INVALID_ARGS);
    CHECK_OK(mica_handle_close(thread));
    CHECK_OK(mica_handle_close(hostile_ep));
    return 0;
}

/* Long copy-on-write chains are refused; the ones allowed still work. */
static int test_cow_depth(void)
{
    mica_handle_t chain[12];
    uint64_t v = 0x77, got = 0;
    CHECK_OK(mica_vmo_create(4096, &chain[0]));
    CHECK_OK(mica_vmo_write(chain[0], 0, &v, 8));
    int i = 1, err = MICA_OK;
    for (; i < 12 && (err = mica_vmo_create_child(chain[i - 1], 0, 4096, &chain[i])) == MICA_OK;
         i++)
        ;
    CHECK_STATUS(err, MICA_ERR_LIMIT);
    CHECK(i == 9); /* eight levels below the original */
    CHECK_OK(mica_vmo_read(chain[i - 1], 0, &got, 8));
    CHECK(got == 0x77);
    while (--i >= 0)
        CHECK_OK(mica_handle_close(chain[i]));
    return 0;
}

/* A thousand unstarted processes, each holding the next: closing the head
 * destroys them all without recursing on the kernel stack. */
static int test_long_destruction_chain(void)
{
    struct mica_kernel_stats before, after;
    CHECK_OK(kt_stats(&before));
    mica_handle_t head, as, prev;
    CHECK_OK(mica_process_create("chain", &head, &as));
    CHECK_OK(mica_handle_close(as));
    prev = head;
    for (int i = 0; i < 1000; i++) {
        mica_handle_t next, in_prev;
        CHECK_OK(mica_process_create("chain", &next, &as));
        CHECK_OK(mica_handle_close(as));
        mica_handle_t dup;
        CHECK_OK(mica_handle_dup(next, MICA_RIGHT_MANAGE | MICA_RIGHT_TRANSFER, &dup));
        CHECK_OK(mica_handle_give(dup, prev, &in_prev));
        if (prev != head)
            CHECK_OK(mica_handle_close(prev));
        prev = next;
    }
    CHECK_OK(mica_handle_close(prev));
    CHECK_OK(mica_handle_close(head));
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    return 0;
}

/* Threads and processes are charged to their creator, up the tree: making
 * many of them stops at the limit, long before memory runs out. */
static int test_thread_and_process_charges(void)
{
    struct mica_kernel_stats before, after;
    CHECK_OK(kt_stats(&before));
    mica_handle_t procs[512], as, t;
    int n = 0, err = MICA_OK;
    while (n < 512 && err == MICA_OK) {
        err = mica_process_create("hog", &procs[n], &as);
        if (err)
            break;
        mica_handle_close(as);
        n++;
        for (int k = 0; k < 60 && err == MICA_OK; k++) {
            err = mica_thread_create(procs[n - 1], 10, &t);
            if (!err)
                mica_handle_close(t); /* unstarted: lives until its process ends */
        }
    }
    mica_printf("    stopped after %d processes: %s\n", n, mica_status_name(err));
    CHECK_STATUS(err, MICA_ERR_LIMIT);
    CHECK_OK(kt_stats(&after));
    CHECK(after.free_pages > before.free_pages / 4); /* the system keeps most of its memory */
    for (int i = 0; i < n; i++)
        CHECK_OK(mica_handle_close(procs[i]));
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    return 0;
}

static void sleep_forever(uint64_t arg)
{
    (void)arg;
    mica_sleep_until(MICA_DEADLINE_INFINITE);
}

/* A suspended thread can still be killed, and a killed one not suspended. */
static int test_kill_suspended(void)
{
    struct mica_kernel_stats before, after;
    mica_handle_t t;
    CHECK_OK(kt_stats(&before));
    CHECK_OK(kt_thread_ex(sleep_forever, 0, NULL, &t));
    CHECK_OK(mica_sleep_until(mica_clock_ns() + 2000000));
    CHECK_OK(mica_thread_suspend(t));
    CHECK_OK(mica_thread_kill(t));
    CHECK_STATUS(mica_thread_suspend(t), MICA_ERR_BAD_STATE);
    CHECK_OK(mica_handle_close(t));
    for (int i = 0; i < 200; i++) { /* it really ends: the thread object goes */
        CHECK_OK(kt_stats(&after));
        if (after.objects[MICA_OBJ_THREAD] == before.objects[MICA_OBJ_THREAD])
            break;
        mica_sleep_until(mica_clock_ns() + 1000000);
    }
    CHECK(after.objects[MICA_OBJ_THREAD] == before.objects[MICA_OBJ_THREAD]);
    return 0;
}

const struct ktest ktests_hostile[] = {
    {"user_hostile_buffer_removed", test_buffer_removed_while_queued},
    {"user_hostile_cow_depth", test_cow_depth},
    {"user_hostile_destruction_chain", test_long_destruction_chain},
    {"user_hostile_charges", test_thread_and_process_charges},
    {"user_hostile_kill_suspended", test_kill_suspended},
    {NULL, NULL},
};
