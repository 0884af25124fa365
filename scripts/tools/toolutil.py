"""Helpers shared by Mica's tools (mkbootfs.py, mkimage.py, bench_*.py).

The image tools write their output atomically and report usage errors the
same way: one line on stderr and exit status 1. The benchmarks each own a
section of docs/perf.md between two marker comments.
"""

import argparse
import os
import sys
import tempfile


def write_atomic(out, blob, prefix):
    """Write blob to a temporary file next to out, then rename it."""
    out_dir = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{prefix}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def replace_doc_section(path, begin, end, section):
    """Put section (which starts with begin and ends with end and a newline)
    in place of the one between those markers in the file at path, or
    append it if there is none yet."""
    with open(path) as f:
        doc = f.read()
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + section + doc[doc.index(end) + len(end) + 1:]
    else:
        doc = doc.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(doc)


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit with 1 like every other error."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(1)
