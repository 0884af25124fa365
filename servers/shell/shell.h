/*
 * The native console shell: the debugging shell before the Linux
 * personality. main.c reads lines from the console UART and splits them
 * into words; commands.c holds the command table.
 */
#ifndef SHELL_H
#define SHELL_H

#include <mica/cap.h>
#include <mica/proto/uart.h>

#define SHELL_MAX_ARGS 16
#define INTERRUPT_BIT 1u /* ^C, from the uart driver */
#define EXITED_BIT 2u    /* the program `run` started ended */
#define LINE_BYTES 255

struct shell {
    mica_handle_t console, procmgr, fs; /* fs: 0 until first used */
    mica_handle_t linux_server;         /* the Linux personality: 0 until first used */
    mica_handle_t root;                 /* for poweroff/reboot (0: not allowed) */
    mica_handle_t events;               /* notification: INTERRUPT_BIT | EXITED_BIT */
};

/* Print on the console. */
#define sh_printf(sh, ...) uart_printf((sh)->console, __VA_ARGS__)
/* Run argv[0]; returns false for an unknown command. */
bool shell_command(struct shell *sh, int argc, char **argv);

#endif
