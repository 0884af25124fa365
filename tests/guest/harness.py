#!/usr/bin/env python3
"""Boot a Mica image in QEMU and judge what it prints.

The harness starts QEMU with a timeout, captures the console UART, and
reports one line per check: every expected self-test by name, the exit
status (the guest reports it through semihosting), and any text the
configuration must show. It fails on a timeout, a panic that was not
expected, a missing or failed test, or a wrong exit status.

Examples:
  harness.py --board virt --image build/virt/mica-test.img --machine gic-version=3
  harness.py --board raspi3b --image build/raspi3b/kernel8-test.img --dtb none
  harness.py --board virt --image build/virt/mica-test.img --mode panic
  harness.py --board raspi3b --image build/raspi3b/kernel8-test.img --mode halt
  harness.py --board virt --image build/virt/mica-test.img --mode bench
"""
import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

# Every self-test the kernel must report (kernel/selftest/*.c).
SELFTESTS = [
    "boot_exception_level", "boot_platform", "lib_snprintf", "ksyms_lookup",
    "bootfs_crc32_arm",
    "page_alloc_basic", "page_alloc_reserved", "page_alloc_exhaust", "slab_cache",
    "time_advances", "timer_tick_conversion", "timer_deadlines_in_order", "timer_cancel", "timer_repeats_in_wfi",
    "fault_unmapped_read", "fault_null_dereference", "wx_rodata_write_faults",
    "wx_text_write_faults", "wx_data_not_executable", "wx_mapping_permissions",
    "fault_decoding",
]

# Every test of the native userspace test program (tests/user/ktest*.c),
# which init runs after the kernel self-tests.
USER_TESTS = [
    "user_handle_info_dup", "user_handle_bad_stale", "user_handle_revoke", "user_handle_give",
    "user_handle_limit", "user_unknown_syscall", "user_debug_log", "user_log_read", "user_clocks",
    "user_vmo_read_write", "user_map_and_touch", "user_map_rights_placement", "user_vmo_copy",
    "user_vmo_snapshot_isolation", "user_vmo_snapshot_repeat", "user_vmo_snapshot_bad_args",
    "user_vmo_snapshot_random", "user_vmo_snapshot_copy_across_faults",
    "user_thread_pointer", "user_thread_stacks_freed", "user_asid_rollover", "user_memory_limit", "user_process_exit_code", "user_fault_kills_process", "user_kill_and_deadline",
    "user_thread_bad_args", "user_no_leaks", "user_ipc_saved_replies", "user_ipc_call_reply_badge",
    "user_ipc_long_and_handles", "user_ipc_deadlines_dead_partners", "user_ipc_receive_side_closed",
    "user_notifications",
    "user_ipc_bad_args", "user_ipc_fast_path", "user_ipc_fast_path_wakeups",
    "user_sched_fast_handoff_priority", "user_sched_slow_handoff_priority", "user_sched_wake_preempts",
    "user_sched_reply_recv_pending_notification", "user_preemption", "user_fp_context_switch", "user_fault_endpoint", "user_suspend_resume_state", "user_thread_fp_state",
    "user_thread_priorities", "user_contiguous_dma_vmo", "user_irq_object", "user_resources_physical_vmo",
    "user_copy_on_write", "user_malloc", "user_example_kv_server",
    "user_procmgr_spawn_list", "user_procmgr_lookup_restart", "user_procmgr_group_strategies", "user_procmgr_kill_authority", "user_procmgr_intensity",
    "user_fs_bootfs_files", "user_fs_read_write", "user_fs_bad_requests", "user_fs_clients_and_limits",
    "user_fs_restart", "user_devmgr_drivers", "user_uart_protocol", "user_driver_restart", "user_devmgr_restart", "user_driver_given_up",
    "user_console_handover", "user_linux_syscall_redirect", "user_linux_syscall_no_server",
    "user_limit_bad_input", "user_limit_not_ours", "user_limit_charges_payer", "user_limit_pool",
    "user_linux_programs", "user_linux_isolation", "user_linux_limits", "user_linux_busybox",
    "user_linux_oom",
    "user_hostile_buffer_removed", "user_hostile_cow_depth", "user_hostile_destruction_chain",
    "user_hostile_charges", "user_hostile_kill_suspended", "user_confine_handle_guessing",
    "user_fuzz_syscalls",
    "user_fuzz_threads",
]

# What each mode expects: self-tests, exit status, required text.
MODES = {
    "tests": (SELFTESTS + USER_TESTS, 0, ["init: ktest finished with 0 failure(s)","*** expected fault (self-test), recovering",
                             "exception class 0x25: Data Abort (same EL)",
                             "fault: permission fault, level 3 on write",
                             "exception class 0x21: Instruction Abort (same EL)"]),
    "panic": ([], 3, ["exception class 0x25: Data Abort (same EL)",
                      "fault: translation fault", "ESR ", "FAR  ffff7f0000000040",
                      "x30 ", "backtrace:", "selftest_panic_fault+", "kernel_main+",
                      "*** kernel halted"]),
    "idle": (["idle_tickless"], 0, []),
    # A panic without semihosting (as on a real Pi): the HLT that would end
    # QEMU is an undefined instruction, which must halt, not recurse.
    "halt": ([], "stopped", ["selftest_panic_fault+", "*** kernel halted"]),
    # A normal image running one program given by mica.run= (--append):
    # it must finish with status 0.
    "run": ([], 0, []),
    # A normal image told to run a program it does not have: init must say
    # so and power off with status 2 (it used to wait for ever).
    "missing": ([], 2, ["is not in the bootfs: nothing to run, powering off"]),
    # The in-guest benchmarks (tests/user/bench.c) as a functional check:
    # they must finish and report every figure; their speed is not judged.
    "bench": ([], 0, ["BENCH clock ns_per_tick ", "init: bench finished with 0 failure(s)"]),
}
# Every figure the benchmark program reports as "BENCH <key> <value> <iterations>".
BENCH_KEYS = ["null_syscall", "ipc_call_reply_same_as", "ipc_call_reply_cross_as",
              "notify_roundtrip", "page_fault_kernel"]
# Text that must never appear, per mode: lx-confine (tests/linux/confine.c)
# asks for it with the native debug_log call, which must not reach Mica.
NEVER = {"tests": ["LX-CONFINE-NATIVE-LOG-LEAK"]}
# Text that must appear exactly once, per mode.
ONCE = {"halt": ["*** sync from EL1h", "*** kernel halted"], "panic": ["*** kernel halted"]}
# Text after which an idling or halted kernel is stopped by the harness.
STOP_TEXT = {"halt": "*** kernel halted"}


class Report:
    """Collects ok / not ok lines and prints the summary."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        print(f"{'ok' if ok else 'not ok'} - {self.name}: {what}")
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def boot_files_dir():
    out = subprocess.run([os.path.join(TOP, "scripts", "fetch-boot-files"), "--print-dir"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def qemu_command(args, workdir):
    """The QEMU command line for this configuration."""
    cmd = ["qemu-system-aarch64", "-display", "none", "-monitor", "none", "-no-reboot",
           "-kernel", args.image]
    if args.mode != "halt":
        cmd.append("-semihosting")
    if args.board == "virt":
        machine = "virt" + ("," + args.machine if args.machine else "")
        # -nic none: no default NIC, whose ROM file a minimal QEMU install lacks
        cmd += ["-M", machine, "-cpu", "cortex-a53", "-m", "512M", "-smp", str(args.smp),
                "-nic", "none", "-serial", "stdio"]
    else:
        cmd += ["-M", "raspi3b"]
        if args.dtb != "none":
            dtb = os.path.join(boot_files_dir(), "dtbs", args.dtb)
            if args.stdout_path:
                patched = os.path.join(workdir, "board.dtb")
                subprocess.run(["cp", dtb, patched], check=True)
                subprocess.run(["fdtput", "-t", "s", patched, "/chosen", "stdout-path",
                                args.stdout_path], check=True)
                dtb = patched
            cmd += ["-dtb", dtb]
        other = os.path.join(workdir, "other-uart.log")
        if args.console == "serial0":
            cmd += ["-serial", "stdio", "-serial", "file:" + other]
        else:
            cmd += ["-serial", "file:" + other, "-serial", "stdio"]
    if args.append:
        cmd += ["-append", args.append]
    return cmd


def run_qemu(cmd, timeout, stop_text):
    """Run QEMU; return (output, exit status or None on timeout, cpu seconds, wall seconds)."""
    start = time.monotonic()
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    chunks = []
    seen = threading.Event()

    def reader():
        for line in iter(proc.stdout.readline, b""):
            chunks.append(line)
            if stop_text and stop_text.encode() in line:
                seen.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    status = None
    deadline = start + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            status = proc.returncode
            break
        if seen.is_set():
            time.sleep(0.5)  # let the line finish, then stop the idle kernel
            proc.terminate()
            proc.wait()
            status = "stopped"
            break
        time.sleep(0.05)
    if status is None:
        proc.kill()
        proc.wait()
    thread.join(timeout=2)
    wall = time.monotonic() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    return b"".join(chunks).decode(errors="replace"), status, cpu, wall


def check_bench_lines(report, output):
    """Each benchmark figure must appear once with a positive value and count."""
    for key in BENCH_KEYS:
        found = re.findall(rf"^BENCH {key} ([0-9]+(?:\.[0-9]+)?) ([0-9]+)\s*$", output, re.M)
        ok = len(found) == 1 and float(found[0][0]) > 0 and int(found[0][1]) > 0
        report.check(ok, f"BENCH {key} reported once with a positive figure"
                     + (f" ({found[0][0]} ns/op over {found[0][1]})" if found else ""))


# A result line: "[ PASS ] name" or "[ FAIL ] name", the name a whole word
# (so user_ipc_fast_path is not user_ipc_fast_path_wakeups). The line may
# carry other text before it (a log line that did not end), never after.
RESULT_LINE = re.compile(r"\[ (PASS|FAIL) \] (\S+)[ \t\r]*$", re.M)


def parse_results(output):
    """Every test's results, by exact name: {name: ["PASS" | "FAIL", ...]}."""
    results = {}
    for verdict, name in RESULT_LINE.findall(output):
        results.setdefault(name, []).append(verdict)
    return results


def judge(args, output, status, cpu, wall):
    """Check the captured run against the mode's expectations."""
    report = Report(args.name or f"{args.board}:{args.mode}")
    tests, want_status, texts = MODES[args.mode]
    report.check(status is not None, "finished before the timeout" if status is not None
                 else f"timed out after {args.timeout} s")
    if want_status is not None:
        report.check(status == want_status, f"exit status {status} (want {want_status})")
    if args.mode not in ("panic", "halt"):
        report.check("*** PANIC" not in output and "*** kernel halted" not in output,
                     "no panic")
    results = parse_results(output)
    for test in tests:
        seen = results.get(test, [])
        if "FAIL" in seen:
            report.check(False, f"test {test} FAILED")
        elif "PASS" in seen:
            report.check(True, f"test {test}")
        else:
            report.check(False, f"test {test} gave no result")
    for test in sorted(set(results) - set(tests)):
        if "FAIL" in results[test]:
            report.check(False, f"test {test} FAILED (not in the harness's list)")
    for text in texts + (args.expect or []):
        report.check(text in output, f"output shows '{text}'")
    if args.mode == "bench":
        check_bench_lines(report, output)
    for text in NEVER.get(args.mode, []):
        report.check(text not in output, f"output never shows '{text}'")
    for text in ONCE.get(args.mode, []):
        n = output.count(text)
        report.check(n == 1, f"'{text}' appears once (seen {n} times)")
    if args.max_cpu is not None:
        fraction = cpu / wall if wall else 1.0
        report.check(fraction <= args.max_cpu,
                     f"QEMU used {fraction:.0%} of a host CPU over {wall:.1f} s "
                     f"(limit {args.max_cpu:.0%})")
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--board", choices=["virt", "raspi3b"], required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--mode", choices=sorted(MODES), default="tests")
    ap.add_argument("--name", help="label for the report lines")
    ap.add_argument("--machine", default="", help="extra -M options for virt, e.g. gic-version=3")
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--dtb", default="bcm2837-rpi-3-b.dtb", help="raspi3b device tree, or 'none'")
    ap.add_argument("--stdout-path", help="raspi3b: rewrite /chosen stdout-path in the DTB")
    ap.add_argument("--console", choices=["serial0", "serial1"], default="serial1",
                    help="raspi3b: which QEMU serial port carries the console")
    ap.add_argument("--append", help="kernel command line (mica.test=panic|idle)")
    ap.add_argument("--expect", action="append", help="text the output must contain")
    ap.add_argument("--max-cpu", type=float, help="largest share of a host CPU QEMU may use")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--log", help="save the console output here")
    args = ap.parse_args()
    if not os.path.exists(args.image):
        sys.exit(f"harness: no image {args.image}: run scripts/build first")
    if args.mode in ("panic", "idle", "halt") and not args.append:
        args.append = "mica.test=" + ("panic" if args.mode == "halt" else args.mode)
    if args.mode == "bench" and not args.append:
        args.append = "mica.run=bench"

    with tempfile.TemporaryDirectory(prefix="mica-harness-") as workdir:
        cmd = qemu_command(args, workdir)
        output, status, cpu, wall = run_qemu(cmd, args.timeout, STOP_TEXT.get(args.mode))
    if args.log:
        with open(args.log, "w") as f:
            f.write(output)
    report = judge(args, output, status, cpu, wall)
    if report.failed:
        # The tail below may not reach back to a failed test: show each
        # failure with the lines that explain it first.
        lines = output.splitlines()
        for i, line in enumerate(lines):
            if "[ FAIL ]" in line:
                print("--- failed test ---")
                start = i  # back to the test's [ RUN  ] line, at most 40 lines
                while start > 0 and i - start < 40 and "[ RUN  ]" not in lines[start]:
                    start -= 1
                print("\n".join(l for l in lines[start:i + 1] if not re.match(r"\s+x\d+ ", l)))
        print(f"--- console output ({' '.join(cmd)}) ---")
        print(output[-6000:])
        print("--- end of console output ---")
    print(f"{report.passed} passed, {report.failed} failed")
    sys.exit(1 if report.failed else 0)


if __name__ == "__main__":
    main()
