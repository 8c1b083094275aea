/* SPDX-License-Identifier: MIT */
/*
 * The history in one block, read out of libnn after nn_fit or nn_mpi_fit
 * (nn_history_len, nn_history), and written as CSV. The CSV carries
 * exactly the numbers the plot draws, so either can be checked against
 * the other.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "history.h"

/* The series of metric `m` (an nn_metric). */
static double *series(const history *h, int m)
{
    double *const all[] = {h->train_loss, h->train_acc, h->val_loss,
                           h->val_acc, h->lr};
    return all[m];
}

int history_read(history *h, const nn_net *net, size_t ran,
                 const double *seconds, int classify)
{
    size_t n = nn_history_len(net);
    memset(h, 0, sizeof *h);
    h->classify = classify;
    h->first = ran > n ? ran - n : 0;
    if (n == 0)
        return ST_OK;
    double *block = calloc(6 * n, sizeof *block);
    if (!block)
        return cli_fail("out of memory");
    double **parts[] = {&h->train_loss, &h->train_acc, &h->val_loss,
                        &h->val_acc, &h->lr, &h->seconds};
    for (size_t i = 0; i < 6; i++)
        *parts[i] = block + i * n;
    for (int m = 0; m < HISTORY_METRICS; m++) {
        int rc = nn_history(net, m, series(h, m), n);
        if (rc != NN_OK) {
            history_free(h);
            return cli_fail_nn("nn_history", rc, NULL);
        }
    }
    h->n = n;
    if (seconds)
        memcpy(h->seconds, seconds + h->first, n * sizeof *seconds);
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
        fprintf(out.f, "%zu", h->first + e + 1);
        cell(out.f, h->train_loss[e], 1);
        cell(out.f, h->train_acc[e], h->classify);
        cell(out.f, h->val_loss[e], h->validated);
        cell(out.f, h->val_acc[e], h->validated && h->classify);
        cell(out.f, h->lr[e], 1);
        fprintf(out.f, ",%.3f\n", h->seconds[e]);
    }
    return cli_out_commit(&out);
}
