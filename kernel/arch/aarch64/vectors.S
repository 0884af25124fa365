/*
 * The exception vector table: 16 entries (current EL with SP_EL0 / SP_ELx,
 * lower EL AArch64 / AArch32; each sync, IRQ, FIQ, SError). Every entry
 * saves a struct trap_frame (include/mica/cpu.h) on the kernel stack and
 * calls trap_dispatch(kind, frame) in arch/aarch64/trap.c, which may edit
 * the frame (ELR, SPSR, registers) before we restore it and return.
 * trap_dispatch returns the frame to return through: ours, or, when the
 * IPC fast path (ipc_fast.c) switched threads, the next thread's, at the
 * top of its otherwise empty kernel stack; we move there and let
 * ipc_fast_entered finish the way out.
 */
#define FRAME_SIZE 288
#define OFF_SP 248
#define OFF_ELR 256
#define OFF_SPSR 264
#define OFF_ESR 272
#define OFF_FAR 280

.macro ventry kind
    .balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       trap_common
.endm

    .section .text.vectors, "ax"
    .balign 2048
    .global exception_vectors
exception_vectors:
    ventry 0
    ventry 1
    ventry 2
    ventry 3
    ventry 4
    ventry 5
    ventry 6
    ventry 7
    ventry 8
    ventry 9
    ventry 10
    ventry 11
    ventry 12
    ventry 13
    ventry 14
    ventry 15

trap_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    str     x30, [sp, #240]
    cmp     x0, #8                  /* from a lower EL: its SP is SP_EL0 */
    b.lo    1f
    mrs     x1, sp_el0
    b       2f
1:  add     x1, sp, #FRAME_SIZE
2:  str     x1, [sp, #OFF_SP]
    mrs     x1, elr_el1
    mrs     x2, spsr_el1
    stp     x1, x2, [sp, #OFF_ELR]
    mrs     x1, esr_el1
    mrs     x2, far_el1
    stp     x1, x2, [sp, #OFF_ESR]
    mov     x1, sp
    /* A frame record so backtraces walk through the exception. */
    ldr     x2, [sp, #OFF_ELR]
    stp     x29, x2, [sp, #-16]!
    mov     x29, sp
    cmp     x0, #8                  /* from EL0: straight to el0_trap */
    b.lo    4f
    bl      el0_trap
    b       5f
4:  bl      trap_dispatch
5:  add     sp, sp, #16
    mov     x1, sp
    cmp     x0, x1
    b.eq    trap_restore
    mov     sp, x0
    bl      ipc_fast_entered

/* Return from an exception (or a new thread's first entry to EL0): sp
 * points at a struct trap_frame. */
    .global trap_restore
trap_restore:
    ldp     x1, x2, [sp, #OFF_ELR]
    msr     elr_el1, x1
    msr     spsr_el1, x2
    ldr     x1, [sp, #OFF_SP]
    ldr     x2, [sp, #OFF_SPSR]
    tst     x2, #0xF                /* returning to EL0: restore SP_EL0 */
    b.ne    3f
    msr     sp_el0, x1
3:  ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    add     sp, sp, #FRAME_SIZE
    eret
