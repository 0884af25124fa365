/* VMO and address-space syscalls (see mica/vmo.h, mica/aspace.h). */
#include <mica/aspace.h>
#include <mica/syscall.h>
#include <mica/vmo.h>

int sys_vmo_create(struct trap_frame *f)
{
    struct vmo *v;
    struct process *payer;
    int err = lookup_payer(f->x[1], &payer);
    if (!err)
        err = vmo_create(payer, f->x[0], &v);
    if (err)
        return err;
    uint32_t rights = MICA_RIGHT_READ | MICA_RIGHT_WRITE | MICA_RIGHT_MAP | MICA_RIGHT_EXEC |
                      MICA_RIGHT_DUPLICATE | MICA_RIGHT_TRANSFER;
    return install_new_handle(&v->obj, rights, f);
}

static int vmo_rw(struct trap_frame *f, bool write)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_VMO, write ? MICA_RIGHT_WRITE : MICA_RIGHT_READ, &h);
    if (err)
        return err;
    return vmo_copy_user((struct vmo *)h->obj, f->x[1], f->x[2], f->x[3], write);
}

int sys_vmo_copy(struct trap_frame *f)
{
    struct handle *dst, *src;
    int err = lookup(f->x[0], MICA_OBJ_VMO, MICA_RIGHT_WRITE, &dst);
    if (!err)
        err = lookup(f->x[2], MICA_OBJ_VMO, MICA_RIGHT_READ, &src);
    if (err)
        return err;
    return vmo_copy((struct vmo *)dst->obj, f->x[1], (struct vmo *)src->obj, f->x[3], f->x[4]);
}

int sys_vmo_read(struct trap_frame *f)
{
    return vmo_rw(f, false);
}
int sys_vmo_write(struct trap_frame *f)
{
    return vmo_rw(f, true);
}

int sys_vmo_get_size(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_VMO, 0, &h);
    if (!err)
        f->x[1] = ((struct vmo *)h->obj)->size;
    return err;
}

int sys_aspace_map(struct trap_frame *f)
{
    uint64_t flags = f->x[5];
    if (flags & ~(uint64_t)(MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC | MICA_MAP_FIXED))
        return ERR_INVALID_ARGS;
    /* The VMO handle must carry MAP plus every access the mapping grants. */
    uint32_t need =
        MICA_RIGHT_MAP | (uint32_t)(flags & (MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC));
    struct handle *as, *vmo;
    int err = lookup(f->x[0], MICA_OBJ_ASPACE, MICA_RIGHT_MANAGE, &as);
    if (!err)
        err = lookup(f->x[1], MICA_OBJ_VMO, need, &vmo);
    if (err)
        return err;
    vaddr_t va;
    err = aspace_map((struct aspace *)as->obj, (struct vmo *)vmo->obj, f->x[2], f->x[3], f->x[4],
                     (uint32_t)flags, &va);
    if (!err)
        f->x[1] = va;
    return err;
}

int sys_aspace_unmap(struct trap_frame *f)
{
    struct handle *as;
    int err = lookup(f->x[0], MICA_OBJ_ASPACE, MICA_RIGHT_MANAGE, &as);
    return err ? err : aspace_unmap((struct aspace *)as->obj, f->x[1], f->x[2]);
}

int sys_aspace_protect(struct trap_frame *f)
{
    struct handle *as;
    if (f->x[3] & ~(uint64_t)(MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC))
        return ERR_INVALID_ARGS;
    int err = lookup(f->x[0], MICA_OBJ_ASPACE, MICA_RIGHT_MANAGE, &as);
    return err ? err
               : aspace_protect((struct aspace *)as->obj, f->x[1], f->x[2], (uint32_t)f->x[3]);
}

/* A snapshot or child of the VMO behind h is a new object of the caller's:
 * full rights, but it can only ever expose what h's READ right allowed,
 * and execute only what h could. */
static uint32_t copy_rights(const struct handle *h)
{
    return MICA_RIGHT_READ | MICA_RIGHT_WRITE | MICA_RIGHT_MAP | MICA_RIGHT_DUPLICATE |
           MICA_RIGHT_TRANSFER | (h->rights & MICA_RIGHT_EXEC);
}

int sys_vmo_create_snapshot(struct trap_frame *f)
{
    struct handle *h;
    /* WRITE too: the original's pages move (its writes copy from now on). */
    int err = lookup(f->x[0], MICA_OBJ_VMO,
                     MICA_RIGHT_READ | MICA_RIGHT_WRITE | MICA_RIGHT_DUPLICATE, &h);
    struct process *payer;
    if (!err)
        err = lookup_payer(f->x[3], &payer);
    if (err)
        return err;
    struct vmo *snap;
    err = vmo_create_snapshot(payer, (struct vmo *)h->obj, f->x[1], f->x[2], &snap);
    if (err)
        return err;
    return install_new_handle(&snap->obj, copy_rights(h), f);
}

int sys_vmo_create_child(struct trap_frame *f)
{
    struct handle *h;
    int err = lookup(f->x[0], MICA_OBJ_VMO, MICA_RIGHT_READ | MICA_RIGHT_DUPLICATE, &h);
    struct process *payer;
    if (!err)
        err = lookup_payer(f->x[3], &payer);
    if (err)
        return err;
    struct vmo *child;
    err = vmo_create_child(payer, (struct vmo *)h->obj, f->x[1], f->x[2], &child);
    if (err)
        return err;
    return install_new_handle(&child->obj, copy_rights(h), f);
}
