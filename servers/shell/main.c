/*
 * shell: the native console shell (the manifest's `run` program). It finds
 * the console UART through procmgr, makes itself the console's foreground
 * client (so ^C reaches it), and then reads a line, splits it into words
 * and runs the command (commands.c), forever; `poweroff` ends the machine.
 * Everything it prints goes to the UART driver; programs it runs log
 * through the kernel's log, which the same driver sends.
 *
 * The console must outlive any service, the driver included: when a read
 * fails (the driver died, or procmgr gave it up and devmgr equipped it
 * again on a new endpoint) the shell looks the console up again and goes
 * on; while there is none it retries a few times a second.
 */
#include "shell.h"
#include <mica/proto/procmgr.h>
#include <mica/proto/uart.h>
#include <string.h>

/* Split line into words at spaces and tabs; "..." and '...' keep spaces in
 * a word. */
static int split(char *line, char **argv)
{
    int argc = 0;
    char *r = line, *w = line; /* words are rewritten in place, quotes dropped */
    while (*r && argc < SHELL_MAX_ARGS) {
        while (*r == ' ' || *r == '\t' || *r == '\n')
            r++;
        if (!*r)
            break;
        argv[argc++] = w;
        char quote = 0;
        while (*r && (quote || (*r != ' ' && *r != '\t' && *r != '\n'))) {
            if (!quote && (*r == '"' || *r == '\'')) {
                quote = *r++;
            } else if (quote && *r == quote) {
                quote = 0;
                r++;
            } else {
                *w++ = *r++;
            }
        }
        if (*r)
            r++;
        *w++ = '\0';
    }
    return argc;
}

/* The console read failed: find the console again through procmgr (the
 * same endpoint if the driver only restarted, a new one if it was given up
 * and equipped again). Called by main's loop, which then retries. */
static void reconnect(struct shell *sh, int why)
{
    static uint64_t last_report;
    mica_handle_t console;
    uint64_t now = mica_clock_ns();
    if (now - last_report > 5000000000UL) { /* a dead console must not flood the log */
        mica_printf("shell: console read failed: %s: looking it up again\n", mica_status_name(why));
        last_report = now;
    }
    if (pm_lookup(sh->procmgr, "console", &console) == MICA_OK) {
        mica_handle_close(sh->console);
        sh->console = console;
    }
    mica_sleep_until(mica_clock_ns() + 100000000UL); /* a failed one answers at once */
}

int main(const struct mica_bootinfo *bi)
{
    struct shell sh = {.procmgr = bi->startup_handle, .root = bi->root_resource};
    mica_handle_t ntfn_for_uart;
    int err = sh.procmgr ? pm_lookup_wait(sh.procmgr, "console", 10000000000UL, &sh.console)
                         : MICA_ERR_NOT_FOUND;
    if (err) {
        mica_printf("shell: no console driver: %s\n", mica_status_name(err));
        return 1;
    }
    err = mica_notification_create(&sh.events);
    if (!err)
        err = mica_handle_dup(sh.events, MICA_RIGHT_SIGNAL | MICA_RIGHT_TRANSFER, &ntfn_for_uart);
    if (!err)
        err = uart_set_foreground(sh.console, ntfn_for_uart, INTERRUPT_BIT);
    if (err) {
        mica_printf("shell: cannot set up ^C: %s\n", mica_status_name(err));
        return 1;
    }
    sh_printf(&sh, "\nMica shell. Type 'help' for the commands.\n");
    for (;;) {
        char line[LINE_BYTES + 1], *argv[SHELL_MAX_ARGS + 1];
        unsigned flags = 0;
        mica_handle_t fg;
        uart_set_mode(sh.console, 0); /* cooked, whatever a program left */
        /* ^C is ours again (the Linux personality takes it for its programs). */
        if (mica_handle_dup(sh.events, MICA_RIGHT_SIGNAL | MICA_RIGHT_TRANSFER, &fg) == MICA_OK &&
            uart_set_foreground(sh.console, fg, INTERRUPT_BIT) != MICA_OK)
            mica_handle_close(fg);
        sh_printf(&sh, "mica> ");
        long n = uart_read(sh.console, line, LINE_BYTES, &flags);
        if (n < 0) {
            reconnect(&sh, (int)n);
            continue;
        }
        if (flags & UART_READ_INTERRUPTED)
            continue;
        if (n == 0) { /* ^D */
            sh_printf(&sh, "(^D: type 'poweroff' to end)\n");
            continue;
        }
        line[n] = '\0';
        int argc = split(line, argv);
        argv[argc] = NULL;
        if (argc && !shell_command(&sh, argc, argv))
            sh_printf(&sh, "%s: unknown command (try 'help')\n", argv[0]);
    }
}
