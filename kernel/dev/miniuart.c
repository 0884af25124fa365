/*
 * BCM2835 "mini UART" (AUX UART1) as the kernel console. It is the UART on
 * GPIO 14/15 of the Pi Zero 2 W and Pi 3B (the PL011 drives Bluetooth), and
 * QEMU raspi3b's serial 1.
 *
 * With enable_uart=1 the firmware has set it up (115200 baud from the core
 * clock it fixes at 250 MHz, pins in alt5). If it is not enabled we set it
 * up ourselves: 8 bits, baud register 270, transmitter and receiver on.
 * Transmit only, polled (the userspace uart server does the rest).
 */
#include <mica/console_drivers.h>

#define MU_IO 0x00
#define MU_IER 0x04
#define MU_IIR 0x08
#define MU_LCR 0x0C
#define MU_MCR 0x10
#define MU_LSR 0x14
#define MU_CNTL 0x20
#define MU_BAUD 0x28
#define AUX_ENABLES (-0x3C) /* relative to the mini UART block */
#define LSR_TX_EMPTY (1 << 5)
#define LSR_TX_IDLE (1 << 6)

static inline uint32_t rd(struct console *con, int off)
{
    return *(volatile uint32_t *)((uintptr_t)con->regs + off);
}

static inline void wr(struct console *con, int off, uint32_t v)
{
    *(volatile uint32_t *)((uintptr_t)con->regs + off) = v;
}

static void miniuart_putc(struct console *con, char c)
{
    while (!(rd(con, MU_LSR) & LSR_TX_EMPTY))
        ;
    wr(con, MU_IO, (uint8_t)c);
}

static void miniuart_flush(struct console *con)
{
    while (!(rd(con, MU_LSR) & LSR_TX_IDLE))
        ;
}

void miniuart_console_init(struct console *con, paddr_t phys, volatile void *regs)
{
    con->name = "mini-uart";
    con->phys = phys;
    con->regs = regs;
    con->putc = miniuart_putc;
    con->flush = miniuart_flush;
    if (!(rd(con, AUX_ENABLES) & 1)) {
        wr(con, AUX_ENABLES, rd(con, AUX_ENABLES) | 1);
        wr(con, MU_CNTL, 0);
        wr(con, MU_LCR, 3); /* 8 data bits */
        wr(con, MU_MCR, 0);
        wr(con, MU_IER, 0);
        wr(con, MU_IIR, 0xC6); /* clear both FIFOs */
        wr(con, MU_BAUD, 270); /* 250 MHz / (8 * 271) = 115200 */
        wr(con, MU_CNTL, 3);
    }
}
