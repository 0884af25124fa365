/*
 * The first userspace process. mkimage.py appends a bootfs (a 64-byte
 * header, then a cpio newc archive) to the kernel image; we validate it,
 * load bin/init from it (ELF, parsed by the shared libcap/src/elf.c) into a
 * new process, and hand init its bootstrap handles through the boot-info
 * page (struct mica_bootinfo, mapped read-only at MICA_BOOTINFO_VA, its
 * address also in x0): its own process, address space and thread, the
 * bootfs and device tree as read-only VMOs, and the root resource.
 */
#include <arch/cpufeature.h>
#include <mica/aspace.h>
#include <mica/bootfs.h>
#include <mica/elf.h>
#include <mica/printk.h>
#include <mica/process.h>
#include <mica/resource.h>
#include <mica/status.h>
#include <mica/userboot.h>
#include <mica/vm.h>
#include <mica/vmo.h>
#include <string.h>

#define INIT_PATH "bin/init"
#define INIT_PRIORITY 128
#define STACK_SIZE (64 * 1024UL)
#define STACK_TOP 0x0000007FFFFF0000UL
#define RO_RIGHTS (MICA_RIGHT_READ | MICA_RIGHT_MAP | MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER)

static struct bootfs boot_bootfs;
static paddr_t bootfs_pa;
static size_t bootfs_len;

extern char _start_image[], _end[];

bool bootfs_locate(paddr_t *base, size_t *size)
{
    struct kimage_layout img;
    kimage_layout(&img);
    /* The loader reserved image_size bytes (patched by mkimage.py); the
     * bootfs header is at the first page after our own .bss. */
    uint64_t image_size = *(const uint64_t *)(_start_image + 16);
    size_t tail = img.pa_end - img.pa_start;
    if (image_size <= tail) {
        printk("userboot: no bootfs in the image\n");
        return false;
    }
    const uint8_t *hdr = phys_to_virt(img.pa_end);
    size_t off, len;
    /* The CRC of the whole archive is most of the boot's instructions
     * with the table (10 a byte); the CPU's CRC32 instructions do it in
     * well under one. */
    int err = bootfs_header_check_crc(hdr, image_size - tail, &off, &len,
                                      arch_has_crc32() ? bootfs_crc32_arm : bootfs_crc32);
    if (!err)
        err = bootfs_init(&boot_bootfs, hdr + off, len);
    if (err) {
        printk("userboot: bootfs rejected: %s\n", status_name(err));
        return false;
    }
    bootfs_pa = img.pa_end;
    bootfs_len = off + len;
    *base = bootfs_pa;
    *size = bootfs_len;
    return true;
}

/* A VMO holding a copy of buf, with a handle in p carrying `rights`. */
static int install_copy(struct process *p, const void *buf, size_t len, uint32_t rights,
                        uint32_t *handle)
{
    struct vmo *v;
    int err = vmo_create(p, len ? len : 1, &v);
    if (err)
        return err;
    err = vmo_write_kernel(v, 0, buf, len);
    if (!err)
        err = handle_install(p, &v->obj, rights, 0, NULL, handle);
    object_unref(&v->obj);
    return err;
}

static int map_copy(struct process *p, vaddr_t va, size_t mem_size, size_t data_off,
                    const void *data, size_t data_len, uint32_t flags)
{
    struct vmo *v;
    vaddr_t got;
    int err = vmo_create(p, mem_size, &v);
    if (err)
        return err;
    if (data_len)
        err = vmo_write_kernel(v, data_off, data, data_len);
    if (!err)
        err = aspace_map(p->aspace, v, 0, ALIGN_UP(mem_size, PAGE_SIZE), va, flags | MICA_MAP_FIXED,
                         &got);
    object_unref(&v->obj);
    return err;
}

static int load_elf(struct process *p, const void *file, size_t size, uint64_t *entry)
{
    struct elf_image img;
    const char *why;
    int err = elf_parse(file, size, MICA_USER_BASE, MICA_USER_END, &img, &why);
    if (err) {
        printk("userboot: %s: bad ELF: %s\n", INIT_PATH, why);
        return err;
    }
    for (unsigned i = 0; i < img.n_segments && !err; i++) {
        const struct elf_segment *s = &img.segments[i];
        err = map_copy(p, s->vaddr, s->mem_size, s->data_addr - s->vaddr,
                       (const uint8_t *)file + s->file_offset, s->file_size, s->flags);
    }
    *entry = img.entry;
    return err;
}

int userboot_start(paddr_t dtb_pa, size_t dtb_size, const char *cmdline)
{
    const void *elf;
    size_t elf_size;
    if (bootfs_find(&boot_bootfs, INIT_PATH, &elf, &elf_size) != OK) {
        printk("userboot: no %s in the bootfs\n", INIT_PATH);
        return ERR_NOT_FOUND;
    }
    struct process *p;
    struct thread *t;
    struct resource *root;
    uint64_t entry;
    struct mica_bootinfo bi = {.magic = MICA_BOOTINFO_MAGIC, .version = 1};
    int err = process_create("init", 4, NULL, &p);
    if (err)
        return err;
    if ((err = load_elf(p, elf, elf_size, &entry)) != OK)
        goto fail;
    if ((err = map_copy(p, STACK_TOP - STACK_SIZE, STACK_SIZE, 0, NULL, 0,
                        MICA_MAP_READ | MICA_MAP_WRITE)) != OK)
        goto fail;
    if ((err = thread_create(p, NULL, INIT_PRIORITY, &t)) != OK)
        goto fail;
    if ((err = resource_create_root(&root)) != OK)
        goto fail;
    uint32_t all = MICA_RIGHTS_ALL;
    err = handle_install(p, &p->obj, all, 0, NULL, &bi.self_process);
    if (!err)
        err = handle_install(p, &p->aspace->obj, all, 0, NULL, &bi.self_aspace);
    if (!err)
        err = handle_install(p, &t->obj, all, 0, NULL, &bi.self_thread);
    if (!err)
        err = handle_install(p, &root->obj, all, 0, NULL, &bi.root_resource);
    struct resource *log;
    if (!err && (err = resource_create_child(NULL, root, MICA_RESOURCE_LOG, 0, 1, &log)) == OK) {
        err = handle_install(p, &log->obj, all, 0, NULL, &bi.debug_log);
        object_unref(&log->obj);
    }
    object_unref(&root->obj);
    const uint8_t *cpio = boot_bootfs.base;
    if (!err)
        err = install_copy(p, cpio, boot_bootfs.size, RO_RIGHTS, &bi.bootfs_vmo);
    bi.bootfs_size = boot_bootfs.size;
    if (!err && dtb_size) {
        err = install_copy(p, phys_to_virt(dtb_pa), dtb_size, RO_RIGHTS, &bi.dtb_vmo);
        bi.dtb_size = dtb_size;
    }
    snprintf(bi.cmdline, sizeof(bi.cmdline), "%s", cmdline);
    if (console_active())
        bi.console_pa = console_active()->phys;
    if (!err)
        err = map_copy(p, MICA_BOOTINFO_VA, PAGE_SIZE, 0, &bi, sizeof(bi), MICA_MAP_READ);
    process_set_root_limit(p); /* what its children inherit: the RAM left */
    if (!err)
        err = thread_start(t, entry, STACK_TOP, MICA_BOOTINFO_VA, 0);
    if (err)
        goto fail;
    object_unref(&p->obj); /* kept alive by its thread and its own handles */
    printk("userboot: started init (%lu bytes, entry 0x%lx), memory limit %lu MiB\n", elf_size,
           entry, p->page_limit >> 8);
    return OK;
fail:
    printk("userboot: cannot start init: %s\n", status_name(err));
    process_terminate(p, -1, MICA_EXIT_KILLED);
    object_unref(&p->obj);
    return err;
}
