/* SPDX-License-Identifier: MIT */
/*
 * The tutorial step as hand-written C loops: the baseline of the tutorial
 * workload of nn_bench and of the callgrind guard's "hand" case.
 */
#ifndef BENCH_HAND_H
#define BENCH_HAND_H

#include <math.h>

/* The way one writes the loops for a small network: sizes at run time, no
 * BLAS, no checks; mean MSE, sigmoid on both layers, plain gradient
 * descent. Returns the cost before the update. */
typedef struct hand_net {
    int n_in, n_hid, n_out;
    float w1[2 * 3], w2[3 * 1];
    float lr;
} hand_net;

__attribute__((noinline, unused)) static float
hand_step(hand_net *h, const float *x, const float *y, int n)
{
    enum { MAXV = 64 };
    float a2[MAXV], yh[MAXV], d3[MAXV], d2[MAXV], g1[MAXV], g2[MAXV];
    int ni = h->n_in, nh = h->n_hid, no = h->n_out;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < nh; j++) {
            float s = 0.0f;
            for (int k = 0; k < ni; k++)
                s += x[i * ni + k] * h->w1[k * nh + j];
            a2[i * nh + j] = 1.0f / (1.0f + expf(-s));
        }
    float cost = 0.0f, inv_n = 1.0f / (float)n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < no; j++) {
            float s = 0.0f;
            for (int k = 0; k < nh; k++)
                s += a2[i * nh + k] * h->w2[k * no + j];
            float p = 1.0f / (1.0f + expf(-s)), e = p - y[i * no + j];
            yh[i * no + j] = p;
            cost += 0.5f * e * e;
            d3[i * no + j] = e * inv_n * p * (1.0f - p);
        }
    for (int k = 0; k < nh; k++)
        for (int j = 0; j < no; j++) {
            float s = 0.0f;
            for (int i = 0; i < n; i++)
                s += a2[i * nh + k] * d3[i * no + j];
            g2[k * no + j] = s;
        }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < nh; k++) {
            float s = 0.0f;
            for (int j = 0; j < no; j++)
                s += d3[i * no + j] * h->w2[k * no + j];
            float a = a2[i * nh + k];
            d2[i * nh + k] = s * a * (1.0f - a);
        }
    for (int k = 0; k < ni; k++)
        for (int j = 0; j < nh; j++) {
            float s = 0.0f;
            for (int i = 0; i < n; i++)
                s += x[i * ni + k] * d2[i * nh + j];
            g1[k * nh + j] = s;
        }
    for (int i = 0; i < ni * nh; i++)
        h->w1[i] -= h->lr * g1[i];
    for (int i = 0; i < nh * no; i++)
        h->w2[i] -= h->lr * g2[i];
    (void)yh;
    return cost * inv_n;
}

#endif
