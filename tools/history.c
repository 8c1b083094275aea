/* SPDX-License-Identifier: MIT */
/*
 * Reading the history out of libnn (nn_history_len, nn_history) into one
 * block, and writing it as CSV. The CSV carries exactly the numbers the
 * plot draws, so either can be checked against the other.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "history.h"

int history_read(history *h, const nn_net *net, const double *seconds,
                 int classify)
{
    memset(h, 0, sizeof *h);
    h->n = nn_history_len(net);
    h->classify = classify;
    if (h->n == 0)
        return ST_OK;
    double *block = calloc(6 * h->n, sizeof *block);
    if (!block)
        return cli_fail("out of memory");
    double **series[] = {&h->train_loss, &h->train_acc, &h->val_loss,
                         &h->val_acc, &h->lr};
    const int metrics[] = {NN_HIST_TRAIN_LOSS, NN_HIST_TRAIN_ACCURACY,
                           NN_HIST_VAL_LOSS, NN_HIST_VAL_ACCURACY,
                           NN_HIST_LEARNING_RATE};
    for (size_t m = 0; m < 5; m++) {
        *series[m] = block + m * h->n;
        int rc = nn_history(net, metrics[m], *series[m], h->n);
        if (rc != NN_OK) {
            free(block);
            memset(h, 0, sizeof *h);
            return cli_fail_nn("nn_history", rc, NULL);
        }
    }
    h->seconds = block + 5 * h->n;
    if (seconds)
        memcpy(h->seconds, seconds, h->n * sizeof *seconds);
    h->validated = !isnan(h->val_loss[0]);
    return ST_OK;
}

void history_free(history *h)
{
    free(h->train_loss); /* the block's start */
    memset(h, 0, sizeof *h);
}

size_t history_best_epoch(const history *h)
{
    size_t best = h->n;
    for (size_t e = 0; h->validated && e < h->n; e++)
        if (best == h->n || h->val_loss[e] < h->val_loss[best])
            best = e;
    return best;
}

/* A cell: the value, or nothing when it does not apply. */
static void cell(FILE *f, double v, int applies)
{
    if (applies && isfinite(v))
        fprintf(f, ",%.9g", v);
    else
        fputs(",", f);
}

int history_write_csv(const history *h, const char *path)
{
    cli_out out;
    int st = cli_out_open(&out, path);
    if (st != ST_OK)
        return st;
    fputs("epoch,train_loss,train_accuracy,val_loss,val_accuracy,"
          "learning_rate,seconds\n", out.f);
    for (size_t e = 0; e < h->n; e++) {
        fprintf(out.f, "%zu", e + 1);
        cell(out.f, h->train_loss[e], 1);
        cell(out.f, h->train_acc[e], h->classify);
        cell(out.f, h->val_loss[e], h->validated);
        cell(out.f, h->val_acc[e], h->validated && h->classify);
        cell(out.f, h->lr[e], 1);
        fprintf(out.f, ",%.3f\n", h->seconds[e]);
    }
    return cli_out_commit(&out);
}
