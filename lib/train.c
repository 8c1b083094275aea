/* SPDX-License-Identifier: MIT */
/*
 * Training: nn_backprop and nn_step, and nn_train / nn_fit's minibatch
 * loop (seeded shuffling, gather buffers kept between calls, validation).
 * What happens between epochs (history, schedule, early stopping's
 * account) is epoch.c's, shared with training loops run outside nn_fit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- nn_backprop and nn_step ---- */

/* Backprop on data already checked and buffers already reserved. */
static int backprop_checked(nn_net *net, const float *x, const float *y,
                            size_t batch, double *cost)
{
    net->grads_valid = 0;
    /* The dropout masks come from the handle's generator: a failed pass
     * must leave it as it was, like everything else. */
    uint64_t rng[4];
    memcpy(rng, net->rng, sizeof rng);
    int finite;
    double c = nn__backprop(net, x, y, batch, &finite);
    if (!isfinite(c) || !finite) {
        memcpy(net->rng, rng, sizeof rng);
        return nn__fail(net, NN_ENUMERIC, "nn_backprop: %s is not finite",
                        isfinite(c) ? "a gradient" : "the cost");
    }
    net->grads_valid = 1;
    if (cost)
        *cost = c;
    return NN_OK;
}

int nn_backprop(nn_net *net, const float *x, const float *y, size_t batch,
                double *cost)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_backprop: net must not be NULL");
    net->grads_valid = 0;
    NN__CHECK(net, x && y, NN_EINVAL, "nn_backprop: x and y must not be NULL");
    NN__TRY(nn__check_data(net, "nn_backprop", net, x, y, batch));
    NN__TRY(nn__buffers_reserve(net, batch));
    return backprop_checked(net, x, y, batch, cost);
}

int nn_step(nn_net *net)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_step: net must not be NULL");
    NN__CHECK(net, net->grads_valid, NN_ESTATE,
              "nn_step: no gradients: call nn_backprop first (and check it "
              "succeeded)");
    nn__step(net);
    return NN_OK;
}

/* ---- nn_train and nn_fit ---- */

/* Grows the order array and gather buffers; on failure keeps the old ones. */
static int reserve_train(nn_net *net, const char *fn, size_t n, size_t batch,
                         int shuffle)
{
    nn__train_buffers *t = &net->train;
    size_t n_in = net->sizes[0], n_out = net->sizes[net->n_sizes - 1];
    size_t *order = NULL;
    float *xb = NULL, *yb = NULL;
    int grow_order = shuffle && n > t->n_cap;
    int grow_batch = shuffle && batch > t->batch_cap;
    if (grow_order && !(order = malloc(n * sizeof *order)))
        goto fail;
    if (grow_batch && (!(xb = malloc(batch * n_in * sizeof *xb)) ||
                       !(yb = malloc(batch * n_out * sizeof *yb))))
        goto fail;
    if (grow_order) {
        free(t->order);
        t->order = order;
        t->n_cap = n;
    }
    if (grow_batch) {
        free(t->xb);
        free(t->yb);
        t->xb = xb;
        t->yb = yb;
        t->batch_cap = batch;
    }
    return NN_OK;
fail:
    free(order);
    free(xb);
    free(yb);
    return nn__fail(net, NN_ENOMEM, "%s: cannot allocate buffers for %zu "
                    "samples in batches of %zu", fn, n, batch);
}

/* Each epoch's order depends on the generator alone (it starts from the
 * identity), so training split over several calls, or resumed from a
 * model file, shuffles exactly as one long call would. */
static void shuffle_order(uint64_t rng[4], size_t *order, size_t n)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)nn__rng_below(rng, (uint64_t)i + 1);
        size_t tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}

int nn_shuffle(nn_net *net, size_t *order, size_t n)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_shuffle: net must not be NULL");
    NN__CHECK(net, order && n >= 1, NN_EINVAL,
              "nn_shuffle: order must not be NULL and n must be >= 1");
    shuffle_order(net->rng, order, n);
    return NN_OK;
}

/* A minibatch's rows, copied from the training set in order. */
typedef struct gathering {
    const float *src;
    size_t width;
    const size_t *rows;
    float *dst;
} gathering;

static void gather_range(void *ctx, size_t lo, size_t hi)
{
    const gathering *g = ctx;
    for (size_t i = lo; i < hi; i++)
        memcpy(g->dst + i * g->width, g->src + g->rows[i] * g->width,
               g->width * sizeof *g->dst);
}

/* The rows are scattered over the training set, so each is a wait on
 * memory: threads that wait side by side take a batch sooner. */
static void gather(const float *src, size_t width, const size_t *rows,
                   size_t count, float *dst)
{
    gathering g = {src, width, rows, dst};
    nn__parallel_for(count, count * width, gather_range, &g);
}

/* Allocates everything a training call needs before its first step, so
 * that a failure changes nothing. */
static int reserve_fit(nn_net *net, const char *fn, size_t n, size_t batch,
                       int validate)
{
    NN__TRY(reserve_train(net, fn, n, batch, net->set.shuffle));
    NN__TRY(nn__buffers_reserve(net, batch));
    NN__TRY(nn__history_reserve(net, fn));
    if (validate)
        NN__TRY(nn__best_reserve(net, fn));
    return NN_OK;
}

/* What one epoch of minibatch steps saw. */
typedef struct epoch_result {
    double loss_sum;  /* sum over samples of the minibatch losses */
    size_t correct;   /* samples the minibatch output got right */
    size_t samples;   /* samples stepped on */
    int stop;         /* the progress callback asked to stop */
} epoch_result;

static int run_epoch(nn_net *net, const float *x, const float *y, size_t n,
                     size_t epoch, nn_progress_fn progress, void *user,
                     epoch_result *r)
{
    size_t n_in = net->sizes[0], n_out = net->sizes[net->n_sizes - 1];
    size_t batch = net->set.batch_size < n ? net->set.batch_size : n;
    size_t steps = (n + batch - 1) / batch;
    const size_t *order = net->train.order;
    if (net->set.shuffle)
        shuffle_order(net->rng, net->train.order, n);
    for (size_t step = 0; step < steps; step++) {
        size_t start = step * batch;
        size_t rows = n - start < batch ? n - start : batch;
        const float *xb = x + start * n_in, *yb = y + start * n_out;
        if (net->set.shuffle) {
            gather(x, n_in, order + start, rows, net->train.xb);
            gather(y, n_out, order + start, rows, net->train.yb);
            xb = net->train.xb;
            yb = net->train.yb;
        }
        double cost = 0.0; /* set by backprop_checked's success */
        NN__TRY(backprop_checked(net, xb, yb, rows, &cost));
        r->loss_sum += cost * (double)rows;
        r->correct += nn__count_correct(net->buf.act[net->n_sizes - 1], yb,
                                        rows, n_out);
        r->samples += rows;
        nn__step(net);
        if (progress && progress(user, epoch, step, steps, cost)) {
            r->stop = 1;
            break;
        }
    }
    return NN_OK;
}

/* Validation loss and accuracy through the handle's buffers, in chunks of
 * at most the buffers' rows, without dropout: no allocation. */
static void validate(nn_net *net, const float *x, const float *y, size_t n,
                     double *loss, double *accuracy)
{
    size_t n_in = net->sizes[0], n_out = net->sizes[net->n_sizes - 1];
    size_t chunk = net->buf.cap;
    double sum = 0.0;
    size_t correct = 0;
    for (size_t start = 0; start < n; start += chunk) {
        size_t rows = n - start < chunk ? n - start : chunk;
        const float *yc = y + start * n_out;
        nn__forward_train(net, x + start * n_in, rows, 0);
        const float *y_hat = net->buf.act[net->n_sizes - 1];
        sum += nn__loss_sum(net->set.loss, y_hat, net->buf.logits, yc, rows,
                            n_out);
        correct += nn__count_correct(y_hat, yc, rows, n_out);
    }
    *loss = sum / (double)n;
    *accuracy = (double)correct / (double)n;
}

static int check_fit_args(nn_net *net, const char *fn, const float *x,
                          const float *y, size_t n, const float *x_val,
                          const float *y_val, size_t n_val, size_t epochs)
{
    NN__CHECK(NULL, net, NN_EINVAL, "%s: net must not be NULL", fn);
    NN__CHECK(net, x && y, NN_EINVAL, "%s: x and y must not be NULL", fn);
    NN__CHECK(net, n >= 1 && epochs >= 1, NN_EINVAL,
              "%s: n (%zu) and epochs (%zu) must be >= 1", fn, n, epochs);
    NN__CHECK(net, n_val == 0 || (x_val && y_val), NN_EINVAL,
              "%s: x_val and y_val must not be NULL when n_val > 0", fn);
    NN__TRY(nn__check_data(net, fn, net, x, y, n));
    if (n_val > 0)
        NN__TRY(nn__check_data(net, "nn_fit (validation data)", net, x_val,
                               y_val, n_val));
    return NN_OK;
}

/* nn_fit and nn_train; `fn` names the entry point in error details. */
static int fit(nn_net *net, const char *fn, const float *x, const float *y,
               size_t n, const float *x_val, const float *y_val,
               size_t n_val, size_t epochs, nn_progress_fn progress,
               nn_epoch_fn on_epoch, void *user)
{
    NN__TRY(check_fit_args(net, fn, x, y, n, x_val, y_val, n_val, epochs));
    size_t batch = net->set.batch_size < n ? net->set.batch_size : n;
    NN__TRY(reserve_fit(net, fn, n, batch, n_val > 0));

    nn__epochs_restart(net);
    int rc = NN_OK;
    for (size_t epoch = 0; epoch < epochs; epoch++) {
        nn__schedule_begin_epoch(net);
        epoch_result r = {0.0, 0, 0, 0};
        rc = run_epoch(net, x, y, n, epoch, progress, user, &r);
        if (rc != NN_OK || r.samples == 0)
            return rc;
        double train_loss = r.loss_sum / (double)r.samples;
        double val_loss = NAN, val_acc = NAN;
        if (n_val > 0)
            validate(net, x_val, y_val, n_val, &val_loss, &val_acc);
        double metrics[] = {train_loss, (double)r.correct / (double)r.samples,
                            val_loss, val_acc};
        nn__epoch_end(net, metrics, NN_HIST_LEARNING_RATE, n_val > 0);
        int stop = r.stop || nn__early_stop(net);
        if (on_epoch && on_epoch(user, net, epoch))
            stop = 1;
        if (stop)
            break;
    }
    nn__restore_best(net);
    return rc;
}

int nn_fit(nn_net *net, const float *x, const float *y, size_t n,
           const float *x_val, const float *y_val, size_t n_val,
           size_t epochs, nn_progress_fn progress, nn_epoch_fn on_epoch,
           void *user)
{
    return fit(net, "nn_fit", x, y, n, x_val, y_val, n_val, epochs, progress,
               on_epoch, user);
}

int nn_train(nn_net *net, const float *x, const float *y, size_t n,
             size_t epochs, nn_progress_fn progress, void *user)
{
    return fit(net, "nn_train", x, y, n, NULL, NULL, 0, epochs, progress,
               NULL, user);
}
