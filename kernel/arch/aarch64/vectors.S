/*
 * The exception vector table: 16 entries (current EL with SP_EL0 / SP_ELx,
 * lower EL AArch64 / AArch32; each sync, IRQ, FIQ, SError). Every entry
 * saves a struct trap_frame (include/mica/cpu.h) on the kernel stack and
 * calls C, which may edit the frame (ELR, SPSR, registers) before we
 * restore it and return:
 *   - an svc from EL0 goes to el0_svc (ipc_fast.c), every other exception
 *     from EL0 to el0_trap (el0.c). Both return the frame to return
 *     through: ours, or, when the IPC fast path switched threads, the next
 *     thread's, at the top of its otherwise empty kernel stack; we move
 *     there (and let ipc_fast_entered finish if the thread has work).
 *   - exceptions taken at EL1 go to trap_dispatch (trap.c).
 * The EL0 paths save and restore only what an EL0 frame needs, and hold
 * no frame record: the system call path is the hottest code in the kernel.
 */
#define FRAME_SIZE 288
#define OFF_SP 248
#define OFF_ELR 256
#define OFF_SPSR 264
#define OFF_ESR 272
#define OFF_FAR 280

.macro ventry kind, common
    .balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       \common
.endm

/* x2..x30 into the frame at sp (x0 and x1 are already there). */
.macro save_x2_x30
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
.endm

/* ELR, SPSR, ESR and FAR into the frame at sp, through the four scratch
 * registers named (ESR is left in \esr). */
.macro save_exception_state elr, spsr, esr, far
    mrs     \elr, elr_el1
    mrs     \spsr, spsr_el1
    stp     \elr, \spsr, [sp, #OFF_ELR]
    mrs     \esr, esr_el1
    mrs     \far, far_el1
    stp     \esr, \far, [sp, #OFF_ESR]
.endm

/* The rest of an EL0 frame: SP_EL0, then save_exception_state; leaves ESR
 * in x3. A zero frame pointer ends kernel backtraces at the exception. */
.macro save_el0_state
    mrs     x4, sp_el0
    str     x4, [sp, #OFF_SP]
    save_exception_state x1, x2, x3, x4
    mov     x29, xzr
.endm

    .section .text.vectors, "ax"
    .balign 2048
    .global exception_vectors
exception_vectors:
    ventry 0, trap_common
    ventry 1, trap_common
    ventry 2, trap_common
    ventry 3, trap_common
    ventry 4, trap_common
    ventry 5, trap_common
    ventry 6, trap_common
    ventry 7, trap_common
    ventry 8, el0_sync_common
    ventry 9, el0_common
    ventry 10, el0_common
    ventry 11, el0_common
    ventry 12, el0_common
    ventry 13, el0_common
    ventry 14, el0_common
    ventry 15, el0_common

/* Synchronous exceptions from EL0 (x0 = 8): an svc goes straight to
 * el0_svc (ipc_fast.c), anything else to el0_trap. */
el0_sync_common:
    save_x2_x30
    save_el0_state
    lsr     x3, x3, #26             /* ESR.EC */
    cmp     x3, #0x15               /* SVC from AArch64 */
    b.ne    1f
    mov     x0, sp
    bl      el0_svc
    b       el0_leave
1:  mov     x1, sp
    bl      el0_trap
    b       el0_leave

/* IRQ, FIQ and SError from EL0, and everything from AArch32. */
el0_common:
    save_x2_x30
    save_el0_state
    mov     x1, sp
    bl      el0_trap

/* x0 is the frame to return through: ours, or, after an IPC fast-path
 * switch, the next thread's at the top of its kernel stack, with bit 0 set
 * if that thread has something to do before it returns (ipc_fast_entered
 * does it there). */
el0_leave:
    tbnz    x0, #0, 2f
    mov     sp, x0
    b       el0_restore
2:  and     x0, x0, #~1
    mov     sp, x0
    bl      ipc_fast_entered
    b       el0_restore

/* Exceptions taken at EL1 (x0 = kind 0..7). */
trap_common:
    save_x2_x30
    add     x1, sp, #FRAME_SIZE     /* the interrupted SP */
    str     x1, [sp, #OFF_SP]
    save_exception_state x1, x2, x3, x4
    mov     x1, sp
    /* A frame record so backtraces walk through the exception. */
    ldr     x2, [sp, #OFF_ELR]
    stp     x29, x2, [sp, #-16]!
    mov     x29, sp
    bl      trap_dispatch
    add     sp, sp, #16
    b       trap_restore

/* Return from an exception taken at EL1: sp points at its frame. */
trap_restore:
    ldp     x1, x2, [sp, #OFF_ELR]
    msr     elr_el1, x1
    msr     spsr_el1, x2
    b       restore_x0_x30

/* Return to EL0 through the frame at sp (also a new thread's first entry,
 * and a fast-blocked thread's resumption: switch.S). */
    .global el0_restore
el0_restore:
    ldp     x1, x2, [sp, #OFF_ELR]
    ldr     x3, [sp, #OFF_SP]
    msr     elr_el1, x1
    msr     spsr_el1, x2
    msr     sp_el0, x3
restore_x0_x30:
    ldp     x0, x1, [sp, #0]
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
