/* Starting userspace: the bootfs after the kernel image, and init. */
#ifndef MICA_USERBOOT_H
#define MICA_USERBOOT_H

#include <mica/types.h>

/* Find and validate the bootfs appended to the image (before memory_init,
 * which must reserve it). Returns false, with a logged reason, if none. */
bool bootfs_locate(paddr_t *base, size_t *size);
/* Create init from bin/init in the bootfs with its bootstrap handles and
 * make it runnable. Called once, with the kernel lock held. */
int userboot_start(paddr_t dtb_pa, size_t dtb_size, const char *cmdline);

#endif
