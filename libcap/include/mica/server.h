/*
 * Writing servers: the message convention and a dispatch loop.
 *
 * Convention for every Mica protocol: a request's label selects the
 * operation and its words are the arguments; the reply's w0 is a status
 * (MICA_OK or a negative MICA_ERR_*) and w1.. are the results. A server
 * describes its operations in a table of struct mica_server_op, and
 * mica_serve() receives, checks the word count, dispatches by label and
 * replies — unknown labels and short requests are answered with an error,
 * never crash the server, and handles the operation does not take are
 * closed.
 */
#ifndef MICA_SERVER_H
#define MICA_SERVER_H

#include <mica/cap.h>

struct mica_server_op {
    uint32_t label;
    unsigned min_words; /* shorter requests get MICA_ERR_INVALID_ARGS */
    /* Fill reply->w[1..] and return the status for reply->w[0]. The badge
     * of the caller's endpoint handle is in req->badge. To move handles in
     * the reply, put them in the thread's IPC buffer and set
     * reply->info = mica_msg_info(0, 0, count, 0). To send fewer words
     * than reply_words + 1 (say, only the bytes a read found, so stale
     * buffer contents never leave the server), set the word count there. */
    int64_t (*handle)(void *ctx, const struct mica_msg *req, struct mica_msg *reply);
    unsigned reply_words; /* results after the status */
    /* Received handles (in the IPC buffer) the handler takes over, from
     * the first; mica_serve closes any others a client sent, so no request
     * can leak handles into the server. */
    unsigned takes_handles;
};

/* Word i of a received message: w[0..5] in registers, the rest in the
 * receiving thread's IPC buffer. The caller checked the word count. */
static inline uint64_t mica_msg_word(const struct mica_msg *m, unsigned i)
{
    return i < MICA_MSG_REG_WORDS ? m->w[i] : mica_ipc_buffer_here()->words[i - MICA_MSG_REG_WORDS];
}

/* A handler that took the reply with mica_reply_save (to answer later with
 * mica_reply_to, say when input arrives) returns this: nothing is sent now. */
#define MICA_SERVE_DEFERRED 1

/* Serve ep forever (returns only if receiving fails, with that error). A
 * notification bound to the thread is passed to on_notify (may be NULL). */
int mica_serve(mica_handle_t ep, const struct mica_server_op *ops, size_t n_ops, void *ctx,
               void (*on_notify)(void *ctx, uint64_t bits));

/* Client side: call `label` with up to six words; the status comes back as
 * the return value, results in out[0..n_out). */
int mica_request(mica_handle_t ep, uint32_t label, const uint64_t *args, unsigned n_args,
                 uint64_t *out, unsigned n_out);

#endif
