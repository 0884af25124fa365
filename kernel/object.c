/*
 * Reference counting for kernel objects (see mica/object.h). Callers hold
 * the big kernel lock, so counts are plain integers.
 */
#include <mica/object.h>
#include <mica/panic.h>
#include <mica/slab.h>
#include <mica/status.h>

struct spinlock kernel_lock = SPINLOCK_INIT("kernel");
uint64_t object_counts[MICA_OBJ_TYPE_COUNT];

void object_init(struct object *obj, uint32_t type)
{
    obj->type = type;
    obj->refcount = 1;
    obj->charge = (struct charge){0};
    object_counts[type]++;
}

void *object_create(struct kmem_cache *cache, uint32_t type, struct process *payer, size_t pages,
                    int *err)
{
    struct charge charge = {0};
    if ((*err = charge_take(&charge, payer, pages)) != OK)
        return NULL;
    struct object *obj = kmem_cache_alloc(cache);
    if (!obj) {
        charge_release(&charge);
        *err = ERR_NO_MEMORY;
        return NULL;
    }
    object_init(obj, type);
    obj->charge = charge;
    return obj;
}

void object_ref(struct object *obj)
{
    ASSERT(obj->refcount > 0);
    obj->refcount++;
}

static void destroy(struct object *obj)
{
    struct charge charge = obj->charge; /* the type's destroy frees obj */
    object_counts[obj->type]--;
    switch (obj->type) {
    case MICA_OBJ_PROCESS: process_destroy(obj); break;
    case MICA_OBJ_THREAD: thread_destroy(obj); break;
    case MICA_OBJ_VMO: vmo_destroy(obj); break;
    case MICA_OBJ_ASPACE: aspace_destroy(obj); break;
    case MICA_OBJ_RESOURCE: resource_destroy(obj); break;
    case MICA_OBJ_ENDPOINT: endpoint_destroy(obj); break;
    case MICA_OBJ_NOTIFICATION: notification_destroy(obj); break;
    case MICA_OBJ_IRQ: irq_object_destroy(obj); break;
    case MICA_OBJ_REPLY: reply_destroy(obj); break;
    default: panic("object_unref: object %p of unknown type %u", (void *)obj, obj->type);
    }
    charge_release(&charge);
}

/*
 * Destroying one object drops references to others (a process's handles,
 * a VMO's parent), which may destroy them in turn, to any depth userspace
 * arranged. So destruction is never recursive: objects whose count reaches
 * zero are queued, and the outermost object_unref destroys them one after
 * another on a bounded stack. (Under the big kernel lock: one drainer.)
 */
static struct object *dead_queue;
static bool draining;

void object_unref(struct object *obj)
{
    ASSERT(obj->refcount > 0);
    if (--obj->refcount > 0)
        return;
    obj->next_dead = dead_queue;
    dead_queue = obj;
    if (draining)
        return;
    draining = true;
    while (dead_queue) {
        struct object *o = dead_queue;
        dead_queue = o->next_dead;
        destroy(o);
    }
    draining = false;
}
