/*
 * GICv2 (QEMU virt default): a memory-mapped distributor shared by all CPUs
 * and a memory-mapped CPU interface banked per CPU. All interrupts are group
 * 0 and signal IRQ (QEMU's virt GIC has no security extensions unless
 * secure=on). SPIs are routed to CPU 0 until SMP bring-up.
 */
#include <mica/cpu.h>
#include <mica/irq.h>
#include <mica/status.h>
#include <mica/vm.h>

#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define GICC_CTLR 0x00
#define GICC_PMR 0x04
#define GICC_IAR 0x0C
#define GICC_EOIR 0x10

static volatile uint8_t *gicd, *gicc;
/* The IAR value of the interrupt being handled, per CPU: EOIR wants it
 * whole (for SGIs it carries the source CPU), dispatch wants the ID. */
static uint32_t active_iar[MAX_CPUS];
static unsigned n_lines;

static inline void wr32(volatile uint8_t *base, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(base + off) = v;
}
static inline uint32_t rd32(volatile uint8_t *base, unsigned off)
{
    return *(volatile uint32_t *)(base + off);
}

static int gicv2_init(const struct platform_info *plat)
{
    gicd = (volatile uint8_t *)ioremap(plat->intc_regs[0].base, 0x1000);
    gicc = (volatile uint8_t *)ioremap(plat->intc_regs[1].base, 0x2000);
    if (!gicd || !gicc)
        return ERR_NO_MEMORY;
    wr32(gicd, GICD_CTLR, 0);
    n_lines = ((rd32(gicd, GICD_TYPER) & 0x1F) + 1) * 32;
    for (unsigned i = 0; i < n_lines; i += 32)
        wr32(gicd, GICD_ICENABLER + i / 8, 0xFFFFFFFF);
    for (unsigned i = 0; i < n_lines; i += 4)
        wr32(gicd, GICD_IPRIORITYR + i, 0xA0A0A0A0);
    for (unsigned i = 32; i < n_lines; i += 4)
        wr32(gicd, GICD_ITARGETSR + i, 0x01010101);
    wr32(gicd, GICD_CTLR, 1);
    return OK;
}

static void gicv2_init_cpu(void)
{
    wr32(gicc, GICC_PMR, 0xF0);
    wr32(gicc, GICC_CTLR, 1);
}

static int gicv2_enable(unsigned irq)
{
    if (irq >= n_lines)
        return ERR_INVALID_ARGS;
    wr32(gicd, GICD_ISENABLER + (irq / 32) * 4, 1u << (irq % 32));
    return OK;
}

static int gicv2_disable(unsigned irq)
{
    if (irq >= n_lines)
        return ERR_INVALID_ARGS;
    wr32(gicd, GICD_ICENABLER + (irq / 32) * 4, 1u << (irq % 32));
    return OK;
}

static unsigned gicv2_ack(void)
{
    uint32_t iar = rd32(gicc, GICC_IAR);
    unsigned irq = iar & 0x3FF;
    if (irq >= 1020)
        return IRQ_NONE;
    active_iar[this_cpu()->id] = iar;
    return irq;
}

static void gicv2_eoi(unsigned irq)
{
    (void)irq;
    wr32(gicc, GICC_EOIR, active_iar[this_cpu()->id]);
}

const struct intc_ops gicv2_ops = {
    "GICv2", gicv2_init, gicv2_init_cpu, gicv2_enable, gicv2_disable, gicv2_ack, gicv2_eoi,
};
