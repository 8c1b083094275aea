#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# libnn shares the nn_ prefix with nanomsg, which Debian ships. libnn must
# compile and link beside it.
#
# usage: check-nanomsg.sh names INCLUDE_DIR
#          nn.h defines none of nanomsg's names (nn_strerror, nn_errno,
#          nn_close, NN_EXPORT, NN_VERSION_*, NN_H_INCLUDED, and, when
#          nanomsg's headers are installed, any nn_/NN_ name they use), and
#          every macro it defines starts with NN_ or LIBNN_.
#        check-nanomsg.sh link INCLUDE_DIR LIBRARY
#          a program including both headers (in both orders) links against
#          both libraries and calls each; exit 77 (skip) without nanomsg.
# env:   CC (default cc)
set -euo pipefail

mode=$1 inc=$2
read -r -a cc <<<"${CC:-cc}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
header=$inc/nn.h
nanomsg_dir=$(printf '#include <nanomsg/nn.h>\n' |
    "${cc[@]}" -x c -E -H - 2>&1 >/dev/null |
    sed -n 's/^\. \(.*\)\/nn\.h$/\1/p' || true)

# identifiers of a header, comments and preprocessing left out
idents() {
    "${cc[@]}" -x c -fpreprocessed -dD -E -P "$@" 2>/dev/null |
        grep -oE '\b(nn|NN)_[A-Za-z0-9_]*' | sort -u
}

case $mode in
names)
    status=0
    idents "$header" >"$tmp/libnn"
    echo "nn.h uses $(wc -l <"$tmp/libnn") nn_/NN_ names"
    bad=$(grep -xE 'nn_strerror|nn_errno|nn_close|NN_EXPORT|NN_H_INCLUDED|NN_VERSION.*' \
        "$tmp/libnn" || true)
    if [[ -n $bad ]]; then
        echo "FAIL: nn.h uses nanomsg's names:" $bad
        status=1
    fi
    if [[ -n $nanomsg_dir ]]; then
        cat "$nanomsg_dir"/*.h | idents - >"$tmp/nanomsg"
        both=$(comm -12 "$tmp/libnn" "$tmp/nanomsg")
        echo "nanomsg's headers in $nanomsg_dir use" \
            "$(wc -l <"$tmp/nanomsg") nn_/NN_ names"
        if [[ -n $both ]]; then
            echo "FAIL: names used by both nn.h and nanomsg:" $both
            status=1
        fi
    else
        echo "nanomsg's headers are not installed: fixed list only"
    fi
    macros=$(sed -n 's/^[[:space:]]*#[[:space:]]*define[[:space:]]\+\([A-Za-z_0-9]*\).*/\1/p' \
        "$header")
    for m in $macros; do
        if [[ $m != NN_* && $m != LIBNN_* ]]; then
            echo "FAIL: nn.h defines $m (macros must start with NN_ or LIBNN_)"
            status=1
        fi
    done
    ((status == 0)) && echo "ok: no name clash with nanomsg"
    exit "$status"
    ;;
link)
    lib=$3
    if [[ -z $nanomsg_dir ]]; then
        echo "SKIP: nanomsg's headers are not installed (libnanomsg-dev)"
        exit 77
    fi
    for order in nanomsg-first libnn-first; do
        if [[ $order == nanomsg-first ]]; then
            printf '#include <nanomsg/nn.h>\n#include <nn.h>\n'
        else
            printf '#include <nn.h>\n#include <nanomsg/nn.h>\n'
        fi >"$tmp/$order.c"
        cat >>"$tmp/$order.c" <<'PROGRAM'
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    /* nanomsg's function and libnn's, side by side */
    const char *theirs = nn_strerror(EINVAL);
    const char *ours = nn_error_string(NN_EINVAL);
    printf("nanomsg nn_strerror(EINVAL) = %s\n", theirs);
    printf("libnn nn_error_string(NN_EINVAL) = %s\n", ours);
    printf("libnn %s, nanomsg protocol family AF_SP = %d\n",
           nn_version_string(), AF_SP);
    return strcmp(theirs, strerror(EINVAL)) != 0 ||
           strcmp(ours, "invalid argument") != 0;
}
PROGRAM
        echo "+ $order"
        "${cc[@]}" -std=c11 -Wall -Wextra -pedantic -Werror -I "$inc" \
            -o "$tmp/$order" "$tmp/$order.c" "$lib" \
            $(pkg-config --libs nanomsg 2>/dev/null || echo -lnanomsg)
        LD_LIBRARY_PATH=$(dirname "$lib") "$tmp/$order"
    done
    echo "ok: libnn links and runs beside nanomsg"
    ;;
*)
    echo "usage: $0 names|link INCLUDE_DIR [LIBRARY]" >&2
    exit 2
    ;;
esac
