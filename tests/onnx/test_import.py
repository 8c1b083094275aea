# SPDX-License-Identifier: MIT
"""ONNX import (nn_onnx_load, Network.from_onnx, nnet import): models that
PyTorch trains and torch.onnx.export writes give PyTorch's outputs through
nn_predict; graphs libnn cannot compute exactly are refused, naming the
node and op, and no model is written."""
import numpy as np
import pytest

import libnn
from conftest import inputs, nnet, rel_error

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

torch = pytest.importorskip("torch")

TORCH_ACTIVATIONS = {
    "relu": torch.nn.ReLU, "leaky_relu": torch.nn.LeakyReLU,
    "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
    "identity": torch.nn.Identity,
}


def trained(model, n_in, n_out, seed):
    """A few Adam steps on random data, so that the weights are PyTorch's
    own and not an initialisation."""
    torch.manual_seed(seed)
    x = torch.randn(64, n_in)
    y = torch.randn(64, n_out)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(20):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return model.eval()


def export(model, path, n_in):
    torch.onnx.export(model, torch.zeros(2, n_in), str(path),
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n"}, "y": {0: "n"}},
                      opset_version=13)


def torch_outputs(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("act", sorted(TORCH_ACTIVATIONS))
@pytest.mark.parametrize("last", ["softmax", "softmax_dim1", "sigmoid",
                                  "none"])
@pytest.mark.parametrize("bias", ["all", "none", "some"])
def test_pytorch_model_runs_in_libnn(tmp, act, last, bias):
    Act = TORCH_ACTIVATIONS[act]
    has_bias = {"all": [True] * 3, "none": [False] * 3,
                "some": [True, False, True]}[bias]
    layers = [torch.nn.Linear(6, 16, bias=has_bias[0]), Act(),
              torch.nn.Linear(16, 12, bias=has_bias[1]), Act(),
              torch.nn.Linear(12, 4, bias=has_bias[2])]
    if last == "softmax":
        layers.append(torch.nn.Softmax(dim=-1))
    elif last == "softmax_dim1":
        layers.append(torch.nn.Softmax(dim=1))
    elif last == "sigmoid":
        layers.append(torch.nn.Sigmoid())
    model = trained(torch.nn.Sequential(*layers), 6, 4, seed=len(act))
    export(model, tmp / "torch.onnx", 6)

    net = libnn.Network.from_onnx(tmp / "torch.onnx")
    assert net.sizes == (6, 16, 12, 4)
    want_last = {"softmax": "softmax", "softmax_dim1": "softmax",
                 "sigmoid": "sigmoid", "none": "identity"}[last]
    assert net.activations == (act, act, want_last)
    assert net.has_bias == (bias != "none")
    x = inputs(50, 6)
    assert rel_error(net.predict(x), torch_outputs(model, x)) < 1e-5

    status, _, err = nnet("import", tmp / "torch.onnx", "-o", tmp / "m.nn")
    assert status == 0, err
    np.testing.assert_array_equal(libnn.Network.load(tmp / "m.nn").params,
                                  net.params)


def graph_model(nodes, initializers, n_in=3, n_out=2, inputs_extra=()):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", n_in])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", n_out])
    g = helper.make_graph(nodes, "g", [x, *inputs_extra], [y],
                          [numpy_helper.from_array(np.asarray(v, np.float32),
                                                   k)
                           for k, v in initializers.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def test_matmul_add_and_input_transform(tmp):
    rng = np.random.default_rng(5)
    w1 = rng.normal(size=(3, 5))
    b1 = rng.normal(size=5)
    w2 = rng.normal(size=(2, 5))  # Gemm, transB = 1
    shift = rng.normal(size=3)
    scale = rng.uniform(0.5, 2, size=3)
    nodes = [
        helper.make_node("Add", ["x", "neg_shift"], ["c"], name="centre"),
        helper.make_node("Mul", ["scale", "c"], ["s"], name="scale"),
        helper.make_node("MatMul", ["s", "w1"], ["m"], name="mm"),
        helper.make_node("Identity", ["m"], ["m2"]),
        helper.make_node("Add", ["m2", "b1"], ["z"], name="bias"),
        helper.make_node("Tanh", ["z"], ["a"], name="tanh"),
        helper.make_node("Gemm", ["a", "w2"], ["y"], name="out", transB=1),
    ]
    model = graph_model(nodes, {"neg_shift": -shift, "scale": scale,
                                "w1": w1, "b1": b1, "w2": w2})
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(tmp / "mm.onnx"))
    net = libnn.Network.from_onnx(tmp / "mm.onnx")
    assert net.activations == ("tanh", "identity")
    x = inputs(30, 3).astype(np.float64)
    want = np.tanh(((x + -shift) * scale) @ w1 + b1) @ w2.T
    # float32 weights, inputs and sums against float64 arithmetic
    assert rel_error(net.predict(x.astype(np.float32)), want) < 1e-5
    assert net.bias(1) is not None and not net.bias(1).any()


def refused(tmp, model, node, op, detail):
    """The model is refused by the tool, which writes nothing and leaves an
    existing file alone, and by the bindings, with the same message."""
    path = tmp / "in.onnx"
    onnx.save(model, str(path))
    status, _, err = nnet("import", path, "-o", tmp / "new.nn")
    assert status == 1
    assert f"node '{node}' ({op})" in err and detail in err, err
    assert not (tmp / "new.nn").exists()
    (tmp / "old.nn").write_bytes(b"the user's")
    status, _, err = nnet("import", path, "-o", tmp / "old.nn")
    assert status == 1 and (tmp / "old.nn").read_bytes() == b"the user's"
    with pytest.raises(libnn.NNFormatError) as info:
        libnn.Network.from_onnx(path)
    assert f"node '{node}' ({op})" in str(info.value)
    assert sorted(p.name for p in tmp.iterdir()) == ["in.onnx", "old.nn"]


def test_convolution_is_refused(tmp):
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(),
                                torch.nn.Linear(8, 2))
    torch.onnx.export(model.eval(), torch.zeros(1, 1, 4, 4),
                      str(tmp / "in.onnx"), opset_version=13)
    refused(tmp, onnx.load(str(tmp / "in.onnx")), "/0/Conv", "Conv",
            "op not supported")
    # and a convolution on a rank-2 input, as libnn's inputs are
    refused(tmp, graph_model(
        [helper.make_node("Conv", ["x", "k"], ["y"], name="conv1")],
        {"k": np.ones((1, 1, 3))}), "conv1", "Conv", "op not supported")


def test_inputs_of_another_rank_are_refused(tmp):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g", [x],
        [y], [numpy_helper.from_array(np.ones((3, 2), np.float32), "w")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    refused(tmp, model, "mm", "MatMul", "'x' has 3 dimensions")


def test_dynamic_weights_are_refused(tmp):
    # weights given as a graph input
    w = helper.make_tensor_value_info("w", TensorProto.FLOAT, [3, 2])
    refused(tmp, graph_model(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], {},
        inputs_extra=[w]), "mm", "MatMul", "weights computed at run time")
    # weights that a node computes
    refused(tmp, graph_model([
        helper.make_node("Gemm", ["x", "w0"], ["h"], name="g0", transB=1),
        helper.make_node("Relu", ["w0"], ["w1"], name="r"),
        helper.make_node("Gemm", ["h", "w1"], ["y"], name="g1")],
        {"w0": np.ones((3, 3))}), "r", "Relu", "not a step of a chain")
    # a second input that no node takes
    path = tmp / "two.onnx"
    onnx.save(graph_model(
        [helper.make_node("MatMul", ["x", "k"], ["y"], name="mm")],
        {"k": np.ones((3, 2))}, inputs_extra=[w]), str(path))
    status, _, err = nnet("import", path, "-o", tmp / "two.nn")
    assert status == 1 and "graph inputs 'x' and 'w'" in err
    assert not (tmp / "two.nn").exists()


@pytest.mark.parametrize("op,attrs,detail", [
    ("Elu", {}, "op not supported"),
    ("LeakyRelu", {"alpha": 0.2}, "slope 0.01"),
    ("Softmax", {"axis": 0}, "last axis"),
    ("Dropout", {}, "op not supported"),
])
def test_unsupported_ops_are_refused(tmp, op, attrs, detail):
    model = graph_model([
        helper.make_node("Gemm", ["x", "w"], ["z"], name="g"),
        helper.make_node(op, ["z"], ["y"], name="act", **attrs)],
        {"w": np.ones((3, 2))})
    refused(tmp, model, "act", op, detail)


def test_shapes_that_do_not_chain_are_refused(tmp):
    model = graph_model([
        helper.make_node("Gemm", ["x", "w0"], ["h"], name="first"),
        helper.make_node("Gemm", ["h", "w1"], ["y"], name="second")],
        {"w0": np.ones((3, 4)), "w1": np.ones((5, 2))})
    refused(tmp, model, "second", "Gemm", "do not chain")
    model = graph_model([
        helper.make_node("Gemm", ["x", "w0"], ["y"], name="first")],
        {"w0": np.ones((4, 2))})
    refused(tmp, model, "first", "Gemm", "do not chain")


def test_softmax_on_a_hidden_layer_is_refused(tmp):
    model = graph_model([
        helper.make_node("Gemm", ["x", "w0"], ["h"], name="g0"),
        helper.make_node("Softmax", ["h"], ["s"], name="sm"),
        helper.make_node("Gemm", ["s", "w1"], ["y"], name="g1")],
        {"w0": np.ones((3, 4)), "w1": np.ones((4, 2))})
    refused(tmp, model, "sm", "Softmax", "last layer only")


def test_what_is_not_onnx_is_refused(tmp):
    for name, data in [("empty.onnx", b""), ("text.onnx", b"hello\n"),
                       ("model.nn", None)]:
        path = tmp / name
        if data is None:
            libnn.Network([2, 1], ["identity"]).save(path)
        else:
            path.write_bytes(data)
        status, _, err = nnet("import", path, "-o", tmp / "out.nn")
        assert status == 1 and str(path) in err, err
        assert not (tmp / "out.nn").exists()
        with pytest.raises(libnn.NNFormatError):
            libnn.Network.from_onnx(path)
    status, _, err = nnet("import", tmp / "missing.onnx", "-o",
                          tmp / "out.nn")
    assert status == 1 and "cannot open" in err
    with pytest.raises(libnn.NNIOError):
        libnn.Network.from_onnx(tmp / "missing.onnx")
