#!/usr/bin/env python3
"""What scripts/setup and scripts/build say (issue 16: progress output).

One "ok"/"not ok" line per check, then "N passed, M failed"; exit 1 if any
check failed. Runs the real scripts on this checkout, which the suite has
built already:

- scripts/setup with everything installed says nothing and succeeds;
- scripts/build host, up to date, says nothing;
- after a host source changes (its mtime: tests/host/test_line.c is
  touched), scripts/build host says "build: building host (build/host)"
  and, not on a terminal, nothing of ninja's progress;
- on a terminal (a pty) the same build shows ninja's [n/N] progress on one
  line, each step overwriting the last ("\\r\\033[K").

ctest runs it alone (RUN_SERIAL): it rebuilds test_line.
"""
import os
import pty
import select
import subprocess
import sys
import time

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    print(("ok - " if ok else "not ok - ") + what + (f" ({detail})" if detail and not ok else ""))
    passed += bool(ok)
    failed += not ok


def run(*cmd):
    p = subprocess.run(cmd, cwd=TOP, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def run_on_pty(*cmd):
    """Run cmd on a fresh pty; return (status, everything it wrote)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(TOP)
        os.execvp(cmd[0], list(cmd))
    out = b""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            out += data
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def touch(path):
    os.utime(os.path.join(TOP, path))


def main():
    status, out = run("scripts/setup")
    check(status == 0 and out == "", "scripts/setup with nothing missing is silent", repr(out[-300:]))
    run("scripts/build", "host")
    status, out = run("scripts/build", "host")
    check(status == 0 and out == "", "scripts/build host, up to date, is silent", repr(out[-300:]))
    touch("tests/host/test_line.c")
    status, out = run("scripts/build", "host")
    check(status == 0 and "build: building host (build/host)\n" in out,
          "a build with work to do says so", repr(out[-300:]))
    check("[1/" not in out, "not on a terminal: no ninja progress lines", repr(out[-300:]))
    touch("tests/host/test_line.c")
    try:
        status, out = run_on_pty("scripts/build", "host")
    except OSError as e:  # a machine (or chroot) without /dev/pts
        print(f"# skipped the terminal checks: no pseudo-terminal here ({e})")
        print(f"{passed} passed, {failed} failed")
        sys.exit(1 if failed else 0)
    check(status == 0 and "build: building host" in out, "on a terminal: the same line", repr(out[-300:]))
    check("\r\x1b[K[1/" in out and "\r\x1b[K[2/" in out,
          "on a terminal: ninja's progress, each step over the last", repr(out[-300:]))
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
