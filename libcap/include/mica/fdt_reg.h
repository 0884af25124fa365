/*
 * Device-tree addresses, shared by the kernel (kernel/dt.c) and devmgr
 * (servers/devmgr/devtree.c) like the ELF reader: pure code over libfdt.
 * A node's reg holds bus addresses; every `ranges` above it maps them one
 * bus up, until the CPU's view (the Pi's peripherals: bus 0x7E000000, CPU
 * 0x3F000000).
 */
#ifndef MICA_FDT_REG_H
#define MICA_FDT_REG_H

#include <libfdt.h>
#include <stdint.h>

/* n (0..2) big-endian cells as one number. */
uint64_t mica_fdt_cells(const fdt32_t *cells, int n);
/* The index'th (address, size) of node's reg, the address translated to a
 * CPU physical address. 0, or -FDT_ERR_NOTFOUND (no reg, or not visible to
 * the CPU), -FDT_ERR_BADVALUE (no such entry, or cell counts over 2). */
int mica_fdt_reg(const void *fdt, int node, int index, uint64_t *base, uint64_t *size);

#endif
