/* Kernel console UART drivers: fill in a struct console for registers
 * already mapped at regs. */
#ifndef MICA_CONSOLE_DRIVERS_H
#define MICA_CONSOLE_DRIVERS_H
#include <mica/printk.h>

void pl011_console_init(struct console *con, paddr_t phys, volatile void *regs);
/* regs points at the mini UART registers (AUX block + 0x40, as the DTB says). */
void miniuart_console_init(struct console *con, paddr_t phys, volatile void *regs);

#endif
