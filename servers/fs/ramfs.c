/*
 * ramfs: the fs server's in-memory tree (see ramfs.h for the contract).
 *
 * A flat node table; each node records its parent's index, so a directory's
 * children are found by scanning the table — simple and consistent through
 * rename and unlink, but linear in the number of nodes (thousands at most:
 * per-directory indexes are for the VFS to come). The table starts at 64
 * slots and doubles when full, up to RAMFS_MAX_NODES.
 *
 * File contents are either borrowed from the bootfs
 * (owned == false, never written through) or a malloc'd buffer counted
 * against fs->capacity.
 */
#include "ramfs.h"

#include <mica/abi.h>
#include <string.h>
#ifdef MICA_HOST
#include <stdlib.h>
#else
#include <mica/malloc.h>
#endif

static uint32_t index_of(ramfs_ino ino)
{
    return (uint32_t)ino;
}

/* A path of at most RAMFS_PATH_MAX bytes (reads no further than that). */
static bool path_ok(const char *path)
{
    if (!path)
        return false;
    for (size_t n = 0; n <= RAMFS_PATH_MAX; n++)
        if (!path[n])
            return true;
    return false;
}

static void set_name(struct ramfs_node *n, const char *name)
{
    memcpy(n->name, name, strlen(name) + 1); /* callers checked the length */
}

static ramfs_ino ino_of(const struct ramfs *fs, uint32_t i)
{
    return (uint64_t)fs->nodes[i].generation << 32 | i;
}

/* The live node named by ino, or NULL if the slot was freed or reused. */
static struct ramfs_node *node(struct ramfs *fs, ramfs_ino ino)
{
    uint32_t i = index_of(ino);
    if (i >= fs->n_nodes || fs->nodes[i].type == 0 ||
        fs->nodes[i].generation != (uint32_t)(ino >> 32))
        return NULL;
    return &fs->nodes[i];
}

#define FIRST_NODES 64

/* Room for at least `want` slots, doubling; new slots start at generation 1. */
static bool grow_nodes(struct ramfs *fs, uint32_t want)
{
    uint32_t n = fs->n_nodes ? fs->n_nodes : FIRST_NODES;
    while (n < want)
        n *= 2;
    if (n > RAMFS_MAX_NODES)
        n = RAMFS_MAX_NODES;
    if (n < want)
        return false;
    if (n == fs->n_nodes)
        return true;
    struct ramfs_node *more = realloc(fs->nodes, n * sizeof(*more));
    if (!more)
        return false;
    memset(more + fs->n_nodes, 0, (n - fs->n_nodes) * sizeof(*more));
    for (uint32_t i = fs->n_nodes; i < n; i++)
        more[i].generation = 1;
    fs->nodes = more;
    fs->n_nodes = n;
    return true;
}

int ramfs_init(struct ramfs *fs, uint64_t capacity)
{
    memset(fs, 0, sizeof(*fs));
    fs->capacity = capacity;
    if (!grow_nodes(fs, FIRST_NODES))
        return MICA_ERR_NO_MEMORY;
    fs->nodes[0] = (struct ramfs_node){.generation = 1, .type = RAMFS_DIR};
    return MICA_OK;
}

void ramfs_destroy(struct ramfs *fs)
{
    for (uint32_t i = 0; i < fs->n_nodes; i++)
        if (fs->nodes[i].owned)
            free(fs->nodes[i].data);
    free(fs->nodes);
    memset(fs, 0, sizeof(*fs));
}

/* Next component of *path into name; 0 at the end, -1 if malformed. */
static int component(const char **path, char name[RAMFS_NAME_MAX + 1])
{
    for (;;) {
        while (**path == '/')
            (*path)++;
        if (!**path)
            return 0;
        size_t n = 0;
        while ((*path)[n] && (*path)[n] != '/')
            n++;
        if (n > RAMFS_NAME_MAX)
            return -1;
        memcpy(name, *path, n);
        name[n] = '\0';
        *path += n;
        if (strcmp(name, ".") == 0)
            continue;
        if (strcmp(name, "..") == 0)
            return -1;
        return 1;
    }
}

static int child(struct ramfs *fs, uint32_t dir, const char *name)
{
    for (uint32_t i = 1; i < fs->n_nodes; i++)
        if (fs->nodes[i].type && fs->nodes[i].parent == dir && strcmp(fs->nodes[i].name, name) == 0)
            return (int)i;
    return -1;
}

/*
 * Resolve a path. With want_parent, stop before the last component: *dir is
 * the parent directory's index and last its name (the path must have one).
 * Otherwise *dir is the node itself.
 */
static int walk(struct ramfs *fs, const char *path, bool want_parent, uint32_t *dir,
                char last[RAMFS_NAME_MAX + 1])
{
    if (!path_ok(path))
        return MICA_ERR_INVALID_ARGS;
    char name[RAMFS_NAME_MAX + 1];
    uint32_t at = 0;
    int r = component(&path, name);
    if (r < 0)
        return MICA_ERR_INVALID_ARGS;
    if (r == 0) {
        if (want_parent)
            return MICA_ERR_INVALID_ARGS; /* the root has no parent */
        *dir = 0;
        return MICA_OK;
    }
    for (;;) {
        char next[RAMFS_NAME_MAX + 1];
        int more = component(&path, next);
        if (more < 0)
            return MICA_ERR_INVALID_ARGS;
        if (fs->nodes[at].type != RAMFS_DIR)
            return MICA_ERR_INVALID_ARGS; /* a file used as a directory */
        if (!more && want_parent) {
            *dir = at;
            memcpy(last, name, sizeof(name));
            return MICA_OK;
        }
        int c = child(fs, at, name);
        if (c < 0)
            return MICA_ERR_NOT_FOUND;
        at = (uint32_t)c;
        if (!more) {
            *dir = at;
            return MICA_OK;
        }
        memcpy(name, next, sizeof(name));
    }
}

static int make(struct ramfs *fs, uint32_t parent, const char *name, enum ramfs_type type,
                uint32_t *out)
{
    if (child(fs, parent, name) >= 0)
        return MICA_ERR_BAD_STATE;
    for (uint32_t i = 1;; i++) {
        if (i == fs->n_nodes && !grow_nodes(fs, i + 1))
            break;
        struct ramfs_node *n = &fs->nodes[i];
        if (n->type)
            continue;
        uint32_t generation = n->generation;
        *n = (struct ramfs_node){.generation = generation, .type = (uint8_t)type, .parent = parent};
        set_name(n, name);
        *out = i;
        return MICA_OK;
    }
    return MICA_ERR_NO_MEMORY;
}

int ramfs_lookup(struct ramfs *fs, const char *path, ramfs_ino *out)
{
    uint32_t i;
    int err = walk(fs, path, false, &i, NULL);
    if (!err)
        *out = ino_of(fs, i);
    return err;
}

int ramfs_create(struct ramfs *fs, const char *path, enum ramfs_type type, ramfs_ino *out)
{
    uint32_t dir, i;
    char name[RAMFS_NAME_MAX + 1];
    if (type != RAMFS_FILE && type != RAMFS_DIR)
        return MICA_ERR_INVALID_ARGS;
    if (walk(fs, path, false, &i, NULL) == MICA_OK && i == 0)
        return MICA_ERR_BAD_STATE; /* the root: it exists (mkdir -p /a) */
    int err = walk(fs, path, true, &dir, name);
    if (!err)
        err = make(fs, dir, name, type, &i);
    if (!err)
        *out = ino_of(fs, i);
    return err;
}

int ramfs_add_readonly(struct ramfs *fs, const char *path, const void *data, uint64_t size)
{
    if (!path_ok(path))
        return MICA_ERR_INVALID_ARGS;
    /* Create missing parents one component at a time. */
    char name[RAMFS_NAME_MAX + 1], next[RAMFS_NAME_MAX + 1];
    uint32_t at = 0;
    int r = component(&path, name);
    if (r <= 0)
        return MICA_ERR_INVALID_ARGS;
    for (;;) {
        int more = component(&path, next);
        if (more < 0)
            return MICA_ERR_INVALID_ARGS;
        if (fs->nodes[at].type != RAMFS_DIR)
            return MICA_ERR_INVALID_ARGS;
        int c = child(fs, at, name);
        if (!more) {
            uint32_t i;
            if (c >= 0)
                return MICA_ERR_BAD_STATE;
            int err = make(fs, at, name, RAMFS_FILE, &i);
            if (err)
                return err;
            fs->nodes[i].data = (uint8_t *)(uintptr_t)data;
            fs->nodes[i].size = size;
            return MICA_OK;
        }
        if (c < 0) {
            uint32_t i;
            int err = make(fs, at, name, RAMFS_DIR, &i);
            if (err)
                return err;
            c = (int)i;
        }
        at = (uint32_t)c;
        memcpy(name, next, sizeof(name));
    }
}

static void release(struct ramfs *fs, struct ramfs_node *n)
{
    if (n->owned) {
        free(n->data);
        fs->used -= n->capacity;
    }
    uint32_t generation = n->generation + 1;
    *n = (struct ramfs_node){.generation = generation ? generation : 1};
}

static bool has_children(struct ramfs *fs, uint32_t dir)
{
    for (uint32_t c = 1; c < fs->n_nodes; c++)
        if (fs->nodes[c].type && fs->nodes[c].parent == dir)
            return true;
    return false;
}

int ramfs_unlink(struct ramfs *fs, const char *path)
{
    uint32_t i;
    int err = walk(fs, path, false, &i, NULL);
    if (err)
        return err;
    if (i == 0)
        return MICA_ERR_INVALID_ARGS;
    if (has_children(fs, i))
        return MICA_ERR_BAD_STATE;
    release(fs, &fs->nodes[i]);
    return MICA_OK;
}

int ramfs_rename(struct ramfs *fs, const char *from, const char *to)
{
    uint32_t src, dir;
    char name[RAMFS_NAME_MAX + 1];
    int err = walk(fs, from, false, &src, NULL);
    if (!err)
        err = walk(fs, to, true, &dir, name);
    if (err)
        return err;
    if (src == 0)
        return MICA_ERR_INVALID_ARGS;
    for (uint32_t a = dir;; a = fs->nodes[a].parent) { /* not into itself */
        if (a == src)
            return MICA_ERR_INVALID_ARGS;
        if (a == 0)
            break;
    }
    int old = child(fs, dir, name);
    if (old == (int)src)
        return MICA_OK; /* a name onto itself */
    if (old >= 0) {     /* replaced in the same step (one thread: nothing sees between) */
        struct ramfs_node *o = &fs->nodes[old];
        if ((o->type == RAMFS_DIR) != (fs->nodes[src].type == RAMFS_DIR))
            return MICA_ERR_INVALID_ARGS;
        if (o->type == RAMFS_DIR && has_children(fs, (uint32_t)old))
            return MICA_ERR_BAD_STATE;
        release(fs, o);
    }
    fs->nodes[src].parent = dir;
    set_name(&fs->nodes[src], name);
    return MICA_OK;
}

int ramfs_stat(struct ramfs *fs, ramfs_ino ino, struct ramfs_stat *out)
{
    struct ramfs_node *n = node(fs, ino);
    if (!n)
        return MICA_ERR_NOT_FOUND;
    *out = (struct ramfs_stat){.type = n->type, .size = n->size};
    if (n->type == RAMFS_DIR)
        for (uint32_t c = 1; c < fs->n_nodes; c++)
            out->entries += fs->nodes[c].type && fs->nodes[c].parent == index_of(ino);
    return MICA_OK;
}

static struct ramfs_node *file(struct ramfs *fs, ramfs_ino ino, int *err)
{
    struct ramfs_node *n = node(fs, ino);
    *err = !n ? MICA_ERR_NOT_FOUND : n->type != RAMFS_FILE ? MICA_ERR_INVALID_ARGS : MICA_OK;
    return *err ? NULL : n;
}

int ramfs_read(struct ramfs *fs, ramfs_ino ino, uint64_t offset, void *buf, uint64_t len,
               uint64_t *got)
{
    int err;
    struct ramfs_node *n = file(fs, ino, &err);
    if (!n)
        return err;
    *got = 0;
    if (offset >= n->size)
        return MICA_OK;
    *got = n->size - offset < len ? n->size - offset : len;
    memcpy(buf, n->data + offset, *got);
    return MICA_OK;
}

/* Make n's contents owned and at least `size` bytes of capacity. */
static int reserve(struct ramfs *fs, struct ramfs_node *n, uint64_t size)
{
    if (size > fs->capacity)
        return MICA_ERR_NO_MEMORY; /* could never fit */
    if (n->owned && size <= n->capacity)
        return MICA_OK;
    /* A quarter more than asked, in whole pages past the first 4 KiB (the
     * allocator hands out pages for large blocks anyway): at most 25%
     * spare, and a file growing by small writes is copied O(log) times. */
    uint64_t want = size < 64 ? 64 : size;
    if (n->owned)
        want += want / 4;
    if (want > 4096)
        want = (want + 4095) & ~(uint64_t)4095;
    uint64_t had = n->owned ? n->capacity : 0;
    if (want > fs->capacity || fs->used - had + want > fs->capacity) {
        /* Short of space: take what is left, so a file growing into the
         * last free bytes is not copied on every write. */
        if (fs->used - had + size > fs->capacity)
            return MICA_ERR_NO_MEMORY;
        want = fs->capacity - (fs->used - had);
    }
    if (fs->can_commit && !fs->can_commit(want))
        return MICA_ERR_NO_MEMORY; /* the old buffer stays: `want` more at the peak */
    uint8_t *data = malloc(want ? want : 1);
    if (!data)
        return MICA_ERR_NO_MEMORY;
    if (n->size)
        memcpy(data, n->data, n->size);
    if (fs->can_commit && want > n->size)
        memset(data + n->size, 0, want - n->size); /* committed now, not at a later write */
    if (n->owned)
        free(n->data);
    fs->used = fs->used - had + want;
    n->data = data;
    n->capacity = want;
    n->owned = true;
    return MICA_OK;
}

int ramfs_write(struct ramfs *fs, ramfs_ino ino, uint64_t offset, const void *buf, uint64_t len)
{
    int err;
    struct ramfs_node *n = file(fs, ino, &err);
    if (!n)
        return err;
    if (len > UINT64_MAX - offset)
        return MICA_ERR_OUT_OF_RANGE; /* the end would wrap */
    if (len == 0)
        return MICA_OK; /* changes nothing, not even the size */
    uint64_t end = offset + len;
    if ((err = reserve(fs, n, end > n->size ? end : n->size)) != MICA_OK)
        return err;
    if (offset > n->size)
        memset(n->data + n->size, 0, offset - n->size);
    memcpy(n->data + offset, buf, len);
    if (end > n->size)
        n->size = end;
    return MICA_OK;
}

int ramfs_truncate(struct ramfs *fs, ramfs_ino ino, uint64_t size)
{
    int err;
    struct ramfs_node *n = file(fs, ino, &err);
    if (!n)
        return err;
    if (size > n->size) {
        if ((err = reserve(fs, n, size)) != MICA_OK)
            return err;
        memset(n->data + n->size, 0, size - n->size);
    }
    /* Shrinking a borrowed file needs no copy: it just shows less of it. */
    n->size = size;
    if (n->owned && size == 0) { /* give the memory back */
        free(n->data);
        fs->used -= n->capacity;
        n->data = NULL;
        n->capacity = 0;
        n->owned = false;
    } else if (n->owned && size * 2 < n->capacity && n->capacity > 64) {
        uint8_t *smaller = malloc(size);
        if (smaller) { /* else keep the larger buffer: still correct */
            memcpy(smaller, n->data, size);
            free(n->data);
            fs->used -= n->capacity - size;
            n->data = smaller;
            n->capacity = size;
        }
    }
    return MICA_OK;
}

int ramfs_readdir(struct ramfs *fs, ramfs_ino dir, uint32_t index, char name[RAMFS_NAME_MAX + 1],
                  ramfs_ino *out)
{
    struct ramfs_node *d = node(fs, dir);
    if (!d)
        return MICA_ERR_NOT_FOUND;
    if (d->type != RAMFS_DIR)
        return MICA_ERR_INVALID_ARGS;
    for (uint32_t c = 1; c < fs->n_nodes; c++) {
        if (!fs->nodes[c].type || fs->nodes[c].parent != index_of(dir))
            continue;
        if (index-- == 0) {
            memcpy(name, fs->nodes[c].name, sizeof(fs->nodes[c].name));
            *out = ino_of(fs, c);
            return MICA_OK;
        }
    }
    return MICA_ERR_NOT_FOUND;
}
