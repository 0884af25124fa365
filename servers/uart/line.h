/*
 * The console line discipline: what turns keystrokes into lines. Pure code
 * (no syscalls, no allocation) so the host tests drive it byte by byte.
 *
 * All input waits in one ring of bytes, LINE_BUF long, in the order it was
 * typed, whatever the mode, as Linux's n_tty keeps it: switching between
 * cooked and raw mode never loses a byte, so a line typed while a command
 * runs reaches whoever reads next (the shell at its next prompt).
 *
 * Cooked mode: input is edited a line at a time, with echo: printable
 * bytes are added, backspace (DEL or ^H) erases one, ^U drops the line,
 * Enter (CR or LF) ends it with '\n'. ^D ends the line without a newline,
 * or, on an empty line, is end-of-file: a read that returns 0 bytes. A
 * read returns at most one line; completed lines wait for readers in the
 * ring. The line being edited is the ring's newest part (at most
 * LINE_MAX - 1 bytes; more rings the bell). Other control bytes are
 * ignored.
 *
 * Raw mode (a Linux program's termios without ICANON, line_set_mode): no
 * editing; every byte is for the reader at once, echoed only if asked.
 *
 * Switching modes (n_tty's rules): to raw, everything waiting, the half
 * typed line too, is raw data; to cooked, whatever raw data waits unread
 * counts as one completed line (it was typed without the editing, it is
 * not edited later).
 *
 * ^C (cooked, or raw with `isig`) is not data: it reports an interrupt
 * (the driver signals the foreground client) and throws away all input
 * not yet read, as Linux does without NOFLSH.
 *
 * The ring never drops input: the driver asks line_room() before it takes
 * a byte from the UART and leaves the rest in the hardware (backpressure)
 * while the ring is full.
 *
 * Output: '\n' goes out as "\r\n" (line_output).
 */
#ifndef UART_LINE_H
#define UART_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINE_MAX 255    /* bytes of an edited line, its '\n' included */
#define LINE_BUF 32768u /* bytes of input waiting for readers (a power of two) */

struct line {
    char buf[LINE_BUF];
    uint8_t ends[LINE_BUF / 8]; /* bit per byte: it ends a cooked line */
    uint8_t eofs[LINE_BUF / 8]; /* bit per byte: a ^D, ending a line without being data */
    /* Counters that only grow (indexes are taken modulo LINE_BUF):
     * tail..canon can be read, canon..head is the line being edited
     * (always empty in raw mode). */
    size_t tail, canon, head;
    unsigned dropped;     /* bytes refused: ring full (the driver checks first) */
    bool raw, echo, isig; /* raw mode and its options */
};

/* line_input results (flags) */
#define LINE_READY 1u     /* something (a line, raw bytes, EOF) is ready for a reader */
#define LINE_INTERRUPT 2u /* ^C */

#define LINE_ECHO_MAX 8 /* bytes one input byte may echo */

/* Called once by the driver's main and by each host test. */
void line_init(struct line *l);
/* Bytes the ring can still take; the driver reads the UART only while
 * this is not 0 (each input byte stores at most one byte). */
size_t line_room(const struct line *l);
/* Feed one received byte; what to echo goes to echo (*echo_len bytes, at
 * most LINE_ECHO_MAX). Returns LINE_* flags. */
unsigned line_input(struct line *l, char c, char *echo, size_t *echo_len);
/* Cooked (raw false: editing, echo, ^C) or raw with the given options;
 * pending input stays (see above). */
void line_set_mode(struct line *l, bool raw, bool echo, bool isig);
/* Is something (a line, raw bytes, EOF) waiting for a reader? */
bool line_ready(const struct line *l);
/* Take up to max bytes: in cooked mode of the oldest line (the rest of a
 * line longer than max stays for the next read), in raw mode whatever
 * waits. Returns the bytes copied; 0 with a line ready means end-of-file.
 * Call only when line_ready(). */
size_t line_read(struct line *l, char *dst, size_t max);
/* Copy src to dst turning "\n" into "\r\n"; stops before dst would
 * overflow. Returns bytes written to dst; *used says how many of src. */
size_t line_output(const char *src, size_t len, char *dst, size_t cap, size_t *used);

#endif
