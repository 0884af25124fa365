/*
 * First instructions of the kernel, on every core that enters the image.
 *
 * The image starts with an arm64 Linux "Image" header so that QEMU -kernel,
 * U-Boot booti and the Raspberry Pi firmware load it at a 2 MiB base +
 * text_offset and pass the device tree's physical address in x0.
 *
 * Until the MMU is on this code runs at whatever physical address it was
 * loaded at, so it only uses PC-relative addressing (adr/adrp). Steps:
 *   1. secondary cores park (wfe loop) - they are brought up later, never
 *      allowed to run kernel code on their own;
 *   2. drop from EL3 or EL2 to EL1 (configuring what EL1 needs from the
 *      level above: AArch64 EL1, timer access, GICv3 system registers);
 *   3. clear .bss, build the early page tables (boot/early_mmu.c, in C);
 *   4. enable the MMU and caches and jump to the linked higher-half address;
 *   5. call kernel_main(dtb_pa, entry_el, load_pa).
 */
#include <mica/memlayout.h>

#define SCTLR_EL1_RES1  0x30D00800
#define SCTLR_M         (1 << 0)
#define SCTLR_C         (1 << 2)
#define SCTLR_SA        (1 << 3)
#define SCTLR_I         (1 << 12)
#define SCTLR_WXN       (1 << 19)

    .section .text.boot, "ax"
    .global _start
_start:
    /* arm64 Image header (64 bytes) */
    b       primary_entry           /* code0 */
    .word   0                       /* code1 */
    .quad   KIMAGE_TEXT_OFFSET      /* text_offset */
    .quad   _kernel_size            /* image_size, .bss included */
    .quad   0xA                     /* flags: LE, 4K pages, place anywhere */
    .quad   0, 0, 0                 /* reserved */
    .ascii  "ARM\x64"               /* magic */
    .word   0                       /* PE header offset: none */

primary_entry:
    mov     x19, x0                 /* device tree physical address */
    mrs     x20, CurrentEL
    ubfx    x20, x20, #2, #2        /* entry exception level */
    adr     x21, _start             /* physical load address */

    mrs     x1, mpidr_el1
    mov     x2, #0xFFFFFF
    and     x1, x1, x2              /* Aff2..Aff0 */
    cbnz    x1, secondary_park

    cmp     x20, #3
    b.eq    from_el3
    cmp     x20, #2
    b.eq    from_el2
    b       at_el1

from_el3:
    /* Lower levels are non-secure AArch64; HVC allowed; FP not trapped. */
    mov     x0, #0x531              /* NS | RES1(4,5) | HCE | RW */
    msr     scr_el3, x0
    msr     cptr_el3, xzr
    mrs     x0, id_aa64pfr0_el1
    ubfx    x0, x0, #24, #4         /* GIC system register interface? */
    cbz     x0, 1f
    mrs     x0, S3_6_C12_C12_5      /* ICC_SRE_EL3 */
    orr     x0, x0, #0xF            /* SRE | DFB | DIB | Enable */
    msr     S3_6_C12_C12_5, x0
    isb
1:  mrs     x0, id_aa64pfr0_el1
    ubfx    x0, x0, #8, #4          /* EL2 implemented? */
    cbz     x0, 2f
    bl      setup_el2_for_el1
2:  mov     x0, #0x3C5              /* EL1h, DAIF masked */
    msr     spsr_el3, x0
    adr     x0, at_el1
    msr     elr_el3, x0
    eret

from_el2:
    bl      setup_el2_for_el1
    mov     x0, #0x3C5
    msr     spsr_el2, x0
    adr     x0, at_el1
    msr     elr_el2, x0
    eret

/* dc ivac over .bss, by the smallest D-cache line size (CTR_EL0.DminLine).
 * Clobbers x0-x3; touches no stack (the stack is in .bss). */
invalidate_bss:
    mrs     x2, ctr_el0
    ubfx    x2, x2, #16, #4
    mov     x3, #4
    lsl     x3, x3, x2              /* line size in bytes */
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  dc      ivac, x0
    add     x0, x0, x3
    cmp     x0, x1
    b.lo    1b
    dsb     sy
    ret

/* Configure EL2 so that EL1 runs AArch64 with timer, FP and GIC access. */
setup_el2_for_el1:
    mov     x0, #(1 << 31)          /* HCR_EL2.RW: EL1 is AArch64 */
    msr     hcr_el2, x0
    mrs     x0, cnthctl_el2
    orr     x0, x0, #3              /* EL1PCTEN | EL1PCEN */
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr
    mov     x0, #0x33FF             /* CPTR_EL2: RES1 bits, no FP trap */
    msr     cptr_el2, x0
    msr     hstr_el2, xzr
    mrs     x0, id_aa64pfr0_el1
    ubfx    x0, x0, #24, #4
    cbz     x0, 1f
    mrs     x0, S3_4_C12_C9_5       /* ICC_SRE_EL2 */
    orr     x0, x0, #0xF            /* SRE | DFB | DIB | Enable (EL1 use) */
    msr     S3_4_C12_C9_5, x0
    isb
1:  msr     vttbr_el2, xzr
    mrs     x0, midr_el1            /* EL1 reads of MIDR/MPIDR see these */
    msr     vpidr_el2, x0
    mrs     x0, mpidr_el1
    msr     vmpidr_el2, x0
    ret

at_el1:
    msr     daifset, #0xF
    mov     x0, #(3 << 20)          /* CPACR_EL1.FPEN: libfdt may use SIMD */
    msr     cpacr_el1, x0
    ldr     x0, =SCTLR_EL1_RES1     /* MMU and caches off, known state */
    msr     sctlr_el1, x0
    isb

    adrp    x0, boot_stack_top
    add     x0, x0, :lo12:boot_stack_top
    mov     sp, x0

    /* Invalidate .bss before clearing it too: a dirty line a loader left
     * behind could otherwise be written back over our zeroes later. */
    bl      invalidate_bss
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  stp     xzr, xzr, [x0], #16
    cmp     x0, x1
    b.lo    1b

    mov     x0, x21
    bl      boot_build_early_tables

    /* Drop any stale cache lines over .bss (tables, stack): written with
     * the MMU and caches off, they must be read from memory later. */
    bl      invalidate_bss

    /* Memory attributes: 0 Device-nGnRnE, 1 Normal WB, 2 Device-nGnRE,
     * 3 Normal non-cacheable (see arch/mmu.h). */
    ldr     x0, =0x4404FF00
    msr     mair_el1, x0

    /* TCR: 48-bit VA both halves, 4K granules, WB WA inner shareable
     * walks, IPS from the CPU's PA range, 16-bit ASIDs. */
    ldr     x0, =((16 << 0) | (1 << 8) | (1 << 10) | (3 << 12) | (0 << 14) | \
                  (16 << 16) | (1 << 24) | (1 << 26) | (3 << 28) | (2 << 30) | (1 << 36))
    mrs     x1, id_aa64mmfr0_el1
    and     x1, x1, #7
    cmp     x1, #5
    b.ls    1f
    mov     x1, #5
1:  bfi     x0, x1, #32, #3
    msr     tcr_el1, x0

    adrp    x0, boot_ttbr0_pa
    ldr     x0, [x0, :lo12:boot_ttbr0_pa]
    msr     ttbr0_el1, x0
    adrp    x0, boot_ttbr1_pa
    ldr     x0, [x0, :lo12:boot_ttbr1_pa]
    msr     ttbr1_el1, x0
    isb
    tlbi    vmalle1
    ic      iallu
    dsb     nsh
    isb

    ldr     x0, =(SCTLR_EL1_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_I | SCTLR_WXN)
    msr     sctlr_el1, x0
    isb

    ldr     x0, =kernel_high_entry  /* linked (virtual) address */
    br      x0

kernel_high_entry:
    adrp    x0, boot_stack_top      /* PC is virtual now: so is this */
    add     x0, x0, :lo12:boot_stack_top
    mov     sp, x0
    adrp    x0, exception_vectors
    add     x0, x0, :lo12:exception_vectors
    msr     vbar_el1, x0
    isb
    mov     x29, xzr                /* end of the frame-pointer chain */
    mov     x30, xzr
    mov     x0, x19
    mov     x1, x20
    mov     x2, x21
    bl      kernel_main
1:  wfi
    b       1b

/*
 * Cores other than the boot core wait here with nothing to run: those that
 * enter the image themselves, and on raspi3b those the kernel moves here
 * from the firmware's spin table (board_park_secondaries), since QEMU
 * emulates the stub's WFE loop as a busy loop. WFI with interrupts masked
 * sleeps until an interrupt is pending; none is routed to these cores yet.
 * SMP bring-up (later) wakes them with an IPI and a fresh entry point.
 * Runs at whatever EL and with the MMU off: position independent.
 */
    .global secondary_park
secondary_park:
    msr     daifset, #0xF
1:  wfi
    b       1b

    .ltorg

    .section .bss.boot_stack, "aw", %nobits
    .balign 16
boot_stack:
    .space  BOOT_STACK_SIZE
    .global boot_stack_top
boot_stack_top:
