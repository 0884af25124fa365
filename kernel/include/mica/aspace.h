/*
 * Address spaces: a TTBR0 translation table with an ASID, and the list of
 * mappings (VMO ranges with rights) that populate it. Pages are entered
 * lazily by aspace_fault() on first touch. Unmap and protect remove or
 * downgrade entries and invalidate the TLB for this ASID.
 */
#ifndef MICA_ASPACE_H
#define MICA_ASPACE_H

#include <mica/process.h>

struct vmo;
struct process;

#define ASPACE_MAX_MAPPINGS 1024
#define ASPACE_AUTO_BASE 0x0000001000000000UL /* where non-fixed maps go */

struct mapping {
    vaddr_t base;
    size_t size;
    struct vmo *vmo; /* holds a reference */
    uint64_t offset;
    uint32_t flags; /* MICA_MAP_READ/WRITE/EXEC */
    struct mapping *next;
    struct aspace *as;                   /* weak: the mapping dies with it */
    struct mapping *vmo_next, *vmo_prev; /* the VMO's list of its mappings */
};

struct aspace {
    struct object obj;
    paddr_t root; /* level 0 table */
    uint16_t asid;
    uint64_t asid_generation;
    uint64_t ttbr;            /* root | asid << 48: TTBR0_EL1 while it runs */
    struct mapping *mappings; /* sorted by base, non-overlapping */
    unsigned n_mappings;
    size_t table_pages;
    struct charge tables; /* table pages, paid by the creator of the process */
};

extern uint64_t asid_rollovers;
extern uint64_t asid_generation; /* ASIDs of an older generation are stale */
/* Give as a new ASID (its own is stale); a rollover flushes every TLB. */
void aspace_assign_asid(struct aspace *as);

/* Does as need a new ASID before it can be loaded (its own is stale)? */
static inline bool aspace_asid_stale(const struct aspace *as)
{
    return as->asid_generation != asid_generation;
}
/* Load as, whose ASID is current, into TTBR0 on CPU c. Inline: the IPC
 * fast path switches address spaces on every call. */
static inline void aspace_load(struct cpu *c, struct aspace *as)
{
    c->active_aspace = as;
    __asm__ volatile("msr ttbr0_el1, %0\n isb" ::"r"(as->ttbr) : "memory");
}
/* Load as into TTBR0 (the scheduler, on a switch of process), assigning
 * an ASID if its own is stale. */
static inline void aspace_activate(struct aspace *as)
{
    if (aspace_asid_stale(as))
        aspace_assign_asid(as);
    aspace_load(this_cpu(), as);
}

void aspace_init(void);
int aspace_create(struct process *payer, struct aspace **out);
/* Map [offset, offset+size) of vmo; flags must be allowed by vmo_rights. */
int aspace_map(struct aspace *as, struct vmo *vmo, uint64_t offset, size_t size, vaddr_t va,
               uint32_t flags, vaddr_t *out);
int aspace_unmap(struct aspace *as, vaddr_t va, size_t size);
int aspace_protect(struct aspace *as, vaddr_t va, size_t size, uint32_t flags);
/* The mapping at va: its VMO, the offset of va's page in it, its flags. */
int aspace_lookup(struct aspace *as, vaddr_t va, struct vmo **vmo, uint64_t *offset,
                  uint32_t *flags);
/* Resolve a fault at va: OK if a page is now mapped with enough rights. */
int aspace_fault(struct aspace *as, vaddr_t va, bool write, bool exec);
/* The page at `offset` of vmo changed identity (a copy-on-write copy was
 * made): drop it from every mapping so the next touch maps the new one. */
void aspace_vmo_page_changed(struct vmo *vmo, uint64_t offset);
/* vmo's pages were frozen (vmo_create_snapshot): make every mapping of
 * it read-only, so the next write faults and copies. Reads go on. */
void aspace_vmo_write_protect(struct vmo *vmo);
void aspace_deactivate(void);

/* arch/aarch64/user_pgtable.c */
int upt_map(struct aspace *as, vaddr_t va, paddr_t pa, uint32_t flags, bool device);
void upt_unmap(struct aspace *as, vaddr_t va);
/* Every page of [va, end): tables that do not exist are skipped whole, so
 * an untouched reservation costs a few steps, not one per page. */
void upt_unmap_range(struct aspace *as, vaddr_t va, vaddr_t end);
/* The same walk, making writable pages read-only (they stay mapped). */
void upt_protect_range(struct aspace *as, vaddr_t va, vaddr_t end);
void upt_destroy(struct aspace *as);
void upt_flush_asid(struct aspace *as);

#endif
