#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Code size and batch-1 latency of `nnet export --c` against nn_predict,
# for the tutorial network (2-3-1, sigmoid, no bias) and the Fashion-MNIST
# demo's 784-256-128-10 (ReLU, ReLU, softmax), quoted in docs/interop.md.
#
#   bench/export_c.sh BUILD_DIR        (ninja -C build bench-export-c)
#
# Size: `size` of the generated object (text = code + const weights, as
# a linker places .rodata there; data and bss are 0), compiled with
# -O2 and with -Os. Latency: bench/export_c_time.c, median of 7 runs, the
# generated code built with -O2, then with -O2 -march=native.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cc=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LD_LIBRARY_PATH=$build/lib OPENBLAS_NUM_THREADS=1  # one core, as firmware has
cd "$work"

/usr/bin/python3 - "$build" <<'PY'
import os, sys
os.environ.setdefault("NN_LIBRARY", sys.argv[1] + "/lib/libnn.so.0")
sys.path.insert(0, os.environ.get("BENCH_BINDINGS", ""))
import libnn
libnn.Network([2, 3, 1], ["sigmoid", "sigmoid"], bias=False,
              seed=42).save("tutorial.nn")
libnn.Network([784, 256, 128, 10], ["relu", "relu", "softmax"],
              seed=42).save("fashion.nn")
PY

for model in tutorial fashion; do
    "$build/tools/nnet" export "$model.nn" --c net.c --name net
    params=$("$build/tools/nnet" info "$model.nn" | awk '$1 == "parameters" { print $2 }')
    for opt in -O2 -Os; do
        "$cc" -std=c99 "$opt" -c net.c -o net.o
        read -r text data bss _ < <(size net.o | tail -1)
        echo "$model $opt: object text ${text} B = weights $((4 * params)) B" \
             "+ code $((text - 4 * params)) B (data ${data} B, bss ${bss} B)"
    done
    # -O2 for the baseline ISA (what a firmware build has), and for this
    # CPU's vector units, as libnn's own clones use them
    for flags in "-O2" "-O2 -march=native"; do
        # shellcheck disable=SC2086 # flags are words
        "$cc" $flags -I"$src/../include" -I. "$src/export_c_time.c" net.c \
            -L"$build/lib" -lnn -lm -o time
        echo "$model $flags: $(./time "$model.nn")"
    done
done
