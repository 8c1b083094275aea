# SPDX-License-Identifier: MIT
"""Shared by the 'onnx' suite: networks with random weights, the nnet
tool, and the tolerance of float32 outputs."""
import os
import subprocess

import numpy as np
import pytest

import libnn

ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu",
               "softmax"]


def random_net(sizes, acts, bias=True, transform=False, seed=0):
    """A network whose parameters (and transform) are drawn at random, so
    that every unit is exercised (not libnn's initialisation)."""
    net = libnn.Network(sizes, acts, bias=bias, seed=seed)
    rng = np.random.default_rng(seed)
    params = net.params
    params[:] = rng.normal(0, 0.8, size=params.shape).astype(np.float32)
    if transform:
        n = sizes[0]
        net.input_transform = (rng.normal(0, 2, n).astype(np.float32),
                               rng.uniform(0.2, 3, n).astype(np.float32))
    return net


def inputs(n, k, seed=1):
    return np.random.default_rng(seed).normal(0, 2, (n, k)).astype(np.float32)


def rel_error(got, want):
    """Largest difference relative to the outputs' scale (at least 1)."""
    scale = max(1.0, float(np.abs(want).max()))
    return float(np.abs(np.asarray(got, np.float64) - want).max()) / scale


def nnet(*args):
    """Runs the tool; returns (exit status, stdout, stderr)."""
    proc = subprocess.run([os.environ["NNET"], *map(str, args)],
                          capture_output=True, text=True, timeout=120,
                          check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def tmp(tmp_path):
    return tmp_path
