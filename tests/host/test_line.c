/*
 * Host tests for the console line discipline (servers/uart/line.c): what a
 * person typing sees echoed, and what the reading client gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "line.h"

static struct line l;
static char echoed[4096];
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

static void test_long_line_and_full_queue(void **state)
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
    for (int i = 0; i < LINE_QUEUE + 3; i++)
        TYPE("q\r"); /* nobody reads */
    assert_int_equal(l.dropped, 3);
    for (int i = 0; i < LINE_QUEUE; i++)
        expect_line("q\n");
    assert_false(line_ready(&l));
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
        cmocka_unit_test_setup(test_long_line_and_full_queue, setup),
        cmocka_unit_test_setup(test_output_crlf, setup),
        cmocka_unit_test_setup(test_raw_mode, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
