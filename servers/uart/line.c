/* The console line discipline (see line.h). */
#include "line.h"
#include <string.h>

#define CTRL(c) ((c)&0x1F)

void line_init(struct line *l)
{
    memset(l, 0, sizeof(*l));
}

/* Move the edited text (len bytes) to the queue of completed lines. */
static unsigned complete(struct line *l, size_t len)
{
    l->edit_len = 0;
    if (l->count == LINE_QUEUE) {
        l->dropped++; /* nobody reads: keep what came first */
        return 0;
    }
    unsigned slot = (l->head + l->count) % LINE_QUEUE;
    memcpy(l->queue[slot].text, l->edit, len);
    l->queue[slot].len = len;
    l->count++;
    return LINE_READY;
}

void line_set_mode(struct line *l, bool raw, bool echo, bool isig)
{
    l->raw = raw;
    l->echo = echo;
    l->isig = isig;
    l->edit_len = 0;
    l->raw_len = 0;
}

/* Raw mode: the byte is the reader's as it is. */
static unsigned raw_input(struct line *l, char c, char *echo, size_t *echo_len)
{
    *echo_len = 0;
    if (l->isig && c == CTRL('C'))
        return LINE_INTERRUPT;
    if (l->raw_len == sizeof(l->raw_bytes)) {
        l->dropped++;
        return 0;
    }
    l->raw_bytes[l->raw_len++] = c;
    if (l->echo) {
        echo[0] = c;
        *echo_len = 1;
    }
    return LINE_READY;
}

unsigned line_input(struct line *l, char c, char *echo, size_t *echo_len)
{
    size_t n = 0;
    unsigned flags = 0;
    unsigned char u = (unsigned char)c;
    if (l->raw)
        return raw_input(l, c, echo, echo_len);
    if (u == '\r' || u == '\n') {
        l->edit[l->edit_len++] = '\n'; /* edit_len < LINE_MAX always */
        flags = complete(l, l->edit_len);
        echo[n++] = '\r';
        echo[n++] = '\n';
    } else if (u == 0x7F || u == CTRL('H')) {
        if (l->edit_len) {
            l->edit_len--;
            memcpy(echo, "\b \b", 3);
            n = 3;
        }
    } else if (u == CTRL('U')) {
        if (l->edit_len) { /* the line is gone: continue on a fresh one */
            l->edit_len = 0;
            memcpy(echo, "^U\r\n", 4);
            n = 4;
        }
    } else if (u == CTRL('C')) {
        l->edit_len = 0;
        memcpy(echo, "^C\r\n", 4);
        n = 4;
        flags = LINE_INTERRUPT;
    } else if (u == CTRL('D')) {
        flags = complete(l, l->edit_len); /* empty: end-of-file */
    } else if (u >= 0x20 && u < 0x7F) {
        if (l->edit_len < LINE_MAX - 1) { /* room for the '\n' stays */
            l->edit[l->edit_len++] = c;
            echo[n++] = c;
        } else {
            echo[n++] = '\a'; /* full: ring the bell */
        }
    }
    *echo_len = n;
    return flags;
}

bool line_ready(const struct line *l)
{
    return l->raw ? l->raw_len > 0 : l->count > 0;
}

size_t line_read(struct line *l, char *dst, size_t max)
{
    if (l->raw) {
        size_t n = max < l->raw_len ? max : l->raw_len;
        memcpy(dst, l->raw_bytes, n);
        memmove(l->raw_bytes, l->raw_bytes + n, l->raw_len - n);
        l->raw_len -= n;
        return n;
    }
    if (!l->count)
        return 0;
    size_t len = l->queue[l->head].len;
    size_t n = len - l->consumed;
    if (n > max)
        n = max;
    memcpy(dst, l->queue[l->head].text + l->consumed, n);
    l->consumed += n;
    if (l->consumed >= len) { /* all of it (or an end-of-file) taken */
        l->head = (l->head + 1) % LINE_QUEUE;
        l->count--;
        l->consumed = 0;
    }
    return n;
}

size_t line_output(const char *src, size_t len, char *dst, size_t cap, size_t *used)
{
    size_t i = 0, n = 0;
    for (; i < len; i++) {
        if (src[i] == '\n') {
            if (n + 2 > cap)
                break;
            dst[n++] = '\r';
        } else if (n + 1 > cap) {
            break;
        }
        dst[n++] = src[i];
    }
    *used = i;
    return n;
}
