/*
 * Loading a static Linux program: its PT_LOAD segments become VMOs (the
 * shared ELF reader of libcap/src/elf.c checks the file), then the stack
 * the kernel's ABI promises at _start: argc, argv, envp and the auxiliary
 * vector, with the strings and AT_RANDOM's 16 bytes above them, sp 16-byte
 * aligned. The heap (brk) starts at the page after the highest segment.
 */
#include "linux.h"
#include <mica/elf.h>
#include <string.h>

#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_HWCAP2 26
#define AT_EXECFN 31
#define HWCAP_FP (1 << 0)
#define HWCAP_ASIMD (1 << 1)

#define STACK_IMAGE 8192 /* the top of the stack we build: strings, vectors */
#define MAX_ARGS 32

static char *const environment[] = {"HOME=/", "PATH=/linux/bin", "TERM=vt100", "LANG=C", NULL};

struct elf_header_fields {
    uint64_t phoff;
    uint16_t phentsize, phnum;
};

static void header_fields(const uint8_t *elf, struct elf_header_fields *h)
{
    memcpy(&h->phoff, elf + 32, 8);
    memcpy(&h->phentsize, elf + 54, 2);
    memcpy(&h->phnum, elf + 56, 2);
}

static int load_segments(struct lproc *p, const uint8_t *elf, const struct elf_image *img,
                         uintptr_t *end)
{
    *end = 0;
    for (unsigned i = 0; i < img->n_segments; i++) {
        const struct elf_segment *s = &img->segments[i];
        uintptr_t va;
        /* The bytes go in through the VMO, whatever the mapping allows. */
        int err = lx_map_new(p, s->vaddr, s->mem_size, s->flags, true, &va);
        if (err)
            return err;
        if ((err = lx_fill(p, s->data_addr, elf + s->file_offset, s->file_size)) != 0)
            return err;
        if (s->vaddr + s->mem_size > *end)
            *end = s->vaddr + s->mem_size;
    }
    return 0;
}

/* The stack image, built downwards in buf (which stands for the top
 * STACK_IMAGE bytes below LX_STACK_TOP). */
struct builder {
    uint8_t buf[STACK_IMAGE];
    size_t used; /* from the top */
};

static uintptr_t push_bytes(struct builder *b, const void *data, size_t len)
{
    if (b->used + len > sizeof(b->buf))
        return 0;
    b->used += len;
    memcpy(b->buf + sizeof(b->buf) - b->used, data, len);
    return LX_STACK_TOP - b->used;
}

static int build_stack(struct lproc *p, int argc, char **argv, char *const *envp,
                       const struct elf_image *img, uintptr_t phdr,
                       const struct elf_header_fields *h, uintptr_t *sp)
{
    static struct builder b;
    uintptr_t argv_va[MAX_ARGS], env_va[MAX_ARGS];
    int envc = 0;
    b.used = 0;
    uint64_t random[2] = {mica_clock_ns() * 0x9E3779B97F4A7C15UL,
                          (uint64_t)p->pid * 0xD1B54A32D192ED03UL ^ mica_clock_ns()};
    uintptr_t random_va = push_bytes(&b, random, sizeof(random));
    uintptr_t platform_va = push_bytes(&b, "aarch64", 8);
    uintptr_t execfn_va = push_bytes(&b, argv[0], strlen(argv[0]) + 1);
    for (int i = argc - 1; i >= 0; i--)
        argv_va[i] = push_bytes(&b, argv[i], strlen(argv[i]) + 1);
    for (; envp[envc] && envc < MAX_ARGS; envc++)
        env_va[envc] = push_bytes(&b, envp[envc], strlen(envp[envc]) + 1);
    uint64_t vec[2 * MAX_ARGS + 64];
    unsigned n = 0;
    vec[n++] = (uint64_t)argc;
    for (int i = 0; i < argc; i++)
        vec[n++] = argv_va[i];
    vec[n++] = 0;
    for (int i = 0; i < envc; i++)
        vec[n++] = env_va[i];
    vec[n++] = 0;
    const uint64_t aux[][2] = {{AT_PHDR, phdr},
                               {AT_PHENT, h->phentsize},
                               {AT_PHNUM, h->phnum},
                               {AT_PAGESZ, 4096},
                               {AT_BASE, 0},
                               {AT_FLAGS, 0},
                               {AT_ENTRY, img->entry},
                               {AT_UID, 0},
                               {AT_EUID, 0},
                               {AT_GID, 0},
                               {AT_EGID, 0},
                               {AT_PLATFORM, platform_va},
                               {AT_HWCAP, HWCAP_FP | HWCAP_ASIMD},
                               {AT_CLKTCK, 100},
                               {AT_SECURE, 0},
                               {AT_RANDOM, random_va},
                               {AT_HWCAP2, 0},
                               {AT_EXECFN, execfn_va},
                               {AT_NULL, 0}};
    for (unsigned i = 0; i < sizeof(aux) / sizeof(aux[0]); i++) {
        vec[n++] = aux[i][0];
        vec[n++] = aux[i][1];
    }
    /* argc must land 16-byte aligned. */
    b.used = (b.used + n * 8 + 15) / 16 * 16 - n * 8;
    uintptr_t top = push_bytes(&b, vec, n * 8);
    if (!random_va || !platform_va || !execfn_va || !top)
        return -LX_E2BIG;
    *sp = top;
    return lx_fill(p, LX_STACK_TOP - b.used, b.buf + sizeof(b.buf) - b.used, b.used);
}

/* The signal return trampoline every program gets (what Linux's vDSO
 * provides): one read-only executable page, shared by all of them. Each
 * program's handle to it has no WRITE right, so no path (a syscall's
 * buffer, a mapping) can change the code other programs run; the region
 * is cow_shared, so an mprotect that makes it writable gives the program
 * a copy of its own first (memory.c), as Linux's vDSO data would. */
static int map_sigreturn(struct lproc *p)
{
    static mica_handle_t page;
    static const uint32_t code[] = {0xD2801168 /* mov x8, #139 */, 0xD4000001 /* svc #0 */};
    mica_handle_t vmo;
    uint32_t rights;
    if (!page && (mica_vmo_create(MICA_PAGE_SIZE, &page) != MICA_OK ||
                  mica_vmo_write(page, 0, code, sizeof(code)) != MICA_OK))
        return -LX_ENOMEM;
    if (!lx_region_room(p) || mica_handle_info(page, NULL, &rights, NULL) ||
        mica_handle_dup(page, rights & ~MICA_RIGHT_WRITE, &vmo))
        return -LX_ENOMEM;
    if (mica_aspace_map(p->aspace, vmo, 0, MICA_PAGE_SIZE, LX_SIGRETURN_VA,
                        MICA_MAP_READ | MICA_MAP_EXEC | MICA_MAP_FIXED, NULL) != MICA_OK) {
        mica_handle_close(vmo);
        return -LX_ENOMEM;
    }
    p->regions[p->n_regions++] = (struct region){
        LX_SIGRETURN_VA, MICA_PAGE_SIZE, vmo, 0, MICA_MAP_READ | MICA_MAP_EXEC, false, true, false};
    return 0;
}

/* Does the stack image of these vectors fit in STACK_IMAGE? (what
 * build_stack pushes, counted the same way) */
static bool stack_fits(int argc, char **argv, char *const *envp)
{
    size_t bytes = 16 + 8 + strlen(argv[0]) + 1 + 16, words = 2 + 2 * 19 + 2;
    for (int i = 0; i < argc; i++)
        bytes += strlen(argv[i]) + 1, words++;
    for (int i = 0; envp[i] && i < MAX_ARGS; i++)
        bytes += strlen(envp[i]) + 1, words++;
    return bytes + words * 8 <= STACK_IMAGE;
}

/* Everything lx_load can refuse before it changes p: execve calls it
 * before its point of no return, so a file that is not a program is
 * ENOEXEC to the caller, not the end of it. */
int lx_load_check(const void *elf, size_t size, int argc, char **argv, char *const *envp,
                  struct elf_image *img)
{
    const char *why;
    if (argc < 1 || argc > MAX_ARGS || !stack_fits(argc, argv, envp ? envp : environment))
        return -LX_E2BIG;
    if (elf_parse_pie(elf, size, MICA_USER_BASE, LX_MMAP_TOP - LX_BRK_MAX, LX_PIE_BASE, img,
                      &why) != MICA_OK)
        return -LX_ENOEXEC; /* a shell then runs it as a script: nothing to log */
    return 0;
}

int lx_load(struct lproc *p, const void *elf, const struct elf_image *img, int argc, char **argv,
            char *const *envp, uintptr_t *entry, uintptr_t *sp)
{
    struct elf_header_fields h;
    uintptr_t end, stack;
    header_fields(elf, &h);
    int err = load_segments(p, elf, img, &end);
    if (err)
        return err;
    /* AT_PHDR: the program headers inside the first segment's file bytes. */
    uintptr_t phdr = 0;
    for (unsigned i = 0; i < img->n_segments; i++) {
        const struct elf_segment *s = &img->segments[i];
        if (h.phoff >= s->file_offset && h.phoff < s->file_offset + s->file_size)
            phdr = s->data_addr + (h.phoff - s->file_offset);
    }
    p->brk_base = p->brk = end;
    if ((err = lx_map_new(p, end, LX_BRK_MAX, MICA_MAP_READ | MICA_MAP_WRITE, true, &end)) != 0)
        return err;
    /* The stack: RLIMIT_STACK's size (pages come as they are touched),
     * between LX_STACK_MIN and LX_STACK_MAX. */
    uint64_t stack_size = p->rlimits[LX_RLIMIT_STACK][0];
    stack_size = stack_size < LX_STACK_MIN ? LX_STACK_MIN
                 : stack_size > LX_STACK_MAX
                     ? LX_STACK_MAX
                     : (stack_size + MICA_PAGE_SIZE - 1) & ~(MICA_PAGE_SIZE - 1);
    if ((err = lx_map_new(p, LX_STACK_TOP - stack_size, stack_size, MICA_MAP_READ | MICA_MAP_WRITE,
                          true, &stack)) != 0)
        return err;
    if ((err = map_sigreturn(p)) != 0)
        return err;
    p->mmap_next = LX_MMAP_TOP;
    *entry = img->entry;
    return build_stack(p, argc, argv, envp ? envp : environment, img, phdr, &h, sp);
}
