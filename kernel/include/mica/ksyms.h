/* Kernel symbol table for backtraces: generated at link time by
 * scripts/tools/ksyms.py into the .ksyms section (kernel/ksyms.c). */
#ifndef MICA_KSYMS_H
#define MICA_KSYMS_H
#include <mica/types.h>

/* "function+0x1c" for addr, or "?" when unknown. */
void ksyms_describe(uint64_t addr, char *buf, size_t len);
/* Address of a function by name, or 0. */
uint64_t ksyms_lookup(const char *name);
size_t ksyms_count_get(void);

#endif
