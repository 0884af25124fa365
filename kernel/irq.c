/*
 * Interrupt dispatch, independent of the controller. trap_dispatch() calls
 * irq_handle() for every IRQ exception; we ask the controller which line
 * fired, run its handler, and signal end-of-interrupt, until nothing is
 * pending. Handlers are registered by kernel code at boot (the timer today;
 * IRQ objects for userspace drivers later).
 *
 * Locking: irq_lock protects the handler table; handlers run with
 * interrupts masked on their CPU.
 */
#include <mica/cpu.h>
#include <mica/irq.h>
#include <mica/panic.h>
#include <mica/printk.h>
#include <mica/spinlock.h>
#include <mica/status.h>

static struct spinlock irq_lock = SPINLOCK_INIT("irq");
static struct {
    irq_handler_fn fn;
    void *arg;
    bool warned;
} handlers[IRQ_MAX];
static const struct intc_ops *intc;
static uint64_t spurious;

int irq_init(const struct platform_info *plat)
{
    intc = board_intc_ops(plat->intc);
    if (!intc)
        return ERR_NOT_SUPPORTED;
    int err = intc->init(plat);
    if (err)
        return err;
    intc->init_cpu();
    return OK;
}

const char *irq_controller_name(void)
{
    return intc ? intc->name : "none";
}

int irq_register(unsigned irq, irq_handler_fn fn, void *arg)
{
    if (irq >= IRQ_MAX || !fn)
        return ERR_INVALID_ARGS;
    irqflags_t flags = spin_lock_irqsave(&irq_lock);
    if (handlers[irq].fn) {
        spin_unlock_irqrestore(&irq_lock, flags);
        return ERR_BAD_STATE;
    }
    handlers[irq].fn = fn;
    handlers[irq].arg = arg;
    spin_unlock_irqrestore(&irq_lock, flags);
    return OK;
}

int irq_enable(unsigned irq)
{
    if (irq >= IRQ_MAX || !intc)
        return ERR_INVALID_ARGS;
    return intc->enable(irq);
}

int irq_disable(unsigned irq)
{
    if (irq >= IRQ_MAX || !intc)
        return ERR_INVALID_ARGS;
    return intc->disable(irq);
}

void irq_unregister(unsigned irq)
{
    if (irq >= IRQ_MAX)
        return;
    irqflags_t flags = spin_lock_irqsave(&irq_lock);
    handlers[irq].fn = NULL;
    handlers[irq].arg = NULL;
    handlers[irq].warned = false;
    spin_unlock_irqrestore(&irq_lock, flags);
}

uint64_t irq_spurious_count(void)
{
    return spurious;
}

void irq_handle(void)
{
    for (;;) {
        unsigned irq = intc->ack();
        if (irq == IRQ_NONE)
            return;
        this_cpu()->irq_count++;
        irq_handler_fn fn = irq < IRQ_MAX ? handlers[irq].fn : NULL;
        if (fn) {
            fn(irq, handlers[irq].arg);
        } else {
            spurious++;
            if (irq < IRQ_MAX && !handlers[irq].warned) {
                handlers[irq].warned = true;
                printk("irq: interrupt %u has no handler; masking it\n", irq);
            }
            if (intc->disable(irq) != OK)
                panic("irq: interrupt %u has no handler and cannot be masked", irq);
        }
        intc->eoi(irq);
    }
}
