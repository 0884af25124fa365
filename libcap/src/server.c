/* The server loop and client request helper (see mica/server.h). */
#include <mica/server.h>
#include <string.h>

int mica_serve(mica_handle_t ep, const struct mica_server_op *ops, size_t n_ops, void *ctx,
               void (*on_notify)(void *ctx, uint64_t bits))
{
    struct mica_msg m;
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here(); /* where handles arrive */
    int err = mica_recv(ep, 0, &m);
    for (;;) {
        if (err)
            return err;
        if (m.info & MICA_MSG_NOTIFICATION) {
            if (on_notify)
                on_notify(ctx, m.w[0]);
            err = mica_recv(ep, 0, &m);
            continue;
        }
        struct mica_msg reply;
        memset(&reply, 0, sizeof(reply));
        int64_t status = MICA_ERR_NOT_SUPPORTED;
        unsigned words = 1, kept = 0;
        mica_handle_t received[MICA_MSG_MAX_HANDLES];
        unsigned n_received = buf ? MICA_MSG_HANDLES(m.info) : 0;
        if (n_received > MICA_MSG_MAX_HANDLES)
            n_received = MICA_MSG_MAX_HANDLES;
        for (unsigned h = 0; h < n_received; h++)
            received[h] = buf->handles[h];
        for (size_t i = 0; i < n_ops; i++) {
            if (ops[i].label != MICA_MSG_LABEL(m.info))
                continue;
            if (MICA_MSG_WORDS(m.info) < ops[i].min_words) {
                status = MICA_ERR_INVALID_ARGS;
            } else {
                status = ops[i].handle(ctx, &m, &reply);
                words = status == MICA_OK ? 1 + ops[i].reply_words : 1;
                /* A handler may send fewer words than its most. */
                if (MICA_MSG_WORDS(reply.info) && MICA_MSG_WORDS(reply.info) < words)
                    words = MICA_MSG_WORDS(reply.info);
                kept = ops[i].takes_handles;
            }
            break;
        }
        for (unsigned h = kept; h < n_received; h++) /* nobody asked for these */
            mica_handle_close(received[h]);
        if (status == MICA_SERVE_DEFERRED) { /* the handler saved the reply for later */
            err = mica_recv(ep, 0, &m);
            continue;
        }
        reply.w[0] = (uint64_t)status;
        /* A handler that moves handles says how many in reply->info. */
        unsigned handles = status == MICA_OK ? MICA_MSG_HANDLES(reply.info) : 0;
        reply.info = mica_msg_info(0, words, handles, 0);
        m = reply;
        err = mica_reply_recv(ep, &m);
        if (err == MICA_ERR_PEER_CLOSED) /* that client left: keep serving */
            err = mica_recv(ep, 0, &m);
    }
}

int mica_request(mica_handle_t ep, uint32_t label, const uint64_t *args, unsigned n_args,
                 uint64_t *out, unsigned n_out)
{
    struct mica_msg m;
    memset(&m, 0, sizeof(m));
    if (n_args > MICA_MSG_REG_WORDS || n_out > MICA_MSG_REG_WORDS - 1)
        return MICA_ERR_INVALID_ARGS;
    for (unsigned i = 0; i < n_args; i++)
        m.w[i] = args[i];
    m.info = mica_msg_info(label, n_args, 0, 0);
    int err = mica_call(ep, &m);
    if (err)
        return err;
    int64_t status = (int64_t)m.w[0];
    if (status == MICA_OK)
        for (unsigned i = 0; i < n_out && 1 + i < MICA_MSG_WORDS(m.info); i++)
            out[i] = m.w[1 + i];
    return (int)status;
}
