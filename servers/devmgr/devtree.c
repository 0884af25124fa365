/* devmgr's device-tree queries (see devtree.h). */
#include "devtree.h"
#include <libfdt.h>
#include <string.h>

static uint64_t read_cells(const fdt32_t *cells, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 32) | fdt32_ld(&cells[i]);
    return v;
}

static void cell_counts(const void *fdt, int node, int *acells, int *scells)
{
    *acells = fdt_address_cells(fdt, node);
    *scells = fdt_size_cells(fdt, node);
    if (*acells < 0)
        *acells = 2;
    if (*scells < 0)
        *scells = 1;
}

/* Up from bus_node through each bus's ranges (empty ranges: identity). */
static int translate(const void *fdt, int bus_node, uint64_t *addr)
{
    for (int depth = 0; bus_node > 0; depth++) {
        if (depth > 16)
            return -FDT_ERR_BADSTRUCTURE;
        int parent = fdt_parent_offset(fdt, bus_node);
        if (parent < 0)
            return parent;
        int len, ca, cs, pa, ps;
        const fdt32_t *ranges = fdt_getprop(fdt, bus_node, "ranges", &len);
        if (!ranges)
            return -FDT_ERR_NOTFOUND; /* not visible to the CPU */
        cell_counts(fdt, bus_node, &ca, &cs);
        cell_counts(fdt, parent, &pa, &ps);
        int entry = ca + pa + cs;
        if (ca > 2 || pa > 2 || cs > 2)
            return -FDT_ERR_BADVALUE;
        if (len > 0 && entry > 0) {
            bool found = false;
            for (int off = 0; (off + entry) * 4 <= len && !found; off += entry) {
                uint64_t child = read_cells(ranges + off, ca);
                uint64_t parent_addr = read_cells(ranges + off + ca, pa);
                uint64_t size = read_cells(ranges + off + ca + pa, cs);
                if (*addr >= child && *addr - child < size) {
                    *addr = *addr - child + parent_addr;
                    found = true;
                }
            }
            if (!found)
                return -FDT_ERR_NOTFOUND;
        }
        bus_node = parent;
    }
    return 0;
}

int devtree_reg(const void *fdt, int node, int index, uint64_t *base, uint64_t *size)
{
    int parent = fdt_parent_offset(fdt, node);
    if (parent < 0)
        return parent;
    int ac, sc, len;
    cell_counts(fdt, parent, &ac, &sc);
    const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
    if (!reg)
        return -FDT_ERR_NOTFOUND;
    if (index < 0 || ac < 1 || ac > 2 || sc < 1 || sc > 2 || (index + 1) * (ac + sc) * 4 > len)
        return -FDT_ERR_BADVALUE;
    *base = read_cells(reg + index * (ac + sc), ac);
    *size = read_cells(reg + index * (ac + sc) + ac, sc);
    return translate(fdt, parent, base);
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
