/*
 * Translation-table walker: builds kernel mappings in a 4-level table.
 *
 * Called by boot/early_mmu.c with the MMU off (so it must use only
 * PC-relative addressing: no pointers stored in initialised data) and later
 * by kernel/arch/aarch64/mmu.c for the linear map and MMIO windows. Callers
 * serialise on the kernel map lock (mmu.c); the walker itself takes none.
 *
 * Only invalid -> valid changes are made here, which need no TLB
 * invalidation (a dsb + isb makes the new entries visible to the walker).
 */
#include <arch/mmu.h>
#include <mica/page_alloc.h>
#include <mica/status.h>

extern struct page_alloc kernel_page_alloc;

static uint64_t *table_at(struct pgtable_ctx *ctx, paddr_t pa)
{
    return (uint64_t *)(uintptr_t)(pa + ctx->table_va_offset);
}

static int new_table(struct pgtable_ctx *ctx, paddr_t *out)
{
    paddr_t pa;
    if (ctx->pool_used < ctx->pool_size) {
        pa = ctx->pool_pa + ctx->pool_used * PAGE_SIZE;
        ctx->pool_used++;
    } else if (ctx->use_page_alloc) {
        if (page_alloc_pages(&kernel_page_alloc, 1, &pa) != OK)
            return ERR_NO_MEMORY;
    } else {
        return ERR_NO_MEMORY;
    }
    uint64_t *t = table_at(ctx, pa);
    for (int i = 0; i < 512; i++)
        t[i] = 0;
    /* The zeroes must be visible to the table walker before the table is
     * linked in (a recycled page may hold old descriptors). */
    __asm__ volatile("dsb ishst" ::: "memory");
    *out = pa;
    return OK;
}

static unsigned level_shift(int level)
{
    return 39 - 9 * (unsigned)level;
}

int pgtable_map(struct pgtable_ctx *ctx, paddr_t root_pa, vaddr_t va, paddr_t pa, size_t size,
                uint64_t prot, bool pages_only)
{
    if (!IS_ALIGNED(va | pa | size, PAGE_SIZE))
        return ERR_INVALID_ARGS;
    if (pa > PTE_ADDR_MASK || size > PTE_ADDR_MASK + 1 - pa)
        return ERR_OUT_OF_RANGE; /* beyond what a descriptor can hold */
    while (size > 0) {
        uint64_t *table = table_at(ctx, root_pa);
        for (int level = 0;; level++) {
            unsigned shift = level_shift(level);
            uint64_t block = 1UL << shift;
            uint64_t *entry = &table[(va >> shift) & 511];
            bool block_ok = level == 3 || (!pages_only && level >= 1 &&
                                           IS_ALIGNED(va | pa, block) && size >= block);
            if (block_ok) {
                uint64_t desc =
                    (pa & PTE_ADDR_MASK) | prot | PTE_VALID | (level == 3 ? PTE_PAGE : 0);
                if (*entry != 0 && *entry != desc)
                    return ERR_BAD_STATE;
                *entry = desc;
                va += block;
                pa += block;
                size -= block;
                break;
            }
            if (*entry == 0) {
                paddr_t next;
                int err = new_table(ctx, &next);
                if (err != OK)
                    return err;
                *entry = next | PTE_VALID | PTE_TABLE;
            } else if ((*entry & 3) != 3) {
                return ERR_BAD_STATE; /* a block is in the way */
            }
            table = table_at(ctx, *entry & PTE_ADDR_MASK);
        }
    }
    __asm__ volatile("dsb ishst\n isb" ::: "memory");
    return OK;
}

uint64_t pgtable_lookup(struct pgtable_ctx *ctx, paddr_t root_pa, vaddr_t va, int *level)
{
    uint64_t *table = table_at(ctx, root_pa);
    for (int l = 0; l <= 3; l++) {
        uint64_t entry = table[(va >> level_shift(l)) & 511];
        if (!(entry & PTE_VALID))
            return 0;
        if (l == 3 || (entry & 3) == 1) {
            if (level)
                *level = l;
            return entry;
        }
        table = table_at(ctx, entry & PTE_ADDR_MASK);
    }
    return 0;
}
