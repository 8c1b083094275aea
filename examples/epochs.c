/* SPDX-License-Identifier: MIT */
/*
 * A training loop of one's own that still follows libnn's learning-rate
 * schedule, fills its history and stops early as nn_fit() would: each
 * epoch here trains on a fresh random half of the data (a sampler nn_train
 * does not offer), between nn_epoch_begin() and nn_epoch_end(), then
 * validates on held-out rows; nn_epoch_should_stop() and
 * nn_restore_best_weights() finish the early stopping. Prints the history;
 * fails unless the rate halved every 3 epochs, the loss fell, and the
 * weights kept are those of the lowest validation loss.
 * Run: build/examples/epochs
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

#define N 2000
#define N_VAL 500
#define BATCH 32
#define EPOCHS 40
#define PATIENCE 3

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

/* y = sin(2 u) / 2 + v / 3 on [-1, 1]^2, plus noise: a small regression */
static void make_data(float *x, float *y, size_t n, float noise)
{
    for (size_t i = 0; i < n; i++) {
        x[2 * i] = 2.0f * (float)rand() / (float)RAND_MAX - 1.0f;
        x[2 * i + 1] = 2.0f * (float)rand() / (float)RAND_MAX - 1.0f;
        y[i] = 0.5f * sinf(2.0f * x[2 * i]) + x[2 * i + 1] / 3.0f +
               noise * (2.0f * (float)rand() / (float)RAND_MAX - 1.0f);
    }
}

/* The loop: a new run, then epochs until EPOCHS or early stopping, then
 * the best epoch's weights back. */
static int train(nn_net *net, const float *x, const float *y,
                 const float *xv, const float *yv)
{
    size_t order[N];
    int rc = check(nn_history_clear(net), net), stop = 0;
    for (size_t e = 0; rc == NN_OK && e < EPOCHS && !stop; e++) {
        double m[4] = {0.0, NAN, 0.0, NAN}; /* no accuracy: a regression */
        rc = check(nn_epoch_begin(net), net); /* the schedule's rate */
        if (rc == NN_OK)
            rc = half_epoch(net, x, y, order, &m[0]);
        if (rc == NN_OK)
            rc = check(nn_evaluate(net, xv, yv, N_VAL, &m[2], NULL), NULL);
        if (rc == NN_OK) /* history, schedule, early stopping's account */
            rc = check(nn_epoch_end(net, m, 4), net);
        if (rc == NN_OK)
            rc = check(nn_epoch_should_stop(net, &stop), NULL);
    }
    if (rc == NN_OK)
        rc = check(nn_restore_best_weights(net), net);
    return rc;
}

int main(void)
{
    static float x[N * 2], y[N], xv[N_VAL * 2], yv[N_VAL];
    srand(3);
    make_data(x, y, N, 0.0f);
    make_data(xv, yv, N_VAL, 0.2f);
    size_t sizes[] = {2, 32, 1};
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
        rc = check(nn_set(net, NN_OPT_EARLY_STOPPING, PATIENCE), net);
    if (rc == NN_OK)
        rc = train(net, x, y, xv, yv);

    size_t len = nn_history_len(net), best = 0;
    double lr[EPOCHS], loss[EPOCHS], val[EPOCHS], now = NAN;
    if (rc == NN_OK)
        rc = check(nn_history(net, NN_HIST_LEARNING_RATE, lr, EPOCHS), net);
    if (rc == NN_OK)
        rc = check(nn_history(net, NN_HIST_TRAIN_LOSS, loss, EPOCHS), net);
    if (rc == NN_OK)
        rc = check(nn_history(net, NN_HIST_VAL_LOSS, val, EPOCHS), net);
    if (rc == NN_OK) /* the weights kept */
        rc = check(nn_evaluate(net, xv, yv, N_VAL, &now, NULL), NULL);
    int ok = rc == NN_OK && len >= 1 && len <= EPOCHS;
    if (ok)
        printf("epoch  learning rate  training loss  validation loss\n");
    for (size_t e = 0; ok && e < len; e++) {
        printf("%5zu  %13g  %13.6f  %15.6f\n", e + 1, lr[e], loss[e], val[e]);
        best = val[e] < val[best] ? e : best;
    }
    /* the default rate 0.01, halved every 3 epochs */
    for (size_t e = 0; ok && e < len; e++)
        ok = fabs(lr[e] - 0.01 * pow(0.5, (double)(e / 3))) < 1e-12;
    ok = ok && loss[len - 1] < 0.5 * loss[0];
    /* stopped PATIENCE epochs after the best, or ran every epoch; and the
     * network holds the best epoch's weights: the same validation loss,
     * from the same nn_evaluate on the same weights */
    ok = ok && (len == best + 1 + PATIENCE || len == EPOCHS);
    ok = ok && now == val[best];
    if (ok)
        printf("%s after %zu epochs; kept epoch %zu (validation loss %.6f)\n",
               len < EPOCHS ? "stopped early" : "stopped", len, best + 1,
               now);
    nn_free(net);
    if (!ok)
        fprintf(stderr, "epochs: the rate did not follow the schedule, the "
                        "loss did not fall, or the best weights were not "
                        "kept\n");
    return ok ? 0 : 1;
}
