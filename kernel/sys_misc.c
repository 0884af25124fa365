/*
 * Small syscalls: null (benchmarks), the debug log, the clock, yield and
 * sleep, kernel statistics (the fuzzer's leak check), console handover
 * to the UART driver and system exit.
 */
#include <mica/aspace.h>
#include <mica/ipc.h>
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/platform.h>
#include <mica/printk.h>
#include <mica/resource.h>
#include <mica/syscall.h>
#include <mica/usercopy.h>

#define LOG_MAX 512
#define LOG_REFILL_NS 10000000UL /* one more message per 10 ms */

int sys_null(struct trap_frame *f)
{
    (void)f;
    return OK;
}

/* Token bucket per process: LOG_BURST messages at once, then one per
 * LOG_REFILL_NS; what is dropped is counted and reported. */
static bool log_allowed(struct process *p)
{
    uint64_t now = time_now_ns();
    uint64_t earned = (now - p->log_refilled_at) / LOG_REFILL_NS;
    if (earned) {
        p->log_tokens = MIN(PROCESS_LOG_BURST, p->log_tokens + earned);
        p->log_refilled_at += earned * LOG_REFILL_NS;
    }
    if (p->log_tokens == 0) {
        p->log_dropped++;
        return false;
    }
    p->log_tokens--;
    return true;
}

int sys_debug_log(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_RESOURCE, MICA_RIGHT_MANAGE, &h);
    if (err)
        return err;
    if (!resource_covers((struct resource *)h->obj, MICA_RESOURCE_LOG, 0, 1))
        return ERR_ACCESS_DENIED;
    uintptr_t buf = f->x[1];
    size_t len = f->x[2];
    if (len > LOG_MAX || (f->x[3] & ~(uint64_t)MICA_LOG_SERVICE))
        return ERR_INVALID_ARGS;
    char text[LOG_MAX + 1];
    if (copy_from_user(text, buf, len) != OK)
        return ERR_FAULT;
    text[len] = '\0';
    struct process *p = current_process();
    if (!log_allowed(p))
        return OK;
    if (p->log_dropped) {
        printk("[log] '%s': %lu message(s) dropped by the rate limit\n", p->name, p->log_dropped);
        p->log_dropped = 0;
    }
    for (size_t i = 0; i < len; i++) /* keep the console readable */
        if ((text[i] < 0x20 && text[i] != '\n' && text[i] != '\t') || text[i] == 0x7F)
            text[i] = '?';
    if (f->x[3] & MICA_LOG_SERVICE)
        log_service_line(text, len);
    else
        printk("%s", text);
    return OK;
}

/* dmesg: the log as it is, service lines included. Needs the same LOG
 * resource as debug_log (every process has one). */
int sys_log_read(struct trap_frame *f)
{
    struct handle *h;
    char text[MICA_LOG_READ_MAX];
    /* READ as well: every process may write the log, only those its
     * creator trusted with the root resource may read what others wrote. */
    int err = lookup(f->x[0], MICA_OBJ_RESOURCE, MICA_RIGHT_MANAGE | MICA_RIGHT_READ, &h);
    if (err)
        return err;
    if (!resource_covers((struct resource *)h->obj, MICA_RESOURCE_LOG, 0, 1))
        return ERR_ACCESS_DENIED;
    if (f->x[3] > MICA_LOG_READ_MAX)
        return ERR_INVALID_ARGS;
    uint64_t pos = f->x[1];
    size_t n = log_read(&pos, text, f->x[3]);
    if (n && copy_to_user(f->x[2], text, n) != OK)
        return ERR_FAULT;
    f->x[1] = n;
    f->x[2] = pos;
    return OK;
}

int sys_clock_get(struct trap_frame *f)
{
    f->x[1] = time_now_ns();
    return OK;
}

int sys_yield(struct trap_frame *f)
{
    (void)f;
    sched_yield();
    return OK;
}

int sys_sleep(struct trap_frame *f)
{
    struct wait_queue nobody = {0};
    int err = wait_queue_block(&nobody, f->x[0]);
    return err == ERR_TIMED_OUT ? OK : err;
}

int sys_kernel_stats(struct trap_frame *f)
{
    struct mica_kernel_stats st = {0};
    if (f->x[1] < sizeof(st))
        return ERR_INVALID_ARGS;
    for (unsigned i = 0; i < MICA_OBJ_TYPE_COUNT; i++)
        st.objects[i] = object_counts[i];
    st.handles = live_handles;
    st.free_pages = page_alloc_free_count(&kernel_page_alloc);
    st.asid_rollovers = asid_rollovers;
    for (unsigned c = 0; c < MAX_CPUS; c++)
        st.ipc_fast += cpus[c].ipc_fast;
    return copy_to_user(f->x[0], &st, sizeof(st));
}

static int console_resource(uint64_t value)
{
    struct handle *h;
    int err = lookup(value, MICA_OBJ_RESOURCE, MICA_RIGHT_MANAGE, &h);
    if (!err && !resource_covers((struct resource *)h->obj, MICA_RESOURCE_CONSOLE, 0, 1))
        err = ERR_ACCESS_DENIED;
    return err;
}

int sys_console_take(struct trap_frame *f)
{
    struct handle *n;
    int err = console_resource(f->x[0]);
    if (!err)
        err = lookup(f->x[1], MICA_OBJ_NOTIFICATION, MICA_RIGHT_SIGNAL, &n);
    if (!err && f->x[2] == 0)
        err = ERR_INVALID_ARGS;
    return err ? err : console_take(current_process(), (struct notification *)n->obj, f->x[2]);
}

int sys_console_read(struct trap_frame *f)
{
    char text[MICA_CONSOLE_READ_MAX];
    int err = console_resource(f->x[0]);
    if (err)
        return err;
    size_t len = f->x[2] < sizeof(text) ? f->x[2] : sizeof(text);
    if (f->x[3] & ~(uint64_t)MICA_CONSOLE_READ_NO_SERVICE)
        return ERR_INVALID_ARGS;
    size_t n = console_read(current_process(), text, len, f->x[3] & MICA_CONSOLE_READ_NO_SERVICE);
    if (n && copy_to_user(f->x[1], text, n) != OK)
        return ERR_FAULT; /* those bytes are gone: the caller's buffer was bad */
    f->x[1] = n;
    return OK;
}

int sys_system_exit(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_RESOURCE, MICA_RIGHT_MANAGE, &h);
    if (err)
        return err;
    if (!resource_is_root((struct resource *)h->obj))
        return ERR_ACCESS_DENIED;
    int code = (int)f->x[1];
    if (f->x[2] > MICA_SYSTEM_RESET)
        return ERR_INVALID_ARGS;
    if (f->x[2] == MICA_SYSTEM_RESET) {
        printk("system: restart requested by '%s'\n", current_process()->name);
        console_flush();
        board_reset(&platform);
        printk("system: this board cannot restart\n");
        return ERR_NOT_SUPPORTED;
    }
    printk("system: exit requested by '%s' with status %d\n", current_process()->name, code);
    console_flush();
    semihost_exit(code);
    panic("system exit: semihosting is not available (status %d)", code);
}
