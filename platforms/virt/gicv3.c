/*
 * GICv3 (QEMU virt with gic-version=3): a memory-mapped distributor, one
 * memory-mapped redistributor per CPU (for SGIs/PPIs such as the timer) and
 * the CPU interface as ICC_* system registers. All interrupts are
 * non-secure group 1; SPIs are routed to the boot CPU by affinity until SMP
 * bring-up. EL2/EL3 entry code in boot/entry.S enabled ICC_SRE for EL1.
 */
#include <mica/cpu.h>
#include <mica/irq.h>
#include <mica/status.h>
#include <mica/vm.h>

#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IGROUPR 0x0080
#define GICD_ICENABLER 0x0180
#define GICD_ISENABLER 0x0100
#define GICD_IPRIORITYR 0x0400
#define GICD_IROUTER 0x6000
#define CTLR_RWP (1u << 31)
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_SGI 0x10000 /* SGI_base frame */
#define GICR_STRIDE 0x20000

#define ICC_SRE_EL1 "S3_0_C12_C12_5"
#define ICC_PMR_EL1 "S3_0_C4_C6_0"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"
#define ICC_IAR1_EL1 "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1 "S3_0_C12_C12_1"
#define ICC_BPR1_EL1 "S3_0_C12_C12_3"
#define ICC_CTLR_EL1 "S3_0_C12_C12_4"

static volatile uint8_t *gicd, *gicr_base, *gicr_cpu0;
static size_t gicr_size;
static unsigned n_lines;

static inline void wr32(volatile uint8_t *b, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(b + off) = v;
}
static inline uint32_t rd32(volatile uint8_t *b, unsigned off)
{
    return *(volatile uint32_t *)(b + off);
}

static void wait_rwp(void)
{
    while (rd32(gicd, GICD_CTLR) & CTLR_RWP)
        ;
}

static int gicv3_init(const struct platform_info *plat)
{
    gicd = (volatile uint8_t *)ioremap(plat->intc_regs[0].base, 0x10000);
    gicr_size = plat->intc_regs[1].size;
    if (gicr_size == 0 || gicr_size > 0x1000000)
        return ERR_INVALID_ARGS;
    gicr_base = (volatile uint8_t *)ioremap(plat->intc_regs[1].base, gicr_size);
    if (!gicd || !gicr_base)
        return ERR_NO_MEMORY;
    wr32(gicd, GICD_CTLR, 0);
    wait_rwp();
    n_lines = ((rd32(gicd, GICD_TYPER) & 0x1F) + 1) * 32;
    if (n_lines > 1020)
        n_lines = 1020;
    uint64_t aff = this_cpu()->mpidr;
    uint64_t route = (aff & 0xFFFFFF) | ((aff >> 32) & 0xFF) << 32;
    for (unsigned i = 32; i < n_lines; i += 32) {
        wr32(gicd, GICD_ICENABLER + i / 8, 0xFFFFFFFF);
        wr32(gicd, GICD_IGROUPR + i / 8, 0xFFFFFFFF);
    }
    for (unsigned i = 32; i < n_lines; i += 4)
        wr32(gicd, GICD_IPRIORITYR + i, 0xA0A0A0A0);
    /* IROUTER only exists with affinity routing on: enable ARE first (groups
     * still off), route, then enable group 1. */
    wr32(gicd, GICD_CTLR, 1u << 4);
    wait_rwp();
    for (unsigned i = 32; i < n_lines; i++)
        *(volatile uint64_t *)(gicd + GICD_IROUTER + i * 8) = route;
    wr32(gicd, GICD_CTLR, (1u << 4) | (1u << 1) | (1u << 0)); /* ARE, group 1 on */
    wait_rwp();
    return OK;
}

/* The redistributor frame whose affinity matches this CPU. */
static volatile uint8_t *find_redistributor(void)
{
    uint64_t mpidr = this_cpu()->mpidr;
    uint32_t want = (uint32_t)((mpidr & 0xFFFFFF) | ((mpidr >> 32) & 0xFF) << 24);
    size_t stride = GICR_STRIDE;
    for (size_t off = 0; off + stride <= gicr_size; off += stride) {
        uint64_t typer = *(volatile uint64_t *)(gicr_base + off + GICR_TYPER);
        stride = (typer & (1 << 1)) ? 2 * GICR_STRIDE : GICR_STRIDE; /* VLPIS: 4 frames */
        if ((uint32_t)(typer >> 32) == want)
            return gicr_base + off;
        if (typer & (1 << 4)) /* Last */
            break;
    }
    return NULL;
}

static void gicv3_init_cpu(void)
{
    volatile uint8_t *r = find_redistributor();
    if (!r)
        return; /* irq_enable() of a PPI will then fail */
    gicr_cpu0 = r;
    wr32(r, GICR_WAKER, rd32(r, GICR_WAKER) & ~(1u << 1)); /* ProcessorSleep = 0 */
    while (rd32(r, GICR_WAKER) & (1u << 2))                /* ChildrenAsleep */
        ;
    wr32(r, GICR_SGI + GICD_IGROUPR, 0xFFFFFFFF);
    wr32(r, GICR_SGI + GICD_ICENABLER, 0xFFFFFFFF);
    for (unsigned i = 0; i < 32; i += 4)
        wr32(r, GICR_SGI + GICD_IPRIORITYR + i, 0xA0A0A0A0);
    uint64_t sre;
    __asm__ volatile("mrs %0, " ICC_SRE_EL1 : "=r"(sre));
    __asm__ volatile("msr " ICC_SRE_EL1 ", %0\n isb" ::"r"(sre | 1));
    __asm__ volatile("msr " ICC_PMR_EL1 ", %0" ::"r"(0xF0UL));
    __asm__ volatile("msr " ICC_BPR1_EL1 ", xzr");
    __asm__ volatile("msr " ICC_CTLR_EL1 ", xzr"); /* EOImode 0: EOIR also deactivates */
    __asm__ volatile("msr " ICC_IGRPEN1_EL1 ", %0\n isb" ::"r"(1UL));
}

static int set_enable(unsigned irq, bool on)
{
    unsigned reg = on ? GICD_ISENABLER : GICD_ICENABLER;
    if (irq < 32) {
        if (!gicr_cpu0)
            return ERR_BAD_STATE;
        wr32(gicr_cpu0, GICR_SGI + reg, 1u << irq);
        return OK;
    }
    if (irq >= n_lines)
        return ERR_INVALID_ARGS;
    wr32(gicd, reg + (irq / 32) * 4, 1u << (irq % 32));
    return OK;
}

static int gicv3_enable(unsigned irq)
{
    return set_enable(irq, true);
}
static int gicv3_disable(unsigned irq)
{
    return set_enable(irq, false);
}

static unsigned gicv3_ack(void)
{
    uint64_t iar;
    __asm__ volatile("mrs %0, " ICC_IAR1_EL1 : "=r"(iar));
    iar &= 0xFFFFFF;
    return iar >= 1020 && iar <= 1023 ? IRQ_NONE : (unsigned)iar;
}

static void gicv3_eoi(unsigned irq)
{
    __asm__ volatile("msr " ICC_EOIR1_EL1 ", %0\n isb" ::"r"((uint64_t)irq));
}

const struct intc_ops gicv3_ops = {
    "GICv3", gicv3_init, gicv3_init_cpu, gicv3_enable, gicv3_disable, gicv3_ack, gicv3_eoi,
};
