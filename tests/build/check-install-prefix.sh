#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# A library-only build (every optional part disabled but the Python
# package) configures, builds and installs into a fresh prefix with a
# compiler, Meson and the CBLAS alone; the prefix then holds the shared and
# static library, the header, nn.pc and the Python package and nothing
# else, and `import libnn` from it loads the libnn.so.0 installed there
# with no environment variable naming it (the libdir recorded at install).
#
# usage: check-install-prefix.sh SOURCE_DIR PROJECT_VERSION
set -euo pipefail

src=$(realpath "$1") version=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

run() { echo "+ $*"; "$@"; }

run meson setup "$tmp/build" "$src" --prefix "$prefix" --libdir lib \
    -Dtests=disabled -Dbench=disabled -Dtool=disabled -Dmpi=disabled \
    -Ddocs=disabled -Dpython=enabled >"$tmp/setup.log" ||
    { cat "$tmp/setup.log"; exit 1; }
run ninja -C "$tmp/build" >/dev/null
run meson install -C "$tmp/build" --quiet

(cd "$prefix" && find . -type f -o -type l | sort) >"$tmp/files"
echo "installed:"
sed 's/^/  /' "$tmp/files"
status=0
for want in ./lib/libnn.so.0 ./lib/libnn.a ./include/nn.h \
    ./lib/pkgconfig/nn.pc; do
    grep -qxF "$want" "$tmp/files" || { echo "FAIL: no $want"; status=1; }
done
if grep -E '^\./(bin|share/man)/' "$tmp/files"; then
    echo "FAIL: a library-only build installed the tool or its manual"
    status=1
fi
init=$(grep '/libnn/__init__.py$' "$tmp/files" || true)
if [[ -z $init ]]; then
    echo "FAIL: the Python package was not installed"
    exit 1
fi
pkgdir=$prefix/$(dirname "$(dirname "$init")")

# A clean environment: nothing points Python or the loader at the prefix
# but PYTHONPATH at the package (a custom prefix is not on sys.path).
out=$(env -i PATH=/usr/bin:/bin PYTHONPATH="$pkgdir" \
    PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -c '
import libnn
print(libnn.library_path)
print(libnn.library_version())
')
echo "import libnn: $out"
read -r -d '' path got <<<"$out" || true
if [[ $path != "$prefix/lib/libnn.so.0" ]]; then
    echo "FAIL: loaded $path, not the installed $prefix/lib/libnn.so.0"
    status=1
fi
if [[ $got != "$version" ]]; then
    echo "FAIL: library_version() = $got, want $version"
    status=1
fi
((status == 0)) && echo ok
exit "$status"
