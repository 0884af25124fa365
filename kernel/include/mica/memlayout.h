/*
 * The kernel's virtual address layout (TTBR1, 48-bit VA, 4 KiB pages).
 * Shared by C and by the linker script (boot/kernel.lds, preprocessed), so keep it to
 * plain #defines.
 *
 *   PHYS_MAP_BASE   all RAM, linearly: va = PHYS_MAP_BASE + pa (RW, never
 *                   executable; the alias of kernel text/rodata is RO)
 *   DEVICE_BASE     MMIO windows handed out by ioremap(); the early console
 *                   occupies the first page
 *   FIXMAP_DTB      a 2 MiB window onto the device tree blob
 *   KIMAGE_VA       the kernel image: text RX, rodata R, data/bss RW
 *
 * TTBR0 holds user address spaces; in the kernel it walks nothing (EPD0).
 */
#ifndef MICA_MEMLAYOUT_H
#define MICA_MEMLAYOUT_H

#define PHYS_MAP_BASE 0xFFFF000000000000
#define PHYS_MAP_SIZE 0x0000008000000000 /* 512 GiB */
#define DEVICE_BASE 0xFFFFFE0000000000
#define DEVICE_SIZE 0x0000000040000000 /* 1 GiB of MMIO windows */
#define FIXMAP_DTB 0xFFFFFF0000000000
#define FIXMAP_DTB_SIZE 0x200000
#define KIMAGE_VA 0xFFFFFFFF80000000

/* Where loaders put the image relative to a 2 MiB aligned base. */
#define KIMAGE_TEXT_OFFSET 0x80000

#define BOOT_STACK_SIZE 0x4000

#endif
