#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Install the build into a scratch DESTDIR, build tests/onnx/consumer.c with
# nothing but `pkg-config --cflags --libs nn_onnx` (nn_onnx.pc must bring
# libnn along: Requires: nn), and run it against the installed libraries.
#
# usage: check-consumer.sh BUILD_DIR EXAMPLE_C
# env:   CC (default cc)
set -euo pipefail

build=$(realpath "$1") src=$(realpath "$2")
read -r -a cc <<<"${CC:-cc}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet
pc=$(find "$dest" -name nn_onnx.pc -print -quit)
lib=$(find "$dest" -name 'libnn_onnx.so.[0-9]' -print -quit)
if [[ -z $pc || -z $lib || ! -f $(dirname "$pc")/nn.pc ]]; then
    echo "FAIL: install put no nn_onnx.pc, nn.pc or libnn_onnx.so.N in $dest"
    echo "0 passed, 1 failed"
    exit 1
fi
cat "$pc"

# Point our two .pc files into DESTDIR; protobuf-c's stays where it is.
mkdir "$tmp/pc"
for f in nn nn_onnx; do
    sed "s|^prefix=|prefix=$dest|" "$(dirname "$pc")/$f.pc" >"$tmp/pc/$f.pc"
done
export PKG_CONFIG_PATH=$tmp/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
read -r -a flags <<<"$(pkg-config --cflags --libs nn_onnx)"
echo "pkg-config --cflags --libs nn_onnx: ${flags[*]}"
"${cc[@]}" -std=c11 -Wall -Wextra -Werror -o "$tmp/consumer" "$src" \
    "${flags[@]}" -lm

export LD_LIBRARY_PATH=$(dirname "$lib")
resolved=$(ldd "$tmp/consumer" |
           sed -n 's/.*libnn_onnx\.so\.[0-9]* => \([^ ]*\).*/\1/p')
if [[ $resolved != "$dest"/* ]]; then
    echo "FAIL: the consumer loads '$resolved', not the installed library"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "libnn_onnx resolves to $resolved"
if ! "$tmp/consumer"; then
    echo "0 passed, 1 failed"
    exit 1
fi
echo "1 passed, 0 failed"
