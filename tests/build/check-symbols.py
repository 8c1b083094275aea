#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The exported symbols of libnn are exactly the public API.

usage: check-symbols.py LIBRARY VERSION_SCRIPT HEADER [GCC]

Checks that
- `nm -D --defined-only LIBRARY` lists exactly the global symbols of the
  version script, each versioned `name@@NODE` with the node that lists it,
  plus the nodes' own absolute symbols, and nothing else;
- those are exactly the functions declared with NN_API in HEADER, and every
  function the header declares is NN_API (with GCC, by -aux-info);
- every exported name starts with nn_, and the version script hides the rest
  (`local: *;`);
- the header includes only standard C headers.
"""

import os
import re
import subprocess
import sys
import tempfile

STD_HEADERS = {
    "assert.h", "complex.h", "ctype.h", "errno.h", "fenv.h", "float.h",
    "inttypes.h", "iso646.h", "limits.h", "locale.h", "math.h", "setjmp.h",
    "signal.h", "stdalign.h", "stdarg.h", "stdatomic.h", "stdbool.h",
    "stddef.h", "stdint.h", "stdio.h", "stdlib.h", "stdnoreturn.h",
    "string.h", "tgmath.h", "threads.h", "time.h", "uchar.h", "wchar.h",
    "wctype.h",
}

errors = []


def fail(msg):
    errors.append(msg)
    print("FAIL: " + msg)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def parse_map(path):
    """{symbol: node} of the global lists, and whether `local: *;` is there."""
    text = strip_comments(open(path, encoding="utf-8").read())
    symbols, hides_rest = {}, False
    nodes = re.findall(r"([A-Za-z_][\w.]*)\s*\{(.*?)\}\s*[\w.]*\s*;", text,
                       re.S)
    if not nodes:
        fail("%s: no version node found" % path)
    for node, body in nodes:
        section = None
        for stmt in body.split(";"):
            stmt = stmt.strip()
            m = re.match(r"(global|local)\s*:\s*(.*)", stmt, re.S)
            if m:
                section, stmt = m.group(1), m.group(2).strip()
            if not stmt:
                continue
            if section == "local":
                hides_rest |= stmt == "*"
                continue
            if not re.fullmatch(r"[A-Za-z_]\w*", stmt):
                fail("%s: node %s exports a pattern, not a name: %r"
                     % (path, node, stmt))
                continue
            if stmt in symbols:
                fail("%s: %s listed twice" % (path, stmt))
            symbols[stmt] = node
    return symbols, [n for n, _ in nodes], hides_rest


def parse_header(path):
    text = open(path, encoding="utf-8").read()
    for inc in re.findall(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', text, re.M):
        if inc not in STD_HEADERS:
            fail("%s includes %s, not a standard C header" % (path, inc))
    code = strip_comments(text)
    # drop preprocessor lines (with continuations): `#define NN_API ...`
    code = re.sub(r"^\s*#(?:[^\n]*\\\n)*[^\n]*", " ", code, flags=re.M)
    return set(re.findall(r"\bNN_API\b[^;{}()]*?\b([A-Za-z_]\w*)\s*\(",
                          code))


def header_functions(gcc, path):
    """Every function the header declares, according to gcc -aux-info."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "t.c")
        aux = os.path.join(tmp, "aux.txt")
        with open(src, "w") as fh:
            fh.write('#include "%s"\n' % os.path.abspath(path))
        subprocess.run([gcc, "-fsyntax-only", "-aux-info", aux, src],
                       check=True)
        names = set()
        real = os.path.realpath(path)
        for line in open(aux, encoding="utf-8"):
            m = re.match(r"/\* (.*?):\d+:\w+ \*/ .*?\b(\w+) \(", line)
            if m and os.path.realpath(m.group(1)) == real:
                names.add(m.group(2))
        return names


def nm_symbols(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        kind, full = parts[-2], parts[-1]
        name, sep, version = re.match(r"([^@]+)(@@|@|)(.*)", full).groups()
        syms.append((kind, name, sep, version))
    return syms


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__)
        return 2
    lib, mapfile, header = sys.argv[1:4]
    gcc = sys.argv[4] if len(sys.argv) == 5 else None

    mapped, nodes, hides_rest = parse_map(mapfile)
    if not hides_rest:
        fail("%s: no `local: *;`: unlisted symbols would leak" % mapfile)
    api = parse_header(header)
    print("%d NN_API functions in %s, %d symbols in %s (nodes %s)"
          % (len(api), header, len(mapped), mapfile, ", ".join(nodes)))
    if not api:
        fail("no NN_API declaration found in %s" % header)

    if gcc:
        declared = header_functions(gcc, header)
        for name in sorted(declared - api):
            fail("%s declares %s without NN_API" % (header, name))
        for name in sorted(api - declared):
            fail("%s: NN_API %s not seen by the compiler" % (header, name))

    for name in sorted(api - set(mapped)):
        fail("%s is NN_API in the header but not in %s" % (name, mapfile))
    for name in sorted(set(mapped) - api):
        fail("%s is in %s but not NN_API in the header" % (name, mapfile))
    for name in sorted(set(mapped) | api):
        if not name.startswith("nn_"):
            fail("public name %s does not start with nn_" % name)

    exported = {}
    for kind, name, sep, version in nm_symbols(lib):
        if kind == "A" and name in nodes and not sep:
            continue  # the version node's own definition
        if sep != "@@" or version not in nodes:
            fail("exported %s %s%s%s: not versioned @@ a node of %s"
                 % (kind, name, sep, version, mapfile))
        elif name in mapped and mapped[name] != version:
            fail("%s@@%s, but %s lists it in %s"
                 % (name, version, mapfile, mapped[name]))
        if not name.startswith("nn_"):
            fail("exported symbol %s does not start with nn_" % name)
        exported[name] = version
    print("%d symbols exported by %s" % (len(exported), lib))
    for name in sorted(set(exported) - set(mapped)):
        fail("%s is exported but not in %s" % (name, mapfile))
    for name in sorted(set(mapped) - set(exported)):
        fail("%s is in %s but not exported" % (name, mapfile))

    if errors:
        print("%d problem(s)" % len(errors))
        return 1
    print("ok: exports == version script == NN_API declarations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
