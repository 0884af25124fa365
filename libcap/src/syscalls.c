/* The libcap syscall wrappers (see mica/cap.h): argument in, status out. */
#include <mica/cap.h>

const struct mica_bootinfo *mica_bootinfo;

#define S0(n) mica_syscall(n, 0, 0, 0, 0, 0, 0)
#define S1(n, a) mica_syscall(n, (uint64_t)(a), 0, 0, 0, 0, 0)
#define S2(n, a, b) mica_syscall(n, (uint64_t)(a), (uint64_t)(b), 0, 0, 0, 0)
#define S3(n, a, b, c) mica_syscall(n, (uint64_t)(a), (uint64_t)(b), (uint64_t)(c), 0, 0, 0)
#define S4(n, a, b, c, d)                                                                          \
    mica_syscall(n, (uint64_t)(a), (uint64_t)(b), (uint64_t)(c), (uint64_t)(d), 0, 0)

/* Through the process's LOG resource (bootinfo->debug_log). */
int mica_debug_log_flags(const char *buf, size_t len, unsigned flags)
{
    mica_handle_t log = mica_bootinfo ? mica_bootinfo->debug_log : 0;
    return (int)S4(MICA_SYS_DEBUG_LOG, log, buf, len, flags).status;
}

int mica_debug_log(const char *buf, size_t len)
{
    return mica_debug_log_flags(buf, len, 0);
}

int mica_log_read(uint64_t pos, void *buf, size_t len, size_t *got, uint64_t *first)
{
    mica_handle_t log = mica_bootinfo ? mica_bootinfo->debug_log : 0;
    struct mica_result r = S4(MICA_SYS_LOG_READ, log, pos, buf, len);
    *got = r.status == MICA_OK ? r.r1 : 0;
    *first = r.status == MICA_OK ? r.r2 : pos;
    return (int)r.status;
}

uint64_t mica_clock_get(void)
{
    return S0(MICA_SYS_CLOCK_GET).r1;
}

int mica_handle_close(mica_handle_t h)
{
    return (int)S1(MICA_SYS_HANDLE_CLOSE, h).status;
}

int mica_handle_dup(mica_handle_t h, uint32_t rights, mica_handle_t *out)
{
    struct mica_result r = S2(MICA_SYS_HANDLE_DUP, h, rights);
    if (r.status == MICA_OK)
        *out = (mica_handle_t)r.r1;
    return (int)r.status;
}

int mica_handle_mint(mica_handle_t h, uint32_t rights, uint64_t badge, mica_handle_t *out)
{
    struct mica_result r = S3(MICA_SYS_HANDLE_MINT, h, rights, badge);
    if (r.status == MICA_OK)
        *out = (mica_handle_t)r.r1;
    return (int)r.status;
}

int mica_handle_revoke(mica_handle_t h)
{
    return (int)S1(MICA_SYS_HANDLE_REVOKE, h).status;
}

int mica_handle_info(mica_handle_t h, uint32_t *type, uint32_t *rights, uint64_t *badge)
{
    struct mica_result r = S1(MICA_SYS_HANDLE_INFO, h);
    if (r.status != MICA_OK)
        return (int)r.status;
    if (type)
        *type = (uint32_t)r.r1;
    if (rights)
        *rights = (uint32_t)r.r2;
    if (badge)
        *badge = r.r3;
    return (int)r.status;
}

int mica_handle_give(mica_handle_t h, mica_handle_t process, mica_handle_t *in_process)
{
    struct mica_result r = S2(MICA_SYS_HANDLE_GIVE, h, process);
    if (r.status == MICA_OK)
        *in_process = (mica_handle_t)r.r1;
    return (int)r.status;
}

int mica_vmo_create(uint64_t size, mica_handle_t *out)
{
    struct mica_result r = S1(MICA_SYS_VMO_CREATE, size);
    if (r.status == MICA_OK)
        *out = (mica_handle_t)r.r1;
    return (int)r.status;
}

int mica_vmo_create_for(mica_handle_t payer, uint64_t size, mica_handle_t *out)
{
    struct mica_result r = S2(MICA_SYS_VMO_CREATE, size, payer);
    if (r.status == MICA_OK)
        *out = (mica_handle_t)r.r1;
    return (int)r.status;
}

int mica_vmo_read(mica_handle_t vmo, uint64_t offset, void *buf, size_t len)
{
    return (int)S4(MICA_SYS_VMO_READ, vmo, offset, buf, len).status;
}

int mica_vmo_write(mica_handle_t vmo, uint64_t offset, const void *buf, size_t len)
{
    return (int)S4(MICA_SYS_VMO_WRITE, vmo, offset, buf, len).status;
}

int mica_vmo_copy(mica_handle_t dst, uint64_t dst_offset, mica_handle_t src, uint64_t src_offset,
                  size_t len)
{
    return (int)mica_syscall(MICA_SYS_VMO_COPY, dst, dst_offset, src, src_offset, len, 0).status;
}

int mica_vmo_get_size(mica_handle_t vmo, uint64_t *size)
{
    struct mica_result r = S1(MICA_SYS_VMO_GET_SIZE, vmo);
    if (r.status == MICA_OK)
        *size = r.r1;
    return (int)r.status;
}

int mica_aspace_map(mica_handle_t aspace, mica_handle_t vmo, uint64_t offset, size_t size,
                    uintptr_t va, uint32_t flags, uintptr_t *out)
{
    struct mica_result r = mica_syscall(MICA_SYS_ASPACE_MAP, aspace, vmo, offset, size, va, flags);
    if (out && r.status == MICA_OK)
        *out = r.r1;
    return (int)r.status;
}

int mica_aspace_unmap(mica_handle_t aspace, uintptr_t va, size_t size)
{
    return (int)S3(MICA_SYS_ASPACE_UNMAP, aspace, va, size).status;
}

int mica_aspace_protect(mica_handle_t aspace, uintptr_t va, size_t size, uint32_t flags)
{
    return (int)S4(MICA_SYS_ASPACE_PROTECT, aspace, va, size, flags).status;
}

int mica_process_create(const char *name, mica_handle_t *process, mica_handle_t *aspace)
{
    return mica_process_create_flags(name, 0, process, aspace);
}

int mica_process_create_flags(const char *name, uint32_t flags, mica_handle_t *process,
                              mica_handle_t *aspace)
{
    return mica_process_create_under(name, flags, 0, process, aspace);
}

int mica_process_create_under(const char *name, uint32_t flags, mica_handle_t payer,
                              mica_handle_t *process, mica_handle_t *aspace)
{
    size_t len = 0;
    while (name[len])
        len++;
    struct mica_result r = S4(MICA_SYS_PROCESS_CREATE, name, len, flags, payer);
    if (r.status == MICA_OK) {
        *process = (mica_handle_t)r.r1;
        *aspace = (mica_handle_t)r.r2;
    }
    return (int)r.status;
}

int mica_process_set_limit(mica_handle_t process, uint64_t pages)
{
    return (int)S2(MICA_SYS_PROCESS_SET_LIMIT, process, pages).status;
}

int mica_process_memory(mica_handle_t process, uint64_t *pages, uint64_t *limit, uint64_t *room)
{
    struct mica_result r = S1(MICA_SYS_PROCESS_MEMORY, process);
    if (r.status == MICA_OK) {
        if (pages)
            *pages = r.r1;
        if (limit)
            *limit = r.r2;
        if (room)
            *room = r.r3;
    }
    return (int)r.status;
}

int mica_process_kill(mica_handle_t process)
{
    return (int)S1(MICA_SYS_PROCESS_KILL, process).status;
}

int mica_process_end(mica_handle_t process, int64_t code, unsigned how)
{
    return (int)S3(MICA_SYS_PROCESS_KILL, process, code, how).status;
}

int mica_process_wait(mica_handle_t process, uint64_t deadline, int64_t *code, uint32_t *reason)
{
    struct mica_result r = S2(MICA_SYS_PROCESS_WAIT, process, deadline);
    if (r.status != MICA_OK)
        return (int)r.status;
    if (code)
        *code = (int64_t)r.r1;
    if (reason)
        *reason = (uint32_t)r.r2;
    return (int)r.status;
}

void mica_process_exit(int64_t code)
{
    S1(MICA_SYS_PROCESS_EXIT, code);
    for (;;)
        ;
}

int mica_thread_create(mica_handle_t process, unsigned priority, mica_handle_t *out)
{
    return mica_thread_create_for(0, process, priority, out);
}

int mica_thread_create_for(mica_handle_t payer, mica_handle_t process, unsigned priority,
                           mica_handle_t *out)
{
    struct mica_result r = S3(MICA_SYS_THREAD_CREATE, process, priority, payer);
    if (r.status == MICA_OK)
        *out = (mica_handle_t)r.r1;
    return (int)r.status;
}

int mica_thread_start(mica_handle_t thread, uintptr_t pc, uintptr_t sp, uint64_t arg0,
                      uint64_t arg1)
{
    return (int)mica_syscall(MICA_SYS_THREAD_START, thread, pc, sp, arg0, arg1, 0).status;
}

void mica_thread_exit(void)
{
    S0(MICA_SYS_THREAD_EXIT);
    for (;;)
        ;
}

int mica_yield(void)
{
    return (int)S0(MICA_SYS_YIELD).status;
}
int mica_sleep_until(uint64_t deadline)
{
    return (int)S1(MICA_SYS_SLEEP, deadline).status;
}

int mica_kernel_stats(struct mica_kernel_stats *out)
{
    return (int)S2(MICA_SYS_KERNEL_STATS, out, sizeof(*out)).status;
}

int mica_system_exit(mica_handle_t resource, int code)
{
    return (int)S3(MICA_SYS_SYSTEM_EXIT, resource, code, MICA_SYSTEM_OFF).status;
}

int mica_system_reset(mica_handle_t resource)
{
    return (int)S3(MICA_SYS_SYSTEM_EXIT, resource, 0, MICA_SYSTEM_RESET).status;
}
