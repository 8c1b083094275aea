#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""README.md stays true: its C example builds and prints what it says, and
every relative link points at a file or folder of the tree.

usage: check-readme.py README INCLUDE_DIR LIBRARY COMPILER [ARGS...]

The example is the first ```c block; its output is the ```text block that
follows it (compared exactly, trailing blanks aside).
"""

import os
import re
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) < 5:
        print(__doc__)
        return 2
    readme, inc, lib = sys.argv[1:4]
    compiler = sys.argv[4:]
    text = open(readme, encoding="utf-8").read()
    root = os.path.dirname(os.path.abspath(readme))
    problems = []

    # Relative links: [text](path) and [text](path#anchor), outside code.
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    links = re.findall(r"\]\(([^)\s]+)\)", prose)
    for link in links:
        if re.match(r"[a-z]+:", link) or link.startswith("#"):
            continue
        path = os.path.join(root, link.split("#")[0])
        if not os.path.exists(path):
            problems.append("link to %s: no such file" % link)
    print("%d relative links checked" % len(links))

    blocks = re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)
    langs = [lang for lang, _ in blocks]
    if "c" not in langs:
        problems.append("no ```c example block")
    else:
        i = langs.index("c")
        source = blocks[i][1]
        expected = None
        if i + 1 < len(blocks) and blocks[i + 1][0] == "text":
            expected = blocks[i + 1][1]
        else:
            problems.append("the ```c block is not followed by a ```text "
                            "block with its output")
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "example.c")
            exe = os.path.join(tmp, "example")
            with open(src, "w", encoding="utf-8") as fh:
                fh.write(source)
            cmd = compiler + ["-std=c11", "-Wall", "-Wextra", "-pedantic",
                              "-Werror", "-I", inc, src, lib, "-o", exe]
            print("+ " + " ".join(cmd))
            build = subprocess.run(cmd)
            if build.returncode != 0:
                problems.append("the C example does not compile")
            else:
                env = dict(os.environ,
                           LD_LIBRARY_PATH=os.path.dirname(os.path.abspath(
                               lib)))
                run = subprocess.run([exe], env=env, capture_output=True,
                                     text=True, timeout=60)
                print(run.stdout, end="")
                print(run.stderr, end="", file=sys.stderr)
                if run.returncode != 0:
                    problems.append("the C example exits %d" % run.returncode)

                def norm(s):
                    return [line.rstrip() for line in s.strip().splitlines()]

                if expected is not None and norm(run.stdout) != norm(expected):
                    problems.append("the C example prints something else "
                                    "than README.md says:\n" + expected)

    for p in problems:
        print("FAIL: " + p)
    if not problems:
        print("ok: README.md's example and links are right")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
