/*
 * Symbolising addresses. The kernel is linked twice: the second link adds
 * a table of its text symbols (sorted by address) made from the first by
 * scripts/tools/ksyms.py. The table lives after all text, so adding it
 * moves no function. Used by backtraces and panic dumps.
 */
#include <mica/ksyms.h>
#include <mica/printk.h>
#include <string.h>

struct ksym {
    uint64_t addr;
    uint64_t name_offset;
};

extern const uint64_t ksyms_count;
extern const struct ksym ksyms_table[];
extern const char ksyms_names[];
extern char __text_start[], __text_end[];

size_t ksyms_count_get(void)
{
    return ksyms_count;
}

void ksyms_describe(uint64_t addr, char *buf, size_t len)
{
    if (addr < (uintptr_t)__text_start || addr >= (uintptr_t)__text_end || ksyms_count == 0) {
        snprintf(buf, len, "?");
        return;
    }
    size_t lo = 0, hi = ksyms_count; /* find the last symbol <= addr */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (ksyms_table[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    if (ksyms_table[lo].addr > addr) {
        snprintf(buf, len, "?");
        return;
    }
    snprintf(buf, len, "%s+0x%lx", ksyms_names + ksyms_table[lo].name_offset,
             addr - ksyms_table[lo].addr);
}

uint64_t ksyms_lookup(const char *name)
{
    for (size_t i = 0; i < ksyms_count; i++)
        if (strcmp(ksyms_names + ksyms_table[i].name_offset, name) == 0)
            return ksyms_table[i].addr;
    return 0;
}
