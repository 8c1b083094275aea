#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The built library carries the soname it must have (libnn.so.MAJOR), the
# build tree has the soname and development links pointing at it, and it
# needs no C++ runtime.
#
# usage: check-soname.sh LIBRARY EXPECTED_SONAME
set -euo pipefail

lib=$1 want=$2
dir=$(dirname "$lib")
status=0
dyn=$(readelf -d "$lib")

soname=$(sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p' <<<"$dyn")
echo "soname of $(basename "$lib"): ${soname:-<none>}"
if [[ $soname != "$want" ]]; then
    echo "FAIL: soname is '${soname}', want '$want'"
    status=1
fi

# ldconfig's link (libnn.so.0) and the linker's (libnn.so) resolve to it.
for link in "$want" libnn.so; do
    if [[ ! -e $dir/$link ]]; then
        echo "FAIL: $dir/$link is missing"
        status=1
    elif [[ $(realpath "$dir/$link") != $(realpath "$lib") ]]; then
        echo "FAIL: $dir/$link does not point at $(basename "$lib")"
        status=1
    fi
done

needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$dyn" | tr '\n' ' ')
echo "needs: $needed"
if [[ $needed == *libstdc++* ]]; then
    echo "FAIL: a C library must not need libstdc++"
    status=1
fi

((status == 0)) && echo "ok"
exit "$status"
