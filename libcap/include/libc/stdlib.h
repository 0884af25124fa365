/* Just what libfdt needs from <stdlib.h>: kernel/lib/string.c. */
#ifndef MICA_LIBC_STDLIB_H
#define MICA_LIBC_STDLIB_H
#include <stddef.h>
unsigned long strtoul(const char *s, char **end, int base);
#endif
