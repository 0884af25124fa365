/* Resource, physical VMO and IRQ syscalls: how drivers get their device
 * (see mica/resource.h, mica/irq_object.h). */
#include <mica/irq.h>
#include <mica/irq_object.h>
#include <mica/platform.h>
#include <mica/resource.h>
#include <mica/syscall.h>
#include <mica/vmo.h>

#define IRQ_RIGHTS (MICA_RIGHT_MANAGE | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER)
#define PHYS_VMO_RIGHTS                                                                            \
    (MICA_RIGHT_READ | MICA_RIGHT_WRITE | MICA_RIGHT_MAP | MICA_RIGHT_DUPLICATE |                  \
     MICA_RIGHT_TRANSFER)
#define RESOURCE_RIGHTS (MICA_RIGHT_MANAGE | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER)

static int resource_arg(uint64_t value, struct resource **r)
{
    struct handle *h;
    int err = lookup(value, MICA_OBJ_RESOURCE, MICA_RIGHT_MANAGE, &h);
    if (!err)
        *r = (struct resource *)h->obj;
    return err;
}

int sys_resource_create(struct trap_frame *f)
{
    struct resource *parent, *r;
    int err = resource_arg(f->x[0], &parent);
    if (!err && f->x[1] > UINT32_MAX)
        err = ERR_INVALID_ARGS;
    if (!err)
        err = resource_create_child(current_process(), parent, (uint32_t)f->x[1], f->x[2], f->x[3],
                                    &r);
    return err ? err : install_new_handle(&r->obj, RESOURCE_RIGHTS, f);
}

static bool overlaps(paddr_t base, uint64_t size, const struct mem_range *m)
{
    return m->size && base < m->base + m->size && m->base < base + size;
}

/* What no driver may map: RAM (the kernel's allocator owns it) and the
 * interrupt controller (the kernel's). */
static bool kernel_owned(paddr_t base, uint64_t size)
{
    for (unsigned i = 0; i < platform.n_memory; i++)
        if (overlaps(base, size, &platform.memory[i]))
            return true;
    for (unsigned i = 0; i < 2; i++)
        if (overlaps(base, size, &platform.intc_regs[i]))
            return true;
    return false;
}

int sys_vmo_create_physical(struct trap_frame *f)
{
    struct resource *r;
    paddr_t pa = f->x[1];
    uint64_t size = f->x[2];
    int err = resource_arg(f->x[0], &r);
    if (err)
        return err;
    if (size == 0 || !IS_ALIGNED(pa | size, PAGE_SIZE) || pa >= (1UL << 48) ||
        size > (1UL << 48) - pa || size > VMO_MAX_SIZE)
        return ERR_INVALID_ARGS;
    if (!resource_covers(r, MICA_RESOURCE_MMIO, pa, size) || kernel_owned(pa, size))
        return ERR_ACCESS_DENIED;
    struct vmo *v;
    if ((err = vmo_create_physical(current_process(), pa, size, true, &v)) != OK)
        return err;
    return install_new_handle(&v->obj, PHYS_VMO_RIGHTS, f);
}

int sys_irq_create(struct trap_frame *f)
{
    struct resource *r;
    int err = resource_arg(f->x[0], &r);
    if (err)
        return err;
    if (!resource_covers(r, MICA_RESOURCE_IRQ, f->x[1], 1))
        return ERR_ACCESS_DENIED;
    if (f->x[1] >= IRQ_MAX)
        return ERR_OUT_OF_RANGE;
    struct irq_object *io;
    if ((err = irq_object_create(current_process(), (unsigned)f->x[1], &io)) != OK)
        return err;
    return install_new_handle(&io->obj, IRQ_RIGHTS, f);
}

static int irq_arg(uint64_t value, struct irq_object **io)
{
    struct handle *h;
    int err = lookup(value, MICA_OBJ_IRQ, MICA_RIGHT_MANAGE, &h);
    if (!err)
        *io = (struct irq_object *)h->obj;
    return err;
}

int sys_irq_bind(struct trap_frame *f)
{
    struct irq_object *io;
    struct handle *n;
    int err = irq_arg(f->x[0], &io);
    if (!err)
        err = lookup(f->x[1], MICA_OBJ_NOTIFICATION, MICA_RIGHT_SIGNAL, &n);
    return err ? err : irq_object_bind(io, (struct notification *)n->obj, f->x[2]);
}

int sys_irq_ack(struct trap_frame *f)
{
    struct irq_object *io;
    int err = irq_arg(f->x[0], &io);
    return err ? err : irq_object_ack(io);
}

int sys_irq_mask(struct trap_frame *f)
{
    struct irq_object *io;
    int err = irq_arg(f->x[0], &io);
    return err ? err : irq_object_mask(io);
}

int sys_vmo_create_contiguous(struct trap_frame *f)
{
    struct resource *r;
    int err = resource_arg(f->x[0], &r);
    if (err)
        return err;
    if (!resource_covers(r, MICA_RESOURCE_RAM, 0, f->x[1]))
        return ERR_ACCESS_DENIED;
    struct vmo *v;
    if ((err = vmo_create_contiguous(current_process(), f->x[1], &v)) != OK)
        return err;
    paddr_t pa = v->pages[0];
    err = install_new_handle(&v->obj, PHYS_VMO_RIGHTS, f);
    if (!err)
        f->x[2] = pa; /* for programming a device's DMA */
    return err;
}
