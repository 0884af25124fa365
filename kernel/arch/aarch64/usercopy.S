/*
 * Byte-wise user copies with EL0 permissions (LDTRB/STTRB). A fault inside
 * [usercopy_start, usercopy_end) is handled by trap.c: it first tries to
 * resolve it through the current address space (lazily mapped pages) and
 * otherwise resumes at usercopy_fault, which returns -1.
 */
    .text
    .global usercopy_start, usercopy_end, usercopy_fault
    .global arch_copy_from_user, arch_copy_to_user
usercopy_start:
arch_copy_from_user:            /* (dst, usrc, len) */
    cbz     x2, 2f
1:  ldtrb   w3, [x1]
    strb    w3, [x0], #1
    add     x1, x1, #1
    subs    x2, x2, #1
    b.ne    1b
2:  mov     x0, #0
    ret

arch_copy_to_user:              /* (udst, src, len) */
    cbz     x2, 2f
1:  ldrb    w3, [x1], #1
    sttrb   w3, [x0]
    add     x0, x0, #1
    subs    x2, x2, #1
    b.ne    1b
2:  mov     x0, #0
    ret
usercopy_end:

usercopy_fault:
    mov     x0, #-1
    ret
