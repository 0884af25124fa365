/*
 * Host unit tests for the object caches (kernel/mm/slab.c).
 *
 * The page source here is aligned_alloc() behind a page limit. It fills
 * every new page with garbage (so zeroing is really tested), remembers
 * every page it handed out (so a free of a page it never gave is caught,
 * and so tests can snapshot all slab memory to prove a refused free
 * changed nothing) and frees pages for real when they come back, so
 * valgrind sees any use of a page after the cache gave it up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mica/slab.h>
#include <mica/status.h>

#define SOURCE_MAX_PAGES 64

struct test_source {
    size_t limit;       /* pages that may be outstanding at once */
    size_t outstanding; /* pages handed out and not yet returned */
    size_t allocs;      /* alloc_page calls that succeeded */
    void *pages[SOURCE_MAX_PAGES];
    void *snapshot[SOURCE_MAX_PAGES]; /* copies of pages[], see source_snapshot() */
};

static void *source_alloc_page(void *ctx)
{
    struct test_source *ts = ctx;
    if (ts->outstanding >= ts->limit)
        return NULL;
    void *page = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
    assert_non_null(page);
    memset(page, 0xa5, PAGE_SIZE);
    ts->pages[ts->outstanding++] = page;
    ts->allocs++;
    return page;
}

static void source_free_page(void *ctx, void *page)
{
    struct test_source *ts = ctx;
    for (size_t i = 0; i < ts->outstanding; i++) {
        if (ts->pages[i] == page) {
            ts->pages[i] = ts->pages[--ts->outstanding];
            free(page);
            return;
        }
    }
    fail_msg("page %p returned to the source that never handed it out", page);
}

static struct slab_page_source make_source(struct test_source *ts, size_t limit)
{
    assert_true(limit <= SOURCE_MAX_PAGES);
    memset(ts, 0, sizeof(*ts));
    ts->limit = limit;
    return (struct slab_page_source){source_alloc_page, source_free_page, ts};
}

static bool source_owns(const struct test_source *ts, const void *p)
{
    uintptr_t page = (uintptr_t)p & ~(uintptr_t)PAGE_MASK;
    for (size_t i = 0; i < ts->outstanding; i++) {
        if ((uintptr_t)ts->pages[i] == page)
            return true;
    }
    return false;
}

/* Copy every outstanding page, to prove later that nothing was written. */
static void source_snapshot(struct test_source *ts)
{
    for (size_t i = 0; i < ts->outstanding; i++) {
        ts->snapshot[i] = malloc(PAGE_SIZE);
        assert_non_null(ts->snapshot[i]);
        memcpy(ts->snapshot[i], ts->pages[i], PAGE_SIZE);
    }
}

static void source_assert_unchanged(struct test_source *ts)
{
    for (size_t i = 0; i < ts->outstanding; i++) {
        assert_memory_equal(ts->snapshot[i], ts->pages[i], PAGE_SIZE);
        free(ts->snapshot[i]);
    }
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0)
            return false;
    }
    return true;
}

static int compare_pointers(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

/*
 * Allocate from c until the source runs dry (or max objects), checking
 * each object: zeroed, aligned, inside a source page. Then check that
 * no two overlap. Returns how many were allocated into objs[].
 */
static size_t alloc_until_empty(struct kmem_cache *c, struct test_source *ts, size_t align,
                                void **objs, size_t max)
{
    size_t n = 0;
    while (n < max) {
        void *obj = kmem_cache_alloc(c);
        if (obj == NULL) {
            assert_int_equal(ts->outstanding, ts->limit); /* only when truly out */
            break;
        }
        assert_true(all_zero(obj, c->obj_size));
        assert_true((uintptr_t)obj % align == 0);
        assert_true(source_owns(ts, obj));
        assert_true(source_owns(ts, (char *)obj + c->obj_size - 1));
        memset(obj, 0xff, c->obj_size); /* would smash a header or a neighbour */
        objs[n++] = obj;
    }
    void **sorted = malloc(n * sizeof(*sorted) + 1);
    assert_non_null(sorted);
    memcpy(sorted, objs, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), compare_pointers);
    for (size_t i = 1; i < n; i++)
        assert_true((uintptr_t)sorted[i] >= (uintptr_t)sorted[i - 1] + c->obj_size);
    free(sorted);
    assert_int_equal(kmem_cache_in_use(c), n);
    assert_int_equal(kmem_cache_check(c), OK);
    return n;
}

/* Small deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}
static size_t rng_below(size_t n)
{
    return (size_t)(rng_next() % n);
}
static void rng_seed(void)
{
    const char *env = getenv("MICA_TEST_SEED");
    rng_state = env != NULL ? strtoull(env, NULL, 0) : 0x736c6162ull;
    if (rng_state == 0)
        rng_state = 1;
    printf("# seed 0x%llx (set MICA_TEST_SEED to change)\n", (unsigned long long)rng_state);
}

/* ---------------------------------------------------------------- tests */

static void test_init_arguments(void **state)
{
    (void)state;
    struct test_source ts;
    struct slab_page_source src = make_source(&ts, 4);
    struct slab_page_source no_free = {source_alloc_page, NULL, &ts};
    struct kmem_cache c;
    assert_int_equal(kmem_cache_init(&c, "t", 0, 0, &src), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_init(&c, "t", SLAB_MAX_OBJ_SIZE + 1, 0, &src), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_init(&c, "t", 64, 3, &src), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_init(&c, "t", 64, 2 * SLAB_MAX_ALIGN, &src), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_init(&c, "t", 64, 0, NULL), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_init(&c, "t", 64, 0, &no_free), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_init(&c, "t", SLAB_MAX_OBJ_SIZE, SLAB_MAX_ALIGN, &src), OK);
    assert_true(kmem_cache_objs_per_slab(&c) >= 3);
    assert_int_equal(kmem_cache_in_use(&c), 0);
    assert_int_equal(kmem_cache_slab_count(&c), 0);
    assert_int_equal(kmem_cache_check(&c), OK);
    assert_int_equal(kmem_cache_destroy(&c), OK);
    assert_int_equal(ts.allocs, 0);
}

/* Exhaust the page source, free everything, and get every page back. */
static void test_exhaust_and_return_pages(void **state)
{
    (void)state;
    rng_seed();
    struct test_source ts;
    struct slab_page_source src = make_source(&ts, 5);
    struct kmem_cache c;
    assert_int_equal(kmem_cache_init(&c, "exhaust", 48, 0, &src), OK);
    void *objs[8 * PAGE_SIZE / 8];
    size_t n = alloc_until_empty(&c, &ts, SLAB_DEFAULT_ALIGN, objs, ARRAY_SIZE(objs));
    assert_int_equal(n, 5 * kmem_cache_objs_per_slab(&c));
    assert_int_equal(kmem_cache_slab_count(&c), 5);
    assert_int_equal(ts.outstanding, 5);
    assert_null(kmem_cache_alloc(&c)); /* still exhausted, and no harm done */
    assert_int_equal(kmem_cache_check(&c), OK);

    while (n > 0) {
        size_t i = rng_below(n);
        assert_int_equal(kmem_cache_free(&c, objs[i]), OK);
        objs[i] = objs[--n];
        assert_int_equal(kmem_cache_in_use(&c), n);
        assert_true(kmem_cache_slab_count(&c) == ts.outstanding);
    }
    assert_int_equal(kmem_cache_check(&c), OK);
    assert_int_equal(ts.outstanding, 1); /* one empty slab stays cached */
    assert_int_equal(kmem_cache_shrink(&c), 1);
    assert_int_equal(kmem_cache_shrink(&c), 0);
    assert_int_equal(ts.outstanding, 0);
    assert_int_equal(kmem_cache_slab_count(&c), 0);
    assert_int_equal(kmem_cache_check(&c), OK);
    assert_int_equal(kmem_cache_destroy(&c), OK);
}

static void test_sizes_and_alignments(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 7, 8, 24, 48, 100, 256, 1000, SLAB_MAX_OBJ_SIZE};
    static const size_t aligns[] = {0, 1, 8, 16, 64, 256, SLAB_MAX_ALIGN};
    void *objs[3 * PAGE_SIZE / 8];
    for (size_t si = 0; si < ARRAY_SIZE(sizes); si++) {
        for (size_t ai = 0; ai < ARRAY_SIZE(aligns); ai++) {
            struct test_source ts;
            struct slab_page_source src = make_source(&ts, 3);
            struct kmem_cache c;
            assert_int_equal(kmem_cache_init(&c, "sizes", sizes[si], aligns[ai], &src), OK);
            size_t align = aligns[ai] != 0 ? aligns[ai] : SLAB_DEFAULT_ALIGN;
            size_t n = alloc_until_empty(&c, &ts, align, objs, ARRAY_SIZE(objs));
            assert_int_equal(n, 3 * kmem_cache_objs_per_slab(&c));
            /* Every byte of every object was written 0xff: headers survived? */
            assert_int_equal(kmem_cache_check(&c), OK);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(kmem_cache_free(&c, objs[i]), OK);
            assert_int_equal(kmem_cache_destroy(&c), OK);
            assert_int_equal(ts.outstanding, 0);
        }
    }
}

static void test_objects_are_zeroed_on_reuse(void **state)
{
    (void)state;
    struct test_source ts;
    struct slab_page_source src = make_source(&ts, 1);
    struct kmem_cache c;
    assert_int_equal(kmem_cache_init(&c, "zero", 200, 0, &src), OK);
    void *objs[PAGE_SIZE / 200];
    size_t n = alloc_until_empty(&c, &ts, 8, objs, ARRAY_SIZE(objs)); /* fills with 0xff */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(kmem_cache_free(&c, objs[i]), OK);
    for (size_t i = 0; i < n; i++) {
        void *obj = kmem_cache_alloc(&c);
        assert_non_null(obj);
        assert_true(all_zero(obj, 200));
        objs[i] = obj;
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(kmem_cache_free(&c, objs[i]), OK);
    assert_int_equal(kmem_cache_destroy(&c), OK);
}

static void test_double_free_is_refused(void **state)
{
    (void)state;
    struct test_source ts;
    struct slab_page_source src = make_source(&ts, 4);
    struct kmem_cache c;
    assert_int_equal(kmem_cache_init(&c, "double", 64, 0, &src), OK);
    void *a = kmem_cache_alloc(&c), *b = kmem_cache_alloc(&c);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(kmem_cache_free(&c, a), OK);

    source_snapshot(&ts);
    assert_int_equal(kmem_cache_free(&c, a), ERR_BAD_STATE);
    source_assert_unchanged(&ts);
    assert_int_equal(kmem_cache_in_use(&c), 1);
    assert_int_equal(kmem_cache_check(&c), OK);

    /* Once the slab went back to the source, the pointer is simply foreign
     * (and must not be read: valgrind would flag it). */
    assert_int_equal(kmem_cache_free(&c, b), OK);
    assert_int_equal(kmem_cache_shrink(&c), 1);
    assert_int_equal(ts.outstanding, 0);
    assert_int_equal(kmem_cache_free(&c, b), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_check(&c), OK);
    assert_int_equal(kmem_cache_destroy(&c), OK);
}

static void test_foreign_pointers_are_refused(void **state)
{
    (void)state;
    struct test_source ts;
    struct slab_page_source src = make_source(&ts, 8);
    struct kmem_cache a, b;
    assert_int_equal(kmem_cache_init(&a, "a", 100, 0, &src), OK);
    assert_int_equal(kmem_cache_init(&b, "b", 100, 0, &src), OK);
    char *obj_a = kmem_cache_alloc(&a), *obj_b = kmem_cache_alloc(&b);
    assert_non_null(obj_a);
    assert_non_null(obj_b);
    char *page_a = (char *)((uintptr_t)obj_a & ~(uintptr_t)PAGE_MASK);
    size_t stride = a.stride;
    char *last = page_a + a.first_offset + (kmem_cache_objs_per_slab(&a) - 1) * stride;
    char *heap = malloc(256);
    char on_stack[16];
    assert_non_null(heap);

    source_snapshot(&ts);
    assert_int_equal(kmem_cache_free(&a, obj_b), ERR_INVALID_ARGS); /* other cache */
    assert_int_equal(kmem_cache_free(&b, obj_a), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_free(&a, obj_a + 1), ERR_INVALID_ARGS); /* interior */
    assert_int_equal(kmem_cache_free(&a, obj_a + stride / 2), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_free(&a, obj_a + stride - 1), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_free(&a, page_a), ERR_INVALID_ARGS);        /* the header */
    assert_int_equal(kmem_cache_free(&a, page_a + 8), ERR_INVALID_ARGS);    /* inside it */
    assert_int_equal(kmem_cache_free(&a, last + stride), ERR_INVALID_ARGS); /* past the end */
    assert_int_equal(kmem_cache_free(&a, page_a + PAGE_SIZE - 1), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_free(&a, page_a + PAGE_SIZE), ERR_INVALID_ARGS); /* next page */
    assert_int_equal(kmem_cache_free(&a, heap), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_free(&a, on_stack), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_free(&a, (void *)(uintptr_t)0x1000), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_free(&a, NULL), ERR_INVALID_ARGS);
    assert_int_equal(kmem_cache_free(&a, last), ERR_BAD_STATE); /* a real slot, never allocated */
    source_assert_unchanged(&ts);
    assert_int_equal(kmem_cache_in_use(&a), 1);
    assert_int_equal(kmem_cache_in_use(&b), 1);
    assert_int_equal(kmem_cache_check(&a), OK);
    assert_int_equal(kmem_cache_check(&b), OK);

    free(heap);
    assert_int_equal(kmem_cache_free(&a, obj_a), OK);
    assert_int_equal(kmem_cache_free(&b, obj_b), OK);
    assert_int_equal(kmem_cache_destroy(&a), OK);
    assert_int_equal(kmem_cache_destroy(&b), OK);
    assert_int_equal(ts.outstanding, 0);
}

/* At most one empty slab stays cached; it is reused before asking for pages. */
static void test_empty_slab_policy(void **state)
{
    (void)state;
    struct test_source ts;
    struct slab_page_source src = make_source(&ts, 8);
    struct kmem_cache c;
    assert_int_equal(kmem_cache_init(&c, "policy", 512, 0, &src), OK);
    size_t per_slab = kmem_cache_objs_per_slab(&c);
    void *objs[4 * PAGE_SIZE / 512];
    size_t n = 4 * per_slab;
    for (size_t i = 0; i < n; i++)
        assert_non_null(objs[i] = kmem_cache_alloc(&c));
    assert_int_equal(ts.outstanding, 4);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(kmem_cache_free(&c, objs[i]), OK);
    assert_int_equal(ts.outstanding, 1);
    assert_int_equal(kmem_cache_slab_count(&c), 1);
    size_t allocs_before = ts.allocs;
    assert_non_null(objs[0] = kmem_cache_alloc(&c));
    assert_int_equal(ts.allocs, allocs_before);              /* the cached slab was used */
    assert_int_equal(kmem_cache_shrink(&c), 0);              /* it is partial now, not empty */
    assert_int_equal(kmem_cache_destroy(&c), ERR_BAD_STATE); /* live object */
    assert_int_equal(kmem_cache_check(&c), OK);
    assert_int_equal(kmem_cache_free(&c, objs[0]), OK);
    assert_int_equal(kmem_cache_destroy(&c), OK);
    assert_int_equal(ts.outstanding, 0);
}

/* The checker itself must notice damage, or the other tests prove little. */
static void test_check_detects_corruption(void **state)
{
    (void)state;
    struct test_source ts;
    struct slab_page_source src = make_source(&ts, 2);
    struct kmem_cache c;
    assert_int_equal(kmem_cache_init(&c, "corrupt", 64, 0, &src), OK);
    char *obj = kmem_cache_alloc(&c), *other = kmem_cache_alloc(&c);
    assert_non_null(obj);
    assert_non_null(other);
    uint32_t *header = (uint32_t *)((uintptr_t)obj & ~(uintptr_t)PAGE_MASK);

    uint32_t saved = header[0]; /* the slab magic is the first word */
    header[0] ^= 1;
    assert_int_equal(kmem_cache_check(&c), ERR_BAD_STATE);
    assert_int_equal(kmem_cache_free(&c, obj), ERR_BAD_STATE);
    header[0] = saved;
    assert_int_equal(kmem_cache_check(&c), OK);

    c.in_use++;
    assert_int_equal(kmem_cache_check(&c), ERR_BAD_STATE);
    c.in_use--;
    c.nr_slabs++;
    assert_int_equal(kmem_cache_check(&c), ERR_BAD_STATE);
    c.nr_slabs--;
    assert_int_equal(kmem_cache_check(&c), OK);

    assert_int_equal(kmem_cache_free(&c, obj), OK);
    assert_int_equal(kmem_cache_free(&c, other), OK);
    assert_int_equal(kmem_cache_destroy(&c), OK);
}

struct live_object {
    struct kmem_cache *cache;
    unsigned char *p;
    unsigned char tag;
};

/* Two caches share one small source; random allocs, frees and bad frees. */
static void test_random_stress(void **state)
{
    (void)state;
    rng_seed();
    struct test_source ts;
    struct slab_page_source src = make_source(&ts, 12);
    struct kmem_cache caches[2];
    assert_int_equal(kmem_cache_init(&caches[0], "small", 24, 0, &src), OK);
    assert_int_equal(kmem_cache_init(&caches[1], "large", 700, 64, &src), OK);
    static struct live_object live[12 * PAGE_SIZE / 24];
    size_t nlive = 0;
    struct live_object freed = {NULL, NULL, 0};

    for (int op = 0; op < 8000; op++) {
        size_t r = rng_below(100);
        if (r < 55 || nlive == 0) {
            struct kmem_cache *c = &caches[rng_below(2)];
            unsigned char *p = kmem_cache_alloc(c);
            if (p == NULL) {
                assert_int_equal(ts.outstanding, ts.limit);
                continue;
            }
            assert_true(all_zero(p, c->obj_size));
            unsigned char tag = (unsigned char)(1 + rng_below(255));
            memset(p, tag, c->obj_size);
            live[nlive++] = (struct live_object){c, p, tag};
        } else if (r < 95) {
            size_t i = rng_below(nlive);
            struct live_object o = live[i];
            for (size_t k = 0; k < o.cache->obj_size; k++)
                assert_int_equal(o.p[k], o.tag); /* nobody overlapped it */
            assert_int_equal(kmem_cache_free(o.cache, o.p), OK);
            live[i] = live[--nlive];
            freed = o;
        } else {
            /* Refused frees: wrong cache, interior, and a stale pointer. */
            struct live_object o = live[rng_below(nlive)];
            struct kmem_cache *wrong = o.cache == &caches[0] ? &caches[1] : &caches[0];
            size_t in_use = kmem_cache_in_use(o.cache);
            assert_int_equal(kmem_cache_free(wrong, o.p), ERR_INVALID_ARGS);
            assert_int_equal(kmem_cache_free(o.cache, o.p + 1), ERR_INVALID_ARGS);
            bool reused = false;
            for (size_t i = 0; i < nlive; i++)
                reused |= live[i].p == freed.p;
            if (freed.p != NULL && !reused)
                assert_int_not_equal(kmem_cache_free(freed.cache, freed.p), OK);
            assert_int_equal(kmem_cache_in_use(o.cache), in_use);
        }
        if (op % 200 == 0) {
            assert_int_equal(kmem_cache_check(&caches[0]), OK);
            assert_int_equal(kmem_cache_check(&caches[1]), OK);
            assert_int_equal(kmem_cache_slab_count(&caches[0]) + kmem_cache_slab_count(&caches[1]),
                             ts.outstanding);
        }
    }
    size_t counted[2] = {0, 0};
    for (size_t i = 0; i < nlive; i++)
        counted[live[i].cache == &caches[1]]++;
    assert_int_equal(kmem_cache_in_use(&caches[0]), counted[0]);
    assert_int_equal(kmem_cache_in_use(&caches[1]), counted[1]);
    while (nlive > 0) {
        nlive--;
        assert_int_equal(kmem_cache_free(live[nlive].cache, live[nlive].p), OK);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(kmem_cache_in_use(&caches[i]), 0);
        assert_int_equal(kmem_cache_check(&caches[i]), OK);
        assert_int_equal(kmem_cache_destroy(&caches[i]), OK);
    }
    assert_int_equal(ts.outstanding, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_arguments),
        cmocka_unit_test(test_exhaust_and_return_pages),
        cmocka_unit_test(test_sizes_and_alignments),
        cmocka_unit_test(test_objects_are_zeroed_on_reuse),
        cmocka_unit_test(test_double_free_is_refused),
        cmocka_unit_test(test_foreign_pointers_are_refused),
        cmocka_unit_test(test_empty_slab_policy),
        cmocka_unit_test(test_check_detects_corruption),
        cmocka_unit_test(test_random_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
