/*
 * QEMU virt board glue: which interrupt controller drivers exist, the early
 * console, and the (absent) board defaults: QEMU always hands virt a device
 * tree, so booting without one is an error reported by kernel_main().
 */
#include <board.h>
#include <mica/console_drivers.h>
#include <mica/irq.h>
#include <mica/status.h>
#include <mica/vm.h>
#include <string.h>

extern const struct intc_ops gicv2_ops, gicv3_ops;

const struct intc_ops *board_intc_ops(enum intc_kind kind)
{
    switch (kind) {
    case INTC_GICV2: return &gicv2_ops;
    case INTC_GICV3: return &gicv3_ops;
    default: return NULL;
    }
}

int board_defaults(struct platform_info *out)
{
    (void)out;
    return ERR_NOT_SUPPORTED;
}

static struct console early_console;

struct console *board_early_console(void)
{
    if (!early_console.putc)
        pl011_console_init(&early_console, BOARD_EARLY_UART_PA, early_uart_regs());
    return &early_console;
}

/* virt's secondaries are started only by PSCI CPU_ON, which nothing calls
 * yet: they are already powered off. */
void board_park_secondaries(const struct platform_info *plat)
{
    (void)plat;
}

#define PSCI_SYSTEM_RESET 0x84000009UL

void board_reset(const struct platform_info *plat)
{
    register uint64_t x0 __asm__("x0") = PSCI_SYSTEM_RESET;
    if (strcmp(plat->psci_method, "hvc") == 0)
        __asm__ volatile("hvc #0" : "+r"(x0)::"memory");
    else if (strcmp(plat->psci_method, "smc") == 0)
        __asm__ volatile("smc #0" : "+r"(x0)::"memory");
}
