/*
 * Handle tables and the derivation tree (see mica/handle.h).
 *
 * A handle value is (generation << 16) | slot. Freeing a slot bumps its
 * generation (skipping 0), so values that named the old handle no longer
 * match. The slot array (HANDLE_TABLE_SLOTS entries) is allocated the first
 * time a process gets a handle, doubled (and charged to the process) when
 * it fills, and freed with the process.
 */
#include <mica/handle.h>
#include <mica/ipc.h>
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/process.h>
#include <mica/status.h>
#include <mica/vm.h>
#include <string.h>

/* Pages of a slot array of n entries. */
static size_t slot_pages(uint32_t n)
{
    return (n * sizeof(struct handle_slot) + PAGE_SIZE - 1) / PAGE_SIZE;
}

/* What growing a table to n slots is charged: the array, and the handles
 * its slots past HANDLE_TABLE_SLOTS may hold. */
static size_t growth_pages(uint32_t n)
{
    return slot_pages(n) +
           ((n - HANDLE_TABLE_SLOTS) * sizeof(struct handle) + PAGE_SIZE - 1) / PAGE_SIZE;
}

static struct kmem_cache handle_cache;
uint64_t live_handles;

void handle_init(void)
{
    if (kmem_cache_init(&handle_cache, "handle", sizeof(struct handle), 8, &kernel_slab_pages))
        panic("handle: cannot create the handle cache");
}

static uint32_t make_value(uint32_t slot, uint16_t gen)
{
    return ((uint32_t)gen << 16) | slot;
}

static int table_ready(struct handle_table *t)
{
    if (t->slots)
        return OK;
    paddr_t pa;
    if (page_alloc_pages(&kernel_page_alloc, slot_pages(HANDLE_TABLE_SLOTS), &pa) != OK)
        return ERR_NO_MEMORY;
    t->slots = phys_to_virt(pa);
    memset(t->slots, 0, slot_pages(HANDLE_TABLE_SLOTS) * PAGE_SIZE);
    for (uint32_t i = 0; i < HANDLE_TABLE_SLOTS; i++)
        t->slots[i].generation = 1;
    t->capacity = HANDLE_TABLE_SLOTS;
    return OK;
}

/* Double p's table (slots keep their index and generation). */
static int table_grow(struct process *p)
{
    struct handle_table *t = &p->handles;
    uint32_t n = t->capacity * 2;
    if (n > HANDLE_TABLE_MAX)
        return ERR_LIMIT;
    size_t charge = growth_pages(n);
    if (process_charge(p, charge - t->charged_pages) != OK)
        return ERR_LIMIT;
    paddr_t pa;
    if (page_alloc_pages(&kernel_page_alloc, slot_pages(n), &pa) != OK) {
        process_uncharge(p, charge - t->charged_pages);
        return ERR_NO_MEMORY;
    }
    struct handle_slot *slots = phys_to_virt(pa);
    memcpy(slots, t->slots, t->capacity * sizeof(*slots));
    for (uint32_t i = t->capacity; i < n; i++)
        slots[i] = (struct handle_slot){NULL, 1};
    page_free_pages(&kernel_page_alloc, virt_to_phys(t->slots), slot_pages(t->capacity));
    t->slots = slots;
    t->capacity = n;
    t->charged_pages = (uint32_t)charge;
    return OK;
}

int handle_table_reserve(struct process *p, uint32_t n)
{
    struct handle_table *t = &p->handles;
    int err = table_ready(t);
    while (!err && t->count + n > t->capacity)
        err = table_grow(p);
    return err;
}

static void tree_link(struct handle *h, struct handle *parent)
{
    h->parent = parent;
    h->prev_sibling = NULL;
    h->next_sibling = parent ? parent->children : NULL;
    if (h->next_sibling)
        h->next_sibling->prev_sibling = h;
    if (parent)
        parent->children = h;
}

static void tree_unlink(struct handle *h)
{
    if (h->prev_sibling)
        h->prev_sibling->next_sibling = h->next_sibling;
    else if (h->parent)
        h->parent->children = h->next_sibling;
    if (h->next_sibling)
        h->next_sibling->prev_sibling = h->prev_sibling;
    h->parent = h->next_sibling = h->prev_sibling = NULL;
}

/* Put h into a free slot of p. */
static int slot_insert(struct process *p, struct handle *h, uint32_t *value)
{
    struct handle_table *t = &p->handles;
    int err = handle_table_reserve(p, 1);
    if (err)
        return err;
    uint32_t i = t->next_free_hint % t->capacity;
    while (t->slots[i].handle)
        i = (i + 1) % t->capacity;
    t->slots[i].handle = h;
    t->count++;
    t->next_free_hint = (i + 1) % t->capacity;
    h->owner = p;
    h->slot = i;
    *value = make_value(i, t->slots[i].generation);
    return OK;
}

static void slot_remove(struct handle *h)
{
    struct handle_table *t = &h->owner->handles;
    struct handle_slot *s = &t->slots[h->slot];
    s->handle = NULL;
    if (++s->generation == 0)
        s->generation = 1;
    t->count--;
    h->owner = NULL;
}

int handle_install(struct process *p, struct object *obj, uint32_t rights, uint64_t badge,
                   struct handle *parent, uint32_t *value)
{
    struct handle *h = kmem_cache_alloc(&handle_cache);
    if (!h)
        return ERR_NO_MEMORY;
    h->obj = obj;
    h->rights = rights;
    h->badge = badge;
    int err = slot_insert(p, h, value);
    if (err) {
        kmem_cache_free(&handle_cache, h);
        return err;
    }
    object_ref(obj);
    tree_link(h, parent);
    live_handles++;
    if (obj->type == MICA_OBJ_PROCESS)
        ((struct process *)obj)->handles_to_me++;
    if (obj->type == MICA_OBJ_ENDPOINT && (rights & MICA_RIGHT_READ))
        endpoint_receive_handle_added((struct endpoint *)obj);
    return OK;
}

int handle_get(struct process *p, uint32_t value, uint32_t type, uint32_t rights,
               struct handle **out)
{
    return handle_table_get(&p->handles, value, type, rights, out);
}

/* Free one handle: its derived handles move up to its parent, so that
 * revoking an ancestor still reaches them. */
static void handle_free(struct handle *h)
{
    while (h->children) {
        struct handle *child = h->children;
        tree_unlink(child);
        tree_link(child, h->parent);
    }
    tree_unlink(h);
    slot_remove(h);
    struct object *obj = h->obj;
    uint32_t rights = h->rights;
    kmem_cache_free(&handle_cache, h);
    live_handles--;
    if (obj->type == MICA_OBJ_PROCESS) {
        /* A process that never started and that nobody can name any more
         * can never start: end it (its unstarted threads hold it alive). */
        struct process *p = (struct process *)obj;
        if (--p->handles_to_me == 0 && !p->started && !p->terminating)
            process_terminate_later(p);
    }
    if (obj->type == MICA_OBJ_ENDPOINT && (rights & MICA_RIGHT_READ))
        endpoint_receive_handle_gone((struct endpoint *)obj); /* may wake its senders */
    object_unref(obj);
}

int handle_close(struct process *p, uint32_t value)
{
    struct handle *h;
    int err = handle_get(p, value, 0, 0, &h);
    if (err)
        return err;
    handle_free(h);
    return OK;
}

int handle_dup(struct process *p, uint32_t value, uint32_t rights, uint64_t badge, bool mint,
               uint32_t *out)
{
    struct handle *h;
    int err = handle_get(p, value, mint ? MICA_OBJ_ENDPOINT : 0, MICA_RIGHT_DUPLICATE, &h);
    if (err)
        return err;
    if (rights & ~h->rights)
        return ERR_ACCESS_DENIED; /* attenuation only */
    if (mint && h->badge != 0)
        return ERR_BAD_STATE; /* a badged handle keeps its badge */
    return handle_install(p, h->obj, rights, mint ? badge : h->badge, h, out);
}

int handle_revoke(struct process *p, uint32_t value)
{
    struct handle *root;
    int err = handle_get(p, value, 0, 0, &root);
    if (err)
        return err;
    /* Close the deepest descendants first; each free re-parents children
     * upward, so repeatedly freeing the first leaf under root empties it. */
    while (root->children) {
        struct handle *h = root->children;
        while (h->children)
            h = h->children;
        handle_free(h);
    }
    return OK;
}

int handle_move(struct process *from, uint32_t value, struct process *to, uint32_t *out)
{
    struct handle *h;
    int err = handle_get(from, value, 0, MICA_RIGHT_TRANSFER, &h);
    if (err)
        return err;
    if (from == to) {
        *out = value;
        return OK;
    }
    if ((err = handle_table_reserve(to, 1)) != OK)
        return err;
    slot_remove(h);
    err = slot_insert(to, h, out);
    ASSERT(err == OK);
    return OK;
}

void handle_table_destroy(struct process *p)
{
    struct handle_table *t = &p->handles;
    if (!t->slots)
        return;
    for (uint32_t i = 0; i < t->capacity && t->count; i++)
        if (t->slots[i].handle)
            handle_free(t->slots[i].handle);
    page_free_pages(&kernel_page_alloc, virt_to_phys(t->slots), slot_pages(t->capacity));
    process_uncharge(p, t->charged_pages);
    t->slots = NULL;
    t->capacity = t->charged_pages = 0;
}
