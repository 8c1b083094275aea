# SPDX-License-Identifier: MIT
"""PyTorch parity, through the bindings: the forward pass, costs, gradients,
optimizer steps, clipping, inference and the input transform of a
libnn.Network against PyTorch built from the same parameters.

The reference is float64 torch, so what it measures is libnn's own float32
rounding. It is not made of nn.Linear layers: it holds one leaf tensor per
libnn block, W_l (n_in x n_out, z = a W) and b_l, in libnn's order, so that
parameters and gradients compare element by element with Network.params and
Network.grads, and one torch.optim optimizer over that list is the
reference for Network.step.

Every case is derived from fixed seeds, so a failure names its test id and
reproduces exactly.
"""

import random

import numpy as np
import pytest

import libnn

torch = pytest.importorskip("torch")
F = torch.nn.functional

torch.set_num_threads(1)

# Tolerances in units of float32's rounding (EPS, 2^-23 relative): libnn
# computes in float32 what the reference computes in float64. A value is a
# few hundred roundings deep at most (dot products of up to 20 terms over up
# to four layers, exp and log, seven optimizer steps), so RTOL allows a
# thousand. Sums lose precision relative to their largest terms, so the
# absolute part scales with the reference's largest magnitude.
EPS = float(np.finfo(np.float32).eps)
RTOL = 1000 * EPS
ATOL = 100 * EPS


def assert_close(got, want, what, floor=1.0):
    """got == want within RTOL, plus ATOL times the reference's largest
    magnitude (not below ``floor``: gradients use 1e-2, so that small ones
    are still checked)."""
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    scale = max(floor, float(np.max(np.abs(want)))) if want.size else floor
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL * scale,
                               err_msg=what)


# ---------------------------------------------------------------------------
# The torch reference
# ---------------------------------------------------------------------------

def torch_activation(name, z):
    if name == "identity":
        return z
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return torch.relu(z)
    if name == "leaky_relu":
        return F.leaky_relu(z, 0.01)
    if name == "softmax":
        return torch.softmax(z, dim=1)
    raise ValueError(name)


class TorchNet:
    """Float64 leaf tensors in libnn's order: W_l (n_in x n_out), b_l."""

    def __init__(self, net):
        self.acts = net.activations
        self.tensors = []
        for layer in range(len(self.acts)):
            blocks = [net.weights(layer), net.bias(layer)]
            self.tensors += [torch.tensor(b, dtype=torch.float64,
                                          requires_grad=True)
                             for b in blocks if b is not None]
        self.per_layer = 2 if net.has_bias else 1
        transform = net.input_transform
        self.transform = None if transform is None else [
            torch.tensor(t, dtype=torch.float64) for t in transform]

    def forward(self, x):
        a, z = torch.tensor(x, dtype=torch.float64), None
        if self.transform is not None:
            shift, scale = self.transform
            a = (a - shift) * scale
        for layer, act in enumerate(self.acts):
            z = a @ self.tensors[self.per_layer * layer]
            if self.per_layer == 2:
                z = z + self.tensors[2 * layer + 1]
            a = torch_activation(act, z)
        return a, z

    def loss(self, x, y, loss):
        """(outputs, the loss as nn.h defines it) over a batch."""
        y_hat, logits = self.forward(x)
        y = torch.tensor(y, dtype=torch.float64)
        n = x.shape[0]
        if loss == "mse":
            j = F.mse_loss(y_hat, y, reduction="sum") / (2 * n)
        elif loss == "cross_entropy":
            j = -(y * F.log_softmax(logits, dim=1)).sum() / n
        elif loss == "binary_cross_entropy":
            j = F.binary_cross_entropy_with_logits(logits, y,
                                                   reduction="sum") / n
        else:
            raise ValueError(loss)
        return y_hat, j

    def flat(self, what="data"):
        return np.concatenate([getattr(t, what).detach().numpy().ravel()
                               for t in self.tensors])


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]
# "none": a single weight layer, the output layer alone.
DEPTHS = HIDDEN + ["none"]

# (last-layer activation, loss, kind of targets): every allowed pairing.
OUTPUTS = [
    ("identity", "mse", "real"),
    ("sigmoid", "mse", "unit"),
    ("tanh", "mse", "real"),
    ("relu", "mse", "real"),
    ("leaky_relu", "mse", "real"),
    ("softmax", "mse", "prob"),
    ("softmax", "cross_entropy", "prob"),
    ("softmax", "cross_entropy", "onehot"),
    ("sigmoid", "binary_cross_entropy", "unit"),
    ("sigmoid", "binary_cross_entropy", "binary"),
]

# Deeper networks mixing hidden activations, on fixed sizes:
# (sizes, activations, bias, loss, targets).
MIXED = [
    ([2, 3, 1], ["sigmoid", "sigmoid"], False, "mse", "unit"),
    ([3, 5, 2], ["tanh", "identity"], True, "mse", "real"),
    ([4, 6, 5, 3], ["relu", "sigmoid", "softmax"], True, "cross_entropy",
     "onehot"),
    ([3, 4, 2], ["leaky_relu", "sigmoid"], False, "binary_cross_entropy",
     "binary"),
    ([5, 8, 8, 8, 4], ["tanh", "relu", "leaky_relu", "softmax"], True,
     "cross_entropy", "onehot"),
]


def case_id(hidden, out, bias):
    last, loss, targets = out
    return f"{hidden}-{last}-{loss}-{targets}-{'bias' if bias else 'nobias'}"


def mixed_id(sizes, acts, bias, loss, targets):
    return "-".join(acts) + f"-{loss}-{targets}-" + \
        ("bias" if bias else "nobias")


def case_seed(text):
    # A stable seed from the case id (Python's hash() is salted per run).
    s = 1469598103934665603
    for ch in text.encode():
        s = ((s ^ ch) * 1099511628211) % (1 << 64)
    return s


def architecture(rng, hidden, last):
    depth = 1 if hidden == "none" else rng.randint(2, 4)  # weight layers
    sizes = [rng.randint(1, 20) for _ in range(depth + 1)]
    return sizes, [hidden] * (depth - 1) + [last]


def make_data(rng_np, sizes, kind, batch):
    x = rng_np.normal(0.0, 1.0, (batch, sizes[0])).astype(np.float32)
    k = sizes[-1]
    if kind == "real":
        y = rng_np.normal(0.0, 1.0, (batch, k))
    elif kind == "unit":
        y = rng_np.uniform(0.0, 1.0, (batch, k))
    elif kind == "binary":
        y = (rng_np.uniform(0.0, 1.0, (batch, k)) < 0.5).astype(np.float64)
    elif kind == "prob":
        e = rng_np.uniform(0.05, 1.0, (batch, k))
        y = e / e.sum(axis=1, keepdims=True)
    elif kind == "onehot":
        y = np.eye(k)[rng_np.integers(0, k, batch)]
    else:
        raise ValueError(kind)
    return x, np.ascontiguousarray(y, dtype=np.float32)


class Case:
    """A network and its data: random sizes for a hidden activation and an
    output pairing of the grids, or given ones (``mixed``, a MIXED row)."""

    def __init__(self, hidden, out, bias, salt="", mixed=None):
        self.id = case_id(hidden, out, bias) if mixed is None \
            else mixed_id(*mixed)
        seed = case_seed(salt + self.id)
        rng = random.Random(seed)
        if mixed is None:
            self.last, self.loss, self.kind = out
            self.sizes, self.acts = architecture(rng, hidden, self.last)
        else:
            self.sizes, self.acts, _, self.loss, self.kind = mixed
        self.bias = bias
        self.net_seed = seed % 1000003
        self.np_rng = np.random.default_rng(seed)
        self.batch = rng.randint(1, 33)

    def __repr__(self):
        return (f"sizes={self.sizes} acts={self.acts} bias={self.bias} "
                f"loss={self.loss} targets={self.kind}")

    def build(self, **settings):
        net = libnn.Network(self.sizes, self.acts, bias=self.bias,
                            seed=self.net_seed, loss=self.loss, **settings)
        # libnn starts biases at zero; random ones make them count in the
        # forward pass too. Written through the live views.
        for layer in range(len(self.acts)) if self.bias else ():
            b = net.bias(layer)
            b[:] = self.np_rng.normal(0.0, 0.5, b.shape)
        return net

    def data(self, batch=None):
        return make_data(self.np_rng, self.sizes, self.kind,
                         self.batch if batch is None else batch)


CASES = [(h, o, b) for h in DEPTHS for o in OUTPUTS for b in (True, False)]
CASE_IDS = [case_id(*c) for c in CASES]


# ---------------------------------------------------------------------------
# Forward, cost, gradients
# ---------------------------------------------------------------------------

def check_forward_cost_gradients(case):
    net = case.build()
    ref = TorchNet(net)
    x, y = case.data()

    y_hat, j = ref.loss(x, y, case.loss)
    j.backward()

    assert_close(net.forward(x), y_hat.detach().numpy(), f"forward {case}")
    assert_close(net.cost(x, y), j.item(), f"cost {case}")
    assert_close(net.backprop(x, y), j.item(), f"backprop's cost {case}")
    assert_close(net.grads, ref.flat("grad"), f"gradients {case}",
                 floor=1e-2)
    # The cost of the same batch again, after backprop, is the same.
    assert_close(net.cost(x, y), j.item(), f"cost after backprop {case}")


@pytest.mark.parametrize("hidden,out,bias", CASES, ids=CASE_IDS)
def test_forward_cost_gradients(hidden, out, bias):
    check_forward_cost_gradients(Case(hidden, out, bias))


@pytest.mark.parametrize("mixed", MIXED, ids=[mixed_id(*m) for m in MIXED])
def test_mixed_activations(mixed):
    check_forward_cost_gradients(Case(None, None, mixed[2], mixed=mixed))


# nn_gradcheck compares nn_backprop with finite differences computed in
# double. A ReLU or leaky ReLU pre-activation within h of zero crosses the
# kink under the perturbation, where a finite difference is no derivative
# (one leaky-ReLU output network had a logit at 0.0012 and showed 0.014 on a
# correct gradient), so the check runs on smooth networks only; the kinked
# ones are covered by the torch comparison above.
SMOOTH = ("identity", "sigmoid", "tanh", "softmax", "none")
GRADCHECK = [c for c in CASES if c[0] in SMOOTH and c[1][0] in SMOOTH]


@pytest.mark.parametrize("hidden,out,bias", GRADCHECK,
                         ids=[case_id(*c) for c in GRADCHECK])
def test_gradcheck(hidden, out, bias):
    case = Case(hidden, out, bias)
    net = case.build()
    x, y = case.data()
    before = net.params.copy()
    net.backprop(x, y)
    grads = net.grads.copy()
    err = net.gradcheck(x, y)
    assert err < 1e-2, f"gradcheck's largest relative error {err} for {case}"
    np.testing.assert_array_equal(net.params, before,
                                  err_msg=f"gradcheck changed {case}")
    np.testing.assert_array_equal(net.grads, grads,
                                  err_msg=f"stored gradients of {case}")


# ---------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------

# Non-default hyperparameters everywhere, so a default silently used instead
# of the setting shows.
LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.01,
      "adamw": 0.01, "rmsprop": 0.005}
HYPER = dict(momentum=0.8, betas=(0.85, 0.995), eps=1e-6, alpha=0.9)
STEPS = 7
REPEAT_AT = 3  # step called twice on the same gradients at this step


def torch_optimizer(name, tensors, wd):
    lr = LR[name]
    if name == "sgd":
        return torch.optim.SGD(tensors, lr=lr, weight_decay=wd)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(tensors, lr=lr, momentum=HYPER["momentum"],
                               dampening=0, nesterov=(name == "nesterov"),
                               weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(tensors, lr=lr, betas=HYPER["betas"],
                                eps=HYPER["eps"], weight_decay=wd,
                                amsgrad=False)
    if name == "adamw":
        return torch.optim.AdamW(tensors, lr=lr, betas=HYPER["betas"],
                                 eps=HYPER["eps"], weight_decay=wd,
                                 amsgrad=False)
    if name == "rmsprop":
        return torch.optim.RMSprop(tensors, lr=lr, alpha=HYPER["alpha"],
                                   eps=HYPER["eps"], weight_decay=wd,
                                   momentum=0, centered=False)
    raise ValueError(name)


def settings(name, wd):
    """The Network keywords of torch_optimizer(name, ..., wd)."""
    return dict(optimizer=name, learning_rate=LR[name],
                momentum=HYPER["momentum"], beta1=HYPER["betas"][0],
                beta2=HYPER["betas"][1], epsilon=HYPER["eps"],
                rmsprop_alpha=HYPER["alpha"], weight_decay=wd)


# Each optimizer x weight decay x bias runs on its own architecture, hidden
# activation and loss, cycling through the lists above (the optimizer's
# name salts the seed, so equal ids still get different networks).
OPT_CASES = []
for _i, (_opt, _wd, _bias) in enumerate(
        (o, wd, b) for o in libnn.OPTIMIZERS for wd in (0.0, 0.05)
        for b in (True, False)):
    OPT_CASES.append((_opt, _wd, HIDDEN[_i % len(HIDDEN)],
                      OUTPUTS[(7 * _i) % len(OUTPUTS)], _bias))
OPT_IDS = [f"{o}-wd{wd:g}-{case_id(h, out, b)}"
           for o, wd, h, out, b in OPT_CASES]


def test_every_optimizer_is_covered():
    assert sorted({c[0] for c in OPT_CASES}) == sorted(LR) == \
        sorted(libnn.OPTIMIZERS)


@pytest.mark.parametrize("opt,wd,hidden,out,bias", OPT_CASES, ids=OPT_IDS)
def test_optimizer_steps(opt, wd, hidden, out, bias):
    case = Case(hidden, out, bias, salt=opt)
    net = case.build(**settings(opt, wd))
    ref = TorchNet(net)
    optim = torch_optimizer(opt, ref.tensors, wd)
    what = f"{opt} wd={wd} {case}"

    for step in range(STEPS):
        # A fresh batch of a fresh size each step: the buffers grow and the
        # optimizer state must not care.
        x, y = case.data(case.np_rng.integers(1, 34))
        optim.zero_grad()
        _, j = ref.loss(x, y, case.loss)
        j.backward()
        assert_close(net.backprop(x, y), j.item(), f"step {step} cost {what}")
        assert_close(net.grads, ref.flat("grad"),
                     f"step {step} gradients {what}", floor=1e-2)
        for _ in range(2 if step == REPEAT_AT else 1):
            optim.step()
            net.step()
        assert_close(net.params, ref.flat(),
                     f"parameters after step {step} {what}")


# ---------------------------------------------------------------------------
# The training kit's deterministic parts: clipping, input transform
# ---------------------------------------------------------------------------

CLIP_CASES = [(o, OUTPUTS[(3 * i) % len(OUTPUTS)], HIDDEN[i % len(HIDDEN)])
              for i, o in enumerate(libnn.OPTIMIZERS)]


@pytest.mark.parametrize("opt,out,hidden", CLIP_CASES,
                         ids=[f"{o}-{case_id(h, out, True)}"
                              for o, out, h in CLIP_CASES])
def test_clip_norm_steps(opt, out, hidden):
    """clip_norm against torch.nn.utils.clip_grad_norm_ before each
    optimizer step; the clipped gradient stays in grads."""
    case = Case(hidden, out, True, salt="clip")
    net = case.build(**settings(opt, 0.01))
    ref = TorchNet(net)
    optim = torch_optimizer(opt, ref.tensors, 0.01)
    what = f"{opt} clipped {case}"
    clipped = 0
    for step in range(STEPS):
        x, y = case.data(case.np_rng.integers(1, 34))
        optim.zero_grad()
        _, j = ref.loss(x, y, case.loss)
        j.backward()
        net.backprop(x, y)
        # Half the current norm: clipping is active on every step.
        max_norm = 0.5 * float(np.linalg.norm(ref.flat("grad")))
        if max_norm == 0.0:
            continue
        net.clip_norm = max_norm
        torch.nn.utils.clip_grad_norm_(ref.tensors, max_norm)
        optim.step()
        net.step()
        clipped += 1
        assert_close(net.grads, ref.flat("grad"),
                     f"step {step} clipped gradients {what}", floor=1e-2)
        assert_close(net.params, ref.flat(),
                     f"parameters after step {step} {what}")
    assert clipped > 0, f"no step was clipped for {what}"


# predict and evaluate run in chunks of 256 rows on their own scratch; 600
# rows cross two chunk boundaries. With and without an input transform.
PREDICT_CASES = [(h, o, t) for h, o in zip(HIDDEN * 2, OUTPUTS)
                 for t in (False, True)]


@pytest.mark.parametrize("hidden,out,transform", PREDICT_CASES,
                         ids=[f"{case_id(h, o, True)}-"
                              f"{'transform' if t else 'plain'}"
                              for h, o, t in PREDICT_CASES])
def test_predict_evaluate_transform(hidden, out, transform):
    case = Case(hidden, out, True, salt="predict")
    net = case.build()
    x, y = case.data(600)
    if transform:
        shift = case.np_rng.normal(0, 3, case.sizes[0]).astype(np.float32)
        scale = case.np_rng.uniform(0.2, 2, case.sizes[0]).astype(np.float32)
        net.input_transform = (shift, scale)
        # raw data far from the transformed range
        x = np.ascontiguousarray(x / scale + shift, dtype=np.float32)
    ref = TorchNet(net)

    y_hat, j = ref.loss(x, y, case.loss)
    j.backward()
    want = y_hat.detach().numpy()
    what = f"{case} (transform {transform})"
    assert_close(net.predict(x), want, f"predict {what}")
    assert_close(net.forward(x), want, f"forward {what}")
    assert_close(net.evaluate(x, y)[0], j.item(), f"evaluate's cost {what}")
    assert_close(net.backprop(x, y), j.item(), f"backprop's cost {what}")
    assert_close(net.grads, ref.flat("grad"), f"gradients {what}",
                 floor=1e-2)
