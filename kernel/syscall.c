/*
 * Syscall dispatch: x8 selects the handler from a table built from the
 * SYSCALLS() list in mica/syscall.h; x0 receives its status. An unknown
 * number returns MICA_ERR_NOT_SUPPORTED (fault delivery to a fault
 * endpoint comes with fault endpoints).
 */
#include <mica/syscall.h>

#define TABLE_ENTRY(num, fn) [num] = fn,
static const syscall_fn syscall_table[MICA_SYS_COUNT] = {SYSCALLS(TABLE_ENTRY)};
#undef TABLE_ENTRY

void syscall_dispatch(struct trap_frame *f)
{
    uint64_t num = f->x[8];
    syscall_fn fn = num < MICA_SYS_COUNT ? syscall_table[num] : NULL;
    f->x[0] = (uint64_t)(int64_t)(fn ? fn(f) : ERR_NOT_SUPPORTED);
}
