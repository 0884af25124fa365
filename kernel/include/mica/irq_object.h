/* IRQ objects: an interrupt line given to a userspace driver (mica/abi.h). */
#ifndef MICA_IRQ_OBJECT_H
#define MICA_IRQ_OBJECT_H

#include <mica/ipc.h>

struct irq_object {
    struct object obj;
    unsigned irq;
    struct notification *ntfn; /* holds a reference */
    uint64_t bits;
    bool masked;
};

void irq_object_init(void);
int irq_object_create(struct process *payer, unsigned irq, struct irq_object **out);
int irq_object_bind(struct irq_object *io, struct notification *n, uint64_t bits);
int irq_object_ack(struct irq_object *io);
int irq_object_mask(struct irq_object *io);

#endif
