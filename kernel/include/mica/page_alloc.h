/*
 * Physical page allocator: a binary buddy allocator over one contiguous
 * range of physical pages.
 *
 * The allocator never reads or writes the pages it hands out. All of its
 * bookkeeping lives in a caller-provided array with one small descriptor
 * per page, so it works before the pages are mapped anywhere and the same
 * code runs in the host unit tests. Free blocks are kept on one list per
 * order, linked through the descriptors by page index.
 *
 * Life of a range: page_alloc_init() covers [base, base + npages pages)
 * with every page reserved; page_alloc_add_free() hands usable RAM to the
 * pool (as often as needed, with holes between); page_alloc_reserve()
 * takes pages back out (kernel image, DTB, firmware ranges...). Blocks
 * are naturally aligned by physical address, so a block of 2^k pages
 * starts at a physical page number that is a multiple of 2^k, and two
 * buddies merge only when both are wholly free: merging never reaches
 * into reserved pages or past either end of the range.
 */
#ifndef MICA_PAGE_ALLOC_H
#define MICA_PAGE_ALLOC_H

#include <mica/spinlock.h>
#include <mica/types.h>

/* Largest block: 2^10 pages = 4 MiB with 4 KiB pages. */
#define PAGE_ALLOC_MAX_ORDER 10
#define PAGE_ALLOC_MAX_PAGES ((size_t)1 << PAGE_ALLOC_MAX_ORDER)

/* Page indices are 32 bits wide, so one allocator covers < 2^32 pages. */
#define PAGE_ALLOC_MAX_RANGE_PAGES ((size_t)UINT32_MAX - 1)
#define PAGE_ALLOC_NONE UINT32_MAX /* "no page" in a free-list link */

/* One per page, private to page_alloc.c (12 bytes). */
struct page_alloc_desc;

struct page_alloc {
    /*
     * lock protects every field below it and every descriptor in pages[].
     * All public functions take it with spin_lock_irqsave(), so the
     * allocator may be used from interrupt handlers. It is a leaf lock:
     * nothing else is locked while it is held.
     */
    struct spinlock lock;

    /* Set by page_alloc_init() and then constant. */
    paddr_t base;                  /* physical address of page index 0 */
    uint64_t base_pfn;             /* base / PAGE_SIZE */
    uint32_t npages;               /* pages covered, free or not */
    struct page_alloc_desc *pages; /* npages descriptors, in caller memory */

    /* Head page index of the free list of each order, or PAGE_ALLOC_NONE. */
    uint32_t free_list[PAGE_ALLOC_MAX_ORDER + 1];
    size_t free_blocks[PAGE_ALLOC_MAX_ORDER + 1]; /* length of each list */

    size_t free_pages;  /* pages on the free lists */
    size_t total_pages; /* pages in the pool: free or allocated */
};

/*
 * Bytes of metadata page_alloc_init() needs to cover npages pages (the
 * memory must be aligned to at least 4 bytes). Returns 0 if npages is
 * more than one allocator can cover. Called by boot code to size the
 * array before carving it out of RAM.
 */
size_t page_alloc_metadata_size(size_t npages);

/*
 * Set up pa to cover [base, base + npages * PAGE_SIZE). Every page starts
 * reserved. metadata must hold page_alloc_metadata_size(npages) bytes and
 * stays owned by the allocator from then on.
 * Returns OK, or ERR_INVALID_ARGS (misaligned base or metadata, npages 0
 * or too large, metadata too small, range wrapping around).
 */
int page_alloc_init(struct page_alloc *pa, paddr_t base, size_t npages, void *metadata,
                    size_t metadata_size);

/*
 * Hand [start, start + npages pages) to the pool. Every page must be
 * reserved now (never added, or taken back by page_alloc_reserve()).
 * Returns OK; ERR_INVALID_ARGS (start misaligned, npages 0);
 * ERR_OUT_OF_RANGE (not wholly inside the allocator); ERR_BAD_STATE (some
 * page is already free or allocated). On error nothing changes.
 */
int page_alloc_add_free(struct page_alloc *pa, paddr_t start, size_t npages);

/*
 * Take [start, start + npages pages) out of the pool, splitting free
 * blocks around it. Pages already reserved stay reserved. Returns OK;
 * ERR_INVALID_ARGS / ERR_OUT_OF_RANGE as above; ERR_BAD_STATE if some page
 * in the range is allocated. On error nothing changes.
 */
int page_alloc_reserve(struct page_alloc *pa, paddr_t start, size_t npages);

/*
 * Allocate npages physically contiguous pages, aligned to npages rounded
 * up to a power of two; the unused tail of that block stays free. Stores
 * the physical address in *out. Returns OK; ERR_INVALID_ARGS (npages 0 or
 * more than PAGE_ALLOC_MAX_PAGES); ERR_NO_MEMORY (no block large enough).
 */
int page_alloc_pages(struct page_alloc *pa, size_t npages, paddr_t *out);

/*
 * Free an allocation: addr and npages must be exactly what
 * page_alloc_pages() returned and was asked for. Returns OK;
 * ERR_INVALID_ARGS (addr misaligned, npages 0); ERR_OUT_OF_RANGE (addr
 * outside the allocator); ERR_BAD_STATE (addr does not start a live
 * allocation of npages pages: double free, reserved or free page, middle
 * of an allocation, wrong size). On error nothing changes.
 */
int page_free_pages(struct page_alloc *pa, paddr_t addr, size_t npages);

/*
 * Pages free now / pages in the pool (free + allocated). Lock-free
 * snapshots for statistics and tests; stale as soon as they return.
 */
size_t page_alloc_free_count(const struct page_alloc *pa);
size_t page_alloc_total_count(const struct page_alloc *pa);

/*
 * Walk every descriptor and free list and verify the allocator's
 * invariants. Returns OK or ERR_BAD_STATE. Slow (linear in npages): for
 * unit tests and the boot self-test.
 */
int page_alloc_check(struct page_alloc *pa);

#endif
