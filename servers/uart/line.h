/*
 * The console line discipline: what turns keystrokes into lines. Pure code
 * (no syscalls, no allocation) so the host tests drive it byte by byte.
 *
 * Input is edited a line at a time, with echo: printable bytes are added,
 * backspace (DEL or ^H) erases one, ^U drops the line, Enter (CR or LF)
 * ends it with '\n'. ^C throws the line away and reports an interrupt (the
 * driver signals the foreground client). ^D ends the line without a
 * newline, or, on an empty line, is end-of-file: a read that returns 0
 * bytes. Completed lines wait in a small queue until a client reads them;
 * a read returns at most one line. Other control bytes are ignored.
 *
 * Output: '\n' goes out as "\r\n" (line_output).
 *
 * Raw mode (a Linux program's termios without ICANON, line_set_mode): no
 * editing; every byte is for the reader at once, echoed only if asked,
 * and ^C still interrupts if `isig`.
 */
#ifndef UART_LINE_H
#define UART_LINE_H

#include <stdbool.h>
#include <stddef.h>

#define LINE_MAX 255 /* bytes of a line, its '\n' included */
#define LINE_QUEUE 8 /* completed lines (or EOFs) waiting for readers */

struct line {
    char edit[LINE_MAX];
    size_t edit_len;
    struct {
        char text[LINE_MAX];
        size_t len; /* 0: end-of-file */
    } queue[LINE_QUEUE];
    unsigned head, count; /* the queue: oldest at head */
    size_t consumed;      /* bytes of the oldest line already read */
    unsigned dropped;     /* lines lost because the queue was full */
    bool raw, echo, isig; /* raw mode and its options */
    char raw_bytes[LINE_MAX];
    size_t raw_len;
};

/* line_input results (flags) */
#define LINE_READY 1u     /* a line (or EOF) is ready for a reader */
#define LINE_INTERRUPT 2u /* ^C */

#define LINE_ECHO_MAX 8 /* bytes one input byte may echo */

void line_init(struct line *l);
/* Feed one received byte; what to echo goes to echo (*echo_len bytes, at
 * most LINE_ECHO_MAX). Returns LINE_* flags. */
unsigned line_input(struct line *l, char c, char *echo, size_t *echo_len);
/* Cooked (raw false: editing, echo, ^C) or raw with the given options;
 * switching drops what is half typed. */
void line_set_mode(struct line *l, bool raw, bool echo, bool isig);
/* Is a line (or EOF) waiting? */
bool line_ready(const struct line *l);
/* Take up to max bytes of the oldest line (the rest of a line longer than
 * max stays for the next read). Returns the bytes copied; 0 with a line
 * ready means end-of-file. Call only when line_ready(). */
size_t line_read(struct line *l, char *dst, size_t max);
/* Copy src to dst turning "\n" into "\r\n"; stops before dst would
 * overflow. Returns bytes written to dst; *used says how many of src. */
size_t line_output(const char *src, size_t len, char *dst, size_t cap, size_t *used);

#endif
