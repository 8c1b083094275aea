#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Install the build into a scratch DESTDIR and build examples/mpi_train.c
# with nothing but `pkg-config --cflags --libs nn_mpi`: nn_mpi.pc must bring
# libnn and MPI along (Requires: nn, <the MPI package>).
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
pc=$(find "$dest" -name nn_mpi.pc -print -quit)
lib=$(find "$dest" -name 'libnn_mpi.so.[0-9]' -print -quit)
if [[ -z $pc || -z $lib || ! -f $(dirname "$pc")/nn.pc ]]; then
    echo "FAIL: install put no nn_mpi.pc, nn.pc or libnn_mpi.so.N in $dest"
    echo "0 passed, 1 failed"
    exit 1
fi
cat "$pc"

# Point our two .pc files into DESTDIR; MPI's own stays where it is (a
# sysroot would move it too).
mkdir "$tmp/pc"
for f in nn nn_mpi; do
    sed "s|^prefix=|prefix=$dest|" "$(dirname "$pc")/$f.pc" >"$tmp/pc/$f.pc"
done
export PKG_CONFIG_PATH=$tmp/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
read -r -a flags <<<"$(pkg-config --cflags --libs nn_mpi)"
echo "pkg-config --cflags --libs nn_mpi: ${flags[*]}"
"${cc[@]}" -std=c11 -Wall -Wextra -Werror -o "$tmp/mpi_train" "$src" \
    "${flags[@]}" -lm

export LD_LIBRARY_PATH=$(dirname "$lib")
resolved=$(ldd "$tmp/mpi_train" |
           sed -n 's/.*libnn_mpi\.so\.[0-9]* => \([^ ]*\).*/\1/p')
if [[ $resolved != "$dest"/* ]]; then
    echo "FAIL: the consumer loads '$resolved', not the installed library"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "libnn_mpi resolves to $resolved"
echo "1 passed, 0 failed"
