#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# nn.h compiles alone, warning-free, in the given language standard, and a
# program including it links against libnn and runs (in C++ this proves the
# extern "C" block).
#
# usage: check-header.sh STD INCLUDE_DIR LIBRARY COMPILER [ARGS...]
#   STD is c11 or c++11 (anything containing "++" is compiled as C++).
set -euo pipefail

std=$1 inc=$2 lib=$3
shift 3
compiler=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

flags=(-std="$std" -Wall -Wextra -pedantic -Werror -Wundef -Wshadow)
if [[ $std == *++* ]]; then
    lang=c++
else
    lang=c
    flags+=(-Wstrict-prototypes -Wmissing-prototypes)
fi

run() { echo "+ $*"; "$@"; }

# 1. The header alone is a complete, warning-free translation unit.
printf '#include <nn.h>\n' >"$tmp/alone.h.c"
run "${compiler[@]}" -x "$lang" "${flags[@]}" -I "$inc" -c "$tmp/alone.h.c" \
    -o "$tmp/alone.o"

# 2. Included twice (the guard), first, then used, linked and run.
cat >"$tmp/use.c" <<'PROGRAM'
#include <nn.h>
#include <nn.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    static const size_t sizes[] = {2, 3, 1};
    static const nn_activation acts[] = {NN_SIGMOID, NN_SIGMOID};
    const unsigned want = LIBNN_VERSION_MAJOR * 10000u +
                          LIBNN_VERSION_MINOR * 100u + LIBNN_VERSION_PATCH;
    nn_net *net = NULL;
    int rc;

    if (nn_version() != want) {
        printf("nn_version() = %u, the header says %u\n", nn_version(), want);
        return 1;
    }
    if (strcmp(nn_error_name(NN_EINVAL), "NN_EINVAL") != 0) {
        printf("nn_error_name(NN_EINVAL) = %s\n", nn_error_name(NN_EINVAL));
        return 1;
    }
    rc = nn_create(&net, 3, sizes, acts, NN_NO_BIAS, 42);
    if (rc != NN_OK || net == NULL) {
        printf("nn_create: %s: %s\n", nn_error_name(rc), nn_last_error(NULL));
        return 1;
    }
    if (nn_param_count(net) != 9) {
        printf("nn_param_count = %zu, want 9\n", nn_param_count(net));
        nn_free(net);
        return 1;
    }
    nn_free(net);
    printf("ok: libnn %s\n", nn_version_string());
    return 0;
}
PROGRAM
run "${compiler[@]}" -x "$lang" "${flags[@]}" -I "$inc" -c "$tmp/use.c" \
    -o "$tmp/use.o"
run "${compiler[@]}" "$tmp/use.o" "$lib" -o "$tmp/use"
out=$(LD_LIBRARY_PATH=$(dirname "$lib") "$tmp/use")
echo "$out"
[[ $out == "ok: libnn "* ]]
