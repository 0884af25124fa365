/*
 * Raspberry Pi 3B / Zero 2 W board glue: interrupt controller driver, early
 * console, and the defaults used when no device tree was passed (QEMU
 * raspi3b without -dtb, or firmware that loaded none). The defaults are
 * documented in docs/boards.md:
 *   RAM       0x00000000-0x1BFFFFFF (448 MiB: safe on the 512 MiB Zero 2 W
 *             and the 1 GiB Pi 3B, below the GPU's share on both)
 *   console   mini UART (AUX 0x3F215040) or PL011 (0x3F201000) per build
 *   interrupts BCM2836 local 0x40000000, BCM2835 0x3F00B200, timer = local 1
 *   CPUs      4, spin table
 */
#include <board.h>
#include <mica/console_drivers.h>
#include <mica/irq.h>
#include <mica/status.h>
#include <mica/vm.h>
#include <string.h>

extern const struct intc_ops bcm2836_ops;

const struct intc_ops *board_intc_ops(enum intc_kind kind)
{
    return kind == INTC_BCM2836 ? &bcm2836_ops : NULL;
}

int board_defaults(struct platform_info *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->model, sizeof(out->model), "Raspberry Pi 3 (board defaults, no device tree)");
    out->memory[0] = (struct mem_range){0, 0x1C000000};
    out->n_memory = 1;
    out->console = BOARD_EARLY_UART_PL011 ? UART_PL011 : UART_MINIUART;
    out->console_pa = BOARD_EARLY_UART_PA + BOARD_EARLY_UART_OFFSET;
    snprintf(out->console_path, sizeof(out->console_path), "(board default)");
    out->intc = INTC_BCM2836;
    out->intc_regs[0] = (struct mem_range){0x40000000, 0x100};
    out->intc_regs[1] = (struct mem_range){0x3F00B200, 0x200};
    out->timer_irq = 1;
    out->n_cpus = 4;
    for (unsigned i = 0; i < 4; i++) {
        out->cpu_mpidr[i] = i;
        out->cpu_release_addr[i] = 0xD8 + 8 * i;
    }
    snprintf(out->cpu_enable_method, sizeof(out->cpu_enable_method), "spin-table");
    return OK;
}

static struct console early_console;

struct console *board_early_console(void)
{
    if (!early_console.putc) {
        paddr_t pa = BOARD_EARLY_UART_PA + BOARD_EARLY_UART_OFFSET;
        if (BOARD_EARLY_UART_PL011)
            pl011_console_init(&early_console, pa, early_uart_regs());
        else
            miniuart_console_init(&early_console, pa, early_uart_regs());
    }
    return &early_console;
}

/*
 * The firmware's stub keeps cores 1-3 polling their spin-table slot (from
 * the DTB's cpu-release-addr: 0xE0, 0xE8, 0xF0) with WFE. Point them at the
 * kernel's WFI park loop instead: store the entry's physical address, clean
 * it to the point of coherency (they read with caches off), then SEV.
 */
void board_park_secondaries(const struct platform_info *plat)
{
    extern char secondary_park[];
    paddr_t entry = virt_to_phys(secondary_park);
    for (unsigned i = 1; i < plat->n_cpus; i++) {
        paddr_t slot = plat->cpu_release_addr[i];
        if (slot == 0 || slot > BOARD_RESERVED_LOW - 8 || !IS_ALIGNED(slot, 8))
            continue; /* only aligned slots in the firmware page are ours to write */
        volatile uint64_t *p = phys_to_virt(slot);
        *p = entry;
        __asm__ volatile("dc civac, %0" ::"r"(p) : "memory");
    }
    __asm__ volatile("dsb sy\n sev" ::: "memory");
}

/* The BCM2835 power manager's watchdog: arm it with a short timeout and
 * ask for a full reset (the same registers Linux's bcm2835_wdt uses). */
#define PM_BASE 0x3F100000UL
#define PM_RSTC 0x1C
#define PM_WDOG 0x24
#define PM_PASSWORD 0x5A000000u
#define PM_RSTC_FULL_RESET 0x20u
#define PM_RSTC_WRCFG_MASK 0x30u

void board_reset(const struct platform_info *plat)
{
    (void)plat;
    volatile uint32_t *pm = (volatile uint32_t *)ioremap(PM_BASE, 0x1000);
    if (!pm)
        return;
    pm[PM_WDOG / 4] = PM_PASSWORD | 10;
    pm[PM_RSTC / 4] = PM_PASSWORD | (pm[PM_RSTC / 4] & ~PM_RSTC_WRCFG_MASK) | PM_RSTC_FULL_RESET;
    for (int i = 0; i < 1000000; i++)
        __asm__ volatile("nop");
}
