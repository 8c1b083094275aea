# SPDX-License-Identifier: MIT
"""Gradient and optimizer parity with PyTorch, through the bindings."""

import numpy as np
import pytest

import libnn

torch = pytest.importorskip("torch")
F = torch.nn.functional

ACT = {
    "identity": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
}

ARCHITECTURES = [
    # sizes, activations, bias, loss
    ([2, 3, 1], ["sigmoid", "sigmoid"], False, "mse"),
    ([3, 5, 2], ["tanh", "identity"], True, "mse"),
    ([4, 6, 5, 3], ["relu", "sigmoid", "softmax"], True, "cross_entropy"),
    ([3, 4, 2], ["leaky_relu", "sigmoid"], False, "binary_cross_entropy"),
    ([5, 8, 8, 8, 4], ["tanh", "relu", "leaky_relu", "softmax"], True,
     "cross_entropy"),
]


def _data(sizes, loss, batch=7, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(batch, sizes[0]).astype(np.float32)
    if loss == "cross_entropy":
        y = np.eye(sizes[-1], dtype=np.float32)[rng.randint(0, sizes[-1],
                                                            batch)]
    elif loss == "binary_cross_entropy":
        y = (rng.rand(batch, sizes[-1]) > 0.5).astype(np.float32)
    else:
        y = rng.randn(batch, sizes[-1]).astype(np.float32)
    return x, y


def _torch_loss(net, acts, loss, x, y):
    """The network's loss in float64 torch, from its current parameters;
    returns (loss, [leaf tensors in the libnn parameter order])."""
    leaves = []
    a = torch.tensor(x, dtype=torch.float64)
    for layer, name in enumerate(acts):
        w = torch.tensor(net.weights(layer), dtype=torch.float64,
                         requires_grad=True)
        leaves.append(w)
        z = a @ w
        bias = net.bias(layer)
        if bias is not None:
            b = torch.tensor(bias, dtype=torch.float64, requires_grad=True)
            leaves.append(b)
            z = z + b
        a = z if name == "softmax" or layer == len(acts) - 1 else \
            ACT[name](z)
    target = torch.tensor(y, dtype=torch.float64)
    last = acts[-1]
    if loss == "cross_entropy":
        value = -(target * F.log_softmax(a, dim=1)).sum(1).mean()
    elif loss == "binary_cross_entropy":
        value = F.binary_cross_entropy_with_logits(
            a, target, reduction="none").sum(1).mean()
    else:
        value = 0.5 * ((ACT[last](a) - target) ** 2).sum(1).mean()
    return value, leaves


@pytest.mark.parametrize("sizes,acts,bias,loss", ARCHITECTURES)
def test_gradients_match_pytorch(sizes, acts, bias, loss):
    net = libnn.Network(sizes, acts, bias=bias, seed=11, loss=loss)
    x, y = _data(sizes, loss)
    cost = net.backprop(x, y)
    value, leaves = _torch_loss(net, acts, loss, x, y)
    value.backward()
    assert cost == pytest.approx(value.item(), rel=1e-5, abs=1e-6)
    expected = np.concatenate([t.grad.numpy().ravel() for t in leaves])
    np.testing.assert_allclose(net.grads, expected, rtol=1e-4, atol=1e-6)
    assert net.cost(x, y) == pytest.approx(value.item(), rel=1e-5, abs=1e-6)


OPTIMIZERS = [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.01)),
    ("momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8,
                                           weight_decay=0.01)),
    ("nesterov", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8,
                                           nesterov=True, weight_decay=0.01)),
    ("adam", lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.85, 0.995),
                                        eps=1e-7, weight_decay=0.01)),
    ("adamw", lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.85, 0.995),
                                          eps=1e-7, weight_decay=0.01)),
    ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.95,
                                              eps=1e-7, weight_decay=0.01)),
]


@pytest.mark.parametrize("name,make", OPTIMIZERS)
def test_optimizer_steps_match_torch_optim(name, make):
    lr = 0.1 if name in ("sgd", "momentum", "nesterov") else 0.01
    net = libnn.Network([4, 6, 3], ["tanh", "softmax"], seed=3,
                        optimizer=name, learning_rate=lr, momentum=0.8,
                        beta1=0.85, beta2=0.995, epsilon=1e-7,
                        weight_decay=0.01, rmsprop_alpha=0.95)
    x, y = _data([4, 6, 3], "cross_entropy", batch=9)
    theta = torch.tensor(net.params.copy(), requires_grad=True)
    optimizer = make([theta])
    for _ in range(5):
        net.backprop(x, y)
        theta.grad = torch.tensor(net.grads.copy())
        net.step()
        optimizer.step()
        np.testing.assert_allclose(net.params, theta.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
