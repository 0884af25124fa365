/*
 * The kernel log: a ring buffer of everything printk() said, and the
 * console it goes out on.
 *
 * Before the console is chosen, messages only go into the ring; when
 * console_activate() runs they are replayed, so early boot output is never
 * lost. On panic, console_emergency() breaks the lock (the panicking CPU may
 * hold it) and falls back to the board's early console if none is active.
 *
 * Handover: a userspace UART driver takes the console (console_take, from
 * sys_console_take). From then on the kernel only appends to the ring and
 * the driver reads what it has not yet sent (console_read) whenever its
 * notification says there is more; the kernel writes to the UART itself
 * again only on panic, on system exit (both first send what the driver left
 * unread, so nothing is lost or reordered) and when the owner dies.
 */
#include <mica/ipc.h>
#include <mica/printk.h>
#include <mica/spinlock.h>
#include <mica/status.h>
#include <string.h>

#define LOG_SIZE 65536

/* log_lock protects log_buf, log_len and the active console's output. */
static struct spinlock log_lock = SPINLOCK_INIT("log");
static char log_buf[LOG_SIZE];
static uint8_t log_service[LOG_SIZE / 8]; /* bit per byte: a service's line */
static uint64_t log_len;                  /* bytes ever written; the ring holds the last LOG_SIZE */
static struct console *active_console;
/* The handover state, also under log_lock. console_owner and console_ntfn
 * are only changed with the kernel lock held too (syscalls, process end). */
static struct process *console_owner;     /* the driver's process, NULL: the kernel writes */
static struct notification *console_ntfn; /* holds a reference while owned */
static uint64_t console_bits;
static uint64_t console_sent; /* log_len the owner (or the kernel) has sent */
bool console_kick_pending;    /* read inline by console_kick (printk.h) */

static void console_put(struct console *con, char c)
{
    if (c == '\n')
        con->putc(con, '\r');
    con->putc(con, c);
}

static void log_write(const char *s, size_t n, bool service)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t bit = (uint8_t)(1u << (log_len % LOG_SIZE % 8));
        uint8_t *map = &log_service[log_len % LOG_SIZE / 8];
        *map = service ? *map | bit : *map & ~bit;
        log_buf[log_len % LOG_SIZE] = s[i];
        log_len++;
        if (active_console && !console_owner)
            console_put(active_console, s[i]);
    }
    if (console_owner)
        console_kick_pending = true;
    else
        console_sent = log_len;
}

void vprintk(const char *fmt, va_list ap)
{
    char line[512];
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n < 0 || n >= (int)sizeof(line))
        n = (int)strlen(line);
    irqflags_t flags = spin_lock_irqsave(&log_lock);
    log_write(line, (size_t)n, false);
    spin_unlock_irqrestore(&log_lock, flags);
}

void log_service_line(const char *text, size_t len)
{
    irqflags_t flags = spin_lock_irqsave(&log_lock);
    log_write(text, len, true);
    spin_unlock_irqrestore(&log_lock, flags);
}

size_t log_read(uint64_t *pos, char *buf, size_t len)
{
    size_t n = 0;
    irqflags_t flags = spin_lock_irqsave(&log_lock);
    uint64_t oldest = log_len > LOG_SIZE ? log_len - LOG_SIZE : 0;
    if (*pos < oldest)
        *pos = oldest;
    for (; n < len && *pos + n < log_len; n++)
        buf[n] = log_buf[(*pos + n) % LOG_SIZE];
    spin_unlock_irqrestore(&log_lock, flags);
    return n;
}

void printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}

static void replay_from(struct console *con, uint64_t from)
{
    uint64_t start = log_len > LOG_SIZE ? log_len - LOG_SIZE : 0;
    for (uint64_t i = from > start ? from : start; i < log_len; i++)
        console_put(con, log_buf[i % LOG_SIZE]);
}

static void replay_log(struct console *con)
{
    replay_from(con, 0);
}

/* The kernel writes again: send what the owner left unread. Under log_lock. */
static void console_take_back(void)
{
    if (console_owner && active_console)
        replay_from(active_console, console_sent);
    console_owner = NULL;
    console_sent = log_len;
}

int console_take(struct process *owner, struct notification *n, uint64_t bits)
{
    if (bits == 0 || (console_owner && console_owner != owner))
        return ERR_BAD_STATE; /* one driver owns the console at a time */
    object_ref(&n->obj);
    irqflags_t flags = spin_lock_irqsave(&log_lock);
    struct notification *old = console_ntfn;
    console_owner = owner;
    console_ntfn = n;
    console_bits = bits;
    console_kick_pending = console_sent != log_len;
    spin_unlock_irqrestore(&log_lock, flags);
    if (old)
        object_unref(&old->obj);
    console_kick();
    return OK;
}

void console_release(struct process *owner)
{
    if (!console_owner || console_owner != owner)
        return;
    irqflags_t flags = spin_lock_irqsave(&log_lock);
    console_take_back();
    struct notification *old = console_ntfn;
    console_ntfn = NULL;
    spin_unlock_irqrestore(&log_lock, flags);
    if (old)
        object_unref(&old->obj);
}

size_t console_read(struct process *owner, char *buf, size_t len, bool no_service)
{
    size_t n = 0;
    irqflags_t flags = spin_lock_irqsave(&log_lock);
    if (console_owner == owner) {
        if (log_len - console_sent > LOG_SIZE)
            console_sent = log_len - LOG_SIZE; /* the ring wrapped: the oldest is gone */
        while (n < len && console_sent < log_len) {
            size_t at = console_sent++ % LOG_SIZE;
            if (!no_service || !(log_service[at / 8] & (1u << (at % 8))))
                buf[n++] = log_buf[at]; /* else it stays in the log only (dmesg) */
        }
    }
    spin_unlock_irqrestore(&log_lock, flags);
    return n;
}

void console_kick_slow(void)
{
    console_kick_pending = false;
    if (console_ntfn)
        notification_signal(console_ntfn, console_bits);
}

void console_activate(struct console *con)
{
    irqflags_t flags = spin_lock_irqsave(&log_lock);
    if (active_console != con) {
        active_console = con;
        replay_log(con);
    }
    spin_unlock_irqrestore(&log_lock, flags);
}

struct console *console_active(void)
{
    return active_console;
}

void console_flush(void)
{
    irqflags_t flags = spin_lock_irqsave(&log_lock);
    console_take_back(); /* system exit: what the driver has not sent goes out now */
    spin_unlock_irqrestore(&log_lock, flags);
    if (active_console && active_console->flush)
        active_console->flush(active_console);
}

void console_emergency(void)
{
    spin_init(&log_lock, "log"); /* this CPU may have held it */
    console_take_back();
    if (!active_console) {
        active_console = board_early_console();
        replay_log(active_console);
    }
    console_flush();
}
