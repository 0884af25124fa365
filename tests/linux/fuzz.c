/* lx-fuzz: seeded random Linux system calls against the personality. A
 * child makes them (random numbers, random arguments: small integers,
 * pointers into its own scratch memory, wild pointers); it may die, or
 * block, and is killed after a while. What is checked is the personality:
 * after each round it must still answer, files must still work, and no
 * program slot may be lost. */
#include "check.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Calls that cannot wreck the test itself: no exit, exec, fork, kill,
 * sigreturn, futex, sleeps or waits (those are tested on purpose
 * elsewhere). Blocking is still possible (pipes, ppoll): the child is
 * killed then. */
static const int calls[] = {
    SYS_getcwd,
    SYS_dup,
    SYS_dup3,
    SYS_fcntl,
    SYS_ioctl,
    SYS_mkdirat,
    SYS_unlinkat,
    SYS_renameat2,
    SYS_ftruncate,
    SYS_faccessat,
    SYS_chdir,
    SYS_fchdir,
    SYS_openat,
    SYS_close,
    SYS_getdents64,
    SYS_lseek,
    SYS_read,
    SYS_write,
    SYS_readv,
    SYS_writev,
    SYS_pread64,
    SYS_pwrite64,
    SYS_readlinkat,
    SYS_newfstatat,
    SYS_fstat,
    SYS_statx,
    SYS_set_tid_address,
    SYS_set_robust_list,
    SYS_clock_gettime,
    SYS_sched_yield,
    SYS_rt_sigaction,
    SYS_rt_sigprocmask,
    SYS_sigaltstack,
    SYS_setpgid,
    SYS_getpgid,
    SYS_getsid,
    SYS_uname,
    SYS_getrlimit,
    SYS_umask,
    SYS_gettimeofday,
    SYS_getpid,
    SYS_getppid,
    SYS_gettid,
    SYS_brk,
    SYS_munmap,
    SYS_mremap,
    SYS_mmap,
    SYS_mprotect,
    SYS_madvise,
    SYS_prlimit64,
    SYS_getrandom,
    SYS_pipe2,
    4000,
    9999,
};

static unsigned long long state;

static unsigned long long next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static char scratch[65536] __attribute__((aligned(16)));

static long arg(void)
{
    switch (next() % 6) {
    case 0: return (long)(next() % 64);                        /* small: fds, flags, sizes */
    case 1: return (long)(scratch + next() % sizeof(scratch)); /* a pointer of ours */
    case 2: return (long)(next() & 0xFFFFFFFFFFFF);            /* a wild address */
    case 3: return -(long)(next() % 200);                      /* negative: AT_FDCWD and worse */
    case 4: return (long)(next() % 8192);
    default: return (long)next();
    }
}

static void child(unsigned long long seed, int n)
{
    state = seed;
    for (int i = 0; i < n; i++) {
        long nr = calls[next() % (sizeof(calls) / sizeof(calls[0]))];
        long a[6];
        for (int k = 0; k < 6; k++)
            a[k] = arg();
        if (nr == SYS_read || nr == SYS_readv || nr == SYS_pread64 || nr == SYS_write)
            a[0] = 3 + (long)(next() % 30); /* never the console: a read there waits */
        syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
    _exit(0);
}

int main(void)
{
    int died = 0, finished = 0, killed = 0;
    for (int round = 0; round < 12; round++) {
        pid_t c = fork();
        if (c == 0)
            child(0x9E3779B97F4A7C15ULL * (round + 1), 3000);
        CHECK(c > 0);
        int status = 0;
        pid_t got = 0;
        for (int t = 0; t < 40 && (got = waitpid(c, &status, WNOHANG)) == 0; t++)
            usleep(50000);
        if (got == 0) { /* blocked somewhere: end it */
            kill(c, SIGKILL);
            waitpid(c, &status, 0);
            killed++;
        } else if (WIFEXITED(status)) {
            finished++;
        } else {
            died++;
        }
        /* The personality still works. */
        CHECK(getppid() >= 1);
        int fd = open("/fuzz-check", O_CREAT | O_RDWR | O_TRUNC, 0644);
        CHECK(fd >= 0 && write(fd, "ok", 2) == 2);
        close(fd);
        CHECK(unlink("/fuzz-check") == 0);
    }
    printf("lx-fuzz: %d rounds finished, %d died of a signal, %d killed while blocked\n", finished,
           died, killed);
    /* Slots and descriptors came back: 20 more children start and end. */
    for (int i = 0; i < 20; i++) {
        pid_t c = fork();
        if (c == 0)
            _exit(7);
        int status;
        CHECK(c > 0 && waitpid(c, &status, 0) == c && WEXITSTATUS(status) == 7);
    }
    return finish("lx-fuzz");
}
