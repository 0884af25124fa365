/* A tiny assertion helper for the Linux test programs: a failed CHECK
 * prints what and where and makes the program exit 1; tests/user
 * (ktest_linux.c) runs each program and wants exit status 0. */
#ifndef LX_CHECK_H
#define LX_CHECK_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: %s (errno %d %s)\n", __FILE__, __LINE__, #cond, errno,             \
                   strerror(errno));                                                               \
            checks_failed++;                                                                       \
        }                                                                                          \
    } while (0)

/* The call fails with exactly this errno. */
#define CHECK_ERRNO(call, want)                                                                    \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(call);                                                                    \
        if (r_ != -1 || errno != (want)) {                                                         \
            printf("FAIL %s:%d: %s gave %ld errno %d, want -1 errno %d\n", __FILE__, __LINE__,     \
                   #call, r_, errno, want);                                                        \
            checks_failed++;                                                                       \
        }                                                                                          \
    } while (0)

static inline int finish(const char *name)
{
    printf("%s: %s\n", name, checks_failed ? "FAILED" : "all checks passed");
    return checks_failed ? 1 : 0;
}

#endif
