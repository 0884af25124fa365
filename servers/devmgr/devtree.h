/*
 * devmgr's device-tree queries, over libfdt. Pure code (no syscalls), so
 * the host tests run it on the real QEMU virt and Raspberry Pi blobs.
 *
 * Addresses come out as CPU physical addresses (bus addresses translated
 * through every `ranges` above the node: the Pi's peripherals sit at bus
 * 0x7E000000 and CPU 0x3F000000). Interrupts come out in the kernel's
 * numbering for the board's controller:
 *   GICv2/v3:           SPI n -> 32 + n, PPI n -> 16 + n;
 *   BCM2836 armctrl:    bank 0 (basic) n -> 96 + n, bank 1 n -> 32 + n,
 *                       bank 2 n -> 64 + n;
 *   BCM2836 local intc: n -> n.
 */
#ifndef DEVMGR_DEVTREE_H
#define DEVMGR_DEVTREE_H

#include <stdbool.h>
#include <stdint.h>

/* The index'th reg entry of node as a CPU physical range; 0 or -FDT_ERR_*. */
int devtree_reg(const void *fdt, int node, int index, uint64_t *base, uint64_t *size);
/* The node's first interrupt in the kernel's numbering; 0 or -FDT_ERR_*
 * (-FDT_ERR_NOTFOUND: it has none, -FDT_ERR_BADVALUE: a controller or
 * specifier we do not know). */
int devtree_irq(const void *fdt, int node, unsigned *irq);
/* No status property, or "okay"/"ok". */
bool devtree_enabled(const void *fdt, int node);

#endif
