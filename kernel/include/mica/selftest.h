/*
 * In-kernel self-tests, run by kernel_main() in the test build (mica-test
 * images). Each test prints "[ RUN  ] name" then "[ PASS ] name" or
 * "[ FAIL ] name"; tests/guest/harness.py checks every expected name.
 */
#ifndef MICA_SELFTEST_H
#define MICA_SELFTEST_H

#include <mica/printk.h>

struct selftest {
    const char *name;
    int (*fn)(void); /* 0 = pass */
};

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printk("    check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);                   \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                           \
        if (a_ != b_) {                                                                            \
            printk("    check failed: %s == %s (0x%lx != 0x%lx) (%s:%d)\n", #a, #b, a_, b_,        \
                   __FILE__, __LINE__);                                                            \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

/* Runs the tests selected by bootargs ("mica.test=NAME" picks a special
 * mode; default: all). Returns the number of failures. */
int selftest_run(const char *bootargs);
/* True for the modes (panic, idle) that end the run in the kernel. */
bool selftest_mode_exits(const char *bootargs);

/* Test groups, one per file in kernel/selftest/. */
extern const struct selftest selftests_mm[], selftests_timer[], selftests_fault[], selftests_misc[];

#endif
