#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Install the build into a scratch DESTDIR, then build consumer.c with
# nothing but `pkg-config --cflags --libs nn` pointed into it, and run it
# against the installed library. With `static`, the install keeps libnn.a
# alone (as a static-only install would) and the consumer is linked with
# `pkg-config --static --cflags --libs nn`: it must not need libnn.so.
#
# usage: check-consumer.sh BUILD_DIR CONSUMER_C PROJECT_VERSION [static]
# env:   CC (default cc)
set -euo pipefail

build=$(realpath "$1") src=$(realpath "$2") version=$3 mode=${4:-shared}
read -r -a cc <<<"${CC:-cc}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

run() { echo "+ $*"; "$@"; }

run meson install -C "$build" --destdir "$dest" --no-rebuild --quiet

pc=$(find "$dest" -name nn.pc -print -quit)
if [[ $mode == static ]]; then
    lib=$(find "$dest" -name libnn.a -print -quit)
    [[ -n $lib ]] && rm -f "$(dirname "$lib")"/libnn.so*
else
    lib=$(find "$dest" -name 'libnn.so.[0-9]' -print -quit)
fi
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
if grep -q '^Requires' "$pc"; then
    echo "FAIL: nn.pc requires other .pc files; its Libs.private says it all"
    exit 1
fi
static=()
[[ $mode == static ]] && static=(--static)
read -r -a flags <<<"$(pkg-config "${static[@]}" --cflags --libs nn)"
echo "pkg-config ${static[*]} --cflags --libs nn: ${flags[*]}"

run "${cc[@]}" -std=c11 -Wall -Wextra -Werror -o "$tmp/consumer" "$src" \
    "${flags[@]}"

if [[ $mode == static ]]; then
    needed=$(readelf -d "$tmp/consumer" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    echo "the static consumer needs: $(echo $needed)"
    if grep -q '^libnn\.so' <<<"$needed"; then
        echo "FAIL: linked against libnn.so, not libnn.a"
        exit 1
    fi
else
    export LD_LIBRARY_PATH=$(dirname "$lib")
    resolved=$(ldd "$tmp/consumer" | sed -n 's/.*libnn\.so\.[0-9]* => \([^ ]*\).*/\1/p')
    echo "libnn resolves to $resolved"
    if [[ $resolved != "$dest"/* ]]; then
        echo "FAIL: the consumer does not load the installed library"
        exit 1
    fi
fi
run "$tmp/consumer" | tee "$tmp/out"
grep -q "^libnn $version " "$tmp/out"
grep -q '^consumer ok$' "$tmp/out"
