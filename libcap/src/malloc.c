/*
 * malloc over VMOs (see mica/malloc.h).
 *
 * Every block starts with a 16-byte header: its size class (0..7 for
 * 16..2048 bytes) or, for a large block, the number of pages and the VMO
 * handle, so free() knows where it came from. The small-block arena is one
 * 256 MiB VMO mapped once; pages are committed by the kernel only when
 * first touched, so an unused arena costs nothing.
 */
#include <mica/cap.h>
#include <mica/malloc.h>
#include <stdatomic.h>
#include <string.h>

#define ARENA_SIZE (256UL << 20)
#define CLASSES 8
#define HEADER 16
#define LARGE_MAGIC 0x4C41524745424C4BUL /* "LARGEBLK" */

struct header {
    uint64_t word0; /* class, or LARGE_MAGIC */
    uint32_t pages; /* large: pages mapped */
    uint32_t vmo;   /* large: its VMO handle */
};

struct free_block {
    struct free_block *next;
};

static atomic_flag heap_lock = ATOMIC_FLAG_INIT;
static uint8_t *arena, *arena_next, *arena_end;
static struct free_block *free_lists[CLASSES];

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&heap_lock, memory_order_acquire))
        mica_yield();
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&heap_lock, memory_order_release);
}

static int class_of(size_t size)
{
    size_t block = 16;
    for (int c = 0; c < CLASSES; c++, block <<= 1)
        if (size + HEADER <= block)
            return c;
    return -1;
}

static int arena_ready(void)
{
    if (arena)
        return 0;
    mica_handle_t vmo;
    uintptr_t va;
    if (!mica_bootinfo || mica_vmo_create(ARENA_SIZE, &vmo) != MICA_OK)
        return -1;
    int err = mica_aspace_map(mica_bootinfo->self_aspace, vmo, 0, ARENA_SIZE, 0,
                              MICA_MAP_READ | MICA_MAP_WRITE, &va);
    mica_handle_close(vmo); /* the mapping keeps it */
    if (err)
        return -1;
    arena = arena_next = (uint8_t *)va;
    arena_end = arena + ARENA_SIZE;
    return 0;
}

static void *small_alloc(int c)
{
    size_t block = (size_t)16 << c;
    struct header *h;
    if (free_lists[c]) {
        h = (struct header *)free_lists[c];
        free_lists[c] = free_lists[c]->next;
    } else {
        if (arena_ready() || (size_t)(arena_end - arena_next) < block)
            return NULL;
        h = (struct header *)arena_next;
        arena_next += block;
    }
    h->word0 = (uint64_t)c;
    return (uint8_t *)h + HEADER;
}

static void *large_alloc(size_t size)
{
    if (size > (1UL << 30) - HEADER)
        return NULL;
    size_t bytes = (size + HEADER + MICA_PAGE_SIZE - 1) & ~(MICA_PAGE_SIZE - 1);
    mica_handle_t vmo;
    uintptr_t va;
    if (!mica_bootinfo || mica_vmo_create(bytes, &vmo) != MICA_OK)
        return NULL;
    if (mica_aspace_map(mica_bootinfo->self_aspace, vmo, 0, bytes, 0,
                        MICA_MAP_READ | MICA_MAP_WRITE, &va) != MICA_OK) {
        mica_handle_close(vmo);
        return NULL;
    }
    struct header *h = (struct header *)va;
    h->word0 = LARGE_MAGIC;
    h->pages = (uint32_t)(bytes / MICA_PAGE_SIZE);
    h->vmo = vmo;
    return (uint8_t *)h + HEADER;
}

void *malloc(size_t size)
{
    if (size == 0)
        size = 1;
    int c = class_of(size);
    if (c < 0)
        return large_alloc(size);
    lock();
    void *p = small_alloc(c);
    unlock();
    return p;
}

void free(void *ptr)
{
    if (!ptr)
        return;
    struct header *h = (struct header *)((uint8_t *)ptr - HEADER);
    if (h->word0 == LARGE_MAGIC) {
        mica_handle_t vmo = h->vmo;
        size_t bytes = (size_t)h->pages * MICA_PAGE_SIZE;
        mica_aspace_unmap(mica_bootinfo->self_aspace, (uintptr_t)h, bytes);
        mica_handle_close(vmo);
        return;
    }
    int c = (int)h->word0;
    if (c < 0 || c >= CLASSES)
        return; /* not ours: ignore rather than corrupt the lists */
    lock();
    ((struct free_block *)h)->next = free_lists[c];
    free_lists[c] = (struct free_block *)h;
    unlock();
}

void *calloc(size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size)
        return NULL;
    void *p = malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

static size_t usable(void *ptr)
{
    struct header *h = (struct header *)((uint8_t *)ptr - HEADER);
    if (h->word0 == LARGE_MAGIC)
        return (size_t)h->pages * MICA_PAGE_SIZE - HEADER;
    return ((size_t)16 << h->word0) - HEADER;
}

void *realloc(void *ptr, size_t size)
{
    if (!ptr)
        return malloc(size);
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    size_t have = usable(ptr);
    if (size <= have)
        return ptr;
    void *p = malloc(size);
    if (p) {
        memcpy(p, ptr, have);
        free(ptr);
    }
    return p;
}
