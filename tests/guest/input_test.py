#!/usr/bin/env python3
"""Console input that arrives faster than anyone types: type-ahead and pastes.

Boots a normal Mica image (busybox sh on the console) in QEMU with the
console on this script's pipes, as shell_test.py does, but writes input
the way a pipe or a terminal's paste does, all at once, without waiting
for prompts. One "ok"/"not ok" line per check, then "N passed, M failed".

--check typeahead writes exactly what
    printf 'echo a\\nsleep 1\\necho b\\nexit\\n' | scripts/run
writes, before the shell has even started, and closes the pipe: the shell
must print a, then b (typed while `sleep 1` ran in cooked mode, read by
the shell in raw mode at its next prompt), and `exit` must power off with
status 0. Before the line discipline kept input across mode switches this
hung until killed.

--check paste waits for the prompt, types `sleep 3; base64 -d > f`, then
at once writes the base64 of --size random bytes (a fixed seed) at full
speed, ^D, and asks for `md5sum f`: the digest must be the host's, so no
byte was lost anywhere between QEMU's chardev and the file, although for
3 s nobody reads and the uart driver's ring fills (backpressure). It prints how long the
paste took (TCG's UART is slow; the figure is for docs/testing.md).

  input_test.py --check typeahead --board virt --image build/virt/mica.img
  input_test.py --check paste --size 1048576 --board raspi3b --image build/raspi3b/kernel8.img
"""
import argparse
import base64
import hashlib
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (qemu_command, Report)
from shell_test import BB_PROMPT, Console, ends_qemu, run_session  # noqa: E402


def typeahead(con, report, args):
    """All the input at once, then end of file: as `printf ... | scripts/run`."""
    con.type("echo a\nsleep 1\necho b\nexit\n")
    con.proc.stdin.close()
    report.check(con.expect(r"\r\na\r\n", 60) is not None, "the first command ran (a)")
    report.check(con.expect(r"\r\nb\r\n", 30) is not None,
                 "the command typed ahead while sleep ran reached the shell (b)")
    report.check(con.expect(r"init: linux/bin/busybox finished with 0 failure\(s\)", 30)
                 is not None, "exit typed ahead ended busybox sh")
    ends_qemu(con, report)


def paste(con, report, args):
    """base64 -d > f fed at full speed; its md5sum must be the host's."""
    data = random.Random(16).randbytes(args.size)
    text = base64.encodebytes(data).decode()  # 76-column lines, as base64(1) writes
    got_prompt = con.expect(re.escape(BB_PROMPT), 60) is not None
    report.check(got_prompt, "busybox prompt")
    if not got_prompt:
        return
    # The paste starts while the command still sleeps: nobody reads, so the
    # driver's ring fills and the rest must wait in the UART (backpressure),
    # then base64 reads it all at full speed.
    con.type("sleep 3; base64 -d > f\r")
    time.sleep(0.5)  # the shell has read its line; what follows is base64's
    start = time.monotonic()
    con.type(text + "\x04")
    finished = con.expect(re.escape(BB_PROMPT), args.timeout) is not None
    took = time.monotonic() - start
    report.check(finished, f"the paste of {len(text)} bytes ({args.size} decoded) ended "
                 f"in {took:.1f} s ({len(text) / took / 1024:.0f} KiB/s)")
    con.type("md5sum f; wc -c < f\r")
    want = hashlib.md5(data).hexdigest()
    m = con.expect(r"\r\n([0-9a-f]{32})  f\r\n *(\d+)\r\n", 120)
    report.check(m is not None and m.group(1) == want and int(m.group(2)) == args.size,
                 f"the guest's file is the host's data: md5 {want}, {args.size} bytes "
                 f"(guest: {m.group(1) + ', ' + m.group(2) if m else 'no answer'})")
    con.type("exit\r")
    ends_qemu(con, report)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--check", choices=["typeahead", "paste"], required=True)
    ap.add_argument("--board", choices=["virt", "raspi3b"], required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--name", help="label for the report lines")
    ap.add_argument("--dtb", default="bcm2837-rpi-3-b.dtb", help="raspi3b device tree")
    ap.add_argument("--console", choices=["serial0", "serial1"], default="serial1",
                    help="raspi3b: which QEMU serial port carries the console")
    ap.add_argument("--size", type=int, default=1 << 20, help="paste: bytes of data")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    if not os.path.exists(args.image):
        sys.exit(f"input_test: no image {args.image}: run scripts/build first")
    args.mode, args.machine, args.stdout_path, args.smp = "shell", "", None, 1
    args.append = None
    run_session(args, f"{args.board}:{args.check}",
                typeahead if args.check == "typeahead" else paste, args.timeout + 120, tail=4000)


if __name__ == "__main__":
    main()
