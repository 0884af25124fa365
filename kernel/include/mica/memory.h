/*
 * Physical memory as the kernel sees it after boot: the page allocator over
 * all usable RAM, the reservations carved out of it, and the slab page
 * source for kernel object caches. kernel/mm/memory.c.
 */
#ifndef MICA_MEMORY_H
#define MICA_MEMORY_H

#include <mica/page_alloc.h>
#include <mica/platform.h>
#include <mica/slab.h>

extern struct page_alloc kernel_page_alloc;
extern const struct slab_page_source kernel_slab_pages;

/* A range kept out of the allocator, with the reason, for the banner. */
struct reservation {
    paddr_t base;
    uint64_t size;
    const char *what;
};

/* Set up the page allocator over the platform's RAM, excluding the kernel
 * image, the DTB, firmware/boot reservations and the allocator's own
 * metadata. Called once by kernel_main(). Panics with a reason if RAM as
 * described cannot hold the kernel. */
void memory_init(const struct platform_info *plat, paddr_t dtb_pa, size_t dtb_size);
/* Keep [base, base+size) out of the allocator; before memory_init only. */
void memory_add_reservation(paddr_t base, uint64_t size, const char *what);
void memory_print_map(void);

#endif
