/*
 * Handles: a process's capabilities. Each process has a table of slots;
 * a slot holds a struct handle (object, rights, badge) and a generation
 * that changes every time the slot is freed, so a stale handle value is
 * detected. Handles derived from another (dup, mint) form a tree across
 * processes; revoking a handle closes all of its descendants. Moving a
 * handle to another process (handle_move, IPC transfer) keeps its place in
 * the tree.
 *
 * Locking: all under the big kernel lock.
 */
#ifndef MICA_HANDLE_H
#define MICA_HANDLE_H

#include <mica/object.h>
#include <mica/status.h>

/* A process's table starts with HANDLE_TABLE_SLOTS slots (paid for with
 * the process) and doubles as it fills, up to HANDLE_TABLE_MAX (what a
 * handle value's 16 slot bits can name); each growth is charged to the
 * process itself, for the slots and the handles that may fill them, so
 * its memory limit bounds what its handles cost the kernel. */
#define HANDLE_TABLE_SLOTS 1024
#define HANDLE_TABLE_MAX 65536

struct process;

struct handle {
    struct object *obj; /* holds a reference */
    uint32_t rights;
    uint64_t badge;
    struct process *owner;
    uint32_t slot;
    struct handle *parent;   /* derived from (NULL: a root) */
    struct handle *children; /* first derived handle */
    struct handle *next_sibling, *prev_sibling;
};

struct handle_slot {
    struct handle *handle; /* NULL: free */
    uint16_t generation;   /* never 0 */
};

struct handle_table {
    struct handle_slot *slots; /* capacity entries, allocated on first use */
    uint32_t capacity;
    uint32_t charged_pages; /* for the growth past HANDLE_TABLE_SLOTS */
    uint32_t count;
    uint32_t next_free_hint;
};

extern uint64_t live_handles;

void handle_init(void); /* boot: the handle slab cache */
void handle_table_destroy(struct process *p);

/* handle_get on a table, inline for the IPC fast path (ipc_fast.c). */
static inline int handle_table_get(struct handle_table *t, uint32_t value, uint32_t type,
                                   uint32_t rights, struct handle **out)
{
    uint32_t slot = value & 0xFFFF;
    uint16_t gen = (uint16_t)(value >> 16);
    if (!t->slots || slot >= t->capacity || gen == 0)
        return ERR_BAD_HANDLE;
    struct handle_slot *s = &t->slots[slot];
    if (!s->handle || s->generation != gen)
        return ERR_BAD_HANDLE;
    if (type && s->handle->obj->type != type)
        return ERR_WRONG_TYPE;
    if ((s->handle->rights & rights) != rights)
        return ERR_ACCESS_DENIED;
    *out = s->handle;
    return OK;
}

/* New handle in p for obj (takes a reference); parent links it into the
 * derivation tree. Returns the handle value in *value. */
int handle_install(struct process *p, struct object *obj, uint32_t rights, uint64_t badge,
                   struct handle *parent, uint32_t *value);
/* Look up value in p: it must name a live handle of the given type (0: any)
 * carrying all of `rights`. */
int handle_get(struct process *p, uint32_t value, uint32_t type, uint32_t rights,
               struct handle **out);
int handle_close(struct process *p, uint32_t value);
int handle_dup(struct process *p, uint32_t value, uint32_t rights, uint64_t badge, bool mint,
               uint32_t *out);
int handle_revoke(struct process *p, uint32_t value);
/* Move the handle `value` of `from` into `to` (needs MICA_RIGHT_TRANSFER). */
int handle_move(struct process *from, uint32_t value, struct process *to, uint32_t *out);
/* Make room for n more handles in p's table (growing it, charged to p):
 * ERR_LIMIT past HANDLE_TABLE_MAX or p's memory limit. After it, n
 * installs or moves into p cannot fail for want of slots. */
int handle_table_reserve(struct process *p, uint32_t n);

#endif
