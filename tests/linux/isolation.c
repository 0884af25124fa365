/*
 * lx-isolation: a program's view of its own memory is the one the
 * personality honours, and exec/fork keep their promises (issue 11).
 *
 * - read()/fstat()/clock_gettime() into a PROT_READ or PROT_NONE page,
 *   write() from a PROT_NONE page: EFAULT, as Linux's copy_to/from_user.
 * - The sigreturn trampoline page every program shares cannot be written
 *   through a syscall's buffer; a program that mprotects it writable gets
 *   a copy of its own, and neither a fork child nor a freshly started
 *   program sees what it wrote.
 * - A fork child cannot write the text it shares with its parent.
 * - execve of a file that is not a program is ENOEXEC to the caller (it
 *   used to be torn down first and killed with SIGSEGV); posix_spawn of
 *   one reports ENOEXEC too.
 * - vfork lends the parent's memory and suspends the parent until the
 *   child execs or exits: the child's writes and its exec failure are seen.
 * - fork copies the FP/SIMD registers and FPCR.
 *
 * Run with the argument "tramp" it only checks its own sigreturn page.
 */
#include "check.h"
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRAMPOLINE ((uint32_t *)0x7FFFFF0000UL) /* servers/linux: LX_SIGRETURN_VA */
#define TRAMPOLINE_FIRST 0xD2801168u            /* mov x8, #139 */
#define PAGE 4096

extern char **environ;

__attribute__((noinline)) static int victim(void)
{
    return 42;
}

static int exit_status(pid_t pid)
{
    int status = -1;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void protection(void)
{
    int fds[2];
    mkdir("/tmp", 01777); /* (there is no /tmp at boot yet) */
    CHECK(pipe(fds) == 0);
    char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(ro != MAP_FAILED && none != MAP_FAILED);
    CHECK(write(fds[1], "abcdefgh", 8) == 8);
    CHECK_ERRNO(read(fds[0], ro, 8), EFAULT);
    CHECK_ERRNO(read(fds[0], none, 8), EFAULT);
    CHECK(ro[0] == 0);
    CHECK_ERRNO(write(fds[1], none, 8), EFAULT);

    int fd = open("/tmp/lx-isolation", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "0123456789", 10) == 10);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK_ERRNO(read(fd, ro, 10), EFAULT);
    CHECK_ERRNO(read(fd, none, 10), EFAULT);
    CHECK_ERRNO(syscall(SYS_fstat, fd, ro), EFAULT); /* (musl's fstat would copy itself) */
    CHECK_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ro), EFAULT);
    CHECK_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, none), EFAULT);

    /* The same page made writable: now it works. */
    CHECK(mprotect(ro, PAGE, PROT_READ | PROT_WRITE) == 0);
    CHECK(read(fd, ro, 10) == 10 && memcmp(ro, "0123456789", 10) == 0);
    close(fd);
    unlink("/tmp/lx-isolation");

    /* The shared trampoline: not through a buffer... */
    CHECK(TRAMPOLINE[0] == TRAMPOLINE_FIRST);
    CHECK(write(fds[1], "\0\0\0\0", 4) == 4);
    CHECK_ERRNO(read(fds[0], TRAMPOLINE, 4), EFAULT);
    CHECK(TRAMPOLINE[0] == TRAMPOLINE_FIRST);

    /* ...nor from a fork child, through text it shares with us. */
    pid_t pid = fork();
    if (pid == 0) {
        int bad = read(fds[0], (void *)(uintptr_t)victim, 4) != -1 || errno != EFAULT;
        bad |= read(fds[0], TRAMPOLINE, 4) != -1 || errno != EFAULT;
        _exit(bad);
    }
    CHECK(exit_status(pid) == 0);
    CHECK(victim() == 42);
    char drain[8];
    CHECK(read(fds[0], drain, 4) == 4); /* the zeros nobody took */

    /* Made writable, it is ours alone: a fork child made before and a
     * program started after still see the real code. */
    int go[2];
    CHECK(pipe(go) == 0);
    pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]);
        _exit(read(go[0], &c, 1) == 1 && TRAMPOLINE[0] == TRAMPOLINE_FIRST ? 0 : 1);
    }
    close(go[0]);
    CHECK(mprotect(TRAMPOLINE, PAGE, PROT_READ | PROT_WRITE) == 0);
    TRAMPOLINE[0] = 0; /* udf #0 */
    CHECK(TRAMPOLINE[0] == 0);
    CHECK(write(go[1], "x", 1) == 1);
    CHECK(exit_status(pid) == 0);
    close(go[1]);
    char *argv[] = {"lx-isolation", "tramp", NULL};
    CHECK(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) == 0);
    CHECK(exit_status(pid) == 0);
    TRAMPOLINE[0] = TRAMPOLINE_FIRST;
    close(fds[0]);
    close(fds[1]);
}

static void exec_refusals(void)
{
    static const char *const files[] = {"/tmp/lx-notelf", "/tmp/lx-badelf"};
    static const char *const bodies[] = {"just some text\n", "\177ELF\2\1\1\0garbage"};
    for (int i = 0; i < 2; i++) {
        int fd = open(files[i], O_WRONLY | O_CREAT | O_TRUNC, 0755);
        CHECK(fd >= 0);
        CHECK(write(fd, bodies[i], strlen(bodies[i])) == (ssize_t)strlen(bodies[i]));
        close(fd);
        char *argv[] = {(char *)files[i], NULL};
        CHECK_ERRNO(execve(files[i], argv, environ), ENOEXEC); /* and we are still here */
        pid_t pid;
        CHECK(posix_spawn(&pid, files[i], NULL, NULL, argv, environ) == ENOEXEC);
        unlink(files[i]);
    }
}

/* vfork as glibc makes it (musl's vfork() is a plain fork on arm64):
 * clone(CLONE_VM | CLONE_VFORK | SIGCHLD) inline, in the caller's frame. */
static inline __attribute__((always_inline)) long clone_vfork(void)
{
    register long x0 __asm__("x0") = 0x4000 | 0x100 | 17;
    register long x1 __asm__("x1") = 0, x2 __asm__("x2") = 0, x3 __asm__("x3") = 0,
                     x4 __asm__("x4") = 0;
    register long x8 __asm__("x8") = SYS_clone;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x8) : "memory");
    return x0;
}

static void vfork_semantics(void)
{
    static volatile int written, child_errno;
    long pid = clone_vfork();
    if (pid == 0) {
        written = 7; /* the parent's memory, and the parent waits for us */
        for (volatile int i = 0; i < 100000; i++)
            ;
        written = 8;
        syscall(SYS_exit, 0);
    }
    CHECK(pid > 0);
    CHECK(written == 8);
    CHECK(exit_status((pid_t)pid) == 0);

    pid = clone_vfork();
    if (pid == 0) {
        char *argv[] = {"nothing", NULL};
        execve("/no/such/program", argv, environ);
        child_errno = errno;
        syscall(SYS_exit, 127);
    }
    CHECK(child_errno == ENOENT);
    CHECK(exit_status((pid_t)pid) == 127);

    /* A child that execs: the parent goes on once the new program runs. */
    pid = clone_vfork();
    if (pid == 0) {
        char *argv[] = {"lx-isolation", "tramp", NULL};
        execve("/proc/self/exe", argv, environ);
        syscall(SYS_exit, 126);
    }
    CHECK(pid > 0);
    CHECK(exit_status((pid_t)pid) == 0);
}

/* fork in one asm block, so nothing touches d8 or FPCR between setting
 * them and reading them on both sides. */
static void fork_fp(void)
{
    uint64_t rz = 3UL << 22; /* FPCR.RMode: round towards zero */
    register long x0 __asm__("x0") = 17 /* SIGCHLD */;
    register long x1 __asm__("x1") = 0, x2 __asm__("x2") = 0, x3 __asm__("x3") = 0,
                     x4 __asm__("x4") = 0;
    register long x8 __asm__("x8") = SYS_clone;
    uint64_t d8_bits, fpcr;
    __asm__ volatile("fmov d8, #3.25\n\t"
                     "msr fpcr, %[rz]\n\t"
                     "svc #0\n\t"
                     "fmov %[d8], d8\n\t"
                     "mrs %[fpcr], fpcr\n\t"
                     "msr fpcr, xzr"
                     : "+r"(x0), [d8] "=&r"(d8_bits), [fpcr] "=&r"(fpcr)
                     : [rz] "r"(rz), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x8)
                     : "d8", "memory");
    double d8;
    memcpy(&d8, &d8_bits, 8);
    if (x0 == 0)
        _exit(d8 == 3.25 && fpcr == rz ? 0 : 1);
    CHECK(x0 > 0);
    CHECK(d8 == 3.25 && fpcr == rz);
    CHECK(exit_status((pid_t)x0) == 0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "tramp") == 0)
        return TRAMPOLINE[0] == TRAMPOLINE_FIRST ? 0 : 1;
    protection();
    exec_refusals();
    vfork_semantics();
    fork_fp();
    return finish("lx-isolation");
}
