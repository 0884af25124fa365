/*
 * Resources: authority over physical things. The root resource, handed to
 * init at boot, covers all RAM, MMIO and IRQs and allows ending the system;
 * narrower resources (a device's registers, one IRQ range) are carved from
 * it for drivers.
 */
#ifndef MICA_RESOURCE_H
#define MICA_RESOURCE_H

#include <mica/object.h>

struct resource {
    struct object obj;
    bool root;
};

int resource_create_root(struct resource **out);
bool resource_is_root(const struct resource *r);

#endif
