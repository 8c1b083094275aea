# SPDX-License-Identifier: MIT
"""Runs the examples of docs/cli.md and checks what they print.

Usage: check_docs.py NN_PROGRAM docs/cli.md

Every ```console block is run in order, in one temporary directory that
holds the data files mkdata.docs_data() makes (the ones the document
names). In a block, a line "$ COMMAND" is run with bash, with `nnet` on the
PATH; the lines up to the next "$ " are what it prints (stdout, then
stderr). Lines are compared with every number masked, since losses and
timings vary with the BLAS and the machine; a line "..." stands for any
number of lines. A command ending in "# exit status N" must exit with N,
any other with 0. ```sh blocks are shown, not run (they need data this
test does not have, such as Fashion-MNIST).
"""
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mkdata  # noqa: E402

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def blocks(markdown):
    """The ```console blocks as lists of lines, with their line numbers."""
    found, current, start = [], None, 0
    for number, line in enumerate(markdown.splitlines(), 1):
        if current is None and line.strip() == "```console":
            current, start = [], number
        elif current is not None and line.strip() == "```":
            found.append((start, current))
            current = None
        elif current is not None:
            current.append(line)
    return found


def commands(lines):
    """(command, expected lines) pairs of one block."""
    pairs = []
    for line in lines:
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        elif pairs:
            pairs[-1][1].append(line)
    return pairs


def mask(line):
    return NUMBER.sub("#", line.rstrip())


def matches(expected, actual):
    """Expected lines, with '...' for any run of lines, against actual."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[i:])
                   for i in range(len(actual) + 1))
    return bool(actual) and mask(expected[0]) == mask(actual[0]) and \
        matches(expected[1:], actual[1:])


def run(command, cwd, env):
    m = re.search(r"#\s*exit status (\d+)\s*$", command)
    want = int(m.group(1)) if m else 0
    p = subprocess.run(["bash", "-c", command], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=600)
    return p, want


def main():
    nn, doc = sys.argv[1], Path(sys.argv[2])
    failures = 0
    with tempfile.TemporaryDirectory(prefix="nn-docs-") as tmp:
        work, bindir = Path(tmp) / "work", Path(tmp) / "bin"
        work.mkdir()
        bindir.mkdir()
        os.symlink(os.path.abspath(nn), bindir / "nnet")
        mkdata.docs_data(work)
        env = dict(os.environ, PATH="%s:%s" % (bindir, os.environ["PATH"]))
        found = blocks(doc.read_text())
        count = 0
        for start, lines in found:
            for command, expected in commands(lines):
                count += 1
                p, want = run(command, work, env)
                actual = (p.stdout + p.stderr).splitlines()
                if p.returncode != want or not matches(expected, actual):
                    failures += 1
                    print("%s:%d: $ %s\nexit status %d (want %d)\n"
                          "expected:\n%s\ngot:\n%s\n" %
                          (doc, start, command, p.returncode, want,
                           "\n".join(expected), "\n".join(actual)),
                          file=sys.stderr)
    if count == 0:
        sys.exit("%s: no console examples found" % doc)
    print("%d examples, %d failed" % (count, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
