/*
 * Console reads for Linux programs. A read of the console waits for a
 * typed line, which can take forever, so the syscall's reply is saved and
 * the program waits in `waiting` while a reader thread of ours makes the
 * blocking UART_READ call. When the line comes the thread reports it to
 * the main thread (LX_INTERNAL_CONSOLE on our own endpoint), which copies
 * it into the oldest waiting program's buffer and answers its read.
 * Lines longer than the read asked for keep their rest for the next read.
 *
 * The console outlives its driver: when the driver dies (or procmgr gives
 * it up and devmgr equips it again, on a new endpoint) the reader reports
 * CONSOLE_LOST instead of a line; the main thread looks the console up
 * again, gives it back the mode and the foreground, and the read starts
 * over. Only after LOST_LIMIT losses in a row do waiting reads end (EIO).
 */
#include "linux.h"
#include <mica/proto/procmgr.h>
#include <mica/proto/uart.h>
#include <string.h>

struct waiter {
    int pid, tid;
    mica_handle_t reply;
    uintptr_t buf;
    size_t len;
};

static struct waiter *waiting; /* one per waiting thread, oldest first */
static unsigned cap_waiting;
static unsigned n_waiting;
static char pending[UART_IO_MAX]; /* the rest of a line nobody took yet */
static size_t pending_len, pending_off;
static bool pending_eof;
static mica_handle_t want; /* notification: the reader thread should read */
static mica_handle_t report_ep;
static bool reading;

/* The console's termios as programs see it (the kernel's struct termios):
 * the uart driver's cooked discipline, ICRNL; OPOST|ONLCR; CS8|CREAD...;
 * ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN; ^C, DEL, ^U, ^D. */
static const uint8_t cooked[36] = {0x00, 0x01, 0, 0, 0x05, 0, 0, 0,    0xBF, 0, 0, 0,
                                   0x3B, 0x8A, 0, 0, 0,    3, 0, 0x7F, 0x15, 4, 0, 1};
uint8_t lx_termios[36];
static int mode_owner; /* the pid that last changed the mode, 0: none */

#define WANT_READ 1u
#define WANT_INTERRUPT 2u /* the driver signals it on ^C while we are its foreground */
#define NOT_A_READ 8u     /* report flag: a ^C seen while no read was going on */
#define CONSOLE_LOST 16u  /* report flag: the read failed with MICA_ERR_PEER_CLOSED */
#define LOST_LIMIT 30     /* losses in a row (0.1 s apart) before reads fail */
static unsigned lost;     /* consecutive CONSOLE_LOST reports */

static void report(const char *line, long n, unsigned flags)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    struct mica_msg m = {0};
    m.w[0] = n < 0 ? 0 : (uint64_t)n;
    m.w[1] = flags | (n < 0 ? 2u : 0u);
    if (n > 0)
        memcpy(buf->words, line, (size_t)n);
    m.info = mica_msg_info(LX_INTERNAL_CONSOLE, 6 + (unsigned)((m.w[0] + 7) / 8), 0, 0);
    mica_call(report_ep, &m);
}

static void reader(void *arg)
{
    (void)arg;
    for (;;) {
        uint64_t bits;
        mica_notify_wait(want, MICA_DEADLINE_INFINITE, &bits);
        if (bits & WANT_INTERRUPT) { /* ^C while no read was waiting */
            report(NULL, 0, UART_READ_INTERRUPTED | NOT_A_READ);
            if (!(bits & WANT_READ))
                continue;
        }
        char line[UART_IO_MAX];
        unsigned flags = 0;
        long n =
            uart_read(__atomic_load_n(&lx_console, __ATOMIC_RELAXED), line, sizeof(line), &flags);
        if (n == MICA_ERR_PEER_CLOSED) {
            mica_sleep_until(mica_clock_ns() + 100000000UL); /* let it restart */
            report(NULL, 0, CONSOLE_LOST);
            continue;
        }
        if (flags & UART_READ_INTERRUPTED) { /* the same ^C signalled WANT_INTERRUPT too */
            uint64_t more = 0;
            mica_notify_wait(want, MICA_DEADLINE_NONE, &more);
            if (more & WANT_READ)
                mica_notify_signal(want, WANT_READ);
        }
        report(line, n, flags);
    }
}

void lx_console_init(void)
{
    mica_handle_t thread;
    memcpy(lx_termios, cooked, sizeof(cooked));
    if (!lx_console || mica_notification_create(&want) != MICA_OK ||
        mica_handle_mint(mica_bootinfo->startup_handle, MICA_RIGHT_WRITE, LX_INTERNAL_BADGE,
                         &report_ep) != MICA_OK ||
        mica_thread_spawn(reader, NULL, 128, &thread) != MICA_OK)
        lx_console = 0;
}

static void answer(struct waiter *w, int64_t result)
{
    lx_answer(w->reply, result);
}

/* Give what is pending to the waiting programs, oldest first. */
static void serve(void)
{
    while (n_waiting && (pending_off < pending_len || pending_eof)) {
        struct waiter *w = &waiting[0];
        struct lproc *p = lx_by_pid(w->pid);
        size_t n = pending_len - pending_off;
        if (n > w->len)
            n = w->len;
        int64_t result = (int64_t)n;
        if (!p)
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
        mica_notify_signal(want, WANT_READ);
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
    if (!lx_grow((void **)&waiting, &cap_waiting, n_waiting + 1, sizeof(*waiting)))
        return -LX_ENOMEM;
    struct waiter *w = &waiting[n_waiting];
    if (mica_reply_save(&w->reply) != MICA_OK)
        return -LX_EIO;
    w->pid = p->pid;
    w->tid = lx_tid(p);
    w->buf = buf;
    w->len = len;
    n_waiting++;
    serve();
    return LX_DEFERRED;
}

/* The console's mode as lx_termios says (cooked: 0). */
static unsigned termios_mode(const uint8_t *t);

/* A console call failed with MICA_ERR_PEER_CLOSED: look the console up
 * again and give it our mode and foreground. Main thread only (the reader
 * is then waiting for us, or its read fails and it reports that). Called
 * by lx_console_line on CONSOLE_LOST and by console writes (files.c). */
void lx_console_reconnect(void)
{
    mica_handle_t console, old = lx_console;
    if (!old || pm_lookup(mica_bootinfo->procmgr, "console", &console) != MICA_OK)
        return;
    __atomic_store_n(&lx_console, console, __ATOMIC_RELAXED);
    mica_handle_close(old);
    uart_set_mode(console, termios_mode(lx_termios));
    lx_console_take_foreground();
}

void lx_console_line(const struct mica_msg *m)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    size_t n = m->w[0];
    if (!(m->w[1] & NOT_A_READ))
        reading = false;
    if (m->w[1] & CONSOLE_LOST) {
        lx_console_reconnect();
        if (++lost < LOST_LIMIT) {
            serve(); /* the reader tries again */
            return;
        }
        for (; n_waiting; memmove(waiting, waiting + 1, --n_waiting * sizeof(waiting[0])))
            answer(&waiting[0], -LX_EIO); /* no console for 3 s: give up these reads */
        return;
    }
    lost = 0;
    if (m->w[1] & UART_READ_INTERRUPTED) {
        lx_console_interrupt(); /* ^C: SIGINT for the foreground program */
    } else {
        /* Keep what nobody took yet; add the new bytes after it. */
        memmove(pending, pending + pending_off, pending_len - pending_off);
        pending_len -= pending_off;
        pending_off = 0;
        if (n > sizeof(pending) - pending_len)
            n = sizeof(pending) - pending_len;
        memcpy(pending + pending_len, buf->words, n);
        pending_len += n;
        pending_eof = m->w[0] == 0;
    }
    serve();
    lx_poll_recheck();
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

#define LFLAG_ISIG 0x1
#define LFLAG_ICANON 0x2
#define LFLAG_ECHO 0x8

int lx_tty_pgrp; /* the terminal's foreground process group (TIOCSPGRP), 0: none */

/* Make us the console's foreground client: ^C then interrupts our reader's
 * read (lx_console_line) instead of reaching the native shell. */
void lx_console_take_foreground(void)
{
    mica_handle_t dup;
    if (lx_console &&
        mica_handle_dup(want, MICA_RIGHT_SIGNAL | MICA_RIGHT_TRANSFER, &dup) == MICA_OK &&
        uart_set_foreground(lx_console, dup, WANT_INTERRUPT) != MICA_OK)
        mica_handle_close(dup);
}

static unsigned termios_mode(const uint8_t *t)
{
    uint32_t lflag;
    memcpy(&lflag, t + 12, 4);
    unsigned mode = (lflag & LFLAG_ICANON ? 0 : UART_MODE_RAW) |
                    (lflag & LFLAG_ECHO ? UART_MODE_ECHO : 0) |
                    (lflag & LFLAG_ISIG ? UART_MODE_ISIG : 0);
    return mode & UART_MODE_RAW ? mode : 0;
}

int64_t lx_console_set_termios(struct lproc *p, uintptr_t va)
{
    uint8_t t[36];
    if (lx_read(p, va, t, sizeof(t)))
        return -LX_EFAULT;
    if (lx_console && uart_set_mode(lx_console, termios_mode(t)) != MICA_OK)
        return -LX_EIO;
    memcpy(lx_termios, t, sizeof(t));
    mode_owner = p->pid;
    lx_console_take_foreground();
    return 0;
}

/* A program that changed the console's mode ended: cooked again. */
void lx_console_restore(struct lproc *p)
{
    if (mode_owner != p->pid)
        return;
    mode_owner = 0;
    lx_tty_pgrp = 0;
    memcpy(lx_termios, cooked, sizeof(cooked));
    if (lx_console)
        uart_set_mode(lx_console, 0);
}

size_t lx_console_available(void)
{
    return pending_len - pending_off;
}

bool lx_console_readable(void)
{
    return pending_off < pending_len || pending_eof;
}

/* Someone polls the console: keep a read going so data can arrive. */
void lx_console_want(void)
{
    if (lx_console && !reading && !lx_console_readable()) {
        reading = true;
        mica_notify_signal(want, WANT_READ);
    }
}

/* A signal interrupts a waiting read: its saved reply, or 0. */
mica_handle_t lx_console_take(struct lproc *p, int tid)
{
    for (unsigned i = 0; i < n_waiting; i++) {
        if (waiting[i].pid == p->pid && waiting[i].tid == tid) {
            mica_handle_t r = waiting[i].reply;
            memmove(&waiting[i], &waiting[i + 1], (--n_waiting - i) * sizeof(waiting[0]));
            return r;
        }
    }
    return 0;
}
