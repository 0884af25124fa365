/*
 * Memory self-tests in the guest: the page allocator over real RAM (with
 * the pages' contents checked through the linear map), exhaustion and
 * recovery, double-free refusal, and a slab cache over real pages.
 */
#include <mica/memory.h>
#include <mica/selftest.h>
#include <mica/status.h>
#include <mica/vm.h>

static int test_page_alloc_basic(void)
{
    struct page_alloc *pa = &kernel_page_alloc;
    size_t baseline = page_alloc_free_count(pa);
    CHECK(baseline > 256);
    paddr_t one, run;
    CHECK_EQ(page_alloc_pages(pa, 1, &one), OK);
    CHECK_EQ(page_alloc_pages(pa, 16, &run), OK);
    CHECK(IS_ALIGNED(run, 16 * PAGE_SIZE));
    CHECK(one + PAGE_SIZE <= run || run + 16 * PAGE_SIZE <= one);
    /* The 16 pages are real, contiguous memory: fill and verify. */
    uint64_t *words = phys_to_virt(run);
    size_t n = 16 * PAGE_SIZE / 8;
    for (size_t i = 0; i < n; i++)
        words[i] = run + i * 8;
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(words[i], run + i * 8);
    CHECK_EQ(page_alloc_free_count(pa), baseline - 17);
    CHECK_EQ(page_free_pages(pa, run, 16), OK);
    CHECK_EQ(page_free_pages(pa, run, 16), ERR_BAD_STATE); /* double free */
    CHECK_EQ(page_free_pages(pa, one, 1), OK);
    CHECK_EQ(page_alloc_free_count(pa), baseline);
    CHECK_EQ(page_alloc_check(pa), OK);
    return 0;
}

static int test_page_alloc_reserved(void)
{
    struct page_alloc *pa = &kernel_page_alloc;
    struct kimage_layout img;
    kimage_layout(&img);
    size_t before = page_alloc_free_count(pa);
    /* The kernel image is reserved: freeing it must be refused. */
    CHECK(page_free_pages(pa, img.pa_start, 1) != OK);
    CHECK_EQ(page_alloc_free_count(pa), before);
    return 0;
}

/* Take every free page one at a time (chaining them through their own first
 * word), check the allocator says ERR_NO_MEMORY, then give all back. */
static int test_page_alloc_exhaust(void)
{
    struct page_alloc *pa = &kernel_page_alloc;
    struct kimage_layout img;
    kimage_layout(&img);
    size_t baseline = page_alloc_free_count(pa);
    paddr_t head = 0, page;
    bool have = false;
    size_t count = 0;
    while (page_alloc_pages(pa, 1, &page) == OK) {
        CHECK(page + PAGE_SIZE <= img.pa_start || page >= img.pa_end);
        *(uint64_t *)phys_to_virt(page) = have ? head : ~0UL;
        head = page;
        have = true;
        count++;
    }
    CHECK_EQ(count, baseline);
    CHECK_EQ(page_alloc_free_count(pa), 0);
    CHECK_EQ(page_alloc_pages(pa, 1, &page), ERR_NO_MEMORY);
    while (have) {
        paddr_t next = *(uint64_t *)phys_to_virt(head);
        CHECK_EQ(page_free_pages(pa, head, 1), OK);
        have = next != ~0UL;
        head = next;
    }
    CHECK_EQ(page_alloc_free_count(pa), baseline);
    CHECK_EQ(page_alloc_check(pa), OK);
    /* Coalesced again: a large contiguous block is available. */
    CHECK_EQ(page_alloc_pages(pa, 512, &page), OK);
    CHECK_EQ(page_free_pages(pa, page, 512), OK);
    return 0;
}

struct test_obj {
    uint64_t a, b;
    char name[40];
};

static int test_slab(void)
{
    static struct kmem_cache cache;
    static void *objs[600];
    size_t pages_before = page_alloc_free_count(&kernel_page_alloc);
    CHECK_EQ(kmem_cache_init(&cache, "selftest", sizeof(struct test_obj), 16, &kernel_slab_pages),
             OK);
    for (size_t i = 0; i < 600; i++) {
        struct test_obj *o = kmem_cache_alloc(&cache);
        CHECK(o != NULL);
        CHECK(IS_ALIGNED((uintptr_t)o, 16));
        CHECK_EQ(o->a | o->b, 0); /* zeroed */
        o->a = i;
        o->b = ~i;
        objs[i] = o;
    }
    CHECK_EQ(kmem_cache_in_use(&cache), 600);
    for (size_t i = 0; i < 600; i++) {
        struct test_obj *o = objs[i];
        CHECK_EQ(o->a, i);
        CHECK_EQ(o->b, ~i);
    }
    CHECK_EQ(kmem_cache_free(&cache, objs[7]), OK);
    CHECK_EQ(kmem_cache_free(&cache, objs[7]), ERR_BAD_STATE);                /* double free */
    CHECK_EQ(kmem_cache_free(&cache, (char *)objs[8] + 4), ERR_INVALID_ARGS); /* interior */
    for (size_t i = 0; i < 600; i++)
        if (i != 7)
            CHECK_EQ(kmem_cache_free(&cache, objs[i]), OK);
    CHECK_EQ(kmem_cache_in_use(&cache), 0);
    CHECK_EQ(kmem_cache_check(&cache), OK);
    kmem_cache_shrink(&cache);
    CHECK_EQ(page_alloc_free_count(&kernel_page_alloc), pages_before);
    return 0;
}

const struct selftest selftests_mm[] = {
    {"page_alloc_basic", test_page_alloc_basic},
    {"page_alloc_reserved", test_page_alloc_reserved},
    {"page_alloc_exhaust", test_page_alloc_exhaust},
    {"slab_cache", test_slab},
    {NULL, NULL},
};
