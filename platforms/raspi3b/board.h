/*
 * Raspberry Pi 3B / Zero 2 W and QEMU raspi3b: compile-time board facts.
 * The early console is the mini UART (GPIO 14/15 on real boards, QEMU's
 * serial 1) unless the build chose the PL011 (-DMICA_CONSOLE=pl011).
 */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "raspi3b"
#ifdef MICA_CONSOLE_PL011
#define BOARD_EARLY_UART_PA 0x3F201000UL
#define BOARD_EARLY_UART_OFFSET 0
#define BOARD_EARLY_UART_PL011 1
#else
#define BOARD_EARLY_UART_PA 0x3F215000UL /* AUX block page */
#define BOARD_EARLY_UART_OFFSET 0x40     /* mini UART registers */
#define BOARD_EARLY_UART_PL011 0
#endif
#define BOARD_HAS_DEFAULTS 1      /* without a DTB use the documented defaults */
#define BOARD_RESERVED_LOW 0x1000 /* firmware stub + spin table at 0xD8..0xF8 */

#endif
