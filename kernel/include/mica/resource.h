/*
 * Resources: authority over physical things (see mica/abi.h). The root
 * resource, handed to init at boot, covers all MMIO and IRQs and allows
 * ending the system; narrower resources of one kind (an MMIO range, an IRQ
 * range) are carved from it for drivers. RAM is never handed out this way:
 * it belongs to the kernel's allocator.
 */
#ifndef MICA_RESOURCE_H
#define MICA_RESOURCE_H

#include <mica/process.h>

struct resource {
    struct object obj;
    uint32_t kind; /* MICA_RESOURCE_* */
    uint64_t base, size;
};

void resource_init(void);
int resource_create_root(struct resource **out);
bool resource_is_root(const struct resource *r);
/* A narrower resource of `kind` inside parent. */
int resource_create_child(struct process *payer, struct resource *parent, uint32_t kind,
                          uint64_t base, uint64_t size, struct resource **out);
/* Does r grant [base, base+size) of `kind`? */
bool resource_covers(const struct resource *r, uint32_t kind, uint64_t base, uint64_t size);

#endif
