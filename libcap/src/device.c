/* libcap wrappers for resources, physical and copy-on-write VMOs, and IRQ
 * objects: what a userspace driver uses (see mica/abi.h). */
#include <mica/cap.h>

static int create(uint64_t num, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                  mica_handle_t *out)
{
    struct mica_result r = mica_syscall(num, a0, a1, a2, a3, 0, 0);
    if (r.status == MICA_OK)
        *out = (mica_handle_t)r.r1;
    return (int)r.status;
}

int mica_resource_create(mica_handle_t parent, uint32_t kind, uint64_t base, uint64_t size,
                         mica_handle_t *out)
{
    return create(MICA_SYS_RESOURCE_CREATE, parent, kind, base, size, out);
}

int mica_vmo_create_physical(mica_handle_t resource, uint64_t pa, uint64_t size, mica_handle_t *out)
{
    return create(MICA_SYS_VMO_CREATE_PHYSICAL, resource, pa, size, 0, out);
}

int mica_vmo_create_child(mica_handle_t vmo, uint64_t offset, uint64_t size, mica_handle_t *out)
{
    return create(MICA_SYS_VMO_CREATE_CHILD, vmo, offset, size, 0, out);
}

int mica_vmo_create_child_for(mica_handle_t payer, mica_handle_t vmo, uint64_t offset,
                              uint64_t size, mica_handle_t *out)
{
    return create(MICA_SYS_VMO_CREATE_CHILD, vmo, offset, size, payer, out);
}

int mica_vmo_create_snapshot(mica_handle_t vmo, uint64_t offset, uint64_t size, mica_handle_t *out)
{
    return create(MICA_SYS_VMO_CREATE_SNAPSHOT, vmo, offset, size, 0, out);
}

int mica_vmo_create_snapshot_for(mica_handle_t payer, mica_handle_t vmo, uint64_t offset,
                                 uint64_t size, mica_handle_t *out)
{
    return create(MICA_SYS_VMO_CREATE_SNAPSHOT, vmo, offset, size, payer, out);
}

int mica_irq_create(mica_handle_t resource, unsigned irq, mica_handle_t *out)
{
    return create(MICA_SYS_IRQ_CREATE, resource, irq, 0, 0, out);
}

int mica_irq_bind(mica_handle_t irq, mica_handle_t notification, uint64_t bits)
{
    return (int)mica_syscall(MICA_SYS_IRQ_BIND, irq, notification, bits, 0, 0, 0).status;
}

int mica_irq_ack(mica_handle_t irq)
{
    return (int)mica_syscall(MICA_SYS_IRQ_ACK, irq, 0, 0, 0, 0, 0).status;
}

int mica_irq_mask(mica_handle_t irq)
{
    return (int)mica_syscall(MICA_SYS_IRQ_MASK, irq, 0, 0, 0, 0, 0).status;
}

int mica_vmo_create_contiguous(mica_handle_t ram_resource, uint64_t size, mica_handle_t *out,
                               uint64_t *pa)
{
    struct mica_result r =
        mica_syscall(MICA_SYS_VMO_CREATE_CONTIGUOUS, ram_resource, size, 0, 0, 0, 0);
    if (r.status == MICA_OK) {
        *out = (mica_handle_t)r.r1;
        *pa = r.r2;
    }
    return (int)r.status;
}

int mica_console_take(mica_handle_t resource, mica_handle_t notification, uint64_t bits)
{
    return (int)mica_syscall(MICA_SYS_CONSOLE_TAKE, resource, notification, bits, 0, 0, 0).status;
}

int mica_console_read_flags(mica_handle_t resource, void *buf, size_t len, unsigned flags,
                            size_t *got)
{
    struct mica_result r =
        mica_syscall(MICA_SYS_CONSOLE_READ, resource, (uintptr_t)buf, len, flags, 0, 0);
    *got = r.status == MICA_OK ? r.r1 : 0;
    return (int)r.status;
}

int mica_console_read(mica_handle_t resource, void *buf, size_t len, size_t *got)
{
    return mica_console_read_flags(resource, buf, len, 0, got);
}
