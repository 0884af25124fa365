/*
 * Host unit tests for the buddy page allocator (kernel/mm/page_alloc.c):
 * set-up, ranges, reservations and allocation (refusals, coalescing,
 * corruption and the random stress test: test_page_alloc_errors.c).
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

#include "page_alloc_test_util.h"

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
