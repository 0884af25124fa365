/*
 * ARM PL011 for the uart driver. The firmware or QEMU set the baud rate and
 * the kernel's console enabled the transmitter; we add the receiver and
 * interrupts: RX and RX timeout always, TX only while bytes wait
 * (PL011 TRM: UARTIMSC, UARTMIS, UARTICR).
 *
 * And the FIFOs, if nobody turned them on (QEMU leaves them off): without
 * them the UART holds one received byte, so a paste costs an interrupt
 * per byte and, under QEMU, runs about four times slower. But turning
 * them on empties the receiver (TRM, UARTLCR_H FEN; QEMU too), and under
 * QEMU the I/O thread delivers the next byte as soon as one is read, so
 * there is no safe moment while input streams in. So the FIFOs go on only
 * if nothing waits when the driver starts (nobody types that fast); with
 * type-ahead already waiting (input piped in at boot) they stay off,
 * slower but without a lost byte.
 */
#include "hw.h"

#define DR 0x00
#define FR 0x18
#define LCR_H 0x2C
#define CR 0x30
#define IFLS 0x34
#define IMSC 0x38
#define ICR 0x44
#define FR_BUSY (1u << 3)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define LCR_H_FEN (1u << 4)
#define CR_UARTEN (1u << 0)
#define CR_TXE (1u << 8)
#define CR_RXE (1u << 9)
#define INT_RX (1u << 4)
#define INT_TX (1u << 5)
#define INT_RT (1u << 6)
#define INT_ALL 0x7FFu

static void pl011_start(struct uart_hw *hw)
{
    hw_wr(hw, IMSC, 0);
    hw_wr(hw, ICR, INT_ALL);
    uint32_t lcr = hw_rd(hw, LCR_H), cr = hw_rd(hw, CR);
    if (!(lcr & LCR_H_FEN)) { /* TRM: disabled, transmitter idle, then LCR_H */
        while (hw_rd(hw, FR) & FR_BUSY)
            ;
        hw_wr(hw, CR, cr & ~CR_UARTEN);
        if (hw_rd(hw, FR) & FR_RXFE)
            hw_wr(hw, LCR_H, lcr | LCR_H_FEN);
    }
    hw_wr(hw, CR, hw_rd(hw, CR) | CR_UARTEN | CR_TXE | CR_RXE);
    hw_wr(hw, IMSC, INT_RX | INT_RT);
}

static bool pl011_rx_ready(struct uart_hw *hw)
{
    return !(hw_rd(hw, FR) & FR_RXFE);
}

static uint8_t pl011_rx(struct uart_hw *hw)
{
    return (uint8_t)hw_rd(hw, DR); /* reading drains the RX interrupt */
}

static bool pl011_tx_ready(struct uart_hw *hw)
{
    return !(hw_rd(hw, FR) & FR_TXFF);
}

static void pl011_tx(struct uart_hw *hw, uint8_t c)
{
    hw_wr(hw, DR, c);
}

static void pl011_tx_irq(struct uart_hw *hw, bool on)
{
    uint32_t imsc = hw_rd(hw, IMSC);
    if (!on)
        hw_wr(hw, ICR, INT_TX);
    hw_wr(hw, IMSC, on ? imsc | INT_TX : imsc & ~INT_TX);
}

static void pl011_rx_irq(struct uart_hw *hw, bool on)
{
    uint32_t imsc = hw_rd(hw, IMSC);
    hw_wr(hw, IMSC, on ? imsc | INT_RX | INT_RT : imsc & ~(INT_RX | INT_RT));
}

void pl011_hw_init(struct uart_hw *hw, volatile uint8_t *regs)
{
    *hw = (struct uart_hw){"pl011",        regs,     pl011_start,  pl011_rx_ready, pl011_rx,
                           pl011_tx_ready, pl011_tx, pl011_tx_irq, pl011_rx_irq};
}
