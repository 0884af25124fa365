/*
 * A Linux program's memory, from the personality's side. Every mapping we
 * make (ELF segments, stack, heap, mmap) is a VMO we keep a handle to, in
 * p->regions; reading or writing the program's memory (a write()'s buffer,
 * a stat result) goes through those VMOs, never through our own address
 * space. brk moves within one reserved heap region; mmap takes fresh VMOs
 * below LX_MMAP_TOP; munmap and mprotect split regions as Linux does.
 * Anonymous MAP_SHARED regions are marked so fork shares their VMO.
 * Every VMO is made for the program (lx_vmo_create, lx_vmo_snapshot):
 * charged to it, within its budget (budget.c).
 */
#include "linux.h"
#include <string.h>

#define PAGE MICA_PAGE_SIZE
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define PROT_MASK 7u /* PROT_READ|WRITE|EXEC are MICA_MAP_READ|WRITE|EXEC */
#define PROT_WRITE 2u
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MREMAP_MAYMOVE 1

static struct region *find_region(struct lproc *p, uintptr_t va)
{
    struct region *r = &p->regions[p->region_hint];
    if (p->region_hint < p->n_regions && va >= r->start && va - r->start < r->size)
        return r; /* a program's buffers are mostly in one place */
    for (unsigned i = 0; i < p->n_regions; i++) {
        r = &p->regions[i];
        if (va >= r->start && va - r->start < r->size) {
            p->region_hint = i;
            return r;
        }
    }
    return NULL;
}

/* Does region r let the program (and so us on its behalf) access it?
 * Linux's copy_to_user/copy_from_user honour the page's protection, so a
 * read() into a PROT_READ or PROT_NONE page is EFAULT; on arm64 every
 * mapped page (prot not 0) is readable. A region whose VMO is shared
 * read-only with other programs (cow_shared: text after a fork, the
 * sigreturn page) is never written, whatever its protection says. */
static bool allows(const struct region *r, enum lx_access how)
{
    switch (how) {
    case LX_FOR_READ: return r->prot != 0;
    case LX_FOR_WRITE: return (r->prot & PROT_WRITE) && !r->cow_shared;
    case LX_FOR_LOAD: return !r->cow_shared && !r->shared;
    case LX_FOR_PEEK: return true;
    }
    return false;
}

/* Move len bytes between buf and the program's memory at va. */
static int copy(struct lproc *p, uintptr_t va, void *buf, size_t len, enum lx_access how)
{
    char *b = buf;
    while (len) {
        struct region *r = find_region(p, va);
        if (!r || !allows(r, how))
            return -LX_EFAULT;
        size_t n = r->start + r->size - va;
        if (n > len)
            n = len;
        uint64_t off = r->offset + (va - r->start);
        bool in = how == LX_FOR_WRITE || how == LX_FOR_LOAD;
        int err = in ? mica_vmo_write(r->vmo, off, b, n) : mica_vmo_read(r->vmo, off, b, n);
        if (err)
            return -LX_EFAULT;
        va += n, b += n, len -= n;
    }
    return 0;
}

int lx_read(struct lproc *p, uintptr_t va, void *buf, size_t len)
{
    return copy(p, va, buf, len, LX_FOR_READ);
}

int lx_write(struct lproc *p, uintptr_t va, const void *buf, size_t len)
{
    return copy(p, va, (void *)buf, len, LX_FOR_WRITE);
}

int lx_fill(struct lproc *p, uintptr_t va, const void *buf, size_t len)
{
    return copy(p, va, (void *)buf, len, LX_FOR_LOAD);
}

int lx_transfer(struct lproc *dst, uintptr_t dst_va, struct lproc *src, uintptr_t src_va,
                size_t len)
{
    while (len) {
        struct region *d = find_region(dst, dst_va), *s = find_region(src, src_va);
        if (!d || !s || !allows(d, LX_FOR_WRITE) || !allows(s, LX_FOR_READ))
            return -LX_EFAULT;
        size_t n = d->start + d->size - dst_va;
        if (n > s->start + s->size - src_va)
            n = s->start + s->size - src_va;
        if (n > len)
            n = len;
        if (mica_vmo_copy(d->vmo, d->offset + (dst_va - d->start), s->vmo,
                          s->offset + (src_va - s->start), n) != MICA_OK)
            return -LX_EFAULT;
        dst_va += n, src_va += n, len -= n;
    }
    return 0;
}

int lx_read_string(struct lproc *p, uintptr_t va, char *buf, size_t size)
{
    /* A page at a time (never past the page the string may end in, which
     * could be followed by unmapped memory), not a system call per byte. */
    for (size_t i = 0; i < size;) {
        size_t n = PAGE - ((va + i) & (PAGE - 1));
        if (n > size - i)
            n = size - i;
        int err = lx_read(p, va + i, &buf[i], n);
        if (err)
            return err;
        if (memchr(&buf[i], '\0', n))
            return 0;
        i += n;
    }
    return -LX_ENAMETOOLONG;
}

bool lx_region_room(struct lproc *p)
{
    return p->n_regions < LX_MAX_REGIONS &&
           lx_grow((void **)&p->regions, &p->region_cap, p->n_regions + 1, sizeof(*p->regions));
}

int lx_vmo_create(struct lproc *p, size_t size, mica_handle_t *out)
{
    return mica_vmo_create_for(p->process, size, out);
}

int lx_vmo_snapshot(struct lproc *p, mica_handle_t vmo, uint64_t offset, size_t size,
                    mica_handle_t *out)
{
    return mica_vmo_create_snapshot_for(p->process, vmo, offset, size, out);
}

bool lx_mapped(struct lproc *p, uintptr_t va, bool write)
{
    struct region *r = find_region(p, va);
    return r && (r->prot & (write ? MICA_MAP_WRITE : MICA_MAP_READ));
}

static int add_region(struct lproc *p, uintptr_t start, size_t size, mica_handle_t vmo,
                      uint64_t offset, unsigned prot)
{
    if (!lx_region_room(p))
        return -LX_ENOMEM;
    p->regions[p->n_regions++] =
        (struct region){start, size, vmo, offset, prot, false, false, false};
    return 0;
}

/* Is [va, va+size) free of regions? */
static bool range_free(struct lproc *p, uintptr_t va, size_t size)
{
    for (unsigned i = 0; i < p->n_regions; i++) {
        struct region *r = &p->regions[i];
        if (va < r->start + r->size && r->start < va + size)
            return false;
    }
    return true;
}

/* A fresh zeroed VMO of size bytes mapped at va (or anywhere free below
 * the last mmap when !fixed), its rights `prot` (none: reserved only). */
int lx_map_new(struct lproc *p, uintptr_t va, size_t size, unsigned prot, bool fixed,
               uintptr_t *out)
{
    mica_handle_t vmo;
    size = PAGE_UP(size);
    if (!fixed) {
        va = p->mmap_next - size;
        while (va > LX_STACK_SIZE && !range_free(p, va, size))
            va -= size;
    }
    if (size == 0 || va < MICA_USER_BASE || va + size > MICA_USER_END || !range_free(p, va, size))
        return -LX_ENOMEM;
    if (lx_vmo_create(p, size, &vmo) != MICA_OK)
        return -LX_ENOMEM;
    int err = prot ? mica_aspace_map(p->aspace, vmo, 0, size, va, prot | MICA_MAP_FIXED, NULL) : 0;
    if (!err)
        err = add_region(p, va, size, vmo, 0, prot);
    else
        err = -LX_ENOMEM; /* the kernel's limit on mappings, or memory */
    if (err) {
        mica_handle_close(vmo);
        return err;
    }
    if (!fixed && va < p->mmap_next)
        p->mmap_next = va;
    *out = va;
    return 0;
}

/* Split region r in two at va (strictly inside it): the part from va on
 * becomes a region of its own, on the same VMO through a second handle. */
static int split_region(struct lproc *p, struct region *r, uintptr_t va)
{
    mica_handle_t dup;
    uint32_t rights;
    size_t index = (size_t)(r - p->regions);
    if (!lx_region_room(p))
        return -LX_ENOMEM;
    r = &p->regions[index]; /* the table may have moved */
    if (mica_handle_info(r->vmo, NULL, &rights, NULL) != MICA_OK ||
        mica_handle_dup(r->vmo, rights, &dup) != MICA_OK)
        return -LX_ENOMEM;
    struct region tail = *r;
    tail.start = va;
    tail.size = r->start + r->size - va;
    tail.vmo = dup;
    tail.offset = r->offset + (va - r->start);
    r->size = va - r->start;
    p->regions[p->n_regions++] = tail;
    return 0;
}

/* Private region r shares its VMO read-only with other programs
 * (cow_shared: since a fork, or the sigreturn page) and is about to become
 * writable: give it a copy-on-write child of its own first, mapped where
 * it was, so that no side sees the other's writes. No handle to a shared
 * VMO has the WRITE right (proc.c, loader.c), so the child's view of it
 * never changes underneath. */
static int unshare_region(struct lproc *p, struct region *r)
{
    mica_handle_t snap;
    if (mica_vmo_create_child_for(p->process, r->vmo, r->offset, r->size, &snap) != MICA_OK)
        return -LX_ENOMEM;
    mica_aspace_unmap(p->aspace, r->start, r->size);
    if (r->prot && mica_aspace_map(p->aspace, snap, 0, r->size, r->start, r->prot | MICA_MAP_FIXED,
                                   NULL) != MICA_OK) {
        mica_handle_close(snap);
        mica_aspace_map(p->aspace, r->vmo, r->offset, r->size, r->start, r->prot | MICA_MAP_FIXED,
                        NULL); /* as it was */
        return -LX_ENOMEM;
    }
    mica_handle_close(r->vmo);
    r->vmo = snap;
    r->offset = 0;
    r->cow_shared = false;
    return 0;
}

/* Take [va, va+len) out of the map: regions inside go, regions across
 * its edges shrink or split (the VMO stays with the parts left). */
static int unmap_range(struct lproc *p, uintptr_t va, size_t len)
{
    uintptr_t end = va + len;
    for (unsigned i = 0; i < p->n_regions;) {
        struct region *r = &p->regions[i];
        uintptr_t rs = r->start, re = r->start + r->size;
        if (re <= va || rs >= end) {
            i++;
            continue;
        }
        uintptr_t cut_start = rs > va ? rs : va, cut_end = re < end ? re : end;
        mica_aspace_unmap(p->aspace, cut_start, cut_end - cut_start); /* may be unmapped */
        if (cut_start == rs && cut_end == re) {
            mica_handle_close(r->vmo);
            *r = p->regions[--p->n_regions];
            continue;
        }
        if (cut_start > rs && cut_end < re) { /* a hole in the middle: two parts */
            if (split_region(p, r, cut_end) != 0)
                return -LX_ENOMEM;
            r = &p->regions[i];
            r->size = cut_start - rs;
        } else if (cut_start == rs) {
            r->offset += cut_end - rs;
            r->start = cut_end;
            r->size = re - cut_end;
        } else {
            r->size = cut_start - rs;
        }
        i++;
    }
    return 0;
}

void lx_unmap_all(struct lproc *p, bool unmap)
{
    for (unsigned i = 0; i < p->n_regions; i++) {
        if (unmap && p->regions[i].prot)
            mica_aspace_unmap(p->aspace, p->regions[i].start, p->regions[i].size);
        mica_handle_close(p->regions[i].vmo);
    }
    p->n_regions = 0;
}

static int64_t sys_brk(struct lproc *p, uintptr_t want)
{
    if (want > p->brk && (PAGE_UP(want) - PAGE_UP(p->brk)) / PAGE > lx_room(p))
        return (int64_t)p->brk; /* memory the budget could not back: ENOMEM */
    if (want >= p->brk_base && want <= p->brk_base + LX_BRK_MAX)
        p->brk = want;
    return (int64_t)p->brk; /* Linux answers the break either way */
}

static int64_t sys_mmap(struct lproc *p, const uint64_t *a)
{
    uintptr_t addr = a[0], va;
    size_t len = a[1];
    unsigned prot = (unsigned)a[2], flags = (unsigned)a[3];
    int fd = (int)a[4];
    if (len == 0 || len > (1UL << 36) || (addr & (PAGE - 1)) || (prot & ~PROT_MASK) ||
        !(flags & (MAP_SHARED | MAP_PRIVATE)))
        return -LX_EINVAL;
    struct lfile *file = NULL;
    if (!(flags & MAP_ANONYMOUS)) { /* a file: a private copy of its bytes */
        file = lx_fd(p, (uint64_t)fd);
        if (!file)
            return -LX_EBADF;
        if (file->kind != FD_FILE || ((flags & MAP_SHARED) && (prot & PROT_WRITE)))
            return -LX_ENODEV; /* shared writable file mappings: not here */
        if (a[5] & (PAGE - 1))
            return -LX_EINVAL;
    }
    if (flags & MAP_FIXED) {
        if (addr < MICA_USER_BASE || addr + PAGE_UP(len) > MICA_USER_END)
            return -LX_EINVAL;
        unmap_range(p, addr, PAGE_UP(len));
    }
    if (prot && PAGE_UP(len) / PAGE > lx_room(p))
        return -LX_ENOMEM; /* more than its budget could ever back now */
    int err = lx_map_new(p, addr, len, prot, flags & MAP_FIXED, &va);
    if (!err && file && (err = lx_file_copy_in(p, file, a[5], va, len)) != 0)
        unmap_range(p, va, PAGE_UP(len));
    if (!err && !file && (flags & MAP_SHARED))
        find_region(p, va)->shared = true; /* fork shares it (proc.c) */
    return err ? err : (int64_t)va;
}

/* mremap: shrink in place, or move to a bigger fresh region (MAYMOVE). */
static int64_t sys_mremap(struct lproc *p, uintptr_t old, size_t old_size, size_t new_size,
                          unsigned flags)
{
    static char chunk[65536];
    struct region *r = find_region(p, old);
    uintptr_t va;
    old_size = PAGE_UP(old_size);
    new_size = PAGE_UP(new_size);
    if ((old & (PAGE - 1)) || new_size == 0 || (flags & ~MREMAP_MAYMOVE) || !r)
        return r ? -LX_EINVAL : -LX_EFAULT;
    if (new_size <= old_size) {
        unmap_range(p, old + new_size, old_size - new_size);
        return (int64_t)old;
    }
    if (!(flags & MREMAP_MAYMOVE))
        return -LX_ENOMEM;
    unsigned prot = r->prot;
    int err = lx_map_new(p, 0, new_size, prot, false, &va);
    for (size_t done = 0; !err && done < old_size; done += sizeof(chunk)) {
        size_t n = old_size - done < sizeof(chunk) ? old_size - done : sizeof(chunk);
        if (copy(p, old + done, chunk, n, LX_FOR_PEEK) || lx_fill(p, va + done, chunk, n))
            err = -LX_EFAULT;
    }
    if (err)
        return err;
    unmap_range(p, old, old_size);
    return (int64_t)va;
}

static int64_t sys_munmap(struct lproc *p, uintptr_t addr, size_t len)
{
    if ((addr & (PAGE - 1)) || len == 0 || addr + len < addr)
        return -LX_EINVAL;
    return unmap_range(p, addr, PAGE_UP(len));
}

static int64_t sys_mprotect(struct lproc *p, uintptr_t addr, size_t len, unsigned prot)
{
    if ((addr & (PAGE - 1)) || (prot & ~PROT_MASK))
        return -LX_EINVAL;
    len = PAGE_UP(len);
    for (uintptr_t va = addr; va < addr + len; va += PAGE)
        if (!find_region(p, va))
            return -LX_ENOMEM; /* Linux: not all of it is mapped */
    if (len == 0)
        return 0;
    bool same = true; /* nothing changes: no split (each costs us a handle) */
    for (unsigned i = 0; i < p->n_regions && same; i++) {
        const struct region *q = &p->regions[i];
        if (q->start < addr + len && addr < q->start + q->size && q->prot != prot)
            same = false;
    }
    if (same)
        return 0;
    /* The range's regions get exactly the new protection (fork shares a
     * private region only while it cannot be written): split at its ends. */
    struct region *r;
    if (((r = find_region(p, addr)) && r->start != addr && split_region(p, r, addr)) ||
        ((r = find_region(p, addr + len)) && r->start != addr + len &&
         split_region(p, r, addr + len)))
        return -LX_ENOMEM;
    for (unsigned i = 0; i < p->n_regions; i++) {
        r = &p->regions[i];
        if (r->start < addr || r->start >= addr + len)
            continue;
        if ((prot & PROT_WRITE) && r->cow_shared && unshare_region(p, r) != 0)
            return -LX_ENOMEM;
        r->prot = prot;
    }
    if (prot && mica_aspace_protect(p->aspace, addr, len, prot) == MICA_OK)
        return 0;
    /* Region by region (each lies wholly inside the range now), so ranges
     * across regions and reserved (PROT_NONE) parts work alike, and each
     * region stays one mapping of the kernel's. */
    for (unsigned i = 0; i < p->n_regions; i++) {
        r = &p->regions[i];
        if (r->start < addr || r->start >= addr + len)
            continue;
        mica_aspace_unmap(p->aspace, r->start, r->size);
        if (prot && mica_aspace_map(p->aspace, r->vmo, r->offset, r->size, r->start,
                                    prot | MICA_MAP_FIXED, NULL) != MICA_OK)
            return -LX_ENOMEM;
    }
    return 0;
}

int64_t lx_sys_memory(struct lproc *p, unsigned nr, const uint64_t *a)
{
    switch (nr) {
    case NR_brk: return sys_brk(p, a[0]);
    case NR_mmap: return sys_mmap(p, a);
    case NR_munmap: return sys_munmap(p, a[0], a[1]);
    case NR_mprotect: return sys_mprotect(p, a[0], a[1], (unsigned)a[2]);
    case NR_madvise: return 0; /* advice only */
    case NR_mremap: return sys_mremap(p, a[0], a[1], a[2], (unsigned)a[3]);
    default: return -LX_ENOSYS;
    }
}
