/*
 * ktest: per-process memory limits (process_set_limit, process_memory)
 * and payers (vmo_create, vmo_create_snapshot and process_create charged
 * to a process the caller pays for). Each test checks bad input first:
 * bad handles, wrong types, missing rights, a process the caller does not
 * pay for, a limit below what is held; then that charges land where they
 * were asked to and stop at every limit up the chain.
 */
#include <mica/proto/procmgr.h>

#include "ktest.h"

static int memory_of(mica_handle_t proc, uint64_t *pages, uint64_t *limit, uint64_t *room)
{
    return mica_process_memory(proc, pages, limit, room);
}

static int test_limit_bad_input(void)
{
    struct mica_kernel_stats before, after;
    mica_handle_t child, as, no_manage, vmo, out;
    uint64_t pages, limit, room, mine;
    CHECK_OK(kt_stats(&before));
    CHECK_OK(mica_vmo_create(4096, &vmo));
    CHECK_OK(mica_process_create("limited", &child, &as));
    CHECK_OK(mica_handle_dup(child, MICA_RIGHT_WAIT, &no_manage));
    /* process_memory: any process handle, nothing else. */
    CHECK_STATUS(memory_of(0, &pages, &limit, &room), MICA_ERR_BAD_HANDLE);
    CHECK_STATUS(memory_of(0x7FFF1234, &pages, &limit, &room), MICA_ERR_BAD_HANDLE);
    CHECK_STATUS(memory_of(vmo, &pages, &limit, &room), MICA_ERR_WRONG_TYPE);
    CHECK_STATUS((int)mica_syscall(MICA_SYS_PROCESS_MEMORY, 1UL << 40, 0, 0, 0, 0, 0).status,
                 MICA_ERR_BAD_HANDLE);
    CHECK_OK(memory_of(no_manage, &pages, &limit, &room));
    CHECK_OK(memory_of(kt_bootinfo()->self_process, NULL, &mine, NULL));
    CHECK(pages == 0 && limit == mine && room <= limit); /* a child starts with our limit */
    /* process_set_limit: MANAGE needed. */
    CHECK_STATUS(mica_process_set_limit(0, 10), MICA_ERR_BAD_HANDLE);
    CHECK_STATUS(mica_process_set_limit(vmo, 10), MICA_ERR_WRONG_TYPE);
    CHECK_STATUS(mica_process_set_limit(no_manage, 10), MICA_ERR_ACCESS_DENIED);
    /* Nobody raises their own limit; a parent may lower and raise. */
    CHECK_STATUS(mica_process_set_limit(kt_bootinfo()->self_process, mine + 1),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_OK(mica_process_set_limit(child, 20));
    CHECK_OK(mica_process_set_limit(child, 40));
    CHECK_OK(memory_of(child, &pages, &limit, &room));
    CHECK(limit == 40 && room == 40);
    /* Payers: a process with MANAGE that we pay for. */
    CHECK_STATUS(mica_vmo_create_for(0x7FFF1234, 4096, &out), MICA_ERR_BAD_HANDLE);
    CHECK_STATUS(mica_vmo_create_for(vmo, 4096, &out), MICA_ERR_WRONG_TYPE);
    CHECK_STATUS(mica_vmo_create_for(no_manage, 4096, &out), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_vmo_create_snapshot_for(no_manage, vmo, 0, 4096, &out),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_vmo_create_snapshot_for(vmo, vmo, 0, 4096, &out), MICA_ERR_WRONG_TYPE);
    mica_handle_t x, y;
    CHECK_STATUS(mica_process_create_under("x", 0, no_manage, &x, &y), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_process_create_under("x", 0, 0x7FFF1234, &x, &y), MICA_ERR_BAD_HANDLE);
    CHECK_OK(mica_handle_close(no_manage));
    CHECK_OK(mica_handle_close(as));
    CHECK_OK(mica_handle_close(child));
    CHECK_OK(mica_handle_close(vmo));
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    return 0;
}

/* A process procmgr pays for (a sibling's child, not ours) is not ours to
 * charge, nor to make processes under, nor to raise. (procmgr keeps its
 * handle to the program: no leak check here.) */
static int test_limit_not_ours(void)
{
    mica_handle_t other, out, x, y;
    uint64_t pages, limit;
    CHECK_OK(pm_spawn_args(kt_bootinfo()->startup_handle, "bin/ktest", "role=sleep", 0, &other));
    CHECK_STATUS(mica_vmo_create_for(other, 4096, &out), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_process_create_under("x", 0, other, &x, &y), MICA_ERR_ACCESS_DENIED);
    CHECK_OK(memory_of(other, &pages, &limit, NULL));
    CHECK(pages > 0); /* mica_spawn_ex charges the child for its image */
    CHECK_STATUS(mica_process_set_limit(other, limit + 1), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_process_set_limit(other, pages - 1), MICA_ERR_BAD_STATE);
    CHECK_OK(mica_process_kill(other));
    CHECK_OK(kt_wait(other, 5000, NULL, NULL));
    CHECK_OK(mica_handle_close(other));
    return 0;
}

/* Pages of a VMO made for a child are the child's: they count against its
 * limit, which stops them, and a limit cannot go below what is held. */
static int test_limit_charges_payer(void)
{
    struct mica_kernel_stats before, after;
    mica_handle_t child, as, vmo, snap, src;
    uint64_t pages, limit, room, my_before, my_after;
    static char page[4096];
    CHECK_OK(kt_stats(&before));
    CHECK_OK(mica_process_create("payer", &child, &as));
    CHECK_OK(mica_process_set_limit(child, 16));
    CHECK_OK(mica_vmo_create_for(child, 64 * 4096, &vmo));
    CHECK_OK(memory_of(child, &pages, NULL, NULL));
    CHECK(pages == 1); /* the page list */
    CHECK_OK(memory_of(kt_bootinfo()->self_process, &my_before, NULL, NULL));
    for (int i = 0; i < 10; i++)
        CHECK_OK(mica_vmo_write(vmo, (uint64_t)i * 4096, page, 1));
    CHECK_OK(memory_of(child, &pages, &limit, &room));
    CHECK(pages == 11 && limit == 16 && room == 5);
    CHECK_OK(memory_of(kt_bootinfo()->self_process, &my_after, NULL, NULL));
    CHECK(my_after >= my_before + 10); /* and ours: we pay for the child */
    CHECK_STATUS(mica_process_set_limit(child, 10), MICA_ERR_BAD_STATE);
    CHECK_OK(mica_process_set_limit(child, 12));
    CHECK_OK(mica_vmo_write(vmo, 10 * 4096, page, 1));
    CHECK_STATUS(mica_vmo_write(vmo, 11 * 4096, page, 1), MICA_ERR_LIMIT);
    CHECK_OK(memory_of(child, &pages, NULL, &room));
    CHECK(pages == 12 && room == 0);
    /* A snapshot for the child: the frozen pages become its charge. */
    CHECK_OK(mica_process_set_limit(child, 64));
    CHECK_OK(mica_vmo_create(4 * 4096, &src));
    for (int i = 0; i < 4; i++)
        CHECK_OK(mica_vmo_write(src, (uint64_t)i * 4096, page, 1));
    CHECK_OK(mica_vmo_create_snapshot_for(child, src, 0, 4 * 4096, &snap));
    CHECK_OK(memory_of(child, &pages, NULL, NULL));
    CHECK(pages == 12 + 4 + 2); /* frozen pages, two page lists */
    CHECK_OK(mica_handle_close(snap));
    CHECK_OK(mica_handle_close(src));
    CHECK_OK(mica_handle_close(vmo));
    CHECK_OK(memory_of(child, &pages, NULL, NULL));
    CHECK(pages == 0); /* everything went back */
    CHECK_OK(mica_handle_close(as));
    CHECK_OK(mica_handle_close(child));
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    return 0;
}

/* A pool: processes created under it start with its limit and share it;
 * its limit caps them together, whatever their own limits say. */
static int test_limit_pool(void)
{
    struct mica_kernel_stats before, after;
    mica_handle_t pool, pool_as, a, a_as, b, b_as, va, vb;
    uint64_t pages, limit, room;
    static char page[4096];
    CHECK_OK(kt_stats(&before));
    CHECK_OK(mica_process_create("pool", &pool, &pool_as));
    CHECK_OK(mica_process_set_limit(pool, 200));
    CHECK_OK(mica_process_create_under("a", 0, pool, &a, &a_as));
    CHECK_OK(mica_process_create_under("b", MICA_PROCESS_LINUX, pool, &b, &b_as));
    CHECK_OK(memory_of(a, NULL, &limit, NULL));
    CHECK(limit == 200);
    CHECK_OK(memory_of(pool, &pages, NULL, NULL));
    CHECK(pages >= 2 * 48); /* the two processes are the pool's charge */
    CHECK_OK(mica_process_set_limit(b, 150));
    CHECK_OK(mica_vmo_create_for(a, 64 * 4096, &va));
    CHECK_OK(mica_vmo_create_for(b, 256 * 4096, &vb));
    int written = 0, err = MICA_OK;
    for (; written < 64 && (err = mica_vmo_write(va, (uint64_t)written * 4096, page, 1)) == 0;)
        written++;
    CHECK(written == 64);
    for (written = 0;
         written < 256 && (err = mica_vmo_write(vb, (uint64_t)written * 4096, page, 1)) == 0;)
        written++;
    CHECK_STATUS(err, MICA_ERR_LIMIT); /* the pool is full before b's own limit */
    CHECK_OK(memory_of(b, &pages, &limit, &room));
    CHECK(pages < 150 && limit == 150 && room == 0);
    CHECK_OK(memory_of(pool, &pages, &limit, &room));
    CHECK(pages == 200 && room == 0);
    CHECK_OK(mica_handle_close(va)); /* a frees: b may go on */
    CHECK_OK(mica_vmo_write(vb, (uint64_t)written * 4096, page, 1));
    /* The grandchild of a pool cannot be made under a process we do not
     * pay for, but under one the pool pays for, yes. */
    mica_handle_t c, c_as;
    CHECK_OK(mica_process_create_under("c", 0, a, &c, &c_as));
    CHECK_OK(mica_handle_close(c_as));
    CHECK_OK(mica_handle_close(c));
    CHECK_OK(mica_handle_close(vb));
    CHECK_OK(mica_handle_close(a_as));
    CHECK_OK(mica_handle_close(b_as));
    CHECK_OK(mica_handle_close(a));
    CHECK_OK(mica_handle_close(b));
    CHECK_OK(mica_handle_close(pool_as));
    CHECK_OK(mica_handle_close(pool));
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    return 0;
}

const struct ktest ktests_limits[] = {
    {"user_limit_bad_input", test_limit_bad_input},
    {"user_limit_not_ours", test_limit_not_ours},
    {"user_limit_charges_payer", test_limit_charges_payer},
    {"user_limit_pool", test_limit_pool},
    {NULL, NULL},
};
