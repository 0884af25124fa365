/*
 * libcap runtime pieces: printf to the debug log, the EL0 clock, status
 * names, and cpio lookup (the bootfs reader shared with the kernel).
 */
#include <mica/bootfs.h>
#include <mica/cap.h>
#include <stdarg.h>

int mica_printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return n;
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    bool service = mica_bootinfo && (mica_bootinfo->flags & MICA_BOOT_SERVICE);
    int err = mica_debug_log_flags(buf, len, service ? MICA_LOG_SERVICE : 0);
    return err ? err : n;
}

/* The kernel lets EL0 read the physical counter (CNTKCTL_EL1.EL0PCTEN). */
uint64_t mica_clock_ns(void)
{
    uint64_t count, freq;
    __asm__ volatile("isb\n mrs %0, cntpct_el0" : "=r"(count)::"memory");
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
    uint64_t secs = count / freq, rem = count % freq;
    return secs * 1000000000UL + rem * 1000000000UL / freq;
}

const char *mica_status_name(int status)
{
    static const char *const names[] = {
        "OK",
        "ERR_NO_MEMORY",
        "ERR_INVALID_ARGS",
        "ERR_OUT_OF_RANGE",
        "ERR_BAD_STATE",
        "ERR_NOT_FOUND",
        "ERR_NOT_SUPPORTED",
        "ERR_TIMED_OUT",
        "ERR_BAD_HANDLE",
        "ERR_ACCESS_DENIED",
        "ERR_WRONG_TYPE",
        "ERR_FAULT",
        "ERR_PEER_CLOSED",
        "ERR_LIMIT",
    };
    if (status <= 0 && -status < (int)(sizeof(names) / sizeof(names[0])))
        return names[-status];
    return "ERR_UNKNOWN";
}

int mica_cpio_find(const void *archive, size_t size, const char *name, const void **data,
                   size_t *len)
{
    struct bootfs fs;
    int err = bootfs_init(&fs, archive, size);
    return err ? err : bootfs_find(&fs, name, data, len);
}

/* For code built with a stack protector (Debian's libfdt.a, linked into
 * devmgr). */
uintptr_t __stack_chk_guard = 0x5eed1e55c0ffee00UL;
void __stack_chk_fail(void)
{
    mica_printf("stack smashing detected\n");
    mica_process_exit(127);
}
