/* SPDX-License-Identifier: MIT */
/*
 * small_gemm: where libnn's scalar loops for tiny layers (lib/blas.c) beat
 * cblas_sgemm and where they lose; the measurement behind SMALL_LAYER.
 *
 * For one layer of n_in x n_out weights and a batch, the three products of
 * a training step (forward a W, weight gradient a^T delta, input delta
 * delta W^T) are timed through nn__gemm and through cblas_sgemm directly;
 * the table gives the medians in ns, "loops / OpenBLAS". Layers above
 * SMALL_LAYER go to OpenBLAS through nn__gemm too (both columns alike).
 * Run with OPENBLAS_NUM_THREADS=1 for the single-thread comparison.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define BUF (1 << 20)
static float A[BUF], B[BUF], C[BUF];

static void step(int loops, size_t in, size_t out, size_t batch)
{
    if (loops) {
        nn__gemm(0, 0, batch, out, in, A, in, B, out, C, out);
        nn__gemm(1, 0, in, out, batch, A, in, B, out, C, out);
        nn__gemm(0, 1, batch, in, out, A, out, B, out, C, in);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)batch,
                    (int)out, (int)in, 1, A, (int)in, B, (int)out, 0, C,
                    (int)out);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)in, (int)out,
                    (int)batch, 1, A, (int)in, B, (int)out, 0, C, (int)out);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)batch,
                    (int)in, (int)out, 1, A, (int)out, B, (int)out, 0, C,
                    (int)in);
    }
}

static double time_step(int loops, size_t in, size_t out, size_t batch)
{
    double t[9];
    long reps = 20000000 / (long)(3 * in * out * batch + 300);
    if (reps < 5)
        reps = 5;
    for (int r = 0; r < 9; r++) {
        double t0 = now();
        for (long q = 0; q < reps; q++)
            step(loops, in, out, batch);
        t[r] = (now() - t0) / (double)reps;
    }
    qsort(t, 9, sizeof *t, cmp);
    return t[4];
}

int main(void)
{
    static const size_t layers[][2] = {{2, 3},  {3, 1}, {2, 4},  {4, 4},
                                       {3, 10}, {8, 8}, {16, 4}, {128, 10}};
    static const size_t batches[] = {3, 16, 64, 256, 1000};
    for (size_t i = 0; i < BUF; i++) {
        A[i] = (float)rand() / (float)RAND_MAX;
        B[i] = (float)rand() / (float)RAND_MAX;
    }
    printf("one training step's products, ns (loops through nn__gemm / "
           "cblas_sgemm)\n%-16s",
           "layer \\ batch");
    for (size_t b = 0; b < sizeof batches / sizeof *batches; b++)
        printf(" %13zu", batches[b]);
    printf("\n");
    for (size_t l = 0; l < sizeof layers / sizeof *layers; l++) {
        size_t in = layers[l][0], out = layers[l][1];
        char name[32];
        snprintf(name, sizeof name, "%zux%zu (%zu)", in, out, in * out);
        printf("%-16s", name);
        for (size_t b = 0; b < sizeof batches / sizeof *batches; b++) {
            double s = time_step(1, in, out, batches[b]);
            double o = time_step(0, in, out, batches[b]);
            printf(" %6.0f/%-6.0f", s * 1e9, o * 1e9);
        }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
