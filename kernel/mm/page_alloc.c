/*
 * Binary buddy allocator for physical pages (see mica/page_alloc.h).
 *
 * Every page of the range has one 12-byte descriptor in the caller's
 * metadata array, and the descriptors are the whole truth: a page is
 *
 *   RESERVED    not in the pool (never added, or taken back out);
 *   FREE_HEAD   first page of a free block of 2^order pages, on the free
 *               list of that order (linked by page index);
 *   FREE        any other page of a free block;
 *   ALLOC_HEAD  first page of an allocation of alloc_npages pages;
 *   ALLOC       any other page of an allocation.
 *
 * Invariants (page_alloc_check() verifies them all):
 *   - a free block of order k starts at a physical page number that is a
 *     multiple of 2^k and lies wholly inside the range;
 *   - two buddies are never both free heads of the same order (frees merge
 *     eagerly), so a request for 2^k pages fails only if no aligned run of
 *     2^k free pages exists;
 *   - only real heads carry FREE_HEAD: splitting and merging update two
 *     descriptors, not the whole block.
 *
 * An allocation of n pages takes a block of 2^ceil(log2 n) pages and at
 * once frees the unused tail again. Freeing n pages splits [addr, addr+n)
 * into aligned pieces and frees each, merging with free buddies.
 *
 * Locking: pa->lock (irqsave) around every public entry; the static
 * helpers below all expect it to be held.
 */
#include <mica/page_alloc.h>
#include <mica/status.h>

enum page_state {
    PAGE_STATE_RESERVED = 1, /* 0 is left invalid so zeroed metadata fails checks */
    PAGE_STATE_FREE_HEAD,
    PAGE_STATE_FREE,
    PAGE_STATE_ALLOC_HEAD,
    PAGE_STATE_ALLOC,
};

struct page_alloc_desc {
    union {
        struct {
            uint32_t next; /* FREE_HEAD: next block on the list, or NONE */
            uint32_t prev; /* FREE_HEAD: previous block, or NONE */
        } link;
        uint32_t alloc_npages; /* ALLOC_HEAD: pages the caller asked for */
    } u;
    uint8_t state; /* enum page_state */
    uint8_t order; /* FREE_HEAD: block order; ALLOC_HEAD: order of the block used */
    uint16_t unused;
};

_Static_assert(sizeof(struct page_alloc_desc) == 12, "page descriptor should be 12 bytes");
_Static_assert(PAGE_ALLOC_MAX_ORDER >= 10 && PAGE_ALLOC_MAX_ORDER < 31, "bad max order");

static inline uint32_t order_pages(unsigned order)
{
    return (uint32_t)1 << order;
}

/* Smallest order whose block holds npages (1 <= npages <= MAX_PAGES). */
static unsigned order_for_pages(size_t npages)
{
    unsigned order = 0;
    while (((size_t)1 << order) < npages)
        order++;
    return order;
}

static inline uint64_t pfn_of(const struct page_alloc *pa, uint32_t idx)
{
    return pa->base_pfn + idx;
}

static inline bool pfn_aligned(const struct page_alloc *pa, uint32_t idx, unsigned order)
{
    return (pfn_of(pa, idx) & (order_pages(order) - 1)) == 0;
}

static inline paddr_t paddr_of(const struct page_alloc *pa, uint32_t idx)
{
    return pa->base + ((paddr_t)idx << PAGE_SHIFT);
}

/* ---- free lists: doubly linked through the head descriptors ---- */

static void free_list_push(struct page_alloc *pa, unsigned order, uint32_t idx)
{
    struct page_alloc_desc *d = &pa->pages[idx];
    uint32_t old_head = pa->free_list[order];

    d->state = PAGE_STATE_FREE_HEAD;
    d->order = (uint8_t)order;
    d->u.link.prev = PAGE_ALLOC_NONE;
    d->u.link.next = old_head;
    if (old_head != PAGE_ALLOC_NONE)
        pa->pages[old_head].u.link.prev = idx;
    pa->free_list[order] = idx;
    pa->free_blocks[order]++;
}

/* Unlink a free head; it becomes a plain FREE page until re-labelled. */
static void free_list_remove(struct page_alloc *pa, unsigned order, uint32_t idx)
{
    struct page_alloc_desc *d = &pa->pages[idx];

    if (d->u.link.prev != PAGE_ALLOC_NONE)
        pa->pages[d->u.link.prev].u.link.next = d->u.link.next;
    else
        pa->free_list[order] = d->u.link.next;
    if (d->u.link.next != PAGE_ALLOC_NONE)
        pa->pages[d->u.link.next].u.link.prev = d->u.link.prev;
    d->state = PAGE_STATE_FREE;
    pa->free_blocks[order]--;
}

/*
 * Index of the buddy of the order-`order` block at idx, or NONE if the
 * buddy is not wholly inside the range. Buddies pair by physical page
 * number, not by index, so alignment is physical.
 */
static uint32_t buddy_of(const struct page_alloc *pa, uint32_t idx, unsigned order)
{
    uint64_t buddy_pfn = pfn_of(pa, idx) ^ order_pages(order);

    if (buddy_pfn < pa->base_pfn)
        return PAGE_ALLOC_NONE;
    uint64_t buddy_idx = buddy_pfn - pa->base_pfn;
    if (buddy_idx + order_pages(order) > pa->npages)
        return PAGE_ALLOC_NONE;
    return (uint32_t)buddy_idx;
}

/*
 * Put the aligned block [idx, idx + 2^order) on the free lists, merging
 * with its buddy for as long as the buddy is a whole free block of the
 * same order. Every page of the block must already be in state FREE.
 */
static void free_block(struct page_alloc *pa, uint32_t idx, unsigned order)
{
    while (order < PAGE_ALLOC_MAX_ORDER) {
        uint32_t buddy = buddy_of(pa, idx, order);
        if (buddy == PAGE_ALLOC_NONE)
            break;
        struct page_alloc_desc *b = &pa->pages[buddy];
        if (b->state != PAGE_STATE_FREE_HEAD || b->order != order)
            break;
        free_list_remove(pa, order, buddy);
        if (buddy < idx)
            idx = buddy;
        order++;
    }
    free_list_push(pa, order, idx);
}

/*
 * Free the pages [first, end) (any alignment): mark them FREE, then cut
 * the run into the largest naturally aligned blocks and free each one.
 * Callers: add_free, the tail of an allocation, free, reserve splits.
 */
static void free_range(struct page_alloc *pa, uint32_t first, uint32_t end)
{
    for (uint32_t i = first; i < end; i++)
        pa->pages[i].state = PAGE_STATE_FREE;

    while (first < end) {
        unsigned order = 0;
        while (order < PAGE_ALLOC_MAX_ORDER && pfn_aligned(pa, first, order + 1) &&
               (uint64_t)first + order_pages(order + 1) <= end)
            order++;
        free_block(pa, first, order);
        first += order_pages(order);
    }
}

/*
 * Find the free block containing the FREE or FREE_HEAD page idx. Its head
 * is idx rounded down (physically) to the block's order, so try each
 * order in turn. Returns false only if the metadata is corrupt.
 */
static bool find_free_block(const struct page_alloc *pa, uint32_t idx, uint32_t *head,
                            unsigned *order)
{
    uint64_t pfn = pfn_of(pa, idx);

    for (unsigned k = 0; k <= PAGE_ALLOC_MAX_ORDER; k++) {
        uint64_t head_pfn = pfn & ~((uint64_t)order_pages(k) - 1);
        if (head_pfn < pa->base_pfn)
            break;
        const struct page_alloc_desc *d = &pa->pages[head_pfn - pa->base_pfn];
        if (d->state == PAGE_STATE_FREE_HEAD && d->order == k) {
            *head = (uint32_t)(head_pfn - pa->base_pfn);
            *order = k;
            return true;
        }
    }
    return false;
}

/*
 * Turn [start, start + npages pages) into page indices [*first, *end).
 * Shared argument check of add_free and reserve.
 */
static int range_to_indices(const struct page_alloc *pa, paddr_t start, size_t npages,
                            uint32_t *first, uint32_t *end)
{
    if (!IS_ALIGNED(start, (paddr_t)PAGE_SIZE) || npages == 0)
        return ERR_INVALID_ARGS;
    if (start < pa->base)
        return ERR_OUT_OF_RANGE;
    paddr_t offset = (start - pa->base) >> PAGE_SHIFT;
    if (offset >= pa->npages || npages > pa->npages - offset)
        return ERR_OUT_OF_RANGE;
    *first = (uint32_t)offset;
    *end = (uint32_t)(offset + npages);
    return OK;
}

/* ---- public interface ---- */

size_t page_alloc_metadata_size(size_t npages)
{
    if (npages > PAGE_ALLOC_MAX_RANGE_PAGES)
        return 0;
    return npages * sizeof(struct page_alloc_desc);
}

/* Called once per RAM range by boot code, before any other use of pa. */
int page_alloc_init(struct page_alloc *pa, paddr_t base, size_t npages, void *metadata,
                    size_t metadata_size)
{
    if (pa == NULL || metadata == NULL || npages == 0 || npages > PAGE_ALLOC_MAX_RANGE_PAGES)
        return ERR_INVALID_ARGS;
    if (!IS_ALIGNED(base, (paddr_t)PAGE_SIZE) ||
        !IS_ALIGNED((uintptr_t)metadata, _Alignof(struct page_alloc_desc)))
        return ERR_INVALID_ARGS;
    if (metadata_size < page_alloc_metadata_size(npages))
        return ERR_INVALID_ARGS;
    if ((uint64_t)npages > (UINT64_MAX - base) / PAGE_SIZE)
        return ERR_INVALID_ARGS; /* the range would wrap past the top */

    spin_init(&pa->lock, "page_alloc");
    pa->base = base;
    pa->base_pfn = base >> PAGE_SHIFT;
    pa->npages = (uint32_t)npages;
    pa->pages = metadata;
    for (unsigned k = 0; k <= PAGE_ALLOC_MAX_ORDER; k++) {
        pa->free_list[k] = PAGE_ALLOC_NONE;
        pa->free_blocks[k] = 0;
    }
    pa->free_pages = 0;
    pa->total_pages = 0;

    for (uint32_t i = 0; i < pa->npages; i++) {
        struct page_alloc_desc *d = &pa->pages[i];
        d->u.link.next = PAGE_ALLOC_NONE;
        d->u.link.prev = PAGE_ALLOC_NONE;
        d->state = PAGE_STATE_RESERVED;
        d->order = 0;
        d->unused = 0;
    }
    return OK;
}

/* Boot code: one call per usable memory range (and later for freed boot memory). */
int page_alloc_add_free(struct page_alloc *pa, paddr_t start, size_t npages)
{
    uint32_t first, end;
    int status = range_to_indices(pa, start, npages, &first, &end);
    if (status != OK)
        return status;

    irqflags_t flags = spin_lock_irqsave(&pa->lock);
    for (uint32_t i = first; i < end; i++) {
        if (pa->pages[i].state != PAGE_STATE_RESERVED) {
            spin_unlock_irqrestore(&pa->lock, flags);
            return ERR_BAD_STATE;
        }
    }
    free_range(pa, first, end);
    pa->free_pages += npages;
    pa->total_pages += npages;
    spin_unlock_irqrestore(&pa->lock, flags);
    return OK;
}

/*
 * Boot code: exclude the kernel image, DTB, firmware reservations and boot
 * page tables after the RAM ranges were added. Validates the whole range
 * before changing anything, so an error leaves the allocator untouched.
 */
int page_alloc_reserve(struct page_alloc *pa, paddr_t start, size_t npages)
{
    uint32_t first, end;
    int status = range_to_indices(pa, start, npages, &first, &end);
    if (status != OK)
        return status;

    irqflags_t flags = spin_lock_irqsave(&pa->lock);

    /* Pass 1: only reserved and free pages, and every free one in a block. */
    for (uint32_t i = first; i < end;) {
        uint8_t state = pa->pages[i].state;
        uint32_t head;
        unsigned order;
        if (state == PAGE_STATE_RESERVED) {
            i++;
        } else if ((state == PAGE_STATE_FREE || state == PAGE_STATE_FREE_HEAD) &&
                   find_free_block(pa, i, &head, &order)) {
            i = head + order_pages(order);
        } else {
            spin_unlock_irqrestore(&pa->lock, flags);
            return ERR_BAD_STATE;
        }
    }

    /* Pass 2: cut each overlapping free block, free what lies outside. */
    size_t taken = 0;
    for (uint32_t i = first; i < end;) {
        uint32_t head;
        unsigned order;
        if (pa->pages[i].state == PAGE_STATE_RESERVED || !find_free_block(pa, i, &head, &order)) {
            i++;
            continue;
        }
        uint32_t block_end = head + order_pages(order);
        uint32_t lo = MAX(head, first);
        uint32_t hi = MIN(block_end, end);

        free_list_remove(pa, order, head);
        for (uint32_t j = lo; j < hi; j++)
            pa->pages[j].state = PAGE_STATE_RESERVED;
        taken += hi - lo;
        if (head < lo)
            free_range(pa, head, lo);
        if (hi < block_end)
            free_range(pa, hi, block_end);
        i = hi;
    }
    pa->free_pages -= taken;
    pa->total_pages -= taken;
    spin_unlock_irqrestore(&pa->lock, flags);
    return OK;
}

/* Any kernel code needing physical pages: page tables, slab pages, user memory. */
int page_alloc_pages(struct page_alloc *pa, size_t npages, paddr_t *out)
{
    if (npages == 0 || npages > PAGE_ALLOC_MAX_PAGES || out == NULL)
        return ERR_INVALID_ARGS;
    unsigned want = order_for_pages(npages);

    irqflags_t flags = spin_lock_irqsave(&pa->lock);
    unsigned order = want;
    while (order <= PAGE_ALLOC_MAX_ORDER && pa->free_list[order] == PAGE_ALLOC_NONE)
        order++;
    if (order > PAGE_ALLOC_MAX_ORDER) {
        spin_unlock_irqrestore(&pa->lock, flags);
        return ERR_NO_MEMORY;
    }

    uint32_t idx = pa->free_list[order];
    free_list_remove(pa, order, idx);
    /* Split down to the order wanted, keeping the lower half each time. */
    while (order > want) {
        order--;
        free_list_push(pa, order, idx + order_pages(order));
    }

    struct page_alloc_desc *head = &pa->pages[idx];
    head->state = PAGE_STATE_ALLOC_HEAD;
    head->order = (uint8_t)want;
    head->u.alloc_npages = (uint32_t)npages;
    for (uint32_t i = idx + 1; i < idx + npages; i++)
        pa->pages[i].state = PAGE_STATE_ALLOC;
    /* Give back the tail of the block the caller did not ask for. */
    if (npages < order_pages(want))
        free_range(pa, idx + (uint32_t)npages, idx + order_pages(want));
    pa->free_pages -= npages;
    spin_unlock_irqrestore(&pa->lock, flags);

    *out = paddr_of(pa, idx);
    return OK;
}

/* Owners of pages from page_alloc_pages(), with the same address and count. */
int page_free_pages(struct page_alloc *pa, paddr_t addr, size_t npages)
{
    if (!IS_ALIGNED(addr, (paddr_t)PAGE_SIZE) || npages == 0)
        return ERR_INVALID_ARGS;
    if (addr < pa->base || ((addr - pa->base) >> PAGE_SHIFT) >= pa->npages)
        return ERR_OUT_OF_RANGE;
    uint32_t idx = (uint32_t)((addr - pa->base) >> PAGE_SHIFT);

    irqflags_t flags = spin_lock_irqsave(&pa->lock);
    const struct page_alloc_desc *head = &pa->pages[idx];
    bool valid = head->state == PAGE_STATE_ALLOC_HEAD && head->u.alloc_npages == npages &&
                 npages <= pa->npages - idx;
    for (uint32_t i = idx + 1; valid && i < idx + npages; i++)
        valid = pa->pages[i].state == PAGE_STATE_ALLOC;
    if (!valid) {
        spin_unlock_irqrestore(&pa->lock, flags);
        return ERR_BAD_STATE;
    }
    free_range(pa, idx, idx + (uint32_t)npages);
    pa->free_pages += npages;
    spin_unlock_irqrestore(&pa->lock, flags);
    return OK;
}

size_t page_alloc_free_count(const struct page_alloc *pa)
{
    return __atomic_load_n(&pa->free_pages, __ATOMIC_RELAXED);
}

size_t page_alloc_total_count(const struct page_alloc *pa)
{
    return __atomic_load_n(&pa->total_pages, __ATOMIC_RELAXED);
}

/* ---- consistency check ---- */

/*
 * Check one free block found by the linear scan: aligned, inside the
 * range, interior pages FREE, and not mergeable with its buddy.
 */
static bool free_block_ok(const struct page_alloc *pa, uint32_t idx)
{
    unsigned order = pa->pages[idx].order;
    if (order > PAGE_ALLOC_MAX_ORDER || !pfn_aligned(pa, idx, order) ||
        (uint64_t)idx + order_pages(order) > pa->npages)
        return false;
    for (uint32_t i = idx + 1; i < idx + order_pages(order); i++) {
        if (pa->pages[i].state != PAGE_STATE_FREE)
            return false;
    }
    if (order < PAGE_ALLOC_MAX_ORDER) {
        uint32_t buddy = buddy_of(pa, idx, order);
        if (buddy != PAGE_ALLOC_NONE && pa->pages[buddy].state == PAGE_STATE_FREE_HEAD &&
            pa->pages[buddy].order == order)
            return false; /* should have merged */
    }
    return true;
}

/* Check one allocation found by the linear scan. */
static bool alloc_ok(const struct page_alloc *pa, uint32_t idx)
{
    const struct page_alloc_desc *d = &pa->pages[idx];
    uint32_t n = d->u.alloc_npages;
    if (n == 0 || n > PAGE_ALLOC_MAX_PAGES || d->order != order_for_pages(n) ||
        !pfn_aligned(pa, idx, d->order) || (uint64_t)idx + n > pa->npages)
        return false;
    for (uint32_t i = idx + 1; i < idx + n; i++) {
        if (pa->pages[i].state != PAGE_STATE_ALLOC)
            return false;
    }
    return true;
}

/* Unit tests and the boot self-test. Linear in npages; takes the lock. */
int page_alloc_check(struct page_alloc *pa)
{
    bool ok = true;
    size_t heads_seen = 0, free_seen = 0, alloc_seen = 0;

    irqflags_t flags = spin_lock_irqsave(&pa->lock);

    /* Scan every descriptor, stepping over whole blocks and allocations. */
    for (uint32_t i = 0; ok && i < pa->npages;) {
        const struct page_alloc_desc *d = &pa->pages[i];
        switch (d->state) {
        case PAGE_STATE_RESERVED: i++; break;
        case PAGE_STATE_FREE_HEAD:
            ok = free_block_ok(pa, i);
            if (ok) {
                heads_seen++;
                free_seen += order_pages(d->order);
                i += order_pages(d->order);
            }
            break;
        case PAGE_STATE_ALLOC_HEAD:
            ok = alloc_ok(pa, i);
            if (ok) {
                alloc_seen += d->u.alloc_npages;
                i += d->u.alloc_npages;
            }
            break;
        default: /* FREE or ALLOC outside a block, or garbage */ ok = false; break;
        }
    }

    /* Walk every free list; a walk longer than npages means a cycle. */
    size_t heads_listed = 0;
    for (unsigned k = 0; ok && k <= PAGE_ALLOC_MAX_ORDER; k++) {
        uint32_t prev = PAGE_ALLOC_NONE;
        size_t length = 0;
        for (uint32_t idx = pa->free_list[k]; ok && idx != PAGE_ALLOC_NONE;) {
            const struct page_alloc_desc *d = idx < pa->npages ? &pa->pages[idx] : NULL;
            ok = d != NULL && d->state == PAGE_STATE_FREE_HEAD && d->order == k &&
                 d->u.link.prev == prev && ++length <= pa->npages;
            if (ok) {
                prev = idx;
                idx = d->u.link.next;
            }
        }
        ok = ok && length == pa->free_blocks[k];
        heads_listed += length;
    }

    ok = ok && heads_listed == heads_seen && free_seen == pa->free_pages &&
         free_seen + alloc_seen == pa->total_pages;
    spin_unlock_irqrestore(&pa->lock, flags);
    return ok ? OK : ERR_BAD_STATE;
}
