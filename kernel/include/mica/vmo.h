/*
 * Virtual memory objects: sets of physical pages that address spaces map.
 * An anonymous VMO allocates zeroed pages on first touch; a physical VMO
 * (created from a resource) names a fixed physical range, such as a
 * device's registers, and owns no pages.
 *
 * A copy-on-write child starts as a view of a range of its parent: reading
 * a page it has not written reads the parent's (mapped read-only), and the
 * first write copies that page into the child. Until then the child sees
 * the parent's later writes too ("at least on write": to snapshot a VMO
 * that keeps changing, give both users children and stop writing the
 * parent, as fork does).
 */
#ifndef MICA_VMO_H
#define MICA_VMO_H

#include <mica/object.h>

#define VMO_MAX_SIZE (1UL << 30)
#define VMO_MAX_COW_DEPTH 8        /* bounds the parent chain a page lookup follows */
#define CONTIGUOUS_MAX (4UL << 20) /* the page allocator's largest block */

struct process;

struct vmo {
    struct object obj;
    uint64_t size; /* bytes, a page multiple */
    bool physical;
    bool device;       /* physical: map as Device memory */
    paddr_t phys_base; /* physical VMOs */
    paddr_t *pages;    /* anonymous: one entry per page, 0 until touched */
    size_t npages;
    size_t committed;         /* pages allocated so far */
    struct process *charged;  /* whose limit pays for the pages (may be NULL) */
    bool read_only;           /* e.g. the bootfs: no write right can be granted */
    struct vmo *parent;       /* copy-on-write source (holds a reference) */
    unsigned depth;           /* parents above us */
    size_t contiguous_pages;  /* vmo_create_contiguous: pages[] is one block */
    struct mapping *mappings; /* where it is mapped (aspace.c keeps the list) */
    uint64_t parent_offset;
};

void vmo_init(void);
int vmo_create(struct process *charge_to, uint64_t size, struct vmo **out);
int vmo_create_physical(struct process *charge_to, paddr_t base, uint64_t size, bool device,
                        struct vmo **out);
/* Physically contiguous RAM (for DMA), zeroed and committed at once. */
int vmo_create_contiguous(struct process *charge_to, uint64_t size, struct vmo **out);
/* Physically contiguous RAM (for DMA), zeroed and committed at once. */
int vmo_create_contiguous(struct process *charge_to, uint64_t size, struct vmo **out);
/* The physical page backing offset (allocated, zeroed or copied, if
 * needed). For a read of a child's untouched page it is the parent's page
 * and *shared is set: map it read-only. */
int vmo_get_page(struct vmo *v, uint64_t offset, bool write, paddr_t *pa, bool *shared);
int vmo_create_child(struct process *charge_to, struct vmo *parent, uint64_t offset, uint64_t size,
                     struct vmo **out);
/* Copy between the VMO and a kernel buffer / a user buffer. */
int vmo_write_kernel(struct vmo *v, uint64_t offset, const void *buf, size_t len);
int vmo_copy_user(struct vmo *v, uint64_t offset, uintptr_t ubuf, size_t len, bool to_vmo);
/* Copy len bytes from src at src_off to dst at dst_off, page by page, with
 * no bounce through user memory (sys_vmo_copy: a server moving data
 * between two clients). Overlapping ranges of one VMO are refused. */
int vmo_copy(struct vmo *dst, uint64_t dst_off, struct vmo *src, uint64_t src_off, size_t len);

#endif
