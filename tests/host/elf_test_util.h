/*
 * Shared by the ELF reader's host tests (test_elf.c: headers and the valid
 * image; test_elf_segments.c: segments and random mutations): a tiny
 * little-endian ELF64 writer and the checks every test uses.
 */
#ifndef ELF_TEST_UTIL_H
#define ELF_TEST_UTIL_H

#include <mica/elf.h>
#include <stddef.h>
#include <stdint.h>

#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define PAGE 4096u

#define ET_REL 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_ARM 40
#define EM_X86_64 62
#define EM_AARCH64 183
#define PT_NULL 0
#define PT_LOAD 1
#define PT_NOTE 4
#define PT_GNU_STACK 0x6474e551u
#define PF_X 1
#define PF_W 2
#define PF_R 4

#define MAX_PH 16
#define BASE MICA_USER_BASE
#define END MICA_USER_END

struct ph {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz;
};

/* What the writer puts in the file. */
struct desc {
    uint8_t ident[16];
    uint16_t type, machine, phentsize, phnum;
    uint64_t entry, phoff;
    struct ph ph[MAX_PH];
    size_t size; /* the whole file */
};

/* The valid image: headers, then text (R+X) and data (R+W, with bss).
 *
 *   0x000  ELF header
 *   0x040  2 program headers
 *   0x0b0  text: 0x100 bytes at 0x4000b0 (page 0x400000)
 *   0x1b0  data: 0x40 bytes at 0x4101b0, memsz 0x2000 (pages 0x410000..0x413000)
 *   0x1f0  end of file
 */
#define TEXT_OFF 0x0b0u
#define TEXT_VA 0x4000b0u
#define TEXT_SZ 0x100u
#define DATA_OFF 0x1b0u
#define DATA_VA 0x4101b0u
#define DATA_FSZ 0x40u
#define DATA_MSZ 0x2000u
#define FILE_SZ 0x1f0u
#define ENTRY (TEXT_VA + 0x10)

struct desc valid(void);
void put(uint8_t *f, size_t size, uint64_t at, uint64_t v, unsigned bytes);
uint8_t *build(const struct desc *d);
int parse_range(const struct desc *d, uint64_t base, uint64_t end, struct elf_image *img,
                const char **why);
void expect_ok_range(const struct desc *d, uint64_t base, uint64_t end, struct elf_image *img);
void expect_ok(const struct desc *d, struct elf_image *img);
void expect_bad_range(const struct desc *d, uint64_t base, uint64_t end, const char *reason);
void expect_bad(const struct desc *d, const char *reason);

#endif
