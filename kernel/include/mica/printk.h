/*
 * Kernel log. printk() formats a message into the log ring buffer and, once
 * a console is active, writes it out. Messages printed before the console is
 * chosen (the device tree decides which UART) are kept and replayed when it
 * comes up, so nothing from early boot is lost.
 */
#ifndef MICA_PRINTK_H
#define MICA_PRINTK_H

#include <mica/types.h>
#include <stdarg.h>

#include <mica/format.h>

void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintk(const char *fmt, va_list ap);

/* Console drivers (kernel/dev/pl011.c, platforms/raspi3b/miniuart.c). */
struct console {
    const char *name;
    paddr_t phys;
    volatile void *regs;
    void (*putc)(struct console *con, char c);
    void (*flush)(struct console *con); /* wait until the FIFO drained */
};

/* Make con the console and replay the log into it. Called by main.c once
 * the device tree (or board default) named the UART. */
void console_activate(struct console *con);
struct console *console_active(void);
/* Panic path: activate the board's early console if none is active yet,
 * then drain the output. */
void console_emergency(void);
void console_flush(void);
/*
 * Console handover (the kernel lock held). console_take: owner's driver
 * now sends the log; `bits` are signalled on n when there is more to
 * read (ERR_BAD_STATE if another process owns it). console_read: up to
 * len unsent bytes, 0 if none or not the owner. console_release: the
 * kernel writes again (the owner gave up or died). console_kick: signal
 * the owner if text arrived; called on the way back to EL0.
 */
struct process;
struct notification;
int console_take(struct process *owner, struct notification *n, uint64_t bits);
size_t console_read(struct process *owner, char *buf, size_t len, bool no_service);
/* A service's line (debug_log with MICA_LOG_SERVICE): logged like printk's,
 * marked so that console_read(no_service) leaves it out. */
void log_service_line(const char *text, size_t len);
/* Up to len bytes of the log from position *pos (bytes logged since boot),
 * or from the oldest still held; *pos becomes the first byte's position.
 * For sys_log_read (dmesg). */
size_t log_read(uint64_t *pos, char *buf, size_t len);
void console_release(struct process *owner);
extern bool console_kick_pending;
void console_kick_slow(void);
/* Inline: it runs on every return to EL0, and is almost always a no-op. */
static inline void console_kick(void)
{
    if (__builtin_expect(__atomic_load_n(&console_kick_pending, __ATOMIC_RELAXED), 0))
        console_kick_slow();
}

/* The board's default console, already mapped by boot/early_mmu.c. */
struct console *board_early_console(void);

#endif
