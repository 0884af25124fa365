/*
 * Address spaces (see mica/aspace.h).
 *
 * ASIDs are 16 bits with a generation: when they run out, the generation
 * advances, every TLB entry is invalidated, and address spaces get fresh
 * ASIDs when they are next activated (ASID rollover).
 */
#include <mica/aspace.h>
#include <mica/cpu.h>
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/status.h>
#include <mica/vm.h>
#include <mica/vmo.h>
#include <string.h>

/* 16-bit ASIDs; the test build uses only 64 so that rollover happens in
 * the guest tests. */
#define ASID_COUNT (kernel_is_test_build ? 64u : 65536u)

static struct kmem_cache aspace_cache, mapping_cache;
uint64_t asid_generation = 1;
uint64_t asid_rollovers;       /* for tests and statistics */
static uint32_t next_asid = 1; /* ASID 0 is never used by an address space */
static uint64_t empty_table[512] __attribute__((aligned(4096)));

void aspace_init(void)
{
    if (kmem_cache_init(&aspace_cache, "aspace", sizeof(struct aspace), 8, &kernel_slab_pages) ||
        kmem_cache_init(&mapping_cache, "mapping", sizeof(struct mapping), 8, &kernel_slab_pages))
        panic("aspace: cannot create caches");
}

int aspace_create(struct process *payer, struct aspace **out)
{
    struct charge tables = {0};
    int err = charge_take(&tables, payer, 1);
    if (err)
        return err;
    struct aspace *as = kmem_cache_alloc(&aspace_cache);
    paddr_t root;
    if (!as || page_alloc_pages(&kernel_page_alloc, 1, &root) != OK) {
        if (as)
            kmem_cache_free(&aspace_cache, as);
        charge_release(&tables);
        return ERR_NO_MEMORY;
    }
    as->tables = tables;
    memset(phys_to_virt(root), 0, PAGE_SIZE);
    object_init(&as->obj, MICA_OBJ_ASPACE);
    as->root = root;
    as->table_pages = 1;
    *out = as;
    return OK;
}

/* Point TTBR0 at an empty table (ASID 0): nothing of a user space stays
 * loaded for the walker to refill the TLB from. */
void aspace_deactivate(void)
{
    uint64_t ttbr = virt_to_phys(empty_table);
    __asm__ volatile("msr ttbr0_el1, %0\n isb" ::"r"(ttbr) : "memory");
    this_cpu()->active_aspace = NULL;
}

void aspace_assign_asid(struct aspace *as)
{
    if (next_asid == ASID_COUNT) {
        aspace_deactivate(); /* before the flush, not after */
        asid_generation++;
        asid_rollovers++;
        next_asid = 1;
        __asm__ volatile("dsb ishst\n tlbi vmalle1is\n dsb ish\n isb" ::: "memory");
    }
    as->asid = (uint16_t)next_asid++;
    as->asid_generation = asid_generation;
    as->ttbr = as->root | ((uint64_t)as->asid << 48);
}

static struct mapping *find_mapping(struct aspace *as, vaddr_t va)
{
    for (struct mapping *m = as->mappings; m; m = m->next)
        if (va >= m->base && va - m->base < m->size)
            return m;
    return NULL;
}

static bool range_free(struct aspace *as, vaddr_t va, size_t size)
{
    for (struct mapping *m = as->mappings; m; m = m->next)
        if (va < m->base + m->size && m->base < va + size)
            return false;
    return true;
}

static int choose_address(struct aspace *as, size_t size, vaddr_t *out)
{
    vaddr_t va = ASPACE_AUTO_BASE;
    for (struct mapping *m = as->mappings; m; m = m->next) {
        if (m->base + m->size <= va)
            continue;
        if (m->base >= va + size)
            break;
        va = m->base + m->size;
    }
    if (va + size > MICA_USER_END)
        return ERR_NO_MEMORY;
    *out = va;
    return OK;
}

static void vmo_link(struct mapping *m)
{
    struct vmo *v = m->vmo;
    m->vmo_prev = NULL;
    m->vmo_next = v->mappings;
    if (v->mappings)
        v->mappings->vmo_prev = m;
    v->mappings = m;
}

static void vmo_unlink(struct mapping *m)
{
    if (m->vmo_prev)
        m->vmo_prev->vmo_next = m->vmo_next;
    else
        m->vmo->mappings = m->vmo_next;
    if (m->vmo_next)
        m->vmo_next->vmo_prev = m->vmo_prev;
    m->vmo_next = m->vmo_prev = NULL;
}

void aspace_vmo_page_changed(struct vmo *vmo, uint64_t offset)
{
    for (struct mapping *m = vmo->mappings; m; m = m->vmo_next)
        if (offset >= m->offset && offset - m->offset < m->size)
            upt_unmap(m->as, m->base + (offset - m->offset));
}

void aspace_vmo_write_protect(struct vmo *vmo)
{
    for (struct mapping *m = vmo->mappings; m; m = m->vmo_next)
        if (m->flags & MICA_MAP_WRITE)
            upt_protect_range(m->as, m->base, m->base + m->size);
}

static void insert_mapping(struct aspace *as, struct mapping *m)
{
    struct mapping **p = &as->mappings;
    while (*p && (*p)->base < m->base)
        p = &(*p)->next;
    m->next = *p;
    *p = m;
    as->n_mappings++;
}

int aspace_map(struct aspace *as, struct vmo *vmo, uint64_t offset, size_t size, vaddr_t va,
               uint32_t flags, vaddr_t *out)
{
    if (size == 0 || !IS_ALIGNED(offset | size, PAGE_SIZE) || offset > vmo->size ||
        size > vmo->size - offset)
        return ERR_INVALID_ARGS;
    if (as->n_mappings >= ASPACE_MAX_MAPPINGS)
        return ERR_LIMIT;
    if (vmo->device && (flags & MICA_MAP_EXEC))
        return ERR_ACCESS_DENIED; /* never execute from device registers */
    if (flags & MICA_MAP_FIXED) {
        if (!IS_ALIGNED(va, PAGE_SIZE) || va < MICA_USER_BASE || va >= MICA_USER_END ||
            size > MICA_USER_END - va)
            return ERR_INVALID_ARGS;
        if (!range_free(as, va, size))
            return ERR_BAD_STATE;
    } else {
        int err = choose_address(as, size, &va);
        if (err)
            return err;
    }
    struct mapping *m = kmem_cache_alloc(&mapping_cache);
    if (!m)
        return ERR_NO_MEMORY;
    m->base = va;
    m->size = size;
    m->vmo = vmo;
    m->offset = offset;
    m->flags = flags & (MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC);
    m->as = as;
    object_ref(&vmo->obj);
    vmo_link(m);
    insert_mapping(as, m);
    *out = va;
    return OK;
}

/* Remove [va, va+size) from mapping m (which overlaps it), splitting it if
 * the hole is in the middle. */
static int cut_mapping(struct aspace *as, struct mapping **link, vaddr_t va, size_t size)
{
    struct mapping *m = *link;
    vaddr_t start = MAX(va, m->base), end = MIN(va + size, m->base + m->size);
    upt_unmap_range(as, start, end);
    if (start > m->base && end < m->base + m->size) {
        if (as->n_mappings >= ASPACE_MAX_MAPPINGS)
            return ERR_LIMIT; /* a split would pass the limit */
        struct mapping *right = kmem_cache_alloc(&mapping_cache);
        if (!right)
            return ERR_NO_MEMORY;
        *right = *m;
        right->base = end;
        right->size = m->base + m->size - end;
        right->offset = m->offset + (end - m->base);
        object_ref(&m->vmo->obj);
        vmo_link(right);
        m->size = start - m->base;
        right->next = m->next;
        m->next = right;
        as->n_mappings++;
    } else if (start > m->base) {
        m->size = start - m->base;
    } else if (end < m->base + m->size) {
        m->offset += end - m->base;
        m->size -= end - m->base;
        m->base = end;
    } else {
        *link = m->next;
        as->n_mappings--;
        vmo_unlink(m);
        object_unref(&m->vmo->obj);
        kmem_cache_free(&mapping_cache, m);
    }
    return OK;
}

static int check_user_range(vaddr_t va, size_t size)
{
    if (size == 0 || !IS_ALIGNED(va | size, PAGE_SIZE) || va >= MICA_USER_END ||
        size > MICA_USER_END - va)
        return ERR_INVALID_ARGS;
    return OK;
}

int aspace_unmap(struct aspace *as, vaddr_t va, size_t size)
{
    int err = check_user_range(va, size);
    if (err)
        return err;
    if (range_free(as, va, size))
        return ERR_NOT_FOUND;
    struct mapping **link = &as->mappings;
    while (*link) {
        struct mapping *m = *link;
        if (m->base < va + size && va < m->base + m->size) {
            if ((err = cut_mapping(as, link, va, size)) != OK)
                return err;
            if (*link != m)
                continue; /* m was removed: *link is already the next one */
        }
        link = &(*link)->next;
    }
    return OK;
}

int aspace_protect(struct aspace *as, vaddr_t va, size_t size, uint32_t flags)
{
    int err = check_user_range(va, size);
    if (err)
        return err;
    /* Only whole mappings, and only narrowing what they were mapped with:
     * the mapping's flags were checked against the VMO handle's rights. */
    for (vaddr_t p = va; p < va + size;) {
        struct mapping *m = find_mapping(as, p);
        if (!m || m->base != p || m->size > va + size - p)
            return ERR_INVALID_ARGS;
        if (flags & ~m->flags & (MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC))
            return ERR_ACCESS_DENIED;
        p += m->size;
    }
    for (vaddr_t p = va; p < va + size;) {
        struct mapping *m = find_mapping(as, p);
        m->flags = flags & (MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC);
        upt_unmap_range(as, m->base, m->base + m->size); /* re-entered lazily, new rights */
        p += m->size;
    }
    return OK;
}

int aspace_lookup(struct aspace *as, vaddr_t va, struct vmo **vmo, uint64_t *offset,
                  uint32_t *flags)
{
    struct mapping *m = find_mapping(as, va);
    if (!m)
        return ERR_NOT_FOUND;
    *vmo = m->vmo;
    *offset = m->offset + (ALIGN_DOWN(va, PAGE_SIZE) - m->base);
    *flags = m->flags;
    return OK;
}

int aspace_fault(struct aspace *as, vaddr_t va, bool write, bool exec)
{
    struct mapping *m = find_mapping(as, va);
    if (!m)
        return ERR_NOT_FOUND;
    if ((write && !(m->flags & MICA_MAP_WRITE)) || (exec && !(m->flags & MICA_MAP_EXEC)) ||
        !(m->flags & (MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC)))
        return ERR_ACCESS_DENIED;
    vaddr_t page = ALIGN_DOWN(va, PAGE_SIZE);
    paddr_t pa;
    bool shared;
    int err = vmo_get_page(m->vmo, m->offset + (page - m->base), write, &pa, &shared);
    if (err)
        return err;
    /* A parent's page seen through a copy-on-write child is mapped
     * read-only: the first write faults again and gets the child a copy. */
    uint32_t flags = shared ? m->flags & ~MICA_MAP_WRITE : m->flags;
    return upt_map(as, page, pa, flags, m->vmo->device);
}

void aspace_destroy(struct object *obj)
{
    struct aspace *as = (struct aspace *)obj;
    while (as->mappings) {
        struct mapping *m = as->mappings;
        as->mappings = m->next;
        vmo_unlink(m);
        object_unref(&m->vmo->obj);
        kmem_cache_free(&mapping_cache, m);
    }
    if (this_cpu()->active_aspace == as)
        aspace_deactivate(); /* never leave the CPU walking freed tables */
    if (as->asid_generation == asid_generation)
        upt_flush_asid(as);
    upt_destroy(as);
    charge_release(&as->tables);
    kmem_cache_free(&aspace_cache, as);
}
