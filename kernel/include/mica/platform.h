/*
 * What the kernel knows about the machine: filled in by dt_parse() from the
 * device tree, or by board_defaults() when a board may boot without one.
 * Written once by the boot CPU before anything else runs; read-only after.
 */
#ifndef MICA_PLATFORM_H
#define MICA_PLATFORM_H

#include <mica/types.h>

#define PLATFORM_MAX_RANGES 16
#define PLATFORM_MAX_CPUS 8

struct mem_range {
    paddr_t base;
    uint64_t size;
};

enum intc_kind { INTC_NONE, INTC_GICV2, INTC_GICV3, INTC_BCM2836 };
enum uart_kind { UART_NONE, UART_PL011, UART_MINIUART };

struct platform_info {
    char model[64];
    bool from_dtb;      /* false: board defaults */
    char bootargs[128]; /* /chosen bootargs (QEMU -append); if longer, its mica.* words */

    struct mem_range memory[PLATFORM_MAX_RANGES];
    unsigned n_memory;
    struct mem_range reserved[PLATFORM_MAX_RANGES]; /* memreserve + /reserved-memory */
    unsigned n_reserved;

    enum uart_kind console;
    paddr_t console_pa;
    char console_path[64];

    /* GICv2: [0] distributor, [1] CPU interface. GICv3: [0] distributor,
     * [1] redistributors. BCM2836: [0] local controller, [1] BCM2835
     * ARM controller. */
    enum intc_kind intc;
    struct mem_range intc_regs[2];
    unsigned timer_irq; /* EL1 physical timer, in the controller's numbering */

    unsigned n_cpus;
    uint64_t cpu_mpidr[PLATFORM_MAX_CPUS];
    paddr_t cpu_release_addr[PLATFORM_MAX_CPUS]; /* spin-table, 0 if none */
    char cpu_enable_method[16];
    char psci_method[8]; /* /psci method: "hvc", "smc" or empty (no PSCI) */
};

extern struct platform_info platform;

/* Parse the device tree at fdt (buffer of buf_size bytes). Returns 0, or a
 * negative status with a human-readable reason in err. Pure: host-testable. */
int dt_parse(const void *fdt, size_t buf_size, struct platform_info *out, char *err,
             size_t err_len);

/* Board defaults when no device tree is available (platforms/<board>). */
int board_defaults(struct platform_info *out);
/* Move the secondary CPUs from wherever firmware left them into the
 * kernel's own park loop (boot/entry.S secondary_park: WFI, never running
 * kernel code). Called once by kernel_main() after RAM is mapped. */
void board_park_secondaries(const struct platform_info *plat);

/* Restart the machine (the shell's reboot): PSCI SYSTEM_RESET on virt,
 * the watchdog on the Pi. Returns only if the board cannot. */
void board_reset(const struct platform_info *plat);

const char *intc_kind_name(enum intc_kind kind);
const char *uart_kind_name(enum uart_kind kind);

#endif
