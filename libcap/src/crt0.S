/*
 * Program entry. The kernel (for init) or mica_spawn() starts the first
 * thread here with x0 = the address of this process's struct
 * mica_bootinfo and sp at the top of a mapped stack. We record the
 * bootinfo, call main(bootinfo), and end the process with its result.
 */
    .text
    .global _start
_start:
    mov     x29, xzr
    mov     x30, xzr
    adrp    x1, mica_bootinfo
    str     x0, [x1, :lo12:mica_bootinfo]
    bl      main
    bl      mica_process_exit
1:  b       1b
