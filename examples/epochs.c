/* SPDX-License-Identifier: MIT */
/*
 * A training loop of one's own that still follows libnn's learning-rate
 * schedule and fills its history: each epoch here trains on a fresh random
 * half of the data (a sampler nn_train does not offer), between
 * nn_epoch_begin() and nn_epoch_end(). Prints the history; fails unless
 * the rate halved every 3 epochs and the loss fell.
 * Run: build/examples/epochs
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

#define N 2000
#define BATCH 32
#define EPOCHS 9

static int check(int rc, nn_net *net)
{
    if (rc != NN_OK)
        fprintf(stderr, "libnn: %s: %s\n", nn_error_name(rc),
                nn_last_error(net));
    return rc;
}

/* One epoch over the first half of a fresh permutation: mean loss. */
static int half_epoch(nn_net *net, const float *x, const float *y,
                      size_t *order, double *loss)
{
    float xb[BATCH * 2], yb[BATCH];
    double sum = 0.0;
    int rc = check(nn_shuffle(net, order, N), net);
    for (size_t start = 0; rc == NN_OK && start < N / 2; start += BATCH) {
        size_t rows = N / 2 - start < BATCH ? N / 2 - start : BATCH;
        for (size_t i = 0; i < rows; i++) {
            memcpy(xb + 2 * i, x + 2 * order[start + i], 2 * sizeof *xb);
            yb[i] = y[order[start + i]];
        }
        double cost = 0.0;
        rc = check(nn_backprop(net, xb, yb, rows, &cost), net);
        if (rc == NN_OK)
            rc = check(nn_step(net), net);
        sum += cost * (double)rows;
    }
    *loss = sum / (N / 2);
    return rc;
}

int main(void)
{
    /* y = sin(2 u) / 2 + v / 3 on [-1, 1]^2: a small regression */
    static float x[N * 2], y[N];
    srand(3);
    for (size_t i = 0; i < N; i++) {
        x[2 * i] = 2.0f * (float)rand() / (float)RAND_MAX - 1.0f;
        x[2 * i + 1] = 2.0f * (float)rand() / (float)RAND_MAX - 1.0f;
        y[i] = 0.5f * sinf(2.0f * x[2 * i]) + x[2 * i + 1] / 3.0f;
    }
    size_t sizes[] = {2, 32, 1}, order[N];
    nn_activation acts[] = {NN_TANH, NN_IDENTITY};
    nn_net *net = NULL;
    if (check(nn_create(&net, 3, sizes, acts, 0, 7), NULL) != NN_OK)
        return 1;
    int rc = check(nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM), net);
    if (rc == NN_OK)
        rc = check(nn_set(net, NN_OPT_SCHEDULE, NN_SCHEDULE_STEP), net);
    if (rc == NN_OK)
        rc = check(nn_set(net, NN_OPT_STEP_SIZE, 3), net);
    if (rc == NN_OK)
        rc = check(nn_set(net, NN_OPT_GAMMA, 0.5), net);
    if (rc == NN_OK)
        rc = check(nn_history_clear(net), net);
    for (size_t e = 0; rc == NN_OK && e < EPOCHS; e++) {
        double loss = 0.0;
        rc = check(nn_epoch_begin(net), net); /* the schedule's rate */
        if (rc == NN_OK)
            rc = half_epoch(net, x, y, order, &loss);
        if (rc == NN_OK) /* training loss only: no accuracy, no validation */
            rc = check(nn_epoch_end(net, &loss, 1), net);
    }
    double lr[EPOCHS], loss[EPOCHS];
    if (rc == NN_OK)
        rc = check(nn_history(net, NN_HIST_LEARNING_RATE, lr, EPOCHS), net);
    if (rc == NN_OK)
        rc = check(nn_history(net, NN_HIST_TRAIN_LOSS, loss, EPOCHS), net);
    int ok = rc == NN_OK && nn_history_len(net) == EPOCHS;
    if (ok)
        printf("epoch  learning rate  training loss\n");
    for (size_t e = 0; ok && e < EPOCHS; e++)
        printf("%5zu  %13g  %13.6f\n", e + 1, lr[e], loss[e]);
    /* the default rate 0.01, halved every 3 epochs */
    for (size_t e = 0; ok && e < EPOCHS; e++)
        ok = fabs(lr[e] - 0.01 * pow(0.5, (double)(e / 3))) < 1e-12;
    ok = ok && loss[EPOCHS - 1] < 0.5 * loss[0];
    nn_free(net);
    if (!ok)
        fprintf(stderr, "epochs: the rate did not follow the schedule, or "
                        "the loss did not fall\n");
    return ok ? 0 : 1;
}
