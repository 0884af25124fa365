/* Resource objects (see mica/resource.h). */
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/resource.h>
#include <mica/status.h>

static struct resource root_resource_storage;

int resource_create_root(struct resource **out)
{
    struct resource *r = &root_resource_storage;
    if (r->obj.refcount)
        return ERR_BAD_STATE; /* exactly one root, made at boot */
    object_init(&r->obj, MICA_OBJ_RESOURCE);
    r->root = true;
    *out = r;
    return OK;
}

bool resource_is_root(const struct resource *r)
{
    return r->root;
}

void resource_destroy(struct object *obj)
{
    /* The root lives in static storage; nothing to free. */
    (void)obj;
}
