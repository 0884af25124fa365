/* lx-basic: process, memory, time and signal-bookkeeping calls of the
 * Linux personality, each with its result and errno checked. */
#include "check.h"
#include <signal.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void identity(void)
{
    struct utsname u;
    CHECK(getpid() > 1);
    CHECK(getppid() >= 1);
    CHECK(gettid() == getpid());
    CHECK(getuid() == 0 && geteuid() == 0 && getgid() == 0 && getegid() == 0);
    CHECK(uname(&u) == 0 && strcmp(u.machine, "aarch64") == 0 && strcmp(u.sysname, "Linux") == 0);
    CHECK(getauxval(AT_PAGESZ) == 4096);
    char comm[16] = "";
    CHECK(syscall(SYS_prctl, 15 /* PR_SET_NAME */, "lx-basic-renamed-long") == 0);
    CHECK(syscall(SYS_prctl, 16 /* PR_GET_NAME */, comm) == 0 &&
          strcmp(comm, "lx-basic-rename") == 0);
    CHECK_ERRNO(syscall(SYS_prctl, 9999, 0), EINVAL);
    CHECK_ERRNO(syscall(SYS_prctl, 16, (void *)8), EFAULT);
    CHECK_ERRNO(syscall(SYS_rseq, 0, 0, 0, 0), ENOSYS);
    CHECK(getauxval(AT_RANDOM) != 0);
    CHECK(getauxval(AT_PHDR) != 0 && getauxval(AT_PHNUM) > 0);
    CHECK(getenv("HOME") && strcmp(getenv("HOME"), "/") == 0);
    CHECK(getpgid(0) == getpid());
    CHECK_ERRNO(setsid(), EPERM); /* a group leader */
}

static void memory(void)
{
    /* malloc: small (brk) and large (mmap) blocks keep their contents. */
    char *small[64];
    for (int i = 0; i < 64; i++) {
        small[i] = malloc(100 + i);
        CHECK(small[i] != NULL);
        memset(small[i], i, 100 + i);
    }
    char *big = malloc(3 << 20);
    CHECK(big != NULL);
    memset(big, 0x5A, 3 << 20);
    CHECK(big[0] == 0x5A && big[(3 << 20) - 1] == 0x5A);
    for (int i = 0; i < 64; i++)
        CHECK(small[i][99 + i] == (char)i);
    free(big);
    for (int i = 0; i < 64; i++)
        free(small[i]);
    /* brk itself (musl's sbrk only reads it) */
    char *end = sbrk(0);
    CHECK(end != (void *)-1);
    CHECK((char *)syscall(SYS_brk, end + 8192) == end + 8192 && end[8191] == 0);
    CHECK((char *)syscall(SYS_brk, (char *)1) == end + 8192); /* refused: unchanged */
    CHECK((char *)syscall(SYS_brk, end) == end);
    /* mmap, mprotect, munmap */
    char *m = mmap(NULL, 5 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    m[0] = 1;
    m[5 * 4096 - 1] = 2;
    CHECK(mprotect(m + 4096, 4096, PROT_READ) == 0);
    CHECK(m[4096] == 0);
    CHECK(munmap(m + 2 * 4096, 4096) == 0); /* a hole in the middle */
    CHECK(m[5 * 4096 - 1] == 2 && m[0] == 1);
    CHECK(munmap(m, 5 * 4096) == 0);
    CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED);
    CHECK_ERRNO(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
    CHECK_ERRNO(mmap((void *)4097, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                EINVAL);
    CHECK_ERRNO(munmap((void *)4097, 4096), EINVAL);
    CHECK_ERRNO(mprotect(m, 4096, PROT_READ), ENOMEM); /* unmapped now */
    /* mremap: grow (moving), keeping the contents; shrink in place */
    char *r = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(r != MAP_FAILED);
    strcpy(r + 8000, "kept");
    char *g = mremap(r, 8192, 5 * 4096, MREMAP_MAYMOVE);
    CHECK(g != MAP_FAILED && strcmp(g + 8000, "kept") == 0 && g[5 * 4096 - 1] == 0);
    CHECK(mremap(g, 5 * 4096, 4096, 0) == g && g[0] == 0);
    CHECK_ERRNO(mremap(g, 4096, 8 * 4096, 0), ENOMEM); /* may not move */
}

static void time_and_sleep(void)
{
    struct timespec a, b, bad = {0, 2000000000L};
    struct timeval tv;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0);
    CHECK(nanosleep(&(struct timespec){0, 30000000}, NULL) == 0);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0);
    long ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
    CHECK(ns >= 30000000L); /* slept at least as long as asked */
    CHECK_ERRNO(nanosleep(&bad, NULL), EINVAL);
    CHECK_ERRNO(clock_gettime(99, &a), EINVAL);
    CHECK(gettimeofday(&tv, NULL) == 0 && tv.tv_usec < 1000000);
    unsigned char r1[32], r2[32];
    CHECK(getrandom(r1, sizeof(r1), 0) == sizeof(r1));
    CHECK(getrandom(r2, sizeof(r2), 0) == sizeof(r2));
    CHECK(memcmp(r1, r2, sizeof(r1)) != 0);
}

static void signals_and_limits(void)
{
    struct sigaction sa = {0}, old;
    sigset_t set, was;
    sa.sa_handler = SIG_IGN;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    CHECK(sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == SIG_IGN);
    CHECK_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
    CHECK(sigprocmask(SIG_SETMASK, NULL, &was) == 0 && sigismember(&was, SIGUSR2));
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 16);
    struct winsize ws;
    CHECK(ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0);
    CHECK(isatty(1));
    CHECK_ERRNO(syscall(4000), ENOSYS); /* no such syscall: ENOSYS, logged once */
}

int main(void)
{
    identity();
    memory();
    time_and_sleep();
    signals_and_limits();
    return finish("lx-basic");
}
