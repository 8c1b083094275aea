# SPDX-License-Identifier: MIT
"""libnn.Network: every public method, its bad inputs, and each exception
class raised from the C library."""

import copy
import gc
import io
import pickle
import threading
import weakref

import numpy as np
import pytest

import libnn
from libnn import _lib


# --- construction ---------------------------------------------------------

def test_tutorial_network(tutorial_net):
    net = tutorial_net
    assert net.sizes == (2, 3, 1)
    assert net.activations == ("sigmoid", "sigmoid")
    assert (net.n_inputs, net.n_outputs) == (2, 1)
    assert net.param_count == 2 * 3 + 3 * 1
    assert not net.has_bias
    assert net.bias(0) is None
    assert net.learning_rate == 0.5
    assert "sizes=[2, 3, 1]" in repr(net)


def test_same_seed_same_weights_and_bias_starts_at_zero():
    a = libnn.Network([3, 5, 2], ["relu", "softmax"], seed=7)
    b = libnn.Network([3, 5, 2], ["relu", "softmax"], seed=7)
    c = libnn.Network([3, 5, 2], ["relu", "softmax"], seed=8)
    assert np.array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)
    assert a.has_bias and np.all(a.bias(0) == 0) and np.all(a.bias(1) == 0)
    # He U(-a, a) for ReLU: a = sqrt(6 / fan_in)
    assert np.abs(a.weights(0)).max() <= np.sqrt(6 / 3)


def test_seed_none_is_random_and_big_seeds_work():
    a = libnn.Network([3, 4], ["identity"], seed=None)
    b = libnn.Network([3, 4], ["identity"], seed=None)
    assert not np.array_equal(a.params, b.params)
    libnn.Network([3, 4], ["identity"], seed=2 ** 64 - 1)


@pytest.mark.parametrize("sizes,acts,exc", [
    ([2], [], libnn.NNValueError),                       # < 2 sizes
    ([2, 0, 1], ["relu", "relu"], libnn.NNValueError),   # zero size
    ([2, -1], ["relu"], libnn.NNValueError),             # negative size
    ([2, 2.5], ["relu"], TypeError),                     # not an int
    ([2, 3, 1], ["relu"], libnn.NNValueError),           # too few names
    ([2, 3, 1], ["relu", "bogus"], libnn.NNValueError),  # unknown name
    ([2, 3, 1], "relu", TypeError),                      # not a list
])
def test_bad_construction(sizes, acts, exc):
    with pytest.raises(exc):
        libnn.Network(sizes, acts)


def test_bad_seed_and_settings():
    with pytest.raises(libnn.NNValueError):
        libnn.Network([2, 1], ["identity"], seed=-1)
    with pytest.raises(libnn.NNValueError):
        libnn.Network([2, 1], ["identity"], seed=2 ** 64)
    with pytest.raises(TypeError):
        libnn.Network([2, 1], ["identity"], seed="x")
    with pytest.raises(TypeError, match="unknown setting"):
        libnn.Network([2, 1], ["identity"], learningrate=0.1)


def test_softmax_on_a_hidden_layer_is_refused_by_c():
    with pytest.raises(libnn.NNValueError) as info:
        libnn.Network([2, 3, 1], ["softmax", "sigmoid"])
    assert info.value.function == "nn_create"
    assert "softmax" in info.value.detail  # the library's own words


def test_enomem_from_c():
    with pytest.raises(libnn.NNMemoryError) as info:
        libnn.Network([2 ** 40, 2 ** 40, 2], ["relu", "relu"])
    assert isinstance(info.value, MemoryError)
    assert info.value.code == -2 and info.value.detail


# --- settings -------------------------------------------------------------

def test_settings_defaults_and_round_trip():
    net = libnn.Network([2, 3, 2], ["tanh", "softmax"])
    s = net.settings
    assert s["optimizer"] == "sgd" and s["loss"] == "cross_entropy"
    assert s["learning_rate"] == 0.01 and s["batch_size"] == 32
    assert s["shuffle"] is True and s["momentum"] == 0.9
    new = dict(optimizer="adamw", loss="mse", learning_rate=0.25,
               momentum=0.5, beta1=0.8, beta2=0.99, epsilon=1e-6,
               weight_decay=0.01, batch_size=7, shuffle=False,
               rmsprop_alpha=0.9, dropout=0.25, clip_norm=1.5,
               schedule="cosine", step_size=3, gamma=0.5, t_max=20,
               min_lr=0.001, plateau_patience=2, early_stopping=4)
    for key, value in new.items():
        setattr(net, key, value)
    assert net.settings == new
    other = libnn.Network([2, 3, 2], ["tanh", "softmax"], **new)
    assert other.settings == new
    assert net.current_lr > 0 and net.epochs_done == 0
    with pytest.raises(AttributeError):
        net.current_lr = 1.0


@pytest.mark.parametrize("name", libnn.OPTIMIZERS)
def test_every_optimizer_name(name):
    net = libnn.Network([2, 2], ["identity"], optimizer=name)
    assert net.optimizer == name


@pytest.mark.parametrize("key,value,exc", [
    ("learning_rate", -1.0, libnn.NNValueError),
    ("learning_rate", float("nan"), libnn.NNValueError),
    ("momentum", 1.0, libnn.NNValueError),
    ("batch_size", 0, libnn.NNValueError),
    ("batch_size", 2.5, libnn.NNValueError),   # integral settings
    ("shuffle", 2, libnn.NNValueError),
    ("optimizer", "adagrad", libnn.NNValueError),
    ("optimizer", 17, libnn.NNValueError),
    ("loss", "cross_entropy", libnn.NNValueError),  # needs softmax
    ("loss", "hinge", libnn.NNValueError),
    ("learning_rate", "fast", TypeError),
    ("learning_rate", None, TypeError),
])
def test_bad_settings(key, value, exc):
    net = libnn.Network([2, 3, 1], ["relu", "sigmoid"])
    before = net.settings
    with pytest.raises(exc):
        setattr(net, key, value)
    assert net.settings == before  # a failed call changes nothing


def test_bce_needs_sigmoid():
    net = libnn.Network([2, 1], ["sigmoid"], loss="binary_cross_entropy")
    assert net.loss == "binary_cross_entropy"
    with pytest.raises(libnn.NNValueError):
        libnn.Network([2, 1], ["identity"], loss="binary_cross_entropy")


# --- the four verbs -------------------------------------------------------

def _manual_forward(net, x):
    """The tutorial's math in numpy, from the zero-copy views."""
    a = x.astype(np.float64)
    for layer in range(len(net.sizes) - 1):
        z = a @ net.weights(layer)
        if net.bias(layer) is not None:
            z = z + net.bias(layer)
        a = 1 / (1 + np.exp(-z))
    return a


def test_forward_matches_numpy(tutorial_net, xor):
    x, _ = xor
    out = tutorial_net.forward(x)
    assert out.dtype == np.float32 and out.shape == (4, 1)
    np.testing.assert_allclose(out, _manual_forward(tutorial_net, x),
                               rtol=1e-5)
    one = tutorial_net.forward(x[1])
    assert one.shape == (1,) and one[0] == pytest.approx(out[1, 0])


def test_cost_backprop_step(tutorial_net, xor):
    net = tutorial_net
    x, y = xor
    expected = 0.5 * np.mean(np.sum((y - _manual_forward(net, x)) ** 2, 1))
    assert net.cost(x, y) == pytest.approx(expected, rel=1e-5)
    assert np.all(net.grads == 0)
    cost = net.backprop(x, y)
    assert cost == pytest.approx(expected, rel=1e-5)
    grads = net.grads.copy()
    assert np.any(grads != 0)
    before = net.params.copy()
    net.step()
    np.testing.assert_allclose(net.params, before - 0.5 * grads, rtol=1e-6)
    net.step()  # applies the same gradients again
    np.testing.assert_allclose(net.params, before - 1.0 * grads, rtol=1e-5)
    costs = [net.backprop(x, y) for _ in range(200) if net.step() is None]
    assert costs[-1] < costs[0]


def test_step_before_backprop_is_a_state_error(tutorial_net):
    with pytest.raises(libnn.NNStateError) as info:
        tutorial_net.step()
    assert isinstance(info.value, RuntimeError)
    assert "backprop" in str(info.value)


def test_failed_backprop_blocks_step(tutorial_net, xor):
    x, y = xor
    tutorial_net.backprop(x, y)
    tutorial_net.step()
    bad = y.copy()
    bad[0, 0] = np.nan
    with pytest.raises(libnn.NNNumericError):
        tutorial_net.backprop(x, bad)
    with pytest.raises(libnn.NNStateError):
        tutorial_net.step()


def test_non_finite_inputs_are_numeric_errors(tutorial_net, xor):
    x, y = xor
    bad = x.copy()
    bad[2, 1] = np.inf
    for call in (lambda: tutorial_net.forward(bad),
                 lambda: tutorial_net.predict(bad),
                 lambda: tutorial_net.cost(bad, y),
                 lambda: tutorial_net.evaluate(bad, y),
                 lambda: tutorial_net.train(bad, y, progress=False)):
        with pytest.raises(libnn.NNNumericError) as info:
            call()
        assert isinstance(info.value, ArithmeticError)
        assert info.value.detail  # nn_last_error's text came through


def test_non_finite_outputs_are_numeric_errors():
    """Finite inputs that overflow: NNNumericError naming the first row
    whose outputs are not finite, never NaN returned as a result."""
    net = libnn.Network([3, 2, 2], ["identity", "identity"])
    net.params = np.ones(net.param_count, np.float32)
    x = np.ones((5, 3), np.float32)
    x[3] = 3e38  # 3 * 3e38 overflows float32 in the first layer
    y = np.zeros((5, 2), np.float32)
    for call in (lambda: net.forward(x), lambda: net.predict(x),
                 lambda: net.evaluate(x, y)):
        with pytest.raises(libnn.NNNumericError,
                           match="the outputs of row 3 are not finite"):
            call()
    # the rows before it are fine
    assert np.array_equal(net.predict(x[:3]), np.full((3, 2), 9, np.float32))


# --- input conversion and shape checks ------------------------------------

class Spy:
    """Wraps a _lib function to record the arrays it was given."""

    def __init__(self, func):
        self.func, self.calls = func, []

    def __call__(self, *args):
        self.calls.append(args)
        return self.func(*args)


@pytest.fixture
def spy(monkeypatch):
    def install(name):
        s = Spy(getattr(_lib, name))
        monkeypatch.setattr(_lib, name, s)
        return s
    return install


def test_float32_c_contiguous_input_is_not_copied(spy, blobs):
    x, y, _ = blobs
    net = libnn.Network([4, 5, 3], ["relu", "softmax"])
    for name, call in [("nn_predict", lambda: net.predict(x)),
                       ("nn_forward", lambda: net.forward(x)),
                       ("nn_evaluate", lambda: net.evaluate(x, y)),
                       ("nn_cost", lambda: net.cost(x, y)),
                       ("nn_backprop", lambda: net.backprop(x, y)),
                       ("nn_train", lambda: net.train(x, y, progress=False)),
                       ("nn_gradcheck", lambda: net.gradcheck(x[:3], y[:3]))]:
        s = spy(name)
        call()
        passed = s.calls[-1][1]
        assert passed is x or passed.ctypes.data == x.ctypes.data, name
        if name in ("nn_evaluate", "nn_cost", "nn_backprop", "nn_train"):
            assert s.calls[-1][2].ctypes.data == y.ctypes.data, name


@pytest.mark.parametrize("convert", [
    lambda a: a.astype(np.float64),                  # another float dtype
    lambda a: np.asfortranarray(a),                  # another order
    lambda a: a.astype(">f4"),                       # big-endian
    lambda a: np.repeat(a, 2, axis=0)[::2],          # strided view
    lambda a: a.tolist(),                            # not an array
    lambda a: a.astype(np.int64),                    # integers
])
def test_other_inputs_are_converted_once(spy, convert):
    x = np.arange(12, dtype=np.float32).reshape(6, 2) / 10
    net = libnn.Network([2, 3], ["tanh"], seed=1)
    expected = net.predict(x if convert(x) is not None else x)
    s = spy("nn_predict")
    given = convert(x)
    out = net.predict(given)
    passed = s.calls[-1][1]
    assert passed.dtype == np.float32 and passed.flags.c_contiguous
    if isinstance(given, np.ndarray):
        assert not np.shares_memory(passed, given)
    np.testing.assert_allclose(out, net.predict(np.asarray(
        given, dtype=np.float32)))
    assert expected.shape == out.shape


@pytest.mark.parametrize("bad", [
    np.zeros((4, 3), np.float32),     # wrong number of inputs
    np.zeros((4, 2, 1), np.float32),  # 3-D
    np.zeros(3, np.float32),          # 1-D of the wrong length
    np.zeros((0, 2), np.float32),     # empty batch
    np.float32(1.0),                  # scalar
])
def test_wrong_input_shapes_raise_before_c(spy, tutorial_net, bad):
    calls = [spy(n) for n in ("nn_predict", "nn_forward", "nn_train",
                              "nn_evaluate")]
    y = np.zeros((4, 1), np.float32)
    for method in (tutorial_net.predict, tutorial_net.forward):
        with pytest.raises(ValueError):
            method(bad)
    for method in (tutorial_net.train, tutorial_net.evaluate):
        with pytest.raises(ValueError):
            method(bad, y)
    assert all(not s.calls for s in calls)


def test_wrong_target_shapes_raise_before_c(spy, tutorial_net, xor):
    x, y = xor
    s = spy("nn_cost")
    for bad in (y[:3], np.zeros((4, 2)), np.zeros((4, 1, 1)), y[:, 0][:3]):
        with pytest.raises(libnn.NNShapeError):
            tutorial_net.cost(x, bad)
    assert not s.calls
    # one output: a 1-D target per sample is natural, and accepted
    assert tutorial_net.cost(x, y[:, 0]) == tutorial_net.cost(x, y)
    # one sample given as 1-D arrays
    assert tutorial_net.cost(x[1], y[1]) == tutorial_net.cost(x[1:2], y[1:2])


def test_complex_and_text_inputs_are_type_errors(tutorial_net):
    with pytest.raises(TypeError):
        tutorial_net.predict(np.ones((2, 2), complex))
    with pytest.raises(TypeError):
        tutorial_net.predict([["a", "b"]])
    with pytest.raises(TypeError):
        tutorial_net.predict(np.array([["a", "b"]]))


def test_predict_into_out(tutorial_net, xor):
    x, _ = xor
    out = np.empty((4, 1), np.float32)
    assert tutorial_net.predict(x, out=out) is out
    np.testing.assert_array_equal(out, tutorial_net.predict(x))
    assert tutorial_net.forward(x, out=out) is out
    for bad in (np.empty((4, 1)), np.empty((3, 1), np.float32),
                np.empty((4, 2), np.float32)[:, :1],
                np.empty((1, 4), np.float32), [0.0] * 4):
        with pytest.raises((TypeError, ValueError)):
            tutorial_net.predict(x, out=bad)


# --- zero-copy views ------------------------------------------------------

def test_views_are_zero_copy(tutorial_net, xor):
    net = tutorial_net
    x, y = xor
    params = net.params
    assert params.dtype == np.float32 and params.shape == (9,)
    w0, w1 = net.weights(0), net.weights(1)
    assert w0.shape == (2, 3) and w1.shape == (3, 1)
    assert np.shares_memory(w0, params) and np.shares_memory(w1, params)
    np.testing.assert_array_equal(np.concatenate([w0.ravel(), w1.ravel()]),
                                  params)
    assert net.weights(-1).shape == (3, 1)
    # a weight written through a view changes what predict computes
    before = net.predict(x)
    w1[:] = 0.0
    np.testing.assert_allclose(net.predict(x), 0.5)
    assert not np.allclose(before, 0.5)
    params[:] = np.arange(9, dtype=np.float32) / 10
    np.testing.assert_allclose(net.predict(x), _manual_forward(net, x),
                               rtol=1e-5)
    net.params = np.linspace(-1, 1, 9)  # assignment copies in
    np.testing.assert_allclose(params, np.linspace(-1, 1, 9), rtol=1e-6)
    # grads is a live view too: backprop fills the same memory
    grads = net.grads
    net.backprop(x, y)
    assert np.any(grads != 0)
    grads[:] = 1.0
    net.learning_rate = 0.1
    net.step()
    np.testing.assert_allclose(params, np.linspace(-1, 1, 9) - 0.1,
                               rtol=1e-6, atol=1e-7)


def test_bias_views(blobs):
    x, _, _ = blobs
    net = libnn.Network([4, 5, 3], ["relu", "softmax"], seed=3)
    b = net.bias(1)
    assert b.shape == (3,) and np.shares_memory(b, net.params)
    b[:] = [0, 0, 100]
    assert np.all(net.predict(x).argmax(1) == 2)


def test_activations_read_back_every_name():
    names = sorted(libnn.ACTIVATIONS)
    names.remove("softmax")  # last layer only
    net = libnn.Network([3] * (len(names) + 2), names + ["softmax"], seed=1)
    assert net.activations == tuple(names) + ("softmax",)
    assert all(isinstance(name, str) for name in net.activations)


def test_activation_of_a_bad_layer_is_a_value_error(tutorial_net):
    """nn_layer_activation's NN_EINVAL goes through the error path, with
    the library's detail (the thread's slot: it takes a const handle)."""
    for bad in (2, 2 ** 64 - 1):
        with pytest.raises(libnn.NNValueError) as info:
            _lib.nn_layer_activation(tutorial_net._ptr, bad)
        assert info.value.code == -1
        assert info.value.function == "nn_layer_activation"
        assert "out of range" in info.value.detail
    with pytest.raises(libnn.NNValueError):
        _lib.nn_layer_activation(None, 0)
    assert _lib.nn_layer_activation(tutorial_net._ptr, 1) == \
        _lib.ACTIVATIONS["sigmoid"]


def test_layer_index_errors(tutorial_net):
    for bad in (2, -3):
        with pytest.raises(IndexError):
            tutorial_net.weights(bad)
    with pytest.raises(TypeError):
        tutorial_net.bias(0.5)


def test_views_keep_the_memory_alive(xor):
    x, _ = xor
    net = libnn.Network([2, 3, 1], ["sigmoid", "sigmoid"], seed=1)
    params = net.params
    w = net.weights(1)
    expected = params.copy()
    handle = weakref.ref(net._handle)
    net.close()
    assert net.closed
    gc.collect()
    assert handle() is not None      # the views hold the handle
    np.testing.assert_array_equal(params, expected)
    params[0] = 3.0                   # still valid memory
    del net
    gc.collect()
    assert handle() is not None
    del params
    gc.collect()
    assert handle() is not None      # w still holds it
    del w
    gc.collect()
    assert handle() is None          # freed with the last view


def test_closed_network_raises_state_error(xor):
    x, y = xor
    with libnn.Network([2, 1], ["sigmoid"]) as net:
        net.predict(x)
    assert net.closed and "closed" in repr(net)
    net.close()  # twice is fine
    for call in (lambda: net.predict(x), lambda: net.train(x, y),
                 lambda: net.params, lambda: net.learning_rate,
                 lambda: net.to_bytes(), lambda: net.copy(),
                 lambda: net.sizes, lambda: net.activations,
                 lambda: pickle.dumps(net)):
        with pytest.raises(libnn.NNStateError):
            call()


# --- training -------------------------------------------------------------

def test_train_returns_epoch_losses(blobs):
    x, y, labels = blobs
    net = libnn.Network([4, 8, 3], ["relu", "softmax"], seed=1,
                        optimizer="adam", learning_rate=0.01, batch_size=16)
    losses = net.train(x, y, epochs=20, progress=False)
    assert losses.shape == (20,) and losses[-1] < losses[0] / 2
    np.testing.assert_array_equal(losses, net.history()["train_loss"])
    assert net.epochs_done == 20
    cost, accuracy = net.evaluate(x, y)
    assert accuracy > 0.9 and cost < losses[0]
    assert np.mean(net.predict(x).argmax(1) == labels) == accuracy


def test_train_is_reproducible_and_copy_trains_the_same(blobs):
    x, y, _ = blobs
    a = libnn.Network([4, 6, 3], ["tanh", "softmax"], seed=5,
                      optimizer="adam", batch_size=10)
    a.train(x, y, epochs=2, progress=False)
    b = a.copy()
    c = copy.deepcopy(a)
    assert isinstance(b, libnn.Network) and b.settings == a.settings
    for net in (a, b, c):
        net.train(x, y, epochs=3, progress=False)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.params, c.params)
    assert not np.shares_memory(a.params, b.params)


def test_progress_callback_arguments_and_stop(blobs):
    x, y, _ = blobs
    net = libnn.Network([4, 3], ["softmax"], batch_size=50)
    seen = []

    def progress(epoch, step, steps, cost):
        seen.append((epoch, step, steps, cost))
        return epoch == 1 and step == 1   # stop in the second epoch

    losses = net.train(x, y, epochs=5, progress=progress)
    assert [s[:3] for s in seen] == [(0, 0, 3), (0, 1, 3), (0, 2, 3),
                                     (1, 0, 3), (1, 1, 3)]
    assert all(isinstance(s[3], float) and s[3] > 0 for s in seen)
    assert len(losses) == 2


def test_exception_in_callback_stops_and_propagates(blobs):
    x, y, _ = blobs
    net = libnn.Network([4, 3], ["softmax"], batch_size=10)
    calls = []

    def progress(epoch, step, steps, cost):
        calls.append(step)
        if step == 2:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        net.train(x, y, epochs=3, progress=progress)
    assert calls == [0, 1, 2]
    with pytest.raises(TypeError):
        net.train(x, y, progress="yes")


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(monkeypatch, blobs):
    monkeypatch.setitem(__import__("sys").modules, "tqdm", None)  # built-in
    x, y, _ = blobs
    net = libnn.Network([4, 3], ["softmax"], batch_size=40)
    term = FakeTerminal()
    monkeypatch.setattr("sys.stderr", term)
    net.train(x, y, epochs=2)
    text = term.getvalue()
    assert "epoch 2/2" in text and "#" * 30 in text and "loss" in text
    assert text.endswith("\n")
    plain = io.StringIO()
    monkeypatch.setattr("sys.stderr", plain)
    net.train(x, y, epochs=2)              # not a terminal: silent
    net.train(x, y, epochs=2, progress=False)
    assert plain.getvalue() == ""
    net.train(x, y, epochs=1, progress=True)
    assert "epoch 1/1" in plain.getvalue()


def test_bad_epochs(tutorial_net, xor):
    x, y = xor
    for bad, exc in ((0, libnn.NNValueError), (-1, libnn.NNValueError),
                     (1.5, TypeError), (True, TypeError)):
        with pytest.raises(exc):
            tutorial_net.train(x, y, epochs=bad)


def test_fit_with_validation_and_epoch_callback(blobs):
    x, y, _ = blobs
    net = libnn.Network([4, 8, 3], ["relu", "softmax"], seed=2,
                        optimizer="adam", learning_rate=0.01)
    logs = []
    history = net.fit(x[:90], y[:90], epochs=6,
                      validation_data=(x[90:], y[90:]),
                      on_epoch=lambda epoch, entry: logs.append(
                          (epoch, entry)))
    assert set(history) == {"train_loss", "train_accuracy", "val_loss",
                            "val_accuracy", "learning_rate"}
    assert all(len(v) == 6 for v in history.values())
    assert [e for e, _ in logs] == list(range(6))
    assert logs[-1][1]["val_loss"] == history["val_loss"][-1]
    assert np.all(np.isfinite(history["val_loss"]))
    np.testing.assert_allclose(history["learning_rate"], 0.01)
    # the weights of the best validation epoch are restored
    best = history["val_loss"].min()
    assert net.evaluate(x[90:], y[90:])[0] == pytest.approx(best, rel=1e-5)
    # stopping from on_epoch; no validation data: NaN validation series
    history = net.fit(x, y, epochs=10, on_epoch=lambda e, _: e == 2)
    assert len(history["train_loss"]) == 3
    assert np.all(np.isnan(history["val_loss"]))
    with pytest.raises(libnn.NNShapeError):
        net.fit(x, y, validation_data=(x[:, :2], y))
    with pytest.raises(TypeError):
        net.fit(x, y, validation_data=x)
    with pytest.raises(ZeroDivisionError):
        net.fit(x, y, epochs=2, on_epoch=lambda e, _: 1 / 0)


def test_fit_early_stopping_setting(blobs):
    x, y, _ = blobs
    net = libnn.Network([4, 16, 3], ["relu", "softmax"], seed=2,
                        optimizer="adam", learning_rate=0.05,
                        early_stopping=2)
    noise = np.random.RandomState(1).permutation(y[90:])  # unlearnable
    history = net.fit(x[:90], y[:90], epochs=200,
                      validation_data=(x[90:], noise))
    assert len(history["train_loss"]) < 200


def test_input_transform(blobs):
    x, y, _ = blobs
    raw = x * 100 + 50
    net = libnn.Network([4, 3], ["softmax"], seed=1)
    assert net.input_transform is None
    net.standardize_inputs(raw)
    shift, scale = net.input_transform
    np.testing.assert_allclose(shift, raw.mean(0), rtol=1e-4)
    np.testing.assert_allclose(scale, 1 / raw.std(0), rtol=1e-3)
    plain = libnn.Network([4, 3], ["softmax"], seed=1)
    np.testing.assert_allclose(
        net.predict(raw), plain.predict((raw - shift) * scale), rtol=1e-4,
        atol=1e-6)
    net.input_transform = (np.zeros(4), np.full(4, 2.0))
    np.testing.assert_allclose(net.predict(x), plain.predict(2 * x),
                               rtol=1e-5)
    again = libnn.Network.from_bytes(net.to_bytes())
    np.testing.assert_array_equal(again.input_transform[1], 2.0)
    net.input_transform = None
    assert net.input_transform is None
    with pytest.raises(libnn.NNShapeError):
        net.input_transform = (np.zeros(3), np.ones(3))
    with pytest.raises(libnn.NNNumericError):
        net.input_transform = (np.zeros(4), np.full(4, np.inf))
    with pytest.raises(TypeError):
        net.input_transform = np.zeros(4)


# --- predict, evaluate, gradcheck -----------------------------------------

def test_evaluate_one_output(tutorial_net, xor):
    x, y = xor
    cost, accuracy = tutorial_net.evaluate(x, y)
    assert cost == pytest.approx(tutorial_net.cost(x, y))
    expected = np.mean((tutorial_net.predict(x) > 0.5) == (y > 0.5))
    assert accuracy == expected


def test_gradcheck(blobs):
    x, y, _ = blobs
    for acts in (["tanh", "softmax"], ["sigmoid", "sigmoid"],
                 ["leaky_relu", "identity"]):
        net = libnn.Network([4, 5, 3], acts, seed=3)
        err = net.gradcheck(x[:8], y[:8])
        assert 0 <= err < 1e-2
        net.step()  # gradcheck leaves backprop's gradients behind


def test_predict_from_threads_matches_serial(blobs):
    x, _, _ = blobs
    x = np.tile(x, (50, 1))                # 6000 samples
    net = libnn.Network([4, 64, 64, 3], ["relu", "relu", "softmax"], seed=9)
    serial = net.predict(x)
    chunks = np.array_split(np.arange(len(x)), 8)
    results = [None] * 24
    errors = []

    def work(i):
        try:
            for _ in range(3):
                rows = chunks[i % 8]
                results[i] = (rows, net.predict(x[rows]), net.predict(x))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for rows, part, whole in results:
        np.testing.assert_array_equal(whole, serial)
        np.testing.assert_allclose(part, serial[rows], rtol=1e-6, atol=1e-7)


def test_concurrent_training_is_serialised(blobs):
    """Two threads training one Network take turns (the Network's lock):
    the result is, bit for bit, that of the same calls one after the
    other, and predictions meanwhile see a whole network."""
    x, y, _ = blobs
    x, y = np.tile(x, (10, 1)), np.tile(y, (10, 1))  # long enough to overlap
    net = libnn.Network([4, 64, 3], ["relu", "softmax"], seed=5,
                        optimizer="adam", learning_rate=0.01, batch_size=8)
    serial = net.copy()
    errors = []

    def work(call):
        try:
            for _ in range(5):
                call()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(call,)) for call in (
        lambda: net.train(x, y, epochs=2, progress=False),
        lambda: net.train(x, y, epochs=2, progress=False),
        lambda: net.predict(x),
        lambda: net.backprop(x[:8], y[:8]) and net.grads.sum())]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for _ in range(10):
        serial.train(x, y, epochs=2, progress=False)
    assert net.epochs_done == serial.epochs_done == 20
    # backprop leaves the weights alone, so the order of the calls does
    # not matter: each train() started from whole weights
    np.testing.assert_array_equal(net.params, serial.params)


def test_out_of_range_integers_are_refused(xor):
    x, y = xor
    for sizes in ([2, 2 ** 64 + 4, 1], [2 ** 64, 1]):
        with pytest.raises(OverflowError):
            libnn.Network(sizes, ["relu", "sigmoid"][-len(sizes) + 1:])
    net = libnn.Network([2, 3, 1], ["relu", "sigmoid"])
    before = net.params.copy()
    with pytest.raises(OverflowError):
        net.train(x, y, epochs=2 ** 64 + 1, progress=False)
    with pytest.raises(OverflowError):
        net.fit(x, y, epochs=2 ** 64)
    with pytest.raises(OverflowError):
        net.shuffle_order(2 ** 64 + 3)
    with pytest.raises(ValueError):
        net.shuffle_order(0)
    assert net.epochs_done == 0
    np.testing.assert_array_equal(net.params, before)


def test_nul_in_a_path_is_refused(tmp_path):
    net = libnn.Network([2, 1], ["identity"])
    for path in (str(tmp_path / "a\0b.nn"), bytes(tmp_path / "a\0b.nn")):
        with pytest.raises(ValueError, match="null byte"):
            net.save(path)
        with pytest.raises(ValueError, match="null byte"):
            libnn.Network.load(path)
    assert list(tmp_path.iterdir()) == []


def test_failures_in_threads_report_their_own_detail(tutorial_net):
    """Const functions record failures in the calling thread's slot."""
    good = np.zeros((2, 2), np.float32)
    bad = np.full((2, 2), np.nan, np.float32)
    messages = {}

    def work(name, data):
        try:
            tutorial_net.predict(data)
            messages[name] = None
        except libnn.NNError as exc:
            messages[name] = str(exc)
    threads = [threading.Thread(target=work, args=(i, bad if i % 2 else
                                                    good))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(8):
        if i % 2:
            assert "NaN" in messages[i] or "nan" in messages[i].lower()
        else:
            assert messages[i] is None


# --- persistence ----------------------------------------------------------

def test_save_and_load(tmp_path, blobs):
    x, y, _ = blobs
    net = libnn.Network([4, 6, 3], ["relu", "softmax"], seed=4,
                        optimizer="adam", batch_size=8)
    net.train(x, y, epochs=2, progress=False)
    path = tmp_path / "model.nn"
    net.save(path)           # a pathlib.Path
    net.save(str(path))      # or a str
    loaded = libnn.Network.load(path)
    assert loaded.sizes == net.sizes and loaded.settings == net.settings
    assert loaded.activations == ("relu", "softmax")
    np.testing.assert_array_equal(loaded.params, net.params)
    # training resumes exactly as if it had not stopped
    net.train(x, y, epochs=2, progress=False)
    loaded.train(x, y, epochs=2, progress=False)
    np.testing.assert_array_equal(loaded.params, net.params)


def test_load_errors(tmp_path):
    with pytest.raises(libnn.NNIOError) as info:
        libnn.Network.load(tmp_path / "missing.nn")
    assert isinstance(info.value, OSError)
    assert "missing.nn" in str(info.value)
    empty = tmp_path / "empty.nn"
    empty.write_bytes(b"")
    with pytest.raises(libnn.NNFormatError):
        libnn.Network.load(empty)
    with pytest.raises(libnn.NNIOError):
        libnn.Network([2, 1], ["identity"]).save(tmp_path / "no" / "dir.nn")


def test_to_bytes_from_bytes(blobs):
    x, _, _ = blobs
    net = libnn.Network([4, 5, 3], ["relu", "softmax"], seed=6)
    data = net.to_bytes()
    assert isinstance(data, bytes) and len(data) > 4 * net.param_count
    for given in (data, bytearray(data), memoryview(data)):
        again = libnn.Network.from_bytes(given)
        np.testing.assert_array_equal(again.predict(x), net.predict(x))
    for corrupt in (b"", b"garbage", data[:-1], data[:20], data + b"x",
                    data[:30] + bytes([data[30] ^ 0xFF]) + data[31:]):
        with pytest.raises(libnn.NNFormatError) as info:
            libnn.Network.from_bytes(corrupt)
        assert isinstance(info.value, ValueError)
        assert info.value.function == "nn_load_buffer" and info.value.detail


def test_save_buffer_too_small_is_a_shape_error():
    """The one ESHAPE the Python layer cannot provoke: called directly."""
    import ctypes
    net = libnn.Network([2, 1], ["identity"])
    length = ctypes.c_size_t()
    buf = ctypes.create_string_buffer(8)
    with pytest.raises(libnn.NNShapeError) as info:
        _lib.nn_save_buffer(net._ptr, buf, 8, ctypes.byref(length))
    assert isinstance(info.value, ValueError)
    assert length.value == len(net.to_bytes())


def test_pickle(blobs):
    x, y, _ = blobs
    net = libnn.Network([4, 5, 3], ["relu", "softmax"], seed=6,
                        learning_rate=0.3)
    net.train(x, y, progress=False)
    again = pickle.loads(pickle.dumps(net))
    assert again.learning_rate == 0.3
    assert again.activations == ("relu", "softmax")
    assert libnn.Network.from_bytes(net.to_bytes()).activations == \
        ("relu", "softmax")
    assert net.copy().activations == ("relu", "softmax")
    np.testing.assert_array_equal(again.predict(x), net.predict(x))
    assert not np.shares_memory(again.params, net.params)


def test_threads_setting_is_process_wide_and_validated():
    net = libnn.Network([2, 3, 1], ["tanh", "sigmoid"], seed=1)
    other = libnn.Network([2, 3, 1], ["tanh", "sigmoid"], seed=2)
    before = net.threads
    try:
        net.threads = 1
        assert net.threads == 1 and other.threads == 1
        with pytest.raises(libnn.NNValueError):
            net.threads = -1
        with pytest.raises(libnn.NNValueError):
            net.threads = 1.5
        assert net.threads == 1
        assert "threads" not in net.settings
    finally:
        net.threads = before


def test_shuffle_order_is_the_training_permutation():
    a = libnn.Network([2, 3, 1], ["tanh", "identity"], seed=5)
    b = libnn.Network([2, 3, 1], ["tanh", "identity"], seed=5)
    first = a.shuffle_order(40)
    assert sorted(first.tolist()) == list(range(40))
    x = np.random.default_rng(0).normal(size=(40, 2))
    y = np.random.default_rng(1).normal(size=(40, 1))
    b.train(x, y, epochs=1)  # one epoch draws one permutation
    assert np.array_equal(a.shuffle_order(40), b.shuffle_order(40))
    with pytest.raises(ValueError):
        a.shuffle_order(0)


def _train_by_hand(net, x, y, epochs):
    """train() written out with the epoch hooks: the same order, steps,
    metrics (training accuracy from backprop's own outputs)."""
    batch = net.settings["batch_size"]
    net.clear_history()
    for _ in range(epochs):
        net.epoch_begin()
        order = net.shuffle_order(len(x))
        loss_sum = correct = 0.0
        for start in range(0, len(x), batch):
            rows = order[start:start + batch]
            loss_sum += net.backprop(x[rows], y[rows]) * len(rows)
            correct += np.sum(net.outputs.argmax(1) == y[rows].argmax(1))
            net.step()
        net.epoch_end(loss_sum / len(x), correct / len(x))


def test_epoch_hooks_reproduce_train():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(70, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 70)]
    kw = dict(seed=4, optimizer="momentum", learning_rate=0.2, batch_size=16,
              schedule="step", step_size=2, gamma=0.5)
    a = libnn.Network([4, 6, 3], ["tanh", "softmax"], **kw)
    b = libnn.Network([4, 6, 3], ["tanh", "softmax"], **kw)
    a.train(x, y, epochs=5)
    _train_by_hand(b, x, y, 5)
    assert np.array_equal(a.params, b.params)
    ha, hb = a.history(), b.history()
    for name in ha:
        np.testing.assert_array_equal(ha[name], hb[name])
    np.testing.assert_allclose(hb["learning_rate"],
                               [0.2, 0.2, 0.1, 0.1, 0.05])


def test_epoch_hooks_stop_early_and_keep_the_best_weights():
    """Patience 2; by the rule, a val_loss below every earlier one keeps
    the weights, any other (an equal one too) counts an epoch, NaN counts
    nothing."""
    net = libnn.Network([2, 2], ["identity"], seed=1, early_stopping=2)
    net.clear_history()
    val = [3, 2, 2.5, 2, 1, float("nan"), 4, 5]
    stops = []
    for epoch, loss in enumerate(val):
        net.params[:] = epoch + 1  # each epoch's weights told apart
        net.epoch_begin()
        net.epoch_end(1.0, val_loss=loss)
        stops.append(net.should_stop())
    assert stops == [False, False, False, True, False, False, False, True]
    net.restore_best_weights()
    assert np.all(net.params == 5)  # epoch 4's, val_loss 1
    net.clear_history()
    net.params[:] = 9
    net.restore_best_weights()  # a new run: nothing kept
    assert np.all(net.params == 9) and not net.should_stop()


def test_epoch_end_and_outputs_reject_bad_input():
    net = libnn.Network([2, 2], ["identity"], seed=1)
    assert net.outputs is None  # no forward pass yet
    with pytest.raises(libnn.NNNumericError):
        net.epoch_end(float("nan"))
    with pytest.raises(libnn.NNNumericError):
        net.epoch_end(1.0, float("inf"))
    assert len(net.history()["train_loss"]) == 0
    net.epoch_end(0.5, val_loss=0.25)
    h = net.history()
    assert h["train_loss"].tolist() == [0.5] and h["val_loss"][0] == 0.25
    assert np.isnan(h["train_accuracy"][0])
    y_hat = net.forward(np.ones((3, 2), np.float32))
    assert np.array_equal(net.outputs, y_hat)
    with pytest.raises(ValueError):
        net.outputs[0, 0] = 1.0  # a copy, and read-only


# --- what a network knows about its data ---------------------------------

def test_names_task_and_their_errors(tmp_path):
    net = libnn.Network([2, 4, 3], ["relu", "softmax"], seed=1)
    assert (net.classes, net.feature_names, net.label_name, net.task) == \
        ([], [], None, "classify")
    net.classes = ["b", "a", 3]
    net.feature_names = ["x, cm", "y"]
    net.label_name = "kind"
    net.task = "classify"
    for copy_ in (libnn.Network.from_bytes(net.to_bytes()), net.copy(),
                  pickle.loads(pickle.dumps(net))):
        assert copy_.classes == ["b", "a", "3"]
        assert copy_.feature_names == ["x, cm", "y"]
        assert copy_.label_name == "kind"
    with pytest.raises(libnn.NNValueError, match="both 'a'"):
        net.classes = ["a", "b", "a"]
    with pytest.raises(libnn.NNShapeError):
        net.classes = ["a", "b"]
    with pytest.raises(libnn.NNShapeError):
        net.feature_names = ["x"]
    with pytest.raises(TypeError):
        net.classes = "abc"
    with pytest.raises(libnn.NNValueError):
        net.task = "cluster"
    assert net.classes == ["b", "a", "3"]  # unchanged by the failures
    net.classes = None
    net.label_name = None
    assert (net.classes, net.label_name) == ([], None)
    reg = libnn.Network([2, 1], ["identity"])
    assert reg.task == "regress"
    reg.loss = "mse"
    sig = libnn.Network([2, 1], ["sigmoid"], loss="binary_cross_entropy")
    assert sig.task == "classify"
    sig.classes = ["no", "yes"]


def test_integer_class_labels_train_as_one_hot():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((90, 2)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    onehot = np.eye(3, dtype=np.float32)[labels]
    for out in ("softmax", "sigmoid"):
        kw = {} if out == "softmax" else {"loss": "binary_cross_entropy"}
        a = libnn.Network([2, 5, 3], ["tanh", out], seed=4,
                          learning_rate=0.1, **kw)
        b = a.copy()
        la = a.train(x, labels, epochs=3, progress=False)
        lb = b.train(x, onehot, epochs=3, progress=False)
        np.testing.assert_array_equal(la, lb)
        np.testing.assert_array_equal(a.params, b.params)
        a.fit(x, labels.astype(np.int32), validation_data=(x, labels),
              progress=False)
    with pytest.raises(libnn.NNValueError, match="class 3"):
        a.train(x, labels + 1, progress=False)
    with pytest.raises(libnn.NNValueError, match="class -1"):
        a.train(x, labels - 1, progress=False)


def test_progress_bar_shows_mean_loss_rate_and_eta(monkeypatch):
    from libnn import network
    stream = io.StringIO()
    bar = network._ProgressBar(stream, epochs=2, n_samples=300)
    for epoch in range(2):
        for step, cost in enumerate((3.0, 2.0, 1.0)):
            bar(epoch, step, 3, cost)
    bar.close()
    last = stream.getvalue().split("\r")[-1]
    assert last.startswith("epoch 2/2 [") and "loss 2 " in last, last
    assert " samples/s ETA 0:00" in last, last
    # train(progress=True) draws it (tqdm's when importable)
    monkeypatch.setitem(__import__("sys").modules, "tqdm", None)
    x = np.zeros((8, 2), np.float32)
    net = libnn.Network([2, 1], ["identity"])
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    net.train(x, np.zeros(8, np.float32), epochs=2, progress=True)
    assert "epoch 2/2 [" in err.getvalue() and "ETA" in err.getvalue()


def test_progress_bar_uses_tqdm_when_installed(monkeypatch):
    tqdm = pytest.importorskip("tqdm")
    assert tqdm
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    net = libnn.Network([2, 1], ["identity"])
    net.train(np.zeros((8, 2), np.float32), np.zeros(8, np.float32),
              epochs=2, progress=True)
    text = err.getvalue()
    assert "epoch 2/2 loss" in text and "step" in text, text
