/*
 * uart: the interrupt-driven UART driver, started by devmgr (through
 * procmgr) for each PL011 or mini UART node, with the registers as a
 * physical VMO and the line as an IRQ object (mica/proto/devmgr.h). The
 * instance for the kernel's console UART also gets a CONSOLE resource and
 * takes the console over: from then on the kernel's log reaches the UART
 * through this driver (console_take / console_read), and the kernel
 * writes directly only on panic and system exit.
 *
 * One thread does everything, woken by IPC or by its notification: bit
 * IRQ_BIT when the UART interrupts, LOG_BIT when the kernel logged text.
 * Received bytes go through the line discipline (line.h); transmit data
 * waits in a queue (echo and client writes first, then the kernel log) and
 * goes out as the transmitter takes it, the TX interrupt on only while
 * bytes wait. Replies that must wait (reads before a line is typed,
 * writes while the queue is full) are saved (mica_reply_save) and sent
 * later. Nothing polls: an idle console sleeps in mica_recv.
 *
 * Input is never dropped: a received byte is taken from the UART only
 * while the line discipline's ring has room for it and the transmit queue
 * room for its echo. Otherwise the receive interrupt goes off and the
 * bytes wait in the UART's FIFO, which, when full, holds the sender back
 * (QEMU stops reading its chardev; a real line without RTS/CTS, as the
 * Pi's GPIO 14/15 console is wired, loses what overflows the FIFO). Room
 * comes back when a client reads or the transmitter drains the queue,
 * and then receive() runs again (from on_notify, handle_UART_READ and
 * handle_UART_SET_MODE). The one cost: a ^C typed behind 32 KiB of input
 * nobody reads waits behind it too.
 */
#include "hw.h"
#include "line.h"
#include <mica/malloc.h>
#include <mica/proto/uart.h>
#include <stdlib.h>
#include <string.h>

#define IRQ_BIT 1u
#define LOG_BIT 2u
#define TXQ_SIZE 16384
#define MAX_WAITING 8

static struct uart_hw hw;
static struct line line;
static mica_handle_t irq, console;
static bool tx_irq_on, rx_irq_on = true;

/* The transmit queue: a ring of bytes already in "\r\n" form. */
static char txq[TXQ_SIZE];
static size_t txq_head, txq_len;
/* Kernel log text taken from the kernel but not yet in the transmitter. */
static char klog[2 * 64];
static size_t klog_off, klog_len;

struct reader {
    mica_handle_t reply;
    uint64_t badge;
    size_t max;
};
static struct reader readers[MAX_WAITING];
static unsigned n_readers;

struct writer {
    mica_handle_t reply;
    size_t len;
    char data[UART_IO_MAX];
};
static struct writer *writers[MAX_WAITING];
static unsigned n_writers;

static uint64_t foreground_badge;
static mica_handle_t foreground_ntfn;
static uint64_t foreground_bits;
static uint64_t rx_count, tx_count, irq_count;

static size_t txq_room(void)
{
    return TXQ_SIZE - txq_len;
}

/* Queue bytes (already converted); the caller checked the room. */
static void txq_put_raw(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        txq[(txq_head + txq_len++) % TXQ_SIZE] = s[i];
}

/* Queue client text, turning "\n" into "\r\n"; false if it does not fit. */
static bool txq_put_text(const char *s, size_t n)
{
    size_t needed = n;
    for (size_t i = 0; i < n; i++)
        needed += s[i] == '\n';
    if (needed > txq_room())
        return false;
    char out[64];
    while (n) {
        size_t used, k = line_output(s, n, out, sizeof(out), &used);
        txq_put_raw(out, k);
        s += used;
        n -= used;
    }
    return true;
}

static void reply_write(mica_handle_t reply, size_t len)
{
    struct mica_msg m = {.info = mica_msg_info(0, 2, 0, 0), .w = {MICA_OK, len}};
    mica_reply_to_close(reply, &m); /* used, or its client is gone */
}

/* Waiting writers whose bytes now fit, in order. */
static void admit_writers(void)
{
    while (n_writers && txq_put_text(writers[0]->data, writers[0]->len)) {
        reply_write(writers[0]->reply, writers[0]->len);
        free(writers[0]);
        memmove(writers, writers + 1, --n_writers * sizeof(writers[0]));
    }
}

/* Feed the transmitter until it is full or nothing waits. */
static void pump(void)
{
    for (;;) {
        if (!hw.tx_ready(&hw)) {
            if (!tx_irq_on)
                hw.tx_irq(&hw, true);
            tx_irq_on = true;
            return;
        }
        if (txq_len) {
            hw.tx(&hw, (uint8_t)txq[txq_head]);
            txq_head = (txq_head + 1) % TXQ_SIZE;
            txq_len--;
            tx_count++;
            if (txq_len == 0)
                admit_writers();
            continue;
        }
        if (klog_off < klog_len) {
            hw.tx(&hw, (uint8_t)klog[klog_off++]);
            tx_count++;
            continue;
        }
        /* The kernel's log last, a little at a time, so what the kernel
         * counts as sent is (nearly) what the hardware has. */
        char raw[64];
        size_t got = 0, used;
        if (console) /* services' lines stay out of a program's output (dmesg has them) */
            mica_console_read_flags(console, raw, sizeof(raw),
                                    foreground_ntfn ? MICA_CONSOLE_READ_NO_SERVICE : 0, &got);
        if (!got)
            break;
        klog_len = line_output(raw, got, klog, sizeof(klog), &used);
        klog_off = 0;
    }
    if (tx_irq_on)
        hw.tx_irq(&hw, false);
    tx_irq_on = false;
}

static void answer_read(struct reader *r, unsigned flags)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    struct mica_msg m = {0};
    size_t n = flags ? 0 : line_read(&line, (char *)buf->words, r->max);
    m.w[0] = MICA_OK;
    m.w[1] = n;
    m.w[2] = flags;
    if (n)
        memset((char *)buf->words + n, 0, (n + 7) / 8 * 8 - n); /* no stale bytes */
    m.info = mica_msg_info(0, n ? UART_DATA_WORD + (unsigned)((n + 7) / 8) : 3, 0, 0);
    mica_reply_to_close(r->reply, &m);
}

static void remove_reader(unsigned i)
{
    memmove(&readers[i], &readers[i + 1], (--n_readers - i) * sizeof(readers[0]));
}

/* Input goes to the foreground client's read if it has one waiting (the
 * shell at its prompt, even if a program it killed left a read behind),
 * else to the oldest read. */
static void serve_readers(void)
{
    while (n_readers && line_ready(&line)) {
        unsigned pick = 0;
        for (unsigned i = 0; i < n_readers; i++) {
            if (foreground_ntfn && readers[i].badge == foreground_badge) {
                pick = i;
                break;
            }
        }
        answer_read(&readers[pick], 0);
        remove_reader(pick);
    }
}

/* ^C: tell the foreground client; its waiting reads end. */
static void interrupt(void)
{
    if (foreground_ntfn && mica_notify_signal(foreground_ntfn, foreground_bits) != MICA_OK) {
        mica_handle_close(foreground_ntfn); /* its owner is gone */
        foreground_ntfn = 0;
        foreground_badge = 0;
    }
    for (unsigned i = 0; i < n_readers;) {
        if (!foreground_ntfn || readers[i].badge == foreground_badge) {
            answer_read(&readers[i], UART_READ_INTERRUPTED);
            remove_reader(i);
        } else {
            i++;
        }
    }
}

/* Can the next received byte be taken without losing it or its echo? */
static bool rx_room(void)
{
    return line_room(&line) > 0 && txq_room() >= LINE_ECHO_MAX;
}

/* Take what the UART received while there is room (see the top); the
 * receive interrupt is on exactly while there is. Called on each
 * notification and whenever a read or a mode switch may have made room. */
static void receive(void)
{
    while (rx_room() && hw.rx_ready(&hw)) {
        char echo[LINE_ECHO_MAX];
        size_t n;
        unsigned flags = line_input(&line, (char)hw.rx(&hw), echo, &n);
        rx_count++;
        txq_put_raw(echo, n);
        if (flags & LINE_INTERRUPT)
            interrupt();
        if (flags & LINE_READY)
            serve_readers();
    }
    if (rx_room() != rx_irq_on) {
        rx_irq_on = !rx_irq_on;
        hw.rx_irq(&hw, rx_irq_on);
    }
}

static void on_notify(void *ctx, uint64_t bits)
{
    (void)ctx;
    if (bits & IRQ_BIT)
        irq_count++;
    pump(); /* first: what the transmitter took makes room for echo */
    receive();
    pump();
    if (bits & IRQ_BIT)
        mica_irq_ack(irq);
}

static int64_t handle_UART_WRITE(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    size_t len = req->w[0];
    if (len > UART_IO_MAX || (len && MICA_MSG_WORDS(req->info) < UART_DATA_WORD + (len + 7) / 8))
        return MICA_ERR_INVALID_ARGS;
    if (n_writers == 0 && txq_put_text((const char *)buf->words, len)) {
        pump();
        reply->w[1] = len;
        return MICA_OK;
    }
    if (n_writers == MAX_WAITING)
        return MICA_ERR_LIMIT;
    struct writer *w = malloc(sizeof(*w));
    if (!w)
        return MICA_ERR_NO_MEMORY;
    w->len = len;
    memcpy(w->data, buf->words, len);
    int err = mica_reply_save(&w->reply);
    if (err) {
        free(w);
        return err;
    }
    writers[n_writers++] = w;
    pump();
    return MICA_SERVE_DEFERRED;
}

/* A read waits in readers[] until a line comes; a client that gave up
 * (its call timed out, or it died) cannot be seen there. So a new read
 * from the same client ends its older one, and when all slots are taken
 * the oldest read ends: both answered as interrupted (if anyone is still
 * listening). Stale reads can never lock the console. */
static int64_t handle_UART_READ(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)reply;
    size_t max = req->w[0];
    if (max == 0 || max > UART_IO_MAX)
        return MICA_ERR_INVALID_ARGS;
    for (unsigned i = 0; i < n_readers; i++) {
        if (readers[i].badge == req->badge) {
            answer_read(&readers[i], UART_READ_INTERRUPTED);
            remove_reader(i);
            break;
        }
    }
    if (n_readers == MAX_WAITING) {
        answer_read(&readers[0], UART_READ_INTERRUPTED);
        remove_reader(0);
    }
    struct reader *r = &readers[n_readers];
    int err = mica_reply_save(&r->reply);
    if (err)
        return err;
    r->badge = req->badge;
    r->max = max;
    n_readers++;
    serve_readers(); /* at once if a line is waiting */
    receive();       /* what waited in the UART for room */
    pump();
    return MICA_SERVE_DEFERRED;
}

static int64_t handle_UART_SET_FOREGROUND(void *ctx, const struct mica_msg *req,
                                          struct mica_msg *reply)
{
    (void)ctx, (void)reply;
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    uint32_t type;
    if (MICA_MSG_HANDLES(req->info) == 0)
        return MICA_ERR_INVALID_ARGS;
    mica_handle_t n = buf->handles[0]; /* ours now (mica_serve closes any others) */
    if (req->w[0] == 0) {
        mica_handle_close(n);
        return MICA_ERR_INVALID_ARGS;
    }
    if (mica_handle_info(n, &type, NULL, NULL) != MICA_OK || type != MICA_OBJ_NOTIFICATION) {
        mica_handle_close(n);
        return MICA_ERR_WRONG_TYPE;
    }
    if (foreground_ntfn)
        mica_handle_close(foreground_ntfn);
    foreground_ntfn = n;
    foreground_bits = req->w[0];
    foreground_badge = req->badge;
    return MICA_OK;
}

static int64_t handle_UART_SET_MODE(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)reply;
    uint64_t mode = req->w[0];
    if (mode & ~(uint64_t)(UART_MODE_RAW | UART_MODE_ECHO | UART_MODE_ISIG))
        return MICA_ERR_INVALID_ARGS;
    line_set_mode(&line, mode & UART_MODE_RAW, mode & UART_MODE_ECHO, mode & UART_MODE_ISIG);
    serve_readers(); /* a half typed line is a raw reader's at once */
    return MICA_OK;
}

static int64_t handle_UART_INFO(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)req;
    reply->w[1] = rx_count;
    reply->w[2] = tx_count;
    reply->w[3] = irq_count;
    reply->w[4] = line.dropped;
    return MICA_OK;
}

static const struct mica_server_op ops[] = {
#define UART_SERVER_OP(name, label, req, rep)                                                      \
    {label, req, handle_##name, rep, label == UART_SET_FOREGROUND},
    UART_OPS(UART_SERVER_OP)
#undef UART_SERVER_OP
};

/* "COMPATIBLE offset=N irq=0|1 console=0|1" (mica/proto/devmgr.h). */
static unsigned long option(const char *cmdline, const char *key)
{
    const char *p = strstr(cmdline, key);
    return p ? strtoul(p + strlen(key), NULL, 10) : 0;
}

int main(const struct mica_bootinfo *bi)
{
    const char *cmd = bi->cmdline;
    unsigned long offset = option(cmd, "offset=");
    bool has_irq = option(cmd, "irq="), is_console = option(cmd, "console=");
    uint64_t size;
    uintptr_t va;
    mica_handle_t ntfn;
    line_init(&line);
    if (!bi->startup_handle || bi->n_handles < 2 || !has_irq ||
        mica_vmo_get_size(bi->handles[0], &size) || offset >= size) {
        mica_printf("uart: needs a register VMO and an IRQ (%s)\n", cmd);
        return 1;
    }
    if (mica_aspace_map(bi->self_aspace, bi->handles[0], 0, size, 0, MICA_MAP_READ | MICA_MAP_WRITE,
                        &va) != MICA_OK)
        return 1;
    if (strncmp(cmd, "arm,pl011", 9) == 0)
        pl011_hw_init(&hw, (volatile uint8_t *)va + offset);
    else if (strncmp(cmd, "brcm,bcm2835-aux-uart", 21) == 0)
        miniuart_hw_init(&hw, (volatile uint8_t *)va + offset);
    else {
        mica_printf("uart: unknown device (%s)\n", cmd);
        return 1;
    }
    irq = bi->handles[1];
    console = is_console && bi->n_handles >= 3 ? bi->handles[2] : 0;
    int err = mica_notification_create(&ntfn);
    if (!err)
        err = mica_thread_bind_notification(bi->self_thread, ntfn);
    if (!err && !mica_ipc_buffer_here())
        err = MICA_ERR_NO_MEMORY;
    if (err) {
        mica_printf("uart: cannot set up: %s\n", mica_status_name(err));
        return 1;
    }
    hw.start(&hw);
    if ((err = mica_irq_bind(irq, ntfn, IRQ_BIT)) != MICA_OK) {
        mica_printf("uart: cannot bind the IRQ: %s\n", mica_status_name(err));
        return 1;
    }
    if (console) {
        mica_printf("uart: %s takes over the console\n", hw.name);
        if ((err = mica_console_take(console, ntfn, LOG_BIT)) != MICA_OK) {
            mica_printf("uart: cannot take the console: %s\n", mica_status_name(err));
            console = 0;
        }
    }
    receive(); /* bytes typed before we were ready */
    pump();
    err = mica_serve(bi->startup_handle, ops, sizeof(ops) / sizeof(ops[0]), NULL, on_notify);
    mica_printf("uart: stopped serving: %s\n", mica_status_name(err));
    return 1;
}
