/* Helpers shared by the page allocator host tests (see page_alloc_test_util.h). */
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

#include "page_alloc_test_util.h"

struct fixture *fixture_new(paddr_t base, size_t npages)
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

void fixture_free(struct fixture *fx)
{
    free(fx->metadata);
    free(fx->shadow);
    free(fx);
}

paddr_t page_addr(const struct fixture *fx, size_t index)
{
    return fx->base + index * PG;
}

size_t shadow_count(const struct fixture *fx, enum shadow_state state)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->npages; i++)
        n += fx->shadow[i] == state;
    return n;
}

void assert_counts_match_shadow(const struct fixture *fx)
{
    size_t free_pages = shadow_count(fx, SHADOW_FREE);
    assert_int_equal(page_alloc_free_count(&fx->pa), free_pages);
    assert_int_equal(page_alloc_total_count(&fx->pa), free_pages + shadow_count(fx, SHADOW_ALLOC));
}

void add_free(struct fixture *fx, size_t first, size_t n)
{
    assert_int_equal(page_alloc_add_free(&fx->pa, page_addr(fx, first), n), OK);
    memset(fx->shadow + first, SHADOW_FREE, n);
}

void reserve(struct fixture *fx, size_t first, size_t n)
{
    assert_int_equal(page_alloc_reserve(&fx->pa, page_addr(fx, first), n), OK);
    memset(fx->shadow + first, SHADOW_RESERVED, n);
}

unsigned order_of(size_t npages)
{
    unsigned order = 0;
    while (((size_t)1 << order) < npages)
        order++;
    return order;
}

/* Does the shadow hold a naturally aligned, wholly free run of 2^order pages? */
bool shadow_has_free_block(const struct fixture *fx, unsigned order)
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
bool alloc_checked(struct fixture *fx, size_t npages, paddr_t *out)
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
void free_live(struct fixture *fx, size_t slot)
{
    struct allocation a = fx->live[slot];
    assert_int_equal(page_free_pages(&fx->pa, a.addr, a.npages), OK);
    memset(fx->shadow + (a.addr - fx->base) / PG, SHADOW_FREE, a.npages);
    fx->live[slot] = fx->live[--fx->nlive];
}

void free_all_live(struct fixture *fx)
{
    while (fx->nlive > 0)
        free_live(fx, fx->nlive - 1);
}

void snapshot_take(const struct fixture *fx, struct snapshot *s)
{
    s->metadata = malloc(fx->metadata_size);
    assert_non_null(s->metadata);
    memcpy(s->metadata, fx->metadata, fx->metadata_size);
    s->pa = fx->pa;
}

/* Asserts the allocator is exactly as snapshotted, then drops the snapshot. */
void snapshot_assert_same(struct fixture *fx, struct snapshot *s)
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
uint64_t rng_state;
size_t rng_below(size_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (size_t)((rng_state * 0x2545F4914F6CDD1Dull) % n);
}
void rng_seed(void)
{
    const char *env = getenv("MICA_TEST_SEED");
    rng_state = env != NULL ? strtoull(env, NULL, 0) : 0x6d696361ull;
    if (rng_state == 0)
        rng_state = 1;
    printf("# seed 0x%llx (set MICA_TEST_SEED to change)\n", (unsigned long long)rng_state);
}

/* A realistic layout: two RAM banks with a hole, kernel image and DTB reserved. */
struct fixture *fixture_with_holes(paddr_t base)
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
