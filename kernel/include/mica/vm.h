/*
 * The kernel's own address space (TTBR1): the linear map of RAM, MMIO
 * windows and the DTB window. arch/aarch64/mmu.c.
 */
#ifndef MICA_VM_H
#define MICA_VM_H

#include <mica/memlayout.h>
#include <mica/platform.h>

extern uint64_t kimage_voffset; /* kernel image: va - pa */

static inline void *phys_to_virt(paddr_t pa)
{
    return (void *)(uintptr_t)(PHYS_MAP_BASE + pa);
}
paddr_t virt_to_phys(const void *va);

/* Called once by kernel_main() on the boot CPU, in this order. */
void mmu_init(paddr_t load_pa);
int mmu_map_linear(const struct mem_range *ranges, unsigned n);
void mmu_use_page_alloc(void);

/* Map size bytes of MMIO at pa (Device-nGnRE, never executable); NULL if
 * the device window is full. */
volatile void *ioremap(paddr_t pa, size_t size);
/* Map the device tree blob at pa read-only; returns it and the number of
 * bytes mapped in *mapped (0 on failure). */
const void *dtb_map(paddr_t pa, size_t *mapped);
/* Where boot/early_mmu.c mapped the board's default UART. */
volatile void *early_uart_regs(void);
/* The leaf descriptor mapping va in the kernel tables (0: unmapped). */
uint64_t kernel_pte(vaddr_t va, int *level);

/* Kernel image layout, for the memory map and W^X checks. */
struct kimage_layout {
    paddr_t pa_start, pa_end; /* whole image including .bss */
    vaddr_t text, text_end, rodata, rodata_end, data, end;
};
void kimage_layout(struct kimage_layout *out);

#endif
