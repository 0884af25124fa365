/* ktest: libcap for servers — malloc over VMOs, and the example kv server
 * (a separate process) through its protocol: per-client keys by badge,
 * errors for unknown operations and short requests, a full store. */
#include "ktest.h"
#include <mica/malloc.h>
#include <mica/proto/kv.h>
#include <string.h>

static int test_malloc(void)
{
    void *small[64];
    for (int i = 0; i < 64; i++) {
        small[i] = malloc((size_t)(i * 37) % 2000 + 1);
        CHECK(small[i] != NULL && ((uintptr_t)small[i] & 15) == 0);
        memset(small[i], i, (size_t)(i * 37) % 2000 + 1);
    }
    for (int i = 0; i < 64; i++)
        CHECK(((uint8_t *)small[i])[0] == (uint8_t)i);
    for (int i = 0; i < 64; i += 2)
        free(small[i]);
    void *again = malloc(100);
    CHECK(again != NULL); /* reuses a freed block */
    char *big = malloc(100000);
    CHECK(big != NULL);
    memset(big, 0x5A, 100000);
    big = realloc(big, 300000);
    CHECK(big != NULL && big[99999] == 0x5A);
    uint32_t *zero = calloc(1000, sizeof(uint32_t));
    CHECK(zero != NULL && zero[0] == 0 && zero[999] == 0);
    CHECK(calloc((size_t)-1, 16) == NULL); /* overflow refused */
    CHECK(malloc((size_t)1 << 40) == NULL);
    free(zero);
    free(big);
    free(again);
    for (int i = 1; i < 64; i += 2)
        free(small[i]);
    free(NULL);
    return 0;
}

static int spawn_kv(mica_handle_t *server, mica_handle_t *ep)
{
    const void *elf;
    size_t size;
    uintptr_t bootfs;
    const struct mica_bootinfo *bi = kt_bootinfo();
    size_t mapped = (bi->bootfs_size + MICA_PAGE_SIZE - 1) & ~(MICA_PAGE_SIZE - 1);
    int err =
        mica_aspace_map(bi->self_aspace, bi->bootfs_vmo, 0, mapped, 0, MICA_MAP_READ, &bootfs);
    if (!err)
        err = mica_cpio_find((const void *)bootfs, bi->bootfs_size, "bin/kv", &elf, &size);
    mica_handle_t server_end;
    if (!err)
        err = mica_endpoint_create(ep);
    if (!err)
        err = mica_handle_dup(*ep, MICA_RIGHT_READ | MICA_RIGHT_TRANSFER, &server_end);
    if (!err)
        err = mica_spawn_with(elf, size, "kv", "", 0, 0, server_end, server);
    mica_aspace_unmap(bi->self_aspace, bootfs, mapped);
    return err;
}

static int test_kv_server(void)
{
    mica_handle_t server, ep, alice, bob;
    CHECK_OK(spawn_kv(&server, &ep));
    CHECK_OK(mica_handle_mint(ep, MICA_RIGHT_WRITE, 1, &alice));
    CHECK_OK(mica_handle_mint(ep, MICA_RIGHT_WRITE, 2, &bob));
    uint64_t v, n;
    CHECK_OK(kv_put(alice, 7, 700));
    CHECK_OK(kv_put(bob, 7, 7000));
    CHECK_OK(kv_get(alice, 7, &v));
    CHECK(v == 700);
    CHECK_OK(kv_get(bob, 7, &v));
    CHECK(v == 7000); /* same key, other client: other value */
    CHECK_OK(kv_put(alice, 7, 701));
    CHECK_OK(kv_get(alice, 7, &v));
    CHECK(v == 701);
    CHECK_STATUS(kv_get(alice, 8, &v), MICA_ERR_NOT_FOUND);
    CHECK_OK(kv_delete(bob, 7));
    CHECK_STATUS(kv_delete(bob, 7), MICA_ERR_NOT_FOUND);
    CHECK_OK(kv_count(alice, &n));
    CHECK(n == 1);
    /* Bad requests are answered, not fatal. */
    CHECK_STATUS(mica_request(alice, 99, NULL, 0, NULL, 0), MICA_ERR_NOT_SUPPORTED);
    CHECK_STATUS(mica_request(alice, KV_PUT, &v, 1, NULL, 0), MICA_ERR_INVALID_ARGS);
    /* A full store says so. */
    int err = MICA_OK;
    for (uint64_t k = 100; k < 100 + KV_CAPACITY && !err; k++)
        err = kv_put(bob, k, k);
    CHECK_STATUS(err, MICA_ERR_NO_MEMORY);
    CHECK_OK(kv_get(alice, 7, &v)); /* still serving */
    /* Handles sent with requests that do not take them are closed by the
     * server loop: the notifications die, nothing piles up in the server. */
    struct mica_kernel_stats before, after;
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    CHECK(buf != NULL);
    CHECK_OK(kt_stats(&before));
    for (int round = 0; round < 3; round++) {
        unsigned labels[3] = {KV_COUNT, 99, KV_PUT}; /* good, unknown, too short */
        for (unsigned h = 0; h < 2; h++)
            CHECK_OK(mica_notification_create(&buf->handles[h]));
        struct mica_msg m = {.info = mica_msg_info(labels[round], 0, 2, 0)};
        CHECK_OK(mica_call(alice, &m));
        CHECK((int64_t)m.w[0] == (round == 0   ? MICA_OK
                                  : round == 1 ? MICA_ERR_NOT_SUPPORTED
                                               : MICA_ERR_INVALID_ARGS));
    }
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    /* A server runs until it is stopped; its receive handle keeps the
     * endpoint alive, so afterwards nobody answers on it. */
    int64_t code;
    uint32_t reason;
    CHECK_OK(mica_process_kill(server));
    CHECK_OK(kt_wait(server, 5000, &code, &reason));
    CHECK(reason == MICA_EXIT_KILLED);
    struct mica_msg poll = {.info = mica_msg_info(KV_GET, 1, 0, 0) | MICA_MSG_POLL};
    CHECK_STATUS(mica_call(alice, &poll), MICA_ERR_TIMED_OUT); /* nobody serves it now */
    CHECK_OK(mica_handle_close(alice));
    CHECK_OK(mica_handle_close(bob));
    CHECK_OK(mica_handle_close(ep));
    CHECK_OK(mica_handle_close(server));
    return 0;
}

const struct ktest ktests_server[] = {
    {"user_malloc", test_malloc},
    {"user_example_kv_server", test_kv_server},
    {NULL, NULL},
};
