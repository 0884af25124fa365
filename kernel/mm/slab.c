/*
 * Object caches (see mica/slab.h).
 *
 * Page layout of one slab:
 *
 *   +-------------+---------+--------+--------+-----+--------+---------+
 *   | struct slab | padding | slot 0 | slot 1 | ... | slot n | unused  |
 *   +-------------+---------+--------+--------+-----+--------+---------+
 *   ^ page start            ^ first_offset (aligned)
 *
 * The header's bitmap has one bit per slot, set while the slot is
 * allocated; the bits past the last slot are set too, so "first zero bit"
 * is always a real free slot. Free slots carry no links: nothing an
 * object's user scribbles after free can corrupt the allocator, and a
 * double free is caught exactly by the bitmap.
 *
 * A slab is on exactly one of its cache's lists, decided by its in_use
 * count: partial (0 < in_use < n), full (in_use == n) or the single
 * cached empty slot (in_use == 0). Slabs that become empty while another
 * empty one is cached are returned to the page source at once.
 *
 * Locking: c->lock (irqsave) around every public entry; the helpers
 * below expect it held. Object memory is zeroed after the lock is
 * dropped, since the slot already belongs to the caller then.
 */
#include <mica/slab.h>
#include <mica/status.h>

#define KMEM_CACHE_MAGIC 0x6b6d656du /* "kmem" */
#define SLAB_MAGIC 0x736c6162u       /* "slab" */

/* Slots are at least this big, which bounds the bitmap. */
#define SLAB_MIN_STRIDE 8
#define SLAB_MAX_OBJS (PAGE_SIZE / SLAB_MIN_STRIDE)
#define SLAB_BITMAP_WORDS (SLAB_MAX_OBJS / 64)

struct slab {
    uint32_t magic;                        /* SLAB_MAGIC while owned by a cache */
    uint32_t in_use;                       /* slots allocated */
    struct kmem_cache *cache;              /* owner */
    struct slab *next, *prev;              /* partial or full list; NULL when cached empty */
    uint64_t allocated[SLAB_BITMAP_WORDS]; /* bit set: slot in use (or past the end) */
};

_Static_assert(sizeof(struct slab) + 3 * SLAB_MAX_OBJ_SIZE <= PAGE_SIZE,
               "a slab must hold at least three of the largest objects");

static size_t count_bits(uint64_t word)
{
    word = word - ((word >> 1) & 0x5555555555555555ull);
    word = (word & 0x3333333333333333ull) + ((word >> 2) & 0x3333333333333333ull);
    word = (word + (word >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (size_t)((word * 0x0101010101010101ull) >> 56);
}

static inline void *slot_address(const struct kmem_cache *c, struct slab *s, uint32_t slot)
{
    return (char *)s + c->first_offset + (size_t)slot * c->stride;
}

static inline bool slot_allocated(const struct slab *s, uint32_t slot)
{
    return (s->allocated[slot / 64] >> (slot % 64)) & 1;
}

/* ---- doubly linked slab lists (partial, full) ---- */

static void slab_list_push(struct slab **list, struct slab *s)
{
    s->prev = NULL;
    s->next = *list;
    if (*list != NULL)
        (*list)->prev = s;
    *list = s;
}

static void slab_list_remove(struct slab **list, struct slab *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        *list = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

/*
 * Find the slab that is the page at page_address, by comparing addresses
 * only: nothing at page_address is read unless it is one of c's slabs.
 * Callers: kmem_cache_free, to vet a pointer before trusting it.
 */
static struct slab *find_slab(const struct kmem_cache *c, uintptr_t page_address)
{
    if ((uintptr_t)c->empty == page_address)
        return c->empty;
    struct slab *lists[] = {c->partial, c->full};
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        for (struct slab *s = lists[i]; s != NULL; s = s->next) {
            if ((uintptr_t)s == page_address)
                return s;
        }
    }
    return NULL;
}

/* Turn a fresh page from the source into an empty slab of c. */
static struct slab *slab_create(struct kmem_cache *c, void *page)
{
    struct slab *s = page;

    s->magic = SLAB_MAGIC;
    s->in_use = 0;
    s->cache = c;
    s->next = s->prev = NULL;
    for (uint32_t w = 0; w < SLAB_BITMAP_WORDS; w++) {
        uint32_t first_slot = w * 64;
        if (first_slot + 64 <= c->objs_per_slab)
            s->allocated[w] = 0;
        else if (first_slot >= c->objs_per_slab)
            s->allocated[w] = ~0ull;
        else /* mark the slots past the end as taken */
            s->allocated[w] = ~0ull << (c->objs_per_slab - first_slot);
    }
    c->nr_slabs++;
    return s;
}

/* Hand an empty slab that is on no list back to the page source. */
static void slab_release(struct kmem_cache *c, struct slab *s)
{
    s->magic = 0; /* a stale pointer into this page must not look like a slab */
    s->cache = NULL;
    c->nr_slabs--;
    c->source.free_page(c->source.ctx, s);
}

/* ---- public interface ---- */

/* Called once per object type at boot (or per test). */
int kmem_cache_init(struct kmem_cache *c, const char *name, size_t obj_size, size_t align,
                    const struct slab_page_source *src)
{
    if (align == 0)
        align = SLAB_DEFAULT_ALIGN;
    if (c == NULL || obj_size == 0 || obj_size > SLAB_MAX_OBJ_SIZE)
        return ERR_INVALID_ARGS;
    if ((align & (align - 1)) != 0 || align > SLAB_MAX_ALIGN)
        return ERR_INVALID_ARGS;
    if (src == NULL || src->alloc_page == NULL || src->free_page == NULL)
        return ERR_INVALID_ARGS;

    spin_init(&c->lock, name);
    c->name = name;
    c->obj_size = obj_size;
    c->stride = ALIGN_UP(MAX(obj_size, (size_t)SLAB_MIN_STRIDE), align);
    c->first_offset = ALIGN_UP(sizeof(struct slab), align);
    c->objs_per_slab = (uint32_t)((PAGE_SIZE - c->first_offset) / c->stride);
    c->source = *src;
    c->partial = c->full = c->empty = NULL;
    c->nr_slabs = 0;
    c->in_use = 0;
    c->magic = KMEM_CACHE_MAGIC;
    return OK;
}

/* Kernel object constructors: one zeroed object, or NULL if out of pages. */
void *kmem_cache_alloc(struct kmem_cache *c)
{
    if (c == NULL || c->magic != KMEM_CACHE_MAGIC)
        return NULL;

    irqflags_t flags = spin_lock_irqsave(&c->lock);
    struct slab *s = c->partial;
    if (s == NULL && c->empty != NULL) {
        s = c->empty;
        c->empty = NULL;
        slab_list_push(&c->partial, s);
    }
    if (s == NULL) {
        void *page = c->source.alloc_page(c->source.ctx);
        if (page != NULL && !IS_ALIGNED((uintptr_t)page, PAGE_SIZE)) {
            c->source.free_page(c->source.ctx, page); /* broken source: refuse */
            page = NULL;
        }
        if (page == NULL) {
            spin_unlock_irqrestore(&c->lock, flags);
            return NULL;
        }
        s = slab_create(c, page);
        slab_list_push(&c->partial, s);
    }

    /* A slab on the partial list has a zero bit below objs_per_slab. */
    uint32_t word = 0;
    while (s->allocated[word] == ~0ull)
        word++;
    uint32_t slot = word * 64 + (uint32_t)__builtin_ctzll(~s->allocated[word]);
    s->allocated[word] |= 1ull << (slot % 64);
    s->in_use++;
    c->in_use++;
    if (s->in_use == c->objs_per_slab) {
        slab_list_remove(&c->partial, s);
        slab_list_push(&c->full, s);
    }
    void *obj = slot_address(c, s, slot);
    spin_unlock_irqrestore(&c->lock, flags);

    __builtin_memset(obj, 0, c->obj_size);
    return obj;
}

/* Kernel object destructors. Validates everything before changing anything. */
int kmem_cache_free(struct kmem_cache *c, void *obj)
{
    if (c == NULL || obj == NULL)
        return ERR_INVALID_ARGS;
    if (c->magic != KMEM_CACHE_MAGIC)
        return ERR_BAD_STATE;
    uintptr_t address = (uintptr_t)obj;
    uintptr_t page_address = ALIGN_DOWN(address, (uintptr_t)PAGE_SIZE);

    irqflags_t flags = spin_lock_irqsave(&c->lock);
    int status = OK;
    struct slab *s = find_slab(c, page_address);
    uint32_t slot = 0;
    size_t offset = address - page_address;
    if (s == NULL) {
        status = ERR_INVALID_ARGS; /* not one of our pages */
    } else if (s->magic != SLAB_MAGIC || s->cache != c) {
        status = ERR_BAD_STATE; /* our page, but its header is trashed */
    } else if (offset < c->first_offset || (offset - c->first_offset) % c->stride != 0 ||
               (offset - c->first_offset) / c->stride >= c->objs_per_slab) {
        status = ERR_INVALID_ARGS; /* header, interior or tail pointer */
    } else {
        slot = (uint32_t)((offset - c->first_offset) / c->stride);
        if (!slot_allocated(s, slot))
            status = ERR_BAD_STATE; /* double free */
    }
    if (status != OK) {
        spin_unlock_irqrestore(&c->lock, flags);
        return status;
    }

    bool was_full = s->in_use == c->objs_per_slab;
    s->allocated[slot / 64] &= ~(1ull << (slot % 64));
    s->in_use--;
    c->in_use--;
    slab_list_remove(was_full ? &c->full : &c->partial, s);
    if (s->in_use > 0) {
        slab_list_push(&c->partial, s);
    } else if (c->empty == NULL) {
        c->empty = s;
    } else {
        slab_release(c, s);
    }
    spin_unlock_irqrestore(&c->lock, flags);
    return OK;
}

/* Memory-pressure paths and tests: drop the cached empty slab. */
size_t kmem_cache_shrink(struct kmem_cache *c)
{
    irqflags_t flags = spin_lock_irqsave(&c->lock);
    struct slab *s = c->empty;
    c->empty = NULL;
    if (s != NULL)
        slab_release(c, s);
    spin_unlock_irqrestore(&c->lock, flags);
    return s != NULL ? 1 : 0;
}

/* Owners of a cache that is going away (tests, for now). */
int kmem_cache_destroy(struct kmem_cache *c)
{
    irqflags_t flags = spin_lock_irqsave(&c->lock);
    if (c->magic != KMEM_CACHE_MAGIC || c->in_use != 0 || c->partial != NULL || c->full != NULL) {
        spin_unlock_irqrestore(&c->lock, flags);
        return ERR_BAD_STATE;
    }
    if (c->empty != NULL) {
        slab_release(c, c->empty);
        c->empty = NULL;
    }
    c->magic = 0;
    spin_unlock_irqrestore(&c->lock, flags);
    return OK;
}

size_t kmem_cache_in_use(const struct kmem_cache *c)
{
    return __atomic_load_n(&c->in_use, __ATOMIC_RELAXED);
}

size_t kmem_cache_slab_count(const struct kmem_cache *c)
{
    return __atomic_load_n(&c->nr_slabs, __ATOMIC_RELAXED);
}

size_t kmem_cache_objs_per_slab(const struct kmem_cache *c)
{
    return c->objs_per_slab;
}

/* ---- consistency check ---- */

/* Header and bitmap of one slab agree with each other and with c. */
static bool slab_ok(const struct kmem_cache *c, const struct slab *s)
{
    if (!IS_ALIGNED((uintptr_t)s, PAGE_SIZE) || s->magic != SLAB_MAGIC || s->cache != c)
        return false;
    size_t set_bits = 0;
    for (uint32_t w = 0; w < SLAB_BITMAP_WORDS; w++)
        set_bits += count_bits(s->allocated[w]);
    for (uint32_t slot = c->objs_per_slab; slot < SLAB_MAX_OBJS; slot++) {
        if (!slot_allocated(s, slot))
            return false; /* padding bits must stay set */
    }
    return set_bits == s->in_use + (SLAB_MAX_OBJS - c->objs_per_slab);
}

/*
 * Walk one list: back links, headers, and in_use within [min_use, max_use].
 * Adds to *slabs and *objects; gives up after more slabs than the cache
 * holds (a cycle).
 */
static bool slab_list_ok(const struct kmem_cache *c, const struct slab *list, uint32_t min_use,
                         uint32_t max_use, size_t *slabs, size_t *objects)
{
    const struct slab *prev = NULL;
    for (const struct slab *s = list; s != NULL; prev = s, s = s->next) {
        if (++*slabs > c->nr_slabs || s->prev != prev || !slab_ok(c, s) || s->in_use < min_use ||
            s->in_use > max_use)
            return false;
        *objects += s->in_use;
    }
    return true;
}

/* Unit tests and the boot self-test. Linear in the slabs held; takes the lock. */
int kmem_cache_check(struct kmem_cache *c)
{
    if (c->magic != KMEM_CACHE_MAGIC)
        return ERR_BAD_STATE;
    irqflags_t flags = spin_lock_irqsave(&c->lock);
    size_t slabs = 0, objects = 0;
    uint32_t n = c->objs_per_slab;
    bool ok = n >= 1 && c->first_offset + (size_t)n * c->stride <= PAGE_SIZE &&
              slab_list_ok(c, c->partial, 1, n - 1, &slabs, &objects) &&
              slab_list_ok(c, c->full, n, n, &slabs, &objects);
    if (ok && c->empty != NULL) {
        ok = slab_ok(c, c->empty) && c->empty->in_use == 0 && c->empty->next == NULL &&
             c->empty->prev == NULL;
        slabs++;
    }
    ok = ok && slabs == c->nr_slabs && objects == c->in_use;
    spin_unlock_irqrestore(&c->lock, flags);
    return ok ? OK : ERR_BAD_STATE;
}
