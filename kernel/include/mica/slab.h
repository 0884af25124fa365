/*
 * Object caches ("slab" allocator) for fixed-size kernel objects.
 *
 * A cache carves single pages into equal slots. Each page (a slab) starts
 * with a header holding a magic number, a pointer back to its cache, list
 * links and an allocated-bitmap with one bit per slot; the slots follow.
 * Pages come from a pluggable page source: the kernel backs it with the
 * physical page allocator and the linear map, the host tests with
 * aligned_alloc().
 *
 * kmem_cache_free() is defensive: it first looks the pointer's page up in
 * the cache's own slab lists (so it never reads memory that is not one of
 * its slabs), then checks the slot boundary and the bitmap. A double free
 * or a pointer that is not a live object of this cache is refused, with
 * nothing changed. The lookup is linear in the number of slabs, which is
 * small for the kernel's object counts.
 *
 * Objects are returned zeroed. At most one empty slab is kept per cache;
 * further empty slabs go straight back to the page source.
 */
#ifndef MICA_SLAB_H
#define MICA_SLAB_H

#include <mica/spinlock.h>
#include <mica/types.h>

/* Largest object and alignment a cache accepts: a slab holds >= 3 objects. */
#define SLAB_MAX_OBJ_SIZE (PAGE_SIZE / 4)
#define SLAB_MAX_ALIGN (PAGE_SIZE / 4)
#define SLAB_DEFAULT_ALIGN 8 /* used when kmem_cache_init() is given align 0 */

/*
 * Where a cache gets its pages. alloc_page returns a PAGE_SIZE-aligned
 * virtual page of PAGE_SIZE bytes, or NULL when out of memory;
 * free_page takes one back. Both are called with the cache's lock held,
 * so they must not call back into the same cache (lock order: cache lock,
 * then whatever the source takes, e.g. the page allocator's lock).
 */
struct slab_page_source {
    void *(*alloc_page)(void *ctx);
    void (*free_page)(void *ctx, void *page);
    void *ctx;
};

struct slab; /* the page header, private to slab.c */

struct kmem_cache {
    /*
     * lock protects every field below it and the headers and bitmaps of
     * all of this cache's slabs (taken with spin_lock_irqsave()).
     */
    struct spinlock lock;

    /* Set by kmem_cache_init() and then constant. */
    uint32_t magic;         /* a fixed value while initialised (slab.c) */
    const char *name;       /* for diagnostics */
    size_t obj_size;        /* bytes asked for */
    size_t stride;          /* slot size: obj_size rounded up to align */
    size_t first_offset;    /* offset of slot 0 within a slab page */
    uint32_t objs_per_slab; /* slots per slab */
    struct slab_page_source source;

    struct slab *partial; /* list of slabs with some, not all, slots in use */
    struct slab *full;    /* list of slabs with every slot in use */
    struct slab *empty;   /* at most one cached slab with no slot in use */
    size_t nr_slabs;      /* slabs on all three lists = pages held */
    size_t in_use;        /* objects allocated now */
};

/*
 * Set up cache c for objects of obj_size bytes aligned to align (a power
 * of two; 0 means SLAB_DEFAULT_ALIGN), taking pages from *src (copied).
 * The name is kept by pointer. Returns OK, or ERR_INVALID_ARGS (size 0 or
 * above SLAB_MAX_OBJ_SIZE, bad alignment, incomplete source).
 * Called once per object type at boot.
 */
int kmem_cache_init(struct kmem_cache *c, const char *name, size_t obj_size, size_t align,
                    const struct slab_page_source *src);

/* A zeroed object, or NULL when the page source is exhausted. */
void *kmem_cache_alloc(struct kmem_cache *c);

/*
 * Return obj to c. Returns OK; ERR_INVALID_ARGS if obj is not the start of
 * a slot in one of c's slabs (NULL, another cache's object, an interior
 * pointer, unrelated memory); ERR_BAD_STATE if the slot is not allocated
 * (double free) or c's metadata is corrupt. On error nothing changes.
 */
int kmem_cache_free(struct kmem_cache *c, void *obj);

/* Give the cached empty slab back to the page source. Returns pages freed. */
size_t kmem_cache_shrink(struct kmem_cache *c);

/*
 * Tear the cache down, returning every page. Refuses with ERR_BAD_STATE
 * (nothing changed) while any object is still allocated.
 */
int kmem_cache_destroy(struct kmem_cache *c);

/* Lock-free statistics snapshots. */
size_t kmem_cache_in_use(const struct kmem_cache *c);     /* objects allocated */
size_t kmem_cache_slab_count(const struct kmem_cache *c); /* pages held */
size_t kmem_cache_objs_per_slab(const struct kmem_cache *c);

/*
 * Verify every slab header, list and bitmap against the cache counters.
 * Returns OK or ERR_BAD_STATE. For unit tests and the boot self-test.
 */
int kmem_cache_check(struct kmem_cache *c);

#endif
