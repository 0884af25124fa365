/*
 * User copies with EL0 permissions (LDTR/STTR). When the two pointers
 * agree modulo 8: bytes up to alignment, then 32 bytes a turn, then 8,
 * then the tail by bytes; otherwise the kernel side is aligned and user
 * memory is accessed eight bytes at a time unaligned (Normal memory,
 * SCTLR_EL1.A clear). A fault inside
 * [usercopy_start, usercopy_end) is handled by trap.c: it first tries to
 * resolve it through the current address space (lazily mapped pages) and
 * otherwise resumes at usercopy_fault, which returns -1.
 */
    .text
    .global usercopy_start, usercopy_end, usercopy_fault
    .global arch_copy_from_user, arch_copy_to_user
usercopy_start:
arch_copy_from_user:            /* (dst, usrc, len) */
    eor     x4, x0, x1
    tst     x4, #7
    b.ne    6f                  /* never both aligned: see below */
0:  tst     x1, #7              /* bytes up to 8-byte alignment */
    b.eq    1f
    cbz     x2, 4f
    ldtrb   w3, [x1]
    strb    w3, [x0], #1
    add     x1, x1, #1
    sub     x2, x2, #1
    b       0b
1:  cmp     x2, #32             /* 32 bytes a turn */
    b.lo    2f
    ldtr    x3, [x1]
    ldtr    x4, [x1, #8]
    ldtr    x5, [x1, #16]
    ldtr    x6, [x1, #24]
    stp     x3, x4, [x0]
    stp     x5, x6, [x0, #16]
    add     x0, x0, #32
    add     x1, x1, #32
    sub     x2, x2, #32
    b       1b
2:  cmp     x2, #8
    b.lo    3f
    ldtr    x3, [x1]
    str     x3, [x0], #8
    add     x1, x1, #8
    sub     x2, x2, #8
    b       2b
3:  cbz     x2, 4f
5:  ldtrb   w3, [x1]
    strb    w3, [x0], #1
    add     x1, x1, #1
    subs    x2, x2, #1
    b.ne    5b
4:  mov     x0, #0
    ret
    /* Mutually misaligned: align the kernel side, then eight bytes a turn
     * with unaligned user loads (Normal memory, SCTLR_EL1.A clear). */
6:  tst     x0, #7
    b.eq    7f
    cbz     x2, 4b
    ldtrb   w3, [x1]
    strb    w3, [x0], #1
    add     x1, x1, #1
    sub     x2, x2, #1
    b       6b
7:  cmp     x2, #8
    b.lo    3b
    ldtr    x3, [x1]
    str     x3, [x0], #8
    add     x1, x1, #8
    sub     x2, x2, #8
    b       7b

arch_copy_to_user:              /* (udst, src, len) */
    eor     x4, x0, x1
    tst     x4, #7
    b.ne    6f
0:  tst     x0, #7
    b.eq    1f
    cbz     x2, 4f
    ldrb    w3, [x1], #1
    sttrb   w3, [x0]
    add     x0, x0, #1
    sub     x2, x2, #1
    b       0b
1:  cmp     x2, #32
    b.lo    2f
    ldp     x3, x4, [x1]
    ldp     x5, x6, [x1, #16]
    sttr    x3, [x0]
    sttr    x4, [x0, #8]
    sttr    x5, [x0, #16]
    sttr    x6, [x0, #24]
    add     x0, x0, #32
    add     x1, x1, #32
    sub     x2, x2, #32
    b       1b
2:  cmp     x2, #8
    b.lo    3f
    ldr     x3, [x1], #8
    sttr    x3, [x0]
    add     x0, x0, #8
    sub     x2, x2, #8
    b       2b
3:  cbz     x2, 4f
5:  ldrb    w3, [x1], #1
    sttrb   w3, [x0]
    add     x0, x0, #1
    subs    x2, x2, #1
    b.ne    5b
4:  mov     x0, #0
    ret
6:  tst     x1, #7              /* align the kernel side, unaligned user stores */
    b.eq    7f
    cbz     x2, 4b
    ldrb    w3, [x1], #1
    sttrb   w3, [x0]
    add     x0, x0, #1
    sub     x2, x2, #1
    b       6b
7:  cmp     x2, #8
    b.lo    3b
    ldr     x3, [x1], #8
    sttr    x3, [x0]
    add     x0, x0, #8
    sub     x2, x2, #8
    b       7b
usercopy_end:

usercopy_fault:
    mov     x0, #-1
    ret
