/* SPDX-License-Identifier: MIT */
/*
 * nn_mpi_fit: nn_fit's loop, data-parallel. The global data set is the
 * ranks' rows concatenated in rank order; every rank draws the same epoch
 * order from the same generator, takes the rows of each global batch that
 * it holds, and runs nn_backprop on them. A vote then confirms every rank
 * succeeded (and carries the batch's loss and any stop request), the
 * gradients are averaged weighted by rows, and every rank applies nn_step
 * to the same bytes. Semantics and guarantees are documented in nn_mpi.h.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

typedef struct fit {
    nn_mpi__ctx c;
    nn_net *net;
    const float *x, *y, *x_val, *y_val;
    size_t n, n_val, epochs;          /* this rank's rows; epochs */
    size_t n_in, n_out, n_params;
    size_t total, total_val, offset;  /* global rows; this rank's first */
    size_t batch, steps;              /* global batch, steps per epoch */
    int shuffle;
    int primed;    /* a backprop succeeded here, so nn_step takes grads */
    int stop;      /* a callback on this rank asked to stop */
    int pending;   /* the last nn_step's status, told at the next vote */
    size_t *order; /* the epoch's order of global rows (shuffle only) */
    float *xb, *yb; /* this rank's rows of one batch (shuffle only) */
    uint64_t state; /* hash of the network's state, agreed on by all */
} fit;

/* What one epoch's steps saw, over all ranks. */
typedef struct epoch_result {
    double loss_sum; /* sum over samples of the batch losses */
    double correct;  /* samples the minibatch output got right */
    double samples;  /* samples stepped on */
    int stopped;     /* a callback somewhere asked to stop */
} epoch_result;

/* ---- setting up ---- */

/* A hash of everything that must be equal on every rank for their steps
 * to stay equal: sizes, settings, input transform, parameters. */
static int state_hash(nn_net *net, uint64_t *out)
{
    size_t n_in = nn_layer_size(net, 0);
    float *transform = malloc(2 * n_in * sizeof *transform);
    if (!transform)
        return nn_mpi__local(NN_ENOMEM, "out of memory");
    uint64_t h = nn_mpi__shape_hash(net);
    for (int option = 0; option < NN_OPT_COUNT; option++) {
        unsigned flags = 0;
        double value = 0.0;
        (void)nn_option_bounds(option, NULL, NULL, &flags);
        if (!(flags & NN_OPTION_MODEL))
            continue; /* process-wide (threads): may differ */
        (void)nn_get(net, option, &value);
        h = nn_mpi__hash(h, &value, sizeof value);
    }
    int has = nn_get_input_transform(net, transform, transform + n_in);
    h = nn_mpi__hash(h, &has, sizeof has);
    h = nn_mpi__hash(h, transform, 2 * n_in * sizeof *transform);
    free(transform);
    *out = nn_mpi__hash(h, nn_params(net),
                        nn_param_count(net) * sizeof(float));
    return NN_OK;
}

static int check_data(const fit *f)
{
    int rc = nn_mpi__check_finite("x", f->x, f->n, f->n_in);
    if (rc == NN_OK)
        rc = nn_mpi__check_finite("y", f->y, f->n, f->n_out);
    if (rc == NN_OK)
        rc = nn_mpi__check_finite("x_val", f->x_val, f->n_val, f->n_in);
    if (rc == NN_OK)
        rc = nn_mpi__check_finite("y_val", f->y_val, f->n_val, f->n_out);
    return rc;
}

/* This rank's arguments, before any collective. */
static int check_args(fit *f)
{
    if (!f->net)
        return nn_mpi__local(NN_EINVAL, "net is NULL");
    if ((f->n > 0 && (!f->x || !f->y)) ||
        (f->n_val > 0 && (!f->x_val || !f->y_val)))
        return nn_mpi__local(NN_EINVAL, "x, y (and x_val, y_val) must not "
                             "be NULL when this rank has rows");
    if (f->epochs < 1)
        return nn_mpi__local(NN_EINVAL, "epochs is 0");
    f->n_in = nn_layer_size(f->net, 0);
    f->n_out = nn_layer_size(f->net, nn_num_layers(f->net) - 1);
    f->n_params = nn_param_count(f->net);
    if (f->n_params > INT_MAX)
        return nn_mpi__local(NN_ESHAPE, "%zu parameters: more than INT_MAX "
                             "cannot be reduced", f->n_params);
    int rc = check_data(f);
    return rc == NN_OK ? state_hash(f->net, &f->state) : rc;
}

static int allocate(fit *f)
{
    size_t cap = f->batch < f->n ? f->batch : f->n;
    if (f->shuffle) {
        f->order = malloc(f->total * sizeof *f->order);
        f->xb = malloc((cap ? cap : 1) * f->n_in * sizeof *f->xb);
        f->yb = malloc((cap ? cap : 1) * f->n_out * sizeof *f->yb);
        if (!f->order || !f->xb || !f->yb)
            return nn_mpi__local(NN_ENOMEM, "cannot allocate the order of "
                                 "%zu rows and a batch", f->total);
    }
    return NN_OK;
}

/* The rest of setting up, once the global sizes are known. */
static int size_up(fit *f, const nn_mpi__tally *t)
{
    double batch = 32.0, shuffle = 1.0;
    f->total = (size_t)t->count;
    f->total_val = (size_t)t->count2;
    f->offset = nn_mpi__prefix(&f->c, NN_MPI__COUNT);
    (void)nn_get(f->net, NN_OPT_BATCH_SIZE, &batch);
    (void)nn_get(f->net, NN_OPT_SHUFFLE, &shuffle);
    f->batch = (size_t)batch < f->total ? (size_t)batch : f->total;
    f->steps = (f->total + f->batch - 1) / f->batch;
    f->shuffle = shuffle != 0.0;
    return allocate(f);
}

/* Two votes: on every rank's arguments and state, then on allocations. */
static int setup(fit *f)
{
    double vote[NN_MPI__VOTE_LEN];
    nn_mpi__tally t;
    nn_mpi__vote_init(vote, check_args(f));
    vote[NN_MPI__COUNT] = (double)f->n;
    vote[NN_MPI__COUNT2] = (double)f->n_val;
    nn_mpi__set_check(vote, nn_mpi__hash(f->state, &f->epochs,
                                         sizeof f->epochs));
    int rc = nn_mpi__vote(&f->c, vote, NN_EINVAL, "the network's "
                          "parameters, settings or input transform, or "
                          "the number of epochs", &t);
    if (rc != NN_OK)
        return rc;
    if (t.count < 1.0)
        return nn_mpi__all(&f->c, NN_EINVAL, "no rank has training rows");
    nn_mpi__vote_init(vote, size_up(f, &t));
    return nn_mpi__vote(&f->c, vote, NN_EINVAL, "", &t);
}

/* ---- one step ---- */

/* This rank's rows of global batch `step`: a run of its own rows without
 * shuffling, gathered from wherever the order put them with it. */
static size_t slice(fit *f, size_t step, const float **xb, const float **yb)
{
    size_t start = step * f->batch;
    size_t end = f->total - start < f->batch ? f->total : start + f->batch;
    if (!f->shuffle) {
        size_t lo = start > f->offset ? start : f->offset;
        size_t hi = end < f->offset + f->n ? end : f->offset + f->n;
        if (hi <= lo)
            return 0;
        *xb = f->x + (lo - f->offset) * f->n_in;
        *yb = f->y + (lo - f->offset) * f->n_out;
        return hi - lo;
    }
    size_t rows = 0;
    for (size_t k = start; k < end; k++) {
        size_t local = f->order[k] - f->offset; /* wraps when below */
        if (local >= f->n)
            continue;
        memcpy(f->xb + rows * f->n_in, f->x + local * f->n_in,
               f->n_in * sizeof *f->xb);
        memcpy(f->yb + rows * f->n_out, f->y + local * f->n_out,
               f->n_out * sizeof *f->yb);
        rows++;
    }
    *xb = f->xb;
    *yb = f->yb;
    return rows;
}

static int backprop(fit *f, size_t rows, const float *xb, const float *yb,
                    double vote[NN_MPI__VOTE_LEN])
{
    if (rows == 0) {
        int rc = f->primed ? NN_OK : nn_mpi__prime(f->net);
        f->primed = rc == NN_OK;
        return rc;
    }
    double cost;
    int rc = nn_backprop(f->net, xb, yb, rows, &cost);
    if (rc != NN_OK)
        return nn_mpi__libnn(rc, f->net, "nn_backprop");
    f->primed = 1;
    /* The rows the minibatch got right, from nn_backprop's outputs, as
     * nn_fit counts them. */
    size_t correct = 0;
    rc = nn_count_correct(nn_outputs(f->net, NULL), yb, rows, f->n_out,
                          &correct);
    if (rc != NN_OK)
        return nn_mpi__libnn(rc, NULL, "nn_count_correct");
    vote[NN_MPI__SUM] = cost * (double)rows;
    vote[NN_MPI__SUM2] = (double)correct;
    return NN_OK;
}

static int run_step(fit *f, size_t epoch, size_t step,
                    nn_progress_fn progress, void *user, epoch_result *r)
{
    const float *xb = NULL, *yb = NULL;
    size_t rows = slice(f, step, &xb, &yb);
    double vote[NN_MPI__VOTE_LEN];
    nn_mpi__tally t;
    nn_mpi__vote_init(vote, NN_OK);
    /* A stop asked here ends training at this vote: no backprop needed. */
    if (f->pending || !f->stop)
        vote[NN_MPI__STATUS] = f->pending ? f->pending
                                          : backprop(f, rows, xb, yb, vote);
    vote[NN_MPI__STOP] = f->stop;
    vote[NN_MPI__COUNT] = (double)rows;
    int rc = nn_mpi__vote(&f->c, vote, NN_EINVAL, "", &t);
    if (rc != NN_OK)
        return rc;
    if (t.stop) { /* asked after the previous update: stop before this one */
        r->stopped = 1;
        return NN_OK;
    }
    rc = nn_mpi__sum_floats(&f->c, nn_grads(f->net), f->n_params,
                            (float)rows, (float)t.count);
    if (rc != NN_OK)
        return rc;
    int step_rc = nn_step(f->net);
    if (step_rc != NN_OK)
        f->pending = nn_mpi__libnn(step_rc, f->net, "nn_step");
    r->loss_sum += t.sum;
    r->correct += t.sum2;
    r->samples += t.count;
    if (progress && progress(user, epoch, step, f->steps, t.sum / t.count))
        f->stop = 1;
    return NN_OK;
}

/* ---- epochs ---- */

/* Validation over all ranks (which also tells the last nn_step's status
 * and any stop request); fills the epoch's metrics. */
static int end_epoch(fit *f, epoch_result *r, double m[NN_MPI_METRICS])
{
    double vote[NN_MPI__VOTE_LEN], cost = 0.0, accuracy = 0.0;
    nn_mpi__tally t;
    int rc = f->pending;
    if (rc == NN_OK && f->n_val > 0 &&
        (rc = nn_evaluate(f->net, f->x_val, f->y_val, f->n_val, &cost,
                          &accuracy)) != NN_OK)
        rc = nn_mpi__libnn(rc, NULL, "nn_evaluate (validation)");
    nn_mpi__vote_init(vote, rc);
    vote[NN_MPI__STOP] = f->stop;
    vote[NN_MPI__SUM] = cost * (double)f->n_val;
    vote[NN_MPI__SUM2] = nearbyint(accuracy * (double)f->n_val);
    if ((rc = nn_mpi__vote(&f->c, vote, NN_EINVAL, "", &t)) != NN_OK)
        return rc;
    r->stopped |= t.stop;
    double lr = 0.0, none = NAN, val = (double)f->total_val;
    (void)nn_get(f->net, NN_OPT_CURRENT_LR, &lr);
    m[NN_HIST_TRAIN_LOSS] = r->loss_sum / r->samples;
    m[NN_HIST_TRAIN_ACCURACY] = r->correct / r->samples;
    m[NN_HIST_VAL_LOSS] = f->total_val ? t.sum / val : none;
    m[NN_HIST_VAL_ACCURACY] = f->total_val ? t.sum2 / val : none;
    m[NN_HIST_LEARNING_RATE] = lr;
    return NN_OK;
}

/* Every rank draws the epoch's order from its network's generator, the
 * one nn_train shuffles with (so the order follows the network's seed and
 * saved state, and the generators stay in step), and rank 0's order is
 * sent to all: with dropout the ranks' generators drift apart, since each
 * draws as many masks as it has rows. */
static void draw_order(fit *f)
{
    nn_shuffle(f->net, f->order, f->total);
    size_t bytes = f->total * sizeof *f->order, chunk = INT_MAX;
    for (size_t done = 0; done < bytes; done += chunk) {
        int len = (int)(bytes - done < chunk ? bytes - done : chunk);
        MPI_Bcast((char *)f->order + done, len, MPI_BYTE, 0, f->c.comm);
    }
}

static int run_epoch(fit *f, size_t epoch, nn_progress_fn progress,
                     void *user, epoch_result *r)
{
    if (f->shuffle)
        draw_order(f);
    for (size_t step = 0; step < f->steps && !r->stopped; step++) {
        int rc = run_step(f, epoch, step, progress, user, r);
        if (rc != NN_OK)
            return rc;
    }
    return NN_OK;
}

/* The epoch's metrics (the same on every rank) into the history, the
 * schedule's step and early stopping's account (the best weights, the
 * epochs since), through libnn's epoch hook on every rank: their networks
 * stay alike. Its one failure, the first allocation of the history or of
 * the best weights' copy, is agreed on. */
static int record_epoch(fit *f, const double m[NN_MPI_METRICS])
{
    double vote[NN_MPI__VOTE_LEN];
    nn_mpi__tally t;
    int rc = nn_epoch_end(f->net, m, NN_HIST_LEARNING_RATE);
    nn_mpi__vote_init(vote, rc == NN_OK ? NN_OK
                                        : nn_mpi__libnn(rc, f->net,
                                                        "nn_epoch_end"));
    return nn_mpi__vote(&f->c, vote, NN_EINVAL, "", &t);
}

static int train(fit *f, nn_progress_fn progress, nn_mpi_epoch_fn on_epoch,
                 void *user)
{
    (void)nn_history_clear(f->net); /* and early stopping's account */
    for (size_t epoch = 0; epoch < f->epochs; epoch++) {
        epoch_result r = {0.0, 0.0, 0.0, 0};
        double m[NN_MPI_METRICS];
        (void)nn_epoch_begin(f->net); /* the schedule's rate, every rank */
        int rc = run_epoch(f, epoch, progress, user, &r);
        if (rc == NN_OK && r.samples > 0)
            rc = end_epoch(f, &r, m);
        if (rc == NN_OK && r.samples > 0)
            rc = record_epoch(f, m);
        if (rc != NN_OK)
            return rc; /* parameters of the last good step, as nn_fit */
        if (r.samples == 0)
            break; /* stopped before this epoch's first update */
        int stop = r.stopped, early = 0;
        (void)nn_epoch_should_stop(f->net, &early); /* as nn_fit stops */
        if (early)
            stop = 1;
        if (on_epoch && on_epoch(user, f->net, epoch, m))
            f->stop = 1; /* told at the next vote, before any update */
        if (stop)
            break;
    }
    (void)nn_restore_best_weights(f->net); /* with validation data */
    return NN_OK;
}

int nn_mpi_fit(nn_net *net, MPI_Comm comm, const float *x, const float *y,
               size_t n_local, const float *x_val, const float *y_val,
               size_t n_val_local, size_t epochs, nn_progress_fn progress,
               nn_mpi_epoch_fn on_epoch, void *user)
{
    fit f;
    memset(&f, 0, sizeof f);
    f.net = net;
    f.x = x;
    f.y = y;
    f.n = n_local;
    f.x_val = x_val;
    f.y_val = y_val;
    f.n_val = n_val_local;
    f.epochs = epochs;
    int rc = nn_mpi__open(&f.c, "nn_mpi_fit", comm);
    if (rc != NN_OK)
        return rc;
    rc = setup(&f);
    if (rc == NN_OK)
        rc = train(&f, progress, on_epoch, user);
    free(f.order);
    free(f.xb);
    free(f.yb);
    nn_mpi__close(&f.c);
    return rc;
}

int nn_mpi_train(nn_net *net, MPI_Comm comm, const float *x, const float *y,
                 size_t n_local, size_t epochs, nn_progress_fn progress,
                 void *user)
{
    return nn_mpi_fit(net, comm, x, y, n_local, NULL, NULL, 0, epochs,
                      progress, NULL, user);
}
