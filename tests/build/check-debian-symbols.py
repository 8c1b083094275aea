#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""debian/<package>.symbols lists exactly what the version script exports:
every global name of every node, as name@NODE, and each node itself.

Usage: check-debian-symbols.py VERSION_SCRIPT SYMBOLS_FILE

(The package build checks the built library against the symbols file too:
debian/rules sets DPKG_GENSYMBOLS_CHECK_LEVEL=4.) Standard library only.
"""
import re
import sys


def from_map(path):
    text = re.sub(r"/\*.*?\*/", "", open(path, encoding="utf-8").read(),
                  flags=re.S)
    want = set()
    for node, body in re.findall(r"([\w.]+)\s*\{(.*?)\}", text, re.S):
        exported = body.split("local:")[0].replace("global:", "")
        want.add("%s@%s" % (node, node))
        want.update("%s@%s" % (name.strip(), node)
                    for name in exported.split(";") if name.strip())
    return want


def from_symbols(path):
    got = set()
    for line in open(path, encoding="utf-8"):
        if line.startswith(" "):
            got.add(line.split()[0])
    return got


def main():
    want, got = from_map(sys.argv[1]), from_symbols(sys.argv[2])
    print("%s: %d symbols; %s: %d" % (sys.argv[1], len(want), sys.argv[2],
                                      len(got)))
    for name in sorted(want - got):
        print("FAIL: exported but not in the symbols file: " + name)
    for name in sorted(got - want):
        print("FAIL: in the symbols file but not exported: " + name)
    if want != got:
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
