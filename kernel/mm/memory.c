/*
 * Boot-time memory setup: turns the platform's RAM ranges and reservations
 * into a running page allocator. kernel_main() calls memory_init() once the
 * linear map exists; from then on every kernel page comes from
 * kernel_page_alloc, directly or through a slab cache.
 *
 * The allocator's metadata (a descriptor per page) needs memory before the
 * allocator exists, so we place it in the first RAM gap that no reservation
 * touches, then reserve it like everything else.
 */
#include <board.h>
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/printk.h>
#include <mica/status.h>
#include <mica/vm.h>

struct page_alloc kernel_page_alloc;

#define MAX_RESERVATIONS (PLATFORM_MAX_RANGES + 8)
/* Written only during memory_init() on the boot CPU. */
static struct reservation reservations[MAX_RESERVATIONS];
static unsigned n_reservations;
static const struct platform_info *mem_platform;

void memory_add_reservation(paddr_t base, uint64_t size, const char *what)
{
    if (size == 0)
        return;
    if (n_reservations == MAX_RESERVATIONS)
        panic("memory: more than %d reservations", MAX_RESERVATIONS);
    paddr_t start = ALIGN_DOWN(base, PAGE_SIZE);
    reservations[n_reservations++] =
        (struct reservation){start, ALIGN_UP(base + size, PAGE_SIZE) - start, what};
}

static bool overlaps_reservation(paddr_t base, uint64_t size)
{
    for (unsigned i = 0; i < n_reservations; i++) {
        const struct reservation *r = &reservations[i];
        if (base < r->base + r->size && r->base < base + size)
            return true;
    }
    return false;
}

/* First page-aligned spot of `size` bytes inside RAM that overlaps no
 * reservation: try each range's start and the end of each reservation. */
static paddr_t find_free_region(const struct platform_info *plat, uint64_t size)
{
    for (unsigned m = 0; m < plat->n_memory; m++) {
        paddr_t lo = ALIGN_UP(plat->memory[m].base, PAGE_SIZE);
        paddr_t hi = ALIGN_DOWN(plat->memory[m].base + plat->memory[m].size, PAGE_SIZE);
        for (unsigned c = 0; c <= n_reservations; c++) {
            paddr_t cand = c == 0 ? lo : reservations[c - 1].base + reservations[c - 1].size;
            if (cand < lo || cand + size > hi)
                continue;
            if (!overlaps_reservation(cand, size))
                return cand;
        }
    }
    panic("memory: no room for %lu bytes of page allocator metadata", size);
}

static void *slab_alloc_page(void *ctx)
{
    paddr_t pa;
    if (page_alloc_pages(ctx, 1, &pa) != OK)
        return NULL;
    return phys_to_virt(pa);
}

static void slab_free_page(void *ctx, void *page)
{
    int err = page_free_pages(ctx, virt_to_phys(page), 1);
    if (err != OK)
        panic("slab returned page %p the allocator refused: %s", page, status_name(err));
}

const struct slab_page_source kernel_slab_pages = {slab_alloc_page, slab_free_page,
                                                   &kernel_page_alloc};

void memory_init(const struct platform_info *plat, paddr_t dtb_pa, size_t dtb_size)
{
    struct kimage_layout img;
    kimage_layout(&img);
    mem_platform = plat;
    memory_add_reservation(img.pa_start, img.pa_end - img.pa_start, "kernel image");
    if (dtb_size)
        memory_add_reservation(dtb_pa, dtb_size, "device tree");
    for (unsigned i = 0; i < plat->n_reserved; i++)
        memory_add_reservation(plat->reserved[i].base, plat->reserved[i].size, "firmware reserved");
#ifdef BOARD_RESERVED_LOW
    memory_add_reservation(0, BOARD_RESERVED_LOW, "spin table / firmware stub");
#endif

    paddr_t lo = ~0UL, hi = 0;
    for (unsigned i = 0; i < plat->n_memory; i++) {
        lo = MIN(lo, ALIGN_DOWN(plat->memory[i].base, PAGE_SIZE));
        hi = MAX(hi, ALIGN_UP(plat->memory[i].base + plat->memory[i].size, PAGE_SIZE));
    }
    size_t npages = (hi - lo) / PAGE_SIZE;
    size_t meta_size = ALIGN_UP(page_alloc_metadata_size(npages), PAGE_SIZE);
    paddr_t meta = find_free_region(plat, meta_size);
    memory_add_reservation(meta, meta_size, "page descriptors");

    int err = page_alloc_init(&kernel_page_alloc, lo, npages, phys_to_virt(meta), meta_size);
    for (unsigned i = 0; !err && i < plat->n_memory; i++) {
        paddr_t start = ALIGN_UP(plat->memory[i].base, PAGE_SIZE);
        paddr_t end = ALIGN_DOWN(plat->memory[i].base + plat->memory[i].size, PAGE_SIZE);
        if (end > start)
            err = page_alloc_add_free(&kernel_page_alloc, start, (end - start) / PAGE_SIZE);
    }
    for (unsigned i = 0; !err && i < n_reservations; i++) {
        /* Clip to RAM: firmware may reserve ranges outside it. */
        paddr_t start = MAX(reservations[i].base, lo);
        paddr_t end = MIN(reservations[i].base + reservations[i].size, hi);
        if (end > start)
            err = page_alloc_reserve(&kernel_page_alloc, start, (end - start) / PAGE_SIZE);
    }
    if (err)
        panic("memory: page allocator setup failed: %s", status_name(err));
}

void memory_print_map(void)
{
    const struct platform_info *plat = mem_platform;
    for (unsigned i = 0; i < plat->n_memory; i++)
        printk("  RAM       %012lx-%012lx (%lu MiB)\n", plat->memory[i].base,
               plat->memory[i].base + plat->memory[i].size - 1, plat->memory[i].size >> 20);
    for (unsigned i = 0; i < n_reservations; i++)
        printk("  reserved  %012lx-%012lx %s\n", reservations[i].base,
               reservations[i].base + reservations[i].size - 1, reservations[i].what);
    size_t free_pages = page_alloc_free_count(&kernel_page_alloc);
    printk("  free      %lu pages (%lu MiB) of %lu\n", free_pages, free_pages >> 8,
           page_alloc_total_count(&kernel_page_alloc));
}
