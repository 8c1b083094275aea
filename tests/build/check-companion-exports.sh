#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# A companion library (libnn_mpi, libnn_onnx) exports exactly the global
# symbols of its version script, each versioned @@NODE, all named PREFIX*,
# and every NN_API function of its header.
#
#   check-companion-exports.sh LIBRARY VERSION_SCRIPT HEADER PREFIX NODE
#   e.g. ... libnn_mpi.so mpi/libnn_mpi.map include/nn_mpi.h nn_mpi_ LIBNN_MPI_0
set -euo pipefail
lib=$1 map=$2 header=$3 prefix=$4 node=$5

exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort)
listed=$(sed -n "s/^ *\\(${prefix}[a-z_]*\\);\$/\\1/p" "$map" | sort)
declared=$(tr '\n' ' ' < "$header" | grep -o 'NN_API [^;(]*(' |
           sed "s/.*[ *]\\(${prefix}[a-z_]*\\)(\$/\\1/" | sort)

fail=0
want=$(sed "s/\$/@@$node/" <<<"$listed")
if [[ $exported != "$want" ]]; then
    echo "FAIL: exports differ from $map:"
    diff <(echo "$want") <(echo "$exported") || true
    fail=1
fi
if [[ $listed != "$declared" ]]; then
    echo "FAIL: $map differs from the NN_API functions of $header:"
    diff <(echo "$listed") <(echo "$declared") || true
    fail=1
fi
if nm -D --defined-only "$lib" | awk '$2 != "A"' | grep -v " $prefix"; then
    echo "FAIL: symbols outside $prefix* are exported"
    fail=1
fi
count=$(wc -l <<<"$listed")
if [[ $fail -eq 0 ]]; then
    echo "exports: $count symbols, all @@$node"
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
fi
exit "$fail"
