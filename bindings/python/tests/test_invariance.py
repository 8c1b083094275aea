# SPDX-License-Identifier: MIT
"""Batch invariance through the bindings: a sample's predict,
predict_proba and decision_function are the same bits alone, in any
subset and at any position (nn.h, "Batch invariance"), for any weights.
scikit-learn's own check_methods_subset_invariance runs for both
estimators under several seeds, i.e. several sets of weights.
"""

import numpy as np
import pytest

import libnn


def _rows(seed, n=97, d=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32) * 3


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_network_predict_alone_and_in_subsets(seed):
    x = _rows(seed)
    net = libnn.Network([6, 23, 17, 4], ["tanh", "relu", "softmax"],
                        seed=seed)
    whole = net.predict(x)
    for i in range(len(x)):
        np.testing.assert_array_equal(net.predict(x[i:i + 1]), whole[i:i + 1])
    rng = np.random.default_rng(seed + 100)
    for size in (2, 5, 16, 33):
        idx = np.sort(rng.choice(len(x), size, replace=False))
        np.testing.assert_array_equal(net.predict(x[idx]), whole[idx])
        # at another position: reversed order
        np.testing.assert_array_equal(net.predict(x[idx[::-1]]),
                                      whole[idx[::-1]])


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5, 6, 7])
def test_sklearn_subset_invariance(seed):
    pytest.importorskip("sklearn")
    from sklearn.utils.estimator_checks import (
        check_methods_subset_invariance)
    for est in (libnn.MLPClassifier(random_state=seed, max_iter=20),
                libnn.MLPRegressor(random_state=seed, max_iter=20)):
        check_methods_subset_invariance(type(est).__name__, est)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_estimator_methods_alone(seed):
    pytest.importorskip("sklearn")
    x = _rows(seed, n=60)
    labels = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)
    clf = libnn.MLPClassifier(hidden_layer_sizes=(31,), random_state=seed,
                              max_iter=30).fit(x, labels)
    reg = libnn.MLPRegressor(hidden_layer_sizes=(19, 9), random_state=seed,
                             max_iter=30).fit(x, x[:, 0] * 2 - x[:, 3])
    methods = [clf.predict, clf.predict_proba, reg.predict]
    if hasattr(clf, "decision_function"):
        methods.append(clf.decision_function)
    for method in methods:
        whole = method(x)
        for i in range(len(x)):
            np.testing.assert_array_equal(method(x[i:i + 1]), whole[i:i + 1])
