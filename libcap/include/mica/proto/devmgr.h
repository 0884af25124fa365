/*
 * Protocol of devmgr, the device manager (servers/devmgr). devmgr reads
 * the device tree and, for each enabled node matching a `driver` line of
 * the boot manifest, asks procmgr to run that driver as a supervised
 * service with a physical VMO of the node's registers and an IRQ object
 * for its first interrupt (docs/devices.md). Clients ask it what it found.
 *
 * The driver's bootinfo: handles[0] the register VMO (the node's first
 * reg range, widened to whole pages), handles[1] the IRQ object if
 * `irq=1`, then a CONSOLE resource if `console=1` (the node is the
 * kernel's console UART); cmdline "COMPATIBLE offset=N irq=0|1 console=0|1"
 * (offset: where the registers start inside the VMO).
 */
#ifndef MICA_PROTO_DEVMGR_H
#define MICA_PROTO_DEVMGR_H

#include <mica/server.h>

/*     name           label request words  reply words */
#define DEVMGR_OPS(X)                                                                              \
    X(DM_COUNT, 1, 0, 1)  /* () -> devices started */                                              \
    X(DM_DEVICE, 2, 1, 5) /* (index) -> service name (4 words), register address */

enum {
#define DM_LABEL(name, label, req, rep) name = label,
    DEVMGR_OPS(DM_LABEL)
#undef DM_LABEL
};

#endif
