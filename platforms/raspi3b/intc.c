/*
 * Raspberry Pi 3 interrupts: the BCM2836 per-core local controller (core
 * timers, mailboxes, PMU, and one "GPU" input) in front of the BCM2835 ARM
 * interrupt controller (the peripheral IRQs), which feeds that GPU input of
 * core 0.
 *
 * IRQ numbering (matches the device trees' specifiers):
 *   0..31   local sources of this core (bit n of its IRQ source register;
 *           1 = non-secure physical timer, 4..7 mailboxes, 8 = GPU)
 *   32..95  BCM2835 GPU IRQs 0..63 (pending registers 1 and 2)
 *   96..103 BCM2835 ARM "basic" IRQs 0..7
 * Everything is level triggered: the device clears it, EOI is a no-op.
 */
#include <mica/cpu.h>
#include <mica/irq.h>
#include <mica/status.h>
#include <mica/vm.h>

#define LOCAL_TIMER_CTL(core) (0x40 + 4 * (core))
#define LOCAL_MAILBOX_CTL(core) (0x50 + 4 * (core))
#define LOCAL_MAILBOX_CLR(core, n) (0xC0 + 16 * (core) + 4 * (n))
#define LOCAL_IRQ_SOURCE(core) (0x60 + 4 * (core))
#define LOCAL_SRC_GPU 8

#define ARM_BASIC_PENDING 0x00
#define ARM_PENDING1 0x04
#define ARM_PENDING2 0x08
#define ARM_ENABLE1 0x10
#define ARM_ENABLE2 0x14
#define ARM_ENABLE_BASIC 0x18
#define ARM_DISABLE1 0x1C
#define ARM_DISABLE2 0x20
#define ARM_DISABLE_BASIC 0x24

#define GPU_IRQ_BASE 32
#define BASIC_IRQ_BASE 96

static volatile uint8_t *local, *armctrl;

static inline void wr32(volatile uint8_t *b, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(b + off) = v;
}
static inline uint32_t rd32(volatile uint8_t *b, unsigned off)
{
    return *(volatile uint32_t *)(b + off);
}

static int bcm_init(const struct platform_info *plat)
{
    local = (volatile uint8_t *)ioremap(plat->intc_regs[0].base, 0x100);
    armctrl = (volatile uint8_t *)ioremap(plat->intc_regs[1].base, 0x40);
    if (!local || !armctrl)
        return ERR_NO_MEMORY;
    wr32(armctrl, ARM_DISABLE1, 0xFFFFFFFF);
    wr32(armctrl, ARM_DISABLE2, 0xFFFFFFFF);
    wr32(armctrl, ARM_DISABLE_BASIC, 0xFF);
    return OK;
}

static void bcm_init_cpu(void)
{
    unsigned core = this_cpu()->id;
    wr32(local, LOCAL_TIMER_CTL(core), 0);
    wr32(local, LOCAL_MAILBOX_CTL(core), 0);
    for (unsigned n = 0; n < 4; n++)
        wr32(local, LOCAL_MAILBOX_CLR(core, n), 0xFFFFFFFF);
}

static int set_enable(unsigned irq, bool on)
{
    unsigned core = this_cpu()->id;
    if (irq < 4) { /* core timers */
        uint32_t ctl = rd32(local, LOCAL_TIMER_CTL(core));
        ctl = on ? ctl | (1u << irq) : ctl & ~(1u << irq);
        wr32(local, LOCAL_TIMER_CTL(core), ctl);
        return OK;
    }
    if (irq >= 4 && irq < 8) { /* mailboxes */
        uint32_t ctl = rd32(local, LOCAL_MAILBOX_CTL(core));
        ctl = on ? ctl | (1u << (irq - 4)) : ctl & ~(1u << (irq - 4));
        wr32(local, LOCAL_MAILBOX_CTL(core), ctl);
        return OK;
    }
    if (irq >= GPU_IRQ_BASE && irq < BASIC_IRQ_BASE) {
        unsigned n = irq - GPU_IRQ_BASE;
        unsigned reg =
            n < 32 ? (on ? ARM_ENABLE1 : ARM_DISABLE1) : (on ? ARM_ENABLE2 : ARM_DISABLE2);
        wr32(armctrl, reg, 1u << (n % 32));
        return OK;
    }
    if (irq >= BASIC_IRQ_BASE && irq < BASIC_IRQ_BASE + 8) {
        wr32(armctrl, on ? ARM_ENABLE_BASIC : ARM_DISABLE_BASIC, 1u << (irq - BASIC_IRQ_BASE));
        return OK;
    }
    return ERR_INVALID_ARGS;
}

static int bcm_enable(unsigned irq)
{
    return set_enable(irq, true);
}
static int bcm_disable(unsigned irq)
{
    return set_enable(irq, false);
}

static unsigned bcm_ack(void)
{
    uint32_t src = rd32(local, LOCAL_IRQ_SOURCE(this_cpu()->id));
    uint32_t own = src & ~(1u << LOCAL_SRC_GPU);
    if (own)
        return (unsigned)__builtin_ctz(own);
    if (src & (1u << LOCAL_SRC_GPU)) {
        uint32_t p1 = rd32(armctrl, ARM_PENDING1);
        if (p1)
            return GPU_IRQ_BASE + (unsigned)__builtin_ctz(p1);
        uint32_t p2 = rd32(armctrl, ARM_PENDING2);
        if (p2)
            return GPU_IRQ_BASE + 32 + (unsigned)__builtin_ctz(p2);
        uint32_t basic = rd32(armctrl, ARM_BASIC_PENDING) & 0xFF;
        if (basic)
            return BASIC_IRQ_BASE + (unsigned)__builtin_ctz(basic);
    }
    return IRQ_NONE;
}

static void bcm_eoi(unsigned irq)
{
    (void)irq;
}

const struct intc_ops bcm2836_ops = {
    "BCM2836 local + BCM2835", bcm_init, bcm_init_cpu, bcm_enable, bcm_disable, bcm_ack, bcm_eoi,
};
