#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scikit-learn peer of bench/bench.c (optional: nn_bench --sklearn).

usage: peer_sklearn.py DATA_FILE

MLPClassifier(256, 128), ReLU, softmax + log-loss, no L2 penalty; one
partial_fit call is one epoch of shuffled minibatches. scikit-learn trains
in float64 (it converts the float32 data), which is part of its cost.
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

try:
    import numpy as np
    from sklearn.neural_network import MLPClassifier
except ImportError:
    peer_common.serve({})
    sys.exit(0)


def main():
    x, labels, n_out = peer_common.load_data(sys.argv[1])
    classes = np.arange(n_out)
    models = {}
    warnings.filterwarnings("ignore")

    def make(opt, batch):
        if opt == "adam":
            return MLPClassifier((256, 128), solver="adam", alpha=0.0,
                                 batch_size=batch, learning_rate_init=1e-3,
                                 random_state=1)
        return MLPClassifier((256, 128), solver="sgd", alpha=0.0,
                             batch_size=batch, learning_rate_init=1e-2,
                             momentum=0.9, nesterovs_momentum=False,
                             random_state=1)

    def train(opt, batch, n):
        batch, n = int(batch), int(n)
        key = (opt, batch)
        if key not in models:
            models[key] = make(opt, batch)
        model = models[key]
        return peer_common.timed(model.partial_fit, x[:n], labels[:n],
                                 classes)

    def predict(batch, n):
        batch, n = int(batch), int(n)
        if "predict" not in models:
            m = make("sgd", 64)
            m.partial_fit(x[:256], labels[:256], classes)
            models["predict"] = m
        model = models["predict"]

        def run():
            for s in range(0, n - batch + 1, batch):
                model.predict_proba(x[s:s + batch])
        return peer_common.timed(run)

    peer_common.serve({"train": train, "predict": predict})


if __name__ == "__main__":
    main()
