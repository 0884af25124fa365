/*
 * ELF64 parsing (see mica/elf.h). Pure code: no allocation, no syscalls;
 * compiled into the kernel, into libcap and into the host unit tests.
 */
#include <mica/abi.h>
#include <mica/elf.h>
#include <stdbool.h>
#include <string.h>

#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PF_R 4
#define EM_AARCH64 183
#define ET_EXEC 2
#define ET_DYN 3
#define PT_INTERP 3

struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define PAGE 4096UL
#define FAIL(msg)                                                                                  \
    do {                                                                                           \
        *why = (msg);                                                                              \
        return MICA_ERR_INVALID_ARGS;                                                              \
    } while (0)

/* The parser; ET_DYN files are accepted only with allow_dyn, and then
 * placed `bias` bytes up (their addresses start near 0). */
static int parse(const void *file, size_t size, uint64_t user_base, uint64_t user_end,
                 bool allow_dyn, uint64_t bias, struct elf_image *out, const char **why)
{
    struct elf64_ehdr eh;
    memset(out, 0, sizeof(*out));
    if ((user_base | user_end) % PAGE || user_base >= user_end)
        FAIL("user address range must be page aligned"); /* so rounding stays inside */
    if (size < sizeof(eh))
        FAIL("truncated: smaller than an ELF header");
    memcpy(&eh, file, sizeof(eh));
    if (memcmp(eh.ident, "\177ELF", 4) != 0)
        FAIL("not an ELF file (bad magic)");
    if (eh.ident[4] != 2 || eh.ident[5] != 1)
        FAIL("not a 64-bit little-endian ELF file");
    if (eh.machine != EM_AARCH64)
        FAIL("wrong machine: not AArch64");
    if (eh.type != ET_EXEC && !(allow_dyn && eh.type == ET_DYN))
        FAIL(allow_dyn ? "not a static executable (ET_EXEC or ET_DYN)"
                       : "not a static executable (ET_EXEC)");
    bias = eh.type == ET_EXEC ? 0 : bias & ~(PAGE - 1);
    eh.entry += bias;
    if (eh.phentsize != sizeof(struct elf64_phdr))
        FAIL("unexpected program header size");
    if (eh.phnum == 0)
        FAIL("no program headers");
    if (eh.phoff > size || (uint64_t)eh.phnum * sizeof(struct elf64_phdr) > size - eh.phoff)
        FAIL("truncated: program headers beyond the end of the file");
    for (unsigned i = 0; i < eh.phnum; i++) {
        struct elf64_phdr ph;
        memcpy(&ph, (const uint8_t *)file + eh.phoff + i * sizeof(ph), sizeof(ph));
        if (ph.type == PT_INTERP)
            FAIL("dynamically linked (PT_INTERP): only static programs");
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        if (ph.vaddr + bias < ph.vaddr)
            FAIL("segment outside the user address range");
        ph.vaddr += bias;
        if (out->n_segments == ELF_MAX_SEGMENTS)
            FAIL("too many loadable segments");
        if (ph.filesz > ph.memsz)
            FAIL("segment's file size exceeds its memory size");
        if (ph.offset > size || ph.filesz > size - ph.offset)
            FAIL("truncated: segment data beyond the end of the file");
        if ((ph.offset % PAGE) != (ph.vaddr % PAGE))
            FAIL("segment offset and address disagree modulo the page size");
        uint64_t start = ph.vaddr & ~(PAGE - 1);
        if (ph.vaddr < user_base || ph.vaddr >= user_end || ph.memsz > user_end - ph.vaddr)
            FAIL("segment outside the user address range");
        uint64_t end = (ph.vaddr + ph.memsz + PAGE - 1) & ~(PAGE - 1);
        for (unsigned j = 0; j < out->n_segments; j++) {
            const struct elf_segment *o = &out->segments[j];
            if (start < o->vaddr + o->mem_size && o->vaddr < end)
                FAIL("overlapping segments");
        }
        struct elf_segment *s = &out->segments[out->n_segments++];
        s->vaddr = start;
        s->mem_size = end - start;
        s->data_addr = ph.vaddr;
        s->file_offset = ph.offset;
        s->file_size = ph.filesz;
        s->flags = ((ph.flags & PF_R) ? MICA_MAP_READ : 0) |
                   ((ph.flags & PF_W) ? MICA_MAP_WRITE : 0) |
                   ((ph.flags & PF_X) ? MICA_MAP_EXEC : 0);
    }
    if (out->n_segments == 0)
        FAIL("no loadable segments");
    bool entry_ok = false;
    for (unsigned j = 0; j < out->n_segments; j++) {
        const struct elf_segment *s = &out->segments[j];
        if (eh.entry >= s->vaddr && eh.entry < s->vaddr + s->mem_size && (s->flags & MICA_MAP_EXEC))
            entry_ok = true;
    }
    if (!entry_ok)
        FAIL("entry point is not in an executable segment");
    out->entry = eh.entry;
    out->bias = bias;
    *why = NULL;
    return MICA_OK;
}

int elf_parse(const void *file, size_t size, uint64_t user_base, uint64_t user_end,
              struct elf_image *out, const char **why)
{
    return parse(file, size, user_base, user_end, false, 0, out, why);
}

int elf_parse_pie(const void *file, size_t size, uint64_t user_base, uint64_t user_end,
                  uint64_t bias, struct elf_image *out, const char **why)
{
    return parse(file, size, user_base, user_end, true, bias, out, why);
}
