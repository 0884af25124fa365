/*
 * init: the first userspace process, started by the kernel with the
 * bootstrap handles of struct mica_bootinfo. It maps the bootfs, reads
 * boot/manifest (docs/boot-manifest.md), starts procmgr — which starts and
 * supervises the manifest's services — and then runs the manifest's `run`
 * program (or bin/NAME when the kernel command line says mica.run=NAME),
 * handing it a handle to procmgr; when that program ends, init ends the
 * machine with its status. With nothing to run it reports that userspace
 * is up and waits.
 */
#include <mica/cap.h>
#include <mica/manifest.h>
#include <string.h>

static int run_program(const char *name, const void *elf, size_t size,
                       const struct mica_bootinfo *bi, mica_handle_t procmgr)
{
    mica_handle_t child, pm = 0;
    if (procmgr)
        mica_handle_dup(procmgr, MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER,
                        &pm);
    /* Test programs are trusted with the root resource (devices, IRQs). */
    int err = mica_spawn_with(elf, size, name, bi->cmdline, bi->bootfs_vmo, bi->root_resource, pm,
                              &child);
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

/* The program named by "mica.run=NAME" on the command line, else the
 * manifest's `run` line (bin/NAME), else none. */
static void program_name(const char *cmdline, const char *run, char *name, size_t len)
{
    const char *p = cmdline;
    const char *slash = strrchr(run, '/');
    snprintf(name, len, "%s", slash ? slash + 1 : run);
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

static struct manifest manifest;

/* Read boot/manifest and start procmgr on a fresh endpoint; returns our
 * handle to it (0 if there is no procmgr or no manifest). */
static mica_handle_t start_procmgr(const struct mica_bootinfo *bi, const void *bootfs)
{
    const void *text, *elf;
    size_t text_len, elf_size;
    unsigned line;
    const char *why;
    if (mica_cpio_find(bootfs, bi->bootfs_size, "boot/manifest", &text, &text_len) != MICA_OK)
        return 0;
    if (manifest_parse(text, text_len, &manifest, &line, &why) != MICA_OK) {
        mica_printf("init: boot/manifest line %u: %s\n", line, why);
        return 0;
    }
    if (mica_cpio_find(bootfs, bi->bootfs_size, "bin/procmgr", &elf, &elf_size) != MICA_OK)
        return 0;
    mica_handle_t ep, server_end, child;
    if (mica_endpoint_create(&ep) != MICA_OK ||
        mica_handle_dup(
            ep, MICA_RIGHT_READ | MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER,
            &server_end) != MICA_OK)
        return 0;
    int err = mica_spawn_with(elf, elf_size, "procmgr", "", bi->bootfs_vmo, bi->root_resource,
                              server_end, &child);
    if (err) {
        mica_printf("init: cannot start procmgr: %s\n", mica_status_name(err));
        return 0;
    }
    mica_handle_close(child);
    return ep;
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
    mica_handle_t procmgr = start_procmgr(bi, (const void *)bootfs);
    char name[32], path[40];
    const void *elf;
    size_t elf_size;
    program_name(bi->cmdline, manifest.run, name, sizeof(name));
    snprintf(path, sizeof(path), "bin/%s", name);
    if (name[0] &&
        mica_cpio_find((const void *)bootfs, bi->bootfs_size, path, &elf, &elf_size) == MICA_OK) {
        int result = run_program(name, elf, elf_size, bi, procmgr);
        err = mica_system_exit(bi->root_resource, result);
        mica_printf("init: system exit failed: %s\n", mica_status_name(err));
        return 1;
    }
    mica_printf("init: Mica userspace is up (no servers yet)\n");
    for (;;)
        mica_sleep_until(MICA_DEADLINE_INFINITE);
}
