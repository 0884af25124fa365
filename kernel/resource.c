/* Resource objects (see mica/resource.h). */
#include <mica/memory.h>
#include <mica/panic.h>
#include <mica/resource.h>
#include <mica/status.h>

static struct resource root_resource_storage;
static struct kmem_cache resource_cache;

void resource_init(void)
{
    if (kmem_cache_init(&resource_cache, "resource", sizeof(struct resource), 8,
                        &kernel_slab_pages))
        panic("resource: cannot create the resource cache");
}

int resource_create_root(struct resource **out)
{
    struct resource *r = &root_resource_storage;
    if (r->obj.refcount)
        return ERR_BAD_STATE; /* exactly one root, made at boot */
    object_init(&r->obj, MICA_OBJ_RESOURCE);
    r->kind = MICA_RESOURCE_ROOT;
    r->base = 0;
    r->size = UINT64_MAX;
    *out = r;
    return OK;
}

bool resource_is_root(const struct resource *r)
{
    return r->kind == MICA_RESOURCE_ROOT;
}

bool resource_covers(const struct resource *r, uint32_t kind, uint64_t base, uint64_t size)
{
    if (r->kind == MICA_RESOURCE_ROOT)
        return true;
    if (r->kind != kind)
        return false;
    if (kind == MICA_RESOURCE_LOG || kind == MICA_RESOURCE_CONSOLE)
        return true; /* no range */
    if (kind == MICA_RESOURCE_RAM)
        return size <= r->size; /* an allowance per allocation */
    if (size == 0 || base + size < base)
        return false;
    return base >= r->base && base + size <= r->base + r->size;
}

int resource_create_child(struct process *payer, struct resource *parent, uint32_t kind,
                          uint64_t base, uint64_t size, struct resource **out)
{
    if (kind != MICA_RESOURCE_MMIO && kind != MICA_RESOURCE_IRQ && kind != MICA_RESOURCE_RAM &&
        kind != MICA_RESOURCE_LOG && kind != MICA_RESOURCE_CONSOLE)
        return ERR_INVALID_ARGS;
    if (kind == MICA_RESOURCE_LOG || kind == MICA_RESOURCE_CONSOLE)
        base = 0, size = 1;
    if (kind == MICA_RESOURCE_RAM)
        base = 0;
    if (size == 0 || base + size < base)
        return ERR_INVALID_ARGS;
    if (!resource_covers(parent, kind, base, size))
        return ERR_ACCESS_DENIED;
    int err;
    struct resource *r = object_create(&resource_cache, MICA_OBJ_RESOURCE, payer, 1, &err);
    if (!r)
        return err;
    r->kind = kind;
    r->base = base;
    r->size = size;
    *out = r;
    return OK;
}

void resource_destroy(struct object *obj)
{
    struct resource *r = (struct resource *)obj;
    if (r != &root_resource_storage)
        kmem_cache_free(&resource_cache, r);
}
