#!/usr/bin/env python3
"""Tests of tests/guest/harness.py's judgement of a console log.

The harness decides whether a guest run passed from what the guest
printed: "[ PASS ] name" / "[ FAIL ] name" lines. Test names share
prefixes (user_ipc_fast_path, user_ipc_fast_path_wakeups), so the names
must be matched whole: a FAIL of one name is never another name's PASS,
and a FAIL of a name is a failure even if a PASS of it shows too. These
tests feed judge() made-up logs and check its verdict; no QEMU runs.

Run directly or from CTest (host.harness); exits non-zero on a failure.
"""
import argparse
import contextlib
import io
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
import harness  # noqa: E402


def judge(output, mode="idle", status=0):
    """harness.judge on `output` for `mode`; returns (failed count, report lines)."""
    args = argparse.Namespace(name="t", board="virt", mode=mode, timeout=1, expect=None,
                              max_cpu=None)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        report = harness.judge(args, output, status, 0.0, 1.0)
    return report.failed, out.getvalue()


class ParseResults(unittest.TestCase):
    def test_whole_names(self):
        log = "[ PASS ] user_ipc_fast_path_wakeups\n[ FAIL ] user_ipc_fast_path\n"
        self.assertEqual(harness.parse_results(log), {
            "user_ipc_fast_path_wakeups": ["PASS"], "user_ipc_fast_path": ["FAIL"]})

    def test_prefix_text_and_carriage_returns(self):
        log = "init: starting[ PASS ] a_test\r\n[ FAIL ] b_test  \n"
        self.assertEqual(harness.parse_results(log), {"a_test": ["PASS"], "b_test": ["FAIL"]})

    def test_text_after_the_name_is_not_a_result(self):
        self.assertEqual(harness.parse_results("[ PASS ] a_test and more\n"), {})


class Judge(unittest.TestCase):
    # The idle mode expects one test, idle_tickless: enough to judge names.
    def test_pass(self):
        failed, _ = judge("[ RUN  ] idle_tickless\n[ PASS ] idle_tickless\n")
        self.assertEqual(failed, 0)

    def test_a_longer_name_does_not_pass_a_prefix(self):
        # Before exact matching, "[ PASS ] idle_tickless_more" passed idle_tickless.
        failed, lines = judge("[ PASS ] idle_tickless_more\n")
        self.assertGreater(failed, 0)
        self.assertIn("idle_tickless gave no result", lines)

    def test_a_failed_longer_name_fails(self):
        failed, lines = judge("[ PASS ] idle_tickless\n[ FAIL ] idle_tickless_more\n")
        self.assertGreater(failed, 0)
        self.assertIn("idle_tickless_more FAILED", lines)

    def test_a_fail_beats_a_pass(self):
        failed, lines = judge("[ PASS ] idle_tickless\n[ FAIL ] idle_tickless\n")
        self.assertGreater(failed, 0)
        self.assertIn("test idle_tickless FAILED", lines)

    def test_user_test_prefix_collision(self):
        # The tests mode: everything passes but user_ipc_fast_path, whose
        # FAIL line is a prefix of user_ipc_fast_path_wakeups's PASS line.
        tests = harness.MODES["tests"][0]
        log = "".join(f"[ PASS ] {t}\n" for t in tests if t != "user_ipc_fast_path")
        log += "[ FAIL ] user_ipc_fast_path\n" + "\n".join(harness.MODES["tests"][2]) + "\n"
        failed, lines = judge(log, mode="tests")
        self.assertEqual(failed, 1, lines)
        self.assertIn("test user_ipc_fast_path FAILED", lines)
        failed, _ = judge(log.replace("[ FAIL ] user_ipc_fast_path\n",
                                      "[ PASS ] user_ipc_fast_path\n"), mode="tests")
        self.assertEqual(failed, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
