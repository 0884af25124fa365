/*
 * lx-oom: programs that allocate until memory runs out get ENOMEM or die
 * alone (servers/linux/budget.c). A file written to /tmp first (the fs
 * server's memory) must read back the same at the end.
 *
 *   lx-oom        children under lowered limits (setrlimit RLIMIT_AS):
 *                 malloc until NULL (then mmap gives ENOMEM), brk until
 *                 it refuses, touching mapped
 *                 memory past the limit (killed by SIGKILL); the limit
 *                 is inherited by fork and reported by getrlimit.
 *   lx-oom pool   children without a limit of their own use up the
 *                 programs' whole pool: one maps and touches memory until
 *                 mmap gives ENOMEM, one maps 2 GiB first and touches it
 *                 all until it is killed. Nothing else is hurt.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define MiB (1UL << 20)
#define KEEP "/tmp/oom-keep"
#define KEEP_TEXT "written before the memory ran out\n"

static int set_limit(size_t bytes)
{
    struct rlimit rl = {bytes, bytes};
    return setrlimit(RLIMIT_AS, &rl);
}

/* Where the blocks go, so that the compiler cannot leave them out. */
static char *volatile kept;

/* malloc 1 MiB blocks and fill them until malloc fails; then mmap says
 * ENOMEM. */
static int malloc_until_enomem(size_t limit)
{
    struct rlimit rl;
    if (set_limit(limit) || getrlimit(RLIMIT_AS, &rl) || rl.rlim_cur != limit)
        return 10;
    pid_t pid = fork(); /* the limit goes with fork */
    if (pid == 0)
        _exit(getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur == limit ? 0 : 1);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
        return 11;
    size_t got = 0;
    for (;;) {
        errno = 0;
        char *b = malloc(MiB);
        if (!b)
            break;
        memset(b, 0x5A, MiB);
        kept = b;
        if (++got > limit / MiB) {
            printf("lx-oom: malloc: %zu MiB under a %zu MiB limit\n", got, limit / MiB);
            return 12; /* more than the limit allows */
        }
    }
    if (got < limit / MiB / 2) {
        printf("lx-oom: malloc: NULL after %zu MiB\n", got);
        return 13;
    }
    /* (malloc's errno is musl's business; mmap's is ours.) */
    errno = 0;
    void *m = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED || errno != ENOMEM)
        return 14;
    printf("lx-oom: malloc: NULL, mmap ENOMEM after %zu MiB under a %zu MiB limit\n", got,
           limit / MiB);
    return 0;
}

/* Grow the break 256 KiB at a time, touching it, until brk refuses (it
 * answers the old break: what malloc takes for ENOMEM). musl's sbrk
 * only reads the break: the system call itself. */
static int brk_until_enomem(size_t limit)
{
    if (set_limit(limit))
        return 20;
    size_t got = 0;
    char *cur = (char *)syscall(SYS_brk, 0);
    for (;;) {
        char *next = (char *)syscall(SYS_brk, cur + 256 * 1024);
        if (next != cur + 256 * 1024)
            break;
        memset(cur, 0x33, 256 * 1024);
        kept = cur;
        cur = next;
        got += 256 * 1024;
        if (got > limit)
            return 21;
    }
    if (got < limit / 2) {
        printf("lx-oom: brk: refused after %zu KiB\n", got / 1024);
        return 22;
    }
    printf("lx-oom: brk: ENOMEM after %zu KiB under a %zu KiB limit\n", got / 1024, limit / 1024);
    return 0;
}

/* Read-only memory shared with a fork child, made writable and filled:
 * the copies mprotect makes are ours to pay (they were the server's, so
 * this went on past the limit unharmed): killed. */
static int unshare_past_limit(size_t limit)
{
    enum { REGIONS = 12 };
    char *r[REGIONS];
    for (int i = 0; i < REGIONS; i++)
        if ((r[i] = mmap(NULL, 4 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) ==
            MAP_FAILED)
            return 40;
    if (set_limit(limit))
        return 41;
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    if (pid < 0 || waitpid(pid, NULL, 0) != pid)
        return 42;
    for (int i = 0; i < REGIONS; i++) {
        if (mprotect(r[i], 4 * MiB, PROT_READ | PROT_WRITE))
            return 43;
        memset(r[i], 0x77, 4 * MiB);
        kept = r[i];
    }
    return 44; /* 48 MiB written under the limit */
}

/* Map more than the limit allows (before lowering it), then touch it all:
 * the fault past the limit kills us. */
static int touch_past_limit(size_t limit)
{
    char *b = mmap(NULL, 4 * limit, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED || set_limit(limit))
        return 30;
    for (size_t i = 0; i < 4 * limit; i += 4096)
        b[i] = 1;
    return 31; /* still alive: the limit did not hold */
}

/* No limit of our own: map memory and touch it all, 64 MiB at a time,
 * then less and less down to 256 KiB, until mmap says ENOMEM: the pool of
 * every program's memory is used up. */
static int exhaust_pool(size_t unused)
{
    (void)unused;
    size_t got = 0, chunk = 64 * MiB;
    while (chunk >= 256 * 1024) {
        char *b = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (b == MAP_FAILED) {
            if (errno != ENOMEM)
                return 40;
            chunk /= 2;
            continue;
        }
        for (size_t i = 0; i < chunk; i += 4096)
            b[i] = 1;
        got += chunk;
    }
    printf("lx-oom: pool: mmap gave ENOMEM after %zu MiB\n", got / MiB);
    return 0;
}

/* The pool used up by a child that keeps it, /tmp grown meanwhile: the
 * fs server's room is what its payers have left, so a file that no longer
 * fits is ENOSPC, and the fs server lives (it used to count on the room
 * it saw at start, and died at the first page it could not get). */
static int grow_tmp_while_pool_full(size_t unused)
{
    (void)unused;
    int go[2];
    if (pipe(go))
        return 60;
    pid_t hog = fork();
    if (hog == 0) {
        int err = exhaust_pool(0);
        if (write(go[1], "x", 1) != 1)
            err = 1;
        sleep(60); /* killed before then */
        _exit(err);
    }
    char c;
    if (hog < 0 || read(go[0], &c, 1) != 1)
        return 61;
    int fd = open("/tmp/oom-big", O_CREAT | O_RDWR | O_TRUNC, 0644), result = 62;
    for (off_t size = 16 * MiB; fd >= 0 && size <= (off_t)(1024 * MiB); size += 16 * MiB) {
        if (ftruncate(fd, size) != 0) {
            printf("lx-oom: /tmp full at %ld MiB with the pool used up: errno %d\n",
                   (long)(size / MiB), errno);
            result = errno == ENOSPC ? 0 : 63;
            break;
        }
    }
    kill(hog, SIGKILL);
    waitpid(hog, NULL, 0);
    if (fd >= 0)
        close(fd);
    unlink("/tmp/oom-big");
    return result;
}

/* Map 2 GiB (more than any board's pool) before touching any of it, then
 * touch it all: the pool runs out under our touches, and we are killed. */
static int overrun_pool(size_t unused)
{
    (void)unused;
    char *b[32];
    for (int i = 0; i < 32; i++)
        if ((b[i] = mmap(NULL, 64 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                         0)) == MAP_FAILED)
            return 50;
    for (int i = 0; i < 32; i++)
        for (size_t k = 0; k < 64 * MiB; k += 4096)
            b[i][k] = 1;
    return 51; /* still alive: 2 GiB were never ours */
}

/* Run fn(arg) in a child; its wait status. */
static int in_child(int (*fn)(size_t), size_t arg)
{
    int status = -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn(arg));
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status))
        printf("lx-oom: child ended with status 0x%x\n", status);
    return status;
}

int main(int argc, char **argv)
{
    int pool = argc > 1 && strcmp(argv[1], "pool") == 0;
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY);
    CHECK(mkdir("/tmp", 0755) == 0 || errno == EEXIST);
    int fd = open(KEEP, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, KEEP_TEXT, strlen(KEEP_TEXT)) == (ssize_t)strlen(KEEP_TEXT));
    close(fd);
    if (pool) {
        struct timespec t0, t1, t2;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int status = in_child(exhaust_pool, 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        /* ENOMEM; or killed, if a page table took the last pages. */
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
              (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
        status = in_child(grow_tmp_while_pool_full, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        status = in_child(overrun_pool, 0);
        clock_gettime(CLOCK_MONOTONIC, &t2);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        printf("lx-oom: pool: used up in %ld ms, then overrun in %ld ms\n",
               (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000,
               (t2.tv_sec - t1.tv_sec) * 1000 + (t2.tv_nsec - t1.tv_nsec) / 1000000);
    } else {
        int status = in_child(malloc_until_enomem, 32 * MiB);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        status = in_child(brk_until_enomem, 6 * MiB);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        status = in_child(touch_past_limit, 8 * MiB);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        status = in_child(unshare_past_limit, 16 * MiB);
        CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
              (WIFEXITED(status) && WEXITSTATUS(status) == 43)); /* or mprotect ENOMEM */
        /* Below what we hold, as Linux allows: nothing more may come (an
         * mmap of a page is ENOMEM); and raised back (programs are root). */
        CHECK(set_limit(4096) == 0);
        CHECK(mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
                  MAP_FAILED &&
              errno == ENOMEM);
        CHECK(set_limit(64 * MiB) == 0 && getrlimit(RLIMIT_AS, &rl) == 0 &&
              rl.rlim_cur == 64 * MiB);
        rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
        CHECK(setrlimit(RLIMIT_AS, &rl) == 0 && getrlimit(RLIMIT_AS, &rl) == 0 &&
              rl.rlim_cur == RLIM_INFINITY);
    }
    /* We, and the fs server's file, are still here. */
    char buf[64] = {0};
    fd = open(KEEP, O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) == (ssize_t)strlen(KEEP_TEXT));
    CHECK(strcmp(buf, KEEP_TEXT) == 0);
    close(fd);
    return finish(pool ? "lx-oom pool" : "lx-oom");
}
