/*
 * Memory probes for self-tests that fault on purpose. Each arms nothing by
 * itself: the caller arms this_cpu()->recovery with the matching *_fault
 * label (see fault_probe_* in arch/aarch64/trap.c); if the access faults the
 * trap handler resumes there and the probe returns -1 instead of 0.
 */
    .text
    .global probe_read64, probe_read64_fault
probe_read64:                   /* int probe_read64(addr, uint64_t *out) */
    ldr     x2, [x0]
    str     x2, [x1]
    mov     x0, #0
    ret
probe_read64_fault:
    mov     x0, #-1
    ret

    .global probe_write64, probe_write64_fault
probe_write64:                  /* int probe_write64(addr, value) */
    str     x1, [x0]
    mov     x0, #0
    ret
probe_write64_fault:
    mov     x0, #-1
    ret

    .global probe_exec, probe_exec_fault
probe_exec:                     /* int probe_exec(addr): call addr() */
    stp     x29, x30, [sp, #-16]!
    mov     x29, sp
    blr     x0
    mov     x0, #0
    ldp     x29, x30, [sp], #16
    ret
probe_exec_fault:
    mov     x0, #-1
    ldp     x29, x30, [sp], #16
    ret
