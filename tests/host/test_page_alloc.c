/*
 * Host unit tests for the buddy page allocator (kernel/mm/page_alloc.c).
 *
 * The allocator never touches the memory it manages, so the tests give it
 * made-up physical ranges and keep their own shadow map of every page
 * (reserved / free / allocated by the test). Each allocation is checked
 * against the shadow: inside the range, naturally aligned, not overlapping
 * anything live. When the allocator says ERR_NO_MEMORY the shadow must
 * agree that no aligned run of free pages of that order exists (buddy
 * merging is eager, so that is exact). Error paths compare a snapshot of
 * the whole metadata before and after, to prove "nothing changed".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mica/page_alloc.h>
#include <mica/status.h>

#define PG ((paddr_t)PAGE_SIZE)
#define ALIGNED_BASE ((paddr_t)0x40000000)            /* 4 MiB aligned */
#define UNALIGNED_BASE ((paddr_t)0x40000000 + 3 * PG) /* pfn = 3 mod 1024 */
#define MAX_LIVE 16384

enum shadow_state { SHADOW_RESERVED, SHADOW_FREE, SHADOW_ALLOC };

struct allocation {
    paddr_t addr;
    size_t npages;
};

/* One allocator under test plus everything the test knows about it. */
struct fixture {
    struct page_alloc pa;
    void *metadata;
    size_t metadata_size;
    paddr_t base;
    size_t npages;
    uint8_t *shadow; /* enum shadow_state per page */
    struct allocation live[MAX_LIVE];
    size_t nlive;
};

/* What must stay identical across a refused operation. */
struct snapshot {
    void *metadata;
    struct page_alloc pa; /* lock words aside, compared field by field */
};

static struct fixture *fixture_new(paddr_t base, size_t npages)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->base = base;
    fx->npages = npages;
    fx->metadata_size = page_alloc_metadata_size(npages);
    fx->metadata = malloc(fx->metadata_size);
    fx->shadow = calloc(npages, 1); /* all SHADOW_RESERVED */
    assert_non_null(fx->metadata);
    assert_non_null(fx->shadow);
    assert_int_equal(page_alloc_init(&fx->pa, base, npages, fx->metadata, fx->metadata_size), OK);
    return fx;
}

static void fixture_free(struct fixture *fx)
{
    free(fx->metadata);
    free(fx->shadow);
    free(fx);
}

static paddr_t page_addr(const struct fixture *fx, size_t index)
{
    return fx->base + index * PG;
}

static size_t shadow_count(const struct fixture *fx, enum shadow_state state)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->npages; i++)
        n += fx->shadow[i] == state;
    return n;
}

static void assert_counts_match_shadow(const struct fixture *fx)
{
    size_t free_pages = shadow_count(fx, SHADOW_FREE);
    assert_int_equal(page_alloc_free_count(&fx->pa), free_pages);
    assert_int_equal(page_alloc_total_count(&fx->pa), free_pages + shadow_count(fx, SHADOW_ALLOC));
}

static void add_free(struct fixture *fx, size_t first, size_t n)
{
    assert_int_equal(page_alloc_add_free(&fx->pa, page_addr(fx, first), n), OK);
    memset(fx->shadow + first, SHADOW_FREE, n);
}

static void reserve(struct fixture *fx, size_t first, size_t n)
{
    assert_int_equal(page_alloc_reserve(&fx->pa, page_addr(fx, first), n), OK);
    memset(fx->shadow + first, SHADOW_RESERVED, n);
}

static unsigned order_of(size_t npages)
{
    unsigned order = 0;
    while (((size_t)1 << order) < npages)
        order++;
    return order;
}

/* Does the shadow hold a naturally aligned, wholly free run of 2^order pages? */
static bool shadow_has_free_block(const struct fixture *fx, unsigned order)
{
    uint64_t block = (uint64_t)1 << order;
    uint64_t base_pfn = fx->base / PG;
    uint64_t pfn = (base_pfn + block - 1) & ~(block - 1);
    for (; pfn + block <= base_pfn + fx->npages; pfn += block) {
        size_t first = pfn - base_pfn, i = 0;
        while (i < block && fx->shadow[first + i] == SHADOW_FREE)
            i++;
        if (i == block)
            return true;
    }
    return false;
}

/*
 * Allocate npages and check the result against the shadow. Returns true
 * and records the allocation on success; on ERR_NO_MEMORY checks that the
 * shadow agrees nothing fits and returns false.
 */
static bool alloc_checked(struct fixture *fx, size_t npages, paddr_t *out)
{
    paddr_t addr = 0;
    int status = page_alloc_pages(&fx->pa, npages, &addr);
    if (status == ERR_NO_MEMORY) {
        assert_false(shadow_has_free_block(fx, order_of(npages)));
        return false;
    }
    assert_int_equal(status, OK);
    uint64_t align = PG << order_of(npages);
    assert_true(addr % align == 0);
    assert_true(addr >= fx->base);
    size_t first = (addr - fx->base) / PG;
    assert_true(first + npages <= fx->npages);
    for (size_t i = first; i < first + npages; i++) {
        assert_int_equal(fx->shadow[i], SHADOW_FREE);
        fx->shadow[i] = SHADOW_ALLOC;
    }
    assert_true(fx->nlive < MAX_LIVE);
    fx->live[fx->nlive++] = (struct allocation){addr, npages};
    if (out != NULL)
        *out = addr;
    return true;
}

/* Free live[slot] (and forget it). */
static void free_live(struct fixture *fx, size_t slot)
{
    struct allocation a = fx->live[slot];
    assert_int_equal(page_free_pages(&fx->pa, a.addr, a.npages), OK);
    memset(fx->shadow + (a.addr - fx->base) / PG, SHADOW_FREE, a.npages);
    fx->live[slot] = fx->live[--fx->nlive];
}

static void free_all_live(struct fixture *fx)
{
    while (fx->nlive > 0)
        free_live(fx, fx->nlive - 1);
}

static void snapshot_take(const struct fixture *fx, struct snapshot *s)
{
    s->metadata = malloc(fx->metadata_size);
    assert_non_null(s->metadata);
    memcpy(s->metadata, fx->metadata, fx->metadata_size);
    s->pa = fx->pa;
}

/* Asserts the allocator is exactly as snapshotted, then drops the snapshot. */
static void snapshot_assert_same(struct fixture *fx, struct snapshot *s)
{
    assert_memory_equal(s->metadata, fx->metadata, fx->metadata_size);
    assert_int_equal(s->pa.free_pages, fx->pa.free_pages);
    assert_int_equal(s->pa.total_pages, fx->pa.total_pages);
    assert_memory_equal(s->pa.free_list, fx->pa.free_list, sizeof(s->pa.free_list));
    assert_memory_equal(s->pa.free_blocks, fx->pa.free_blocks, sizeof(s->pa.free_blocks));
    free(s->metadata);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
}

/* Small deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_state;
static size_t rng_below(size_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (size_t)((rng_state * 0x2545F4914F6CDD1Dull) % n);
}
static void rng_seed(void)
{
    const char *env = getenv("MICA_TEST_SEED");
    rng_state = env != NULL ? strtoull(env, NULL, 0) : 0x6d696361ull;
    if (rng_state == 0)
        rng_state = 1;
    printf("# seed 0x%llx (set MICA_TEST_SEED to change)\n", (unsigned long long)rng_state);
}

/* A realistic layout: two RAM banks with a hole, kernel image and DTB reserved. */
static struct fixture *fixture_with_holes(paddr_t base)
{
    struct fixture *fx = fixture_new(base, 4200);
    add_free(fx, 0, 1500);    /* bank 0 */
    add_free(fx, 1700, 2500); /* bank 1, hole of 200 pages before it */
    reserve(fx, 10, 37);      /* "kernel image" */
    reserve(fx, 2049, 3);     /* "DTB" */
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    assert_counts_match_shadow(fx);
    return fx;
}

/* ---------------------------------------------------------------- tests */

static void test_init_arguments(void **state)
{
    (void)state;
    struct page_alloc pa;
    uint32_t meta[3 * 64];
    size_t one = page_alloc_metadata_size(1);
    assert_true(one > 0 && one <= 16);
    assert_int_equal(page_alloc_metadata_size(64), 64 * one);
    assert_int_equal(page_alloc_metadata_size(SIZE_MAX), 0);

    assert_int_equal(page_alloc_init(&pa, ALIGNED_BASE, 64, meta, sizeof(meta)), OK);
    assert_int_equal(page_alloc_init(&pa, ALIGNED_BASE + 1, 64, meta, sizeof(meta)),
                     ERR_INVALID_ARGS);
    assert_int_equal(page_alloc_init(&pa, ALIGNED_BASE, 0, meta, sizeof(meta)), ERR_INVALID_ARGS);
    assert_int_equal(page_alloc_init(&pa, ALIGNED_BASE, 64, meta, 64 * one - 1), ERR_INVALID_ARGS);
    assert_int_equal(page_alloc_init(&pa, ALIGNED_BASE, 64, NULL, sizeof(meta)), ERR_INVALID_ARGS);
    assert_int_equal(page_alloc_init(&pa, ALIGNED_BASE, 63, (char *)meta + 1, sizeof(meta) - 1),
                     ERR_INVALID_ARGS);
    assert_int_equal(page_alloc_init(&pa, UINT64_MAX & ~(paddr_t)PAGE_MASK, 2, meta, sizeof(meta)),
                     ERR_INVALID_ARGS); /* wraps past the top of the address space */

    /* Everything starts reserved. */
    struct fixture *fx = fixture_new(ALIGNED_BASE, 128);
    paddr_t addr;
    assert_int_equal(page_alloc_free_count(&fx->pa), 0);
    assert_int_equal(page_alloc_total_count(&fx->pa), 0);
    assert_int_equal(page_alloc_pages(&fx->pa, 1, &addr), ERR_NO_MEMORY);
    assert_int_equal(page_free_pages(&fx->pa, ALIGNED_BASE, 1), ERR_BAD_STATE);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    fixture_free(fx);
}

static void test_add_free_errors(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(ALIGNED_BASE, 256);
    add_free(fx, 16, 32);
    struct snapshot s;
    snapshot_take(fx, &s);
    struct page_alloc *pa = &fx->pa;
    assert_int_equal(page_alloc_add_free(pa, ALIGNED_BASE - PG, 2), ERR_OUT_OF_RANGE);
    assert_int_equal(page_alloc_add_free(pa, page_addr(fx, 250), 7), ERR_OUT_OF_RANGE);
    assert_int_equal(page_alloc_add_free(pa, page_addr(fx, 256), 1), ERR_OUT_OF_RANGE);
    assert_int_equal(page_alloc_add_free(pa, page_addr(fx, 1), SIZE_MAX), ERR_OUT_OF_RANGE);
    assert_int_equal(page_alloc_add_free(pa, page_addr(fx, 1) + 8, 1), ERR_INVALID_ARGS);
    assert_int_equal(page_alloc_add_free(pa, page_addr(fx, 1), 0), ERR_INVALID_ARGS);
    assert_int_equal(page_alloc_add_free(pa, page_addr(fx, 20), 4), ERR_BAD_STATE);
    assert_int_equal(page_alloc_add_free(pa, page_addr(fx, 0), 17), ERR_BAD_STATE); /* its end */
    assert_int_equal(page_alloc_add_free(pa, page_addr(fx, 47), 9), ERR_BAD_STATE); /* its start */
    snapshot_assert_same(fx, &s);
    fixture_free(fx);
}

/* Free pages on both sides of a hole never merge across it. */
static void test_holes_are_never_merged(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(ALIGNED_BASE, 2048);
    add_free(fx, 0, 1023);
    add_free(fx, 1025, 1023);
    assert_int_equal(page_alloc_free_count(&fx->pa), 2046);
    assert_int_equal(page_alloc_check(&fx->pa), OK);

    paddr_t addr;
    assert_false(alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, &addr)); /* both 4 MiB blocks broken */
    assert_true(alloc_checked(fx, 512, &addr));
    assert_true(alloc_checked(fx, 512, &addr));
    assert_false(alloc_checked(fx, 512, &addr));
    while (alloc_checked(fx, 1, &addr)) /* shadow asserts no page of the hole comes out */
        ;
    assert_int_equal(page_alloc_free_count(&fx->pa), 0);
    free_all_live(fx);
    assert_int_equal(page_alloc_check(&fx->pa), OK);

    add_free(fx, 1023, 2); /* fill the hole: now everything merges */
    assert_true(alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, &addr));
    assert_true(alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, &addr));
    free_all_live(fx);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    fixture_free(fx);
}

/* Blocks align by physical address and never extend past the range ends. */
static void test_physical_alignment_with_unaligned_base(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(UNALIGNED_BASE, 2100);
    add_free(fx, 0, 2100);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    paddr_t addr;
    assert_true(alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, &addr));
    assert_int_equal(addr, page_addr(fx, 1021)); /* the only aligned 4 MiB inside */
    assert_false(alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, &addr));
    assert_true(alloc_checked(fx, 3, &addr)); /* 4-page aligned */
    free_all_live(fx);
    assert_int_equal(page_alloc_free_count(&fx->pa), 2100);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    fixture_free(fx);
}

static void test_reserve(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(ALIGNED_BASE, 2048);
    add_free(fx, 0, 2048);
    reserve(fx, 5, 3); /* splits the first 4 MiB block */
    assert_int_equal(page_alloc_free_count(&fx->pa), 2045);
    assert_int_equal(page_alloc_total_count(&fx->pa), 2045);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    reserve(fx, 5, 3);      /* already reserved: fine, nothing changes */
    reserve(fx, 6, 4);      /* half already reserved */
    reserve(fx, 1000, 100); /* straddles two blocks */
    reserve(fx, 1536, 512); /* exactly one whole block */
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    assert_counts_match_shadow(fx);

    paddr_t held;
    assert_true(alloc_checked(fx, 1, &held));
    struct snapshot s;
    snapshot_take(fx, &s);
    assert_int_equal(page_alloc_reserve(&fx->pa, held, 1), ERR_BAD_STATE);
    assert_int_equal(page_alloc_reserve(&fx->pa, held, 2), ERR_BAD_STATE);
    assert_int_equal(page_alloc_reserve(&fx->pa, page_addr(fx, 2040), 9), ERR_OUT_OF_RANGE);
    assert_int_equal(page_alloc_reserve(&fx->pa, ALIGNED_BASE - PG, 1), ERR_OUT_OF_RANGE);
    assert_int_equal(page_alloc_reserve(&fx->pa, page_addr(fx, 3) + 1, 1), ERR_INVALID_ARGS);
    assert_int_equal(page_alloc_reserve(&fx->pa, page_addr(fx, 3), 0), ERR_INVALID_ARGS);
    snapshot_assert_same(fx, &s);

    paddr_t addr;
    assert_false(alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, &addr));
    while (alloc_checked(fx, 1, &addr)) /* shadow: never a reserved page */
        ;
    free_all_live(fx);
    assert_counts_match_shadow(fx);

    /* Reserved pages can be handed back later (freed boot memory). */
    add_free(fx, 5, 5);
    add_free(fx, 1000, 100);
    add_free(fx, 1536, 512);
    assert_true(alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, &addr));
    assert_true(alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, &addr));
    free_all_live(fx);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    fixture_free(fx);
}

/* Exhaust with single pages, free all in random order, back to baseline. */
static void test_exhaust_and_return_to_baseline(void **state)
{
    (void)state;
    rng_seed();
    struct fixture *fx = fixture_with_holes(UNALIGNED_BASE);
    size_t baseline = page_alloc_free_count(&fx->pa);
    size_t max_blocks_before = 0;
    paddr_t addr;
    while (alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, &addr))
        max_blocks_before++;
    free_all_live(fx);

    while (alloc_checked(fx, 1, &addr))
        ;
    assert_int_equal(fx->nlive, baseline);
    assert_int_equal(page_alloc_free_count(&fx->pa), 0);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    while (fx->nlive > 0)
        free_live(fx, rng_below(fx->nlive));
    assert_int_equal(page_alloc_free_count(&fx->pa), baseline);
    assert_int_equal(page_alloc_total_count(&fx->pa), baseline);
    assert_int_equal(page_alloc_check(&fx->pa), OK);

    size_t max_blocks_after = 0;
    while (alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, &addr))
        max_blocks_after++;
    assert_true(max_blocks_before > 0);
    assert_int_equal(max_blocks_after, max_blocks_before);
    free_all_live(fx);
    fixture_free(fx);
}

static void test_multi_page_allocations(void **state)
{
    (void)state;
    static const size_t sizes[] = {1,  2,  3,  4,   5,   7,   8,   9,   15,  16,   17,
                                   31, 33, 64, 100, 128, 255, 256, 257, 512, 1000, 1024};
    struct fixture *fx = fixture_with_holes(ALIGNED_BASE);
    size_t baseline = page_alloc_free_count(&fx->pa);
    /* Largest first, then smaller and smaller until even one page fails. */
    for (size_t i = ARRAY_SIZE(sizes); i-- > 0;) {
        while (alloc_checked(fx, sizes[i], NULL))
            assert_counts_match_shadow(fx);
    }
    assert_int_equal(page_alloc_free_count(&fx->pa), 0);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    free_all_live(fx);
    assert_int_equal(page_alloc_free_count(&fx->pa), baseline);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    fixture_free(fx);
}

/* A non-power-of-two request takes the rounded block and returns the tail. */
static void test_tail_is_given_back(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(ALIGNED_BASE, 64);
    add_free(fx, 8, 8);
    paddr_t five, two, one, extra;
    assert_true(alloc_checked(fx, 5, &five));
    assert_int_equal(five, page_addr(fx, 8));
    assert_int_equal(page_alloc_free_count(&fx->pa), 3);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    assert_true(alloc_checked(fx, 2, &two));
    assert_int_equal(two, page_addr(fx, 14));
    assert_true(alloc_checked(fx, 1, &one));
    assert_int_equal(one, page_addr(fx, 13));
    assert_false(alloc_checked(fx, 1, &extra));
    free_all_live(fx);
    assert_true(alloc_checked(fx, 8, &extra)); /* all merged back */
    assert_int_equal(extra, page_addr(fx, 8));
    free_all_live(fx);

    assert_true(alloc_checked(fx, 3, &one));
    assert_true(alloc_checked(fx, 4, &two));
    assert_int_equal(two, page_addr(fx, 12));
    assert_true(alloc_checked(fx, 1, &extra));
    assert_int_equal(extra, page_addr(fx, 11));
    free_all_live(fx);
    assert_int_equal(page_alloc_free_count(&fx->pa), 8);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    fixture_free(fx);
}

static void test_bad_frees_are_refused(void **state)
{
    (void)state;
    struct fixture *fx = fixture_with_holes(ALIGNED_BASE);
    struct page_alloc *pa = &fx->pa;
    paddr_t a, b, free_page;
    assert_true(alloc_checked(fx, 5, &a));
    assert_true(alloc_checked(fx, 1, &b));
    assert_true(alloc_checked(fx, 1, &free_page));
    free_live(fx, 2); /* free_page is free again now */
    paddr_t end = fx->base + fx->npages * PG;
    /* A page of a's rounded-up block that went back to the free pool. */
    size_t tail = (a - fx->base) / PG + 5;
    while (fx->shadow[tail] != SHADOW_FREE)
        tail++;
    assert_true(tail < (a - fx->base) / PG + 8);

    struct snapshot s;
    snapshot_take(fx, &s);
    assert_int_equal(page_free_pages(pa, a, 4), ERR_BAD_STATE);      /* too small */
    assert_int_equal(page_free_pages(pa, a, 6), ERR_BAD_STATE);      /* too large */
    assert_int_equal(page_free_pages(pa, a, 8), ERR_BAD_STATE);      /* the rounded size */
    assert_int_equal(page_free_pages(pa, a + PG, 4), ERR_BAD_STATE); /* interior */
    assert_int_equal(page_free_pages(pa, page_addr(fx, tail), 1), ERR_BAD_STATE); /* tail */
    assert_int_equal(page_free_pages(pa, free_page, 1), ERR_BAD_STATE);           /* double free */
    assert_int_equal(page_free_pages(pa, page_addr(fx, 20), 1), ERR_BAD_STATE);   /* reserved */
    assert_int_equal(page_free_pages(pa, page_addr(fx, 1600), 1), ERR_BAD_STATE); /* hole */
    assert_int_equal(page_free_pages(pa, fx->base - PG, 1), ERR_OUT_OF_RANGE);
    assert_int_equal(page_free_pages(pa, end, 1), ERR_OUT_OF_RANGE);
    assert_int_equal(page_free_pages(pa, 0, 1), ERR_OUT_OF_RANGE);
    assert_int_equal(page_free_pages(pa, a + 1, 5), ERR_INVALID_ARGS);
    assert_int_equal(page_free_pages(pa, a, 0), ERR_INVALID_ARGS);
    assert_int_equal(page_free_pages(pa, page_addr(fx, fx->npages - 1), 2), ERR_BAD_STATE);
    snapshot_assert_same(fx, &s);

    free_live(fx, 1); /* b */
    snapshot_take(fx, &s);
    assert_int_equal(page_free_pages(pa, b, 1), ERR_BAD_STATE);
    snapshot_assert_same(fx, &s);
    free_all_live(fx);
    assert_counts_match_shadow(fx);
    assert_int_equal(page_alloc_check(pa), OK);
    fixture_free(fx);
}

static void test_bad_allocation_sizes(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(ALIGNED_BASE, 1536);
    add_free(fx, 0, 1536);
    paddr_t addr;
    assert_int_equal(page_alloc_pages(&fx->pa, 0, &addr), ERR_INVALID_ARGS);
    assert_int_equal(page_alloc_pages(&fx->pa, PAGE_ALLOC_MAX_PAGES + 1, &addr), ERR_INVALID_ARGS);
    assert_int_equal(page_alloc_pages(&fx->pa, SIZE_MAX, &addr), ERR_INVALID_ARGS);
    assert_int_equal(page_alloc_pages(&fx->pa, 1, NULL), ERR_INVALID_ARGS);
    assert_true(alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, &addr));
    assert_false(alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, &addr)); /* 512 left: too few */
    assert_false(alloc_checked(fx, 513, &addr));
    assert_true(alloc_checked(fx, 512, &addr));
    free_all_live(fx);
    assert_int_equal(page_alloc_free_count(&fx->pa), 1536);
    fixture_free(fx);
}

/* Single pages freed in random order merge all the way back up. */
static void test_coalescing(void **state)
{
    (void)state;
    rng_seed();
    struct fixture *fx = fixture_new(ALIGNED_BASE, 4 * PAGE_ALLOC_MAX_PAGES);
    add_free(fx, 0, fx->npages);
    while (alloc_checked(fx, 1, NULL))
        ;
    while (fx->nlive > 0) {
        free_live(fx, rng_below(fx->nlive));
        if (fx->nlive % 512 == 0)
            assert_int_equal(page_alloc_check(&fx->pa), OK);
    }
    for (unsigned k = 0; k < PAGE_ALLOC_MAX_ORDER; k++)
        assert_int_equal(fx->pa.free_blocks[k], 0);
    assert_int_equal(fx->pa.free_blocks[PAGE_ALLOC_MAX_ORDER], 4);
    for (int i = 0; i < 4; i++)
        assert_true(alloc_checked(fx, PAGE_ALLOC_MAX_PAGES, NULL));
    free_all_live(fx);
    fixture_free(fx);
}

/* The checker itself must notice damage, or the other tests prove little. */
static void test_check_detects_corruption(void **state)
{
    (void)state;
    struct fixture *fx = fixture_new(ALIGNED_BASE, 64);
    add_free(fx, 8, 40);
    paddr_t two;
    assert_true(alloc_checked(fx, 2, &two));
    size_t desc = page_alloc_metadata_size(1);
    char *meta = fx->metadata;
    char saved[16];
    size_t victims[] = {
        (two - fx->base) / PG + 1, /* second page of an allocation */
        30,                        /* inside a free block */
        (two - fx->base) / PG,     /* an allocation head */
    };
    for (size_t v = 0; v < ARRAY_SIZE(victims); v++) {
        char *d = meta + victims[v] * desc;
        memcpy(saved, d, desc);
        memcpy(d, meta, desc); /* page 0's descriptor: a reserved page */
        assert_int_equal(page_alloc_check(&fx->pa), ERR_BAD_STATE);
        memset(d, 0xab, desc); /* garbage */
        assert_int_equal(page_alloc_check(&fx->pa), ERR_BAD_STATE);
        memcpy(d, saved, desc);
        assert_int_equal(page_alloc_check(&fx->pa), OK);
    }
    fx->pa.free_pages++;
    assert_int_equal(page_alloc_check(&fx->pa), ERR_BAD_STATE);
    fx->pa.free_pages--;
    free_all_live(fx);
    assert_int_equal(page_alloc_check(&fx->pa), OK);
    fixture_free(fx);
}

/* Random allocs and frees against the shadow map, with bad frees mixed in. */
static void test_random_stress(void **state)
{
    (void)state;
    rng_seed();
    struct fixture *fx = fixture_with_holes(UNALIGNED_BASE);
    struct page_alloc *pa = &fx->pa;
    size_t baseline = page_alloc_free_count(pa);
    struct allocation last_freed = {0, 0};

    for (int op = 0; op < 6000; op++) {
        size_t r = rng_below(100);
        if (r < 55 || fx->nlive == 0) {
            size_t n = rng_below(10) < 8   ? 1 + rng_below(8)
                       : rng_below(10) < 9 ? 1 + rng_below(64)
                                           : 1 + rng_below(1024);
            alloc_checked(fx, n, NULL);
        } else if (r < 95) {
            size_t slot = rng_below(fx->nlive);
            last_freed = fx->live[slot];
            free_live(fx, slot);
        } else {
            /* Refused frees: wrong size of a live one, or a stale address. */
            size_t free_before = page_alloc_free_count(pa);
            struct allocation a = fx->live[rng_below(fx->nlive)];
            assert_int_equal(page_free_pages(pa, a.addr, a.npages + 1), ERR_BAD_STATE);
            if (a.npages > 1)
                assert_int_equal(page_free_pages(pa, a.addr, a.npages - 1), ERR_BAD_STATE);
            size_t stale = (last_freed.addr - fx->base) / PG;
            if (last_freed.npages != 0 && fx->shadow[stale] != SHADOW_ALLOC)
                assert_int_equal(page_free_pages(pa, last_freed.addr, last_freed.npages),
                                 ERR_BAD_STATE);
            assert_int_equal(page_alloc_free_count(pa), free_before);
        }
        if (op % 250 == 0) {
            assert_int_equal(page_alloc_check(pa), OK);
            assert_counts_match_shadow(fx);
        }
    }
    assert_int_equal(page_alloc_check(pa), OK);
    assert_counts_match_shadow(fx);
    free_all_live(fx);
    assert_int_equal(page_alloc_free_count(pa), baseline);
    assert_int_equal(page_alloc_check(pa), OK);
    fixture_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_arguments),
        cmocka_unit_test(test_add_free_errors),
        cmocka_unit_test(test_holes_are_never_merged),
        cmocka_unit_test(test_physical_alignment_with_unaligned_base),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_exhaust_and_return_to_baseline),
        cmocka_unit_test(test_multi_page_allocations),
        cmocka_unit_test(test_tail_is_given_back),
        cmocka_unit_test(test_bad_frees_are_refused),
        cmocka_unit_test(test_bad_allocation_sizes),
        cmocka_unit_test(test_coalescing),
        cmocka_unit_test(test_check_detects_corruption),
        cmocka_unit_test(test_random_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
