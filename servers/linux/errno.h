/* The Linux errno values and syscall numbers (arm64's generic table) the
 * personality uses; Linux's ABI, written out here since no kernel headers
 * are installed for this target. */
#ifndef LINUX_ERRNO_H
#define LINUX_ERRNO_H

#define LX_EPERM 1
#define LX_E2BIG 7
#define LX_ENOENT 2
#define LX_ESRCH 3
#define LX_EINTR 4
#define LX_EIO 5
#define LX_EBADF 9
#define LX_ECHILD 10
#define LX_EAGAIN 11
#define LX_ENOMEM 12
#define LX_EACCES 13
#define LX_EFAULT 14
#define LX_EEXIST 17
#define LX_ENOTDIR 20
#define LX_ENOEXEC 8
#define LX_ENODEV 19
#define LX_EISDIR 21
#define LX_EINVAL 22
#define LX_EMFILE 24
#define LX_ENOTTY 25
#define LX_ENOSPC 28
#define LX_ESPIPE 29
#define LX_ERANGE 34
#define LX_ENAMETOOLONG 36
#define LX_ENOSYS 38
#define LX_ENOTEMPTY 39
#define LX_ETIMEDOUT 110

enum lx_syscall {
    NR_getcwd = 17,
    NR_dup = 23,
    NR_dup3 = 24,
    NR_fcntl = 25,
    NR_ioctl = 29,
    NR_mkdirat = 34,
    NR_unlinkat = 35,
    NR_renameat = 38,
    NR_ftruncate = 46,
    NR_faccessat = 48,
    NR_chdir = 49,
    NR_fchdir = 50,
    NR_openat = 56,
    NR_close = 57,
    NR_getdents64 = 61,
    NR_lseek = 62,
    NR_read = 63,
    NR_write = 64,
    NR_readv = 65,
    NR_writev = 66,
    NR_pread64 = 67,
    NR_pwrite64 = 68,
    NR_readlinkat = 78,
    NR_newfstatat = 79,
    NR_fstat = 80,
    NR_exit = 93,
    NR_exit_group = 94,
    NR_set_tid_address = 96,
    NR_futex = 98,
    NR_set_robust_list = 99,
    NR_nanosleep = 101,
    NR_clock_gettime = 113,
    NR_clock_nanosleep = 115,
    NR_sched_yield = 124,
    NR_kill = 129,
    NR_tkill = 130,
    NR_tgkill = 131,
    NR_sigaltstack = 132,
    NR_rt_sigaction = 134,
    NR_rt_sigprocmask = 135,
    NR_setpgid = 154,
    NR_getpgid = 155,
    NR_getsid = 156,
    NR_setsid = 157,
    NR_uname = 160,
    NR_getrlimit = 163,
    NR_umask = 166,
    NR_gettimeofday = 169,
    NR_getpid = 172,
    NR_getppid = 173,
    NR_getuid = 174,
    NR_geteuid = 175,
    NR_getgid = 176,
    NR_getegid = 177,
    NR_gettid = 178,
    NR_brk = 214,
    NR_munmap = 215,
    NR_mremap = 216,
    NR_mmap = 222,
    NR_mprotect = 226,
    NR_madvise = 233,
    NR_prlimit64 = 261,
    NR_renameat2 = 276,
    NR_getrandom = 278,
    NR_statx = 291,
};

#endif
