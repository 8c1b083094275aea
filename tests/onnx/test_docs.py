# SPDX-License-Identifier: MIT
"""docs/interop.md runs as written. Every code block whose first line is
"# file: NAME" or "/* file: NAME */" is written to NAME in one temporary
directory; then every ```console block's "$ " lines run there in order,
with bash, with nnet, python3 (Debian's), cc and pkg-config (finding the
uninstalled nn_onnx) on the path. The lines below a command are what it
must print (stdout, then stderr): text as shown, numbers within one unit
of the last digit shown. A command ending in "# exit status N" must exit
with N, any other with 0."""
import os
import pathlib
import re
import subprocess

import pytest

pytest.importorskip("torch")
pytest.importorskip("cv2")

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "interop.md"
NUMBER = re.compile(r"[-+]?\d+\.\d+")
FILE = re.compile(r"^(?:# file: (\S+)|/\* file: (\S+) \*/)$")


def fenced_blocks(text):
    blocks, current, kind = [], None, None
    for line in text.splitlines():
        if current is None and line.startswith("```") and len(line) > 3:
            current, kind = [], line[3:].strip()
        elif current is not None and line.strip() == "```":
            blocks.append((kind, current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def same_line(expected, actual):
    """Equal text; numbers with decimals equal to the last digit shown."""
    if NUMBER.sub("#", expected) != NUMBER.sub("#", actual):
        return False
    for e, a in zip(NUMBER.findall(expected), NUMBER.findall(actual)):
        unit = 10.0 ** -len(e.split(".")[1])
        if abs(float(e) - float(a)) > unit * 1.01:
            return False
    return True


def environment(tmp):
    bindir = tmp / ".bin"
    bindir.mkdir()
    (bindir / "nnet").symlink_to(os.environ["NNET"])
    (bindir / "python3").symlink_to("/usr/bin/python3")
    build = pathlib.Path(os.environ["NN_LIBRARY"]).resolve().parents[1]
    env = dict(os.environ)
    env["PATH"] = f"{bindir}:/usr/bin:/bin"
    env["PKG_CONFIG_PATH"] = str(build / "meson-uninstalled")
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        str(pathlib.Path(os.environ[k]).resolve().parent)
        for k in ("NN_LIBRARY", "NN_ONNX_LIBRARY"))
    # nn.pc spells its flags as -L${libdir} -lnn (pkgconfig/meson.build),
    # which the uninstalled variant keeps: the linker finds the build
    # tree's libnn.so through LIBRARY_PATH instead.
    env["LIBRARY_PATH"] = env["LD_LIBRARY_PATH"]
    env["LC_ALL"] = "C"
    return env


def test_interop_md_runs_as_written(tmp_path):
    blocks = fenced_blocks(DOC.read_text())
    for kind, lines in blocks:
        m = FILE.match(lines[0]) if lines else None
        if m:
            name = m.group(1) or m.group(2)
            (tmp_path / name).write_text("\n".join(lines[1:]) + "\n")
    env = environment(tmp_path)
    ran = 0
    for kind, lines in blocks:
        if kind != "console":
            continue
        steps = []
        for line in lines:
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
        for command, expected in steps:
            status = 0
            m = re.search(r"#\s*exit status (\d+)$", command)
            if m:
                status = int(m.group(1))
            proc = subprocess.run(["bash", "-c", command], cwd=tmp_path,
                                  env=env, capture_output=True, text=True,
                                  timeout=300, check=False)
            actual = (proc.stdout + proc.stderr).splitlines()
            assert proc.returncode == status, (command, proc.stderr)
            assert len(actual) == len(expected) and all(
                same_line(e, a) for e, a in zip(expected, actual)), (
                command, expected, actual)
            ran += 1
    assert ran >= 10
