/* lx-bench: the side-by-side benchmark of the Linux personality. The same
 * static binary runs on Mica (through servers/linux) and as /init of
 * Debian's Linux arm64 kernel, both under QEMU -icount shift=0, where one
 * nanosecond of CLOCK_MONOTONIC is one retired instruction. It prints
 *   LXBENCH <name> <ns per operation> <iterations>
 * for getppid, a pipe ping-pong round trip between two processes, and
 * fork + exit + wait; as Linux's init (pid 1) it then powers off. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void report(const char *name, long long start, long n)
{
    printf("LXBENCH %s %.1f %ld\n", name, (double)(now() - start) / n, n);
    fflush(stdout);
}

int main(void)
{
    const long calls = 20000, trips = 2000, forks = 100;
    long long t = now();
    for (long i = 0; i < calls; i++)
        getppid();
    report("getppid", t, calls);

    int ping[2], pong[2];
    char c = 'x';
    if (pipe(ping) || pipe(pong))
        return 1;
    pid_t child = fork();
    if (child == 0) {
        for (long i = 0; i < trips; i++)
            if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1)
                _exit(1);
        _exit(0);
    }
    t = now();
    for (long i = 0; i < trips; i++)
        if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
            return 1;
    report("pipe_roundtrip", t, trips);
    waitpid(child, NULL, 0);

    t = now();
    for (long i = 0; i < forks; i++) {
        pid_t p = fork();
        if (p == 0)
            _exit(0);
        waitpid(p, NULL, 0);
    }
    report("fork_exit_wait", t, forks);
    printf("LXBENCH done\n");
    fflush(stdout);
    if (getpid() == 1) /* Linux's init: end the machine */
        reboot(RB_POWER_OFF);
    return 0;
}
