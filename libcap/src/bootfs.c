/*
 * The boot file system (see mica/bootfs.h): a read-only view of the cpio
 * "newc" archive that follows the kernel in its image.
 *
 * A newc entry is a 110-byte ASCII header ("070701" and thirteen 8-digit
 * hex fields), the name with its NUL (namesize bytes), zero padding to a
 * multiple of 4 from the archive start, the file data (filesize bytes) and
 * padding to 4 again. The archive ends with an entry named "TRAILER!!!".
 *
 * The archive comes from the image file, so it is treated as hostile:
 * entry_parse() is the single place that reads a header, and it checks
 * every offset against the archive size by subtraction (never by adding
 * something untrusted to an offset), so no hex value, however large, can
 * wrap around or reach past the end. Each entry is at least 112 bytes
 * long, so a walk over the archive always terminates. bootfs_init() walks
 * it once; find and iterate walk it again with the same checks, which is
 * cheap and keeps them safe even on a struct bootfs built by hand.
 */
#include <stdbool.h>
#include <string.h>

#include <mica/abi.h>
#include <mica/bootfs.h>

#define NEWC_MAGIC "070701"
#define NEWC_MAGIC_LEN 6
#define NEWC_FIELDS 13
#define NEWC_HEADER_SIZE (NEWC_MAGIC_LEN + NEWC_FIELDS * 8) /* 110 */
#define TRAILER_NAME "TRAILER!!!"

/* Field indices in a newc header, in the order they appear. */
enum {
    F_INO,
    F_MODE,
    F_UID,
    F_GID,
    F_NLINK,
    F_MTIME,
    F_FILESIZE,
    F_DEVMAJOR,
    F_DEVMINOR,
    F_RDEVMAJOR,
    F_RDEVMINOR,
    F_NAMESIZE,
    F_CHECK,
};

#define MODE_TYPE_MASK 0170000u
#define MODE_REGULAR 0100000u

/* One parsed entry, all pointers into the archive. */
struct entry {
    const char *name; /* "./" already dropped, NUL terminated */
    size_t name_len;  /* strlen(name) */
    uint32_t mode;
    const uint8_t *data;
    size_t data_size;
    size_t next;  /* offset of the following header */
    bool trailer; /* this is the TRAILER!!! entry */
};

/* Bytes of zero padding that bring offset off up to a multiple of 4. */
static size_t pad4(size_t off)
{
    return (size_t)(-off) & 3;
}

/*
 * Parse one 8-digit hex field of a newc header. Eight digits fit in a
 * uint32_t exactly, so there is nothing to overflow. Called by
 * entry_parse() for each field.
 */
static int hex8(const uint8_t *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        uint8_t c = p[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return MICA_ERR_INVALID_ARGS;
        v = (v << 4) | d;
    }
    *out = v;
    return MICA_OK;
}

/*
 * Parse the entry whose header starts at offset off of the archive
 * base[0..size). Called by every walk over the archive. MICA_OK with *e filled
 * in, or MICA_ERR_INVALID_ARGS if any part of the entry (padding included)
 * would lie outside the archive or is malformed.
 */
static int entry_parse(const uint8_t *base, size_t size, size_t off, struct entry *e)
{
    uint32_t f[NEWC_FIELDS];

    if ((off & 3) != 0 || off > size || size - off < NEWC_HEADER_SIZE)
        return MICA_ERR_INVALID_ARGS;
    const uint8_t *h = base + off;
    if (memcmp(h, NEWC_MAGIC, NEWC_MAGIC_LEN) != 0)
        return MICA_ERR_INVALID_ARGS;
    for (int i = 0; i < NEWC_FIELDS; i++) {
        if (hex8(h + NEWC_MAGIC_LEN + 8 * i, &f[i]) != MICA_OK)
            return MICA_ERR_INVALID_ARGS;
    }

    /* The name: namesize bytes, the last one its only NUL. */
    size_t pos = off + NEWC_HEADER_SIZE;
    size_t name_size = f[F_NAMESIZE];
    if (name_size == 0 || name_size > size - pos)
        return MICA_ERR_INVALID_ARGS;
    const char *name = (const char *)(base + pos);
    for (size_t i = 0; i + 1 < name_size; i++) {
        if (name[i] == '\0')
            return MICA_ERR_INVALID_ARGS;
    }
    if (name[name_size - 1] != '\0')
        return MICA_ERR_INVALID_ARGS;
    pos += name_size;

    /* Padding, data, padding: each must fit in what is left. */
    if (pad4(pos) > size - pos)
        return MICA_ERR_INVALID_ARGS;
    pos += pad4(pos);
    size_t data_size = f[F_FILESIZE];
    if (data_size > size - pos)
        return MICA_ERR_INVALID_ARGS;
    e->data = base + pos;
    e->data_size = data_size;
    pos += data_size;
    if (pad4(pos) > size - pos)
        return MICA_ERR_INVALID_ARGS;
    e->next = pos + pad4(pos);

    size_t name_len = name_size - 1;
    e->trailer =
        name_size == sizeof(TRAILER_NAME) && memcmp(name, TRAILER_NAME, sizeof(TRAILER_NAME)) == 0;
    if (name_len >= 2 && name[0] == '.' && name[1] == '/') {
        name += 2;
        name_len -= 2;
    }
    e->name = name;
    e->name_len = name_len;
    e->mode = f[F_MODE];
    return MICA_OK;
}

static bool entry_is_file(const struct entry *e)
{
    return !e->trailer && (e->mode & MODE_TYPE_MASK) == MODE_REGULAR;
}

/*
 * Called once at boot with the archive that bootfs_header_check() located.
 * Walks every entry up to the trailer; a regular file must have a
 * non-empty name (after "./"), so that every file can be found by name.
 */
int bootfs_init(struct bootfs *fs, const void *cpio, size_t size)
{
    if (fs == NULL)
        return MICA_ERR_INVALID_ARGS;
    fs->base = NULL;
    fs->size = 0;
    if (cpio == NULL)
        return MICA_ERR_INVALID_ARGS;

    const uint8_t *base = cpio;
    size_t off = 0;
    for (;;) {
        struct entry e;
        if (entry_parse(base, size, off, &e) != MICA_OK)
            return MICA_ERR_INVALID_ARGS; /* includes running off the end: no trailer */
        if (e.trailer) {
            fs->base = base;
            fs->size = e.next;
            return MICA_OK;
        }
        if (entry_is_file(&e) && e.name_len == 0)
            return MICA_ERR_INVALID_ARGS;
        off = e.next; /* at least 112 bytes further on */
    }
}

/* The next regular file at or after *cursor, which must be an entry
 * boundary (bootfs_find's own walk; bootfs_iterate checks first). */
static int next_file(const struct bootfs *fs, size_t *cursor, const char **name, const void **data,
                     size_t *size)
{
    while (*cursor < fs->size) {
        struct entry e;
        if (entry_parse(fs->base, fs->size, *cursor, &e) != MICA_OK)
            return MICA_ERR_INVALID_ARGS;
        if (e.trailer) {
            *cursor = fs->size;
            break;
        }
        *cursor = e.next;
        if (!entry_is_file(&e))
            continue;
        if (name != NULL)
            *name = e.name;
        if (data != NULL)
            *data = e.data;
        if (size != NULL)
            *size = e.data_size;
        return MICA_OK;
    }
    return MICA_ERR_NOT_FOUND;
}

/* True if off is where an entry starts, or the end (fs->size). A walk from
 * the start: a cursor pointing into some file's data could otherwise make
 * a forged entry there look real. */
static bool entry_boundary(const struct bootfs *fs, size_t off)
{
    size_t at = 0;
    while (at < off && at < fs->size) {
        struct entry e;
        if (entry_parse(fs->base, fs->size, at, &e) != MICA_OK)
            return false;
        at = e.trailer ? fs->size : e.next;
    }
    return at == off;
}

/*
 * Called by bootfs users (the boot manifest reader, the loader of the
 * first servers) to step through the files; bootfs_find() walks with next_file.
 * The cursor is the offset of the next header to look at; at the trailer
 * it moves to fs->size so that further calls keep saying MICA_ERR_NOT_FOUND.
 */
int bootfs_iterate(const struct bootfs *fs, size_t *cursor, const char **name, const void **data,
                   size_t *size)
{
    if (fs == NULL || cursor == NULL)
        return MICA_ERR_INVALID_ARGS;
    if (*cursor != 0 && !entry_boundary(fs, *cursor))
        return MICA_ERR_INVALID_ARGS;
    return next_file(fs, cursor, name, data, size);
}

/*
 * Called by whoever needs one named file, e.g. "boot/manifest". A linear
 * walk: the bootfs holds a handful of files and is searched a few times at
 * boot.
 */
int bootfs_find(const struct bootfs *fs, const char *name, const void **data, size_t *size)
{
    if (fs == NULL || name == NULL)
        return MICA_ERR_INVALID_ARGS;
    size_t len = strlen(name);
    size_t cursor = 0;
    const char *n;
    const void *d;
    size_t s;
    int err;
    while ((err = next_file(fs, &cursor, &n, &d, &s)) == MICA_OK) {
        if (strlen(n) == len && memcmp(n, name, len) == 0) {
            if (data != NULL)
                *data = d;
            if (size != NULL)
                *size = s;
            return MICA_OK;
        }
    }
    return err == MICA_ERR_NOT_FOUND ? MICA_ERR_NOT_FOUND : MICA_ERR_INVALID_ARGS;
}

/*
 * CRC-32 as zlib computes it (reflected polynomial 0xEDB88320, initial
 * value and final xor all ones), four bits at a time from a 16-entry
 * table: no table to build at run time, and a few MiB at boot cost well
 * under a second even on a Raspberry Pi.
 */
static const uint32_t crc_nibble[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

/* Called by bootfs_header_check(); public so that tests can check it. */
uint32_t bootfs_crc32(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 15];
        crc = (crc >> 4) ^ crc_nibble[crc & 15];
    }
    return crc ^ 0xffffffffu;
}

#if defined(__aarch64__)
/*
 * The same CRC with the ARMv8 CRC32 instructions (crc32x: eight bytes per
 * instruction; crc32b for the unaligned head and the tail). They use the
 * zlib polynomial (CRC32C would be crc32cx) on the reflected, not inverted
 * value, so the all-ones start and final xor stay ours. About 0.6
 * instructions a byte against 10 for the table. The instructions are
 * optional in ARMv8.0: only a caller that has checked
 * ID_AA64ISAR0_EL1.CRC32 may call this (the kernel, at EL1; the register
 * is not readable at EL0 on Mica). Loads are aligned, as the kernel's
 * -mstrict-align requires.
 */
typedef uint64_t __attribute__((may_alias)) u64_alias;

__attribute__((target("crc"))) uint32_t bootfs_crc32_arm(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t crc = 0xffffffffu;
    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        crc = __builtin_arm_crc32b(crc, *p++);
        len--;
    }
    const u64_alias *w = (const u64_alias *)p;
    for (; len >= 32; len -= 32, w += 4) {
        crc = __builtin_arm_crc32d(crc, w[0]);
        crc = __builtin_arm_crc32d(crc, w[1]);
        crc = __builtin_arm_crc32d(crc, w[2]);
        crc = __builtin_arm_crc32d(crc, w[3]);
    }
    for (; len >= 8; len -= 8)
        crc = __builtin_arm_crc32d(crc, *w++);
    p = (const uint8_t *)w;
    while (len-- > 0)
        crc = __builtin_arm_crc32b(crc, *p++);
    return crc ^ 0xffffffffu;
}
#endif

/* Little-endian loads byte by byte: the header need not be aligned. */
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/*
 * Called at boot with the first 4 KiB boundary past the kernel's own
 * image_size and the bytes the loader provided from there on. Every field
 * is checked before it is used; the offsets are 64-bit in the header and
 * are compared with avail as 64-bit values, so nothing can wrap.
 */
int bootfs_header_check(const void *image_tail, size_t avail, size_t *cpio_offset,
                        size_t *cpio_size)
{
    return bootfs_header_check_crc(image_tail, avail, cpio_offset, cpio_size, bootfs_crc32);
}

/* The same with the caller's CRC-32 (the kernel passes bootfs_crc32_arm
 * when the CPU has the instructions). */
int bootfs_header_check_crc(const void *image_tail, size_t avail, size_t *cpio_offset,
                            size_t *cpio_size, bootfs_crc_fn *crc)
{
    if (image_tail == NULL || cpio_offset == NULL || cpio_size == NULL || crc == NULL)
        return MICA_ERR_INVALID_ARGS;
    *cpio_offset = 0;
    *cpio_size = 0;

    const uint8_t *h = image_tail;
    if (avail < 8 || le64(h) != BOOTFS_MAGIC)
        return MICA_ERR_NOT_FOUND;
    if (avail < BOOTFS_HEADER_SIZE)
        return MICA_ERR_INVALID_ARGS;
    if (le32(h + 8) != BOOTFS_VERSION)
        return MICA_ERR_NOT_SUPPORTED;
    if (le32(h + 12) != BOOTFS_HEADER_SIZE)
        return MICA_ERR_INVALID_ARGS;
    for (size_t i = 36; i < BOOTFS_HEADER_SIZE; i++) {
        if (h[i] != 0)
            return MICA_ERR_INVALID_ARGS;
    }

    uint64_t off = le64(h + 16);
    uint64_t size = le64(h + 24);
    if (off < BOOTFS_HEADER_SIZE || (off & 3) != 0 || off > (uint64_t)avail ||
        size > (uint64_t)avail - off)
        return MICA_ERR_INVALID_ARGS;
    if (crc(h + off, (size_t)size) != le32(h + 32))
        return MICA_ERR_INVALID_ARGS;

    *cpio_offset = (size_t)off;
    *cpio_size = (size_t)size;
    return MICA_OK;
}
