/* SPDX-License-Identifier: MIT */
/*
 * The helpers around the four verbs: nn_train's minibatch loop (seeded
 * shuffling, gather buffers kept between calls), and the read-only
 * nn_predict / nn_evaluate, which run in chunks on per-call scratch memory
 * so that many threads can share one handle.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Rows per chunk of nn_predict and nn_evaluate: bounds their scratch. */
#define CHUNK_ROWS 256

/* ---- nn_train ---- */

/* Grows the order array and gather buffers; on failure keeps the old ones. */
static int reserve_train(nn_net *net, size_t n, size_t batch, int shuffle)
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
    return nn__fail(net, NN_ENOMEM, "nn_train: cannot allocate buffers for "
                    "%zu samples in batches of %zu", n, batch);
}

static void shuffle_order(uint64_t rng[4], size_t *order, size_t n)
{
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)nn__rng_below(rng, (uint64_t)i + 1);
        size_t tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}

static void gather(const float *src, size_t width, const size_t *rows,
                   size_t count, float *dst)
{
    for (size_t i = 0; i < count; i++)
        memcpy(dst + i * width, src + rows[i] * width, width * sizeof *dst);
}

int nn_train(nn_net *net, const float *x, const float *y, size_t n,
             size_t epochs, nn_progress_fn progress, void *user)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_train: net must not be NULL");
    NN__CHECK(net, x && y, NN_EINVAL, "nn_train: x and y must not be NULL");
    NN__CHECK(net, n >= 1 && epochs >= 1, NN_EINVAL,
              "nn_train: n (%zu) and epochs (%zu) must be >= 1", n, epochs);
    NN__TRY(nn__check_data(net, "nn_train", net, x, y, n));
    size_t batch = net->set.batch_size < n ? net->set.batch_size : n;
    int shuffle = net->set.shuffle;
    NN__TRY(reserve_train(net, n, batch, shuffle));
    NN__TRY(nn__buffers_reserve(net, batch));

    size_t n_in = net->sizes[0], n_out = net->sizes[net->n_sizes - 1];
    size_t steps = (n + batch - 1) / batch;
    size_t *order = net->train.order;
    if (shuffle)
        for (size_t i = 0; i < n; i++)
            order[i] = i;
    for (size_t epoch = 0; epoch < epochs; epoch++) {
        if (shuffle)
            shuffle_order(net->rng, order, n);
        for (size_t step = 0; step < steps; step++) {
            size_t start = step * batch;
            size_t rows = n - start < batch ? n - start : batch;
            const float *xb = x + start * n_in, *yb = y + start * n_out;
            if (shuffle) {
                gather(x, n_in, order + start, rows, net->train.xb);
                gather(y, n_out, order + start, rows, net->train.yb);
                xb = net->train.xb;
                yb = net->train.yb;
            }
            double cost;
            NN__TRY(nn__backprop_checked(net, xb, yb, rows, &cost));
            nn__step(net);
            if (progress && progress(user, epoch, step, steps, cost))
                return NN_OK;
        }
    }
    return NN_OK;
}

/* ---- nn_predict and nn_evaluate ---- */

/* Per-call scratch of the read-only forward pass, one allocation. */
typedef struct scratch {
    void *block;
    float **out;   /* n_sizes layer-output pointers for nn__forward */
    float *ping[2];/* chunk x max_width each */
    float *y_hat;  /* chunk x n_out (nn_evaluate only) */
    float *logits; /* chunk x n_out (nn_evaluate only) */
} scratch;

static int scratch_alloc(const nn_net *net, size_t chunk, int with_outputs,
                         scratch *s)
{
    size_t n_out = net->sizes[net->n_sizes - 1];
    size_t floats = 2 * chunk * net->max_width +
                    (with_outputs ? 2 * chunk * n_out : 0);
    size_t pointers = net->n_sizes * sizeof(float *);
    s->block = malloc(pointers + floats * sizeof(float));
    if (!s->block)
        return 0;
    s->out = s->block;
    float *f = (float *)((char *)s->block + pointers);
    s->ping[0] = f;
    s->ping[1] = f + chunk * net->max_width;
    s->y_hat = with_outputs ? s->ping[1] + chunk * net->max_width : NULL;
    s->logits = with_outputs ? s->y_hat + chunk * n_out : NULL;
    for (size_t l = 1; l < net->n_sizes; l++)
        s->out[l] = s->ping[l % 2];
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
    for (size_t start = 0; start < batch; start += chunk) {
        size_t rows = batch - start < chunk ? batch - start : chunk;
        s.out[net->n_sizes - 1] = y_hat + start * n_out;
        nn__forward(net, x + start * n_in, rows, s.out, NULL);
    }
    free(s.block);
    return NN_OK;
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
    for (size_t start = 0; start < n; start += chunk) {
        size_t rows = n - start < chunk ? n - start : chunk;
        const float *yc = y + start * n_out;
        nn__forward(net, x + start * n_in, rows, s.out, s.logits);
        loss += nn__loss_sum(net->set.loss, s.y_hat, s.logits, yc, rows,
                             n_out);
        correct += count_correct(s.y_hat, yc, rows, n_out);
    }
    free(s.block);
    loss /= (double)n;
    NN__CHECK(NULL, isfinite(loss), NN_ENUMERIC,
              "nn_evaluate: the cost is not finite");
    if (cost)
        *cost = loss;
    if (accuracy)
        *accuracy = (double)correct / (double)n;
    return NN_OK;
}
