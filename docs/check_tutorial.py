#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Keeps docs/tutorial.md and docs/snippets/ from drifting apart.

usage: check_tutorial.py TUTORIAL.md SNIPPET_DIR [BIN_DIR]

- Every ```c block must follow a line `<!-- snippet: FILE -->` and appear
  verbatim in SNIPPET_DIR/FILE (the file the build compiles and runs).
- Every .c and .h file in SNIPPET_DIR must be shown at least once.
- With BIN_DIR, every ```text block after `<!-- output: NAME -->` must be
  what BIN_DIR/snippet_NAME prints (run in a scratch directory). Numbers may
  differ by one in their last printed digit, or by 0.2%, so that another
  BLAS's rounding does not fail the docs; words and layout must match.
"""

import os
import re
import subprocess
import sys
import tempfile

MARKER = re.compile(r"<!--\s*(snippet|output):\s*(\S+)\s*-->")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def blocks(text):
    """Yields (line number, marker kind, marker name, language, body)."""
    lines = text.split("\n")
    i, marker = 0, None
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            lang, start = line[3:].strip(), i
            i += 1
            body = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            kind, name = marker if marker else (None, None)
            yield start + 1, kind, name, lang, "\n".join(body) + "\n"
            marker = None
        elif MARKER.search(line):
            m = MARKER.search(line)
            marker = (m.group(1), m.group(2))
        elif line.strip():
            marker = None  # a marker names the block right after it only
        i += 1


def numbers_match(want, got):
    if NUMBER.sub("#", want) != NUMBER.sub("#", got):
        return False
    for w, g in zip(NUMBER.findall(want), NUMBER.findall(got)):
        if w == g:
            continue
        digits = len(w.split(".")[1].split("e")[0].split("E")[0]) \
            if "." in w else 0
        unit = 10.0 ** -digits
        a, b = float(w), float(g)
        if abs(a - b) > 1.5 * unit + 0.002 * max(abs(a), abs(b)):
            return False
    return True


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    tutorial, snippet_dir = argv[1], argv[2]
    bin_dir = os.path.abspath(argv[3]) if len(argv) == 4 else None
    with open(tutorial, encoding="utf-8") as f:
        text = f.read()

    errors, shown = [], set()
    for line, kind, name, lang, body in blocks(text):
        where = f"{os.path.basename(tutorial)}:{line}"
        if lang == "c":
            if kind != "snippet":
                errors.append(f"{where}: C block without <!-- snippet: "
                              "FILE --> before it")
                continue
            path = os.path.join(snippet_dir, name)
            try:
                with open(path, encoding="utf-8") as f:
                    source = f.read()
            except OSError as exc:
                errors.append(f"{where}: {exc}")
                continue
            shown.add(name)
            if body not in source:
                errors.append(f"{where}: block is not verbatim in {path}")
        elif kind == "output":
            if bin_dir is None:
                continue
            exe = os.path.join(bin_dir, "snippet_" + name)
            try:
                with tempfile.TemporaryDirectory() as scratch:
                    run = subprocess.run([exe], cwd=scratch, text=True,
                                         capture_output=True, timeout=120)
            except (OSError, subprocess.SubprocessError) as exc:
                errors.append(f"{where}: cannot run {exe}: {exc}")
                continue
            if run.returncode != 0:
                errors.append(f"{where}: {exe} exited {run.returncode}: "
                              f"{run.stderr.strip()}")
                continue
            want = [l.rstrip() for l in body.rstrip("\n").split("\n")]
            got = [l.rstrip() for l in run.stdout.rstrip("\n").split("\n")]
            if len(want) != len(got) or not all(
                    numbers_match(w, g) for w, g in zip(want, got)):
                errors.append(f"{where}: output of {name} differs (if the "
                              "library's behaviour changed on purpose, paste "
                              "the program's output into the block).\n"
                              "--- tutorial.md\n" + "\n".join(want) +
                              "\n--- program\n" + "\n".join(got))
        elif kind == "snippet":
            errors.append(f"{where}: snippet marker before a non-C block")

    for name in sorted(os.listdir(snippet_dir)):
        if name.endswith((".c", ".h")) and name not in shown:
            errors.append(f"{os.path.join(snippet_dir, name)} is never "
                          "shown in the tutorial")

    for e in errors:
        print(e)
    print(f"{len(errors)} problem(s)" if errors else "tutorial in sync")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
