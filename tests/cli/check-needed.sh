#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The libraries a program asks the dynamic loader for (readelf -d NEEDED)
# are exactly the ones listed: `nnet` needs libnn, zlib, libm and libc and
# nothing else (no MPI), whatever the build found.
#
# usage: check-needed.sh PROGRAM SONAME...
set -euo pipefail

program=$1
shift
got=$(readelf -d "$program" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort)
want=$(printf '%s\n' "$@" | sort)
echo "$(basename "$program") needs: $(echo $got)"
if [[ $got != "$want" ]]; then
    echo "FAIL: expected exactly: $(echo $want)"
    exit 1
fi
echo ok
