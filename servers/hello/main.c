/*
 * hello: the smallest program, for trying the shell's `run`. It logs its
 * arguments (bootinfo->cmdline) and exits 0; with --wait it waits until
 * it is killed (^C in the shell), with --fault it faults.
 */
#include <mica/cap.h>
#include <string.h>

int main(const struct mica_bootinfo *bi)
{
    if (strcmp(bi->cmdline, "--wait") == 0) {
        mica_printf("hello: waiting for ^C\n");
        for (;;)
            mica_sleep_until(MICA_DEADLINE_INFINITE);
    }
    if (strcmp(bi->cmdline, "--fault") == 0)
        *(volatile int *)16 = 1;
    mica_printf("hello: %s\n", bi->cmdline[0] ? bi->cmdline : "(no arguments)");
    return 0;
}
