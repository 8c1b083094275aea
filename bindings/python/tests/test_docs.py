# SPDX-License-Identifier: MIT
"""docs/python.md runs: its python blocks execute in order in one
namespace, and each block's output equals the text block after it."""

import contextlib
import io
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, library_file

DOC = os.path.join(REPO_ROOT, "docs", "python.md")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


def blocks():
    """[(python code, expected output or None)] in document order."""
    text = open(DOC, encoding="utf-8").read()
    fences = [(m.group(1), m.group(2), m.start(), m.end())
              for m in FENCE.finditer(text)]
    out = []
    for i, (lang, body, _, end) in enumerate(fences):
        if lang != "python":
            continue
        expected = None
        if i + 1 < len(fences):
            nxt_lang, nxt_body, nxt_start, _ = fences[i + 1]
            if nxt_lang == "text" and not text[end:nxt_start].strip():
                expected = nxt_body
        out.append((body, expected))
    return out


def test_doc_has_the_required_examples():
    code = "\n".join(body for body, _ in blocks())
    assert 'Network([2, 3, 1], ["sigmoid", "sigmoid"], bias=False' in code
    assert "load_digits" in code and "MLPClassifier" in code
    assert "make_pipeline" in code and "cross_val_score" in code
    assert all(expected is not None for _, expected in blocks())


def test_python_blocks_run_and_print_what_the_doc_shows(tmp_path,
                                                       monkeypatch):
    pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__doc__"}
    for number, (code, expected) in enumerate(blocks(), 1):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"docs/python.md block {number}", "exec"),
                 namespace)
        if expected is not None:
            assert out.getvalue() == expected, f"block {number}"


def test_the_one_line_use_from_a_build_tree():
    text = open(DOC, encoding="utf-8").read()
    line = re.search(r"^NN_LIBRARY=(\S+) PYTHONPATH=(\S+) python3 -c "
                     r"'(.*)'$", text, re.MULTILINE)
    assert line, "the one-line use is missing"
    assert line.group(1) == "build/lib/libnn.so.0"
    lib = library_file()
    if lib is None:
        pytest.skip("the library was found by name only")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(NN_LIBRARY=lib, PYTHONPATH=line.group(2))
    r = subprocess.run([sys.executable, "-c", line.group(3)], cwd=REPO_ROOT,
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    import libnn
    assert r.stdout.strip() == libnn.library_version()
