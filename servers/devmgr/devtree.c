/* devmgr's device-tree queries (see devtree.h). */
#include "devtree.h"
#include <libfdt.h>
#include <mica/fdt_reg.h>
#include <string.h>

int devtree_reg(const void *fdt, int node, int index, uint64_t *base, uint64_t *size)
{
    return mica_fdt_reg(fdt, node, index, base, size);
}

/* The node's interrupt parent: its own or an ancestor's interrupt-parent. */
static int interrupt_parent(const void *fdt, int node)
{
    for (int depth = 0; node >= 0 && depth < 32; depth++) {
        int len;
        const fdt32_t *ph = fdt_getprop(fdt, node, "interrupt-parent", &len);
        if (ph && len == 4)
            return fdt_node_offset_by_phandle(fdt, fdt32_ld(ph));
        node = fdt_parent_offset(fdt, node);
    }
    return -FDT_ERR_NOTFOUND;
}

int devtree_irq(const void *fdt, int node, unsigned *irq)
{
    int len;
    const fdt32_t *spec = fdt_getprop(fdt, node, "interrupts", &len);
    if (!spec)
        return -FDT_ERR_NOTFOUND;
    int ctl = interrupt_parent(fdt, node);
    if (ctl < 0)
        return ctl;
    const fdt32_t *cells_prop = fdt_getprop(fdt, ctl, "#interrupt-cells", NULL);
    int cells = cells_prop ? (int)fdt32_ld(cells_prop) : 0;
    if (cells < 1 || cells > 4 || len < cells * 4)
        return -FDT_ERR_BADVALUE;
    uint32_t a = fdt32_ld(&spec[0]), b = cells > 1 ? fdt32_ld(&spec[1]) : 0;
    uint64_t n;
    if (fdt_node_check_compatible(fdt, ctl, "brcm,bcm2836-armctrl-ic") == 0 ||
        fdt_node_check_compatible(fdt, ctl, "brcm,bcm2835-armctrl-ic") == 0) {
        if (cells != 2 || a > 2 || b > 31)
            return -FDT_ERR_BADVALUE;
        n = a == 0 ? 96 + b : a == 1 ? 32 + b : 64 + b;
    } else if (fdt_node_check_compatible(fdt, ctl, "brcm,bcm2836-l1-intc") == 0) {
        if (a > 31)
            return -FDT_ERR_BADVALUE;
        n = a;
    } else if (fdt_getprop(fdt, ctl, "interrupt-controller", NULL) && cells == 3) {
        /* A GIC: (type, number, flags); type 0 SPI, 1 PPI. */
        if (a > 1 || b > 987)
            return -FDT_ERR_BADVALUE;
        n = a == 0 ? 32 + (uint64_t)b : 16 + (uint64_t)b;
        if (a == 1 && b > 15)
            return -FDT_ERR_BADVALUE;
    } else {
        return -FDT_ERR_BADVALUE;
    }
    *irq = (unsigned)n;
    return 0;
}

bool devtree_enabled(const void *fdt, int node)
{
    int len;
    const char *status = fdt_getprop(fdt, node, "status", &len);
    if (!status)
        return true;
    return len > 0 &&
           (strncmp(status, "okay", (size_t)len) == 0 || strncmp(status, "ok", (size_t)len) == 0);
}
