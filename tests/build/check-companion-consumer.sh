#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Install the build into a scratch DESTDIR and build a program of a companion
# library (libnn_mpi, libnn_onnx) with nothing but `pkg-config --cflags
# --libs PACKAGE`: PACKAGE.pc must bring libnn and its own dependencies
# along (Requires: nn, ...). The program must load the installed library;
# with --run it is also run (an MPI program needs mpirun, so it is not).
#
# usage: check-companion-consumer.sh BUILD_DIR PROGRAM_C PACKAGE [--run]
#        e.g. ... build examples/mpi_train.c nn_mpi
# env:   CC (default cc)
set -euo pipefail

build=$(realpath "$1") src=$(realpath "$2") pkg=$3 run=${4:-}
libname=lib$pkg
read -r -a cc <<<"${CC:-cc}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

fail() {
    echo "FAIL: $*"
    echo "0 passed, 1 failed"
    exit 1
}

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet
pc=$(find "$dest" -name "$pkg.pc" -print -quit)
lib=$(find "$dest" -name "$libname.so.[0-9]" -print -quit)
if [[ -z $pc || -z $lib || ! -f $(dirname "$pc")/nn.pc ]]; then
    fail "install put no $pkg.pc, nn.pc or $libname.so.N in $dest"
fi
cat "$pc"

# Point our two .pc files into DESTDIR; the dependencies' own (MPI's,
# protobuf-c's) stay where they are (a sysroot would move them too).
mkdir "$tmp/pc"
for f in nn "$pkg"; do
    sed "s|^prefix=|prefix=$dest|" "$(dirname "$pc")/$f.pc" >"$tmp/pc/$f.pc"
done
export PKG_CONFIG_PATH=$tmp/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
read -r -a flags <<<"$(pkg-config --cflags --libs "$pkg")"
echo "pkg-config --cflags --libs $pkg: ${flags[*]}"
"${cc[@]}" -std=c11 -Wall -Wextra -Werror -o "$tmp/program" "$src" \
    "${flags[@]}" -lm

export LD_LIBRARY_PATH=$(dirname "$lib")
resolved=$(ldd "$tmp/program" |
           sed -n "s/.*$libname\\.so\\.[0-9]* => \\([^ ]*\\).*/\\1/p")
[[ $resolved == "$dest"/* ]] ||
    fail "the program loads '$resolved', not the installed library"
echo "$libname resolves to $resolved"
if [[ $run == --run ]] && ! "$tmp/program"; then
    fail "the program failed"
fi
echo "1 passed, 0 failed"
