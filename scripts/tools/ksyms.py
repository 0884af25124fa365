#!/usr/bin/env python3
"""Make the kernel's symbol table (kernel/ksyms.c reads it).

  ksyms.py --empty OUT.S            an empty table, for the first link
  ksyms.py --nm NM ELF OUT.S        the text symbols of ELF, sorted
  ksyms.py --nm NM --verify A B     fail unless A and B have the same text
                                    symbols at the same addresses (the second
                                    link must not move any function)
"""
import argparse
import subprocess
import sys


def text_symbols(nm, elf):
    """(address, name) of every function/text symbol in elf, sorted."""
    out = subprocess.run([nm, "--defined-only", "-n", elf], check=True,
                         capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[1] not in "tT":
            continue
        name = parts[2]
        if name.startswith("$") or name.startswith(".L"):
            continue
        syms.append((int(parts[0], 16), name))
    return syms


def emit(syms, path):
    """Write the table as an assembly file for the .ksyms section."""
    lines = ['\t.section .ksyms, "a"', "\t.balign 8",
             "\t.global ksyms_count, ksyms_table, ksyms_names",
             f"ksyms_count:\n\t.quad {len(syms)}", "ksyms_table:"]
    offset = 0
    for addr, name in syms:
        lines.append(f"\t.quad 0x{addr:x}, {offset}")
        offset += len(name) + 1
    lines.append("ksyms_names:")
    for _, name in syms:
        lines.append(f'\t.asciz "{name}"')
    lines.append("\t.asciz \"\"")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--empty", action="store_true")
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--nm", default="llvm-nm")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    if args.empty:
        emit([], args.files[0])
    elif args.verify:
        a, b = (text_symbols(args.nm, f) for f in args.files[:2])
        if a != b:
            sys.exit(f"ksyms: text moved between the two links of {args.files[1]}")
    else:
        emit(text_symbols(args.nm, args.files[0]), args.files[1])


if __name__ == "__main__":
    main()
