/*
 * IRQ objects (see mica/irq_object.h). Creating one claims the line in the
 * kernel's dispatch table (a line the kernel itself uses, like the timer,
 * cannot be claimed). When it fires we mask it at the controller and
 * signal the bound notification; irq_ack unmasks it once the driver has
 * quietened the device. Destroying the object masks and releases the line.
 */
#include <mica/irq.h>
#include <mica/irq_object.h>
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/status.h>

static struct kmem_cache irq_object_cache;

void irq_object_init(void)
{
    if (kmem_cache_init(&irq_object_cache, "irq", sizeof(struct irq_object), 8, &kernel_slab_pages))
        panic("irq: cannot create the irq object cache");
}

/* Interrupt path (kernel lock held). */
static void irq_object_fire(unsigned irq, void *arg)
{
    struct irq_object *io = arg;
    irq_disable(irq);
    io->masked = true;
    if (io->ntfn)
        notification_signal(io->ntfn, io->bits);
}

int irq_object_create(struct process *payer, unsigned irq, struct irq_object **out)
{
    if (irq >= IRQ_MAX)
        return ERR_OUT_OF_RANGE;
    int err;
    struct irq_object *io = object_create(&irq_object_cache, MICA_OBJ_IRQ, payer, 1, &err);
    if (!io)
        return err;
    io->irq = IRQ_MAX; /* not registered yet: destroy leaves the line alone */
    if ((err = irq_register(irq, irq_object_fire, io)) != OK) {
        object_unref(&io->obj);
        return err; /* ERR_BAD_STATE: the kernel or another driver has it */
    }
    io->irq = irq;
    io->masked = true; /* until bound */
    irq_disable(irq);
    *out = io;
    return OK;
}

int irq_object_bind(struct irq_object *io, struct notification *n, uint64_t bits)
{
    if (bits == 0)
        return ERR_INVALID_ARGS;
    object_ref(&n->obj);
    if (io->ntfn)
        object_unref(&io->ntfn->obj);
    io->ntfn = n;
    io->bits = bits;
    return irq_object_ack(io);
}

int irq_object_ack(struct irq_object *io)
{
    if (!io->ntfn)
        return ERR_BAD_STATE; /* nowhere to deliver it yet */
    int err = irq_enable(io->irq);
    if (!err)
        io->masked = false;
    return err;
}

int irq_object_mask(struct irq_object *io)
{
    io->masked = true;
    return irq_disable(io->irq);
}

void irq_object_destroy(struct object *obj)
{
    struct irq_object *io = (struct irq_object *)obj;
    if (io->irq < IRQ_MAX) {
        irq_disable(io->irq);
        irq_unregister(io->irq);
    }
    if (io->ntfn)
        object_unref(&io->ntfn->obj);
    kmem_cache_free(&irq_object_cache, io);
}
