/*
 * Console reads for Linux programs. A read of the console waits for a
 * typed line, which can take forever, so the syscall's reply is saved and
 * the program waits in `waiting` while a reader thread of ours makes the
 * blocking UART_READ call. When the line comes the thread reports it to
 * the main thread (LX_INTERNAL_CONSOLE on our own endpoint), which copies
 * it into the oldest waiting program's buffer and answers its read.
 * Lines longer than the read asked for keep their rest for the next read.
 */
#include "linux.h"
#include <mica/proto/uart.h>
#include <string.h>

#define MAX_WAITING 8

struct waiter {
    int pid;
    mica_handle_t reply;
    uintptr_t buf;
    size_t len;
};

static struct waiter waiting[MAX_WAITING];
static unsigned n_waiting;
static char pending[UART_IO_MAX]; /* the rest of a line nobody took yet */
static size_t pending_len, pending_off;
static bool pending_eof;
static mica_handle_t want; /* notification: the reader thread should read */
static mica_handle_t report_ep;
static bool reading;

static void reader(void *arg)
{
    (void)arg;
    for (;;) {
        uint64_t bits;
        mica_notify_wait(want, MICA_DEADLINE_INFINITE, &bits);
        struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
        char line[UART_IO_MAX];
        unsigned flags = 0;
        long n = uart_read(lx_console, line, sizeof(line), &flags);
        struct mica_msg m = {0};
        m.w[0] = n < 0 ? 0 : (uint64_t)n;
        m.w[1] = flags | (n < 0 ? 2u : 0u);
        if (n > 0)
            memcpy(buf->words, line, (size_t)n);
        m.info = mica_msg_info(LX_INTERNAL_CONSOLE, 6 + (unsigned)((m.w[0] + 7) / 8), 0, 0);
        mica_call(report_ep, &m);
    }
}

void lx_console_init(void)
{
    mica_handle_t thread;
    if (!lx_console || mica_notification_create(&want) != MICA_OK ||
        mica_handle_mint(mica_bootinfo->startup_handle, MICA_RIGHT_WRITE, LX_INTERNAL_BADGE,
                         &report_ep) != MICA_OK ||
        mica_thread_spawn(reader, NULL, 128, &thread) != MICA_OK)
        lx_console = 0;
}

static void answer(struct waiter *w, int64_t result)
{
    struct mica_msg m = {.info = mica_msg_info(MICA_SYSCALL_RETURN, 1, 0, 0),
                         .w = {(uint64_t)result}};
    mica_reply_to(w->reply, &m);
    mica_handle_close(w->reply);
}

/* Give what is pending to the waiting programs, oldest first. */
static void serve(void)
{
    while (n_waiting && (pending_off < pending_len || pending_eof)) {
        struct waiter *w = &waiting[0];
        struct lproc *p = &procs[w->pid % LX_MAX_PROCS];
        size_t n = pending_len - pending_off;
        if (n > w->len)
            n = w->len;
        int64_t result = (int64_t)n;
        if (!p->used || p->pid != w->pid)
            result = -LX_EIO;
        else if (n && lx_write(p, w->buf, pending + pending_off, n) != 0)
            result = -LX_EFAULT;
        else
            pending_off += n;
        if (n == 0)
            pending_eof = false; /* an end-of-file answers one read */
        answer(w, result);
        memmove(waiting, waiting + 1, --n_waiting * sizeof(waiting[0]));
    }
    if (n_waiting && !reading) {
        reading = true;
        mica_notify_signal(want, 1);
    }
}

int64_t lx_console_read(struct lproc *p, const uint64_t *a, bool vector)
{
    uintptr_t buf = a[1];
    size_t len = a[2];
    if (vector) { /* the first non-empty iovec only: a console read is one line */
        uint64_t iov[2] = {0, 0};
        for (uint64_t i = 0; i < a[2] && i < 1024 && iov[1] == 0; i++)
            if (lx_read(p, a[1] + 16 * i, iov, sizeof(iov)))
                return -LX_EFAULT;
        buf = iov[0];
        len = iov[1];
    }
    if (len == 0)
        return 0;
    if (!lx_console)
        return 0; /* no console: end of file */
    if (n_waiting == MAX_WAITING)
        return -LX_EAGAIN;
    struct waiter *w = &waiting[n_waiting];
    if (mica_reply_save(&w->reply) != MICA_OK)
        return -LX_EIO;
    w->pid = p->pid;
    w->buf = buf;
    w->len = len;
    n_waiting++;
    serve();
    return LX_DEFERRED;
}

void lx_console_line(const struct mica_msg *m)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    size_t n = m->w[0] < sizeof(pending) ? m->w[0] : sizeof(pending);
    reading = false;
    if (m->w[1] & UART_READ_INTERRUPTED) {
        lx_console_interrupt(); /* ^C: SIGINT for the foreground program */
    } else {
        memcpy(pending, buf->words, n);
        pending_len = n;
        pending_off = 0;
        pending_eof = n == 0;
    }
    serve();
}

void lx_console_forget(struct lproc *p)
{
    for (unsigned i = 0; i < n_waiting;) {
        if (waiting[i].pid == p->pid) {
            mica_handle_close(waiting[i].reply);
            memmove(&waiting[i], &waiting[i + 1], (--n_waiting - i) * sizeof(waiting[0]));
        } else {
            i++;
        }
    }
}
