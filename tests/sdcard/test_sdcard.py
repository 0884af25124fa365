#!/usr/bin/env python3
"""Test scripts/tools/mksdcard.py: build an SD card image and inspect it.

Usage: test_sdcard.py [--kernel PATH] [--boot-files DIR] [--image PATH]

  --kernel      file to use as kernel8.img (any file will do); without it a
                64 KiB dummy with a recognisable header and random bytes
  --boot-files  output of scripts/fetch-boot-files; without it the script
                runs scripts/fetch-boot-files --print-dir
  --image       check this existing image instead of building one (it must
                have been built from the same --kernel and --boot-files)

The image is checked from the raw bytes (MBR, FAT32 boot sector) and
through mtools (file list, file contents), without root or loop mounts.
Prints one `ok - ...` / `not ok - ...` line per check, then `N passed,
M failed`; the exit status is 0 only if every check passed.
"""

import argparse
import os
import struct
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MKSDCARD = os.path.join(TOP, "scripts", "tools", "mksdcard.py")
FETCH = os.path.join(TOP, "scripts", "fetch-boot-files")
SECTOR = 512
FIRMWARE = ("bootcode.bin", "start.elf", "fixup.dat")
BOARDS = ("rpi-3-b", "rpi-zero-2-w")
CONFIG_LINES = ("arm_64bit=1", "enable_uart=1", "core_freq=250", "kernel=kernel8.img",
                "kernel_address=0x80000")
MTOOLS_ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1", LC_ALL="C")


class Results:
    """Collects check outcomes and prints them TAP-style as they happen."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what, detail=""):
        """Record one check; print detail only when it failed."""
        if cond:
            self.passed += 1
            print(f"ok - {what}")
        else:
            self.failed += 1
            print(f"not ok - {what}" + (f" ({detail})" if detail else ""))
        return cond


def required_files(boot_dir, kernel):
    """Map each name that must be on the card to its source file."""
    files = {"kernel8.img": kernel}
    for name in FIRMWARE:
        files[name] = os.path.join(boot_dir, "firmware", name)
    for board in BOARDS:
        src = os.path.join(boot_dir, "dtbs", f"bcm2837-{board}.dtb")
        files[f"bcm2837-{board}.dtb"] = src
        files[f"bcm2710-{board}.dtb"] = src
    # The Raspberry Pi kernel's name for the Zero 2 W's tree, without "-w".
    files["bcm2710-rpi-zero-2.dtb"] = files["bcm2710-rpi-zero-2-w.dtb"]
    return files


def describe_difference(got, want):
    """Say briefly how the bytes read back differ from the expected ones."""
    if got is None:
        return "could not read it back"
    if len(got) != len(want):
        return f"{len(got)} bytes instead of {len(want)}"
    first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), -1)
    return f"first difference at byte {first}"


def run_mksdcard(kernel, boot_dir, out, *extra):
    """Run mksdcard.py; return (exit status, stderr text)."""
    proc = subprocess.run([sys.executable, MKSDCARD, "--kernel", kernel,
                           "--boot-files", boot_dir, "--out", out, *extra],
                          capture_output=True, text=True, check=False)
    return proc.returncode, proc.stderr.strip()


def check_mbr(r, img):
    """Check the image size and MBR; return the partition's byte offset."""
    size = os.path.getsize(img)
    r.check(size > 0 and size & (size - 1) == 0,
            f"image size {size} is a power of two")
    with open(img, "rb") as f:
        mbr = f.read(SECTOR)
    r.check(mbr[510:512] == b"\x55\xaa", "MBR signature 0x55AA",
            f"found {mbr[510:512].hex()}")
    entries = [mbr[446 + 16 * i: 462 + 16 * i] for i in range(4)]
    used = [e for e in entries if e[4] != 0]
    if not r.check(len(used) == 1, "exactly one partition",
                   f"{len(used)} partitions"):
        return None
    e = used[0]
    boot, ptype = e[0], e[4]
    start, count = struct.unpack_from("<II", e, 8)
    r.check(ptype == 0x0C, "partition type 0x0C (FAT32 LBA)",
            f"type 0x{ptype:02X}")
    r.check(boot == 0x80, "partition marked bootable (0x80)",
            f"flag 0x{boot:02X}")
    r.check(start == 2048, "partition starts at LBA 2048", f"LBA {start}")
    r.check(count > 0 and (start + count) * SECTOR <= size,
            "partition lies within the image",
            f"LBA {start}+{count} vs {size // SECTOR} sectors")
    return start * SECTOR


def check_fat32(r, img, offset):
    """Check the FAT32 boot sector at the partition's start."""
    with open(img, "rb") as f:
        f.seek(offset)
        bs = f.read(SECTOR)
    bps = struct.unpack_from("<H", bs, 11)[0]
    hidden = struct.unpack_from("<I", bs, 28)[0]
    r.check(bs[82:90] == b"FAT32   ", "boot sector says FAT32",
            f"fs type {bs[82:90]!r}")
    r.check(bps == SECTOR, "512 bytes per sector", f"{bps}")
    r.check(bs[510:512] == b"\x55\xaa", "FAT boot sector signature 0x55AA")
    r.check(hidden == offset // SECTOR,
            "hidden sectors match the partition start", f"{hidden}")


def check_contents(r, img, offset, files, workdir):
    """List the FAT with mdir and compare files read back with mcopy."""
    target = f"{img}@@{offset}"
    proc = subprocess.run(["mdir", "-b", "-i", target, "::"],
                          capture_output=True, text=True, env=MTOOLS_ENV,
                          check=False)
    if not r.check(proc.returncode == 0, "mdir can read the file system",
                   proc.stderr.strip()):
        return
    listed = {line.strip().removeprefix("::/").lower()
              for line in proc.stdout.splitlines() if line.strip()}
    for name in list(files) + ["config.txt"]:
        r.check(name.lower() in listed, f"{name} is on the card")
    r.check("cmdline.txt" not in listed,
            "no cmdline.txt by default (Mica boots busybox sh)")

    def read_back(name):
        dest = os.path.join(workdir, "readback-" + name)
        p = subprocess.run(["mcopy", "-n", "-i", target, f"::{name}", dest],
                           capture_output=True, env=MTOOLS_ENV, check=False)
        if p.returncode != 0:
            return None
        with open(dest, "rb") as f:
            return f.read()

    for name, src in files.items():
        with open(src, "rb") as f:
            want = f.read()
        got = read_back(name)
        r.check(got == want, f"{name} reads back identical to {src}",
                describe_difference(got, want))
    config = read_back("config.txt") or b""
    active = {line.strip() for line in config.decode("ascii", "replace")
              .splitlines() if not line.strip().startswith("#")}
    for line in CONFIG_LINES:
        r.check(line in active, f"config.txt sets {line}")


def check_cmdline(r, kernel, boot_dir, workdir):
    """--cmdline writes cmdline.txt (the firmware's kernel command line)."""
    img = os.path.join(workdir, "native.img")
    status, err = run_mksdcard(kernel, boot_dir, img, "--cmdline",
                               "mica.run=shell")
    if not r.check(status == 0, "mksdcard.py --cmdline builds an image",
                   f"exit {status}: {err}"):
        return
    dest = os.path.join(workdir, "readback-cmdline.txt")
    p = subprocess.run(["mcopy", "-n", "-i", f"{img}@@{2048 * SECTOR}",
                        "::cmdline.txt", dest], capture_output=True,
                       env=MTOOLS_ENV, check=False)
    got = open(dest, "rb").read() if p.returncode == 0 else None
    r.check(got == b"mica.run=shell\n",
            "cmdline.txt holds the --cmdline line", repr(got))
    status, err = run_mksdcard(kernel, boot_dir, img, "--cmdline", "a\nb")
    r.check(status != 0 and "one line" in err,
            "--cmdline with a newline is refused", f"exit {status}: {err}")


def check_missing_input(r, kernel, boot_dir, workdir):
    """mksdcard.py must fail cleanly on missing inputs, leaving no output."""
    out_dir = os.path.join(workdir, "neg")
    os.makedirs(out_dir)
    out = os.path.join(out_dir, "sd.img")
    missing = os.path.join(workdir, "no-such-kernel.img")
    status, err = run_mksdcard(missing, boot_dir, out)
    r.check(status != 0, "missing kernel: non-zero exit", f"exit {status}")
    r.check(missing in err, "missing kernel: error names the file",
            repr(err))
    r.check(os.listdir(out_dir) == [], "missing kernel: no output left",
            str(os.listdir(out_dir)))

    # A boot-files directory lacking one DTB must be refused the same way.
    partial = os.path.join(workdir, "partial-boot-files")
    for sub in ("firmware", "dtbs"):
        os.makedirs(os.path.join(partial, sub))
        for name in os.listdir(os.path.join(boot_dir, sub)):
            if name != "bcm2837-rpi-zero-2-w.dtb":
                os.symlink(os.path.join(boot_dir, sub, name),
                           os.path.join(partial, sub, name))
    status, err = run_mksdcard(kernel, partial, out)
    r.check(status != 0 and "bcm2837-rpi-zero-2-w.dtb" in err,
            "missing DTB: non-zero exit naming the file",
            f"exit {status}: {err!r}")
    r.check(os.listdir(out_dir) == [], "missing DTB: no output left",
            str(os.listdir(out_dir)))


def boot_files_dir(given):
    """Return --boot-files, or ask scripts/fetch-boot-files for it."""
    if given:
        return given
    proc = subprocess.run([FETCH, "--print-dir"], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"test_sdcard.py: scripts/fetch-boot-files failed: "
                 f"{proc.stderr.strip()}")
    return proc.stdout.strip()


def main():
    """Build (or take) an image, run every check, print the summary."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel", help="file to use as kernel8.img")
    ap.add_argument("--boot-files", metavar="DIR")
    ap.add_argument("--image", help="check this image instead of building")
    args = ap.parse_args()
    boot_dir = boot_files_dir(args.boot_files)
    r = Results()
    with tempfile.TemporaryDirectory(prefix="test-sdcard-") as workdir:
        kernel = args.kernel
        if not kernel:
            kernel = os.path.join(workdir, "dummy-kernel8.img")
            with open(kernel, "wb") as f:
                head = b"MICA-TEST-KERNEL"
                f.write(head + os.urandom(64 * 1024 - len(head)))
        img = args.image
        if not img:
            img = os.path.join(workdir, "sdcard.img")
            status, err = run_mksdcard(kernel, boot_dir, img)
            r.check(status == 0 and os.path.isfile(img),
                    "mksdcard.py builds an image", f"exit {status}: {err}")
        if os.path.isfile(img):
            offset = check_mbr(r, img)
            if offset is not None:
                check_fat32(r, img, offset)
                check_contents(r, img, offset,
                               required_files(boot_dir, kernel), workdir)
        else:
            r.check(False, f"image {img} exists")
        check_cmdline(r, kernel, boot_dir, workdir)
        check_missing_input(r, kernel, boot_dir, workdir)
    print(f"{r.passed} passed, {r.failed} failed")
    return 0 if r.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
