#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The repository stands alone: no tracked file names anything outside it.

Fails when a tracked text file names the parent directory's shared folder,
the founding contract's file (the contract is include/nn.h and docs/), an
absolute path under a home or work directory, or speaks of tickets or work
sessions by number instead of describing the code.

    check-self-contained.py SOURCE_ROOT
"""
import pathlib
import re
import subprocess
import sys

# Built from pieces so that this file does not match itself.
PATTERNS = [
    (re.compile(r"\.\./" + "shared"), "names the parent's shared folder"),
    (re.compile(r"\bAPI" + r"\.md\b"), "names the founding contract's file"),
    (re.compile(r"(?<![\w.])/(home|work|root)/[\w.-]"),
     "names an absolute path of a home or work directory"),
    (re.compile(r"\b(issue|session)s? #?[0-9]+\b", re.IGNORECASE),
     "speaks of a ticket or work session, not of the code"),
]


def tracked_files(root):
    """The files git tracks, or every file when the tree is not a clone."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"],
                             check=True, capture_output=True).stdout
        return [root / p for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", "build"}
        return [p for p in root.rglob("*") if p.is_file()
                and not skip.intersection(p.relative_to(root).parts)]


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    problems = 0
    files = tracked_files(root)
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary data: model files, gzip corpora
        for lineno, line in enumerate(text.splitlines(), 1):
            for pattern, why in PATTERNS:
                m = pattern.search(line)
                if m:
                    rel = path.relative_to(root)
                    print(f"{rel}:{lineno}: {why}: '{m.group(0)}'")
                    problems += 1
    print(f"{len(files)} files read, {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
