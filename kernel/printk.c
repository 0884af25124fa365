/*
 * The kernel log: a ring buffer of everything printk() said, and the
 * console it goes out on.
 *
 * Before the console is chosen, messages only go into the ring; when
 * console_activate() runs they are replayed, so early boot output is never
 * lost. On panic, console_emergency() breaks the lock (the panicking CPU may
 * hold it) and falls back to the board's early console if none is active.
 */
#include <mica/printk.h>
#include <mica/spinlock.h>
#include <string.h>

#define LOG_SIZE 65536

/* log_lock protects log_buf, log_len and the active console's output. */
static struct spinlock log_lock = SPINLOCK_INIT("log");
static char log_buf[LOG_SIZE];
static uint64_t log_len; /* bytes ever written; the ring holds the last LOG_SIZE */
static struct console *active_console;

static void console_put(struct console *con, char c)
{
    if (c == '\n')
        con->putc(con, '\r');
    con->putc(con, c);
}

static void log_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        log_buf[log_len % LOG_SIZE] = s[i];
        log_len++;
        if (active_console)
            console_put(active_console, s[i]);
    }
}

void vprintk(const char *fmt, va_list ap)
{
    char line[512];
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n < 0 || n >= (int)sizeof(line))
        n = (int)strlen(line);
    irqflags_t flags = spin_lock_irqsave(&log_lock);
    log_write(line, (size_t)n);
    spin_unlock_irqrestore(&log_lock, flags);
}

void printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}

static void replay_log(struct console *con)
{
    uint64_t start = log_len > LOG_SIZE ? log_len - LOG_SIZE : 0;
    for (uint64_t i = start; i < log_len; i++)
        console_put(con, log_buf[i % LOG_SIZE]);
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
    if (active_console && active_console->flush)
        active_console->flush(active_console);
}

void console_emergency(void)
{
    spin_init(&log_lock, "log"); /* this CPU may have held it */
    if (!active_console) {
        active_console = board_early_console();
        replay_log(active_console);
    }
    console_flush();
}
