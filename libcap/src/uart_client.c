/* Client side of the uart protocol (mica/proto/uart.h). */
#include <mica/proto/uart.h>
#include <stdarg.h>
#include <string.h>

int uart_write(mica_handle_t uart, const void *data, size_t len)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    if (!buf)
        return MICA_ERR_NO_MEMORY;
    const char *p = data;
    while (len) {
        size_t n = len < UART_IO_MAX ? len : UART_IO_MAX;
        struct mica_msg m = {0};
        memcpy(buf->words, p, n);
        m.w[0] = n;
        m.info = mica_msg_info(UART_WRITE, UART_DATA_WORD + (unsigned)((n + 7) / 8), 0, 0);
        int err = mica_call(uart, &m);
        if (!err)
            err = (int)(int64_t)m.w[0];
        if (err)
            return err;
        if (MICA_MSG_WORDS(m.info) < 2 || m.w[1] != n)
            return MICA_ERR_BAD_STATE;
        p += n;
        len -= n;
    }
    return MICA_OK;
}

int uart_puts(mica_handle_t uart, const char *s)
{
    return uart_write(uart, s, strlen(s));
}

int uart_printf(mica_handle_t uart, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0)
        return n;
    return uart_write(uart, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

long uart_read(mica_handle_t uart, void *out, size_t max, unsigned *flags)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    if (!buf)
        return MICA_ERR_NO_MEMORY;
    struct mica_msg m = {0};
    m.w[0] = max < UART_IO_MAX ? max : UART_IO_MAX;
    m.info = mica_msg_info(UART_READ, 1, 0, 0);
    int err = mica_call(uart, &m);
    if (!err)
        err = (int)(int64_t)m.w[0];
    if (err)
        return err;
    uint64_t len = m.w[1];
    if (MICA_MSG_WORDS(m.info) < 3 || len > max ||
        (len && MICA_MSG_WORDS(m.info) < UART_DATA_WORD + (len + 7) / 8))
        return MICA_ERR_BAD_STATE;
    memcpy(out, buf->words, len);
    *flags = (unsigned)m.w[2];
    return (long)len;
}

int uart_set_mode(mica_handle_t uart, unsigned mode)
{
    uint64_t arg = mode;
    return mica_request(uart, UART_SET_MODE, &arg, 1, NULL, 0);
}

int uart_set_foreground(mica_handle_t uart, mica_handle_t notification, uint64_t bits)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    if (!buf)
        return MICA_ERR_NO_MEMORY;
    struct mica_msg m = {0};
    m.w[0] = bits;
    buf->handles[0] = notification;
    m.info = mica_msg_info(UART_SET_FOREGROUND, 1, 1, 0);
    int err = mica_call(uart, &m);
    return err ? err : (int)(int64_t)m.w[0];
}
