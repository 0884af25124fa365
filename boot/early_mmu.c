/*
 * Early page tables, built by boot/entry.S with the MMU and caches off.
 *
 * This runs at the physical load address while the code is linked at
 * KIMAGE_VA, so everything here must be reached PC-relatively: only code and
 * .bss variables, no pointers in initialised data, no string tables.
 *
 * It builds:
 *   TTBR1  the kernel image at KIMAGE_VA with per-section permissions
 *          (text RX, rodata R, data/bss RW, all never executable by EL0),
 *          and the board's default console UART at DEVICE_BASE (Device).
 *   TTBR0  an identity map (read-only, executable) of the image's 2 MiB regions, used for the
 *          few instructions between turning the MMU on and jumping high.
 * Tables come from boot_tables[]; kernel/arch/aarch64/mmu.c keeps using the
 * same pool (boot_pgtable) for the linear map once the kernel runs.
 */
#include <arch/mmu.h>
#include <board.h>
#include <mica/memlayout.h>

#define BOOT_TABLES 48

uint64_t boot_tables[BOOT_TABLES][512] __attribute__((aligned(4096)));
struct pgtable_ctx boot_pgtable;
paddr_t boot_ttbr0_pa, boot_ttbr1_pa;
paddr_t boot_load_pa;
int boot_early_status; /* non-zero: early mapping failed (reported later) */

extern char _start_image[], __text_start[], __text_end[], __rodata_start[], __rodata_end[],
    __data_start[], _end[];

static paddr_t pa_of(const char *sym)
{
    return (paddr_t)(uintptr_t)sym;
}

static void map_image_part(const char *start, const char *end, uint64_t prot)
{
    paddr_t pa = pa_of(start);
    vaddr_t va = KIMAGE_VA + (pa - boot_load_pa);
    int err = pgtable_map(&boot_pgtable, boot_ttbr1_pa, va, pa, (size_t)(end - start), prot, true);
    if (err)
        boot_early_status = err;
}

void boot_build_early_tables(paddr_t load_pa)
{
    struct pgtable_ctx *ctx = &boot_pgtable;
    boot_load_pa = load_pa;
    ctx->pool_pa = pa_of((const char *)boot_tables);
    ctx->pool_size = BOOT_TABLES;
    ctx->pool_used = 2;
    ctx->table_va_offset = 0; /* MMU off: physical == virtual */
    ctx->use_page_alloc = false;
    boot_ttbr1_pa = ctx->pool_pa;
    boot_ttbr0_pa = ctx->pool_pa + PAGE_SIZE;

    map_image_part(__text_start, __text_end, PROT_KERNEL_RX);
    map_image_part(__rodata_start, __rodata_end, PROT_KERNEL_RO);
    map_image_part(__data_start, _end, PROT_KERNEL_RW);

    int err = pgtable_map(ctx, boot_ttbr1_pa, DEVICE_BASE, BOARD_EARLY_UART_PA, PAGE_SIZE,
                          PROT_DEVICE, true);
    if (err)
        boot_early_status = err;

    paddr_t id_start = ALIGN_DOWN(load_pa, 0x200000UL);
    paddr_t id_end = ALIGN_UP(pa_of(_end), 0x200000UL);
    err = pgtable_map(ctx, boot_ttbr0_pa, id_start, id_start, id_end - id_start, PROT_KERNEL_RX,
                      false);
    if (err)
        boot_early_status = err;
}
