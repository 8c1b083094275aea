# SPDX-License-Identifier: MIT
"""C export (nnet export --c): the generated file and header compile with
gcc and clang as strict C99, link with nothing but libc and libm, call
nothing of libm but expf and tanhf, and compute nn_predict's outputs."""
import shutil
import subprocess

import numpy as np
import pytest

import libnn
from conftest import ACTIVATIONS, inputs, nnet, random_net, rel_error

COMPILERS = [cc for cc in ("gcc", "clang") if shutil.which(cc)]
FLAGS = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-O2"]

# Reads rows of hexadecimal floats from stdin, prints each row's outputs
# (or "refused"): exact in both directions.
DRIVER = r"""
#include <stdio.h>
#include "model.h"
int main(void)
{
    float x[model_N_INPUTS], y[model_N_OUTPUTS];
    for (;;) {
        int i;
        for (i = 0; i < model_N_INPUTS; i++)
            if (scanf("%a", &x[i]) != 1)
                return 0;
        if (model_predict(x, y) != 0) {
            puts("refused");
            continue;
        }
        for (i = 0; i < model_N_OUTPUTS; i++)
            printf("%a%c", (double)y[i], i + 1 < model_N_OUTPUTS ? ' ' : '\n');
    }
}
"""


def build(tmp, net, cc):
    net.save(tmp / "m.nn")
    status, _, err = nnet("export", tmp / "m.nn", "--c", tmp / "model.c")
    assert status == 0, err
    (tmp / "main.c").write_text(DRIVER)
    exe = tmp / f"prog-{cc}"
    subprocess.run([cc, *FLAGS, "-c", "model.c", "-o", f"model-{cc}.o"],
                   cwd=tmp, check=True)
    subprocess.run([cc, *FLAGS, "main.c", f"model-{cc}.o", "-lm", "-o",
                    exe.name], cwd=tmp, check=True)
    return exe


def run(exe, x):
    text = "\n".join(" ".join(float(v).hex() for v in row) for row in x)
    out = subprocess.run([str(exe)], input=text + "\n", capture_output=True,
                         text=True, check=True, timeout=60).stdout
    return out.splitlines()


def outputs(lines):
    return np.array([[float.fromhex(t) for t in line.split()]
                     for line in lines], dtype=np.float64)


@pytest.mark.skipif(not COMPILERS, reason="no C compiler")
@pytest.mark.parametrize("cc", COMPILERS)
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("bias,transform", [(True, True), (False, False)],
                         ids=["bias+transform", "plain"])
def test_outputs_match_predict(tmp, cc, act, bias, transform):
    hidden = "relu" if act == "softmax" else act
    net = random_net([7, 12, 9, 5], ["tanh", hidden, act], bias=bias,
                     transform=transform, seed=3)
    exe = build(tmp, net, cc)
    x = inputs(40, 7)
    # float32 sums of a few dozen products, in another order than the BLAS
    assert rel_error(outputs(run(exe, x)), net.predict(x)) < 1e-6


@pytest.mark.skipif(not COMPILERS, reason="no C compiler")
def test_needs_nothing_but_expf_and_tanhf(tmp):
    net = random_net([3, 4, 4, 2], ["sigmoid", "tanh", "softmax"],
                     transform=True)
    build(tmp, net, COMPILERS[0])
    nm = subprocess.run(["nm", "-u", f"model-{COMPILERS[0]}.o"], cwd=tmp,
                        capture_output=True, text=True, check=True).stdout
    assert set(nm.split()) - {"U"} <= {"expf", "tanhf"}
    needed = subprocess.run(["readelf", "-d", f"prog-{COMPILERS[0]}"],
                            cwd=tmp, capture_output=True, text=True,
                            check=True).stdout
    libs = {line.split("[")[1].rstrip("]") for line in needed.splitlines()
            if "(NEEDED)" in line}
    assert libs <= {"libc.so.6", "libm.so.6"}
    source = (tmp / "model.c").read_text()
    assert "malloc" not in source and "#include <math.h>" in source


@pytest.mark.skipif(not COMPILERS, reason="no C compiler")
def test_non_finite_inputs_are_refused(tmp):
    net = random_net([2, 3, 1], ["sigmoid", "sigmoid"], bias=False)
    exe = build(tmp, net, COMPILERS[0])
    x = np.array([[np.nan, 0], [0, np.inf], [1, -np.inf], [0.5, 0.25]],
                 dtype=np.float32)
    lines = run(exe, x)
    assert lines[:3] == ["refused"] * 3
    assert rel_error(outputs(lines[3:]), net.predict(x[3:])) < 1e-6


@pytest.mark.skipif(not COMPILERS, reason="no C compiler")
def test_non_finite_outputs_are_refused_as_nn_predict_does(tmp):
    net = random_net([2, 1], ["identity"], bias=False)
    net.params[:] = [3e38, 3e38]
    exe = build(tmp, net, COMPILERS[0])
    x = np.array([[1, 1], [1, -1]], dtype=np.float32)
    with pytest.raises(libnn.NNNumericError):
        net.predict(x[:1])
    lines = run(exe, x)
    assert lines[0] == "refused"
    assert outputs(lines[1:]).tolist() == [[0.0]]


def test_bad_file_names_write_nothing(tmp):
    random_net([2, 1], ["identity"]).save(tmp / "m.nn")
    for args, message in [
            (["--c", tmp / "model.txt"], "must end in .c"),
            (["--c", tmp / "2x.c"], "not a C identifier"),
            (["--c", tmp / "ok.c", "--name", "no-dash"], "not a C identifier"),
            (["--c", tmp / "ok.c", "--name", "_Reserved"],
             "not a C identifier"),
            (["--onnx", tmp / "m.onnx", "--name", "x"],
             "--name goes with --c"),
            ([], "nothing to do")]:
        status, _, err = nnet("export", tmp / "m.nn", *args)
        assert status == 2 and message in err, (args, err)
    assert sorted(p.name for p in tmp.iterdir()) == ["m.nn"]


def test_named_export_and_header(tmp):
    net = random_net([4, 3, 2], ["relu", "softmax"])
    net.save(tmp / "m.nn")
    status, _, err = nnet("export", tmp / "m.nn", "--c", tmp / "fw.c",
                          "--name", "iris")
    assert status == 0, err
    header = (tmp / "fw.h").read_text()
    assert "int iris_predict(const float *x, float *y);" in header
    assert "#define iris_N_INPUTS 4" in header
    assert "#define iris_N_OUTPUTS 2" in header
    assert "#ifndef IRIS_NNET_H" in header
    assert '#include "fw.h"' in (tmp / "fw.c").read_text()


def test_non_finite_weights_are_refused(tmp):
    net = random_net([2, 2], ["identity"])
    net.params[1] = np.inf
    net.save(tmp / "m.nn")
    status, _, err = nnet("export", tmp / "m.nn", "--c", tmp / "model.c")
    assert status == 1 and "parameter 1 is inf" in err
    assert sorted(p.name for p in tmp.iterdir()) == ["m.nn"]
