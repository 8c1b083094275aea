#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Install the build into a scratch DESTDIR, then build consumer.c with
# nothing but `pkg-config --cflags --libs nn` pointed into it, and run it
# against the installed library.
#
# usage: check-consumer.sh BUILD_DIR CONSUMER_C PROJECT_VERSION
# env:   CC (default cc)
set -euo pipefail

build=$(realpath "$1") src=$(realpath "$2") version=$3
read -r -a cc <<<"${CC:-cc}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

run() { echo "+ $*"; "$@"; }

run meson install -C "$build" --destdir "$dest" --no-rebuild --quiet

pc=$(find "$dest" -name nn.pc -print -quit)
lib=$(find "$dest" -name 'libnn.so.[0-9]' -print -quit)
hdr=$(find "$dest" -path '*/include/nn.h' -print -quit)
for f in pc lib hdr; do
    if [[ -z ${!f} ]]; then
        echo "FAIL: install put no $f in $dest:"
        (cd "$dest" && find . -type f)
        exit 1
    fi
done
echo "installed: ${pc#"$dest"} ${lib#"$dest"} ${hdr#"$dest"}"
echo "--- nn.pc"
cat "$pc"
echo "---"
if grep -n -e "$build" -e "$(dirname "$src")" "$pc"; then
    echo "FAIL: nn.pc points into the build or source tree"
    exit 1
fi

export PKG_CONFIG_SYSROOT_DIR=$dest
export PKG_CONFIG_PATH=$(dirname "$pc")
got=$(pkg-config --modversion nn)
if [[ $got != "$version" ]]; then
    echo "FAIL: pkg-config --modversion nn = $got, want $version"
    exit 1
fi
read -r -a flags <<<"$(pkg-config --cflags --libs nn)"
echo "pkg-config --cflags --libs nn: ${flags[*]}"

run "${cc[@]}" -std=c11 -Wall -Wextra -Werror -o "$tmp/consumer" "$src" \
    "${flags[@]}"

export LD_LIBRARY_PATH=$(dirname "$lib")
resolved=$(ldd "$tmp/consumer" | sed -n 's/.*libnn\.so\.[0-9]* => \([^ ]*\).*/\1/p')
echo "libnn resolves to $resolved"
if [[ $resolved != "$dest"/* ]]; then
    echo "FAIL: the consumer does not load the installed library"
    exit 1
fi
run "$tmp/consumer" | tee "$tmp/out"
grep -q "^libnn $version " "$tmp/out"
grep -q '^consumer ok$' "$tmp/out"
