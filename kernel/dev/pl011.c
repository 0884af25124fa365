/*
 * ARM PL011 UART as the kernel console (QEMU virt, raspi3b serial 0).
 * Transmit only, polled: the kernel console is for boot messages and panics;
 * the interrupt-driven console driver lives in userspace (servers/uart).
 * The firmware or QEMU has set the baud rate; we only make sure the UART
 * and its transmitter are enabled.
 */
#include <mica/console_drivers.h>

#define UARTDR 0x00
#define UARTFR 0x18
#define UARTCR 0x30
#define FR_TXFF (1 << 5)
#define FR_BUSY (1 << 3)
#define CR_UARTEN (1 << 0)
#define CR_TXE (1 << 8)

static inline uint32_t rd(struct console *con, unsigned off)
{
    return *(volatile uint32_t *)((uintptr_t)con->regs + off);
}

static inline void wr(struct console *con, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)((uintptr_t)con->regs + off) = v;
}

static void pl011_putc(struct console *con, char c)
{
    while (rd(con, UARTFR) & FR_TXFF)
        ;
    wr(con, UARTDR, (uint8_t)c);
}

static void pl011_flush(struct console *con)
{
    while (rd(con, UARTFR) & FR_BUSY)
        ;
}

void pl011_console_init(struct console *con, paddr_t phys, volatile void *regs)
{
    con->name = "pl011";
    con->phys = phys;
    con->regs = regs;
    con->putc = pl011_putc;
    con->flush = pl011_flush;
    uint32_t cr = rd(con, UARTCR);
    if ((cr & (CR_UARTEN | CR_TXE)) != (CR_UARTEN | CR_TXE))
        wr(con, UARTCR, cr | CR_UARTEN | CR_TXE);
}
