/*
 * The console line discipline (see line.h): one ring of input bytes with a
 * bit per byte marking where a cooked line ends and another marking a ^D
 * (which ends a line but is not data). The ring's three counters only
 * grow: tail (the oldest unread byte), canon (the end of what a cooked
 * reader may take) and head (the end of all input; canon..head is the
 * line being edited). Everything here is called by the driver's one
 * thread (servers/uart/main.c) or by the host tests.
 */
#include "line.h"
#include <string.h>

#define CTRL(c) ((c)&0x1F)
#define SLOT(i) ((i) & (LINE_BUF - 1))

static bool bit(const uint8_t *map, size_t i)
{
    return map[SLOT(i) / 8] & (1u << (SLOT(i) % 8));
}

static void set_bit(uint8_t *map, size_t i, bool on)
{
    uint8_t mask = (uint8_t)(1u << (SLOT(i) % 8));
    map[SLOT(i) / 8] = on ? map[SLOT(i) / 8] | mask : map[SLOT(i) / 8] & ~mask;
}

void line_init(struct line *l)
{
    memset(l, 0, sizeof(*l));
}

size_t line_room(const struct line *l)
{
    return LINE_BUF - (l->head - l->tail);
}

/* Store one byte at the head; the caller checked line_room. */
static void put(struct line *l, char c, bool end, bool eof)
{
    l->buf[SLOT(l->head)] = c;
    set_bit(l->ends, l->head, end);
    set_bit(l->eofs, l->head, eof);
    l->head++;
}

/* ^C: nothing typed so far is for anyone any more. */
static void flush(struct line *l)
{
    l->tail = l->canon = l->head;
}

void line_set_mode(struct line *l, bool raw, bool echo, bool isig)
{
    if (!l->raw && raw) {
        l->canon = l->head; /* the half typed line is raw data now */
    } else if (l->raw && !raw) {
        if (l->head != l->tail) /* unread raw bytes: one completed line */
            set_bit(l->ends, l->head - 1, true);
        l->canon = l->head;
    }
    l->raw = raw;
    l->echo = echo;
    l->isig = isig;
}

/* Raw mode: the byte is the reader's as it is. */
static unsigned raw_input(struct line *l, char c, char *echo, size_t *echo_len)
{
    *echo_len = 0;
    if (l->isig && c == CTRL('C')) {
        flush(l);
        return LINE_INTERRUPT;
    }
    if (!line_room(l)) {
        l->dropped++;
        return 0;
    }
    put(l, c, false, false);
    l->canon = l->head;
    if (l->echo) {
        echo[0] = c;
        *echo_len = 1;
    }
    return LINE_READY;
}

/* End the line being edited (Enter or ^D): readers may take it. */
static unsigned complete(struct line *l, char c, bool eof)
{
    put(l, c, true, eof);
    l->canon = l->head;
    return LINE_READY;
}

unsigned line_input(struct line *l, char c, char *echo, size_t *echo_len)
{
    size_t n = 0, edit_len = l->head - l->canon;
    unsigned flags = 0;
    unsigned char u = (unsigned char)c;
    if (l->raw)
        return raw_input(l, c, echo, echo_len);
    *echo_len = 0;
    if (u == CTRL('C')) {
        flush(l);
        memcpy(echo, "^C\r\n", 4);
        *echo_len = 4;
        return LINE_INTERRUPT;
    }
    if (!line_room(l)) { /* the driver should have waited */
        l->dropped++;
        return 0;
    }
    if (u == '\r' || u == '\n') {
        flags = complete(l, '\n', false); /* edit_len < LINE_MAX always */
        echo[n++] = '\r';
        echo[n++] = '\n';
    } else if (u == 0x7F || u == CTRL('H')) {
        if (edit_len) {
            l->head--;
            memcpy(echo, "\b \b", 3);
            n = 3;
        }
    } else if (u == CTRL('U')) {
        if (edit_len) { /* the line is gone: continue on a fresh one */
            l->head = l->canon;
            memcpy(echo, "^U\r\n", 4);
            n = 4;
        }
    } else if (u == CTRL('D')) {
        flags = complete(l, CTRL('D'), true); /* empty: end-of-file */
    } else if (u >= 0x20 && u < 0x7F) {
        if (edit_len < LINE_MAX - 1) { /* room for the '\n' stays */
            put(l, c, false, false);
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
    return l->canon != l->tail;
}

size_t line_read(struct line *l, char *dst, size_t max)
{
    size_t avail = l->canon - l->tail, n, take;
    if (l->raw) {
        n = take = max < avail ? max : avail;
    } else {
        /* Up to the end of the oldest line; one byte further than max is
         * looked at so that a ^D right after max bytes goes with them. */
        size_t look = max + 1 < avail ? max + 1 : avail, i = 0;
        while (i < look && !bit(l->ends, l->tail + i))
            i++;
        if (i == look) {
            n = take = max < avail ? max : avail;
        } else if (bit(l->eofs, l->tail + i)) {
            n = i; /* the ^D is not data */
            take = i + 1;
        } else {
            n = take = i + 1 <= max ? i + 1 : max;
        }
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = l->buf[SLOT(l->tail + i)];
    l->tail += take;
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
