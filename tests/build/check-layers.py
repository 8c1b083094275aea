#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Imports run only downhill (docs/design.md, "The layers").

Fails when a C file of a folder includes a header its layer may not use:
lib/ knows nothing of the companion libraries or the tool; mpi/, onnx/ and
tools/ reach libnn only through the public headers of include/, never
through lib/'s internal headers; mpi/ and onnx/ do not use each other.

    check-layers.py SOURCE_ROOT
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)

# folder -> the folders whose headers its files may include (besides its own)
MAY_USE = {
    "lib": {"include"},
    "mpi": {"include"},
    "onnx": {"include"},
    "tools": {"include"},
}
# lib/ sources that another layer compiles into itself, so that one rule
# serves both: the output files that never destroy what the user owns.
SHARED_SOURCES = {"outfile.h": {"tools", "onnx"}}
# Public headers a layer may not include although they sit in include/.
FORBIDDEN_PUBLIC = {
    "lib": {"nn_mpi.h", "nn_onnx.h"},
    "mpi": {"nn_onnx.h"},
    "onnx": {"nn_mpi.h"},
}


def headers_by_folder(root):
    """Maps a header's file name to the layer folders that hold it."""
    owners = {}
    for folder in set(MAY_USE) | {"include"}:
        for h in (root / folder).rglob("*.h"):
            owners.setdefault(h.name, set()).add(folder)
    return owners


def violations(root):
    owners = headers_by_folder(root)
    for folder, allowed in sorted(MAY_USE.items()):
        for src in sorted((root / folder).rglob("*.[ch]")):
            text = src.read_text(encoding="utf-8", errors="replace")
            for name in INCLUDE.findall(text):
                base = pathlib.PurePosixPath(name).name
                where = owners.get(base, set())
                if folder in where or folder in SHARED_SOURCES.get(base, ()):
                    continue  # the folder's own header, or a shared source
                if not where:
                    continue  # generated (onnx.pb-c.h) or a system header
                if not where & allowed or base in FORBIDDEN_PUBLIC.get(
                        folder, ()):
                    yield (f"{src.relative_to(root)}: includes {name} "
                           f"({', '.join(sorted(where))}/), which the "
                           f"{folder}/ layer may not use")


def main():
    root = pathlib.Path(sys.argv[1])
    bad = list(violations(root))
    for line in bad:
        print("FAIL:", line)
    if bad:
        print("0 passed, 1 failed")
        return 1
    print("layers: lib/, mpi/, onnx/ and tools/ include only what their "
          "layer may use")
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
