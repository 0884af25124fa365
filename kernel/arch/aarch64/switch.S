/*
 * context_switch(from, to): save the callee-saved registers, the stack
 * pointer and the user thread pointer (TPIDR_EL0, which EL0 may set at
 * will: each thread keeps its own) of the running kernel context into
 * *from and resume *to. Called
 * only by schedule() with the big kernel lock held; the lock passes to the
 * thread that resumes.
 *
 * thread_enter_user: where a new thread's first context_switch "returns".
 * Its stack pointer is its trap frame: finish the switch in C, then leave
 * through the common exception return path (vectors.S el0_restore).
 *
 * context_load(to): the second half alone, for the IPC fast path, whose
 * current thread keeps no kernel context (it resumes at thread_fast_resume).
 *
 * thread_fast_resume: the same for a thread the IPC fast path blocked
 * (ipc_fast.c): its kernel stack held nothing but its trap frame, so it
 * resumes there; ipc_fast_resumed finishes the system call it was in.
 */
    .text
    .global context_switch
context_switch:
    mov     x9, sp
    stp     x19, x20, [x0, #0]
    stp     x21, x22, [x0, #16]
    stp     x23, x24, [x0, #32]
    stp     x25, x26, [x0, #48]
    stp     x27, x28, [x0, #64]
    stp     x29, x30, [x0, #80]
    str     x9, [x0, #96]
    mrs     x10, tpidr_el0
    str     x10, [x0, #104]
    mov     x0, x1
    .global context_load
context_load:
    ldp     x19, x20, [x0, #0]
    ldp     x21, x22, [x0, #16]
    ldp     x23, x24, [x0, #32]
    ldp     x25, x26, [x0, #48]
    ldp     x27, x28, [x0, #64]
    ldp     x29, x30, [x0, #80]
    ldr     x9, [x0, #96]
    mov     sp, x9
    ldr     x10, [x0, #104]
    msr     tpidr_el0, x10
    ret

    .global thread_enter_user
thread_enter_user:
    bl      sched_finish_switch
    mov     x0, sp
    bl      user_return
    b       el0_restore

    .global thread_fast_resume
thread_fast_resume:
    mov     x0, sp
    bl      ipc_fast_resumed
    b       el0_restore
