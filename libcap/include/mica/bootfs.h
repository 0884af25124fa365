/*
 * The boot file system: a cpio "newc" archive (magic "070701", the Linux
 * initramfs format) of server ELFs, the boot manifest and data, carried in
 * the kernel image right after the kernel. scripts/tools/mkimage.py puts a
 * 64-byte bootfs header in front of the archive at the first 4 KiB
 * boundary past the kernel's image_size (.bss included):
 *
 *   offset  size  field
 *        0     8  magic       0x5346544f4f42494d ("MIBOOTFS" as bytes)
 *        8     4  version     1
 *       12     4  header_size 64
 *       16     8  cpio_offset from the header start (64)
 *       24     8  cpio_size
 *       32     4  crc32       of the cpio bytes (zlib's crc32)
 *       36    28  reserved    zero
 *
 * All fields are little endian. Everything here is pure: no allocation,
 * no printing, no globals, so it compiles for the kernel and for the host
 * unit tests (MICA_HOST) alike. The archive is only ever read; names and
 * data handed out point into it.
 */
#ifndef MICA_BOOTFS_H
#define MICA_BOOTFS_H

#include <stddef.h>
#include <stdint.h>

#define BOOTFS_MAGIC 0x5346544f4f42494dull /* "MIBOOTFS" read little endian */
#define BOOTFS_VERSION 1
#define BOOTFS_HEADER_SIZE 64

/* A validated archive: set by bootfs_init(), read by the other calls. */
struct bootfs {
    const uint8_t *base; /* first byte of the first cpio header */
    size_t size;         /* up to the end of the TRAILER!!! entry */
};

/*
 * Check the bootfs header at image_tail, with avail readable bytes from
 * there on. On OK, *cpio_offset and *cpio_size locate the archive relative
 * to image_tail (and its crc32 has been checked). ERR_NOT_FOUND: no bootfs
 * magic (the image carries no bootfs); ERR_NOT_SUPPORTED: a header of
 * another version; ERR_INVALID_ARGS: a header is there but something in
 * it, or the archive's crc, is wrong.
 */
int bootfs_header_check(const void *image_tail, size_t avail, size_t *cpio_offset,
                        size_t *cpio_size);

/* CRC-32 exactly as zlib.crc32() computes it (used for the header's
 * crc32), from a table: portable, about 10 instructions a byte. */
uint32_t bootfs_crc32(const void *buf, size_t len);

typedef uint32_t bootfs_crc_fn(const void *buf, size_t len);

/* bootfs_header_check with the given CRC-32 function (which must compute
 * what bootfs_crc32 does). */
int bootfs_header_check_crc(const void *image_tail, size_t avail, size_t *cpio_offset,
                            size_t *cpio_size, bootfs_crc_fn *crc);

#if defined(__aarch64__)
/* The same CRC-32 with the ARMv8 CRC32 instructions, about 0.6
 * instructions a byte. Only for a caller that has seen
 * ID_AA64ISAR0_EL1.CRC32 (bits 19:16) non-zero: the kernel (see
 * arch/cpufeature.h); the instructions are undefined on a CPU without them. */
uint32_t bootfs_crc32_arm(const void *buf, size_t len);
#endif

/*
 * Validate the whole archive (every entry's header, name and bounds, up to
 * a TRAILER!!! entry) and set *fs up for bootfs_find/bootfs_iterate. Bytes
 * after the trailer are ignored. ERR_INVALID_ARGS if anything is malformed;
 * *fs is then empty (finds nothing).
 */
int bootfs_init(struct bootfs *fs, const void *cpio, size_t size);

/*
 * Look a regular file up by its exact name ("boot/manifest"; an archive
 * name's leading "./" is ignored). The first match wins. OK with *data and
 * *size set, or ERR_NOT_FOUND.
 */
int bootfs_find(const struct bootfs *fs, const char *name, const void **data, size_t *size);

/*
 * Step through the regular files in archive order. *cursor starts at 0 and
 * is opaque otherwise. OK with the next file's name (NUL terminated, "./"
 * dropped), data and size; ERR_NOT_FOUND when there are no more;
 * ERR_INVALID_ARGS for a cursor that bootfs_iterate did not produce.
 */
int bootfs_iterate(const struct bootfs *fs, size_t *cursor, const char **name, const void **data,
                   size_t *size);

#endif
