/* SPDX-License-Identifier: MIT */
/*
 * The helpers around the four verbs: nn_train / nn_fit's minibatch loop
 * (seeded shuffling, gather buffers kept between calls, schedules,
 * validation, early stopping, history), and the read-only
 * nn_predict / nn_evaluate, which run in chunks on per-call scratch memory
 * so that many threads can share one handle.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Rows per chunk of nn_predict and nn_evaluate: bounds their scratch. */
#define CHUNK_ROWS 256

/* ---- nn_train and nn_fit ---- */

static size_t count_correct(const float *y_hat, const float *y, size_t rows,
                            size_t cols);

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

static void gather(const float *src, size_t width, const size_t *rows,
                   size_t count, float *dst)
{
    for (size_t i = 0; i < count; i++)
        memcpy(dst + i * width, src + rows[i] * width, width * sizeof *dst);
}

/* The history keeps the last NN__HIST_CAP epochs of a call in a ring
 * allocated once, so that no later call allocates for it. */
static int reserve_history(nn_net *net, const char *fn)
{
    nn__history *h = &net->history;
    if (!h->block)
        h->block = malloc(NN__HIST_SERIES * NN__HIST_CAP * sizeof *h->block);
    NN__CHECK(net, h->block, NN_ENOMEM, "%s: cannot allocate the history",
              fn);
    return NN_OK;
}

static void record_history(nn_net *net, const double values[NN__HIST_SERIES])
{
    nn__history *h = &net->history;
    size_t slot = h->len % NN__HIST_CAP;
    for (int m = 0; m < NN__HIST_SERIES; m++)
        h->block[(size_t)m * NN__HIST_CAP + slot] = values[m];
    h->len++;
}

/* The end of every epoch, nn_fit's and nn_epoch_end's: the history entry
 * (with the learning rate the epoch ran at), then the schedule's step,
 * which watches the validation loss when there is one. The history ring
 * exists (reserve_history). */
static void end_epoch(nn_net *net, const double *metrics, size_t count)
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
    NN__TRY(reserve_history(net, "nn_epoch_end"));
    end_epoch(net, metrics, count);
    return NN_OK;
}

int nn_history_clear(nn_net *net)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_history_clear: net must not be NULL");
    net->history.len = 0;
    return NN_OK;
}

/* Allocates everything a training call needs before its first step, so
 * that a failure changes nothing. */
static int reserve_fit(nn_net *net, const char *fn, size_t n, size_t batch,
                       int validate)
{
    NN__TRY(reserve_train(net, fn, n, batch, net->set.shuffle));
    NN__TRY(nn__buffers_reserve(net, batch));
    NN__TRY(reserve_history(net, fn));
    if (validate && !net->best_params) {
        net->best_params = malloc(net->n_params * sizeof(float));
        NN__CHECK(net, net->best_params, NN_ENOMEM,
                  "%s: cannot allocate the best-weights copy", fn);
    }
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
        double cost;
        NN__TRY(nn__backprop_checked(net, xb, yb, rows, &cost));
        r->loss_sum += cost * (double)rows;
        r->correct += count_correct(net->buf.act[net->n_sizes - 1], yb, rows,
                                    n_out);
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
        correct += count_correct(y_hat, yc, rows, n_out);
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

    net->history.len = 0;
    double best_val = HUGE_VAL;
    size_t epochs_worse = 0;
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
        end_epoch(net, metrics, NN_HIST_LEARNING_RATE);
        int stop = r.stop;
        if (n_val > 0) {
            if (val_loss < best_val) {
                best_val = val_loss;
                epochs_worse = 0;
                memcpy(net->best_params, net->params,
                       net->n_params * sizeof(float));
            } else if (net->set.early_stopping > 0 &&
                       ++epochs_worse >= net->set.early_stopping) {
                stop = 1;
            }
        }
        if (on_epoch && on_epoch(user, net, epoch))
            stop = 1;
        if (stop)
            break;
    }
    if (n_val > 0 && best_val < HUGE_VAL)
        memcpy(net->params, net->best_params, net->n_params * sizeof(float));
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

/* ---- nn_predict and nn_evaluate ---- */

/* Per-call scratch of the read-only forward pass, one allocation. */
typedef struct scratch {
    void *block;
    float **out;    /* n_sizes layer-output pointers for nn__forward */
    float *y_hat;   /* chunk x n_out (nn_evaluate only) */
    float *logits;  /* chunk x n_out (nn_evaluate only) */
} scratch;

/* Hidden layers ping-pong between two chunk x max_width buffers. The
 * transformed inputs (out[0]) share the first with layer 2's outputs,
 * written only once layer 0 has read them, and nn_evaluate's outputs are
 * the last layer's ping-pong slot, so that only its logits need a third
 * buffer: the two and three buffers nn.h promises. */
static int scratch_alloc(const nn_net *net, size_t chunk, int with_outputs,
                         scratch *s)
{
    size_t n_out = net->sizes[net->n_sizes - 1];
    size_t ping = chunk * net->max_width;
    size_t logits = with_outputs ? chunk * n_out : 0;
    size_t pointers = net->n_sizes * sizeof(float *);
    s->block = malloc(pointers + (2 * ping + logits) * sizeof(float));
    if (!s->block)
        return 0;
    s->out = s->block;
    float *f = (float *)((char *)s->block + pointers);
    for (size_t l = 1; l < net->n_sizes; l++)
        s->out[l] = f + (l % 2) * ping;
    s->out[0] = net->input.shift ? f : NULL;
    s->y_hat = with_outputs ? s->out[net->n_sizes - 1] : NULL;
    s->logits = with_outputs ? f + 2 * ping : NULL;
    return 1;
}

int nn_predict(const nn_net *net, const float *x, size_t batch, float *y_hat)
{
    NN__CHECK(NULL, net && x && y_hat, NN_EINVAL,
              "nn_predict: net, x and y_hat must not be NULL");
    NN__TRY(nn__check_data(NULL, "nn_predict", net, x, NULL, batch));
    size_t chunk = batch < CHUNK_ROWS ? batch : CHUNK_ROWS;
    size_t n_in = net->sizes[0], n_out = net->sizes[net->n_sizes - 1];
    scratch s;
    NN__CHECK(NULL, scratch_alloc(net, chunk, 0, &s), NN_ENOMEM,
              "nn_predict: cannot allocate scratch for %zu rows", chunk);
    int rc = NN_OK;
    for (size_t start = 0; start < batch && rc == NN_OK; start += chunk) {
        size_t rows = batch - start < chunk ? batch - start : chunk;
        s.out[net->n_sizes - 1] = y_hat + start * n_out;
        nn__forward(net, x + start * n_in, rows, s.out, NULL, NULL, 1);
        rc = nn__check_outputs(NULL, "nn_predict", y_hat + start * n_out,
                               start, rows, n_out);
    }
    free(s.block);
    return rc;
}

/* Index of the largest value; ties go to the lowest index. */
static size_t argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t k = 1; k < n; k++)
        if (v[k] > v[best])
            best = k;
    return best;
}

static size_t count_correct(const float *y_hat, const float *y, size_t rows,
                            size_t cols)
{
    size_t correct = 0;
    for (size_t i = 0; i < rows; i++) {
        const float *p = y_hat + i * cols, *t = y + i * cols;
        if (cols == 1)
            correct += (p[0] > 0.5f) == (t[0] > 0.5f);
        else
            correct += argmax(p, cols) == argmax(t, cols);
    }
    return correct;
}

int nn_evaluate(const nn_net *net, const float *x, const float *y, size_t n,
                double *cost, double *accuracy)
{
    NN__CHECK(NULL, net && x && y, NN_EINVAL,
              "nn_evaluate: net, x and y must not be NULL");
    NN__TRY(nn__check_data(NULL, "nn_evaluate", net, x, y, n));
    size_t chunk = n < CHUNK_ROWS ? n : CHUNK_ROWS;
    size_t n_in = net->sizes[0], n_out = net->sizes[net->n_sizes - 1];
    scratch s;
    NN__CHECK(NULL, scratch_alloc(net, chunk, 1, &s), NN_ENOMEM,
              "nn_evaluate: cannot allocate scratch for %zu rows", chunk);
    s.out[net->n_sizes - 1] = s.y_hat;
    double loss = 0.0;
    size_t correct = 0;
    int rc = NN_OK;
    for (size_t start = 0; start < n && rc == NN_OK; start += chunk) {
        size_t rows = n - start < chunk ? n - start : chunk;
        const float *yc = y + start * n_out;
        nn__forward(net, x + start * n_in, rows, s.out, s.logits, NULL, 1);
        rc = nn__check_outputs(NULL, "nn_evaluate", s.y_hat, start, rows,
                               n_out);
        loss += nn__loss_sum(net->set.loss, s.y_hat, s.logits, yc, rows,
                             n_out);
        correct += count_correct(s.y_hat, yc, rows, n_out);
    }
    free(s.block);
    NN__TRY(rc);
    loss /= (double)n;
    NN__CHECK(NULL, isfinite(loss), NN_ENUMERIC,
              "nn_evaluate: the mean loss is not finite (the outputs are, "
              "but their loss against the targets overflows)");
    if (cost)
        *cost = loss;
    if (accuracy)
        *accuracy = (double)correct / (double)n;
    return NN_OK;
}
