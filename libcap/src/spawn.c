/*
 * mica_spawn: start a program from an ELF image in memory. The ELF is
 * checked by the same parser the kernel uses (mica/elf.h); each loadable
 * segment becomes a VMO mapped at its address with its rights; the child
 * gets a stack and a struct mica_bootinfo page with its own handles. Its
 * memory is charged to the child itself, so the limit it is given
 * (mica_spawn_args.page_limit, else the spawner's) covers all of it.
 * Every failure is cleaned up: the half-made child is killed.
 */
#include <mica/cap.h>
#include <mica/elf.h>
#include <string.h>

#define STACK_SIZE (64 * 1024UL)
#define STACK_TOP 0x0000007FFFFF0000UL
#define CHILD_PRIORITY 128

/* A VMO for the child (charged to it: under its own limit) mapped at va. */
static int map_new_vmo(mica_handle_t proc, mica_handle_t aspace, uintptr_t va, size_t size,
                       uint64_t data_off, const void *data, size_t data_len, uint32_t flags)
{
    mica_handle_t vmo;
    int err = mica_vmo_create_for(proc, size, &vmo);
    if (err)
        return err;
    if (data_len)
        err = mica_vmo_write(vmo, data_off, data, data_len);
    if (!err)
        err = mica_aspace_map(aspace, vmo, 0, size, va, flags | MICA_MAP_FIXED, NULL);
    mica_handle_close(vmo); /* the mapping keeps the VMO alive */
    return err;
}

/* Give the child a duplicate of h with at most `rights` (and at least
 * TRANSFER, needed for the move); its value there goes to *in_child. */
static int give_dup(mica_handle_t h, uint32_t rights, mica_handle_t child, uint32_t *in_child)
{
    mica_handle_t dup;
    uint32_t have;
    *in_child = 0;
    if (!h)
        return MICA_OK;
    int err = mica_handle_info(h, NULL, &have, NULL);
    if (!err)
        err = mica_handle_dup(h, (rights & have) | MICA_RIGHT_TRANSFER, &dup);
    if (err)
        return err;
    err = mica_handle_give(dup, child, in_child);
    if (err)
        mica_handle_close(dup);
    return err;
}

int mica_spawn(const void *elf, size_t size, const char *name, const char *cmdline,
               mica_handle_t bootfs, mica_handle_t resource, mica_handle_t *process)
{
    return mica_spawn_with(elf, size, name, cmdline, bootfs, resource, 0, process);
}

int mica_spawn_with(const void *elf, size_t size, const char *name, const char *cmdline,
                    mica_handle_t bootfs, mica_handle_t resource, mica_handle_t startup,
                    mica_handle_t *process)
{
    struct mica_spawn_args args = {.name = name,
                                   .cmdline = cmdline,
                                   .bootfs = bootfs,
                                   .resource = resource,
                                   .startup = startup};
    /* Whoever may touch devices may also read the device tree. */
    if (resource && mica_bootinfo && mica_bootinfo->dtb_vmo) {
        args.dtb = mica_bootinfo->dtb_vmo;
        args.dtb_size = mica_bootinfo->dtb_size;
    }
    return mica_spawn_ex(elf, size, &args, process);
}

int mica_spawn_ex(const void *elf, size_t size, const struct mica_spawn_args *args,
                  mica_handle_t *process)
{
    const char *name = args->name, *cmdline = args->cmdline;
    mica_handle_t bootfs = args->bootfs, resource = args->resource, startup = args->startup;
    if (args->n_handles > MICA_BOOT_HANDLES)
        return MICA_ERR_INVALID_ARGS;
    struct elf_image img;
    const char *why;
    int err = elf_parse(elf, size, MICA_USER_BASE, MICA_USER_END, &img, &why);
    if (err) {
        mica_printf("spawn %s: bad ELF: %s\n", name, why);
        return err;
    }
    mica_handle_t proc, aspace, thread = 0;
    if ((err = mica_process_create(name, &proc, &aspace)) != MICA_OK)
        return err;
    if (args->page_limit) /* before it runs: never below what it holds */
        err = mica_process_set_limit(proc, args->page_limit);
    for (unsigned i = 0; i < img.n_segments && !err; i++) {
        const struct elf_segment *s = &img.segments[i];
        err = map_new_vmo(proc, aspace, s->vaddr, s->mem_size, s->data_addr - s->vaddr,
                          (const uint8_t *)elf + s->file_offset, s->file_size, s->flags);
    }
    if (!err)
        err = map_new_vmo(proc, aspace, STACK_TOP - STACK_SIZE, STACK_SIZE, 0, NULL, 0,
                          MICA_MAP_READ | MICA_MAP_WRITE);
    if (!err)
        err = mica_thread_create(proc, CHILD_PRIORITY, &thread);

    struct mica_bootinfo bi;
    memset(&bi, 0, sizeof(bi));
    bi.magic = MICA_BOOTINFO_MAGIC;
    bi.version = 1;
    if (!err)
        err = give_dup(proc, MICA_RIGHTS_ALL, proc, &bi.self_process);
    if (!err)
        err = give_dup(aspace, MICA_RIGHTS_ALL & ~MICA_RIGHT_WAIT, proc, &bi.self_aspace);
    if (!err)
        err = give_dup(thread, MICA_RIGHT_MANAGE | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER, proc,
                       &bi.self_thread);
    if (!err)
        err = give_dup(bootfs, MICA_RIGHT_READ | MICA_RIGHT_MAP | MICA_RIGHT_DUPLICATE, proc,
                       &bi.bootfs_vmo);
    if (!err)
        err = give_dup(resource, MICA_RIGHTS_ALL, proc, &bi.root_resource);
    if (!err && startup)
        err = mica_handle_give(startup, proc, &bi.startup_handle);
    /* Children may log as we do; read the log (others' lines) only if we
     * trust them with the root resource too (the console program). */
    if (!err && mica_bootinfo)
        err = give_dup(mica_bootinfo->debug_log,
                       MICA_RIGHT_MANAGE | MICA_RIGHT_DUPLICATE | (resource ? MICA_RIGHT_READ : 0),
                       proc, &bi.debug_log);
    if (!err && args->dtb) {
        err = give_dup(args->dtb, MICA_RIGHT_READ | MICA_RIGHT_MAP | MICA_RIGHT_DUPLICATE, proc,
                       &bi.dtb_vmo);
        bi.dtb_size = args->dtb_size;
    }
    if (!err && args->procmgr)
        err = give_dup(args->procmgr, MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE, proc, &bi.procmgr);
    for (unsigned i = 0; !err && i < args->n_handles; i++)
        err = give_dup(args->handles[i], MICA_RIGHTS_ALL, proc, &bi.handles[i]);
    bi.n_handles = args->n_handles;
    bi.flags = args->boot_flags;
    if (mica_bootinfo) {
        bi.bootfs_size = mica_bootinfo->bootfs_size;
        bi.console_pa = mica_bootinfo->console_pa;
    }
    snprintf(bi.cmdline, sizeof(bi.cmdline), "%s", cmdline ? cmdline : "");
    if (!err)
        err = map_new_vmo(proc, aspace, MICA_BOOTINFO_VA, MICA_PAGE_SIZE, 0, &bi, sizeof(bi),
                          MICA_MAP_READ);
    if (!err)
        err = mica_thread_start(thread, img.entry, STACK_TOP, MICA_BOOTINFO_VA, 0);
    if (thread)
        mica_handle_close(thread);
    mica_handle_close(aspace);
    if (err) {
        mica_process_kill(proc);
        mica_handle_close(proc);
        return err;
    }
    *process = proc;
    return MICA_OK;
}
