/*
 * Driver tests: devmgr started the drivers of the test manifest with
 * their devices, the uart driver's protocol refuses bad requests and
 * serves several clients, and a driver that crashes (testdrv) is restarted
 * by procmgr with the same device while the system stays usable.
 */
#include <mica/proto/devmgr.h>
#include <mica/proto/procmgr.h>
#include <mica/proto/uart.h>
#include <string.h>

#include "ktest.h"
#include "testdrv.h"

#define WAIT_NS 10000000000UL /* drivers appear once devmgr has read the DTB */

static mica_handle_t procmgr(void)
{
    return kt_bootinfo()->startup_handle;
}

/* A raw request: label, n words from w (buffer words too), h handles. */
static int raw(mica_handle_t ep, uint32_t label, const uint64_t *w, unsigned n, unsigned handles,
               uint32_t timeout_us, struct mica_msg *m)
{
    struct mica_ipc_buffer *buf = mica_ipc_buffer_here();
    memset(m, 0, sizeof(*m));
    for (unsigned i = 0; i < n; i++) {
        if (i < MICA_MSG_REG_WORDS)
            m->w[i] = w[i];
        else
            buf->words[i - MICA_MSG_REG_WORDS] = w[i];
    }
    m->info = mica_msg_info(label, n, handles, timeout_us);
    int err = mica_call(ep, m);
    return err ? err : (int)(int64_t)m->w[0];
}

/* Booted without a device tree (raspi3b.no-dtb): devmgr has nothing to
 * start, and says so. */
static int no_device_tree(void)
{
    return kt_bootinfo()->dtb_vmo == 0;
}

static int test_devmgr_drivers(void)
{
    mica_handle_t dm, vmo;
    struct mica_msg m;
    uint64_t w[24] = {0};
    struct mica_kernel_stats before, after;
    CHECK_OK(pm_lookup_wait(procmgr(), "devmgr", WAIT_NS, &dm));
    if (no_device_tree()) {
        mica_sleep_until(mica_clock_ns() + 500000000UL);
        CHECK_OK(raw(dm, DM_COUNT, w, 0, 0, 0, &m));
        CHECK(m.w[1] == 0);
        CHECK_STATUS(pm_lookup(procmgr(), "console", &vmo), MICA_ERR_NOT_FOUND);
        mica_printf("    no device tree: no drivers, as expected\n");
        return 0;
    }
    CHECK_OK(pm_lookup_wait(procmgr(), "testdrv", WAIT_NS, &vmo)); /* devmgr is done */
    CHECK_OK(mica_handle_close(vmo));
    CHECK_OK(raw(dm, DM_COUNT, w, 0, 0, 0, &m));
    uint64_t count = m.w[1];
    CHECK(count >= 2);
    bool console = false, testdrv = false;
    for (uint64_t i = 0; i < count; i++) {
        char name[MICA_NAME_MAX + 1];
        w[0] = i;
        CHECK_OK(raw(dm, DM_DEVICE, w, 1, 0, 0, &m));
        mica_name_unpack(&m.w[1], name);
        console |= strcmp(name, "console") == 0 && m.w[5] == kt_bootinfo()->console_pa;
        testdrv |= strcmp(name, "testdrv") == 0;
    }
    CHECK(console && testdrv);
    w[0] = count;
    CHECK_STATUS(raw(dm, DM_DEVICE, w, 1, 0, 0, &m), MICA_ERR_NOT_FOUND);
    CHECK_STATUS(raw(dm, DM_DEVICE, w, 0, 0, 0, &m), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(raw(dm, 77, w, 1, 0, 0, &m), MICA_ERR_NOT_SUPPORTED);
    /* Only a service granted devices may add drivers; the handles sent are
     * closed, not kept. */
    CHECK_OK(kt_stats(&before));
    CHECK_OK(mica_vmo_create(4096, &vmo));
    CHECK_STATUS(pm_add_driver(procmgr(), "rogue", "bin/testdrv", "", &vmo, 1),
                 MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_handle_close(vmo), MICA_ERR_BAD_HANDLE); /* it moved */
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    CHECK_STATUS(pm_status(procmgr(), "rogue", &w[0], &w[1]), MICA_ERR_NOT_FOUND);
    CHECK_OK(mica_handle_close(dm));
    return 0;
}

static int td_call(mica_handle_t td, uint32_t label, uint64_t arg, struct mica_msg *m)
{
    return raw(td, label, &arg, label == TD_READ32 ? 1 : 0, 0, 0, m);
}

static int test_driver_restart(void)
{
    mica_handle_t td, fs;
    struct mica_msg m;
    uint64_t state, restarts, again;
    bool virt = kt_bootinfo()->console_pa == 0x09000000;
    if (no_device_tree())
        return 0; /* nothing to crash (test_devmgr_drivers checked that) */
    CHECK_OK(pm_lookup_wait(procmgr(), "testdrv", WAIT_NS, &td));
    CHECK_OK(td_call(td, TD_INFO, 0, &m));
    CHECK(m.w[1] >= 4096 && m.w[1] % 4096 == 0 && m.w[3] == MICA_OBJ_IRQ);
    /* Its registers: the PL061's PeriphID0 reads 0x61 on virt. */
    CHECK_OK(td_call(td, TD_READ32, virt ? 0xFE0 : 0, &m));
    CHECK(!virt || m.w[1] == 0x61);
    CHECK_STATUS(td_call(td, TD_READ32, 3, &m), MICA_ERR_OUT_OF_RANGE);
    CHECK_STATUS(td_call(td, TD_READ32, 1UL << 40, &m), MICA_ERR_OUT_OF_RANGE);
    CHECK_OK(pm_status(procmgr(), "testdrv", &state, &restarts));
    CHECK(state == PM_STATE_RUNNING);
    /* Crash it: the call fails, procmgr restarts it with its device. */
    CHECK_STATUS(td_call(td, TD_CRASH, 0, &m), MICA_ERR_PEER_CLOSED);
    uint64_t deadline = mica_clock_ns() + 5000000000UL;
    do {
        mica_sleep_until(mica_clock_ns() + 10000000UL);
        CHECK_OK(pm_status(procmgr(), "testdrv", &state, &again));
    } while (again == restarts && mica_clock_ns() < deadline);
    CHECK(again == restarts + 1 && state == PM_STATE_RUNNING);
    int err;
    deadline = mica_clock_ns() + 5000000000UL;
    while ((err = td_call(td, TD_INFO, 0, &m)) != MICA_OK && mica_clock_ns() < deadline)
        mica_sleep_until(mica_clock_ns() + 10000000UL);
    CHECK_OK(err); /* the same endpoint handle reaches the new instance */
    CHECK(m.w[3] == MICA_OBJ_IRQ);
    CHECK_OK(td_call(td, TD_READ32, virt ? 0xFE0 : 0, &m));
    CHECK(!virt || m.w[1] == 0x61);
    /* The rest of the system did not notice. */
    CHECK_OK(pm_lookup(procmgr(), "fs", &fs));
    CHECK_OK(mica_handle_close(fs));
    CHECK_OK(mica_handle_close(td));
    return 0;
}

/* PM_STATUS of name: state, restarts and generation (bumps each start). */
static int status(const char *name, uint64_t out[3])
{
    uint64_t w[4];
    mica_name_pack(name, w);
    return mica_request(procmgr(), PM_STATUS, w, 4, out, 3);
}

/* Wait (up to 5 s) until devmgr has started, i.e. answers DM_COUNT. */
static int devmgr_count(uint64_t *count)
{
    mica_handle_t dm;
    struct mica_msg m;
    uint64_t none = 0;
    int err = pm_lookup(procmgr(), "devmgr", &dm);
    if (err)
        return err;
    err = raw(dm, DM_COUNT, &none, 0, 0, 5000000, &m);
    *count = m.w[1];
    mica_handle_close(dm);
    return err;
}

/* Wait (up to 5 s) until name runs an instance newer than generation. */
static int wait_new_instance(const char *name, uint64_t generation, uint64_t st[3])
{
    uint64_t deadline = mica_clock_ns() + 5000000000UL;
    int err;
    while ((err = status(name, st)) == MICA_OK &&
           (st[2] == generation || st[0] != PM_STATE_RUNNING) && mica_clock_ns() < deadline)
        mica_sleep_until(mica_clock_ns() + 10000000UL);
    return err ? err : st[0] == PM_STATE_RUNNING && st[2] != generation ? 0 : MICA_ERR_TIMED_OUT;
}

/* devmgr killed: the restarted devmgr finds its drivers still running and
 * leaves them be (they keep their IRQ lines; it used to re-add them, could
 * not claim their IRQs again, and restarted them without one). */
static int test_devmgr_restart(void)
{
    uint64_t dm0[3], dm1[3], con0[3], con1[3], td0[3], td1[3], count0, count1;
    mica_handle_t td;
    struct mica_msg m;
    if (no_device_tree())
        return 0;
    CHECK_OK(devmgr_count(&count0));
    CHECK_OK(status("devmgr", dm0));
    CHECK_OK(status("console", con0));
    CHECK_OK(status("testdrv", td0));
    CHECK_OK(pm_kill(procmgr(), "devmgr"));
    CHECK_OK(wait_new_instance("devmgr", dm0[2], dm1));
    CHECK(dm1[1] == dm0[1] + 1);
    CHECK_OK(devmgr_count(&count1));
    CHECK(count1 == count0); /* it lists them all */
    CHECK_OK(status("console", con1));
    CHECK_OK(status("testdrv", td1));
    CHECK(con1[0] == PM_STATE_RUNNING && con1[2] == con0[2]); /* the same instances */
    CHECK(td1[0] == PM_STATE_RUNNING && td1[2] == td0[2]);
    CHECK_OK(pm_lookup(procmgr(), "testdrv", &td));
    CHECK_OK(td_call(td, TD_INFO, 0, &m));
    CHECK(m.w[3] == MICA_OBJ_IRQ);
    CHECK_OK(mica_handle_close(td));
    return 0;
}

/* A driver that crashes past its restart intensity is given up: its
 * callers get PEER_CLOSED at once, its device goes back (the IRQ line is
 * free), and procmgr restarts devmgr, which equips it again on a new
 * endpoint: a new lookup reaches a driver with its IRQ object. */
static int test_driver_given_up(void)
{
    uint64_t dm0[3], dm1[3], td0[3], st[3];
    mica_handle_t td, again;
    struct mica_msg m;
    if (no_device_tree())
        return 0;
    CHECK_OK(status("devmgr", dm0));
    CHECK_OK(pm_lookup(procmgr(), "testdrv", &td));
    for (int crash = 0; crash < 8; crash++) {
        CHECK_OK(status("devmgr", dm1));
        if (dm1[1] != dm0[1])
            break; /* given up: devmgr was restarted */
        CHECK_OK(status("testdrv", td0));
        CHECK_STATUS(raw(td, TD_CRASH, NULL, 0, 0, 2000000, &m), MICA_ERR_PEER_CLOSED);
        uint64_t deadline = mica_clock_ns() + 5000000000UL;
        do {
            mica_sleep_until(mica_clock_ns() + 10000000UL);
            CHECK_OK(status("testdrv", st));
        } while ((st[2] == td0[2] || st[0] != PM_STATE_RUNNING) && mica_clock_ns() < deadline);
    }
    CHECK(dm1[1] == dm0[1] + 1);
    uint64_t count;
    CHECK_OK(devmgr_count(&count));
    CHECK_OK(status("testdrv", st));
    CHECK(st[0] == PM_STATE_RUNNING);
    uint64_t t0 = mica_clock_ns();
    CHECK_STATUS(raw(td, TD_INFO, NULL, 0, 0, 2000000, &m), MICA_ERR_PEER_CLOSED);
    CHECK(mica_clock_ns() - t0 < 1000000000UL); /* at once, not at the timeout */
    CHECK_OK(pm_lookup(procmgr(), "testdrv", &again));
    CHECK_OK(td_call(again, TD_INFO, 0, &m));
    CHECK(m.w[3] == MICA_OBJ_IRQ); /* devmgr claimed its IRQ line again */
    CHECK_OK(mica_handle_close(again));
    CHECK_OK(mica_handle_close(td));
    return 0;
}

static int test_uart_protocol(void)
{
    mica_handle_t a, b, vmo, n;
    struct mica_msg m;
    uint64_t w[8] = {0};
    struct mica_kernel_stats before, after;
    static char big[3000];
    if (no_device_tree())
        return 0; /* no console driver (test_devmgr_drivers checked that) */
    CHECK_OK(pm_lookup_wait(procmgr(), "console", WAIT_NS, &a));
    CHECK_OK(pm_lookup(procmgr(), "console", &b)); /* a second client */
    CHECK_OK(raw(a, UART_INFO, w, 0, 0, 0, &m));
    uint64_t sent = m.w[2];
    const char *text = "ktest: two clients write through the uart driver\n";
    CHECK_OK(uart_write(a, text, strlen(text)));
    CHECK_OK(uart_puts(b, "ktest: the second client\n"));
    memset(big, '.', sizeof(big));
    big[sizeof(big) - 1] = '\n';
    CHECK_OK(uart_write(a, big, sizeof(big))); /* several messages */
    CHECK_OK(raw(b, UART_INFO, w, 0, 0, 0, &m));
    CHECK(m.w[2] >= sent + strlen(text) + sizeof(big));
    /* Bad requests. */
    w[0] = UART_IO_MAX + 1;
    CHECK_STATUS(raw(a, UART_WRITE, w, 1, 0, 0, &m), MICA_ERR_INVALID_ARGS);
    w[0] = 100; /* more bytes than the message carries */
    CHECK_STATUS(raw(a, UART_WRITE, w, 2, 0, 0, &m), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(raw(a, UART_WRITE, w, 0, 0, 0, &m), MICA_ERR_INVALID_ARGS);
    w[0] = 0;
    CHECK_STATUS(raw(a, UART_READ, w, 1, 0, 0, &m), MICA_ERR_INVALID_ARGS);
    w[0] = UART_IO_MAX + 1;
    CHECK_STATUS(raw(a, UART_READ, w, 1, 0, 0, &m), MICA_ERR_INVALID_ARGS);
    w[0] = 1;
    CHECK_STATUS(raw(a, UART_SET_FOREGROUND, w, 1, 0, 0, &m), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(raw(a, 77, w, 1, 0, 0, &m), MICA_ERR_NOT_SUPPORTED);
    /* Handles a request should not carry are closed by the driver. */
    CHECK_OK(kt_stats(&before));
    CHECK_OK(mica_vmo_create(4096, &vmo));
    mica_ipc_buffer_here()->handles[0] = vmo;
    CHECK_STATUS(raw(a, UART_SET_FOREGROUND, w, 1, 1, 0, &m), MICA_ERR_WRONG_TYPE);
    CHECK_OK(mica_vmo_create(4096, &vmo));
    mica_ipc_buffer_here()->handles[0] = vmo;
    CHECK_OK(raw(a, UART_INFO, w, 0, 1, 0, &m));
    CHECK_OK(mica_notification_create(&n));
    mica_ipc_buffer_here()->handles[0] = n;
    w[0] = 0; /* no bits */
    CHECK_STATUS(raw(a, UART_SET_FOREGROUND, w, 1, 1, 0, &m), MICA_ERR_INVALID_ARGS);
    CHECK_OK(kt_stats(&after));
    CHECK(kt_same_objects(&before, &after));
    /* Reads wait for a line (none comes): our timeout ends them. Clients
     * that gave up never use the driver's slots up: more than it holds. */
    w[0] = 100;
    for (int i = 0; i < 12; i++)
        CHECK_STATUS(raw(i % 2 ? a : b, UART_READ, w, 1, 0, 20000, &m), MICA_ERR_TIMED_OUT);
    /* And the driver still answers at once. */
    CHECK_OK(raw(a, UART_INFO, w, 0, 0, 0, &m));
    CHECK_OK(mica_handle_close(a));
    CHECK_OK(mica_handle_close(b));
    return 0;
}

/* The console syscalls refuse what they must, and the console survives
 * its driver: killed, the kernel writes again; restarted, the driver takes
 * the console back (this test's last line must reach the harness). */
static int test_console_handover(void)
{
    const struct mica_bootinfo *bi = kt_bootinfo();
    mica_handle_t root = bi->root_resource, n, vmo, con_res, console;
    char buf[64];
    size_t got = 99;
    uint64_t state, restarts, again;
    CHECK_OK(mica_notification_create(&n));
    CHECK_OK(mica_vmo_create(4096, &vmo));
    CHECK_STATUS(mica_console_take(bi->debug_log, n, 1), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_console_read(bi->debug_log, buf, sizeof(buf), &got), MICA_ERR_ACCESS_DENIED);
    CHECK_STATUS(mica_console_take(root, n, 0), MICA_ERR_INVALID_ARGS);
    CHECK_STATUS(mica_console_take(root, vmo, 1), MICA_ERR_WRONG_TYPE);
    CHECK_STATUS(mica_console_take(0x7FFFFFFF, n, 1), MICA_ERR_BAD_HANDLE);
    if (no_device_tree()) { /* no driver to kill */
        CHECK_OK(mica_handle_close(n));
        CHECK_OK(mica_handle_close(vmo));
        return 0;
    }
    CHECK_OK(mica_resource_create(root, MICA_RESOURCE_CONSOLE, 0, 1, &con_res));
    CHECK_STATUS(mica_console_take(con_res, n, 1), MICA_ERR_BAD_STATE); /* the driver has it */
    CHECK_OK(mica_console_read(con_res, buf, sizeof(buf), &got));
    CHECK(got == 0); /* only the owner reads */
    CHECK_STATUS(mica_console_read_flags(con_res, buf, sizeof(buf), 2, &got),
                 MICA_ERR_INVALID_ARGS);                                /* an unknown flag */
    CHECK_OK(mica_console_read(con_res, (void *)8, sizeof(buf), &got)); /* nothing copied */
    CHECK_OK(pm_status(procmgr(), "console", &state, &restarts));
    CHECK_OK(pm_kill(procmgr(), "console"));
    mica_printf("ktest: the console driver is down: the kernel writes this\n");
    uint64_t deadline = mica_clock_ns() + 5000000000UL;
    do {
        mica_sleep_until(mica_clock_ns() + 10000000UL);
        CHECK_OK(pm_status(procmgr(), "console", &state, &again));
    } while (again == restarts && mica_clock_ns() < deadline);
    CHECK(again == restarts + 1 && state == PM_STATE_RUNNING);
    CHECK_OK(pm_lookup(procmgr(), "console", &console));
    int err;
    deadline = mica_clock_ns() + 5000000000UL;
    while ((err = uart_puts(console, "ktest: written through the restarted driver\n")) != MICA_OK &&
           mica_clock_ns() < deadline)
        mica_sleep_until(mica_clock_ns() + 10000000UL);
    CHECK_OK(err);
    mica_printf("ktest: console driver restarted\n");
    CHECK_OK(mica_handle_close(console));
    CHECK_OK(mica_handle_close(con_res));
    CHECK_OK(mica_handle_close(n));
    CHECK_OK(mica_handle_close(vmo));
    return 0;
}

const struct ktest ktests_drivers[] = {
    {"user_devmgr_drivers", test_devmgr_drivers},
    {"user_uart_protocol", test_uart_protocol},
    {"user_driver_restart", test_driver_restart},
    {"user_devmgr_restart", test_devmgr_restart},
    {"user_driver_given_up", test_driver_given_up},
    {"user_console_handover", test_console_handover},
    {NULL, NULL},
};
