/* Shared by the device-tree host tests (test_dt.c, test_devtree.c). */
#ifndef DTB_UTIL_H
#define DTB_UTIL_H

#include <stddef.h>

/* The whole file at path in a malloc'd block (the test fails if it cannot
 * be read); its length in *size if size is not NULL. */
void *dtb_load(const char *path, size_t *size);

#endif
