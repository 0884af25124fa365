/*
 * Shared by the page allocator's host tests (test_page_alloc.c: ranges,
 * reservations and allocation; test_page_alloc_errors.c: refusals,
 * coalescing, corruption and random stress): a fixture with a shadow map
 * of every page, checked allocation, snapshots and a seeded PRNG.
 */
#ifndef PAGE_ALLOC_TEST_UTIL_H
#define PAGE_ALLOC_TEST_UTIL_H

#include <mica/page_alloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

extern uint64_t rng_state;
struct fixture *fixture_new(paddr_t base, size_t npages);
void fixture_free(struct fixture *fx);
paddr_t page_addr(const struct fixture *fx, size_t index);
size_t shadow_count(const struct fixture *fx, enum shadow_state state);
void assert_counts_match_shadow(const struct fixture *fx);
void add_free(struct fixture *fx, size_t first, size_t n);
void reserve(struct fixture *fx, size_t first, size_t n);
unsigned order_of(size_t npages);
bool shadow_has_free_block(const struct fixture *fx, unsigned order);
bool alloc_checked(struct fixture *fx, size_t npages, paddr_t *out);
void free_live(struct fixture *fx, size_t slot);
void free_all_live(struct fixture *fx);
void snapshot_take(const struct fixture *fx, struct snapshot *s);
void snapshot_assert_same(struct fixture *fx, struct snapshot *s);
size_t rng_below(size_t n);
void rng_seed(void);
struct fixture *fixture_with_holes(paddr_t base);

#endif
