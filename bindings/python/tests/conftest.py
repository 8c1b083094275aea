# SPDX-License-Identifier: MIT
"""Shared fixtures of the libnn Python test suite.

Run it with /usr/bin/python3 -m pytest bindings/python/tests, with
NN_LIBRARY pointing at the library to test (meson test does this); the
package itself is imported from this source tree.
"""

import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
if PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, PACKAGE_ROOT)

import libnn  # noqa: E402


@pytest.fixture
def xor():
    """The tutorial's data: XOR-like, 4 samples, 2 inputs, 1 output."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([[0], [1], [1], [0]], np.float32)
    return x, y


@pytest.fixture
def blobs():
    """A small 3-class problem, float32, one-hot targets."""
    rng = np.random.RandomState(0)
    centres = np.array([[2, 0, 0, 1], [0, 2, 0, -1], [0, 0, 2, 0]], float)
    labels = rng.randint(0, 3, size=120)
    x = (centres[labels] + 0.5 * rng.randn(120, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[labels]
    return x, y, labels


@pytest.fixture
def tutorial_net():
    return libnn.Network([2, 3, 1], ["sigmoid", "sigmoid"], bias=False,
                         seed=42, learning_rate=0.5)


def library_file():
    """The path of the library under test, or None if it was found by name
    only (subprocess tests need a file)."""
    path = libnn.library_path
    return os.path.realpath(path) if os.path.isfile(path) else None
