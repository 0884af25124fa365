#!/usr/bin/env python3
"""Build a Raspberry Pi SD card image that boots Mica.

The image is an MBR disk holding one bootable FAT32 partition (type 0x0C)
that starts at 1 MiB and fills the rest of the disk. The partition carries
the GPU firmware (bootcode.bin, start.elf, fixup.dat), the device trees of
the Raspberry Pi 3 B and Zero 2 W, config.txt and Mica's kernel8.img, and
with --cmdline a cmdline.txt: the firmware puts its line into the device
tree's /chosen/bootargs, Mica's kernel command line (mica.run=shell boots
the native shell instead of busybox sh).

No root and no loop device are needed: sfdisk writes the partition table
into the image file, mkfs.fat (or mformat) writes the file system at the
partition's offset, and mcopy puts the files in through `-i IMAGE@@OFFSET`.

The total size is a power of two because QEMU's SD card model insists on
it; a real card does not care. The output appears atomically: the image is
built in a temporary file next to it and renamed into place at the end.

Usage: mksdcard.py --kernel PATH --boot-files DIR --out PATH [--size-mib N]
                   [--cmdline TEXT]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

SECTOR = 512
PART_START_LBA = 2048                     # 1 MiB: the usual alignment
PART_OFFSET = PART_START_LBA * SECTOR
MIN_SIZE_MIB = 64                         # FAT32 needs >= 65525 clusters
DISK_ID = 0x4D494341                      # "MICA": fixed, so images compare
FIRMWARE = ("bootcode.bin", "start.elf", "fixup.dat")
OPTIONAL_FIRMWARE = ("LICENCE.broadcom",)
BOARDS = ("rpi-3-b", "rpi-zero-2-w")
# The firmware looks for bcm2710-* names by default and for bcm2837-* names
# with upstream_kernel=1; ship both so that either lookup finds the file.
DTB_PREFIXES = ("bcm2837-", "bcm2710-")
# The Raspberry Pi kernel's own name for the Zero 2 W's tree drops the "-w":
# firmware without upstream_kernel=1 asks for bcm2710-rpi-zero-2.dtb.
EXTRA_DTB_NAMES = {"rpi-zero-2-w": ("bcm2710-rpi-zero-2.dtb",)}

CONFIG_TXT = """\
# config.txt for Mica, read by the Raspberry Pi GPU firmware (start.elf)
# before any ARM core runs. Only these lines matter for a bare kernel.

# Start the ARM cores in AArch64 state (the default on these boards is 32-bit).
arm_64bit=1

# Set up the serial console on GPIO 14 (TXD) / GPIO 15 (RXD) at 115200 baud.
# On the Pi 3 B and Zero 2 W these pins carry the mini UART, which is clocked
# from the VPU core clock; enable_uart=1 also pins that clock at 250 MHz so the
# baud rate cannot drift when the firmware changes frequencies.
enable_uart=1

# And say it outright: the core clock stays at 250 MHz. Some firmware
# versions let it move with the GPU load despite enable_uart=1 (the Zero 2 W
# in particular); the mini UART's baud rate would move with it.
core_freq=250

# The file to load and run on the ARM cores.
kernel=kernel8.img

# Load the kernel at physical address 0x80000 (Mica's link address); the
# default differs between firmware versions, so say it explicitly.
kernel_address=0x80000

# Do not write ATAGs or a Linux command line at 0x100; Mica does not use them.
# The device tree is still loaded and its address passed in x0.
disable_commandline_tags=1

# Use the mainline device tree names (bcm2837-rpi-*.dtb), the ones that come
# with Debian's kernel package, as Debian's own config.txt does.
upstream_kernel=1

# Uncomment to make bootcode.bin and start.elf log their progress on the same
# UART. Useful when nothing at all appears: if these messages show up, the
# wiring is right and the problem is in config.txt or the kernel.
#uart_2ndstage=1
"""


class BuildError(Exception):
    """A problem the user can fix: reported as one line, exit status 1."""


def find_tool(name, package):
    """Return the path of a program, also looking in the sbin directories
    (a normal user's PATH often lacks them; sfdisk and mkfs.fat live there).
    """
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    found = shutil.which(name, path=path)
    if not found:
        raise BuildError(f"'{name}' not found: install Debian package "
                         f"'{package}' (scripts/setup does it)")
    return found


def run(cmd, what, stdin_text=None):
    """Run a command quietly; on failure raise BuildError with its output."""
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1", LC_ALL="C")
    proc = subprocess.run(cmd, input=stdin_text, capture_output=True,
                          text=True, env=env, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise BuildError(f"{what} failed ({os.path.basename(cmd[0])} exit "
                         f"{proc.returncode}): {detail}")


def collect_inputs(kernel, boot_dir):
    """Check every input and return [(source path, name on the card)]."""
    def need(path, hint):
        if not os.path.isfile(path):
            raise BuildError(f"missing input file: {path} ({hint})")
        return path

    if not os.path.isdir(boot_dir):
        raise BuildError(f"boot files directory not found: {boot_dir} "
                         "(run scripts/fetch-boot-files)")
    need(kernel, "build the kernel first: scripts/build raspi3b")
    with open(kernel, "rb") as f:
        head = f.read(4)
    if not head:
        raise BuildError(f"kernel file is empty: {kernel}")
    if head == b"\x7fELF":
        raise BuildError(f"{kernel} is an ELF file; the firmware needs the "
                         "raw binary (kernel8.img, llvm-objcopy -O binary)")

    files = [(kernel, "kernel8.img")]
    fetch_hint = "run scripts/fetch-boot-files"
    for name in FIRMWARE:
        files.append((need(os.path.join(boot_dir, "firmware", name),
                           fetch_hint), name))
    for name in OPTIONAL_FIRMWARE:
        path = os.path.join(boot_dir, "firmware", name)
        if os.path.isfile(path):
            files.append((path, name))
    for board in BOARDS:
        src = need(os.path.join(boot_dir, "dtbs", f"bcm2837-{board}.dtb"),
                   fetch_hint)
        for prefix in DTB_PREFIXES:
            files.append((src, f"{prefix}{board}.dtb"))
        for name in EXTRA_DTB_NAMES.get(board, ()):
            files.append((src, name))
    return files


def check_size(size_mib):
    """Validate --size-mib and return the image size in bytes."""
    if size_mib < MIN_SIZE_MIB or size_mib & (size_mib - 1):
        raise BuildError(f"--size-mib must be a power of two >= "
                         f"{MIN_SIZE_MIB} (QEMU needs a power of two and "
                         f"FAT32 needs room), not {size_mib}")
    return size_mib * 1024 * 1024


def write_partition_table(img, part_sectors):
    """Write an MBR with one bootable FAT32-LBA partition at 1 MiB."""
    sfdisk = find_tool("sfdisk", "fdisk")
    script = (f"label: dos\nlabel-id: 0x{DISK_ID:08x}\nunit: sectors\n\n"
              f"start={PART_START_LBA}, size={part_sectors}, type=c, "
              "bootable\n")
    run([sfdisk, "--quiet", "--no-reread", "--no-tell-kernel", img],
        "writing the partition table", stdin_text=script)


def make_fat32(img, part_sectors):
    """Create a FAT32 file system inside the partition, in place."""
    mkfs = shutil.which("mkfs.fat", path=os.environ.get("PATH", "") +
                        ":/usr/sbin:/sbin")
    if mkfs:
        run([mkfs, "-F", "32", "-S", str(SECTOR), "-h", str(PART_START_LBA),
             f"--offset={PART_START_LBA}", "-n", "MICABOOT", img,
             str(part_sectors * SECTOR // 1024)], "mkfs.fat")
    else:
        mformat = find_tool("mformat", "mtools")
        run([mformat, "-i", f"{img}@@{PART_OFFSET}", "-F",
             "-T", str(part_sectors), "-h", "64", "-s", "32",
             "-H", str(PART_START_LBA), "-v", "MICABOOT", "::"], "mformat")


def copy_files(img, files, workdir, cmdline):
    """Copy the boot files, plus a freshly written config.txt (and
    cmdline.txt when cmdline is not None), into the FAT."""
    mcopy = find_tool("mcopy", "mtools")
    written = [("config.txt", CONFIG_TXT)]
    if cmdline is not None:
        written.append(("cmdline.txt", cmdline + "\n"))
    for name, text in written:
        with open(os.path.join(workdir, name), "w", encoding="ascii") as f:
            f.write(text)
    target = f"{img}@@{PART_OFFSET}"
    for src, name in files + [(os.path.join(workdir, n), n) for n, _ in written]:
        run([mcopy, "-o", "-i", target, src, f"::{name}"],
            f"copying {name} onto the card")


def build(kernel, boot_dir, out, size_mib, cmdline=None):
    """Build the whole image into a temporary file, then rename it to out."""
    size = check_size(size_mib)
    files = collect_inputs(kernel, boot_dir)
    if os.path.exists(out) and not os.path.isfile(out):
        raise BuildError(f"refusing to overwrite {out}: not a regular file "
                         "(to write a card, build an image and use dd)")
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    part_sectors = size // SECTOR - PART_START_LBA

    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".sdcard-", suffix=".tmp")
    try:
        os.ftruncate(fd, size)
        os.close(fd)
        fd = -1
        write_partition_table(tmp, part_sectors)
        make_fat32(tmp, part_sectors)
        with tempfile.TemporaryDirectory(prefix="mksdcard-") as workdir:
            copy_files(tmp, files, workdir, cmdline)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def parse_args(argv):
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description="Build a bootable Raspberry Pi 3 B / Zero 2 W SD card "
                    "image for Mica (no root needed).")
    p.add_argument("--kernel", required=True,
                   help="raw kernel binary, becomes kernel8.img")
    p.add_argument("--boot-files", required=True, metavar="DIR",
                   help="output of scripts/fetch-boot-files --print-dir")
    p.add_argument("--out", required=True, help="image file to write")
    p.add_argument("--size-mib", type=int, default=64, metavar="N",
                   help="image size in MiB, a power of two >= 64 "
                        "(default 64)")
    p.add_argument("--cmdline", metavar="TEXT",
                   help="write cmdline.txt with this kernel command line "
                        "(e.g. mica.run=shell); none by default")
    args = p.parse_args(argv)
    if args.cmdline is not None and ("\n" in args.cmdline
                                     or not args.cmdline.isascii()):
        p.error("--cmdline must be one line of ASCII")
    return args


def main(argv=None):
    """Entry point: build the image, report errors as one line."""
    args = parse_args(argv)
    try:
        build(args.kernel, args.boot_files, args.out, args.size_mib,
              args.cmdline)
    except BuildError as e:
        print(f"mksdcard.py: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"mksdcard.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
