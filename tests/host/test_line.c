/*
 * Host tests for the console line discipline (servers/uart/line.c): what a
 * person typing sees echoed, and what the reading client gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "line.h"

static struct line l;
static char echoed[1 << 20];
static size_t n_echoed;
static unsigned events;

/* Type s byte by byte, collecting the echo and the event flags. */
static void type(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char echo[LINE_ECHO_MAX];
        size_t k = 99;
        events |= line_input(&l, s[i], echo, &k);
        assert_true(k <= LINE_ECHO_MAX);
        assert_true(n_echoed + k < sizeof(echoed));
        memcpy(echoed + n_echoed, echo, k);
        n_echoed += k;
    }
    echoed[n_echoed] = '\0';
}
#define TYPE(s) type(s, sizeof(s) - 1)

static int setup(void **state)
{
    (void)state;
    line_init(&l);
    n_echoed = 0;
    events = 0;
    echoed[0] = '\0';
    return 0;
}

static void expect_line(const char *want)
{
    char buf[LINE_MAX + 1];
    assert_true(line_ready(&l));
    size_t n = line_read(&l, buf, sizeof(buf));
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void test_echo_and_enter(void **state)
{
    (void)state;
    TYPE("ls /bin");
    assert_false(line_ready(&l));
    assert_string_equal(echoed, "ls /bin");
    TYPE("\r");
    assert_true(events & LINE_READY);
    assert_string_equal(echoed, "ls /bin\r\n");
    expect_line("ls /bin\n");
    assert_false(line_ready(&l));
    TYPE("x\n"); /* LF ends a line too */
    expect_line("x\n");
}

static void test_backspace(void **state)
{
    (void)state;
    TYPE("abX\x7f"
         "c\b"
         "d\r");
    assert_string_equal(echoed, "abX\b \bc\b \bd\r\n");
    expect_line("abd\n");
    TYPE("\x7f\x7f\r"); /* nothing to erase: no echo */
    assert_string_equal(echoed + strlen("abX\b \bc\b \bd\r\n"), "\r\n");
    expect_line("\n");
}

static void test_kill_line_and_controls(void **state)
{
    (void)state;
    TYPE("gone\x15kept\x01\x1b\r"); /* ^U, then ^A and ESC are ignored */
    expect_line("kept\n");
    assert_non_null(strstr(echoed, "^U\r\n"));
    assert_null(strchr(echoed, '\x1b'));
}

static void test_interrupt(void **state)
{
    (void)state;
    TYPE("sleep 10\x03");
    assert_true(events & LINE_INTERRUPT);
    assert_false(events & LINE_READY);
    assert_false(line_ready(&l)); /* the line is thrown away */
    assert_string_equal(echoed, "sleep 10^C\r\n");
    TYPE("next\r");
    expect_line("next\n");
}

static void test_end_of_file(void **state)
{
    (void)state;
    char buf[16];
    TYPE("\x04"); /* ^D on an empty line: a 0-byte read */
    assert_true(line_ready(&l));
    assert_int_equal(line_read(&l, buf, sizeof(buf)), 0);
    assert_false(line_ready(&l));
    TYPE("abc\x04"); /* ^D after text: the text, without a newline */
    expect_line("abc");
    assert_string_equal(echoed, "abc");
}

static void test_partial_reads(void **state)
{
    (void)state;
    char buf[8];
    TYPE("0123456789\r");
    assert_int_equal(line_read(&l, buf, 4), 4);
    assert_memory_equal(buf, "0123", 4);
    assert_true(line_ready(&l)); /* the rest stays for the next read */
    assert_int_equal(line_read(&l, buf, 4), 4);
    assert_int_equal(line_read(&l, buf, 8), 3);
    assert_memory_equal(buf, "89\n", 3);
    assert_false(line_ready(&l));
}

static void test_long_line(void **state)
{
    (void)state;
    char buf[LINE_MAX + 1];
    for (int i = 0; i < LINE_MAX + 20; i++)
        TYPE("x");
    assert_non_null(strchr(echoed, '\a')); /* a full line rings the bell */
    TYPE("\r");
    size_t n = line_read(&l, buf, sizeof(buf));
    assert_int_equal(n, LINE_MAX);
    assert_int_equal(buf[n - 1], '\n');
}

/* Many lines nobody reads yet: all of them wait, none is lost (the old
 * queue of 8 lines dropped the rest). */
static void test_many_lines_wait(void **state)
{
    (void)state;
    char want[16], buf[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(want, sizeof(want), "line %d\r", i);
        type(want, strlen(want));
    }
    assert_int_equal(l.dropped, 0);
    for (int i = 0; i < 1000; i++) {
        snprintf(want, sizeof(want), "line %d\n", i);
        size_t n = line_read(&l, buf, sizeof(buf) - 1);
        buf[n] = '\0';
        assert_string_equal(buf, want);
    }
    assert_false(line_ready(&l));
}

/* The ring fills up: line_room says so before anything is lost, and after
 * a read there is room again; what was taken comes back in order. */
static void test_full_ring(void **state)
{
    (void)state;
    static char buf[LINE_BUF];
    line_set_mode(&l, true, false, true);
    assert_int_equal(line_room(&l), LINE_BUF);
    for (size_t i = 0; i < LINE_BUF; i++) {
        char c = (char)('a' + i % 26);
        assert_true(line_room(&l) > 0);
        type(&c, 1);
    }
    assert_int_equal(line_room(&l), 0);
    assert_int_equal(l.dropped, 0);
    TYPE("!"); /* the driver would have waited: this one is refused */
    assert_int_equal(l.dropped, 1);
    assert_int_equal(line_read(&l, buf, 100), 100);
    assert_int_equal(line_room(&l), 100);
    TYPE("0123456789");
    assert_int_equal(line_read(&l, buf, sizeof(buf)), LINE_BUF - 100 + 10);
    for (size_t i = 0; i < LINE_BUF - 100; i++)
        assert_int_equal(buf[i], 'a' + (i + 100) % 26);
    assert_memory_equal(buf + LINE_BUF - 100, "0123456789", 10); /* across the ring's end */
    /* Cooked lines across the ring's end too. */
    line_set_mode(&l, false, true, true);
    for (size_t round = 0; round < 3 * LINE_BUF / 8; round++) {
        TYPE("abcdefg\r");
        expect_line("abcdefg\n");
    }
}

/* Type-ahead: what is typed while a command runs (cooked mode) reaches the
 * shell when it switches to raw mode for its next prompt, and the other
 * way round; the old discipline dropped it at each switch. */
static void test_typeahead_across_modes(void **state)
{
    (void)state;
    char buf[64];
    line_set_mode(&l, true, false, true); /* busybox at its prompt */
    TYPE("sleep 1\r");
    assert_int_equal(line_read(&l, buf, sizeof(buf)), 8);
    line_set_mode(&l, false, true, true); /* it runs sleep: cooked */
    TYPE("echo b\rexit\rhalf");
    assert_string_equal(echoed, "echo b\r\nexit\r\nhalf"); /* echoed as typed */
    line_set_mode(&l, true, false, true);                  /* its next prompt */
    assert_true(line_ready(&l));
    size_t n = line_read(&l, buf, sizeof(buf));
    assert_int_equal(n, strlen("echo b\nexit\nhalf")); /* the half line too */
    assert_memory_equal(buf, "echo b\nexit\nhalf", n);
    /* Raw bytes nobody read when cooked mode comes back: one line, at once. */
    TYPE("ls");
    line_set_mode(&l, false, true, true);
    expect_line("ls");
    assert_false(line_ready(&l));
    /* A cooked line typed ahead waits through a raw read and back. */
    TYPE("cat f\rpartial");
    line_set_mode(&l, false, true, true); /* cooked again (the native shell) */
    expect_line("cat f\n");
    assert_false(line_ready(&l)); /* "partial" is still being edited */
    TYPE("ly\r");
    expect_line("partially\n");
}

/* ^C throws away all input not yet read, in both modes. */
static void test_interrupt_flushes(void **state)
{
    (void)state;
    TYPE("one\rtwo\rthr\x03");
    assert_true(events & LINE_INTERRUPT);
    assert_false(line_ready(&l));
    line_set_mode(&l, true, false, true);
    TYPE("raw\x03");
    assert_false(line_ready(&l));
    TYPE("x");
    assert_true(line_ready(&l));
}

/* A read of exactly the text before a ^D takes the ^D too, so the next
 * read is not a false end-of-file. */
static void test_eof_at_read_boundary(void **state)
{
    (void)state;
    char buf[8];
    TYPE("abc\x04next\r");
    assert_int_equal(line_read(&l, buf, 3), 3);
    assert_memory_equal(buf, "abc", 3);
    expect_line("next\n");
}

static void test_output_crlf(void **state)
{
    (void)state;
    char out[16];
    size_t used;
    assert_int_equal(line_output("a\nb\n", 4, out, sizeof(out), &used), 6);
    assert_int_equal(used, 4);
    assert_memory_equal(out, "a\r\nb\r\n", 6);
    /* A "\r\n" pair is never split across the end of the buffer. */
    assert_int_equal(line_output("ab\n", 3, out, 3, &used), 2);
    assert_int_equal(used, 2);
    assert_int_equal(line_output("\n", 1, out, 1, &used), 0);
    assert_int_equal(used, 0);
}

static void test_raw_mode(void **state)
{
    (void)state;
    char buf[16];
    line_set_mode(&l, true, false, true);
    TYPE("ab\x7f\r");
    assert_string_equal(echoed, ""); /* no echo, no editing */
    assert_true(line_ready(&l));
    assert_int_equal(line_read(&l, buf, 2), 2);
    assert_memory_equal(buf, "ab", 2);
    assert_int_equal(line_read(&l, buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "\x7f\r", 2);
    assert_false(line_ready(&l));
    TYPE("\x03"); /* ISIG: ^C interrupts, and is not data */
    assert_true(events & LINE_INTERRUPT);
    assert_false(line_ready(&l));
    line_set_mode(&l, true, true, false);
    events = 0;
    TYPE("x\x03");
    assert_false(events & LINE_INTERRUPT); /* without ISIG it is a byte */
    assert_string_equal(echoed, "x\x03");
    assert_int_equal(line_read(&l, buf, sizeof(buf)), 2);
    line_set_mode(&l, false, true, true); /* cooked again */
    TYPE("ok\r");
    expect_line("ok\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_echo_and_enter, setup),
        cmocka_unit_test_setup(test_backspace, setup),
        cmocka_unit_test_setup(test_kill_line_and_controls, setup),
        cmocka_unit_test_setup(test_interrupt, setup),
        cmocka_unit_test_setup(test_end_of_file, setup),
        cmocka_unit_test_setup(test_partial_reads, setup),
        cmocka_unit_test_setup(test_long_line, setup),
        cmocka_unit_test_setup(test_many_lines_wait, setup),
        cmocka_unit_test_setup(test_full_ring, setup),
        cmocka_unit_test_setup(test_typeahead_across_modes, setup),
        cmocka_unit_test_setup(test_interrupt_flushes, setup),
        cmocka_unit_test_setup(test_eof_at_read_boundary, setup),
        cmocka_unit_test_setup(test_output_crlf, setup),
        cmocka_unit_test_setup(test_raw_mode, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
