#!/usr/bin/python3
"""libmtia(3) from include/mtia/mtia.h: the header is the one source.

  scripts/gen-libmtia-man.py include/mtia/mtia.h VERSION OUT.3

Every declaration of the header (functions, types, macros) appears in the
page in header order, under the header's "/* ---- Title" sections, with the
comment written above it; the header's top comment is the DESCRIPTION. So
the page cannot drift from the API: a new function is in it at the next
build. tests/sdk-install.sh checks that every mtia_* function is there.
"""
import re
import sys

SKIP = re.compile(r'^\s*(#ifndef MTIA_MTIA_H|#define MTIA_MTIA_H|#include|#ifdef __cplusplus|#endif|'
                  r'extern "C" \{|\}\s*$)')


def esc(line):
    """A line as troff text: backslashes escaped, no request at its start."""
    line = line.replace("\\", "\\e")
    return "\\&" + line if line[:1] in (".", "'") else line


def comment_text(lines):
    """The text of a /* ... */ block, without its markers and leading stars."""
    out = []
    for ln in lines:
        ln = ln.strip()
        ln = re.sub(r"^/\*+\s?", "", ln)
        ln = re.sub(r"\s*\*+/$", "", ln)
        ln = re.sub(r"^\*\s?", "", ln)
        out.append(ln)
    # Doxygen's markers (the header is also the API reference's source).
    return [ln for ln in out if not ln.startswith("@file")]


def parse(path):
    """[(kind, lines)] with kind 'comment', 'banner' or 'code', in order."""
    src = open(path).read().split("\n")
    items, i = [], 0
    while i < len(src):
        ln = src[i]
        if not ln.strip() or SKIP.match(ln):
            i += 1
            continue
        if ln.lstrip().startswith("/*"):
            block = [ln]
            while "*/" not in block[-1]:
                i += 1
                block.append(src[i])
            i += 1
            kind = "banner" if ln.lstrip().startswith("/* ----") else "comment"
            items.append((kind, block))
            continue
        # Code: a #define line, or lines up to the ';' that ends a declaration
        # (braces balanced, for enum and struct typedefs).
        block, depth = [], 0
        while True:
            ln = src[i]
            block.append(ln)
            code = re.sub(r"/\*.*?\*/", "", ln)
            depth += code.count("{") - code.count("}")
            i += 1
            if block[0].startswith("#define") or (depth == 0 and code.rstrip().endswith(";")):
                break
        items.append(("code", block))
    return items


def main():
    header, version, out = sys.argv[1:4]
    items = parse(header)
    page = [
        '.TH LIBMTIA 3 "" "mtia-open %s" "mtia-open"' % version,
        ".SH NAME",
        "libmtia \\- C API of mtia-open accelerators: devices, buffers, streams, events, models",
        ".SH SYNOPSIS",
        ".nf",
        ".B #include <mtia/mtia.h>",
        ".PP",
        "cc app.c $(pkg-config \\-\\-cflags \\-\\-libs mtia)",
        ".fi",
    ]
    # The first comment after the SPDX line is the header's own: the DESCRIPTION.
    items = [it for it in items if not (it[0] == "comment" and "SPDX-License-Identifier" in it[1][0])]
    text = comment_text(items.pop(0)[1])
    page += [".SH DESCRIPTION"] + [esc(t) if t else ".PP" for t in text]
    page += [".SH STATUS, VERSION AND DEVICES"]
    in_code = False  # adjacent declarations share one block
    for kind, block in items:
        if kind == "code":
            code = [re.sub(r"/\*\*<? ", "/* ", ln.rstrip()) for ln in block]
            page += ([""] if in_code else [".PP", ".nf", ".RS 4"]) + [esc(ln) for ln in code]
            in_code = True
            continue
        if in_code:
            page += [".RE", ".fi"]
            in_code = False
        text = comment_text(block)
        if kind == "banner":
            title = re.sub(r"[-\s]+$", "", re.sub(r"^-+\s*", "", text[0]))
            page += [".SH " + title.upper()] + [esc(t) for t in text[1:] if t]
        else:
            page += [".PP"] + [esc(t) for t in text if t]
    if in_code:
        page += [".RE", ".fi"]
    page += [
        ".SH ERRORS",
        "Every function returns an",
        ".B mtia_status",
        "(MTIA_SUCCESS is 0, errors are negative);",
        ".BR mtia_last_error ()",
        "gives the calling thread's detail of the last failure.",
        ".SH SEE ALSO",
        ".BR mtia-smi (1),",
        ".BR mtia-run (1),",
        ".BR mtia-compile (1),",
        ".BR mtia-vm (1);",
        "the C++ API in",
        ".IR <mtia/mtia.hpp> ;",
        "docs/runtime.md and docs/models.md in the mtia-open sources.",
    ]
    with open(out, "w") as f:
        f.write("\n".join(page) + "\n")


if __name__ == "__main__":
    main()
