/*
 * Kernel address space management after boot. boot/early_mmu.c left the
 * image and the early UART mapped in TTBR1 using tables from its static
 * pool; here we add the linear map of RAM (from the device tree), MMIO
 * windows (ioremap) and the DTB window, continuing from the same pool and
 * then from the page allocator.
 *
 * Locking: kmap_lock serialises every change to the kernel tables and the
 * ioremap cursor.
 */
#include <arch/mmu.h>
#include <board.h>
#include <mica/spinlock.h>
#include <mica/status.h>
#include <mica/vm.h>

extern struct pgtable_ctx boot_pgtable;
extern paddr_t boot_ttbr1_pa;
extern char _start_image[], __text_start[], __text_end[], __rodata_start[], __rodata_end[],
    __data_start[], _end[];

uint64_t kimage_voffset;
static struct spinlock kmap_lock = SPINLOCK_INIT("kmap");
static vaddr_t ioremap_next = DEVICE_BASE + PAGE_SIZE; /* page 0: early UART */

void kimage_layout(struct kimage_layout *out)
{
    out->text = (vaddr_t)__text_start;
    out->text_end = (vaddr_t)__text_end;
    out->rodata = (vaddr_t)__rodata_start;
    out->rodata_end = (vaddr_t)__rodata_end;
    out->data = (vaddr_t)__data_start;
    out->end = (vaddr_t)_end;
    out->pa_start = (vaddr_t)_start_image - kimage_voffset;
    out->pa_end = (vaddr_t)_end - kimage_voffset;
}

paddr_t virt_to_phys(const void *va)
{
    vaddr_t v = (vaddr_t)va;
    if (v >= PHYS_MAP_BASE && v < PHYS_MAP_BASE + PHYS_MAP_SIZE)
        return v - PHYS_MAP_BASE;
    return v - kimage_voffset;
}

void mmu_init(paddr_t load_pa)
{
    kimage_voffset = KIMAGE_VA - load_pa;
    boot_pgtable.table_va_offset = kimage_voffset;
    /* The identity map in TTBR0 was only for the jump to the higher half:
     * stop walking TTBR0 so that stray low addresses fault. */
    uint64_t tcr;
    __asm__ volatile("mrs %0, tcr_el1" : "=r"(tcr));
    tcr |= 1UL << 7; /* EPD0 */
    __asm__ volatile("msr tcr_el1, %0\n isb" ::"r"(tcr));
    tlb_flush_all();
}

volatile void *early_uart_regs(void)
{
    return (volatile void *)(DEVICE_BASE + BOARD_EARLY_UART_OFFSET);
}

static int map_kernel(vaddr_t va, paddr_t pa, size_t size, uint64_t prot, bool pages_only)
{
    irqflags_t flags = spin_lock_irqsave(&kmap_lock);
    int err = pgtable_map(&boot_pgtable, boot_ttbr1_pa, va, pa, size, prot, pages_only);
    spin_unlock_irqrestore(&kmap_lock, flags);
    return err;
}

static int map_linear_piece(paddr_t start, paddr_t end, uint64_t prot)
{
    if (start >= end)
        return OK;
    return map_kernel(PHYS_MAP_BASE + start, start, end - start, prot, false);
}

/* Map all RAM at PHYS_MAP_BASE. The alias of kernel text and rodata stays
 * read-only so the linear map cannot be used to patch the kernel. */
int mmu_map_linear(const struct mem_range *ranges, unsigned n)
{
    paddr_t ro_start = (vaddr_t)__text_start - kimage_voffset;
    paddr_t ro_end = (vaddr_t)__rodata_end - kimage_voffset;
    bool image_covered = false;
    for (unsigned i = 0; i < n; i++) {
        paddr_t start = ALIGN_UP(ranges[i].base, PAGE_SIZE);
        paddr_t end = ALIGN_DOWN(ranges[i].base + ranges[i].size, PAGE_SIZE);
        if (end > PHYS_MAP_SIZE)
            end = PHYS_MAP_SIZE;
        if (start >= end)
            continue;
        if (start <= ro_start && ro_end <= end)
            image_covered = true;
        int err = map_linear_piece(start, MIN(end, ro_start), PROT_KERNEL_RW);
        if (!err)
            err = map_linear_piece(MAX(start, ro_start), MIN(end, ro_end), PROT_KERNEL_RO);
        if (!err)
            err = map_linear_piece(MAX(start, ro_end), end, PROT_KERNEL_RW);
        if (err)
            return err;
    }
    if (!image_covered)
        return ERR_NOT_FOUND; /* the kernel is not in RAM as the DTB describes it */
    /* Every table page (the boot pool is inside the image) is now reachable
     * through the linear map. */
    boot_pgtable.table_va_offset = PHYS_MAP_BASE;
    return OK;
}

void mmu_use_page_alloc(void)
{
    boot_pgtable.use_page_alloc = true;
}

volatile void *ioremap(paddr_t pa, size_t size)
{
    paddr_t base = ALIGN_DOWN(pa, PAGE_SIZE);
    size_t len = ALIGN_UP(pa + size, PAGE_SIZE) - base;
    irqflags_t flags = spin_lock_irqsave(&kmap_lock);
    vaddr_t va = ioremap_next;
    if (len == 0 || va + len > DEVICE_BASE + DEVICE_SIZE ||
        pgtable_map(&boot_pgtable, boot_ttbr1_pa, va, base, len, PROT_DEVICE, true) != OK) {
        spin_unlock_irqrestore(&kmap_lock, flags);
        return NULL;
    }
    ioremap_next += len;
    spin_unlock_irqrestore(&kmap_lock, flags);
    return (volatile void *)(va + (pa - base));
}

const void *dtb_map(paddr_t pa, size_t *mapped)
{
    *mapped = 0;
    paddr_t base = ALIGN_DOWN(pa, PAGE_SIZE);
    size_t offset = pa - base;
    if (map_kernel(FIXMAP_DTB, base, PAGE_SIZE, PROT_KERNEL_RO, true) != OK)
        return NULL;
    const uint8_t *p = (const uint8_t *)(FIXMAP_DTB + offset);
    /* Big-endian totalsize at offset 4; map as much as it claims, up to
     * the window (dt_parse() rejects a blob that claims more). */
    size_t want = PAGE_SIZE - offset;
    if (offset + 8 <= PAGE_SIZE) {
        uint32_t total = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
        want = MIN((size_t)total, FIXMAP_DTB_SIZE - offset);
        want = MAX(want, PAGE_SIZE - offset);
    }
    size_t len = ALIGN_UP(offset + want, PAGE_SIZE);
    if (map_kernel(FIXMAP_DTB, base, len, PROT_KERNEL_RO, true) != OK)
        return NULL;
    *mapped = len - offset;
    return p;
}

uint64_t kernel_pte(vaddr_t va, int *level)
{
    irqflags_t flags = spin_lock_irqsave(&kmap_lock);
    uint64_t pte = pgtable_lookup(&boot_pgtable, boot_ttbr1_pa, va, level);
    spin_unlock_irqrestore(&kmap_lock, flags);
    return pte;
}
