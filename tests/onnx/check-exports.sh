#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# libnn_onnx exports exactly the global symbols of its version script, each
# versioned @@LIBNN_ONNX_0, all named nn_onnx_*, and every NN_API function of
# include/nn_onnx.h.
#
#   check-exports.sh LIBRARY VERSION_SCRIPT HEADER
set -euo pipefail
lib=$1 map=$2 header=$3

exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort)
listed=$(sed -n 's/^ *\(nn_onnx_[a-z_]*\);$/\1/p' "$map" | sort)
declared=$(tr '\n' ' ' < "$header" | grep -o 'NN_API [^;(]*(' |
           sed 's/.*[ *]\(nn_onnx_[a-z_]*\)($/\1/' | sort)

fail=0
want=$(sed 's/$/@@LIBNN_ONNX_0/' <<<"$listed")
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
if nm -D --defined-only "$lib" | awk '$2 != "A"' | grep -v ' nn_onnx_'; then
    echo "FAIL: symbols outside nn_onnx_* are exported"
    fail=1
fi
count=$(wc -l <<<"$listed")
if [[ $fail -eq 0 ]]; then
    echo "exports: $count symbols, all @@LIBNN_ONNX_0"
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
fi
exit "$fail"
