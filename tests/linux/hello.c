/* hello-linux: an unmodified static Linux (musl) program. It prints its
 * arguments and exits with the number given by --exit N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    printf("hello from Linux program %s (pid %d), %d argument(s):", argv[0], getpid(), argc - 1);
    for (int i = 1; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--exit") == 0)
            return atoi(argv[i + 1]);
    return 0;
}
