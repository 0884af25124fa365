/*
 * Protocol of the uart driver (servers/uart): the console and any other
 * UART devmgr found. Several clients may use one UART at once; each is
 * told apart by the badge of its handle. Bytes travel in the IPC buffer
 * (message word 6 onwards), like the fs server's data.
 *
 * UART_WRITE sends bytes ('\n' goes out as "\r\n"); when the driver's
 * transmit queue is full the reply waits until the bytes are queued.
 * UART_READ returns one line of edited input (servers/uart/line.h) of at
 * most `max` bytes, waiting until one is typed: 0 bytes is end-of-file
 * (^D on an empty line); UART_READ_INTERRUPTED means ^C was typed and this
 * client is in the foreground. UART_SET_FOREGROUND makes the caller the
 * foreground client and gives the driver a notification on which ^C
 * signals `bits` (the shell uses it to stop the program it runs).
 * UART_SET_MODE switches between the cooked and the raw discipline.
 */
#ifndef MICA_PROTO_UART_H
#define MICA_PROTO_UART_H

#include <mica/server.h>

#define UART_IO_MAX 960                   /* bytes per UART_WRITE or UART_READ */
#define UART_DATA_WORD MICA_MSG_REG_WORDS /* data starts at message word 6 */

/*     name                label request words  reply words */
#define UART_OPS(X)                                                                                \
    X(UART_WRITE, 1, 1, 1)          /* (len; data) -> bytes written */                             \
    X(UART_READ, 2, 1, 2)           /* (max) -> len, flags; data */                                \
    X(UART_SET_FOREGROUND, 3, 1, 0) /* (bits; 1 handle: a notification) */                         \
    X(UART_INFO, 4, 0, 4)           /* () -> bytes received, bytes sent, interrupts, bytes lost */ \
    X(UART_SET_MODE, 5, 1, 0)       /* (UART_MODE_* flags): cooked (0) or raw */

enum {
#define UART_LABEL(name, label, req, rep) name = label,
    UART_OPS(UART_LABEL)
#undef UART_LABEL
};

#define UART_READ_INTERRUPTED 1u /* UART_READ flags */

/* UART_SET_MODE: 0 is the cooked line discipline (editing, echo, ^C);
 * UART_MODE_RAW hands every byte to the reader at once (a Linux program's
 * termios without ICANON), echoing it with UART_MODE_ECHO, and ^C stays an
 * interrupt with UART_MODE_ISIG. The mode belongs to the UART, not to a
 * client: the native shell sets cooked mode at each prompt. */
#define UART_MODE_RAW 1u
#define UART_MODE_ECHO 2u
#define UART_MODE_ISIG 4u
int uart_set_mode(mica_handle_t uart, unsigned mode);

/* Client stubs (libcap/src/uart_client.c). uart_write sends all len bytes
 * (in UART_IO_MAX pieces); uart_read returns bytes read or a negative
 * status, *flags the UART_READ_* flags. */
int uart_write(mica_handle_t uart, const void *data, size_t len);
int uart_puts(mica_handle_t uart, const char *s);
int uart_printf(mica_handle_t uart, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
long uart_read(mica_handle_t uart, void *buf, size_t max, unsigned *flags);
/* Moves `notification` (needs TRANSFER) to the driver. */
int uart_set_foreground(mica_handle_t uart, mica_handle_t notification, uint64_t bits);

#endif
