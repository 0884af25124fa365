/*
 * VMOs (see mica/vmo.h). Page lists are flat arrays allocated from the page
 * allocator, charged with the pages themselves to the creating process.
 */
#include <mica/aspace.h>
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/process.h>
#include <mica/status.h>
#include <mica/usercopy.h>
#include <mica/vm.h>
#include <mica/vmo.h>
#include <string.h>

static struct kmem_cache vmo_cache;
static uint8_t zero_page_storage[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* A page of zeros, never written (it is in .bss, mapped read-only to users). */
static paddr_t zero_page(void)
{
    return virt_to_phys(zero_page_storage);
}

void vmo_init(void)
{
    if (kmem_cache_init(&vmo_cache, "vmo", sizeof(struct vmo), 8, &kernel_slab_pages))
        panic("vmo: cannot create the vmo cache");
}

static size_t list_pages(size_t npages)
{
    return ALIGN_UP(npages * sizeof(paddr_t), PAGE_SIZE) / PAGE_SIZE;
}

int vmo_create(struct process *charge_to, uint64_t size, struct vmo **out)
{
    if (size == 0 || size > VMO_MAX_SIZE)
        return ERR_INVALID_ARGS;
    size = ALIGN_UP(size, PAGE_SIZE);
    size_t npages = size / PAGE_SIZE;
    int err = process_charge(charge_to, list_pages(npages));
    if (err)
        return err;
    struct vmo *v = kmem_cache_alloc(&vmo_cache);
    paddr_t list;
    if (!v || page_alloc_pages(&kernel_page_alloc, list_pages(npages), &list) != OK) {
        if (v)
            kmem_cache_free(&vmo_cache, v);
        process_uncharge(charge_to, list_pages(npages));
        return ERR_NO_MEMORY;
    }
    object_init(&v->obj, MICA_OBJ_VMO);
    v->size = size;
    v->npages = npages;
    v->pages = phys_to_virt(list);
    memset(v->pages, 0, list_pages(npages) * PAGE_SIZE);
    v->charged = charge_to;
    if (charge_to)
        object_ref(&charge_to->obj);
    *out = v;
    return OK;
}

int vmo_create_physical(struct process *charge_to, paddr_t base, uint64_t size, bool device,
                        struct vmo **out)
{
    if (size == 0 || !IS_ALIGNED(base | size, PAGE_SIZE))
        return ERR_INVALID_ARGS;
    int err = process_charge(charge_to, 1); /* the object itself */
    if (err)
        return err;
    struct vmo *v = kmem_cache_alloc(&vmo_cache);
    if (!v) {
        process_uncharge(charge_to, 1);
        return ERR_NO_MEMORY;
    }
    object_init(&v->obj, MICA_OBJ_VMO);
    v->charged = charge_to;
    v->committed = 1;
    if (charge_to)
        object_ref(&charge_to->obj);
    v->size = size;
    v->physical = true;
    v->device = device;
    v->phys_base = base;
    *out = v;
    return OK;
}

/* A fresh page for v at index i, filled from `src` (or zeroed). */
static int own_page(struct vmo *v, size_t i, const void *src, paddr_t *pa)
{
    if (process_charge(v->charged, 1) != OK)
        return ERR_LIMIT;
    paddr_t page;
    if (page_alloc_pages(&kernel_page_alloc, 1, &page) != OK) {
        process_uncharge(v->charged, 1);
        return ERR_NO_MEMORY;
    }
    if (src)
        memcpy(phys_to_virt(page), src, PAGE_SIZE);
    else
        memset(phys_to_virt(page), 0, PAGE_SIZE);
    v->pages[i] = page;
    v->committed++;
    *pa = page;
    return OK;
}

int vmo_create_contiguous(struct process *charge_to, uint64_t size, struct vmo **out)
{
    if (size == 0 || size > CONTIGUOUS_MAX)
        return ERR_INVALID_ARGS;
    size = ALIGN_UP(size, PAGE_SIZE);
    size_t npages = size / PAGE_SIZE;
    struct vmo *v;
    int err = vmo_create(charge_to, size, &v);
    if (err)
        return err;
    paddr_t block;
    if ((err = process_charge(charge_to, npages)) != OK) {
        object_unref(&v->obj);
        return err;
    }
    if (page_alloc_pages(&kernel_page_alloc, npages, &block) != OK) {
        process_uncharge(charge_to, npages);
        object_unref(&v->obj);
        return ERR_NO_MEMORY;
    }
    memset(phys_to_virt(block), 0, size);
    for (size_t i = 0; i < npages; i++)
        v->pages[i] = block + i * PAGE_SIZE;
    v->committed = npages;
    v->contiguous_pages = npages;
    *out = v;
    return OK;
}

int vmo_get_page(struct vmo *v, uint64_t offset, bool write, paddr_t *pa, bool *shared)
{
    if (shared)
        *shared = false;
    if (offset >= v->size)
        return ERR_OUT_OF_RANGE;
    if (v->physical) {
        *pa = v->phys_base + ALIGN_DOWN(offset, PAGE_SIZE);
        return OK;
    }
    size_t i = offset / PAGE_SIZE;
    if (v->pages[i]) {
        *pa = v->pages[i];
        return OK;
    }
    uint64_t in_parent = v->parent_offset + ALIGN_DOWN(offset, PAGE_SIZE);
    bool from_parent = v->parent && in_parent < v->parent->size;
    if (!write && !from_parent) {
        /* Reading a page nobody wrote: the shared zero page, read-only, so
         * that reads commit no memory (a write gets a page of its own). */
        *pa = zero_page();
        if (shared)
            *shared = true;
        return OK;
    }
    int err;
    if (from_parent) {
        paddr_t src;
        err = vmo_get_page(v->parent, in_parent, false, &src, NULL);
        if (err)
            return err;
        if (!write) {
            *pa = src;
            if (shared)
                *shared = true;
            return OK;
        }
        err = own_page(v, i, phys_to_virt(src), pa); /* the copy in copy-on-write */
    } else {
        err = own_page(v, i, NULL, pa);
    }
    /* Mappings may show the zero page or a parent's page here: drop them. */
    if (!err)
        aspace_vmo_page_changed(v, ALIGN_DOWN(offset, PAGE_SIZE));
    return err;
}

int vmo_create_child(struct process *charge_to, struct vmo *parent, uint64_t offset, uint64_t size,
                     struct vmo **out)
{
    if (parent->physical)
        return ERR_NOT_SUPPORTED;
    if (parent->depth >= VMO_MAX_COW_DEPTH)
        return ERR_LIMIT;
    if (!IS_ALIGNED(offset, PAGE_SIZE) || offset >= parent->size)
        return ERR_INVALID_ARGS;
    struct vmo *v;
    int err = vmo_create(charge_to, size, &v);
    if (err)
        return err;
    object_ref(&parent->obj);
    v->parent = parent;
    v->depth = parent->depth + 1;
    v->parent_offset = offset;
    *out = v;
    return OK;
}

static int check_range(struct vmo *v, uint64_t offset, size_t len)
{
    if (offset > v->size || len > v->size - offset)
        return ERR_OUT_OF_RANGE;
    return OK;
}

int vmo_write_kernel(struct vmo *v, uint64_t offset, const void *buf, size_t len)
{
    int err = check_range(v, offset, len);
    while (!err && len) {
        paddr_t pa;
        size_t in_page = MIN(len, PAGE_SIZE - (offset & PAGE_MASK));
        if ((err = vmo_get_page(v, offset, true, &pa, NULL)) != OK)
            break;
        memcpy((char *)phys_to_virt(pa) + (offset & PAGE_MASK), buf, in_page);
        buf = (const char *)buf + in_page;
        offset += in_page;
        len -= in_page;
    }
    return err;
}

int vmo_copy_user(struct vmo *v, uint64_t offset, uintptr_t ubuf, size_t len, bool to_vmo)
{
    int err = check_range(v, offset, len);
    if (!err && v->physical)
        err = ERR_NOT_SUPPORTED; /* device registers: map them instead */
    if (!err)
        err = user_range_ok(ubuf, len);
    while (!err && len) {
        paddr_t pa;
        size_t in_page = MIN(len, PAGE_SIZE - (offset & PAGE_MASK));
        if ((err = vmo_get_page(v, offset, to_vmo, &pa, NULL)) != OK)
            break;
        char *k = (char *)phys_to_virt(pa) + (offset & PAGE_MASK);
        err = to_vmo ? copy_from_user(k, ubuf, in_page) : copy_to_user(ubuf, k, in_page);
        ubuf += in_page;
        offset += in_page;
        len -= in_page;
    }
    return err;
}

int vmo_copy(struct vmo *dst, uint64_t dst_off, struct vmo *src, uint64_t src_off, size_t len)
{
    int err = check_range(dst, dst_off, len);
    if (!err)
        err = check_range(src, src_off, len);
    if (!err && (dst->physical || src->physical))
        err = ERR_NOT_SUPPORTED; /* device registers: map them instead */
    if (!err && dst == src && dst_off < src_off + len && src_off < dst_off + len)
        err = ERR_INVALID_ARGS;
    while (!err && len) {
        size_t n = MIN(len, PAGE_SIZE - (dst_off & PAGE_MASK));
        n = MIN(n, PAGE_SIZE - (src_off & PAGE_MASK));
        paddr_t from, to;
        size_t i = dst_off / PAGE_SIZE;
        if ((err = vmo_get_page(src, src_off, false, &from, NULL)) != OK)
            break;
        if (n == PAGE_SIZE && !dst->pages[i] && !dst->parent) {
            /* A whole page nobody wrote yet: fill it from the source as it
             * is allocated, without zeroing it first. */
            if ((err = own_page(dst, i, phys_to_virt(from), &to)) != OK)
                break;
            aspace_vmo_page_changed(dst, dst_off); /* it may show the zero page */
        } else {
            if ((err = vmo_get_page(dst, dst_off, true, &to, NULL)) != OK)
                break;
            char *d = (char *)phys_to_virt(to) + (dst_off & PAGE_MASK);
            const char *s = (const char *)phys_to_virt(from) + (src_off & PAGE_MASK);
            if (to == from) /* a copy-on-write child reading its parent's page */
                memmove(d, s, n);
            else
                memcpy(d, s, n);
        }
        dst_off += n;
        src_off += n;
        len -= n;
    }
    return err;
}

void vmo_destroy(struct object *obj)
{
    struct vmo *v = (struct vmo *)obj;
    if (!v->physical) {
        if (v->contiguous_pages)
            page_free_pages(&kernel_page_alloc, v->pages[0], v->contiguous_pages);
        else
            for (size_t i = 0, left = v->committed; left && i < v->npages; i++)
                if (v->pages[i]) { /* stops after the last committed page */
                    page_free_pages(&kernel_page_alloc, v->pages[i], 1);
                    left--;
                }
        page_free_pages(&kernel_page_alloc, virt_to_phys(v->pages), list_pages(v->npages));
        process_uncharge(v->charged, v->committed + list_pages(v->npages));
        if (v->charged)
            object_unref(&v->charged->obj);
        if (v->parent)
            object_unref(&v->parent->obj);
    } else {
        process_uncharge(v->charged, v->committed);
        if (v->charged)
            object_unref(&v->charged->obj);
    }
    kmem_cache_free(&vmo_cache, v);
}
