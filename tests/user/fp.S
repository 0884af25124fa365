/* FP/SIMD helpers for ktest's context-switch test: fill v0-v31 from a seed
 * and check they still hold it. ktest itself is built without FP. */
    .arch_extension fp
    .arch_extension simd
    .text
    .global kt_fp_fill, kt_fp_check
kt_fp_fill:                     /* (seed) */
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    add     x1, x0, #\n
    fmov    d\n, x1
    mov     v\n\().d[1], x0
    .endr
    ret

kt_fp_check:                    /* (seed) -> 0 if every register is intact */
    mov     x3, #0
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    add     x1, x0, #\n
    fmov    x2, d\n
    cmp     x1, x2
    cinc    x3, x3, ne
    mov     x2, v\n\().d[1]
    cmp     x0, x2
    cinc    x3, x3, ne
    .endr
    mov     x0, x3
    ret

    .global kt_fp_fpcr
kt_fp_fpcr:                     /* () -> FPCR */
    mrs     x0, fpcr
    ret
