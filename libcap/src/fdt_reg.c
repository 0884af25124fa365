/* Device-tree addresses (see mica/fdt_reg.h). */
#include <mica/fdt_reg.h>
#include <stdbool.h>

uint64_t mica_fdt_cells(const fdt32_t *cells, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 32) | fdt32_ld(&cells[i]);
    return v;
}

/* #address-cells / #size-cells that apply to the children of node. */
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
            return -FDT_ERR_NOTFOUND; /* a bus without ranges: not CPU visible */
        cell_counts(fdt, bus_node, &ca, &cs);
        cell_counts(fdt, parent, &pa, &ps);
        if (ca > 2 || pa > 2 || cs > 2)
            return -FDT_ERR_BADVALUE;
        int entry = ca + pa + cs;
        if (len > 0 && entry > 0) {
            bool found = false;
            for (int off = 0; (off + entry) * 4 <= len && !found; off += entry) {
                uint64_t child = mica_fdt_cells(ranges + off, ca);
                uint64_t parent_addr = mica_fdt_cells(ranges + off + ca, pa);
                uint64_t size = mica_fdt_cells(ranges + off + ca + pa, cs);
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

int mica_fdt_reg(const void *fdt, int node, int index, uint64_t *base, uint64_t *size)
{
    int parent = fdt_parent_offset(fdt, node);
    if (parent < 0)
        return parent;
    int ac, sc, len;
    cell_counts(fdt, parent, &ac, &sc);
    const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
    if (!reg)
        return -FDT_ERR_NOTFOUND;
    if (index < 0 || ac < 1 || ac > 2 || sc > 2 || (index + 1) * (ac + sc) * 4 > len)
        return -FDT_ERR_BADVALUE;
    *base = mica_fdt_cells(reg + index * (ac + sc), ac);
    *size = mica_fdt_cells(reg + index * (ac + sc) + ac, sc);
    return translate(fdt, parent, base);
}
