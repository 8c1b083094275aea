# SPDX-License-Identifier: MIT
"""What the Python peers of bench/bench.c share: the data file and the line
protocol.

bench -> peer, one command a line:
    hello                       answer once the data is loaded
    train <sgd|adam> <batch> <n>  one pass over n samples (shuffled minibatches)
    predict <batch> <n>         forward pass over n samples in calls of batch
    tutorial <steps>            steps of the tutorial's 2-3-1 network
    quit
peer -> bench: "ok <seconds>" (time measured inside the peer) or "na".
"""
import sys
import time

import numpy as np


def load_data(path):
    """x (n x n_in float32) and integer labels, as bench.c writes them."""
    n, n_in, n_out = (int(v) for v in np.fromfile(path, dtype=np.uint32,
                                                  count=3))
    x = np.fromfile(path, dtype=np.float32, count=n * n_in, offset=12)
    labels = np.fromfile(path, dtype=np.uint8, count=n,
                         offset=12 + 4 * n * n_in)
    return x.reshape(n, n_in), labels.astype(np.int64), n_out


# The tutorial's data and starting weights (docs/snippets/tutorial.h).
TUTORIAL_X = np.array([[0.3, 1.0], [0.5, 0.2], [1.0, 0.4]], dtype=np.float32)
TUTORIAL_Y = np.array([[0.75], [0.82], [0.93]], dtype=np.float32)
TUTORIAL_W1 = np.array([[0.5, -0.25, 1.0], [0.75, 0.1, -0.6]],
                       dtype=np.float32)
TUTORIAL_W2 = np.array([[0.3], [-1.2], [0.8]], dtype=np.float32)


def serve(handlers):
    """Answers bench.c's commands with handlers[verb](*args) -> seconds or
    None (not supported)."""
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] == "hello":
            print("ok 0", flush=True)
            continue
        fn = handlers.get(words[0])
        seconds = fn(*words[1:]) if fn else None
        print("na" if seconds is None else "ok %.9f" % seconds, flush=True)


def timed(fn, *args):
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0
