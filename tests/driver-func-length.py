#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Fails if a function in driver/*.c is longer than the limit (default 80).

A function's length is its physical lines from the first line of its
signature to its closing brace, both included (kernel style: the opening and
closing braces of a function sit alone in column 0). Prints every function
over the limit as FILE:LINE: NAME is N lines (limit L), then the usual
"N passed, N failed" line for tests/run-all.sh (one check, as checkpatch and
kernel-doc are); with --list, every function, longest first.

Usage: tests/driver-func-length.py [--limit N] [--list] [FILE.c...]
"""
import argparse
import glob
import os
import re
import sys


def functions(path):
    """Yields (name, first line, length) for each function in a C file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i] != "{":
            i += 1
            continue
        # The signature: the lines above the brace up to one in column 0
        # that starts it (its own line above is blank, a comment end, a
        # preprocessor line or the end of a previous declaration).
        start = i - 1
        while start > 0:
            above = lines[start - 1]
            if (not above.strip() or above.startswith("#") or
                    above.rstrip().endswith((";", "}", "*/")) or
                    above.lstrip().startswith(("*", "/*", "//"))):
                break
            start -= 1
        sig = " ".join(lines[start:i])
        m = re.search(r"([A-Za-z_]\w*)\s*\(", sig)
        name = m.group(1) if m else "?"
        end = i + 1
        while end < len(lines) and lines[end] != "}":
            end += 1
        yield name, start + 1, end - start + 1
        i = end + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=80)
    ap.add_argument("--list", action="store_true",
                    help="print every function's length, longest first")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = a.files or sorted(glob.glob(os.path.join(top, "driver", "*.c")))
    if not files:
        print("no driver/*.c files")
        print("0 passed, 1 failed")
        return 1
    found = []
    for path in files:
        rel = os.path.relpath(path, top)
        for name, line, n in functions(path):
            found.append((n, rel, line, name))
    over = [f for f in found if f[0] > a.limit]
    for n, rel, line, name in over:
        print(f"{rel}:{line}: {name} is {n} lines (limit {a.limit})")
    if a.list:
        for n, rel, line, name in sorted(found, reverse=True):
            print(f"{n:5} {rel}:{line} {name}")
    elif found:
        n, rel, line, name = max(found)
        print(f"{len(found)} functions in {len(files)} files; longest: "
              f"{name} ({rel}:{line}), {n} lines")
    if over or not found:
        print("0 passed, 1 failed")
        return 1
    print("1 passed, 0 failed")
    return 0

if __name__ == "__main__":
    sys.exit(main())
