/*
 * kv: the example server of docs/writing-a-server.md. A small key-value
 * store; each client sees only its own keys, told apart by the badge of
 * the endpoint handle it calls through. Its protocol is the table in
 * libcap/include/mica/proto/kv.h; the endpoint to serve arrives as the
 * startup handle.
 */
#include <mica/malloc.h>
#include <mica/proto/kv.h>

struct entry {
    bool used;
    uint64_t client, key, value;
};

struct store {
    struct entry *entries; /* KV_CAPACITY of them, from malloc */
};

static struct entry *find(struct store *s, uint64_t client, uint64_t key)
{
    for (int i = 0; i < KV_CAPACITY; i++)
        if (s->entries[i].used && s->entries[i].client == client && s->entries[i].key == key)
            return &s->entries[i];
    return NULL;
}

static int64_t handle_KV_PUT(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)reply;
    struct store *s = ctx;
    struct entry *e = find(s, req->badge, req->w[0]);
    for (int i = 0; !e && i < KV_CAPACITY; i++)
        if (!s->entries[i].used)
            e = &s->entries[i];
    if (!e)
        return MICA_ERR_NO_MEMORY;
    *e = (struct entry){true, req->badge, req->w[0], req->w[1]};
    return MICA_OK;
}

static int64_t handle_KV_GET(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    struct entry *e = find(ctx, req->badge, req->w[0]);
    if (!e)
        return MICA_ERR_NOT_FOUND;
    reply->w[1] = e->value;
    return MICA_OK;
}

static int64_t handle_KV_DELETE(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)reply;
    struct entry *e = find(ctx, req->badge, req->w[0]);
    if (!e)
        return MICA_ERR_NOT_FOUND;
    e->used = false;
    return MICA_OK;
}

static int64_t handle_KV_COUNT(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    struct store *s = ctx;
    uint64_t n = 0;
    for (int i = 0; i < KV_CAPACITY; i++)
        n += s->entries[i].used && s->entries[i].client == req->badge;
    reply->w[1] = n;
    return MICA_OK;
}

static int64_t handle_KV_CRASH(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)req, (void)reply;
    *(volatile int *)0 = 1; /* a deliberate fault: whoever supervises us restarts us */
    return MICA_OK;
}

/* The dispatch table, generated from the protocol's own table. */
static const struct mica_server_op ops[] = {
#define KV_SERVER_OP(name, label, req, rep) {label, req, handle_##name, rep, 0},
    KV_OPS(KV_SERVER_OP)
#undef KV_SERVER_OP
};

int main(const struct mica_bootinfo *bi)
{
    struct store store = {calloc(KV_CAPACITY, sizeof(struct entry))};
    if (!bi->startup_handle || !store.entries) {
        mica_printf("kv: no endpoint to serve, or no memory\n");
        return 1;
    }
    /* Serves until the process is stopped (or its endpoint is destroyed). */
    int err = mica_serve(bi->startup_handle, ops, sizeof(ops) / sizeof(ops[0]), &store, NULL);
    mica_printf("kv: stopped serving: %s\n", mica_status_name(err));
    return err == MICA_ERR_PEER_CLOSED ? 0 : 1;
}
