#!/usr/bin/env python3
"""Build Mica's bootfs: a cpio "newc" archive of servers, manifest and data.

newc is the Linux initramfs format: per file a 110-byte ASCII header
("070701" and thirteen 8-digit hex fields), the name with a NUL, zero
padding to a multiple of 4, the data, padding to 4 again; an entry named
"TRAILER!!!" ends the archive. The kernel reads it with kernel/bootfs.c;
scripts/tools/mkimage.py appends it to the kernel image.

The output is reproducible: entries are sorted by name and carry mtime 0,
uid/gid 0, nlink 1 and inode numbers 1, 2, ... in that order. A file's mode
is 0100755 if any execute bit is set on its source, 0100644 otherwise.
Only regular files are stored (no directory entries); names are relative.
The archive is written to a temporary file and renamed into place, so an
error leaves no output behind.

--base ARCHIVE starts from an archive this tool wrote (scripts/run --add:
an image's bootfs plus files of the developer's); a NAME=PATH of the same
name replaces the base's file.

Usage: mkbootfs.py --out OUT.cpio [--base ARCHIVE] [--manifest FILE] NAME=PATH ...
"""

import os
import stat
import sys

from toolutil import Parser, write_atomic

MAGIC = b"070701"
TRAILER = "TRAILER!!!"
MANIFEST_NAME = "boot/manifest"
MAX_NAME = 255            # bytes, without the NUL
MAX_FILE = 0xFFFFFFFF     # filesize is an 8-digit hex field


class BootfsError(Exception):
    """A problem with the inputs, reported as one line and exit status 1."""


def pad4(n):
    """Zero bytes needed to bring length n up to a multiple of 4."""
    return b"\0" * (-n % 4)


def header(ino, mode, nlink, filesize, namesize):
    """One newc header; the fields not passed are always 0 here."""
    fields = [ino, mode, 0, 0, nlink, 0, filesize, 0, 0, 0, 0, namesize, 0]
    return MAGIC + b"".join(b"%08X" % f for f in fields)


def entry(ino, mode, nlink, name, data):
    """A whole entry: header, name, padding, data, padding. Offsets in the
    archive stay multiples of 4 because every entry's length is one."""
    raw_name = name.encode() + b"\0"
    head = header(ino, mode, nlink, len(data), len(raw_name)) + raw_name
    return head + pad4(len(head)) + data + pad4(len(data))


def check_name(name):
    """Refuse names the kernel could not look up unambiguously."""
    if not name:
        raise BootfsError("empty NAME")
    if len(name.encode()) > MAX_NAME:
        raise BootfsError(f"NAME longer than {MAX_NAME} bytes: {name[:40]}...")
    if ".." in name:
        raise BootfsError(f"NAME must not contain '..': {name}")
    if name.startswith("/") or name.startswith("./"):
        raise BootfsError(f"NAME must be relative, without '/' or './' "
                          f"in front: {name}")
    if name == TRAILER:
        raise BootfsError(f"NAME {TRAILER} is reserved for the archive end")


def parse_specs(specs, manifest):
    """Turn NAME=PATH arguments (and --manifest) into a sorted list of
    (name, path), checking names and that each path is a readable file."""
    files = {}
    pairs = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            raise BootfsError(f"expected NAME=PATH, got: {spec}")
        pairs.append((name, path))
    if manifest is not None:
        pairs.append((MANIFEST_NAME, manifest))
    for name, path in pairs:
        check_name(name)
        if name in files:
            raise BootfsError(f"duplicate NAME: {name}")
        if not path:
            raise BootfsError(f"empty PATH for {name}")
        if not os.path.isfile(path):
            raise BootfsError(f"{path}: no such file (for {name})")
        files[name] = path
    return sorted(files.items())


def read_archive(path):
    """The files of a newc archive: {name: (mode, data)}, for --base."""
    with open(path, "rb") as f:
        raw = f.read()
    files, off = {}, 0
    while True:
        head = raw[off:off + 110]
        if len(head) < 110 or head[:6] != MAGIC:
            raise BootfsError(f"{path}: not a cpio newc archive at offset {off}")
        fields = [int(head[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name_end = off + 110 + namesize
        name = raw[off + 110:name_end - 1].decode()
        data_off = name_end + (-(110 + namesize) % 4)
        data = raw[data_off:data_off + size]
        if len(data) < size:
            raise BootfsError(f"{path}: truncated at {name}")
        off = data_off + size + (-size % 4)
        if name == TRAILER:
            return files
        files[name] = (mode, data)


def build(files, base=None):
    """The whole archive as bytes: files (name, path), then what of base
    (name: (mode, data)) they do not replace."""
    merged = dict(base or {})
    for name, path in files:
        st = os.stat(path)
        exe = st.st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        with open(path, "rb") as f:
            data = f.read()
        if len(data) > MAX_FILE:
            raise BootfsError(f"{path}: too large for cpio newc "
                              f"({len(data)} bytes)")
        merged[name] = (0o100755 if exe else 0o100644, data)
    out = []
    for ino, name in enumerate(sorted(merged), start=1):
        mode, data = merged[name]
        out.append(entry(ino, mode, 1, name, data))
    out.append(entry(0, 0, 1, TRAILER, b""))
    return b"".join(out)


def main(argv=None):
    """Entry point: build the archive, report errors as one line."""
    p = Parser(prog="mkbootfs.py", description="Build a cpio newc bootfs archive for Mica.")
    p.add_argument("--out", required=True, help="archive to write")
    p.add_argument("--base", metavar="ARCHIVE",
                   help="start from this archive's files (NAME=PATH replaces one)")
    p.add_argument("--manifest", metavar="FILE",
                   help=f"stored as {MANIFEST_NAME}")
    p.add_argument("files", nargs="*", metavar="NAME=PATH",
                   help="store the file at PATH under NAME")
    args = p.parse_args(argv)
    try:
        base = read_archive(args.base) if args.base else None
        write_atomic(args.out, build(parse_specs(args.files, args.manifest), base), "mkbootfs")
    except (BootfsError, OSError) as e:
        print(f"mkbootfs.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
