/*
 * Device tree parsing, with Debian's libfdt. Called once by kernel_main()
 * on the boot CPU with the blob mapped through the DTB fixmap; also built
 * on the host for the unit tests (tests/host/test_dt.c).
 *
 * We extract only what the kernel itself needs: RAM, reserved ranges, the
 * console UART (/chosen stdout-path), the interrupt controller, the timer
 * interrupt and the CPUs. Every other device is left to userspace (devmgr).
 * A malformed tree is rejected with a reason, never half-used.
 */
#include <libfdt.h>
#include <mica/fdt_reg.h>
#include <mica/platform.h>
#include <mica/printk.h>
#include <mica/status.h>
#include <string.h>

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, err_len, __VA_ARGS__);                                                       \
        return ERR_INVALID_ARGS;                                                                   \
    } while (0)

/* The index'th (address, size) of node's reg, as a CPU physical range. */
static int read_reg(const void *fdt, int node, int index, struct mem_range *out)
{
    return mica_fdt_reg(fdt, node, index, &out->base, &out->size);
}

/* A string property, or NULL unless it is non-empty and NUL-terminated
 * within its length (libfdt does not check that for us). */
static const char *get_string(const void *fdt, int node, const char *name)
{
    int len;
    const char *s = fdt_getprop(fdt, node, name, &len);
    if (!s || len <= 0 || s[len - 1] != '\0')
        return NULL;
    return s;
}

static bool node_is(const void *fdt, int node, const char *compatible)
{
    return fdt_node_check_compatible(fdt, node, compatible) == 0;
}

static int parse_memory(const void *fdt, struct platform_info *out, char *err, size_t err_len)
{
    for (int node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", 7); node >= 0;
         node = fdt_node_offset_by_prop_value(fdt, node, "device_type", "memory", 7)) {
        for (int i = 0;; i++) {
            struct mem_range r;
            if (read_reg(fdt, node, i, &r) < 0)
                break;
            if (r.size == 0)
                continue;
            if (out->n_memory == PLATFORM_MAX_RANGES)
                FAIL("device tree: more than %d memory ranges", PLATFORM_MAX_RANGES);
            out->memory[out->n_memory++] = r;
        }
    }
    if (out->n_memory == 0)
        FAIL("device tree: no memory node with a non-empty reg");

    int n = fdt_num_mem_rsv(fdt);
    for (int i = 0; i < n; i++) {
        uint64_t base, size;
        if (fdt_get_mem_rsv(fdt, i, &base, &size) < 0 || size == 0)
            continue;
        if (out->n_reserved == PLATFORM_MAX_RANGES)
            FAIL("device tree: too many reserved ranges");
        out->reserved[out->n_reserved++] = (struct mem_range){base, size};
    }
    int rsv = fdt_path_offset(fdt, "/reserved-memory");
    if (rsv >= 0) {
        int child;
        fdt_for_each_subnode(child, fdt, rsv)
        {
            struct mem_range r;
            if (read_reg(fdt, child, 0, &r) < 0 || r.size == 0)
                continue;
            if (out->n_reserved == PLATFORM_MAX_RANGES)
                FAIL("device tree: too many reserved ranges");
            out->reserved[out->n_reserved++] = r;
        }
    }
    return OK;
}

/* The command line as Mica keeps it: whole when it fits, else only its
 * mica.* words (a Pi's firmware puts about 300 bytes of its own Linux
 * options before cmdline.txt's line; mica.run= must survive that). */
static void keep_bootargs(char *out, size_t len, const char *args)
{
    size_t used = 0;
    if (strlen(args) < len) {
        snprintf(out, len, "%s", args);
        return;
    }
    out[0] = '\0';
    for (const char *w = args; *w;) {
        size_t n = 0;
        while (w[n] && w[n] != ' ')
            n++;
        if (n > 5 && strncmp(w, "mica.", 5) == 0 && used + n + 1 < len) {
            snprintf(out + used, len - used, "%s%.*s", used ? " " : "", (int)n, w);
            used = strlen(out);
        }
        w += n;
        while (*w == ' ')
            w++;
    }
}

static void parse_console(const void *fdt, struct platform_info *out)
{
    int chosen = fdt_path_offset(fdt, "/chosen");
    const char *path = NULL;
    if (chosen >= 0) {
        path = get_string(fdt, chosen, "stdout-path");
        if (!path)
            path = get_string(fdt, chosen, "linux,stdout-path");
    }
    const char *args = chosen >= 0 ? get_string(fdt, chosen, "bootargs") : NULL;
    if (args)
        keep_bootargs(out->bootargs, sizeof(out->bootargs), args);
    if (!path)
        return;
    const char *colon = strchr(path, ':');
    int len = colon ? (int)(colon - path) : (int)strlen(path);
    snprintf(out->console_path, sizeof(out->console_path), "%.*s", len, path);
    int node = fdt_path_offset_namelen(fdt, path, len); /* resolves aliases too */
    struct mem_range r;
    if (node < 0 || read_reg(fdt, node, 0, &r) < 0)
        return;
    if (node_is(fdt, node, "arm,pl011"))
        out->console = UART_PL011;
    else if (node_is(fdt, node, "brcm,bcm2835-aux-uart"))
        out->console = UART_MINIUART;
    else
        return;
    out->console_pa = r.base;
}

static int parse_intc(const void *fdt, struct platform_info *out, char *err, size_t err_len)
{
    static const char *const gicv2[] = {"arm,cortex-a15-gic", "arm,gic-400", "arm,cortex-a7-gic"};
    for (unsigned i = 0; i < ARRAY_SIZE(gicv2) && out->intc == INTC_NONE; i++) {
        int node = fdt_node_offset_by_compatible(fdt, -1, gicv2[i]);
        if (node >= 0) {
            out->intc = INTC_GICV2;
            if (read_reg(fdt, node, 0, &out->intc_regs[0]) < 0 ||
                read_reg(fdt, node, 1, &out->intc_regs[1]) < 0)
                FAIL("device tree: GICv2 node %s has a bad reg", gicv2[i]);
        }
    }
    int node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3");
    if (out->intc == INTC_NONE && node >= 0) {
        out->intc = INTC_GICV3;
        if (read_reg(fdt, node, 0, &out->intc_regs[0]) < 0 ||
            read_reg(fdt, node, 1, &out->intc_regs[1]) < 0)
            FAIL("device tree: GICv3 node has a bad reg");
    }
    int local = fdt_node_offset_by_compatible(fdt, -1, "brcm,bcm2836-l1-intc");
    if (out->intc == INTC_NONE && local >= 0) {
        int armctrl = fdt_node_offset_by_compatible(fdt, -1, "brcm,bcm2836-armctrl-ic");
        out->intc = INTC_BCM2836;
        if (armctrl < 0 || read_reg(fdt, local, 0, &out->intc_regs[0]) < 0 ||
            read_reg(fdt, armctrl, 0, &out->intc_regs[1]) < 0)
            FAIL("device tree: BCM2836 interrupt controllers incomplete");
    }
    if (out->intc == INTC_NONE)
        FAIL("device tree: no supported interrupt controller (GICv2, GICv3, BCM2836)");
    return OK;
}

static int parse_timer(const void *fdt, struct platform_info *out, char *err, size_t err_len)
{
    int node = fdt_node_offset_by_compatible(fdt, -1, "arm,armv8-timer");
    if (node < 0)
        node = fdt_node_offset_by_compatible(fdt, -1, "arm,armv7-timer");
    if (node < 0)
        FAIL("device tree: no arm,armv8-timer node");
    int len;
    const fdt32_t *irqs = fdt_getprop(fdt, node, "interrupts", &len);
    int cells = out->intc == INTC_BCM2836 ? 2 : 3;
    /* Entries: secure phys, non-secure phys, virtual, hypervisor. */
    if (!irqs || len < 2 * cells * 4)
        FAIL("device tree: timer has no non-secure physical interrupt");
    const fdt32_t *ns_phys = irqs + cells;
    if (cells == 3) {
        uint32_t type = fdt32_ld(&ns_phys[0]), num = fdt32_ld(&ns_phys[1]);
        out->timer_irq = num + (type == 1 ? 16 : 32); /* PPI or SPI */
    } else {
        out->timer_irq = fdt32_ld(&ns_phys[0]);
    }
    return OK;
}

static void parse_cpus(const void *fdt, struct platform_info *out)
{
    int cpus = fdt_path_offset(fdt, "/cpus");
    if (cpus < 0)
        return;
    int node;
    fdt_for_each_subnode(node, fdt, cpus)
    {
        const char *type = get_string(fdt, node, "device_type");
        int reg_len, release_len;
        const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &reg_len);
        if (!type || strcmp(type, "cpu") != 0 || !reg || reg_len < 4 ||
            out->n_cpus == PLATFORM_MAX_CPUS)
            continue;
        const fdt32_t *release = fdt_getprop(fdt, node, "cpu-release-addr", &release_len);
        if (release && release_len >= 4)
            out->cpu_release_addr[out->n_cpus] = mica_fdt_cells(release, release_len >= 8 ? 2 : 1);
        out->cpu_mpidr[out->n_cpus++] = mica_fdt_cells(reg, reg_len >= 8 ? 2 : 1);
        const char *method = get_string(fdt, node, "enable-method");
        if (method)
            snprintf(out->cpu_enable_method, sizeof(out->cpu_enable_method), "%s", method);
    }
}

int dt_parse(const void *fdt, size_t buf_size, struct platform_info *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (buf_size < sizeof(struct fdt_header))
        FAIL("device tree: buffer too small (%zu bytes)", buf_size);
    if (fdt_magic(fdt) != FDT_MAGIC)
        FAIL("device tree: bad magic 0x%08x (expected 0x%08x)", fdt_magic(fdt), FDT_MAGIC);
    int rc = fdt_check_header(fdt);
    if (rc < 0)
        FAIL("device tree: bad header: %s", fdt_strerror(rc));
    if (fdt_totalsize(fdt) > buf_size)
        FAIL("device tree: claims %u bytes, only %zu available", fdt_totalsize(fdt), buf_size);
    rc = fdt_check_full(fdt, fdt_totalsize(fdt));
    if (rc < 0)
        FAIL("device tree: corrupt structure: %s", fdt_strerror(rc));

    out->from_dtb = true;
    const char *model = get_string(fdt, 0, "model");
    snprintf(out->model, sizeof(out->model), "%s", model ? model : "(no model)");
    if ((rc = parse_memory(fdt, out, err, err_len)) < 0)
        return rc;
    parse_console(fdt, out);
    if ((rc = parse_intc(fdt, out, err, err_len)) < 0)
        return rc;
    if ((rc = parse_timer(fdt, out, err, err_len)) < 0)
        return rc;
    parse_cpus(fdt, out);
    int psci = fdt_path_offset(fdt, "/psci");
    const char *method = psci >= 0 ? get_string(fdt, psci, "method") : NULL;
    if (method && (strcmp(method, "hvc") == 0 || strcmp(method, "smc") == 0))
        snprintf(out->psci_method, sizeof(out->psci_method), "%s", method);
    return OK;
}

const char *intc_kind_name(enum intc_kind kind)
{
    switch (kind) {
    case INTC_GICV2: return "GICv2";
    case INTC_GICV3: return "GICv3";
    case INTC_BCM2836: return "BCM2836 local + BCM2835";
    default: return "none";
    }
}

const char *uart_kind_name(enum uart_kind kind)
{
    switch (kind) {
    case UART_PL011: return "PL011";
    case UART_MINIUART: return "mini UART";
    default: return "none";
    }
}
