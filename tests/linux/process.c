/* lx-process: fork, execve, wait4, pipes and signals through the Linux
 * personality, with the statuses and errno values Linux gives. */
#include "check.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_usr2, got_chld, usr1_code;

static void on_usr1(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    got_usr1 = sig;
    usr1_code = info->si_signo;
}

static void on_usr2(int sig)
{
    got_usr2 = sig;
}

static void on_chld(int sig)
{
    got_chld = sig;
}

static void fork_exec_wait(void)
{
    int status;
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0)
        _exit(42);
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42);
    CHECK_ERRNO(waitpid(-1, &status, WNOHANG), ECHILD);
    /* execve with arguments; the child's exit status comes back. */
    child = fork();
    if (child == 0) {
        char *argv[] = {"hello-linux", "from", "exec", "--exit", "9", NULL};
        execv("/linux/bin/hello-linux", argv);
        _exit(100); /* exec failed */
    }
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 9);
    CHECK_ERRNO(execv("/no/such/program", (char *[]){"x", NULL}), ENOENT);
    /* a pipe from child to parent, and end-of-file when the child is done */
    int fds[2];
    char buf[32];
    CHECK(pipe(fds) == 0);
    child = fork();
    if (child == 0) {
        close(fds[0]);
        write(fds[1], "through the pipe", 16);
        _exit(0);
    }
    close(fds[1]);
    CHECK(read(fds[0], buf, sizeof(buf)) == 16 && memcmp(buf, "through the pipe", 16) == 0);
    CHECK(read(fds[0], buf, sizeof(buf)) == 0);
    close(fds[0]);
    CHECK(waitpid(child, &status, 0) == child && status == 0);
    /* SIGPIPE: ignored, write fails with EPIPE; by default it kills */
    CHECK(pipe(fds) == 0);
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    CHECK_ERRNO(write(fds[1], "x", 1), EPIPE);
    signal(SIGPIPE, SIG_DFL);
    child = fork();
    if (child == 0) {
        write(fds[1], "x", 1);
        _exit(0);
    }
    close(fds[1]);
    CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status) &&
          WTERMSIG(status) == SIGPIPE);
}

/* ppoll and pselect6 on pipes: immediate, timed out, and woken by a child. */
static void polling(void)
{
    int fds[2];
    char c;
    struct pollfd pfd;
    CHECK(pipe(fds) == 0);
    pfd = (struct pollfd){fds[0], POLLIN, 0};
    CHECK(poll(&pfd, 1, 0) == 0 && pfd.revents == 0);
    CHECK(write(fds[1], "p", 1) == 1);
    CHECK(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN));
    int avail = -1;
    CHECK(ioctl(fds[0], FIONREAD, &avail) == 0 && avail == 1);
    CHECK(read(fds[0], &c, 1) == 1 && c == 'p');
    struct timespec a, b;
    struct timeval tv = {0, 50000};
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fds[0], &rd);
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK(select(fds[0] + 1, &rd, NULL, NULL, &tv) == 0 && !FD_ISSET(fds[0], &rd));
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECK((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) >= 50000000L);
    pid_t child = fork();
    if (child == 0) {
        usleep(100000);
        write(fds[1], "q", 1);
        _exit(0);
    }
    FD_ZERO(&rd);
    FD_SET(fds[0], &rd);
    CHECK(select(fds[0] + 1, &rd, NULL, NULL, NULL) == 1 && FD_ISSET(fds[0], &rd));
    CHECK(read(fds[0], &c, 1) == 1 && c == 'q');
    pfd = (struct pollfd){fds[1], POLLOUT, 0};
    CHECK(poll(&pfd, 1, -1) == 1 && (pfd.revents & POLLOUT));
    waitpid(child, NULL, 0);
    close(fds[0]);
    pfd = (struct pollfd){fds[1], POLLOUT, 0};
    CHECK(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR)); /* no readers left */
    close(fds[1]);
    pfd = (struct pollfd){99, POLLIN, 0};
    CHECK(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLNVAL);
}

static void handlers(void)
{
    struct sigaction sa = {0};
    sigset_t block, old, none;
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(got_usr1 == SIGUSR1 && usr1_code == SIGUSR1);
    /* blocked: pending until unblocked */
    got_usr1 = 0;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &block, &old) == 0);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(got_usr1 == 0);
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
    CHECK(got_usr1 == SIGUSR1);
    /* sigsuspend until a child signals us */
    signal(SIGUSR2, on_usr2);
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, NULL);
    pid_t parent = getpid(), child = fork();
    if (child == 0) {
        kill(parent, SIGUSR2);
        _exit(0);
    }
    sigemptyset(&none);
    CHECK(sigsuspend(&none) == -1 && errno == EINTR && got_usr2 == SIGUSR2);
    waitpid(child, NULL, 0);
    /* a handler interrupts a blocking call: EINTR */
    got_usr2 = 0;
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    child = fork();
    if (child == 0) {
        usleep(100000);
        kill(parent, SIGUSR2);
        _exit(0);
    }
    errno = 0;
    CHECK(usleep(5000000) == -1 && errno == EINTR && got_usr2 == SIGUSR2);
    waitpid(child, NULL, 0);
    /* with SA_RESTART, an interrupted read is made again and gets the data */
    struct sigaction restart = {0};
    int pfd[2];
    char byte = 0;
    restart.sa_handler = on_usr2;
    restart.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGUSR2, &restart, NULL) == 0 && pipe(pfd) == 0);
    got_usr2 = 0;
    child = fork();
    if (child == 0) {
        usleep(100000);
        kill(parent, SIGUSR2);
        usleep(100000);
        write(pfd[1], "r", 1);
        _exit(0);
    }
    CHECK(read(pfd[0], &byte, 1) == 1 && byte == 'r' && got_usr2 == SIGUSR2);
    waitpid(child, NULL, 0);
    close(pfd[0]);
    close(pfd[1]);
    /* SIGCHLD when a child ends, with a handler */
    signal(SIGCHLD, on_chld);
    child = fork();
    if (child == 0)
        _exit(3);
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    CHECK(got_chld == SIGCHLD && WEXITSTATUS(status) == 3);
    /* kill with the default action ends the child */
    child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    CHECK(kill(child, SIGTERM) == 0);
    CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status) &&
          WTERMSIG(status) == SIGTERM);
    CHECK_ERRNO(kill(99999, SIGTERM), ESRCH);
}

/* MAP_SHARED|MAP_ANONYMOUS memory stays shared across fork; private
 * memory is the child's own copy. Also after a hole split the mapping. */
static void shared_memory(void)
{
    size_t len = 4 * 4096;
    volatile int *shared =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    volatile int *private =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED && private != MAP_FAILED);
    if (shared == MAP_FAILED || private == MAP_FAILED)
        return;
    shared[0] = private[0] = 1;
    CHECK(munmap((void *)(shared + 1024), 4096) == 0); /* a hole: two parts, both shared */
    shared[3 * 1024] = 5;
    pid_t pid = fork();
    if (pid == 0) {
        shared[0] = 2;
        private[0] = 3;
        shared[3 * 1024] = 6;
        _exit(shared[0] == 2 && private[0] == 3 ? 0 : 1);
    }
    int status = -1;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(shared[0] == 2);        /* the child's write is seen */
    CHECK(shared[3 * 1024] == 6); /* in the part after the hole too */
    CHECK(private[0] == 1);       /* but not to private memory */
    CHECK(munmap((void *)shared, len) == 0 && munmap((void *)private, len) == 0);
}

/* fork gives the child a snapshot of private memory (heap, stack, data,
 * anonymous mmap): after the fork, neither sees the other's writes, also
 * to pages that were written (and mapped writable) before it. Each side
 * writes while the other is still alive and looks afterwards. */
static volatile long data_word = 1;

static void wait_byte(int fd)
{
    char c;
    CHECK(read(fd, &c, 1) == 1);
}

static int private_sees(volatile long *const *where, unsigned n, long value)
{
    int ok = 1;
    for (unsigned i = 0; i < n; i++)
        ok &= *where[i] == value;
    return ok;
}

static void private_after_fork(void)
{
    volatile long stack_words[1024]; /* two pages of stack */
    char *base = (char *)syscall(SYS_brk, 0);
    char *top = (char *)syscall(SYS_brk, base + 3 * 4096);
    long *anon = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(top == base + 3 * 4096 && anon != MAP_FAILED);
    if (top != base + 3 * 4096 || anon == MAP_FAILED)
        return;
    volatile long *heap = (volatile long *)(((uintptr_t)base + 7) & ~7UL);
    volatile long *const where[] = {heap,       heap + 512, &stack_words[0], &stack_words[1000],
                                    &data_word, anon,       anon + 1024};
    const unsigned n = sizeof(where) / sizeof(where[0]);
    volatile long *fresh_heap = heap + 1024, *fresh_anon = anon + 512; /* untouched pages */
    for (unsigned i = 0; i < n; i++)
        *where[i] = 10; /* written (and mapped writable) before the fork */
    int to_child[2], to_parent[2], status = -1;
    CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        wait_byte(to_child[0]); /* the parent has written 20 */
        int ok = private_sees(where, n, 10);
        for (unsigned i = 0; i < n; i++)
            *where[i] = 30;
        *fresh_heap = 31;
        *fresh_anon = 32;
        write(to_parent[1], "c", 1);
        wait_byte(to_child[0]); /* the parent has looked */
        ok &= private_sees(where, n, 30) && *fresh_heap == 31 && *fresh_anon == 32;
        _exit(ok ? 0 : 1);
    }
    CHECK(pid > 0);
    for (unsigned i = 0; i < n; i++)
        *where[i] = 20;
    *fresh_heap = 21;
    write(to_child[1], "p", 1);
    wait_byte(to_parent[0]); /* the child has checked and written 30 */
    CHECK(private_sees(where, n, 20));
    CHECK(*fresh_heap == 21 && *fresh_anon == 0);
    write(to_child[1], "p", 1);
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(private_sees(where, n, 20)); /* and after the child is gone */
    CHECK(*fresh_heap == 21 && *fresh_anon == 0);
    /* A hundred forks in a row, each child writing its memory before it
     * exits, with a long-lived child beside them; then a grandchild. */
    pid_t sleeper = fork();
    if (sleeper == 0) {
        wait_byte(to_child[0]);
        _exit(private_sees(where, n, 20) ? 0 : 1);
    }
    int bad = 0;
    for (int i = 0; i < 100; i++) {
        stack_words[0] = data_word = i;
        pid = fork();
        if (pid == 0) {
            int ok = stack_words[0] == i && data_word == i && *heap == 20;
            for (unsigned k = 0; k < n; k++)
                *where[k] = -i;
            _exit(ok ? i % 100 : 255);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != i % 100 || *heap != 20 || stack_words[0] != i)
            bad++;
    }
    CHECK(bad == 0);
    stack_words[0] = data_word = 20;
    pid = fork();
    if (pid == 0) {
        pid_t grandchild = fork();
        if (grandchild == 0) {
            *heap = 50;
            _exit(private_sees(where + 1, n - 1, 20) && *heap == 50 ? 0 : 1);
        }
        int gs = -1;
        waitpid(grandchild, &gs, 0);
        _exit(WIFEXITED(gs) && WEXITSTATUS(gs) == 0 && private_sees(where, n, 20) ? 0 : 1);
    }
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    write(to_child[1], "p", 1);
    CHECK(waitpid(sleeper, &status, 0) == sleeper && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(private_sees(where, n, 20));
    close(to_child[0]), close(to_child[1]), close(to_parent[0]), close(to_parent[1]);
    munmap(anon, 3 * 4096);
    syscall(SYS_brk, base);
}

/* Private memory read-only at the fork and made writable afterwards (by
 * mprotect, in either process) stays private; mprotect of part of a
 * region gives that part its own protection, which a child keeps. */
static void private_read_only_at_fork(void)
{
    char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    if (m == MAP_FAILED)
        return;
    memset(m, 'A', 3 * 4096);
    CHECK(mprotect(m, 3 * 4096, PROT_READ) == 0);
    int to_child[2], status = -1;
    CHECK(pipe(to_child) == 0);
    pid_t pid = fork();
    if (pid == 0) { /* writes after making it writable; then checks the parent's write is unseen */
        if (mprotect(m + 4096, 4096, PROT_READ | PROT_WRITE) != 0)
            _exit(2);
        m[4096] = 'C';
        char c;
        if (read(to_child[0], &c, 1) != 1)
            _exit(3);
        _exit(m[2 * 4096] == 'A' && m[4096] == 'C' ? 0 : 1);
    }
    CHECK(pid > 0);
    struct timespec pause = {0, 20000000};
    nanosleep(&pause, NULL); /* the child has written by now */
    CHECK(mprotect(m + 2 * 4096, 4096, PROT_READ | PROT_WRITE) == 0);
    m[2 * 4096] = 'P';
    CHECK(write(to_child[1], "go", 1) == 1);
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(m[4096] == 'A' && m[2 * 4096] == 'P');

    /* Now the middle page is read-only, the last writable: a child may
     * write the last (and we do not see it) but not the first. */
    CHECK(mprotect(m + 4096, 4096, PROT_READ | PROT_WRITE) == 0 &&
          mprotect(m, 4096, PROT_READ) == 0);
    pid = fork();
    if (pid == 0) {
        m[2 * 4096] = 'D';
        m[4096] = 'D';
        _exit(0);
    }
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(m[4096] == 'A' && m[2 * 4096] == 'P');
    pid = fork();
    if (pid == 0) {
        m[0] = 'D'; /* read-only: SIGSEGV */
        _exit(0);
    }
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    CHECK(m[0] == 'A');
    close(to_child[0]), close(to_child[1]);
    munmap(m, 3 * 4096);
}

int main(void)
{
    shared_memory();
    private_after_fork();
    private_read_only_at_fork();
    fork_exec_wait();
    polling();
    handlers();
    return finish("lx-process");
}
