/*
 * User copies with EL0 permissions (LDTR/STTR). Bytes until the kernel
 * side is aligned; then, if the user side is aligned too, 32 bytes a turn;
 * then 8 a turn (user memory unaligned if the pointers disagree modulo 8:
 * Normal memory, SCTLR_EL1.A clear), then the tail by bytes. A fault inside
 * [usercopy_start, usercopy_end) is handled by trap.c: it first tries to
 * resolve it through the current address space (lazily mapped pages) and
 * otherwise resumes at usercopy_fault, which returns -1.
 */
    .text
    .global usercopy_start, usercopy_end, usercopy_fault
    .global arch_copy_from_user, arch_copy_to_user
usercopy_start:
arch_copy_from_user:            /* (dst, usrc, len) */
0:  tst     x0, #7              /* bytes until the kernel side is aligned */
    b.eq    6f
    cbz     x2, 4f
    ldtrb   w3, [x1]
    strb    w3, [x0], #1
    add     x1, x1, #1
    sub     x2, x2, #1
    b       0b
6:  eor     x4, x0, x1
    tst     x4, #7
    b.ne    2f                  /* user side misaligned: 8 a turn, unaligned */
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

arch_copy_to_user:              /* (udst, src, len) */
0:  tst     x1, #7              /* bytes until the kernel side is aligned */
    b.eq    6f
    cbz     x2, 4f
    ldrb    w3, [x1], #1
    sttrb   w3, [x0]
    add     x0, x0, #1
    sub     x2, x2, #1
    b       0b
6:  eor     x4, x0, x1
    tst     x4, #7
    b.ne    2f                  /* user side misaligned: 8 a turn, unaligned */
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
usercopy_end:

usercopy_fault:
    mov     x0, #-1
    ret
