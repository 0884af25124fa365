/*
 * Protocol of the example key-value server (servers/kv). One table,
 * KV_OPS, defines every operation once; the client stubs below and the
 * server's dispatch table (servers/kv/main.c) are both generated from it.
 * Keys are private to each client: the server keys its store by the badge
 * of the endpoint handle a client calls through.
 */
#ifndef MICA_PROTO_KV_H
#define MICA_PROTO_KV_H

#include <mica/server.h>

/*     name       label  request words      reply words */
#define KV_OPS(X)                                                                                  \
    X(KV_PUT, 1, 2, 0)    /* (key, value): store; MICA_ERR_NO_MEMORY when full */                  \
    X(KV_GET, 2, 1, 1)    /* (key) -> value; MICA_ERR_NOT_FOUND */                                 \
    X(KV_DELETE, 3, 1, 0) /* (key); MICA_ERR_NOT_FOUND */                                          \
    X(KV_COUNT, 4, 0, 1)  /* () -> number of keys this client has */                               \
    X(KV_CRASH, 5, 0, 0)  /* the server faults on purpose (supervision tests) */

enum {
#define KV_LABEL(name, label, req, rep) name = label,
    KV_OPS(KV_LABEL)
#undef KV_LABEL
};

#define KV_CAPACITY 64 /* entries across all clients */

static inline int kv_put(mica_handle_t ep, uint64_t key, uint64_t value)
{
    uint64_t args[2] = {key, value};
    return mica_request(ep, KV_PUT, args, 2, NULL, 0);
}

static inline int kv_get(mica_handle_t ep, uint64_t key, uint64_t *value)
{
    return mica_request(ep, KV_GET, &key, 1, value, 1);
}

static inline int kv_delete(mica_handle_t ep, uint64_t key)
{
    return mica_request(ep, KV_DELETE, &key, 1, NULL, 0);
}

static inline int kv_count(mica_handle_t ep, uint64_t *count)
{
    return mica_request(ep, KV_COUNT, NULL, 0, count, 1);
}

static inline int kv_crash(mica_handle_t ep)
{
    return mica_request(ep, KV_CRASH, NULL, 0, NULL, 0);
}

#endif
