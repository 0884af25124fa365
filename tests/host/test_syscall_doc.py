#!/usr/bin/env python3
"""Check that docs/syscalls.md, the ABI header and the kernel's syscall
table agree on the set of system calls.

Sources (paths relative to the repository root, two levels above this
script):
  libcap/include/mica/abi.h       #define MICA_SYS_<NAME> <number>
  docs/syscalls.md                ### <number> MICA_SYS_<NAME>
  kernel/include/mica/syscall.h   X(MICA_SYS_<NAME>, sys_<fn>) in SYSCALLS()

Prints one TAP-like line per check ("ok - ..." / "not ok - ..."), then
"N passed, M failed"; exits 1 if any check failed.
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ABI_H = os.path.join(ROOT, "libcap", "include", "mica", "abi.h")
DOC_MD = os.path.join(ROOT, "docs", "syscalls.md")
SYSCALL_H = os.path.join(ROOT, "kernel", "include", "mica", "syscall.h")

DEFINE_RE = re.compile(r"^\s*#\s*define\s+MICA_SYS_([A-Z0-9_]+)\s+\(?\s*(\d+)\s*\)?(?:\s|/\*|//|$)")
HEADING_RE = re.compile(r"^###\s+(\d+)\s+MICA_SYS_([A-Z0-9_]+)\s*$")
LOOSE_HEADING_RE = re.compile(r"^###\s+.*MICA_SYS_")
ENTRY_RE = re.compile(r"\bX\(\s*MICA_SYS_([A-Z0-9_]+)\s*,\s*(sys_[A-Za-z0-9_]+)\s*\)")


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what, details=()):
        if cond:
            self.passed += 1
            print("ok - " + what)
        else:
            self.failed += 1
            print("not ok - " + what)
            for d in details:
                print("#   " + d)


def read(path, res):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        res.check(False, "read " + os.path.relpath(path, ROOT), [str(e)])
        return None


def parse_header(text):
    """name -> number, plus MICA_SYS_COUNT (or None) and duplicate names."""
    syscalls, dups, count = {}, [], None
    for line in text.splitlines():
        m = DEFINE_RE.match(line)
        if not m:
            continue
        name, num = m.group(1), int(m.group(2))
        if name == "COUNT":
            count = num
        elif name in syscalls:
            dups.append(name)
        else:
            syscalls[name] = num
    return syscalls, count, dups


def parse_doc(text):
    """List of (number, name, line number) headings, plus malformed ones."""
    headings, malformed = [], []
    in_fence = False
    for i, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        m = HEADING_RE.match(line)
        if m:
            headings.append((int(m.group(1)), m.group(2), i))
        elif LOOSE_HEADING_RE.match(line):
            malformed.append((i, line.strip()))
    return headings, malformed


def parse_table(text):
    """name -> [handler, ...] from the X(...) entries of SYSCALLS()."""
    start = text.find("#define SYSCALLS(")
    if start < 0:
        return None
    # The macro body: continuation lines up to the first line without a
    # trailing backslash.
    body = []
    for line in text[start:].splitlines():
        body.append(line)
        if not line.rstrip().endswith("\\"):
            break
    entries = {}
    for m in ENTRY_RE.finditer("\n".join(body)):
        entries.setdefault(m.group(1), []).append(m.group(2))
    return entries


def main():
    res = Results()
    abi, doc, table_src = read(ABI_H, res), read(DOC_MD, res), read(SYSCALL_H, res)
    if abi is None or doc is None or table_src is None:
        print("%d passed, %d failed" % (res.passed, res.failed))
        return 1

    syscalls, count, dup_defs = parse_header(abi)
    headings, malformed = parse_doc(doc)
    table = parse_table(table_src)

    # abi.h itself.
    res.check(len(syscalls) > 0, "abi.h defines syscall numbers (%d found)" % len(syscalls))
    res.check(not dup_defs, "abi.h defines each MICA_SYS_ name once",
              ["defined again: MICA_SYS_" + n for n in dup_defs])
    by_num = {}
    for name, num in syscalls.items():
        by_num.setdefault(num, []).append(name)
    clashes = {n: v for n, v in by_num.items() if len(v) > 1}
    res.check(not clashes, "abi.h gives every syscall its own number",
              ["%d: %s" % (n, ", ".join("MICA_SYS_" + x for x in sorted(v)))
               for n, v in sorted(clashes.items())])
    if syscalls:
        top = max(syscalls.values())
        res.check(count is not None and count == top + 1,
                  "MICA_SYS_COUNT equals the highest number + 1 (%s, highest %d)" % (count, top))

    # docs/syscalls.md against abi.h.
    res.check(not malformed, "every syscall heading in syscalls.md has the form '### <number> MICA_SYS_<NAME>'",
              ["line %d: %s" % m for m in malformed])
    doc_by_name = {}
    for num, name, line in headings:
        doc_by_name.setdefault(name, []).append((num, line))
    missing, multiple, wrong_num = [], [], []
    for name, num in sorted(syscalls.items(), key=lambda kv: kv[1]):
        found = doc_by_name.get(name, [])
        if not found:
            missing.append("MICA_SYS_%s (%d)" % (name, num))
        elif len(found) > 1:
            multiple.append("MICA_SYS_%s at lines %s" % (name, ", ".join(str(l) for _, l in found)))
        elif found[0][0] != num:
            wrong_num.append("MICA_SYS_%s: documented as %d (line %d), abi.h says %d"
                             % (name, found[0][0], found[0][1], num))
    res.check(not missing, "every syscall in abi.h has a heading in syscalls.md", missing)
    res.check(not multiple, "no syscall has more than one heading in syscalls.md", multiple)
    res.check(not wrong_num, "every syscall heading carries the number from abi.h", wrong_num)
    unknown = ["line %d: ### %d MICA_SYS_%s" % (line, num, name)
               for num, name, line in headings if name not in syscalls]
    res.check(not unknown, "syscalls.md documents no syscall that abi.h lacks", unknown)
    doc_nums = [num for num, _, _ in headings]
    res.check(doc_nums == sorted(doc_nums), "syscalls.md lists the syscalls in number order",
              ["order found: " + " ".join(map(str, doc_nums))] if doc_nums != sorted(doc_nums) else [])

    # kernel/include/mica/syscall.h against abi.h.
    res.check(table is not None, "syscall.h defines the SYSCALLS() table")
    if table is not None:
        no_handler = ["MICA_SYS_%s (%d)" % (n, syscalls[n])
                      for n in sorted(syscalls, key=syscalls.get) if n not in table]
        res.check(not no_handler, "every syscall in abi.h has a handler in SYSCALLS()", no_handler)
        stray = ["X(MICA_SYS_%s, %s)" % (n, ", ".join(fns)) for n, fns in sorted(table.items())
                 if n not in syscalls]
        res.check(not stray, "every SYSCALLS() entry names a syscall defined in abi.h", stray)
        twice = ["MICA_SYS_%s: %s" % (n, ", ".join(fns)) for n, fns in sorted(table.items())
                 if len(fns) > 1]
        res.check(not twice, "SYSCALLS() lists each syscall once", twice)

    print("%d passed, %d failed" % (res.passed, res.failed))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
