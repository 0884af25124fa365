/*
 * devmgr: turns the device tree into running drivers.
 *
 * procmgr starts devmgr with `grant=devices`: the root resource and the
 * device tree VMO. devmgr reads the `driver COMPATIBLE PROGRAM` lines of
 * the boot manifest, and for every enabled node compatible with one it
 * makes a physical VMO of the node's registers and an IRQ object for its
 * interrupt (the node of the kernel's console also gets a CONSOLE
 * resource), then asks procmgr to supervise the driver with those handles
 * (PM_ADD_DRIVER). procmgr keeps them, so a crashed driver comes back with
 * its device. The service is named after the program ("uart"), or
 * "console" for the console's UART; a second node for the same program
 * gets a number ("uart1").
 *
 * A restarted devmgr leaves the drivers that are still running alone (they
 * hold their devices: an IRQ line has one owner at a time) and equips only
 * those that are not: the ones procmgr gave up on, whose devices it let go
 * — that is why procmgr restarts devmgr when it gives a driver up.
 *
 * Afterwards devmgr answers DM_COUNT / DM_DEVICE (mica/proto/devmgr.h).
 */
#include "devtree.h"
#include <libfdt.h>
#include <mica/manifest.h>
#include <mica/proto/devmgr.h>
#include <mica/proto/procmgr.h>
#include <string.h>

#define MAX_DEVICES 16

struct device {
    char name[MICA_NAME_MAX + 1];
    uint64_t pa;
};
static struct device devices[MAX_DEVICES];
static unsigned n_devices;
static struct manifest manifest;

static void *map(mica_handle_t vmo, size_t size)
{
    uintptr_t va;
    size_t mapped = (size + MICA_PAGE_SIZE - 1) & ~(MICA_PAGE_SIZE - 1);
    if (!vmo || !size ||
        mica_aspace_map(mica_bootinfo->self_aspace, vmo, 0, mapped, 0, MICA_MAP_READ, &va))
        return NULL;
    return (void *)va;
}

static void service_name(const char *program, bool console, char *out, size_t len)
{
    const char *slash = strrchr(program, '/');
    const char *base = slash ? slash + 1 : program;
    if (console) {
        snprintf(out, len, "console");
        return;
    }
    for (unsigned n = 0;; n++) {
        if (n == 0)
            snprintf(out, len, "%s", base);
        else
            snprintf(out, len, "%s%u", base, n);
        bool taken = false;
        for (unsigned i = 0; i < n_devices; i++)
            taken |= strcmp(devices[i].name, out) == 0;
        if (!taken)
            return;
    }
}

/* Equip and start `program` for node; logs and skips what it cannot. */
static void start_driver(const void *fdt, int node, const struct manifest_driver *d)
{
    const struct mica_bootinfo *bi = mica_bootinfo;
    const char *path = fdt_get_name(fdt, node, NULL);
    uint64_t base, size;
    unsigned irq;
    mica_handle_t handles[3];
    unsigned n = 0;
    if (n_devices == MAX_DEVICES) {
        mica_printf("devmgr: %s: too many devices\n", path);
        return;
    }
    int err = devtree_reg(fdt, node, 0, &base, &size);
    if (err || size == 0 || size > (1UL << 30)) {
        mica_printf("devmgr: %s: no usable reg (%s)\n", path, fdt_strerror(err));
        return;
    }
    struct device *dev = &devices[n_devices];
    bool console = bi->console_pa == base;
    uint64_t state, restarts;
    service_name(d->program, console, dev->name, sizeof(dev->name));
    if (pm_status(bi->procmgr, dev->name, &state, &restarts) == MICA_OK &&
        state == PM_STATE_RUNNING) { /* we restarted; it did not */
        dev->pa = base;
        n_devices++;
        mica_printf("devmgr: %s at 0x%lx -> %s (still running)\n", path, base, dev->name);
        return;
    }
    uint64_t page = base & ~(MICA_PAGE_SIZE - 1);
    uint64_t span = (base + size - page + MICA_PAGE_SIZE - 1) & ~(MICA_PAGE_SIZE - 1);
    if ((err = mica_vmo_create_physical(bi->root_resource, page, span, &handles[n])) != MICA_OK) {
        mica_printf("devmgr: %s: no VMO for 0x%lx: %s\n", path, base, mica_status_name(err));
        return;
    }
    n++;
    bool has_irq = devtree_irq(fdt, node, &irq) == 0;
    if (has_irq && (err = mica_irq_create(bi->root_resource, irq, &handles[n])) != MICA_OK) {
        mica_printf("devmgr: %s: IRQ %u: %s\n", path, irq, mica_status_name(err));
        has_irq = false;
    }
    n += has_irq;
    if (console && mica_resource_create(bi->root_resource, MICA_RESOURCE_CONSOLE, 0, 1,
                                        &handles[n]) == MICA_OK)
        n++;
    else
        console = false;
    char cmdline[PM_CMDLINE_MAX + 1];
    snprintf(cmdline, sizeof(cmdline), "%s offset=%lu irq=%d console=%d", d->compatible,
             base - page, has_irq, console);
    /* procmgr takes the handles, whatever it answers. */
    err = pm_add_driver(bi->procmgr, dev->name, d->program, cmdline, handles, n);
    if (err) {
        mica_printf("devmgr: %s: cannot start %s: %s\n", path, d->program, mica_status_name(err));
        return;
    }
    dev->pa = base;
    n_devices++;
    mica_printf("devmgr: %s at 0x%lx (irq %d) -> %s\n", path, base, has_irq ? (int)irq : -1,
                dev->name);
}

static int64_t handle_DM_COUNT(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx, (void)req;
    reply->w[1] = n_devices;
    return MICA_OK;
}

static int64_t handle_DM_DEVICE(void *ctx, const struct mica_msg *req, struct mica_msg *reply)
{
    (void)ctx;
    if (req->w[0] >= n_devices)
        return MICA_ERR_NOT_FOUND;
    const struct device *dev = &devices[req->w[0]];
    mica_name_pack(dev->name, &reply->w[1]);
    reply->w[5] = dev->pa;
    return MICA_OK;
}

static const struct mica_server_op ops[] = {
#define DM_SERVER_OP(name, label, req, rep) {label, req, handle_##name, rep, 0},
    DEVMGR_OPS(DM_SERVER_OP)
#undef DM_SERVER_OP
};

int main(const struct mica_bootinfo *bi)
{
    const void *fdt = map(bi->dtb_vmo, bi->dtb_size);
    const void *bootfs = map(bi->bootfs_vmo, bi->bootfs_size);
    const void *text;
    size_t text_len;
    unsigned line;
    const char *why;
    if (!bi->startup_handle || !bi->procmgr || !bi->root_resource) {
        mica_printf("devmgr: needs grant=devices in the boot manifest\n");
        return 1;
    }
    if (!fdt || fdt_check_header(fdt) != 0 || fdt_totalsize(fdt) > bi->dtb_size) {
        mica_printf("devmgr: no valid device tree: no drivers started\n");
    } else if (!bootfs ||
               mica_cpio_find(bootfs, bi->bootfs_size, "boot/manifest", &text, &text_len) ||
               manifest_parse(text, text_len, &manifest, &line, &why)) {
        mica_printf("devmgr: cannot read the boot manifest's driver lines\n");
    } else {
        for (unsigned i = 0; i < manifest.n_drivers; i++) {
            const struct manifest_driver *d = &manifest.drivers[i];
            for (int node = fdt_node_offset_by_compatible(fdt, -1, d->compatible); node >= 0;
                 node = fdt_node_offset_by_compatible(fdt, node, d->compatible))
                if (devtree_enabled(fdt, node))
                    start_driver(fdt, node, d);
        }
    }
    mica_printf("devmgr: %u driver(s) started\n", n_devices);
    int err = mica_serve(bi->startup_handle, ops, sizeof(ops) / sizeof(ops[0]), NULL, NULL);
    mica_printf("devmgr: stopped serving: %s\n", mica_status_name(err));
    return 1;
}
