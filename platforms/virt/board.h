/* QEMU virt: compile-time board facts used before the device tree is read. */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "virt"
#define BOARD_EARLY_UART_PA 0x09000000UL
#define BOARD_EARLY_UART_OFFSET 0
#define BOARD_EARLY_UART_PL011 1
#define BOARD_HAS_DEFAULTS 0 /* QEMU always passes a device tree */

#endif
