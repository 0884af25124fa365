/*
 * Host unit tests for the buddy page allocator (kernel/mm/page_alloc.c):
 * bad frees and allocation sizes are refused with nothing changed,
 * buddies coalesce, page_alloc_check finds corruption, and a seeded random
 * stress test keeps the allocator and the shadow map of
 * page_alloc_test_util.c in agreement.
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
        cmocka_unit_test(test_bad_frees_are_refused),
        cmocka_unit_test(test_bad_allocation_sizes),
        cmocka_unit_test(test_coalescing),
        cmocka_unit_test(test_check_detects_corruption),
        cmocka_unit_test(test_random_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
