/*
 * The UART hardware the driver knows: ARM PL011 (QEMU virt, the Pi's
 * UART0) and the BCM2835 mini UART (the Pi's AUX UART1, its GPIO 14/15
 * console). Each fills a struct uart_hw with the same few operations; the
 * driver (main.c) does the rest. All are called from the driver's one
 * thread, registers mapped from its physical VMO.
 */
#ifndef UART_HW_H
#define UART_HW_H

#include <stdbool.h>
#include <stdint.h>

struct uart_hw {
    const char *name;
    volatile uint8_t *regs;
    void (*start)(struct uart_hw *hw);    /* receiver on, RX interrupts on */
    bool (*rx_ready)(struct uart_hw *hw); /* a received byte is waiting */
    uint8_t (*rx)(struct uart_hw *hw);    /* take it */
    bool (*tx_ready)(struct uart_hw *hw); /* the transmitter takes a byte */
    void (*tx)(struct uart_hw *hw, uint8_t c);
    void (*tx_irq)(struct uart_hw *hw, bool on); /* interrupt when tx_ready again */
    /* Interrupt when bytes arrive; off while the driver has no room for
     * them, which leaves them in the UART's FIFO (backpressure). */
    void (*rx_irq)(struct uart_hw *hw, bool on);
};

static inline uint32_t hw_rd(struct uart_hw *hw, unsigned off)
{
    return *(volatile uint32_t *)(hw->regs + off);
}

static inline void hw_wr(struct uart_hw *hw, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(hw->regs + off) = v;
}

void pl011_hw_init(struct uart_hw *hw, volatile uint8_t *regs);
void miniuart_hw_init(struct uart_hw *hw, volatile uint8_t *regs);

#endif
