/*
 * Kernel objects. Every object userspace can hold a handle to starts with a
 * struct object: its type and a reference count. References are held by
 * handles and by kernel structures (a thread on its process, a mapping on
 * its VMO, ...); the object is destroyed when the last one goes, and all its
 * memory returns to the allocators.
 *
 * Locking: the big kernel lock (kernel_lock) protects every object, every
 * handle table and the scheduler's run queues. It is taken on every entry
 * from EL0 and by interrupts, and released only when a CPU returns to EL0
 * or idles. Fine-grained locking can replace it once SMP runs.
 */
#ifndef MICA_OBJECT_H
#define MICA_OBJECT_H

#include <mica/abi.h>
#include <mica/charge.h>
#include <mica/spinlock.h>
#include <mica/types.h>

struct object {
    uint32_t type;            /* MICA_OBJ_* */
    uint32_t refcount;        /* handles + kernel references */
    struct object *next_dead; /* object_unref's queue of objects to destroy */
    struct charge charge;     /* what its creator pays for it (object_create) */
};

extern struct spinlock kernel_lock;

void object_init(struct object *obj, uint32_t type);
struct kmem_cache;
/* Allocate an object of `type` from cache, charging `pages` to payer for
 * its lifetime (released when it is destroyed). NULL: *err says why. */
void *object_create(struct kmem_cache *cache, uint32_t type, struct process *payer, size_t pages,
                    int *err);
void object_ref(struct object *obj);
/* Drop a reference; the last one destroys the object (type's destroy). */
void object_unref(struct object *obj);

/* Live objects per type, for kernel_stats (the fuzzer's leak check). */
extern uint64_t object_counts[MICA_OBJ_TYPE_COUNT];

/* Destroy functions, one per type (each object's own file). */
void process_destroy(struct object *obj);
void thread_destroy(struct object *obj);
void vmo_destroy(struct object *obj);
void aspace_destroy(struct object *obj);
void resource_destroy(struct object *obj);
void endpoint_destroy(struct object *obj);
void notification_destroy(struct object *obj);
void irq_object_destroy(struct object *obj);
void reply_destroy(struct object *obj);

#endif
