/*
 * testdrv: a device driver for the tests (tests/user/testdrv.c). The test
 * image's manifest has devmgr start it for a simple device present on
 * each board (the PL061 GPIO on virt, the BCM2835 GPIO on the Pi),
 * so ktest can check what a driver receives and crash one on purpose.
 */
#ifndef TESTDRV_H
#define TESTDRV_H

#include <mica/server.h>

#define TD_READ32 1 /* (offset in the register window) -> value */
#define TD_INFO 2   /* () -> register VMO size, offset, IRQ handle type (0: none) */
#define TD_CRASH 3  /* (): the driver faults */

#endif
