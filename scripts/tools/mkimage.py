#!/usr/bin/env python3
"""Append a bootfs to Mica's kernel image.

The kernel binary is a raw arm64 Image: a 64-byte header at offset 0 with
the magic "ARM\\x64" at offset 56 and image_size (little-endian u64 at
offset 16) giving the size the kernel needs in memory, .bss included. The
bootfs goes past that, so that .bss never overlaps it:

  0                      kernel binary, zero padded to image_size
  align4k(image_size)    64-byte bootfs header (see kernel/include/mica/bootfs.h)
  + 64                   the cpio newc archive from mkbootfs.py
  ...                    zeros up to a multiple of 4096

The header's image_size is then patched to the whole file's size, so a
boot loader reserves (and QEMU loads) memory for all of it. The kernel
finds the bootfs header at align4k(_end - _start), its own unpatched size.
The output is written to a temporary file and renamed into place.

Usage: mkimage.py --kernel KERNEL.bin --bootfs BOOTFS.cpio --out IMAGE
"""

import struct
import sys
import zlib

from toolutil import Parser, write_atomic

PAGE = 4096
IMAGE_MAGIC = b"ARM\x64"
IMAGE_MAGIC_OFFSET = 56
IMAGE_SIZE_OFFSET = 16
IMAGE_HEADER_SIZE = 64
BOOTFS_MAGIC = 0x5346544F4F42494D     # b"MIBOOTFS" read little endian
BOOTFS_VERSION = 1
BOOTFS_HEADER_SIZE = 64
CPIO_MAGIC = b"070701"


class ImageError(Exception):
    """A problem with the inputs, reported as one line and exit status 1."""


def align(n, a=PAGE):
    return (n + a - 1) // a * a


def bootfs_header(cpio):
    """The 64-byte header that precedes the archive."""
    head = struct.pack("<QIIQQII", BOOTFS_MAGIC, BOOTFS_VERSION,
                       BOOTFS_HEADER_SIZE, BOOTFS_HEADER_SIZE, len(cpio),
                       zlib.crc32(cpio) & 0xFFFFFFFF, 0)
    return head.ljust(BOOTFS_HEADER_SIZE, b"\0")


def build(kernel, cpio):
    """The whole image as bytes, from the kernel and archive contents."""
    if len(kernel) < IMAGE_HEADER_SIZE:
        raise ImageError("kernel is too short to carry an arm64 Image header")
    magic = kernel[IMAGE_MAGIC_OFFSET:IMAGE_MAGIC_OFFSET + 4]
    if magic != IMAGE_MAGIC:
        raise ImageError(f"kernel has no arm64 Image magic at offset "
                         f"{IMAGE_MAGIC_OFFSET} (found {magic!r})")
    (image_size,) = struct.unpack_from("<Q", kernel, IMAGE_SIZE_OFFSET)
    if image_size == 0:
        raise ImageError("kernel's Image header has image_size 0 (unknown)")
    if len(kernel) > image_size:
        raise ImageError(f"kernel file ({len(kernel)} bytes) is larger than "
                         f"its image_size ({image_size})")
    if not cpio.startswith(CPIO_MAGIC):
        raise ImageError("bootfs is not a cpio newc archive (no 070701)")

    tail = align(image_size)
    out = bytearray(kernel)
    out += bytes(tail - len(out))
    out += bootfs_header(cpio)
    out += cpio
    out += bytes(align(len(out)) - len(out))
    struct.pack_into("<Q", out, IMAGE_SIZE_OFFSET, len(out))
    return bytes(out)


def main(argv=None):
    """Entry point: build the image, report errors as one line."""
    p = Parser(prog="mkimage.py", description="Append a bootfs to a Mica kernel image.")
    p.add_argument("--kernel", required=True, help="raw arm64 Image")
    p.add_argument("--bootfs", required=True, help="cpio from mkbootfs.py")
    p.add_argument("--out", required=True, help="image to write")
    args = p.parse_args(argv)
    try:
        with open(args.kernel, "rb") as f:
            kernel = f.read()
        with open(args.bootfs, "rb") as f:
            cpio = f.read()
        write_atomic(args.out, build(kernel, cpio), "mkimage")
    except (ImageError, OSError) as e:
        print(f"mkimage.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
