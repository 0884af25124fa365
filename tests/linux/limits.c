/*
 * lx-limits: the personality's limits look like Linux's (issue 11).
 *
 * - RLIMIT_NOFILE is 1024/65536 and 1,021 more descriptors open; the next
 *   is EMFILE; a lower soft limit is honoured by dup, dup3 (EBADF) and
 *   F_DUPFD (EINVAL); a hard limit past nr_open is EPERM.
 * - Forty children (more than the 32 programs there could be) sleep at
 *   once, each for its full time (the seventeenth sleep used to fail at
 *   once with EAGAIN), and fork children each have
 *   their own fs budget: twelve children holding sixteen files each leave
 *   the parent free to open more.
 * - Twenty readers wait on one pipe; forty pipes are open at once; poll
 *   takes 200 descriptors.
 * - 512 threads (the limit; the 513th is EAGAIN) wait on one semaphore
 *   at once (futex waiters were sixteen, threads eight).
 * - RLIMIT_AS makes mmap ENOMEM (it is the program's memory budget:
 *   lx-oom checks it and RLIMIT_DATA further), RLIMIT_NPROC makes fork
 *   EAGAIN.
 */
#include "check.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILDREN 40
#define THREADS 511 /* with the main thread, the 512 a program may have */

static void descriptors(void)
{
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK(rl.rlim_cur == 1024 && rl.rlim_max == 65536);
    int last = -1, opened = 0;
    for (;;) {
        int fd = dup(0);
        if (fd < 0) {
            CHECK(errno == EMFILE);
            break;
        }
        last = fd;
        opened++;
    }
    CHECK(last == 1023);
    CHECK(opened >= 1000);
    for (int fd = 3; fd <= last; fd++)
        close(fd);

    CHECK(dup3(0, 500, 0) == 500); /* open past the limit about to be set */
    rl.rlim_cur = 64;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    pid_t pid = fork(); /* the child keeps descriptor 500 open */
    if (pid == 0)
        _exit(fcntl(500, F_GETFD) == 0 ? 0 : 1);
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
          WEXITSTATUS(status) == 0);
    CHECK(close(500) == 0);
    CHECK_ERRNO(dup3(0, 64, 0), EBADF);
    CHECK_ERRNO(fcntl(0, F_DUPFD, 64), EINVAL);
    CHECK(dup3(0, 63, 0) == 63);
    CHECK(close(63) == 0);
    rl.rlim_cur = rl.rlim_max + 1;
    CHECK_ERRNO(setrlimit(RLIMIT_NOFILE, &rl), EINVAL); /* soft above hard */
    rl.rlim_cur = rl.rlim_max = 1 << 24;
    CHECK_ERRNO(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
    rl.rlim_cur = 1024;
    rl.rlim_max = 65536;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK(fcntl(0, F_DUPFD, 1500) == -1 && errno == EINVAL);
    struct rlimit got;
    CHECK(syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &got) == 0);
    CHECK(got.rlim_cur == 1024 && got.rlim_max == 65536);
    CHECK_ERRNO(syscall(SYS_prlimit64, 999999, RLIMIT_NOFILE, NULL, &got), ESRCH);
}

static void sleepers_and_files(void)
{
    pid_t pids[CHILDREN];
    mkdir("/tmp", 01777);
    int fd = open("/tmp/lx-limits", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    close(fd);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    start.tv_sec += 1; /* every child sleeps until then, all at once */
    for (int i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            int bad = 0;
            if (i < 12) /* hold sixteen files of our own meanwhile */
                for (int k = 0; k < 16; k++)
                    bad |= open("/tmp/lx-limits", O_RDONLY) < 0 ? 1 : 0;
            bad |= clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &start, NULL) != 0 ? 2 : 0;
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            bad |= now.tv_sec < start.tv_sec ? 4 : 0;
            _exit(bad);
        }
        CHECK(pids[i] > 0);
    }
    struct timespec settle = {0, 300 * 1000 * 1000};
    nanosleep(&settle, NULL); /* the children open their files */
    int mine[16];
    for (int k = 0; k < 16; k++) {
        mine[k] = open("/tmp/lx-limits", O_RDONLY);
        CHECK(mine[k] >= 0);
    }
    for (int k = 0; k < 16; k++)
        close(mine[k]);
    for (int i = 0; i < CHILDREN; i++) {
        int status = -1;
        CHECK(waitpid(pids[i], &status, 0) == pids[i]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (status)
            printf("child %d: status 0x%x\n", i, status);
    }
    unlink("/tmp/lx-limits");
}

/* Twenty children wait to read one byte each from one pipe (a second
 * waiting reader used to get EAGAIN), and forty pipes are open at once
 * (there were 32 in all). */
static void pipes(void)
{
    int fds[40][2], opened = 0;
    for (; opened < 40; opened++)
        if (pipe(fds[opened]) != 0)
            break;
    CHECK(opened == 40);
    for (int i = 1; i < opened; i++) {
        close(fds[i][0]);
        close(fds[i][1]);
    }
    pid_t pids[20];
    for (int i = 0; i < 20; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            char c;
            close(fds[0][1]);
            _exit(read(fds[0][0], &c, 1) == 1 && c == 'x' ? 0 : 1);
        }
    }
    close(fds[0][0]);
    /* poll of 200 descriptors (64 was the most), only the last one ready */
    static struct pollfd many[200];
    for (int i = 0; i < 200; i++)
        many[i] = (struct pollfd){.fd = -1, .events = POLLIN};
    many[199] = (struct pollfd){.fd = fds[0][1], .events = POLLOUT};
    CHECK(poll(many, 200, 0) == 1 && many[199].revents == POLLOUT);
    struct timespec settle = {0, 200 * 1000 * 1000};
    nanosleep(&settle, NULL); /* all of them waiting */
    char bytes[20];
    memset(bytes, 'x', sizeof(bytes));
    CHECK(write(fds[0][1], bytes, sizeof(bytes)) == sizeof(bytes));
    for (int i = 0; i < 20; i++) {
        int status = -1;
        CHECK(waitpid(pids[i], &status, 0) == pids[i]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    close(fds[0][1]);
}

/* Twelve threads blocked in poll on one pipe at once (eight could wait
 * in poll and select together, the ninth got EAGAIN); a byte wakes them. */
static int poll_pipe[2];
static volatile int polled;

static void *poller(void *arg)
{
    (void)arg;
    struct pollfd pfd = {.fd = poll_pipe[0], .events = POLLIN};
    __atomic_add_fetch(&polled, 1, __ATOMIC_SEQ_CST);
    return (void *)(intptr_t)(poll(&pfd, 1, 10000) == 1 && (pfd.revents & POLLIN) ? 1 : 0);
}

static void pollers(void)
{
    pthread_t t[12];
    CHECK(pipe(poll_pipe) == 0);
    for (int i = 0; i < 12; i++)
        CHECK(pthread_create(&t[i], NULL, poller, NULL) == 0);
    for (int tries = 0; tries < 500 && polled < 12; tries++)
        usleep(10000);
    usleep(100000); /* into their polls */
    CHECK(write(poll_pipe[1], "p", 1) == 1);
    for (int i = 0; i < 12; i++) {
        void *ok = NULL;
        CHECK(pthread_join(t[i], &ok) == 0 && ok == (void *)1);
    }
    close(poll_pipe[0]);
    close(poll_pipe[1]);
}

static sem_t sem;
static volatile int waiting;

static void *waiter(void *arg)
{
    (void)arg;
    __atomic_add_fetch(&waiting, 1, __ATOMIC_SEQ_CST);
    sem_wait(&sem); /* a futex wait each: 511 at once */
    return NULL;
}

static void threads(void)
{
    static pthread_t t[THREADS];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    sem_init(&sem, 0, 0);
    int made = 0;
    for (; made < THREADS; made++)
        if (pthread_create(&t[made], &attr, waiter, NULL) != 0)
            break;
    CHECK(made == THREADS);
    pthread_t extra;
    CHECK(pthread_create(&extra, &attr, waiter, NULL) == EAGAIN); /* the 513th */
    for (int tries = 0; tries < 500 && waiting < made; tries++)
        usleep(10000);
    CHECK(waiting == made);
    usleep(100000); /* into their futex waits */
    for (int i = 0; i < made; i++)
        sem_post(&sem);
    for (int i = 0; i < made; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
}

static void memory_and_processes(void)
{
    struct rlimit rl, saved;
    CHECK(getrlimit(RLIMIT_AS, &saved) == 0);
    rl = saved;
    rl.rlim_cur = 64UL << 20; /* less than what the program already has plus 64 MiB */
    CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
    void *p = mmap(NULL, 64UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p == MAP_FAILED && errno == ENOMEM);
    CHECK(setrlimit(RLIMIT_AS, &saved) == 0);
    p = mmap(NULL, 64UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    munmap(p, 64UL << 20);

    CHECK(getrlimit(RLIMIT_NPROC, &saved) == 0);
    rl = saved;
    rl.rlim_cur = 1;
    CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    CHECK(pid == -1 && errno == EAGAIN);
    CHECK(setrlimit(RLIMIT_NPROC, &saved) == 0);
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* a FAIL line shows even if a later step hangs */
    descriptors();
    printf("lx-limits: descriptors\n");
    sleepers_and_files();
    printf("lx-limits: sleepers and files\n");
    threads();
    printf("lx-limits: threads\n");
    pipes();
    pollers();
    printf("lx-limits: pipes and pollers\n");
    memory_and_processes();
    return finish("lx-limits");
}
