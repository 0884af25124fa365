#!/usr/bin/env python3
"""Drive the console program of a normal Mica image over its console UART.

Boots the image in QEMU with the console on this script's pipes, waits for
the prompt, types commands the way a person would and checks what comes
back. One "ok"/"not ok" line per check, then "N passed, M failed".

--program busybox (the default) boots the image as it is, with no kernel
command line, so it proves that the boot manifest's default is Debian's
busybox sh: its banner and /etc/profile's words, the environment, typed
pipelines and files, its line editing, ^C of a running command, more
commands after it, an idle prompt that does not burn the host CPU, and
`exit` powering off.

--program shell boots with mica.run=shell and drives the native shell: the
uart driver's echo and line editing, ^C, the commands, spawning programs
(busybox sh among them), a killed service coming back (procmgr's report
in dmesg, not on the console), an idle prompt, and poweroff.

  shell_test.py --board virt --image build/virt/mica.img
  shell_test.py --program shell --board virt --image build/virt/mica.img
  shell_test.py --board raspi3b --image build/raspi3b/kernel8.img
  shell_test.py --board raspi3b --console serial0 --image build/raspi3b-pl011/kernel8.img
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (qemu_command, Report)

PROMPT = "mica> "
BB_PROMPT = "/ # "  # busybox sh's for root in /


class Console:
    """QEMU with the guest console on a pipe; output collected by a thread."""

    def __init__(self, cmd):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.text = ""
        self.lock = threading.Lock()
        self.mark = 0  # where the next expect starts looking
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            data = self.proc.stdout.read1(4096)
            if not data:
                break
            with self.lock:
                self.text += data.decode(errors="replace")

    def expect(self, pattern, timeout=30):
        """Wait for the regex after the mark; move the mark past it."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            with self.lock:
                m = regex.search(self.text, self.mark)
                if m:
                    self.mark = m.end()
                    return m
            if self.proc.poll() is not None:
                time.sleep(0.2)
                with self.lock:
                    m = regex.search(self.text, self.mark)
                    if m:
                        self.mark = m.end()
                        return m
                return None
            time.sleep(0.05)
        return None

    def type(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def commander(con, report, prompt):
    """command(line, answer, what): type a line, expect the answer, then the prompt."""
    def command(line, answer, what, timeout=30):
        con.type(line + "\r")
        ok = con.expect(answer, timeout) is not None
        report.check(ok, what)
        report.check(con.expect(re.escape(prompt), timeout) is not None,
                     f"prompt again after '{line.strip()}'")
        return ok
    return command


def booted(con, report):
    """The kernel's banner, then the uart driver taking the console."""
    report.check(con.expect(r"Mica \d+\.\d+\.\d+ on (virt|raspi3b)", 60) is not None,
                 "the kernel's banner")
    report.check(con.expect(r"uart: .* takes over the console", 60) is not None,
                 "the uart driver took the console over")


def idle_check(con, report, args):
    """Idle at the prompt: no polling anywhere."""
    time.sleep(1)
    before, start = con.cpu_seconds(), time.monotonic()
    time.sleep(4)
    share = (con.cpu_seconds() - before) / (time.monotonic() - start)
    report.check(share <= args.max_cpu,
                 f"idle prompt: QEMU used {share:.0%} of a host CPU (limit {args.max_cpu:.0%})")


def ends_qemu(con, report):
    try:
        status = con.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        status = None
    report.check(status == 0, f"QEMU ends with status 0 (got {status})")


def busybox_session(con, report, args):
    """The default boot: busybox sh is the console's program."""
    command = commander(con, report, BB_PROMPT)
    booted(con, report)
    report.check(con.expect(r"BusyBox v[\d.]+ .*built-in shell \(ash\)", 60) is not None,
                 "the default boot runs busybox sh on the console")
    report.check(con.expect(r"'exit' powers off\.\r\nFor the native shell boot with "
                            r"mica\.run=shell", 30) is not None,
                 "/etc/profile says how to reach the native shell")
    got_prompt = con.expect(re.escape(BB_PROMPT), 30) is not None
    report.check(got_prompt, "busybox prompt")
    if not got_prompt:
        return
    # busybox asks the terminal where the cursor is (ESC [ 6 n); a real
    # terminal answers, and the answer must not end up in the command line.
    con.type("\x1b[24;5R")
    command("echo $PATH:$HOME:$TERM", r"\r\n/linux/bin:/:vt100\r\n",
            "PATH, HOME and TERM are set (a terminal's cursor report is not typed)")
    command("echo $((6*7)) | cat", r"\r\n42\r\n", "a typed pipeline")
    command("ls /", r"\r\nbin +boot +etc +linux +tmp\r\n", "ls lists the root (and /tmp, made by the fs)")
    command("cat /boot/manifest | grep '^run'", r"\r\nrun linux/bin/busybox sh -l\r\n",
            "cat and grep read the boot manifest")
    command("echo abX\x7fc", r"\r\nabc\r\n", "busybox's line editing: backspace")
    def interrupt(line, what):
        """Type line, let it run, then ^C: the prompt must come back soon."""
        con.type(line + "\r")
        time.sleep(1.5)
        start = time.monotonic()
        con.type("\x03")
        report.check(con.expect(re.escape(BB_PROMPT), 15) is not None
                     and time.monotonic() - start < 10, "^C interrupts " + what)

    interrupt("sleep 30", "sleep 30")
    command("echo $?", r"\r\n130\r\n", "the interrupted command ended by SIGINT (status 130)")
    # A process busy in user code, making no system call: SIGINT must still
    # reach its handler (sh -c catches it, then dies of it). Not the
    # interactive shell's own busy loop: busybox's handler longjmps out of
    # it, and after a few ^C in a hundred it leaves stdout's glibc lock taken,
    # which hangs the shell on Linux too (docs/linux.md).
    interrupt("sh -c 'while :; do :; done'", "a process busy in a loop of builtins")
    command("echo $?", r"\r\n130\r\n", "the busy process ended by SIGINT (status 130)")
    command("for w in more typed; do echo $w; done | wc -l", r"\r\n2\r\n",
            "commands keep working after ^C")
    # A person sees the fresh prompt before typing on: busybox drops what
    # it has read after the ^C, as it does on Linux.
    con.type("echo never\x03")
    report.check(con.expect(r"never\^C\r\n" + re.escape(BB_PROMPT), 30) is not None,
                 "^C at the prompt gives a fresh prompt")
    command("echo fresh", r"\r\nfresh\r\n", "a command typed after it runs")
    report.check("\r\nnever\r\n" not in con.text, "the dropped line did not run")
    idle_check(con, report, args)
    command("echo still here", r"\r\nstill here\r\n", "the console answers after idling")
    con.type("exit\r")
    report.check(con.expect(r"init: linux/bin/busybox finished with 0 failure\(s\)", 30)
                 is not None, "exit ends busybox sh")
    ends_qemu(con, report)


def supervision(con, report, command, args):
    """Services killed six times in quick succession, past their restart
    intensity (5 in 10 s): the console must answer afterwards, and calls to
    a service procmgr gave up must fail at once instead of hanging."""
    def burst(service, after_each, times=6):
        start = time.monotonic()
        for _ in range(times):
            con.type(f"kill {service}\r")
            con.expect(after_each, 15)
            time.sleep(0.2)  # see docs/devices.md: a line typed at a restart
        return time.monotonic() - start

    # The console's own driver (input typed while it is down is lost: wait
    # for each new instance). Given up on the sixth kill, it comes back
    # through devmgr (procmgr restarts devmgr, which equips it anew) and
    # the shell finds it again.
    took = burst("console", r"uart: [^\r\n]+ takes over the console(?s:.*?)" + re.escape(PROMPT),
                 times=5)
    con.type("kill console\r")
    report.check(con.expect(r"procmgr: console restarts too often", 15) is not None,
                 f"the console driver killed six times in {took:.1f} s+ is given up")
    report.check(con.expect(r"uart: [^\r\n]+ takes over the console", 15) is not None,
                 "devmgr equips the console driver again")
    report.check(con.expect(re.escape(PROMPT), 15) is not None, "the shell found it again")
    command("echo after-console", r"\r\nafter-console\r\n",
            "the console answers after its driver was given up")
    # The second UART of the Pi (the uart driver not serving the console).
    uarts = ["uart"] if args.board == "raspi3b" else []
    for name in uarts:
        burst(name, re.escape(PROMPT))
        command("dmesg", rf"procmgr: {name} restarts too often",
                f"{name} killed six times is given up (the kernel log says)")
        command(f"echo after-{name}", rf"\r\nafter-{name}\r\n",
                f"the console answers after {name} was given up")
    took = burst("devmgr", re.escape(PROMPT))
    report.check(took < 15, f"six kills of devmgr took {took:.1f} s")
    command("echo after-devmgr", r"\r\nafter-devmgr\r\n",
            "the console answers after devmgr was killed six times")
    command("ps", r"console +running", "the console driver survived devmgr's deaths")
    took = burst("fs", re.escape(PROMPT))
    # procmgr's line is a service's: in the kernel log while the shell has
    # the console (docs/devices.md).
    command("dmesg", r"procmgr: fs restarts too often",
            f"fs killed six times in {took:.1f} s is given up")
    start = time.monotonic()
    command("ls /", r"ls: /: ERR_PEER_CLOSED", "ls of a failed fs reports an error")
    report.check(time.monotonic() - start < 2, "... within a second or so, not hanging")
    command("linux busybox ls /", r"ls: /: Input/output error",
            "a Linux program's call to the failed fs gets EIO")
    command("echo after-fs", r"\r\nafter-fs\r\n", "the console answers after fs was given up")


def native_session(con, report, args):
    """mica.run=shell: the native shell; each step checks its answer."""
    command = commander(con, report, PROMPT)
    booted(con, report)
    got_prompt = con.expect(re.escape(PROMPT), 60) is not None
    report.check(got_prompt, "shell prompt")
    if not got_prompt:
        return
    command("echo hello from the test", r"\r\nhello from the test\r\n", "echo prints its words")
    command("echo abX\x7fc", r"\r\nabc\r\n", "backspace erases a typed byte")
    command("echo gone\x15echo kept", r"\r\nkept\r\n", "^U drops the line")
    command("ls /bin", r"(?s)\d+  hello\r\n.*\d+  shell\r\n.*\d+  uart\r\n", "ls lists the bootfs")
    command("cat boot/manifest", r"service devmgr bin/devmgr", "cat prints a file")
    command("cat /no/such/file", r"cat: /no/such/file: ERR_NOT_FOUND", "cat reports a missing file")
    command("ps", r"(?s)devmgr +running.*console +running", "ps lists services and drivers")
    command("mem", r"free memory: \d+ KiB", "mem reports free memory")
    command("uptime", r"up \d+\.\d{3} s", "uptime reports the time since boot")
    command("run hello one two", r"hello: one two", "run starts a program with arguments")
    command("run nosuchprogram", r"run: bin/nosuchprogram: ERR_NOT_FOUND",
            "run reports a missing program")
    command("run hello --fault", r"\[hello faulted: ESR 0x[0-9a-f]+\]", "run reports a fault")
    command("linux hello-linux a b --exit 3",
            r"(?s)hello from Linux program hello-linux \(pid \d+\), 4 argument\(s\): a b --exit 3"
            r".*\[hello-linux exited with 3\]", "a static Linux program runs and exits with its status")
    # Debian's busybox sh, interactive: raw mode, its own line editing,
    # a pipeline, ^C of a running command, exit back to the native shell.
    con.type("linux busybox sh\r")
    report.check(con.expect(r"BusyBox v[\d.]+ .*built-in shell", 30) is not None,
                 "busybox sh starts on the console")
    report.check(con.expect(r"/ # ", 30) is not None, "busybox prompt")
    con.type("echo $((6*7)) | cat\r")
    report.check(con.expect(r"\r\n42\r\n", 30) is not None, "busybox: a pipeline")
    report.check(con.expect(r"/ # ", 30) is not None, "busybox prompt again")
    con.type("sleep 30\r")
    time.sleep(1.5)
    start = time.monotonic()
    con.type("\x03")
    report.check(con.expect(r"/ # ", 15) is not None and time.monotonic() - start < 10,
                 "busybox: ^C interrupts a running command")
    con.type("exit\r")
    report.check(con.expect(re.escape(PROMPT), 30) is not None, "exit returns to the native shell")
    # ^C stops the program the shell waits for.
    con.type("run hello --wait\r")
    report.check(con.expect(r"hello: waiting for \^C", 30) is not None, "a waiting program runs")
    time.sleep(0.3)
    con.type("\x03")
    report.check(con.expect(r"\[hello killed\]", 30) is not None, "^C kills the running program")
    report.check(con.expect(re.escape(PROMPT), 30) is not None, "prompt after ^C")
    # A Linux program killed while it reads the console leaves a read behind
    # in the driver; the shell's next line must still reach the shell.
    con.type("linux busybox cat\r")
    time.sleep(2)
    con.type("\x03")
    report.check(con.expect(r"\[busybox killed\]", 30) is not None, "^C kills a program reading the console")
    command("echo after-cat", r"\r\nafter-cat\r\n", "the shell gets its input back")
    # ^C at the prompt drops the line.
    con.type("echo never\x03")
    report.check(con.expect(r"\^C\r\n" + re.escape(PROMPT), 30) is not None,
                 "^C at the prompt gives a fresh prompt")
    # procmgr's report is a service's log line: while the shell has the
    # console it goes to the kernel log only, and dmesg shows it.
    command("kill kv", r"", "kill kills a service")
    time.sleep(0.5)
    command("ps", r"kv +running", "procmgr restarted the killed service")
    report.check("procmgr: kv was killed" not in con.text,
                 "procmgr's report of it stayed off the console (a service's log line)")
    command("dmesg", r"procmgr: kv was killed", "dmesg shows procmgr's report")
    supervision(con, report, command, args)
    command("frobnicate", r"frobnicate: unknown command", "unknown commands are reported")
    idle_check(con, report, args)
    command("echo still here", r"\r\nstill here\r\n", "the console answers after idling")
    con.type("poweroff\r")
    report.check(con.expect(r"powering off", 30) is not None, "poweroff is acknowledged")
    ends_qemu(con, report)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--program", choices=["busybox", "shell"], default="busybox",
                    help="busybox: boot as is (the default program); shell: mica.run=shell")
    ap.add_argument("--board", choices=["virt", "raspi3b"], required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--name", help="label for the report lines")
    ap.add_argument("--dtb", default="bcm2837-rpi-3-b.dtb", help="raspi3b device tree")
    ap.add_argument("--console", choices=["serial0", "serial1"], default="serial1",
                    help="raspi3b: which QEMU serial port carries the console")
    ap.add_argument("--smp", type=int, default=1, help="virt: number of CPUs")
    ap.add_argument("--max-cpu", type=float, default=0.25,
                    help="largest share of a host CPU QEMU may use at the idle prompt")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    if not os.path.exists(args.image):
        sys.exit(f"shell_test: no image {args.image}: run scripts/build first")
    # What harness.qemu_command needs besides ours.
    args.mode, args.machine, args.stdout_path = "shell", "", None
    args.append = "mica.run=shell" if args.program == "shell" else None
    run_session(args, f"{args.board}:{args.program}",
                native_session if args.program == "shell" else busybox_session, args.timeout)


def run_session(args, label, session, timeout, tail=8000):
    """Boot QEMU as args say, run session(con, report, args) on its console
    (stopped after timeout seconds), print the report and exit with its
    verdict. Also input_test.py's."""
    report = harness.Report(args.name or label)
    with tempfile.TemporaryDirectory(prefix="mica-console-") as workdir:
        cmd = harness.qemu_command(args, workdir)
        con = Console(cmd)
        timer = threading.Timer(timeout, con.stop)
        timer.start()
        try:
            session(con, report, args)
        finally:
            timer.cancel()
            con.stop()
    if report.failed:
        print(f"--- console output ({' '.join(cmd)}) ---")
        print(con.text[-tail:])
        print("--- end of console output ---")
    print(f"{report.passed} passed, {report.failed} failed")
    sys.exit(1 if report.failed else 0)


if __name__ == "__main__":
    main()
