#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes corpus/onnx/: ONNX files of each form the importer reads, small
enough to mutate quickly: libnn's own exports (written by the nnet tool's
library through the bindings), torch.onnx.export's Gemm and MatMul
layers, and a MatMul + Add graph with an input transform.

    NN_LIBRARY=... NN_ONNX_LIBRARY=... PYTHONPATH=bindings/python \\
        tests/fuzz/make_corpus_onnx.py tests/fuzz/corpus/onnx
"""
import pathlib
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

import libnn


def main(out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    net = libnn.Network([3, 4, 2], ["leaky_relu", "softmax"], seed=1)
    net.input_transform = (rng.normal(size=3).astype(np.float32),
                           rng.uniform(1, 2, size=3).astype(np.float32))
    net.to_onnx(out / "libnn-transform.onnx")
    libnn.Network([2, 3, 1], ["sigmoid", "tanh"], bias=False,
                  seed=2).to_onnx(out / "libnn-no-bias.onnx")

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(),
                                torch.nn.Linear(4, 2, bias=False),
                                torch.nn.Sigmoid())
    torch.onnx.export(model, torch.zeros(1, 3), str(out / "torch.onnx"),
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n"}, "y": {0: "n"}},
                      opset_version=13)

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])
    f32 = lambda v, k: numpy_helper.from_array(np.asarray(v, np.float32), k)
    g = helper.make_graph([
        helper.make_node("Sub", ["x", "s"], ["c"]),
        helper.make_node("Mul", ["c", "k"], ["t"]),
        helper.make_node("MatMul", ["t", "w"], ["m"]),
        helper.make_node("Add", ["m", "b"], ["y"])], "g", [x], [y],
        [f32([1, 2], "s"), f32([0.5, 2], "k"), f32([[1, 2], [3, 4]], "w"),
         f32([0.25, -1], "b")])
    onnx.save(helper.make_model(g), str(out / "matmul-add.onnx"))


if __name__ == "__main__":
    main(sys.argv[1])
