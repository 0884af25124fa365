/*
 * Copying to and from user memory. The kernel never dereferences a user
 * pointer directly: these routines check the range lies in the user half,
 * then use unprivileged loads and stores (LDTR/STTR: EL0's permissions, so
 * a pointer into the kernel faults) with fault recovery, so an unmapped or
 * read-only buffer yields ERR_FAULT, never a kernel crash.
 */
#ifndef MICA_USERCOPY_H
#define MICA_USERCOPY_H

#include <mica/abi.h>
#include <mica/status.h>
#include <mica/types.h>

static inline int user_range_ok(uintptr_t addr, size_t len)
{
    if (addr >= MICA_USER_END || len > MICA_USER_END - addr)
        return ERR_FAULT;
    return OK;
}

int copy_from_user(void *dst, uintptr_t usrc, size_t len);
int copy_to_user(uintptr_t udst, const void *src, size_t len);

/* arch/aarch64/usercopy.S: raw copies, 0 or -1 after a fault. */
int arch_copy_from_user(void *dst, uintptr_t usrc, size_t len);
int arch_copy_to_user(uintptr_t udst, const void *src, size_t len);
extern char usercopy_start[], usercopy_end[], usercopy_fault[];

#endif
