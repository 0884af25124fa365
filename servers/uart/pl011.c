/*
 * ARM PL011 for the uart driver. The firmware or QEMU set the baud rate and
 * the kernel's console enabled the transmitter; we add the receiver and
 * interrupts: RX and RX timeout always, TX only while bytes wait
 * (PL011 TRM: UARTIMSC, UARTMIS, UARTICR).
 */
#include "hw.h"

#define DR 0x00
#define FR 0x18
#define CR 0x30
#define IFLS 0x34
#define IMSC 0x38
#define ICR 0x44
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
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

void pl011_hw_init(struct uart_hw *hw, volatile uint8_t *regs)
{
    *hw = (struct uart_hw){"pl011",  regs,           pl011_start, pl011_rx_ready,
                           pl011_rx, pl011_tx_ready, pl011_tx,    pl011_tx_irq};
}
