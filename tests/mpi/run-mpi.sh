#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs an MPI test program under mpirun, bounded by a timeout, so that a
# rank left waiting in a collective fails the test instead of hanging CI.
#
#   run-mpi.sh MPIRUN NP SECONDS PROGRAM [ARGS...]
#
# Open MPI needs a few settings here: running as root (CI is root), more
# ranks than cores (-np 3 on a 2-core machine), shared memory without the
# kernel's cross-memory attach (often denied in containers), no binding.
# BLAS runs single-threaded per rank: ranks are the parallelism.
set -u
mpirun=$1 np=$2 limit=$3
shift 3

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
args=(-np "$np")
if "$mpirun" --version 2>/dev/null | grep -q 'Open MPI'; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export OMPI_MCA_btl_vader_single_copy_mechanism=none
    # Waiting ranks yield the core: with more ranks than cores (or a busy
    # machine) busy-polling ranks would starve the ones doing the work.
    export OMPI_MCA_mpi_yield_when_idle=1
    args+=(--oversubscribe --bind-to none --mca btl self,vader)
fi

timeout -k 10 "$limit" "$mpirun" "${args[@]}" "$@"
rc=$?
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "run-mpi.sh: $* on $np ranks did not finish within ${limit}s" \
         "(a rank hung?)" >&2
fi
exit "$rc"
