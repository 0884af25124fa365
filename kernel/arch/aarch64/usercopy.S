/*
 * User copies with EL0 permissions (LDTR/STTR): eight bytes at a time while
 * both pointers are 8-byte aligned, then byte by byte. A fault inside
 * [usercopy_start, usercopy_end) is handled by trap.c: it first tries to
 * resolve it through the current address space (lazily mapped pages) and
 * otherwise resumes at usercopy_fault, which returns -1.
 */
    .text
    .global usercopy_start, usercopy_end, usercopy_fault
    .global arch_copy_from_user, arch_copy_to_user
usercopy_start:
arch_copy_from_user:            /* (dst, usrc, len) */
    orr     x4, x0, x1
    tst     x4, #7
    b.ne    2f
1:  cmp     x2, #8
    b.lo    2f
    ldtr    x3, [x1]
    str     x3, [x0], #8
    add     x1, x1, #8
    sub     x2, x2, #8
    b       1b
2:  cbz     x2, 4f
3:  ldtrb   w3, [x1]
    strb    w3, [x0], #1
    add     x1, x1, #1
    subs    x2, x2, #1
    b.ne    3b
4:  mov     x0, #0
    ret

arch_copy_to_user:              /* (udst, src, len) */
    orr     x4, x0, x1
    tst     x4, #7
    b.ne    2f
1:  cmp     x2, #8
    b.lo    2f
    ldr     x3, [x1], #8
    sttr    x3, [x0]
    add     x0, x0, #8
    sub     x2, x2, #8
    b       1b
2:  cbz     x2, 4f
3:  ldrb    w3, [x1], #1
    sttrb   w3, [x0]
    add     x0, x0, #1
    subs    x2, x2, #1
    b.ne    3b
4:  mov     x0, #0
    ret
usercopy_end:

usercopy_fault:
    mov     x0, #-1
    ret
