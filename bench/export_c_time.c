/* SPDX-License-Identifier: MIT */
/*
 * Batch-1 latency of a network exported by `nnet export --c ... --name net`
 * against nn_predict on the same model file (bench/export_c.sh builds this
 * with the generated net.c). Prints the median over 7 runs of the time per
 * call of each, after checking that both give the same outputs to 1e-6.
 *
 *   export_c_time MODEL
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <nn.h>

#include "net.h"

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

static volatile float sink;

/* Seconds per call of f, median of 7 runs of `calls` calls. */
#define MEDIAN_PER_CALL(result, calls, body)                                   \
    do {                                                                       \
        double runs[7];                                                        \
        for (int r = 0; r < 7; r++) {                                          \
            double t0 = now();                                                 \
            for (long i = 0; i < (calls); i++) {                               \
                x[i % net_N_INPUTS] += 1e-7f;                                  \
                body;                                                          \
                sink = y[0];                                                   \
            }                                                                  \
            runs[r] = (now() - t0) / (double)(calls);                          \
        }                                                                      \
        qsort(runs, 7, sizeof runs[0], cmp);                                   \
        (result) = runs[3];                                                    \
    } while (0)

int main(int argc, char **argv)
{
    nn_net *model;
    if (argc != 2 || nn_load(&model, argv[1]) != NN_OK) {
        fprintf(stderr, "usage: export_c_time MODEL (%s)\n",
                nn_last_error(NULL));
        return 2;
    }
    float x[net_N_INPUTS], y[net_N_OUTPUTS], want[net_N_OUTPUTS];
    for (int i = 0; i < net_N_INPUTS; i++)
        x[i] = (float)((i * 37) % 101) / 101.0f;
    if (nn_predict(model, x, 1, want) != NN_OK || net_predict(x, y) != 0)
        return 1;
    for (int j = 0; j < net_N_OUTPUTS; j++)
        if (fabsf(y[j] - want[j]) > 1e-6f * fmaxf(1.0f, fabsf(want[j]))) {
            fprintf(stderr, "outputs differ at %d: %g %g\n", j, y[j], want[j]);
            return 1;
        }
    /* about 0.2 s per run for each */
    double t_gen, t_lib, t_probe = now();
    for (int i = 0; i < 100; i++)
        net_predict(x, y);
    long calls = (long)(0.2 / ((now() - t_probe) / 100 + 1e-9)) + 1;
    MEDIAN_PER_CALL(t_gen, calls, net_predict(x, y));
    MEDIAN_PER_CALL(t_lib, calls, nn_predict(model, x, 1, y));
    printf("generated %.0f ns  nn_predict %.0f ns  (x%.2f)\n", t_gen * 1e9,
           t_lib * 1e9, t_lib / t_gen);
    nn_free(model);
    return 0;
}
