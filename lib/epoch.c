/* SPDX-License-Identifier: MIT */
/*
 * Between epochs: the per-epoch history (a ring kept in the handle), the
 * schedule's step and early stopping's bookkeeping (the best validation
 * loss, its parameters, the epochs since), for nn_fit's loop and, through
 * nn_epoch_begin / nn_epoch_end / nn_epoch_should_stop /
 * nn_restore_best_weights, for training loops run outside it (libnn_mpi's).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The history keeps the last NN__HIST_CAP epochs of a call in a ring
 * allocated once, so that no later call allocates for it. */
int nn__history_reserve(nn_net *net, const char *fn)
{
    nn__history *h = &net->history;
    if (!h->block)
        h->block = malloc(NN__HIST_SERIES * NN__HIST_CAP * sizeof *h->block);
    NN__CHECK(net, h->block, NN_ENOMEM, "%s: cannot allocate the history",
              fn);
    return NN_OK;
}

int nn__best_reserve(nn_net *net, const char *fn)
{
    if (!net->best.params)
        net->best.params = malloc(net->n_params * sizeof(float));
    NN__CHECK(net, net->best.params, NN_ENOMEM,
              "%s: cannot allocate the best-weights copy", fn);
    return NN_OK;
}

void nn__epochs_restart(nn_net *net)
{
    net->history.len = 0;
    net->best.val_loss = HUGE_VAL;
    net->best.worse = 0;
}

static void record_history(nn_net *net, const double values[NN__HIST_SERIES])
{
    nn__history *h = &net->history;
    size_t slot = h->len % NN__HIST_CAP;
    for (int m = 0; m < NN__HIST_SERIES; m++)
        h->block[(size_t)m * NN__HIST_CAP + slot] = values[m];
    h->len++;
}

/* A validated epoch: a lower validation loss keeps the parameters (NaN
 * never is lower), any other counts one more epoch without improvement. */
static void keep_best(nn_net *net, double val_loss)
{
    nn__best *b = &net->best;
    if (val_loss < b->val_loss) {
        b->val_loss = val_loss;
        b->worse = 0;
        memcpy(b->params, net->params, net->n_params * sizeof(float));
    } else {
        b->worse++;
    }
}

void nn__epoch_end(nn_net *net, const double *metrics, size_t count,
                   int validated)
{
    double values[NN__HIST_SERIES];
    for (size_t m = 0; m < NN_HIST_LEARNING_RATE; m++)
        values[m] = m < count ? metrics[m] : NAN;
    values[NN_HIST_LEARNING_RATE] =
        net->set.learning_rate * net->sched.lr_factor;
    record_history(net, values);
    double val_loss = values[NN_HIST_VAL_LOSS];
    nn__schedule_end_epoch(net, isnan(val_loss) ? values[NN_HIST_TRAIN_LOSS]
                                                : val_loss);
    if (validated)
        keep_best(net, val_loss);
}

int nn__early_stop(const nn_net *net)
{
    size_t patience = net->set.early_stopping;
    return patience > 0 && net->best.worse >= patience;
}

void nn__restore_best(nn_net *net)
{
    if (net->best.val_loss < HUGE_VAL)
        memcpy(net->params, net->best.params, net->n_params * sizeof(float));
}

int nn_epoch_begin(nn_net *net)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_epoch_begin: net must not be NULL");
    nn__schedule_begin_epoch(net);
    return NN_OK;
}

int nn_epoch_end(nn_net *net, const double *metrics, size_t count)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_epoch_end: net must not be NULL");
    NN__CHECK(net, metrics && count >= 1 && count <= NN_HIST_LEARNING_RATE,
              NN_EINVAL, "nn_epoch_end: metrics must hold 1 to %d values, "
              "the training loss first (count is %zu)", NN_HIST_LEARNING_RATE,
              metrics ? count : 0);
    NN__CHECK(net, isfinite(metrics[0]), NN_ENUMERIC,
              "nn_epoch_end: the training loss (%g) is not finite",
              metrics[0]);
    for (size_t m = 1; m < count; m++)
        NN__CHECK(net, !isinf(metrics[m]), NN_ENUMERIC,
                  "nn_epoch_end: metric %zu is infinite (NaN marks a value "
                  "there is none of)", m);
    int validated = count > NN_HIST_VAL_LOSS &&
                    !isnan(metrics[NN_HIST_VAL_LOSS]);
    NN__TRY(nn__history_reserve(net, "nn_epoch_end"));
    if (validated)
        NN__TRY(nn__best_reserve(net, "nn_epoch_end"));
    nn__epoch_end(net, metrics, count, validated);
    return NN_OK;
}

int nn_epoch_should_stop(const nn_net *net, int *stop)
{
    NN__CHECK(NULL, net && stop, NN_EINVAL,
              "nn_epoch_should_stop: net and stop must not be NULL");
    *stop = nn__early_stop(net);
    return NN_OK;
}

int nn_restore_best_weights(nn_net *net)
{
    NN__CHECK(NULL, net, NN_EINVAL,
              "nn_restore_best_weights: net must not be NULL");
    nn__restore_best(net);
    return NN_OK;
}

int nn_history_clear(nn_net *net)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_history_clear: net must not be NULL");
    nn__epochs_restart(net);
    return NN_OK;
}

size_t nn_history_len(const nn_net *net)
{
    if (!net)
        return 0;
    return net->history.len < NN__HIST_CAP ? net->history.len : NN__HIST_CAP;
}

int nn_history(const nn_net *net, int metric, double *out, size_t cap)
{
    NN__CHECK(NULL, net && out, NN_EINVAL,
              "nn_history: net and out must not be NULL");
    NN__CHECK(NULL, metric >= 0 && metric < NN__HIST_SERIES, NN_EINVAL,
              "nn_history: metric %d is unknown", metric);
    /* Oldest kept epoch first: the ring starts after the newest entry once
     * it has wrapped. */
    const nn__history *h = &net->history;
    const double *series = h->block + (size_t)metric * NN__HIST_CAP;
    size_t kept = nn_history_len(net);
    size_t first = h->len > NN__HIST_CAP ? h->len % NN__HIST_CAP : 0;
    for (size_t i = 0; i < kept && i < cap; i++)
        out[i] = series[(first + i) % NN__HIST_CAP];
    return NN_OK;
}
