# SPDX-License-Identifier: MIT
"""ONNX export (nn_onnx_save, Network.to_onnx, nnet export --onnx): the
file passes onnx's full check, and OpenCV's dnn module, an implementation
nobody here wrote, computes from it what nn_predict computes."""
import os

import numpy as np
import pytest

import libnn
from conftest import ACTIVATIONS, inputs, nnet, random_net, rel_error

onnx = pytest.importorskip("onnx")
numpy_helper = pytest.importorskip("onnx.numpy_helper")
cv2 = pytest.importorskip("cv2")


def opencv_outputs(path, x):
    net = cv2.dnn.readNetFromONNX(str(path))
    net.setInput(x)
    return net.forward()


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("transform", [True, False],
                         ids=["transform", "raw"])
def test_checker_and_opencv_agree_with_predict(tmp, act, bias, transform):
    hidden = "leaky_relu" if act == "softmax" else act
    net = random_net([6, 9, 4], [hidden, act], bias=bias,
                     transform=transform, seed=len(act))
    path = tmp / "net.onnx"
    net.to_onnx(path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    x = inputs(33, 6)
    got = opencv_outputs(path, x)
    assert got.shape == (33, 4)
    # float32 rounding of a few dozen operations, relative to the outputs
    assert rel_error(got, net.predict(x)) < 1e-5


def test_deep_network_of_every_hidden_activation(tmp):
    acts = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax"]
    net = random_net([5, 16, 12, 10, 8, 7, 3], acts, transform=True)
    path = tmp / "deep.onnx"
    net.to_onnx(path)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    ops = [n.op_type for n in model.graph.node]
    assert ops == ["Sub", "Mul", "Gemm", "Sigmoid", "Gemm", "Tanh", "Gemm",
                   "Relu", "Gemm", "LeakyRelu", "Gemm", "Gemm", "Softmax"]
    assert model.opset_import[0].version == 13
    x = inputs(50, 5, seed=7)
    assert rel_error(opencv_outputs(path, x), net.predict(x)) < 1e-5


def test_the_graph_is_what_nn_h_documents(tmp):
    net = random_net([3, 2], ["leaky_relu"], bias=False)
    path = tmp / "small.onnx"
    net.to_onnx(path)
    model = onnx.load(str(path))
    g = model.graph
    assert [i.name for i in g.input] == ["input"]
    assert [o.name for o in g.output] == ["output"]
    dims = g.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 3
    gemm, leaky = g.node
    assert list(gemm.input) == ["input", "W0"]  # no bias input
    assert {a.name: a.i for a in gemm.attribute} == {"transB": 1}
    assert leaky.attribute[0].f == pytest.approx(0.01)
    w = numpy_helper.to_array(g.initializer[0])
    np.testing.assert_array_equal(w, net.weights(0).T)


def test_libnn_reads_its_own_export_to_the_bit(tmp):
    net = random_net([4, 8, 8, 3], ["relu", "tanh", "softmax"],
                     transform=True)
    path = tmp / "own.onnx"
    net.to_onnx(path)
    back = libnn.Network.from_onnx(path)
    assert back.sizes == net.sizes and back.activations == net.activations
    np.testing.assert_array_equal(back.params, net.params)
    np.testing.assert_array_equal(back.input_transform[0],
                                  net.input_transform[0])
    x = inputs(20, 4)
    np.testing.assert_array_equal(back.predict(x), net.predict(x))


def test_tool_writes_the_same_file(tmp):
    net = random_net([4, 5, 2], ["tanh", "sigmoid"], transform=True)
    net.save(tmp / "m.nn")
    net.to_onnx(tmp / "py.onnx")
    status, out, err = nnet("export", tmp / "m.nn", "--onnx",
                            tmp / "tool.onnx")
    assert status == 0, err
    assert out == "" and err == ""
    assert (tmp / "tool.onnx").read_bytes() == (tmp / "py.onnx").read_bytes()


def test_unwritable_destination_fails_and_leaves_nothing(tmp):
    net = random_net([2, 2], ["identity"])
    net.save(tmp / "m.nn")
    status, _, err = nnet("export", tmp / "m.nn", "--onnx",
                          tmp / "missing" / "x.onnx")
    assert status == 1
    assert "x.onnx" in err and "cannot create" in err
    with pytest.raises(libnn.NNIOError, match="cannot create"):
        net.to_onnx(tmp / "missing" / "x.onnx")
    assert sorted(p.name for p in tmp.iterdir()) == ["m.nn"]


def test_permissions_are_those_nn_save_gives(tmp):
    import os
    net = random_net([2, 2], ["identity"])
    old = os.umask(0o027)
    try:
        net.to_onnx(tmp / "new.onnx")
        net.save(tmp / "new.nn")
    finally:
        os.umask(old)
    assert (tmp / "new.onnx").stat().st_mode & 0o777 == 0o640
    assert (tmp / "new.nn").stat().st_mode & 0o777 == 0o640
    (tmp / "shared.onnx").write_bytes(b"")
    (tmp / "shared.onnx").chmod(0o664)
    net.to_onnx(tmp / "shared.onnx")
    assert (tmp / "shared.onnx").stat().st_mode & 0o777 == 0o664


def test_tool_without_libnn_onnx_says_so_and_writes_nothing(tmp, monkeypatch):
    """nnet links no libnn_onnx (tests/cli 'tool_needed'): it loads it for
    ONNX commands, and when it cannot, both commands fail before any work
    with the way to get it, and write nothing."""
    net = random_net([3, 2], ["softmax"])
    net.save(tmp / "m.nn")
    net.to_onnx(tmp / "m.onnx")
    monkeypatch.setenv("NN_ONNX_LIBRARY", str(tmp / "absent.so"))
    for args, target in ((("export", tmp / "m.nn", "--onnx", tmp / "x.onnx"),
                          "x.onnx"),
                         (("import", tmp / "m.onnx", "-o", tmp / "x.nn"),
                          "m.onnx")):
        status, out, err = nnet(*args)
        assert status == 1, err
        assert out == ""
        assert target in err and "ONNX needs libnn_onnx" in err
        assert "NN_ONNX_LIBRARY" in err
    assert sorted(p.name for p in tmp.iterdir()) == ["m.nn", "m.onnx"]
    # a library that is not libnn_onnx is refused as such
    monkeypatch.setenv("NN_ONNX_LIBRARY", os.environ["NN_LIBRARY"])
    status, _, err = nnet("export", tmp / "m.nn", "--onnx", tmp / "x.onnx")
    assert status == 1 and "is not libnn_onnx" in err
    assert not (tmp / "x.onnx").exists()


def test_what_the_user_owns_is_kept_as_nn_save_keeps_it(tmp):
    """A symbolic link stays a link to the file it names, which gets the
    model; a device is written in place, not replaced; a directory is
    refused and left as it was."""
    net = random_net([2, 2], ["identity"])
    (tmp / "real.onnx").write_bytes(b"old")
    (tmp / "link.onnx").symlink_to("real.onnx")
    net.to_onnx(tmp / "link.onnx")
    assert (tmp / "link.onnx").is_symlink()
    assert os.readlink(tmp / "link.onnx") == "real.onnx"
    model = onnx.load(str(tmp / "real.onnx"))
    onnx.checker.check_model(model, full_check=True)

    net.to_onnx("/dev/null")
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")

    (tmp / "dir.onnx").mkdir()
    with pytest.raises(libnn.NNIOError, match="dir.onnx"):
        net.to_onnx(tmp / "dir.onnx")
    assert (tmp / "dir.onnx").is_dir()
    assert not list((tmp / "dir.onnx").iterdir())
    assert sorted(p.name for p in tmp.iterdir()) == [
        "dir.onnx", "link.onnx", "real.onnx"]
