/*
 * Reference counting for kernel objects (see mica/object.h). Callers hold
 * the big kernel lock, so counts are plain integers.
 */
#include <mica/object.h>
#include <mica/panic.h>

struct spinlock kernel_lock = SPINLOCK_INIT("kernel");
uint64_t object_counts[MICA_OBJ_TYPE_COUNT];

void object_init(struct object *obj, uint32_t type)
{
    obj->type = type;
    obj->refcount = 1;
    object_counts[type]++;
}

void object_ref(struct object *obj)
{
    ASSERT(obj->refcount > 0);
    obj->refcount++;
}

void object_unref(struct object *obj)
{
    ASSERT(obj->refcount > 0);
    if (--obj->refcount > 0)
        return;
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
    default: panic("object_unref: object %p of unknown type %u", (void *)obj, obj->type);
    }
}
