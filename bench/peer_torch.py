#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch peer of bench/bench.c: the same workloads as libnn, driven over
stdin/stdout (protocol in peer_common.py).

usage: peer_torch.py DATA_FILE THREADS

bench.c starts one process per thread setting with OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set to THREADS; the script also
calls torch.set_num_threads(THREADS). The models are the idiomatic ones:
nn.Sequential of Linear/ReLU layers, CrossEntropyLoss on the logits
(softmax fused into the loss), torch.optim.SGD(momentum=0.9) / Adam,
zero_grad(set_to_none=True), minibatches gathered by a fresh randperm each
epoch, as a DataLoader-free training loop would.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

try:
    import torch
except ImportError:  # no torch: answer "na" to everything
    peer_common.serve({})
    sys.exit(0)


def main():
    path, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x, labels, n_out = peer_common.load_data(path)
    X = torch.from_numpy(x)
    Y = torch.from_numpy(labels)
    n_in = X.shape[1]
    models = {}

    def mlp():
        return torch.nn.Sequential(
            torch.nn.Linear(n_in, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, n_out))

    def train(opt, batch, n):
        batch, n = int(batch), int(n)
        key = (opt, batch)
        if key not in models:
            model = mlp()
            if opt == "adam":
                optim = torch.optim.Adam(model.parameters(), lr=1e-3)
            else:
                optim = torch.optim.SGD(model.parameters(), lr=1e-2,
                                        momentum=0.9)
            models[key] = (model, optim)
        model, optim = models[key]
        loss_fn = torch.nn.CrossEntropyLoss()

        def epoch():
            perm = torch.randperm(n)
            for s in range(0, n, batch):
                idx = perm[s:s + batch]
                optim.zero_grad(set_to_none=True)
                loss = loss_fn(model(X[idx]), Y[idx])
                loss.backward()
                optim.step()
        return peer_common.timed(epoch)

    def predict(batch, n):
        batch, n = int(batch), int(n)
        if "predict" not in models:
            models["predict"] = mlp().eval()
        model = models["predict"]

        def run():
            with torch.inference_mode():
                for s in range(0, n - batch + 1, batch):
                    torch.softmax(model(X[s:s + batch]), dim=1)
        return peer_common.timed(run)

    def tutorial(steps):
        steps = int(steps)
        tx = torch.from_numpy(peer_common.TUTORIAL_X)
        ty = torch.from_numpy(peer_common.TUTORIAL_Y)
        w1 = torch.tensor(peer_common.TUTORIAL_W1, requires_grad=True)
        w2 = torch.tensor(peer_common.TUTORIAL_W2, requires_grad=True)
        optim = torch.optim.SGD([w1, w2], lr=0.5)

        def run():
            for _ in range(steps):
                optim.zero_grad(set_to_none=True)
                y_hat = torch.sigmoid(torch.sigmoid(tx @ w1) @ w2)
                loss = 0.5 * ((y_hat - ty) ** 2).sum() / tx.shape[0]
                loss.backward()
                optim.step()
        return peer_common.timed(run)

    peer_common.serve({"train": train, "predict": predict,
                       "tutorial": tutorial})


if __name__ == "__main__":
    main()
