/* Lasting kernel-memory charges (kernel/process.c). */
#ifndef MICA_CHARGE_H
#define MICA_CHARGE_H

#include <mica/types.h>

struct process;

/*
 * A lasting charge: an object records who pays for it (holding a reference
 * to that process) and releases the charge when it is destroyed. Every
 * kernel object userspace can create is charged to its creator, so no
 * process can exhaust kernel memory by creating objects.
 */
struct charge {
    struct process *payer; /* NULL: the kernel's own (init's boot objects) */
    size_t pages;
};
int charge_take(struct charge *c, struct process *payer, size_t pages);
int charge_add(struct charge *c, size_t pages); /* more of the same payer's */
void charge_release(struct charge *c);

#endif
