/*
 * init: the first userspace process, started by the kernel with the
 * bootstrap handles of struct mica_bootinfo. It maps the bootfs, reads
 * boot/manifest (docs/boot-manifest.md), starts procmgr — which starts and
 * supervises the manifest's services — and then runs the manifest's `run`
 * program (or bin/NAME when the kernel command line says mica.run=NAME),
 * handing it a handle to procmgr; when that program ends, init ends the
 * machine with its status. A program named but not in the bootfs (a
 * mistyped mica.run=, a manifest naming a program the image lacks) is
 * reported as such and ends the machine with status 2, so a test image
 * fails at once instead of waiting for its timeout. With nothing named
 * at all it reports that userspace is up and waits.
 */
#include <mica/cap.h>
#include <mica/manifest.h>
#include <mica/proto/linux.h>
#include <string.h>

/* A Linux program (linux/...) through the Linux personality, its
 * arguments newline-separated in args. */
static int start_linux(const char *path, const char *args, mica_handle_t procmgr,
                       mica_handle_t *child)
{
    char *argv[MANIFEST_MAX_RUN_ARGS + 2], copy[sizeof(((struct manifest *)0)->run_args)];
    char program[80];
    mica_handle_t server;
    int argc = 0;
    snprintf(program, sizeof(program), "/%s", path);
    snprintf(copy, sizeof(copy), "%s", args);
    argv[argc++] = program;
    for (char *s = copy, *nl; *s && argc <= MANIFEST_MAX_RUN_ARGS; s = nl + 1) {
        nl = strchr(s, '\n');
        if (!nl)
            break;
        *nl = '\0';
        argv[argc++] = s;
    }
    int err =
        procmgr ? pm_lookup_wait(procmgr, "linux", 10000000000UL, &server) : MICA_ERR_NOT_FOUND;
    if (!err)
        err = lx_spawn_argv(server, argc, argv, child);
    return err;
}

static int run_program(const char *name, const char *args, const void *elf, size_t size,
                       const struct mica_bootinfo *bi, mica_handle_t procmgr)
{
    mica_handle_t child, pm = 0;
    int err;
    if (strncmp(name, "linux/", 6) == 0) {
        err = start_linux(name, args, procmgr, &child);
    } else {
        char cmdline[sizeof(bi->cmdline)];
        snprintf(cmdline, sizeof(cmdline), "%s", args[0] ? args : bi->cmdline);
        for (char *c = cmdline; args[0] && *c; c++)
            if (*c == '\n')
                *c = c[1] ? ' ' : '\0';
        if (procmgr)
            mica_handle_dup(procmgr, MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER,
                            &pm);
        /* Test programs are trusted with the root resource (devices, IRQs). */
        err = mica_spawn_with(elf, size, name, cmdline, bi->bootfs_vmo, bi->root_resource, pm,
                              &child);
    }
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

/* The program named by "mica.run=NAME" on the command line (bin/NAME, or
 * a bootfs path such as linux/bin/busybox,sh with commas between its
 * arguments), else the manifest's `run` line, else none. The path goes to
 * path, the arguments (each ended by '\n') to args. Returns what named
 * the program, for main's message when the bootfs lacks it. */
static const char *program_path(const char *cmdline, const struct manifest *m, char *path,
                                size_t len, char *args, size_t args_len)
{
    snprintf(path, len, "%s", m->run);
    snprintf(args, args_len, "%s", m->run_args);
    for (const char *p = cmdline; *p; p++) {
        if (strncmp(p, "mica.run=", 9) == 0) {
            char word[96];
            size_t n = 0;
            p += 9;
            while (p[n] && p[n] != ' ' && n + 1 < sizeof(word))
                n++;
            snprintf(word, sizeof(word), "%.*s", (int)n, p);
            char *comma = strchr(word, ',');
            args[0] = '\0';
            if (comma) {
                *comma = '\0';
                snprintf(args, args_len, "%s\n", comma + 1);
                for (char *c = args; *c; c++)
                    if (*c == ',')
                        *c = '\n';
            }
            snprintf(path, len, "%s%s", strchr(word, '/') ? "" : "bin/", word);
            return "mica.run= on the kernel command line";
        }
    }
    return "the run line of boot/manifest";
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
    /* As mica_spawn_with would, and marked a service: its log lines stay
     * out of the console program's output (MICA_LOG_SERVICE). */
    struct mica_spawn_args args = {.name = "procmgr",
                                   .cmdline = "",
                                   .bootfs = bi->bootfs_vmo,
                                   .resource = bi->root_resource,
                                   .startup = server_end,
                                   .dtb = bi->dtb_vmo,
                                   .dtb_size = bi->dtb_size,
                                   .boot_flags = MICA_BOOT_SERVICE};
    int err = mica_spawn_ex(elf, elf_size, &args, &child);
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
    char path[80], args[sizeof(manifest.run_args)];
    const void *elf;
    size_t elf_size;
    const char *named_by =
        program_path(bi->cmdline, &manifest, path, sizeof(path), args, sizeof(args));
    if (path[0] &&
        mica_cpio_find((const void *)bootfs, bi->bootfs_size, path, &elf, &elf_size) != MICA_OK) {
        mica_printf("init: %s, named by %s, is not in the bootfs: nothing to run, "
                    "powering off\n",
                    path, named_by);
        err = mica_system_exit(bi->root_resource, 2);
        mica_printf("init: system exit failed: %s\n", mica_status_name(err));
        return 1;
    }
    if (path[0]) {
        const char *slash = strrchr(path, '/');
        int result = run_program(strncmp(path, "linux/", 6) == 0 ? path
                                 : slash                         ? slash + 1
                                                                 : path,
                                 args, elf, elf_size, bi, procmgr);
        err = mica_system_exit(bi->root_resource, result);
        mica_printf("init: system exit failed: %s\n", mica_status_name(err));
        return 1;
    }
    mica_printf("init: Mica userspace is up; nothing to run (no run line in boot/manifest, "
                "no mica.run=)\n");
    for (;;)
        mica_sleep_until(MICA_DEADLINE_INFINITE);
}
