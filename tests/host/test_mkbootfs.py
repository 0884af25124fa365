#!/usr/bin/env python3
"""Tests for scripts/tools/mkbootfs.py and scripts/tools/mkimage.py.

Each test runs the tools as the build does (a subprocess, on files in a
temporary directory) and checks the output with an independent, strict
newc parser written here, with `cpio` itself when it is installed, and
with struct/zlib for the image layout. Error cases must exit 1 with a
message and leave no output file (nor a temporary one) behind.

Run directly or from CTest (host.mkbootfs); prints "N passed, M failed"
and exits non-zero if anything failed.
"""

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "..", "scripts", "tools")
MKBOOTFS = os.path.join(TOOLS, "mkbootfs.py")
MKIMAGE = os.path.join(TOOLS, "mkimage.py")

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def run(tool, *args):
    return subprocess.run([sys.executable, tool, *args],
                          capture_output=True, text=True)


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def parse_newc(blob):
    """Strict newc reader: a list of dicts, trailer excluded."""
    entries = []
    off = 0
    while True:
        assert off % 4 == 0, f"entry at unaligned offset {off}"
        head = blob[off:off + 110]
        assert len(head) == 110, f"short header at {off}"
        assert head[:6] == b"070701", f"bad magic at {off}: {head[:6]!r}"
        f = [int(head[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        ino, mode, uid, gid, nlink, mtime, size = f[:7]
        namesize = f[11]
        pos = off + 110
        name = blob[pos:pos + namesize]
        assert len(name) == namesize and name.endswith(b"\0")
        assert b"\0" not in name[:-1]
        pos += namesize
        pad = -pos % 4
        assert blob[pos:pos + pad] == b"\0" * pad, "name padding not zero"
        pos += pad
        data = blob[pos:pos + size]
        assert len(data) == size, "data runs past the end"
        pos += size
        pad = -pos % 4
        assert blob[pos:pos + pad] == b"\0" * pad, "data padding not zero"
        pos += pad
        e = dict(name=name[:-1].decode(), ino=ino, mode=mode, uid=uid,
                 gid=gid, nlink=nlink, mtime=mtime, data=data,
                 rest=f[7:11] + [f[12]])
        off = pos
        if e["name"] == "TRAILER!!!":
            assert off == len(blob), "bytes after the trailer"
            return entries
        entries.append(e)


def tmpdir():
    return tempfile.mkdtemp(prefix="test_mkbootfs-")


def assert_error(proc, d, out):
    """An error: exit 1, a message, and nothing left in the out dir."""
    assert proc.returncode == 1, f"exit {proc.returncode}: {proc.stderr}"
    assert "error" in proc.stderr, f"no message: {proc.stderr!r}"
    assert not os.path.exists(out), "output left behind"
    leftovers = [n for n in os.listdir(d) if n.endswith(".tmp")]
    assert not leftovers, f"temporary files left: {leftovers}"


def sample_files(d):
    """Names covering each name length mod 4 and data length mod 4."""
    files = {
        "a": b"",
        "bb": b"1",
        "ccc": b"22",
        "dddd": b"333",
        "srv/init": b"\x7fELF" + bytes(100),
        "data/blob": bytes(range(256)) * 3,
    }
    paths = {}
    for i, (name, data) in enumerate(sorted(files.items())):
        paths[name] = write(os.path.join(d, "in", f"f{i}"), data)
    os.chmod(paths["srv/init"], 0o755)
    return files, paths


@test
def archive_round_trip():
    d = tmpdir()
    files, paths = sample_files(d)
    manifest = write(os.path.join(d, "in", "manifest"), b"srv/init\n")
    out = os.path.join(d, "out.cpio")
    args = [f"{n}={p}" for n, p in reversed(sorted(paths.items()))]
    proc = run(MKBOOTFS, "--out", out, "--manifest", manifest, *args)
    assert proc.returncode == 0, proc.stderr
    blob = read(out)
    assert len(blob) % 4 == 0
    entries = parse_newc(blob)
    files["boot/manifest"] = b"srv/init\n"
    names = [e["name"] for e in entries]
    assert names == sorted(files), names
    for ino, e in enumerate(entries, start=1):
        assert e["ino"] == ino
        want = 0o100755 if e["name"] == "srv/init" else 0o100644
        assert e["mode"] == want, (e["name"], oct(e["mode"]))
        assert (e["uid"], e["gid"], e["nlink"], e["mtime"]) == (0, 0, 1, 0)
        assert e["rest"] == [0] * 5
        assert e["data"] == files[e["name"]], e["name"]
    shutil.rmtree(d)


@test
def archive_base():
    """--base keeps an archive's files (modes too); NAME=PATH replaces one
    or adds one (scripts/run --add)."""
    d = tmpdir()
    files, paths = sample_files(d)
    base = os.path.join(d, "base.cpio")
    assert run(MKBOOTFS, "--out", base, *[f"{n}={p}" for n, p in paths.items()]).returncode == 0
    name = sorted(files)[0]
    new = write(os.path.join(d, "in", "new"), b"replaced\n")
    extra = write(os.path.join(d, "in", "extra"), b"#!x\n", 0o755)
    out = os.path.join(d, "out.cpio")
    proc = run(MKBOOTFS, "--base", base, "--out", out, f"{name}={new}", f"zz/extra={extra}")
    assert proc.returncode == 0, proc.stderr
    got = {e["name"]: e for e in parse_newc(read(out))}
    want = dict(files, **{name: b"replaced\n", "zz/extra": b"#!x\n"})
    assert sorted(got) == sorted(want), sorted(got)
    for n, e in got.items():
        assert e["data"] == want[n], n
    base_modes = {e["name"]: e["mode"] for e in parse_newc(read(base))}
    for n in files:
        if n != name:
            assert got[n]["mode"] == base_modes[n], n
    assert got["zz/extra"]["mode"] == 0o100755
    assert [e["ino"] for e in parse_newc(read(out))] == list(range(1, len(want) + 1))
    bad = write(os.path.join(d, "in", "bad.cpio"), b"not an archive")
    proc = run(MKBOOTFS, "--base", bad, "--out", out)
    assert proc.returncode == 1 and "not a cpio newc archive" in proc.stderr, proc.stderr
    shutil.rmtree(d)


@test
def archive_reproducible():
    d = tmpdir()
    _, paths = sample_files(d)
    args = [f"{n}={p}" for n, p in paths.items()]
    one, two = os.path.join(d, "1.cpio"), os.path.join(d, "2.cpio")
    assert run(MKBOOTFS, "--out", one, *args).returncode == 0
    for p in paths.values():
        os.utime(p, (12345, 67890))
    assert run(MKBOOTFS, "--out", two, *reversed(args)).returncode == 0
    assert read(one) == read(two)
    shutil.rmtree(d)


@test
def archive_empty_and_long_name():
    d = tmpdir()
    out = os.path.join(d, "o.cpio")
    assert run(MKBOOTFS, "--out", out).returncode == 0
    assert parse_newc(read(out)) == []
    src = write(os.path.join(d, "x"), b"x")
    name = "n/" + "x" * 253
    assert run(MKBOOTFS, "--out", out, f"{name}={src}").returncode == 0
    assert [e["name"] for e in parse_newc(read(out))] == [name]
    shutil.rmtree(d)


@test
def archive_against_cpio():
    if shutil.which("cpio") is None:
        print("  (cpio not installed: skipped)")
        return
    d = tmpdir()
    files, paths = sample_files(d)
    out = os.path.join(d, "o.cpio")
    args = [f"{n}={p}" for n, p in paths.items()]
    assert run(MKBOOTFS, "--out", out, *args).returncode == 0
    with open(out, "rb") as f:
        proc = subprocess.run(["cpio", "-t", "--quiet"], stdin=f,
                              capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == sorted(files), proc.stdout
    ex = os.path.join(d, "ex")
    os.mkdir(ex)
    with open(out, "rb") as f:
        proc = subprocess.run(["cpio", "-id", "--quiet"], stdin=f, cwd=ex,
                              capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name, data in files.items():
        assert read(os.path.join(ex, name)) == data, name
    assert os.stat(os.path.join(ex, "srv/init")).st_mode & 0o111
    shutil.rmtree(d)


@test
def archive_errors():
    d = tmpdir()
    src = write(os.path.join(d, "src"), b"data")
    out = os.path.join(d, "o.cpio")
    bad = [
        [f"a={d}/missing"],                       # missing file
        [f"a={d}"],                               # a directory
        [f"a={src}", f"a={src}"],                 # duplicate
        [f"boot/manifest={src}", "--manifest", src],
        [f"={src}"],                              # empty name
        [f"a={src}", "noequals"],
        ["a="],                                   # empty path
        [f"{'x' * 256}={src}"],                   # 256 bytes
        [f"{'é' * 128}={src}"],                   # 256 bytes in UTF-8
        [f"a/../b={src}"],
        [f"..={src}"],
        [f"/abs={src}"],
        [f"./a={src}"],
        [f"TRAILER!!!={src}"],
        ["--manifest", f"{d}/missing"],
        [],                                       # --out missing below
    ]
    for args in bad:
        full = args if not args else ["--out", out, *args]
        proc = run(MKBOOTFS, *full)
        assert_error(proc, d, out)
    shutil.rmtree(d)


def fake_kernel(length, image_size, magic=b"ARM\x64"):
    k = bytearray(os.urandom(length))
    struct.pack_into("<Q", k, 16, image_size)
    k[56:60] = magic
    return bytes(k)


def make_cpio(d):
    src = write(os.path.join(d, "payload"), b"hello bootfs\n" * 7)
    out = os.path.join(d, "b.cpio")
    assert run(MKBOOTFS, "--out", out, f"hello={src}").returncode == 0
    return out


@test
def image_layout():
    d = tmpdir()
    cpio_path = make_cpio(d)
    cpio = read(cpio_path)
    for length, image_size, tail in [(100, 5000, 8192), (4096, 4096, 4096),
                                     (3000, 3000, 4096), (64, 64, 4096)]:
        kernel = fake_kernel(length, image_size)
        kpath = write(os.path.join(d, "k.bin"), kernel)
        out = os.path.join(d, "image")
        proc = run(MKIMAGE, "--kernel", kpath, "--bootfs", cpio_path,
                   "--out", out)
        assert proc.returncode == 0, proc.stderr
        img = read(out)
        assert len(img) % 4096 == 0
        assert struct.unpack_from("<Q", img, 16)[0] == len(img)
        assert img[:16] == kernel[:16] and img[24:length] == kernel[24:]
        assert img[length:tail] == bytes(tail - length)
        magic, ver, hsize, off, size, crc, res = struct.unpack_from(
            "<QIIQQII", img, tail)
        assert img[tail:tail + 8] == b"MIBOOTFS"
        assert magic == 0x5346544F4F42494D
        assert (ver, hsize, off, size, res) == (1, 64, 64, len(cpio), 0)
        assert img[tail + 40:tail + 64] == bytes(24)
        start = tail + off
        assert img[start:start + size] == cpio
        assert crc == zlib.crc32(cpio)
        end = start + size
        assert img[end:] == bytes(len(img) - end)
        assert len(img) - end < 4096
    shutil.rmtree(d)


@test
def image_errors():
    d = tmpdir()
    cpio_path = make_cpio(d)
    not_cpio = write(os.path.join(d, "nc"), b"not a cpio archive")
    out = os.path.join(d, "image")
    cases = [
        (fake_kernel(100, 5000, magic=b"ARM\x65"), cpio_path),
        (fake_kernel(100, 5000, magic=b"\0\0\0\0"), cpio_path),
        (b"ARM\x64" * 10, cpio_path),                # too short
        (fake_kernel(100, 0), cpio_path),            # image_size 0
        (fake_kernel(5000, 4999), cpio_path),        # file > image_size
        (fake_kernel(100, 5000), not_cpio),
        (fake_kernel(100, 5000), os.path.join(d, "missing.cpio")),
    ]
    for kernel, bootfs in cases:
        kpath = write(os.path.join(d, "k.bin"), kernel)
        proc = run(MKIMAGE, "--kernel", kpath, "--bootfs", bootfs,
                   "--out", out)
        assert_error(proc, d, out)
    proc = run(MKIMAGE, "--kernel", os.path.join(d, "nokernel"),
               "--bootfs", cpio_path, "--out", out)
    assert_error(proc, d, out)
    proc = run(MKIMAGE, "--kernel", cpio_path, "--out", out)
    assert_error(proc, d, out)
    shutil.rmtree(d)


def main():
    passed = failed = 0
    for fn in TESTS:
        try:
            fn()
        except Exception:
            failed += 1
            print(f"FAIL {fn.__name__}")
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print(f"ok   {fn.__name__}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
