#!/usr/bin/env python3
"""scripts/run as a developer uses it: on a terminal (a pty).

Starts `scripts/run ARGS` (which builds if needed; the build is done
already under ctest) through bash on a fresh pty, waits for busybox's
prompt, types commands and `exit`, and checks what the terminal got. One
"ok"/"not ok" line per check, then "N passed, M failed".

--check crlf: lines reach the terminal ending "\\r\\n" once. Mica ends
them so itself; the terminal's ONLCR made them "\\r\\r\\n" until
scripts/run turned it off while QEMU runs. Afterwards the terminal has its
settings back (onlcr on) and scripts/run's status is QEMU's, 0.

--check add: `scripts/run --add` puts a static Linux program built with
scripts/musl-cc (as linux/bin/hi), a file (at its own name) and a folder
(under stuff/) into the run's bootfs without touching the build; busybox
runs the program with arguments and cats the files.

--check gdb: `scripts/run --gdb` while port 1234 is taken (the test holds
it, as another Mica under a debugger would) picks another port and says
which; QEMU waits there, stopped before the first instruction (no banner
yet); a GDB remote-protocol client on that port gets a stop reply to `?`
and continues the machine with `c`, which then boots to busybox and exits.

  run_test.py --check crlf --board virt
  run_test.py --check add --board raspi3b
  run_test.py --check gdb --board virt
"""
import argparse
import os
import pty
import re
import select
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (Report)

BB_PROMPT = b"/ # "


class Terminal:
    """A command on a pty; output collected as it is read. Where there are
    no pseudo-terminals (a chroot without /dev/pts) and the check does not
    need one, on pipes instead (pipes=True)."""

    def __init__(self, shell_command, pipes=False):
        self.out = b""
        self.mark = 0
        self.proc = None
        try:
            self.pid, self.fd = pty.fork()
        except OSError:
            if not pipes:
                raise
            self.proc = subprocess.Popen(["bash", "-c", shell_command], cwd=TOP,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            self.pid, self.fd = self.proc.pid, self.proc.stdout.fileno()
            return
        if self.pid == 0:
            os.chdir(TOP)
            os.execvp("bash", ["bash", "-c", shell_command])

    def read(self, seconds):
        """Read for up to seconds; False once the command closed the pty."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    return False
                if not data:
                    return False
                self.out += data
        return True

    def expect(self, pattern, timeout):
        regex = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            m = regex.search(self.out, self.mark)
            if m:
                self.mark = m.end()
                return m
            if time.monotonic() > end or not self.read(0.2):
                m = regex.search(self.out, self.mark)
                return m

    def type(self, text):
        os.write(self.proc.stdin.fileno() if self.proc else self.fd, text)

    def finish(self, timeout):
        if self.pid is None:
            return
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.read(0.5):
            pass
        try:
            if self.proc:
                os.killpg(self.pid, 9)  # bash and the QEMU it started
            else:
                os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        self.pid = None


def prompt(term, report, args):
    """The busybox prompt on the terminal (the start of each check)."""
    got = term.expect(re.escape(BB_PROMPT), args.timeout) is not None
    report.check(got, "busybox prompt on the terminal")
    return got


def crlf(term, report, args):
    if not prompt(term, report, args):
        return
    term.type(b"echo hi; echo there\r")
    report.check(term.expect(rb"hi\r\nthere\r\n", 30) is not None, "echo answers")
    term.type(b"exit\r")
    report.check(term.expect(rb"status=0\b", 60) is not None, "scripts/run ends with status 0")
    term.finish(10)
    guest = term.out.split(b"status=")[0]
    doubled = guest.count(b"\r\r\n")
    report.check(doubled == 0, f"no line ends \\r\\r\\n ({doubled} did)")
    report.check(guest.count(b"\r\n") > 20, "lines end \\r\\n")
    stty = term.out.split(b"status=")[-1]
    report.check(re.search(rb"(?<!-)onlcr", stty) is not None,
                 "the terminal has onlcr back afterwards")


HI_C = r'''#include <stdio.h>
int main(int argc, char **argv)
{
    printf("hi from %s with %d argument(s)\n", argv[0], argc - 1);
    return 0;
}
'''


def add(term, report, args):
    if not prompt(term, report, args):
        return
    term.type(b"hi one two; cat /data.txt /stuff/a.txt /stuff/sub/b.txt\r")
    report.check(term.expect(rb"hi from hi with 2 argument\(s\)\r\n", 30) is not None,
                 "the added program (scripts/musl-cc) runs from linux/bin")
    report.check(term.expect(rb"data line\r\nalpha\r\nbeta\r\n", 30) is not None,
                 "the added file and folder are there")
    term.type(b"exit\r")
    report.check(term.expect(rb"status=0\b", 60) is not None, "scripts/run ends with status 0")


def gdb_packet(sock, body):
    """Send one GDB remote-protocol packet; return the reply's text."""
    sock.sendall(b"$%s#%02x" % (body, sum(body) % 256))
    reply, end = b"", time.monotonic() + 20
    while time.monotonic() < end and not re.search(rb"\$[^#]*#..", reply):
        try:
            reply += sock.recv(4096)
        except socket.timeout:
            continue
    return reply


def gdb(term, report, args):
    m = term.expect(rb"QEMU waits for gdb on localhost:(\d+)", args.timeout)
    report.check(m is not None, "scripts/run says where QEMU waits for gdb")
    if not m:
        return
    port = int(m.group(1))
    report.check(port != 1234, f"port 1234 is taken: another one ({port})")
    report.check(term.expect(rb"'target remote :%d'" % port, 5) is not None,
                 "the gdb command line names that port")
    time.sleep(1)
    term.read(0.5)
    report.check(b"Mica 0." not in term.out, "QEMU is stopped before the first instruction")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.settimeout(1)
        reply = gdb_packet(sock, b"?")
        report.check(re.search(rb"\$[ST][0-9a-f]{2}", reply) is not None,
                     f"a gdb stub answers on {port} ({reply[:40]!r})")
        sock.sendall(b"+")
        sock.sendall(b"$c#63")  # continue: no reply until the machine stops
        got = term.expect(re.escape(BB_PROMPT), args.timeout) is not None
        report.check(got, "continued from gdb, it boots to busybox")
        if got:
            term.type(b"exit\r")
            report.check(term.expect(rb"status=0\b", 60) is not None,
                         "scripts/run ends with status 0")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--check", choices=["crlf", "add", "gdb"], required=True)
    ap.add_argument("--board", choices=["virt", "raspi3b"], default="virt")
    ap.add_argument("--name", help="label for the report lines")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    report = harness.Report(args.name or f"{args.board}:{args.check}")
    with tempfile.TemporaryDirectory(prefix="mica-run-") as tmp:
        run = f"scripts/run {args.board}"
        if args.check == "add":
            with open(os.path.join(tmp, "hi.c"), "w") as f:
                f.write(HI_C)
            built = subprocess.run([os.path.join(TOP, "scripts", "musl-cc"), "-O2", "-Wall",
                                    "-Werror", os.path.join(tmp, "hi.c"), "-o",
                                    os.path.join(tmp, "hi")], capture_output=True, text=True)
            report.check(built.returncode == 0, "scripts/musl-cc builds the program")
            with open(os.path.join(tmp, "data.txt"), "w") as f:
                f.write("data line\n")
            os.makedirs(os.path.join(tmp, "dir", "sub"))
            with open(os.path.join(tmp, "dir", "a.txt"), "w") as f:
                f.write("alpha\n")
            with open(os.path.join(tmp, "dir", "sub", "b.txt"), "w") as f:
                f.write("beta\n")
            run += (f" --add {tmp}/hi=linux/bin/hi --add {tmp}/data.txt"
                    f" --add={tmp}/dir=stuff")
        holder = None
        if args.check == "gdb":
            run += " --gdb"
            holder = socket.socket()  # 1234 taken, as by another Mica being debugged
            try:
                holder.bind(("127.0.0.1", 1234))
                holder.listen(1)
            except OSError:
                pass  # taken already: just as good
        try:
            term = Terminal(f"{run}; echo status=$?; stty -a", pipes=args.check != "crlf")
        except OSError as e:  # crlf is about a terminal: nothing to test without one
            print(f"# skipped: no pseudo-terminal here ({e})")
            sys.exit(77)
        try:
            {"crlf": crlf, "add": add, "gdb": gdb}[args.check](term, report, args)
        finally:
            term.finish(1)
            if holder:
                holder.close()
    if report.failed:
        print("--- terminal output ---")
        print(term.out[-3000:].decode(errors="replace"))
        print("--- end of terminal output ---")
    print(f"{report.passed} passed, {report.failed} failed")
    sys.exit(1 if report.failed else 0)


if __name__ == "__main__":
    main()
