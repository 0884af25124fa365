/*
 * AArch64 stage-1 translation tables, 4 KiB granule, 4 levels (L0..L3),
 * 48-bit virtual addresses. The attribute indexes match MAIR_EL1 as set up
 * in boot/entry.S.
 */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <mica/types.h>

#define PTE_VALID (1UL << 0)
#define PTE_TABLE (1UL << 1) /* at L0..L2: next-level table */
#define PTE_PAGE (1UL << 1)  /* at L3: a page (bits[1:0] = 3) */
#define PTE_ATTR(i) ((uint64_t)(i) << 2)
#define PTE_AP_RW_EL1 (0UL << 6)
#define PTE_AP_RW_ALL (1UL << 6)
#define PTE_AP_RO_EL1 (2UL << 6)
#define PTE_AP_RO_ALL (3UL << 6)
#define PTE_SH_INNER (3UL << 8)
#define PTE_AF (1UL << 10)
#define PTE_NG (1UL << 11)
#define PTE_PXN (1UL << 53)
#define PTE_UXN (1UL << 54)
#define PTE_ADDR_MASK 0x0000FFFFFFFFF000UL

#define MAIR_IDX_DEVICE_nGnRnE 0
#define MAIR_IDX_NORMAL 1
#define MAIR_IDX_DEVICE_nGnRE 2
#define MAIR_IDX_NORMAL_NC 3

/* Mapping kinds used by the kernel (block/page type bits added by the walker). */
#define PROT_KERNEL_RX (PTE_ATTR(MAIR_IDX_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_AP_RO_EL1 | PTE_UXN)
#define PROT_KERNEL_RO                                                                             \
    (PTE_ATTR(MAIR_IDX_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_AP_RO_EL1 | PTE_UXN | PTE_PXN)
#define PROT_KERNEL_RW                                                                             \
    (PTE_ATTR(MAIR_IDX_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_AP_RW_EL1 | PTE_UXN | PTE_PXN)
#define PROT_KERNEL_RWX                                                                            \
    (PTE_ATTR(MAIR_IDX_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_AP_RW_EL1 | PTE_UXN)
#define PROT_DEVICE (PTE_ATTR(MAIR_IDX_DEVICE_nGnRE) | PTE_AF | PTE_AP_RW_EL1 | PTE_UXN | PTE_PXN)

/*
 * Where a table walker gets its table pages and how it reaches them.
 * Boot code runs before RAM is mapped, so tables come from a static pool in
 * .bss and are reached at (physical address + table_va_offset): 0 with the
 * MMU off, the kernel image offset once it is on, PHYS_MAP_BASE once the
 * linear map exists. Once the page allocator runs, it supplies new tables.
 */
struct pgtable_ctx {
    size_t pool_size; /* tables in the pool */
    size_t pool_used; /* tables handed out */
    paddr_t pool_pa;  /* physical address of pool[0] */
    uint64_t table_va_offset;
    bool use_page_alloc; /* pool exhausted: take tables from the allocator */
};

/* Map [va, va+size) to [pa, pa+size) with prot; uses 2 MiB / 1 GiB blocks
 * where alignment allows unless pages_only. Fails (ERR_BAD_STATE) rather than
 * silently replacing an existing different mapping. */
int pgtable_map(struct pgtable_ctx *ctx, paddr_t root_pa, vaddr_t va, paddr_t pa, size_t size,
                uint64_t prot, bool pages_only);

/* Look up the descriptor mapping va (for tests and fault decoding); returns
 * 0 when unmapped, else the leaf descriptor, and its level in *level. */
uint64_t pgtable_lookup(struct pgtable_ctx *ctx, paddr_t root_pa, vaddr_t va, int *level);

static inline void tlb_flush_all(void)
{
    __asm__ volatile("dsb ishst\n tlbi vmalle1is\n dsb ish\n isb" ::: "memory");
}

#endif
