/* Checked user copies (see mica/usercopy.h). Called by the sys_* layer. */
#include <mica/usercopy.h>

int copy_from_user(void *dst, uintptr_t usrc, size_t len)
{
    if (user_range_ok(usrc, len) != OK)
        return ERR_FAULT;
    return arch_copy_from_user(dst, usrc, len) ? ERR_FAULT : OK;
}

int copy_to_user(uintptr_t udst, const void *src, size_t len)
{
    if (user_range_ok(udst, len) != OK)
        return ERR_FAULT;
    return arch_copy_to_user(udst, src, len) ? ERR_FAULT : OK;
}
