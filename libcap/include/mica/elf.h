/*
 * A strict ELF64 reader for loading AArch64 programs: the one parser used
 * by the kernel (to start init) and by userspace loaders (libcap). It only
 * validates and describes; the caller creates memory and copies bytes.
 * Rejected: truncated files, wrong class/endianness/machine/type, program
 * headers outside the file, segments whose file part lies outside the file
 * or exceeds their memory size, segments outside the user address range,
 * overlapping segments, and too many segments.
 */
#ifndef MICA_ELF_H
#define MICA_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 8

struct elf_segment {
    uint64_t vaddr;     /* page-aligned start of the mapping */
    uint64_t mem_size;  /* page-aligned size of the mapping */
    uint64_t data_addr; /* where the file bytes go (vaddr + in-page offset) */
    uint64_t file_offset;
    uint64_t file_size;
    uint32_t flags; /* MICA_MAP_READ/WRITE/EXEC */
};

struct elf_image {
    uint64_t entry;
    uint64_t bias; /* added to a position-independent file's addresses (0 for ET_EXEC) */
    unsigned n_segments;
    struct elf_segment segments[ELF_MAX_SEGMENTS];
};

/* user_base and user_end must be page aligned. Returns 0, or a negative
 * MICA_ERR_* with a reason in *why. */
int elf_parse(const void *file, size_t size, uint64_t user_base, uint64_t user_end,
              struct elf_image *out, const char **why);
/* The same, also accepting a static position-independent executable
 * (ET_DYN, static-PIE), placed `bias` (page aligned) bytes up: the Linux
 * personality's loader. Addresses in *out include the bias. */
int elf_parse_pie(const void *file, size_t size, uint64_t user_base, uint64_t user_end,
                  uint64_t bias, struct elf_image *out, const char **why);

#endif
