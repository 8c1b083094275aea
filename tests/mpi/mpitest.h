/* SPDX-License-Identifier: MIT */
/*
 * A few helpers for the MPI test programs: checks that count failures on
 * each rank, data and networks every rank builds alike, and a closing line
 * "NAME: N passed, M failed" (from rank 0, totals over all ranks) that the
 * CI summary counts. Every check runs on every rank; a case passes when it
 * passed on all of them.
 */
#ifndef LIBNN_TESTS_MPITEST_H
#define LIBNN_TESTS_MPITEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_mpi.h"

static int mt_rank, mt_size, mt_failed_here, mt_passed, mt_failed;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "rank %d: %s:%d: check failed: %s\n", mt_rank,    \
                    __FILE__, __LINE__, #cond);                                \
            mt_failed_here++;                                                  \
        }                                                                      \
    } while (0)

#define CHECK_RC(expr, want)                                                   \
    do {                                                                       \
        int mt_rc_ = (expr);                                                   \
        if (mt_rc_ != (want)) {                                                \
            fprintf(stderr, "rank %d: %s:%d: %s returned %s, not %s (%s)\n",   \
                    mt_rank, __FILE__, __LINE__, #expr,                        \
                    nn_error_name(mt_rc_), nn_error_name(want),                \
                    nn_mpi_last_error());                                      \
            mt_failed_here++;                                                  \
        }                                                                      \
    } while (0)

static inline void mt_init(int *argc, char ***argv)
{
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &mt_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mt_size);
}

/* Ends one case: it passed if no rank saw a failed check. */
static inline void mt_case(const char *name)
{
    int any = 0;
    MPI_Allreduce(&mt_failed_here, &any, 1, MPI_INT, MPI_SUM,
                  MPI_COMM_WORLD);
    if (any)
        mt_failed++;
    else
        mt_passed++;
    if (mt_rank == 0)
        printf("%s %s (%d ranks)\n", any ? "FAIL" : "ok  ", name, mt_size);
    mt_failed_here = 0;
}

static inline int mt_finish(const char *program)
{
    if (mt_rank == 0)
        printf("%s: %d passed, %d failed\n", program, mt_passed, mt_failed);
    fflush(stdout);
    MPI_Finalize();
    return mt_failed ? 1 : 0;
}

/* 1 on every rank when `len` bytes at `p` are the same on every rank. */
static inline int mt_same_everywhere(const void *p, size_t len)
{
    unsigned char *root = malloc(len ? len : 1);
    memcpy(root, p, len);
    MPI_Bcast(root, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD);
    int same = memcmp(root, p, len) == 0, all = 0;
    free(root);
    MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

/* Largest |a - b| / max(1, |b|): float round-off of summation order stays
 * near 1e-7 per operation. */
static inline double mt_max_rel(const float *a, const float *b, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        double scale = fabs((double)b[i]) > 1.0 ? fabs((double)b[i]) : 1.0;
        if (!(d / scale <= worst))
            worst = d / scale; /* also catches NaN */
    }
    return worst;
}

/* A deterministic data set every rank builds alike: inputs in [-1, 1],
 * one-hot targets of a smooth rule the network can learn. */
static inline void mt_data(size_t n, size_t n_in, size_t n_out, float *x,
                           float *y)
{
    uint64_t s = 0x2545f4914f6cdd1dULL;
    for (size_t i = 0; i < n * n_in; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((double)(s >> 11) * 0x1.0p-53 * 2.0 - 1.0);
    }
    for (size_t i = 0; i < n; i++) {
        double v = 0.0;
        for (size_t j = 0; j < n_in; j++)
            v += x[i * n_in + j] * (double)(j + 1);
        size_t cls = (size_t)(fabs(v) * 2.0) % n_out;
        for (size_t k = 0; k < n_out; k++)
            y[i * n_out + k] = k == cls ? 1.0f : 0.0f;
    }
}

/* Rank r's slice of n rows when shares are uneven: proportional to
 * weights[r] (cumulative rounding, so the slices tile [0, n)). */
static inline void mt_uneven(size_t n, const double *weights, size_t *first,
                      size_t *count)
{
    double total = 0.0, before = 0.0;
    for (int r = 0; r < mt_size; r++)
        total += weights[r];
    for (int r = 0; r < mt_rank; r++)
        before += weights[r];
    size_t lo = (size_t)floor((double)n * before / total + 0.5);
    size_t hi = (size_t)floor((double)n * (before + weights[mt_rank]) /
                              total + 0.5);
    *first = lo;
    *count = hi - lo;
}

#endif /* LIBNN_TESTS_MPITEST_H */
