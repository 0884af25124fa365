/*
 * Virtual memory objects: sets of physical pages that address spaces map.
 * An anonymous VMO allocates zeroed pages on first touch; a physical VMO
 * (created from a resource) names a fixed physical range, such as a
 * device's registers, and owns no pages.
 *
 * A copy-on-write child (vmo_create_child) starts as a view of a range of
 * its parent: reading a page it has not written reads the parent's (mapped
 * read-only), and the first write copies that page into the child. Until
 * then the child sees the parent's later writes too.
 *
 * A snapshot (vmo_create_snapshot) is a copy-on-write clone that sees
 * neither side's later writes, as fork needs. The original's pages move to
 * a new hidden VMO (no handle, never mapped, never written); the original
 * and the snapshot both become copy-on-write children of it, and every
 * mapping of the original is made read-only, so that its next write
 * faults and copies the page (reads go on seeing the frozen page). A hidden page no child can
 * see any more is freed at once; when a hidden VMO is down to one child
 * (the other closed, or it wrote all its pages), that child takes the
 * pages it still reads and the hidden VMO's place, and the hidden VMO is
 * freed ("collapse"), so fork after fork does not deepen the chain.
 *
 * Chains are at most VMO_MAX_COW_DEPTH parents long, hidden ones included.
 * Every VMO keeps a list of its children, so a page that changes identity
 * (a copy made, a page committed) is dropped from the mappings of every
 * descendant that read through it.
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
    size_t committed;                        /* pages allocated so far */
    struct process *charged;                 /* whose limit pays for the pages (may be NULL) */
    bool read_only;                          /* e.g. the bootfs: no write right can be granted */
    struct vmo *parent;                      /* copy-on-write source (holds a reference) */
    struct vmo *children;                    /* VMOs whose parent this is (weak: they hold us) */
    struct vmo *sibling_next, *sibling_prev; /* the parent's list of children */
    unsigned pins;            /* kernel pointers to its pages (IPC buffers): no snapshot */
    bool hidden;              /* a snapshot's frozen pages (see above) */
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
/* The physical page backing offset (allocated, zeroed or copied, if
 * needed). For a read of a child's untouched page it is the parent's page
 * and *shared is set: map it read-only. */
int vmo_get_page(struct vmo *v, uint64_t offset, bool write, paddr_t *pa, bool *shared);
int vmo_create_child(struct process *charge_to, struct vmo *parent, uint64_t offset, uint64_t size,
                     struct vmo **out);
/* A snapshot of [offset, offset+size) of v (see above). The caller pays
 * for the new VMO, the hidden one and the pages frozen in it. Refused for
 * physical and contiguous VMOs, and while v has children or pinned pages. */
int vmo_create_snapshot(struct process *charge_to, struct vmo *v, uint64_t offset, uint64_t size,
                        struct vmo **out);
/* Copy between the VMO and a kernel buffer / a user buffer. */
int vmo_write_kernel(struct vmo *v, uint64_t offset, const void *buf, size_t len);
int vmo_copy_user(struct vmo *v, uint64_t offset, uintptr_t ubuf, size_t len, bool to_vmo);
/* Copy len bytes from src at src_off to dst at dst_off, page by page, with
 * no bounce through user memory (sys_vmo_copy: a server moving data
 * between two clients). Overlapping ranges of one VMO are refused. */
int vmo_copy(struct vmo *dst, uint64_t dst_off, struct vmo *src, uint64_t src_off, size_t len);

#endif
