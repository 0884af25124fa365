/* Fatal errors. panic() prints a message and a backtrace, flushes the
 * console and halts; in a test build it also ends QEMU with a failure
 * status through semihosting, so the harness sees it at once. */
#ifndef MICA_PANIC_H
#define MICA_PANIC_H
#include <mica/types.h>

NORETURN void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Stop this CPU for good after the console has been flushed. */
NORETURN void panic_halt(void);

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            panic("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__);                      \
    } while (0)

/* Exit codes the test harness understands (semihosting). */
#define EXIT_TESTS_PASSED 0
#define EXIT_TESTS_FAILED 1
#define EXIT_PANIC 3

/* arch/aarch64/semihost.c: end QEMU with this status (needs -semihosting;
 * without it the CPU halts through an undefined-instruction exception). */
void semihost_exit(int code);
/* True in the self-test build (kernel/selftest), false in the normal one. */
extern const bool kernel_is_test_build;

#endif
