/*
 * Host unit tests for the boot manifest parser (libcap/src/manifest.c;
 * the format is docs/boot-manifest.md).
 *
 * The parser takes text that is not NUL-terminated, so every manifest is
 * copied into a malloc'd block of exactly its length: valgrind or ASan
 * flags any read past the end even where a test still passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mica/abi.h>
#include <mica/manifest.h>

static struct manifest m;

/* manifest_parse on an exact-size copy of len bytes of text. */
static int parse_n(const char *text, size_t len, unsigned *line, const char **why)
{
    char *p = malloc(len ? len : 1);
    assert_non_null(p);
    if (len)
        memcpy(p, text, len);
    *line = 12345;
    *why = "(not set)";
    int err = manifest_parse(p, len, &m, line, why);
    free(p);
    return err;
}

static void expect_ok(const char *text)
{
    unsigned line;
    const char *why;
    int err = parse_n(text, strlen(text), &line, &why);
    if (err != MICA_OK)
        fail_msg("rejected (%d) at line %u: %s", err, line, why ? why : "(null)");
    assert_int_equal(line, 0);
    assert_null(why);
}

/* Rejected at line `want_line` with a reason containing `reason`. */
static void expect_bad(const char *text, unsigned want_line, const char *reason)
{
    unsigned line;
    const char *why;
    int err = parse_n(text, strlen(text), &line, &why);
    if (err == MICA_OK)
        fail_msg("accepted; expected \"%s\" at line %u", reason, want_line);
    assert_int_equal(err, MICA_ERR_INVALID_ARGS);
    assert_non_null(why);
    assert_true(why[0] != '\0');
    if (line != want_line || !strstr(why, reason))
        fail_msg("rejected at line %u (\"%s\"), expected line %u (\"%s\")", line, why, want_line,
                 reason);
}

static void expect_defaults(const struct manifest_service *s)
{
    assert_int_equal(s->restart, RESTART_PERMANENT);
    assert_int_equal(s->strategy, ONE_FOR_ONE);
    assert_int_equal(s->max_restarts, 3);
    assert_int_equal(s->period_s, 5);
    assert_string_equal(s->group, "");
}

static void test_valid(void **state)
{
    (void)state;
    expect_ok("# The boot manifest\n"
              "\n"
              "   \t \n"
              "service kv bin/kv\n"
              "#service off bin/off\n"
              "  # an indented comment\n"
              "\tservice\tlog\t bin/log \trestart=transient group=core strategy=one_for_all "
              "intensity=10/60\n"
              "service fs bin/fs   restart=temporary group=core strategy=rest_for_one "
              "intensity=0/1   \n"
              "service net bin/net strategy=one_for_one restart=permanent intensity=1000/1\n"
              "run bin/test\n");
    assert_int_equal(m.n_services, 4);
    assert_string_equal(m.run, "bin/test");

    assert_string_equal(m.services[0].name, "kv");
    assert_string_equal(m.services[0].program, "bin/kv");
    expect_defaults(&m.services[0]);

    const struct manifest_service *s = &m.services[1];
    assert_string_equal(s->name, "log");
    assert_string_equal(s->program, "bin/log");
    assert_int_equal(s->restart, RESTART_TRANSIENT);
    assert_string_equal(s->group, "core");
    assert_int_equal(s->strategy, ONE_FOR_ALL);
    assert_int_equal(s->max_restarts, 10);
    assert_int_equal(s->period_s, 60);

    s = &m.services[2];
    assert_string_equal(s->name, "fs");
    assert_string_equal(s->program, "bin/fs");
    assert_int_equal(s->restart, RESTART_TEMPORARY);
    assert_string_equal(s->group, "core");
    assert_int_equal(s->strategy, REST_FOR_ONE);
    assert_int_equal(s->max_restarts, 0);
    assert_int_equal(s->period_s, 1);

    s = &m.services[3];
    assert_string_equal(s->name, "net");
    assert_int_equal(s->restart, RESTART_PERMANENT);
    assert_int_equal(s->strategy, ONE_FOR_ONE);
    assert_int_equal(s->max_restarts, 1000);
    assert_int_equal(s->period_s, 1);
    assert_string_equal(s->group, "");
}

/* A later option of the same kind wins; the run line may come first. */
static void test_valid_order(void **state)
{
    (void)state;
    expect_ok("run bin/sh\n"
              "service a bin/a restart=temporary intensity=1/2 restart=transient intensity=7/9\n");
    assert_string_equal(m.run, "bin/sh");
    assert_int_equal(m.n_services, 1);
    assert_int_equal(m.services[0].restart, RESTART_TRANSIENT);
    assert_int_equal(m.services[0].max_restarts, 7);
    assert_int_equal(m.services[0].period_s, 9);
}

static void test_no_run_line(void **state)
{
    (void)state;
    expect_ok("service a bin/a\n");
    assert_int_equal(m.n_services, 1);
    assert_string_equal(m.run, "");
}

static void test_empty(void **state)
{
    (void)state;
    expect_ok("");
    assert_int_equal(m.n_services, 0);
    assert_string_equal(m.run, "");
    expect_ok("\n\n\n");
    assert_int_equal(m.n_services, 0);
    expect_ok("# only a comment");
    assert_int_equal(m.n_services, 0);
    expect_ok("  \t  ");
    assert_int_equal(m.n_services, 0);
    assert_string_equal(m.run, "");
}

static void test_no_trailing_newline(void **state)
{
    (void)state;
    expect_ok("service a bin/a\nrun bin/x");
    assert_int_equal(m.n_services, 1);
    assert_string_equal(m.run, "bin/x");
    expect_ok("run bin/x\nservice a bin/a intensity=4/8");
    assert_int_equal(m.n_services, 1);
    assert_string_equal(m.services[0].program, "bin/a");
    assert_int_equal(m.services[0].max_restarts, 4);
    assert_int_equal(m.services[0].period_s, 8);
    /* An error on an unterminated last line still names it. */
    expect_bad("service a bin/a\n\nservice b", 3, "program");
    expect_bad("run bin/x\nrun", 2, "run");
}

/* A manifest of n services s0..s(n-1), after two comment lines. */
static char *services(unsigned n)
{
    size_t cap = 64 + n * 64;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t len = (size_t)snprintf(t, cap, "# %u services\n\n", n);
    for (unsigned i = 0; i < n; i++)
        len += (size_t)snprintf(t + len, cap - len, "service s%u bin/s%u group=g%u\n", i, i, i % 3);
    assert_true(len < cap);
    return t;
}

static void test_max_services(void **state)
{
    (void)state;
    char *t = services(MANIFEST_MAX_SERVICES);
    expect_ok(t);
    free(t);
    assert_int_equal(m.n_services, MANIFEST_MAX_SERVICES);
    for (unsigned i = 0; i < MANIFEST_MAX_SERVICES; i++) {
        char name[16], program[16], group[16];
        snprintf(name, sizeof(name), "s%u", i);
        snprintf(program, sizeof(program), "bin/s%u", i);
        snprintf(group, sizeof(group), "g%u", i % 3);
        assert_string_equal(m.services[i].name, name);
        assert_string_equal(m.services[i].program, program);
        assert_string_equal(m.services[i].group, group);
        assert_int_equal(m.services[i].max_restarts, 3);
        assert_int_equal(m.services[i].period_s, 5);
    }

    /* The 17th service is line 19 (after two comment lines). */
    t = services(MANIFEST_MAX_SERVICES + 1);
    expect_bad(t, MANIFEST_MAX_SERVICES + 3, "too many");
    free(t);
}

/* Lengths at the limits: names of 31 bytes, programs of 63, groups of 31. */
static void test_lengths(void **state)
{
    (void)state;
    char text[512], name[64], program[128], group[64];

    memset(name, 'n', 31);
    name[31] = '\0';
    snprintf(text, sizeof(text), "service %s bin/a\n", name);
    expect_ok(text);
    assert_string_equal(m.services[0].name, name);
    memset(name, 'n', 32);
    name[32] = '\0';
    snprintf(text, sizeof(text), "# long name\nservice %s bin/a\n", name);
    expect_bad(text, 2, "name");
    memset(name, 'n', 60);
    name[60] = '\0';
    snprintf(text, sizeof(text), "# long name\nservice %s bin/a\n", name);
    expect_bad(text, 2, "name");

    memset(program, 'p', 63);
    program[63] = '\0';
    snprintf(text, sizeof(text), "service a %s\n", program);
    expect_ok(text);
    assert_string_equal(m.services[0].program, program);
    memset(program, 'p', 64);
    program[64] = '\0';
    snprintf(text, sizeof(text), "\nservice a %s\n", program);
    expect_bad(text, 2, "program");
    memset(program, 'p', 100);
    program[100] = '\0';
    snprintf(text, sizeof(text), "\nservice a %s\n", program);
    expect_bad(text, 2, "program");

    memset(group, 'g', 31);
    group[31] = '\0';
    snprintf(text, sizeof(text), "service a bin/a group=%s\n", group);
    expect_ok(text);
    assert_string_equal(m.services[0].group, group);
    memset(group, 'g', 32);
    group[32] = '\0';
    snprintf(text, sizeof(text), "service a bin/a\nservice b bin/b group=%s\n", group);
    expect_bad(text, 2, "group");

    memset(program, 'r', 62);
    program[62] = '\0';
    snprintf(text, sizeof(text), "run %s\n", program);
    expect_ok(text);
    assert_string_equal(m.run, program);
    memset(program, 'r', 64);
    program[64] = '\0';
    snprintf(text, sizeof(text), "\n\nrun %s\n", program);
    expect_bad(text, 3, "run");
    memset(program, 'r', 100);
    program[100] = '\0';
    snprintf(text, sizeof(text), "\n\nrun %s\n", program);
    expect_bad(text, 3, "run");
}

static void test_unknown_keyword(void **state)
{
    (void)state;
    expect_bad("service a bin/a\nservices b bin/b\n", 2, "unknown keyword");
    expect_bad("\n# ok\nService a bin/a\n", 3, "unknown keyword");
    expect_bad("runx bin/a\n", 1, "unknown keyword");
    expect_bad("service a bin/a\n\n\n  start bin/b\n", 4, "unknown keyword");
    expect_bad("servicexxxxxxxxxxxxxxxxxxxxxxxxxxx a bin/a\n", 1, "unknown keyword");
    expect_bad("service a bin/a\n;comment\n", 2, "unknown keyword");
}

static void test_unknown_option(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "restart=forever", "restart=",           "restart",  "strategy=all_for_one",
        "strategy=",       "Restart=permanent",  "foo=bar",  "group",
        "intensity",       "restart=permanentx", "#comment",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "service a bin/a\n# x\nservice b bin/b %s\n", bad[i]);
        expect_bad(text, 3, "unknown option");
    }
}

static void test_missing_fields(void **state)
{
    (void)state;
    expect_bad("service kv\n", 1, "program");
    expect_bad("# kv\nservice kv   \t\n", 2, "program");
    expect_bad("\nservice\n", 2, "name");
    expect_bad("service \t \n", 1, "name");
    expect_bad("run bin/a\nrun\n", 2, "run");
    expect_bad("run   \t\n", 1, "run");
}

static void test_duplicate(void **state)
{
    (void)state;
    expect_bad("service a bin/a\nservice b bin/b\n# dup\nservice a bin/c\n", 4, "duplicate");
    expect_bad("service a bin/a\nservice a bin/a\n", 2, "duplicate");
    /* Names differing only in case or length are different services. */
    expect_ok("service a bin/a\nservice A bin/a\nservice aa bin/a\n");
    assert_int_equal(m.n_services, 3);
}

static void test_bad_intensity(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "intensity=3",
        "intensity=/5",
        "intensity=3/0",
        "intensity=x/5",
        "intensity=3/x",
        "intensity=3/",
        "intensity=/",
        "intensity=",
        "intensity=3/5/7",
        "intensity=3/5x",
        "intensity=-1/5",
        "intensity=+3/5",
        "intensity= 3/5",
        "intensity=3/00",
        "intensity=99999999/5", /* huge */
        "intensity=3/99999999",
        "intensity=4294967296/5", /* 2^32: wraps to 0 in 32 bits */
        "intensity=3/4294967301", /* 2^32 + 5: wraps to 5 */
        "intensity=18446744073709551619/5",
        "intensity=3/18446744073709551621",
        "intensity=9999999999999999999999/5",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "service a bin/a\n\nservice b bin/b restart=transient %s\n",
                 bad[i]);
        expect_bad(text, 3, "intensity");
    }
    /* The options before the bad one do not leak into a success. */
    expect_bad("service a bin/a intensity=3/0 group=g\n", 1, "intensity");
}

static void test_bad_group(void **state)
{
    (void)state;
    expect_bad("service a bin/a group=\n", 1, "group");
    expect_bad("service a bin/a\n\n\n\nservice b bin/b strategy=one_for_all group=\n", 5, "group");
}

/* run PROGRAM ARG...: the arguments, each ended by a newline. */
static void test_run_arguments(void **state)
{
    (void)state;
    expect_ok("service a bin/a\nrun linux/bin/busybox\tsh -i \n");
    assert_string_equal(m.run, "linux/bin/busybox");
    assert_string_equal(m.run_args, "sh\n-i\n");
    assert_int_equal(m.n_run_args, 2);
    expect_ok("run bin/a \t \n"); /* trailing blanks are not words */
    assert_string_equal(m.run, "bin/a");
    assert_int_equal(m.n_run_args, 0);
    assert_string_equal(m.run_args, "");
    expect_bad("run bin/a 1 2 3 4 5 6 7 8 9\n", 1, "too many or too long arguments");
    char line[300] = "run bin/a ";
    for (int i = 0; i < 3; i++)
        strcat(line, "0123456789012345678901234567890123456789012345678 ");
    strcat(line, "\n");
    expect_bad(line, 1, "too many or too long arguments");
}

/* Edges a reviewer found: CRLF files, NUL bytes, two run lines, long
 * options and run paths at the size limit. */
static void test_edges(void **state)
{
    (void)state;
    expect_ok("service a bin/a restart=transient\r\nrun bin/a\r\n");
    assert_string_equal(m.run, "bin/a");
    assert_string_equal(m.services[0].program, "bin/a");
    assert_int_equal(m.services[0].restart, RESTART_TRANSIENT);

    unsigned line;
    const char *why;
    static const char nul[] = "service a bin/a\nrun bin/a\0 extra\n";
    assert_int_equal(parse_n(nul, sizeof(nul) - 1, &line, &why), MICA_ERR_INVALID_ARGS);
    assert_int_equal(line, 2);
    assert_non_null(strstr(why, "NUL"));

    expect_bad("run bin/a\nrun bin/b\n", 2, "more than one run");

    char text[256];
    char longopt[80];
    memset(longopt, 'x', sizeof(longopt));
    memcpy(longopt, "group=", 6);
    longopt[70] = '\0';
    snprintf(text, sizeof(text), "service a bin/a %s\n", longopt);
    expect_bad(text, 1, "option too long");

    char path[70];
    memset(path, 'p', sizeof(path));
    path[63] = '\0'; /* 63 bytes: the longest accepted */
    snprintf(text, sizeof(text), "run %s\n", path);
    expect_ok(text);
    assert_int_equal(strlen(m.run), 63);
    path[63] = 'p';
    path[64] = '\0';
    snprintf(text, sizeof(text), "run %s\n", path);
    expect_bad(text, 1, "run needs a program path");
}

/* Whatever bytes arrive, the parser answers without reading past them. */
static void test_random_bytes(void **state)
{
    (void)state;
    static const char alphabet[] = "service run restart=transient group=g intensity=3/5 #\n\t a/";
    uint64_t x = 0x2545f4914f6cdd1du;
    for (int iter = 0; iter < 20000; iter++) {
        char text[200];
        size_t len = (size_t)(x % sizeof(text));
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            text[i] = (x & 0x100) ? (char)(x >> 24) : alphabet[(x >> 24) % (sizeof(alphabet) - 1)];
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned line;
        const char *why;
        int err = parse_n(text, len, &line, &why);
        if (err == MICA_OK) {
            assert_int_equal(line, 0);
            assert_true(m.n_services <= MANIFEST_MAX_SERVICES);
            for (unsigned i = 0; i < m.n_services; i++) {
                assert_true(strlen(m.services[i].name) >= 1);
                assert_true(strlen(m.services[i].name) < sizeof(m.services[i].name));
                assert_true(strlen(m.services[i].program) >= 1);
                assert_true(m.services[i].period_s >= 1);
            }
        } else {
            assert_int_equal(err, MICA_ERR_INVALID_ARGS);
            assert_true(line >= 1);
            assert_non_null(why);
            assert_true(why[0] != '\0');
        }
    }
}

/* driver lines (devmgr) and grant=devices (procmgr). */
static void test_drivers_and_grants(void **state)
{
    (void)state;
    const char *text = "service devmgr bin/devmgr grant=devices\n"
                       "service kv bin/kv\n"
                       "driver arm,pl011 bin/uart\n"
                       "  driver\tbrcm,bcm2835-aux-uart   bin/uart  # not a comment: extra\n";
    expect_bad(text, 4, "extra words after driver");
    text = "service devmgr bin/devmgr grant=devices\n"
           "service kv bin/kv\n"
           "driver arm,pl011 bin/uart\n"
           "  driver\tbrcm,bcm2835-aux-uart   bin/uart\r\n";
    expect_ok(text);
    assert_true(m.services[0].devices);
    assert_false(m.services[1].devices);
    assert_int_equal(m.n_drivers, 2);
    assert_string_equal(m.drivers[0].compatible, "arm,pl011");
    assert_string_equal(m.drivers[0].program, "bin/uart");
    assert_string_equal(m.drivers[1].compatible, "brcm,bcm2835-aux-uart");
    assert_string_equal(m.drivers[1].program, "bin/uart");
    expect_bad("driver\n", 1, "driver needs a compatible");
    expect_bad("driver arm,pl011\n", 1, "driver needs a program");
    expect_bad("driver 0123456789012345678901234567890123456789012345678 bin/x\n", 1,
               "driver needs a compatible");
    expect_bad("service a bin/a grant=everything\n", 1, "unknown option");
    char many[1024] = "";
    for (int i = 0; i <= MANIFEST_MAX_DRIVERS; i++)
        strcat(many, "driver a,b bin/x\n");
    expect_bad(many, MANIFEST_MAX_DRIVERS + 1, "too many drivers");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_valid_order),
        cmocka_unit_test(test_no_run_line),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_no_trailing_newline),
        cmocka_unit_test(test_max_services),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_unknown_keyword),
        cmocka_unit_test(test_unknown_option),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_bad_intensity),
        cmocka_unit_test(test_bad_group),
        cmocka_unit_test(test_run_arguments),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_drivers_and_grants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
