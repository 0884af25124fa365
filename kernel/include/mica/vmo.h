/*
 * Virtual memory objects: sets of physical pages that address spaces map.
 * An anonymous VMO allocates zeroed pages on first touch; a physical VMO
 * (created from a resource) names a fixed physical range, such as a
 * device's registers, and owns no pages.
 */
#ifndef MICA_VMO_H
#define MICA_VMO_H

#include <mica/object.h>

#define VMO_MAX_SIZE (1UL << 30)

struct process;

struct vmo {
    struct object obj;
    uint64_t size; /* bytes, a page multiple */
    bool physical;
    bool device;       /* physical: map as Device memory */
    paddr_t phys_base; /* physical VMOs */
    paddr_t *pages;    /* anonymous: one entry per page, 0 until touched */
    size_t npages;
    size_t committed;        /* pages allocated so far */
    struct process *charged; /* whose limit pays for the pages (may be NULL) */
    bool read_only;          /* e.g. the bootfs: no write right can be granted */
};

void vmo_init(void);
int vmo_create(struct process *charge_to, uint64_t size, struct vmo **out);
int vmo_create_physical(paddr_t base, uint64_t size, bool device, struct vmo **out);
/* The physical page backing offset (allocated, zeroed, if needed). */
int vmo_get_page(struct vmo *v, uint64_t offset, paddr_t *pa);
/* Copy between the VMO and a kernel buffer / a user buffer. */
int vmo_write_kernel(struct vmo *v, uint64_t offset, const void *buf, size_t len);
int vmo_copy_user(struct vmo *v, uint64_t offset, uintptr_t ubuf, size_t len, bool to_vmo);

#endif
