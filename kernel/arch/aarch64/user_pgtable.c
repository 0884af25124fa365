/*
 * User translation tables (TTBR0): 4 levels, 4 KiB pages only. Entries are
 * non-global (tagged with the address space's ASID), never executable at
 * EL1 (PXN), and executable at EL0 only with MICA_MAP_EXEC. Called by
 * kernel/aspace.c under the big kernel lock.
 */
#include <arch/mmu.h>
#include <mica/aspace.h>
#include <mica/memory.h>
#include <mica/status.h>
#include <mica/vm.h>
#include <string.h>

static uint64_t *table_va(paddr_t pa)
{
    return phys_to_virt(pa);
}

static unsigned index_at(vaddr_t va, int level)
{
    return (va >> (39 - 9 * level)) & 511;
}

/* The level-3 entry for va, creating tables on the way if `create`. */
static uint64_t *leaf_entry(struct aspace *as, vaddr_t va, bool create)
{
    uint64_t *table = table_va(as->root);
    for (int level = 0; level < 3; level++) {
        uint64_t *e = &table[index_at(va, level)];
        if (!(*e & PTE_VALID)) {
            paddr_t pa;
            if (!create || charge_add(&as->tables, 1) != OK)
                return NULL;
            if (page_alloc_pages(&kernel_page_alloc, 1, &pa) != OK) {
                process_uncharge(as->tables.payer, 1);
                as->tables.pages--;
                return NULL;
            }
            memset(table_va(pa), 0, PAGE_SIZE);
            __asm__ volatile("dsb ishst" ::: "memory");
            as->table_pages++;
            *e = pa | PTE_VALID | PTE_TABLE;
        }
        table = table_va(*e & PTE_ADDR_MASK);
    }
    return &table[index_at(va, 3)];
}

static void tlb_flush_page(struct aspace *as, vaddr_t va)
{
    uint64_t arg = ((uint64_t)as->asid << 48) | ((va >> 12) & 0xFFFFFFFFFFFUL);
    __asm__ volatile("dsb ishst\n tlbi vae1is, %0\n dsb ish\n isb" ::"r"(arg) : "memory");
}

int upt_map(struct aspace *as, vaddr_t va, paddr_t pa, uint32_t flags, bool device)
{
    uint64_t *e = leaf_entry(as, va, true);
    if (!e)
        return ERR_NO_MEMORY;
    uint64_t desc = (pa & PTE_ADDR_MASK) | PTE_VALID | PTE_PAGE | PTE_AF | PTE_NG | PTE_PXN;
    desc |= device ? PTE_ATTR(MAIR_IDX_DEVICE_nGnRE) : (PTE_ATTR(MAIR_IDX_NORMAL) | PTE_SH_INNER);
    desc |= (flags & MICA_MAP_WRITE) ? PTE_AP_RW_ALL : PTE_AP_RO_ALL;
    if (!(flags & MICA_MAP_EXEC))
        desc |= PTE_UXN;
    bool had = *e & PTE_VALID;
    *e = desc;
    if (had)
        tlb_flush_page(as, va); /* a permission change of a live entry */
    else
        __asm__ volatile("dsb ishst" ::: "memory");
    return OK;
}

void upt_unmap(struct aspace *as, vaddr_t va)
{
    uint64_t *e = leaf_entry(as, va, false);
    if (!e || !(*e & PTE_VALID))
        return;
    *e = 0;
    tlb_flush_page(as, va);
}

/* Every valid leaf of [va, end): removed, or with write_protect made
 * read-only (writable user pages become PTE_AP_RO_ALL). */
static void walk_range(struct aspace *as, vaddr_t va, vaddr_t end, bool write_protect)
{
    while (va < end) {
        uint64_t *table = table_va(as->root);
        int level = 0;
        for (; level < 3; level++) {
            uint64_t e = table[index_at(va, level)];
            if (!(e & PTE_VALID))
                break;
            table = table_va(e & PTE_ADDR_MASK);
        }
        /* The missing entry (or, at level 3, the leaf table) covers span
         * bytes; go on at the next span. */
        vaddr_t span = 1UL << (39 - 9 * (level < 3 ? level : 2));
        vaddr_t next = (va & ~(span - 1)) + span;
        if (level == 3) {
            for (; va < end && va < next; va += PAGE_SIZE) {
                uint64_t *leaf = &table[index_at(va, 3)];
                if (!(*leaf & PTE_VALID))
                    continue;
                if (!write_protect) {
                    *leaf = 0;
                    tlb_flush_page(as, va);
                } else if ((*leaf & PTE_AP_RO_ALL) == PTE_AP_RW_ALL) {
                    *leaf |= PTE_AP_RO_ALL;
                    tlb_flush_page(as, va);
                }
            }
        }
        va = next; /* user addresses are below 2^48: no wrap */
    }
}

void upt_unmap_range(struct aspace *as, vaddr_t va, vaddr_t end)
{
    walk_range(as, va, end, false);
}

void upt_protect_range(struct aspace *as, vaddr_t va, vaddr_t end)
{
    walk_range(as, va, end, true);
}

void upt_flush_asid(struct aspace *as)
{
    uint64_t arg = (uint64_t)as->asid << 48;
    __asm__ volatile("dsb ishst\n tlbi aside1is, %0\n dsb ish\n isb" ::"r"(arg) : "memory");
}

static void free_level(paddr_t table, int level)
{
    uint64_t *t = table_va(table);
    if (level < 3)
        for (int i = 0; i < 512; i++)
            if (t[i] & PTE_VALID)
                free_level(t[i] & PTE_ADDR_MASK, level + 1);
    page_free_pages(&kernel_page_alloc, table, 1);
}

void upt_destroy(struct aspace *as)
{
    free_level(as->root, 0);
    as->root = 0;
}
