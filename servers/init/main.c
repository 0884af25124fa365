/*
 * init: the first userspace process, started by the kernel with the
 * bootstrap handles of struct mica_bootinfo. Today it maps the bootfs and,
 * when the kernel command line says "mica.run=NAME" (or, by default, in the
 * test image, which carries bin/ktest), runs bin/NAME and ends the machine
 * with its result; otherwise it reports that userspace is up and waits.
 * Starting the servers from boot/manifest comes with procmgr.
 */
#include <mica/cap.h>
#include <string.h>

static int run_program(const char *name, const void *elf, size_t size,
                       const struct mica_bootinfo *bi)
{
    mica_handle_t child;
    /* Test programs are trusted with the root resource (devices, IRQs). */
    int err = mica_spawn(elf, size, name, bi->cmdline, bi->bootfs_vmo, bi->root_resource, &child);
    if (err) {
        mica_printf("init: cannot start %s: %s\n", name, mica_status_name(err));
        return 1;
    }
    int64_t code;
    uint32_t reason;
    err = mica_process_wait(child, MICA_DEADLINE_INFINITE, &code, &reason);
    mica_handle_close(child);
    if (err || reason != MICA_EXIT_NORMAL) {
        mica_printf("init: %s did not finish normally (%s, reason %u, code %ld)\n", name,
                    mica_status_name(err), reason, code);
        return 1;
    }
    mica_printf("init: %s finished with %ld failure(s)\n", name, code);
    return code == 0 ? 0 : 1;
}

/* The program named by "mica.run=NAME" on the command line, else ktest. */
static void program_name(const char *cmdline, char *name, size_t len)
{
    const char *p = cmdline;
    snprintf(name, len, "ktest");
    for (; *p; p++) {
        if (strncmp(p, "mica.run=", 9) == 0) {
            size_t n = 0;
            p += 9;
            while (p[n] && p[n] != ' ' && n + 1 < len)
                n++;
            snprintf(name, len, "%.*s", (int)n, p);
            return;
        }
    }
}

int main(const struct mica_bootinfo *bi)
{
    if (!bi || bi->magic != MICA_BOOTINFO_MAGIC) {
        mica_printf("init: no valid bootinfo\n");
        return 1;
    }
    mica_printf("init: running at EL0 with %lu bytes of bootfs\n", bi->bootfs_size);
    uintptr_t bootfs;
    size_t mapped = (bi->bootfs_size + MICA_PAGE_SIZE - 1) & ~(MICA_PAGE_SIZE - 1);
    int err =
        mica_aspace_map(bi->self_aspace, bi->bootfs_vmo, 0, mapped, 0, MICA_MAP_READ, &bootfs);
    if (err) {
        mica_printf("init: cannot map the bootfs: %s\n", mica_status_name(err));
        return 1;
    }
    char name[32], path[40];
    const void *elf;
    size_t elf_size;
    program_name(bi->cmdline, name, sizeof(name));
    snprintf(path, sizeof(path), "bin/%s", name);
    if (mica_cpio_find((const void *)bootfs, bi->bootfs_size, path, &elf, &elf_size) == MICA_OK) {
        int result = run_program(name, elf, elf_size, bi);
        err = mica_system_exit(bi->root_resource, result);
        mica_printf("init: system exit failed: %s\n", mica_status_name(err));
        return 1;
    }
    mica_printf("init: Mica userspace is up (no servers yet)\n");
    for (;;)
        mica_sleep_until(MICA_DEADLINE_INFINITE);
}
