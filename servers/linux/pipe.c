/*
 * Pipes between Linux programs: a 4 KiB ring per pipe, here in the
 * server. A read of an empty pipe (with writers left) and a write to a
 * full one wait: their replies are saved in the pipe's queue of waiting
 * readers or writers (as many as there are threads to wait; first come,
 * first served) and `pump` finishes them as the other side moves. Pipes
 * are as many as memory allows (each program's descriptors bound its own). The last writer gone
 * gives readers end-of-file; the last reader gone gives writers EPIPE, or ends them by SIGPIPE's
 * default action.
 */
#include "linux.h"
#include <mica/malloc.h>
#include <string.h>

#define PIPE_SIZE 4096
#define O_NONBLOCK 04000
#define O_CLOEXEC 02000000
#define SIGPIPE 13
#define SIG_IGN 1

struct waiting {
    int pid; /* 0: none */
    mica_handle_t reply;
    uintptr_t buf;
    size_t len, done;
    int tid;
};

struct pipe {
    char data[PIPE_SIZE];
    size_t head, len;
    unsigned readers, writers; /* open descriptions of each end */
    struct queue {
        struct waiting *w; /* n waiting, oldest first, in room for cap */
        unsigned n, cap;
    } rq, wq;
};

static struct pipe **pipes; /* n_pipes used, in room for cap_pipes */
static unsigned n_pipes, cap_pipes;

/* A new waiter at the end of q, its reply to be saved by the next
 * receive (lx_defer_reply): NULL without memory. */
static struct waiting *enqueue(struct queue *q, struct waiting w)
{
    if (!lx_grow((void **)&q->w, &q->cap, q->n + 1, sizeof(*q->w)))
        return NULL;
    q->w[q->n] = w;
    return &q->w[q->n++];
}

static void dequeue(struct queue *q, unsigned i)
{
    memmove(&q->w[i], &q->w[i + 1], (q->n - i - 1) * sizeof(*q->w));
    q->n--;
}

/* Answer the oldest waiter of q and let it go. */
static void finish(struct queue *q, int64_t result)
{
    lx_answer(q->w[0].reply, result);
    dequeue(q, 0);
}

/* Move bytes between the ring and a program's buffer. */
static int64_t take(struct pipe *pp, struct lproc *p, uintptr_t buf, size_t len)
{
    size_t n = len < pp->len ? len : pp->len, done = 0;
    while (done < n) {
        size_t chunk = n - done, at = pp->head;
        if (chunk > PIPE_SIZE - at)
            chunk = PIPE_SIZE - at;
        if (lx_write(p, buf + done, pp->data + at, chunk))
            return done ? (int64_t)done : -LX_EFAULT;
        pp->head = (pp->head + chunk) % PIPE_SIZE;
        pp->len -= chunk;
        done += chunk;
    }
    return (int64_t)done;
}

static int64_t put(struct pipe *pp, struct lproc *p, uintptr_t buf, size_t len)
{
    size_t room = PIPE_SIZE - pp->len, n = len < room ? len : room, done = 0;
    while (done < n) {
        size_t at = (pp->head + pp->len) % PIPE_SIZE, chunk = n - done;
        if (chunk > PIPE_SIZE - at)
            chunk = PIPE_SIZE - at;
        if (lx_read(p, buf + done, pp->data + at, chunk))
            return done ? (int64_t)done : -LX_EFAULT;
        pp->len += chunk;
        done += chunk;
    }
    return (int64_t)done;
}

/* Finish whatever waits and now can, oldest first on each side. */
static void pump(struct pipe *pp)
{
    for (bool moved = true; moved;) {
        moved = false;
        if (pp->rq.n && (pp->len || !pp->writers)) {
            struct waiting *r = &pp->rq.w[0];
            struct lproc *p = lx_by_pid(r->pid);
            finish(&pp->rq, p ? take(pp, p, r->buf, r->len) : -LX_EIO);
            moved = true;
        }
        if (pp->wq.n && (pp->len < PIPE_SIZE || !pp->readers)) {
            struct waiting *w = &pp->wq.w[0];
            struct lproc *p = lx_by_pid(w->pid);
            if (!p || !pp->readers) {
                finish(&pp->wq, w->done ? (int64_t)w->done : -LX_EPIPE);
                moved = true;
            } else {
                int64_t n = put(pp, p, w->buf + w->done, w->len - w->done);
                if (n < 0)
                    finish(&pp->wq, w->done ? (int64_t)w->done : n);
                else if ((w->done += (size_t)n) == w->len)
                    finish(&pp->wq, (int64_t)w->len);
                moved = n != 0;
            }
        }
    }
    lx_poll_recheck(); /* a poller may wait for this pipe */
}

size_t lx_pipe_available(struct lfile *f)
{
    return f->pipe->len;
}

/* ppoll's view of one end (poll.c). */
short lx_pipe_poll(struct lfile *f)
{
    struct pipe *pp = f->pipe;
    if (f->kind == FD_PIPE_READ)
        return (short)((pp->len ? 0x1 /* POLLIN */ : 0) | (pp->writers ? 0 : 0x10 /* POLLHUP */));
    return (short)((pp->len < PIPE_SIZE ? 0x4 /* POLLOUT */ : 0) | (pp->readers ? 0 : 0x8));
}

int64_t lx_pipe_read(struct lproc *p, struct lfile *f, uintptr_t buf, size_t len)
{
    struct pipe *pp = f->pipe;
    if (len == 0)
        return 0;
    if (pp->len) {
        int64_t n = take(pp, p, buf, len);
        pump(pp);
        return n;
    }
    if (!pp->writers)
        return 0; /* end of file */
    if (f->flags & O_NONBLOCK)
        return -LX_EAGAIN;
    struct waiting *w = enqueue(&pp->rq, (struct waiting){p->pid, 0, buf, len, 0, lx_tid(p)});
    if (!w)
        return -LX_ENOMEM;
    lx_defer_reply(&w->reply);
    return LX_DEFERRED;
}

/* A reader waits on an empty pipe: the writer's bytes go straight into its
 * buffer, one copy in the kernel instead of two through the ring. Returns
 * how many; 0 if there is no such reader or the copy failed (then the ring
 * path runs and reports any fault as usual). */
static size_t direct_to_reader(struct pipe *pp, struct lproc *p, uintptr_t buf, size_t len)
{
    struct lproc *rp;
    if (!pp->rq.n || pp->len || !len || !(rp = lx_by_pid(pp->rq.w[0].pid)))
        return 0;
    struct waiting *r = &pp->rq.w[0];
    size_t n = len < r->len ? len : r->len;
    if (lx_transfer(rp, r->buf, p, buf, n) != 0)
        return 0;
    finish(&pp->rq, (int64_t)n);
    return n;
}

int64_t lx_pipe_write(struct lproc *p, struct lfile *f, uintptr_t buf, size_t len)
{
    struct pipe *pp = f->pipe;
    if (!pp->readers) {
        if (p->actions[SIGPIPE].handler != SIG_IGN) {
            lx_end(p, SIGPIPE, MICA_KILL_WITH_CODE);
            return LX_DEFERRED;
        }
        return -LX_EPIPE;
    }
    size_t direct = direct_to_reader(pp, p, buf, len);
    int64_t n = put(pp, p, buf + direct, len - direct);
    pump(pp);
    if (n >= 0 || direct)
        n = (n > 0 ? n : 0) + (int64_t)direct;
    if (n < 0 || (size_t)n == len || (f->flags & O_NONBLOCK))
        return n == 0 && len ? -LX_EAGAIN : n;
    struct waiting *w =
        enqueue(&pp->wq, (struct waiting){p->pid, 0, buf, len, (size_t)n, lx_tid(p)});
    if (!w)
        return n ? n : -LX_ENOMEM;
    lx_defer_reply(&w->reply);
    return LX_DEFERRED;
}

int64_t lx_pipe2(struct lproc *p, uintptr_t fds, unsigned flags)
{
    if (flags & ~(unsigned)(O_NONBLOCK | O_CLOEXEC))
        return -LX_EINVAL;
    struct pipe *pp = lx_grow((void **)&pipes, &cap_pipes, n_pipes + 1, sizeof(*pipes))
                          ? malloc(sizeof(*pp))
                          : NULL;
    struct lfile *r = lx_new_file(FD_PIPE_READ), *w = lx_new_file(FD_PIPE_WRITE);
    if (!pp || !r || !w) {
        free(pp);
        free(r);
        free(w);
        return -LX_ENOMEM;
    }
    memset(pp, 0, sizeof(*pp));
    pp->readers = pp->writers = 1;
    r->pipe = w->pipe = pp;
    r->flags = flags & O_NONBLOCK;
    w->flags = (flags & O_NONBLOCK) | 1 /* O_WRONLY */;
    int fd[2] = {lx_install(p, r, 0, flags & O_CLOEXEC), -1};
    if (fd[0] >= 0)
        fd[1] = lx_install(p, w, 0, flags & O_CLOEXEC);
    if (fd[1] < 0 || lx_write(p, fds, fd, sizeof(fd))) {
        if (fd[0] >= 0)
            p->fds[fd[0]] = NULL;
        if (fd[1] >= 0)
            p->fds[fd[1]] = NULL;
        free(pp);
        free(r);
        free(w);
        return fd[1] < 0 && fd[0] >= 0 ? -LX_EMFILE : fd[0] < 0 ? fd[0] : -LX_EFAULT;
    }
    pipes[n_pipes++] = pp;
    return 0;
}

/* The last descriptor of one end went away (lx_put_file). */
void lx_pipe_close(struct lfile *f)
{
    struct pipe *pp = f->pipe;
    if (f->kind == FD_PIPE_READ)
        pp->readers--;
    else
        pp->writers--;
    pump(pp);
    if (pp->readers || pp->writers)
        return;
    for (unsigned i = 0; i < n_pipes; i++)
        if (pipes[i] == pp)
            pipes[i] = pipes[--n_pipes];
    free(pp->rq.w);
    free(pp->wq.w);
    free(pp);
}

/* p is ending: its waiting pipe calls go unanswered. */
void lx_pipe_forget(struct lproc *p)
{
    for (unsigned i = 0; i < n_pipes; i++) {
        struct queue *qs[] = {&pipes[i]->rq, &pipes[i]->wq};
        for (unsigned k = 0; k < 2; k++) {
            for (unsigned j = 0; j < qs[k]->n;) {
                if (qs[k]->w[j].pid == p->pid) {
                    mica_handle_close(qs[k]->w[j].reply);
                    dequeue(qs[k], j);
                } else {
                    j++;
                }
            }
        }
    }
}

/* A signal interrupts a waiting pipe read or write of thread tid of p:
 * its reply, or 0. (A write that moved some bytes already returns the
 * count instead: the caller answers with -EINTR only for nothing moved;
 * close enough.) */
mica_handle_t lx_pipe_take(struct lproc *p, int tid)
{
    for (unsigned i = 0; i < n_pipes; i++) {
        struct queue *qs[] = {&pipes[i]->rq, &pipes[i]->wq};
        for (unsigned k = 0; k < 2; k++) {
            for (unsigned j = 0; j < qs[k]->n; j++) {
                if (qs[k]->w[j].pid == p->pid && qs[k]->w[j].tid == tid) {
                    mica_handle_t reply = qs[k]->w[j].reply;
                    dequeue(qs[k], j);
                    return reply;
                }
            }
        }
    }
    return 0;
}
