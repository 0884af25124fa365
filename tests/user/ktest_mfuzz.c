/*
 * ktest: the multi-threaded fuzzer. Four threads of one child process race
 * IPC (with handle transfer and long messages), notifications, bound
 * notifications, IPC buffers, fault endpoints, suspend/resume/kill,
 * priorities, revocation, copy-on-write children and snapshots on a pool of mostly valid
 * handles, while its main thread suspends, resumes and kills them. It
 * reaches what the single-threaded fuzzer cannot: threads dying or losing
 * their buffers in the middle of an IPC. The parent checks the child
 * finishes and every kernel object is gone afterwards.
 */
#include "ktest.h"

#define NW 4
#define POOL 48
static volatile mica_handle_t pool[POOL];
static volatile mica_handle_t workers[NW];
static struct pgbuf {
    struct mica_ipc_buffer b;
} __attribute__((aligned(4096))) wbufs[NW];
#define wbuf_at(i) (&wbufs[i].b)
static volatile uint64_t ops_done, ops_target;
static volatile uint64_t seedv = 0x1234567;

static uint64_t rnd(void)
{
    uint64_t x = seedv;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    seedv = x;
    return x * 0x2545F4914F6CDD1DUL;
}
static mica_handle_t ph(void)
{
    return pool[rnd() % POOL];
}
static void put(mica_handle_t h)
{
    unsigned i = rnd() % POOL;
    mica_handle_t old = pool[i];
    pool[i] = h;
    if (old && rnd() % 2)
        mica_handle_close(old);
}
static mica_handle_t wk(void)
{
    return workers[rnd() % NW];
}

static void fuzz_worker(uint64_t id)
{
    struct mica_ipc_buffer *b = wbuf_at(id);
    while (ops_done < ops_target) {
        ops_done++;
        uint64_t r = rnd();
        uint64_t to = (1 + rnd() % 300) << 32; /* timeout in us */
        unsigned words = (unsigned)(rnd() % 12), nh = (unsigned)(rnd() % 3);
        for (int i = 0; i < 4; i++)
            b->handles[i] = ph();
        uint64_t info = mica_msg_info((uint32_t)rnd(), words, nh, 0) | to;
        if (rnd() % 8 == 0)
            info |= MICA_MSG_POLL;
        struct mica_result res;
        switch (r % 30) {
        case 0:
        case 1: mica_syscall(MICA_SYS_CALL, ph(), info, 1, 2, 3, 4); break;
        case 2: mica_syscall(MICA_SYS_SEND, ph(), info, 1, 2, 3, 4); break;
        case 3:
        case 4:
            res = mica_syscall(MICA_SYS_RECV, ph(), to, 0, 0, 0, 0);
            if (res.status == 0)
                for (unsigned i = 0; i < MICA_MSG_HANDLES(res.r1) && i < 4; i++)
                    put(b->handles[i]);
            break;
        case 5: mica_syscall(MICA_SYS_REPLY, 0, info, 1, 2, 3, 4); break;
        case 6:
        case 7: mica_syscall(MICA_SYS_REPLY_RECV, ph(), info, 1, 2, 3, 4); break;
        case 8: mica_notify_signal(ph(), rnd()); break;
        case 9: {
            uint64_t bits;
            mica_notify_wait(ph(), mica_clock_ns() + rnd() % 300000, &bits);
            break;
        }
        case 10: mica_thread_bind_notification(wk(), rnd() % 3 ? ph() : 0); break;
        case 11:
            mica_thread_set_ipc_buffer(wk(), rnd() % 3 ? (void *)wbuf_at(rnd() % NW) : NULL);
            break;
        case 12: mica_thread_set_fault_endpoint(wk(), rnd() % 2 ? ph() : 0); break;
        case 13: mica_thread_suspend(wk()); break;
        case 14:
        case 15: mica_thread_resume(wk()); break;
        case 16: mica_thread_set_priority(wk(), 100 + rnd() % 29); break;
        case 17: {
            mica_handle_t h;
            if (mica_endpoint_create(&h) == 0)
                put(h);
            break;
        }
        case 18: {
            mica_handle_t h;
            if (mica_notification_create(&h) == 0)
                put(h);
            break;
        }
        case 19: {
            mica_handle_t h;
            if (mica_handle_dup(ph(), MICA_RIGHTS_ALL & (uint32_t)rnd(), &h) == 0)
                put(h);
            break;
        }
        case 20: {
            mica_handle_t h;
            if (mica_handle_mint(ph(), MICA_RIGHTS_ALL & (uint32_t)rnd(), 1 + rnd() % 7, &h) == 0)
                put(h);
            break;
        }
        case 21: mica_handle_revoke(ph()); break;
        case 22:
            if (rnd() % 4 == 0)
                mica_handle_close(ph());
            break;
        case 23: {
            mica_handle_t h;
            if (mica_vmo_create(4096 * (1 + rnd() % 4), &h) == 0)
                put(h);
            break;
        }
        case 24: {
            mica_handle_t h;
            uint64_t size = 4096 * (1 + rnd() % 4);
            if ((rnd() % 2 ? mica_vmo_create_child(ph(), 0, size, &h)
                           : mica_vmo_create_snapshot(ph(), 0, size, &h)) == 0)
                put(h);
            break;
        }
        case 25: {
            uint64_t w = rnd();
            mica_vmo_write(ph(), (rnd() % 4) * 4096, &w, 8);
            break;
        }
        case 26: mica_sleep_until(mica_clock_ns() + rnd() % 200000); break;
        case 27: mica_yield(); break;
        case 28: {
            mica_handle_t p, as;
            if (rnd() % 8 == 0 && mica_process_create("f", &p, &as) == 0) {
                put(p);
                put(as);
            }
            break;
        }
        case 29:
            if (rnd() % 16 == 0)
                mica_thread_kill(wk());
            break;
        }
        /* unknown syscall through a possible fault endpoint */
        if (rnd() % 64 == 0)
            mica_syscall(200, 0, 0, 0, 0, 0, 0);
    }
}

/* The child: NW worker threads racing on a shared pool of real handles,
 * while the main thread keeps suspending, resuming and killing them. */
int kt_mfuzz_role(uint64_t n, uint64_t seed)
{
    seedv = seed | 1;
    ops_target = n;
    for (int i = 0; i < 6; i++) {
        mica_handle_t h;
        if (i % 2 ? mica_notification_create(&h) : mica_endpoint_create(&h))
            return 90;
        pool[i] = h;
    }
    for (int i = 0; i < NW; i++) {
        mica_handle_t t;
        int e = kt_thread_ex(fuzz_worker, (uint64_t)i, wbuf_at(i), &t);
        if (e) {
            mica_printf("mfuzz: thread: %d\n", e);
            return 91;
        }
        workers[i] = t;
        pool[6 + i] = t;
    }
    uint64_t last = 0, stuck = 0, kills = 0;
    while (ops_done < ops_target) {
        mica_sleep_until(mica_clock_ns() + 2000000);
        bool killall = false;
        if (ops_done == last) {
            if (++stuck > 10000) { /* 20 s of guest time without one operation */
                mica_printf("mfuzz: no progress at %lu ops\n", ops_done);
                return 92;
            }
            killall = stuck % 20 == 0;
        } else {
            stuck = 0;
        }
        last = ops_done;
        for (int i = 0; i < NW; i++) {
            int st = mica_thread_suspend(workers[i]);
            if (st == MICA_OK && !killall) {
                mica_thread_resume(workers[i]);
                continue;
            }
            if (killall && st == MICA_OK) {
                mica_thread_kill(workers[i]);
                kills++;
            }
            mica_handle_t t;
            if (kt_thread_ex(fuzz_worker, (uint64_t)i, wbuf_at(i), &t) == 0) {
                mica_handle_close(workers[i]);
                workers[i] = t;
            }
        }
    }
    mica_printf("mfuzz: %lu ops done, %lu kills\n", ops_done, kills);
    return 0;
}

static int test_fuzz_threads(void)
{
    struct mica_kernel_stats before, after;
    mica_handle_t child;
    int64_t code;
    uint32_t reason;
    CHECK_OK(kt_stats(&before));
    for (int round = 0; round < 3; round++) {
        char role[16];
        snprintf(role, sizeof(role), "mfuzz%d", round);
        CHECK_OK(kt_spawn_role(role, &child));
        CHECK_OK(kt_wait(child, 600000, &code, &reason));
        CHECK(reason == MICA_EXIT_NORMAL && code == 0);
        CHECK_OK(mica_handle_close(child));
        CHECK_OK(kt_stats(&after));
        CHECK(kt_same_objects(&before, &after));
    }
    return 0;
}

const struct ktest ktests_mfuzz[] = {
    {"user_fuzz_threads", test_fuzz_threads},
    {NULL, NULL},
};
