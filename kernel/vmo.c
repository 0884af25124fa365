/*
 * VMOs (see mica/vmo.h). Page lists are flat arrays allocated from the page
 * allocator, charged with the pages themselves to the creating process.
 * A page lookup walks the parent chain in a loop, never recursively; the
 * chain is bounded by VMO_MAX_COW_DEPTH, counted when a link is made
 * (vmo_create_child, vmo_create_snapshot) and only shortened afterwards
 * (collapse), because a VMO with children is never snapshotted. Everything
 * runs under the big kernel lock (mica/object.h).
 */
#include <mica/aspace.h>
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/process.h>
#include <mica/status.h>
#include <mica/thread.h>
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

/* Children lists (see mica/vmo.h). link_child does not take a reference:
 * the caller hands the child's reference on the parent over. */
static void link_child(struct vmo *parent, struct vmo *c)
{
    c->parent = parent;
    c->sibling_prev = NULL;
    c->sibling_next = parent->children;
    if (parent->children)
        parent->children->sibling_prev = c;
    parent->children = c;
}

static void unlink_child(struct vmo *c)
{
    if (c->sibling_prev)
        c->sibling_prev->sibling_next = c->sibling_next;
    else
        c->parent->children = c->sibling_next;
    if (c->sibling_next)
        c->sibling_next->sibling_prev = c->sibling_prev;
    c->sibling_next = c->sibling_prev = NULL;
    c->parent = NULL;
}

static unsigned depth_of(const struct vmo *v)
{
    unsigned d = 0;
    for (; v->parent; v = v->parent)
        d++;
    return d;
}

/* The page at (page-aligned) offset of v changed identity: drop it from
 * v's mappings and from those of every descendant that reads it through v
 * (recursion bounded by the chain depth). */
static void page_changed(struct vmo *v, uint64_t offset)
{
    aspace_vmo_page_changed(v, offset);
    for (struct vmo *c = v->children; c; c = c->sibling_next) {
        if (offset < c->parent_offset || offset - c->parent_offset >= c->size)
            continue;
        uint64_t in_child = offset - c->parent_offset;
        if (!c->pages[in_child / PAGE_SIZE])
            page_changed(c, in_child);
    }
}

/* Does any child of v read v's page at offset (cover it, not own it)? */
static bool page_in_use(const struct vmo *v, uint64_t offset)
{
    for (const struct vmo *c = v->children; c; c = c->sibling_next)
        if (offset >= c->parent_offset && offset - c->parent_offset < c->size &&
            !c->pages[(offset - c->parent_offset) / PAGE_SIZE])
            return true;
    return false;
}

/* Pages of hidden p that its child x reads: with move, give them to x;
 * either way, count them. */
static size_t adopt_pages(struct vmo *p, struct vmo *x, bool move)
{
    size_t first = x->parent_offset / PAGE_SIZE, n = 0, seen = 0, total = p->committed;
    size_t count = MIN(x->npages, p->npages - first);
    for (size_t j = 0; j < count && seen < total; j++) {
        paddr_t pa = p->pages[first + j];
        if (!pa)
            continue;
        seen++;
        if (x->pages[j])
            continue;
        n++;
        if (move) {
            x->pages[j] = pa;
            p->pages[first + j] = 0;
        }
    }
    if (move) {
        p->committed -= n;
        x->committed += n;
    }
    return n;
}

/* Hidden p has one child left, x: x takes the pages of p it still reads
 * (the same physical pages, so its mappings stay right) and p's place
 * under p's parent. p goes with the reference x held; what is left in it
 * nobody can see. If x's payer cannot take the pages, p stays as an
 * ordinary link in the chain. */
static void collapse(struct vmo *p)
{
    struct vmo *x = p->children, *up = p->parent;
    if (x->charged != p->charged) {
        size_t n = adopt_pages(p, x, false);
        if (process_charge(x->charged, n) != OK)
            return;
        process_uncharge(p->charged, n);
    }
    adopt_pages(p, x, true);
    uint64_t offset = x->parent_offset + p->parent_offset;
    unlink_child(x);
    if (up) { /* x takes over p's reference on up */
        unlink_child(p);
        link_child(up, x);
        x->parent_offset = offset;
    } else {
        x->parent_offset = 0;
    }
    object_unref(&p->obj);
}

/* v no longer needs its parent: drop it, collapsing a hidden parent that
 * is down to one child. */
static void leave_parent(struct vmo *v)
{
    struct vmo *p = v->parent;
    unlink_child(v);
    v->parent_offset = 0;
    if (p->hidden && p->children && !p->children->sibling_next)
        collapse(p);
    object_unref(&p->obj);
}

/* The nearest ancestor of v that has the page at (page-aligned) offset of
 * v: its page, and the ancestor and offset in *owner, *owner_off; 0 if
 * none has (the page reads as zeros). */
static paddr_t ancestor_page(const struct vmo *v, uint64_t offset, struct vmo **owner,
                             uint64_t *owner_off)
{
    while (v->parent) {
        offset += v->parent_offset;
        v = v->parent;
        if (offset >= v->size)
            return 0; /* past the parent's end: zeros */
        paddr_t pa = v->pages[offset / PAGE_SIZE];
        if (pa) {
            *owner = (struct vmo *)v;
            *owner_off = offset;
            return pa;
        }
    }
    return 0;
}

int vmo_get_page(struct vmo *v, uint64_t offset, bool write, paddr_t *pa, bool *shared)
{
    if (shared)
        *shared = false;
    if (offset >= v->size)
        return ERR_OUT_OF_RANGE;
    offset = ALIGN_DOWN(offset, PAGE_SIZE);
    if (v->physical) {
        *pa = v->phys_base + offset;
        return OK;
    }
    size_t i = offset / PAGE_SIZE;
    if (v->pages[i]) {
        *pa = v->pages[i];
        return OK;
    }
    struct vmo *owner = NULL;
    uint64_t owner_off = 0;
    paddr_t src = ancestor_page(v, offset, &owner, &owner_off);
    if (!write) {
        /* A page nobody here wrote: an ancestor's, or the shared zero
         * page; read-only, so that reads commit no memory. */
        *pa = src ? src : zero_page();
        if (shared)
            *shared = true;
        return OK;
    }
    /* The copy in copy-on-write (or a fresh zeroed page). */
    int err = own_page(v, i, src ? phys_to_virt(src) : NULL, pa);
    if (err)
        return err;
    page_changed(v, offset); /* mappings may show the zero page or an ancestor's */
    if (owner && owner->hidden && !page_in_use(owner, owner_off)) {
        /* The last child that could see this frozen page has its own now.
         * The self-test kernel poisons it, so that a pointer into it kept
         * across this call (see vmo_copy, vmo_copy_user) shows at once. */
        if (kernel_is_test_build)
            memset(phys_to_virt(src), 0xA5, PAGE_SIZE);
        page_free_pages(&kernel_page_alloc, src, 1);
        owner->pages[owner_off / PAGE_SIZE] = 0;
        owner->committed--;
        process_uncharge(owner->charged, 1);
    }
    if (v->parent && v->parent->hidden && v->committed == v->npages)
        leave_parent(v); /* it wrote every page: the hidden parent is no use to it */
    return OK;
}

int vmo_create_child(struct process *charge_to, struct vmo *parent, uint64_t offset, uint64_t size,
                     struct vmo **out)
{
    if (parent->physical)
        return ERR_NOT_SUPPORTED;
    if (depth_of(parent) >= VMO_MAX_COW_DEPTH)
        return ERR_LIMIT;
    if (!IS_ALIGNED(offset, PAGE_SIZE) || offset >= parent->size)
        return ERR_INVALID_ARGS;
    struct vmo *v;
    int err = vmo_create(charge_to, size, &v);
    if (err)
        return err;
    object_ref(&parent->obj);
    link_child(parent, v);
    v->parent_offset = offset;
    *out = v;
    return OK;
}

int vmo_create_snapshot(struct process *charge_to, struct vmo *v, uint64_t offset, uint64_t size,
                        struct vmo **out)
{
    if (v->physical || v->contiguous_pages)
        return ERR_NOT_SUPPORTED;
    if (v->read_only)
        return ERR_ACCESS_DENIED;
    if (size == 0 || size > VMO_MAX_SIZE || !IS_ALIGNED(offset, PAGE_SIZE) || offset >= v->size ||
        ALIGN_UP(size, PAGE_SIZE) > v->size - offset)
        return ERR_INVALID_ARGS;
    /* A child would need its chain moved down a level; a pinned page
     * (an IPC buffer) must stay v's. */
    if (v->children || v->pins)
        return ERR_BAD_STATE;
    struct vmo *s, *h;
    int err;
    if (!v->committed && (!v->parent || v->parent->hidden)) {
        /* Nothing of v's own to freeze: it reads only frozen pages or
         * zeros, and the snapshot can read the very same. */
        if ((err = vmo_create(charge_to, size, &s)) != OK)
            return err;
        if (v->parent) {
            object_ref(&v->parent->obj);
            link_child(v->parent, s);
            s->parent_offset = v->parent_offset + offset;
        }
        *out = s;
        return OK;
    }
    if (depth_of(v) >= VMO_MAX_COW_DEPTH)
        return ERR_LIMIT;
    if ((err = vmo_create(charge_to, v->size, &h)) != OK)
        return err;
    if ((err = vmo_create(charge_to, size, &s)) != OK) {
        object_unref(&h->obj);
        return err;
    }
    if (v->charged != charge_to) { /* the frozen pages are the caller's now */
        if ((err = process_charge(charge_to, v->committed)) != OK) {
            object_unref(&s->obj);
            object_unref(&h->obj);
            return err;
        }
        process_uncharge(v->charged, v->committed);
    }
    /* h takes v's pages (the lists have the same size: swap them) and v's
     * place under its parent, with v's reference on it. */
    paddr_t *pages = h->pages;
    h->pages = v->pages;
    v->pages = pages;
    h->committed = v->committed;
    v->committed = 0;
    h->hidden = true;
    if (v->parent) {
        struct vmo *up = v->parent;
        h->parent_offset = v->parent_offset;
        unlink_child(v);
        link_child(up, h);
    }
    object_ref(&h->obj);
    link_child(h, v);
    v->parent_offset = 0;
    link_child(h, s); /* with h's first reference */
    s->parent_offset = offset;
    /* v's mappings show the pages that are h's now: still right to read
     * (v reads them through h), but a write must fault and copy. */
    aspace_vmo_write_protect(v);
    *out = s;
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

/* Map the user pages of [ubuf, ubuf + len) writable before a pointer
 * into a VMO page is taken for copy_to_user: a write fault in the middle
 * of the copy may make a copy-on-write copy that frees the very frozen
 * page being read (vmo_get_page). Pages that cannot be mapped are left to
 * fault in the copy (ERR_FAULT), which frees nothing. */
static void prefault_for_write(uintptr_t ubuf, size_t len)
{
    struct thread *t = current_thread(); /* a system call's: a process's thread */
    struct aspace *as = t->is_idle ? NULL : t->proc->aspace;
    for (uintptr_t va = ALIGN_DOWN(ubuf, PAGE_SIZE); as && va < ubuf + len; va += PAGE_SIZE)
        aspace_fault(as, va, true, false);
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
        if (!to_vmo)
            prefault_for_write(ubuf, in_page);
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
            page_changed(dst, i * PAGE_SIZE); /* it may show the zero page */
        } else {
            /* The write may copy a frozen page and free it, and `from`
             * may be that page (src reading through dst): look again. */
            if ((err = vmo_get_page(dst, dst_off, true, &to, NULL)) != OK ||
                (err = vmo_get_page(src, src_off, false, &from, NULL)) != OK)
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
            leave_parent(v);
    } else {
        process_uncharge(v->charged, v->committed);
        if (v->charged)
            object_unref(&v->charged->obj);
    }
    kmem_cache_free(&vmo_cache, v);
}
