"""Helpers shared by Mica's image tools (mkbootfs.py, mkimage.py).

Both write their output atomically and report usage errors the same way:
one line on stderr and exit status 1.
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


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit with 1 like every other error."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(1)
