/*
 * BCM2835 mini UART (AUX UART1) for the uart driver; registers from the
 * node's reg (0x7E215040: AUX_MU_IO_REG onwards). The firmware or the
 * kernel set it up; we turn on its receive interrupt, and the transmit
 * interrupt while bytes wait (BCM2835 ARM Peripherals, section 2.2 and its
 * errata: IER bit 0 receive, bit 1 transmit). Its interrupt is the AUX
 * line, shared with the SPI masters we leave off.
 */
#include "hw.h"

#define MU_IO 0x00
#define MU_IER 0x04
#define MU_IIR 0x08
#define MU_CNTL 0x20
#define MU_LSR 0x14
#define IER_RX 1u
#define IER_TX 2u
#define LSR_DATA_READY 1u
#define LSR_TX_EMPTY (1u << 5)
#define CNTL_RX_TX 3u

static void miniuart_start(struct uart_hw *hw)
{
    hw_wr(hw, MU_CNTL, hw_rd(hw, MU_CNTL) | CNTL_RX_TX);
    hw_wr(hw, MU_IER, IER_RX);
}

static bool miniuart_rx_ready(struct uart_hw *hw)
{
    return hw_rd(hw, MU_LSR) & LSR_DATA_READY;
}

static uint8_t miniuart_rx(struct uart_hw *hw)
{
    return (uint8_t)hw_rd(hw, MU_IO);
}

static bool miniuart_tx_ready(struct uart_hw *hw)
{
    return hw_rd(hw, MU_LSR) & LSR_TX_EMPTY;
}

static void miniuart_tx(struct uart_hw *hw, uint8_t c)
{
    hw_wr(hw, MU_IO, c);
}

static void miniuart_tx_irq(struct uart_hw *hw, bool on)
{
    uint32_t ier = hw_rd(hw, MU_IER) & (IER_RX | IER_TX);
    hw_wr(hw, MU_IER, on ? ier | IER_TX : ier & ~IER_TX);
}

static void miniuart_rx_irq(struct uart_hw *hw, bool on)
{
    uint32_t ier = hw_rd(hw, MU_IER) & (IER_RX | IER_TX);
    hw_wr(hw, MU_IER, on ? ier | IER_RX : ier & ~IER_RX);
}

void miniuart_hw_init(struct uart_hw *hw, volatile uint8_t *regs)
{
    *hw = (struct uart_hw){
        "mini UART",       regs,        miniuart_start,  miniuart_rx_ready, miniuart_rx,
        miniuart_tx_ready, miniuart_tx, miniuart_tx_irq, miniuart_rx_irq};
}
