/* SPDX-License-Identifier: MIT */
/*
 * Inference: nn_forward and nn_cost through the handle's batch buffers;
 * the read-only nn_predict / nn_evaluate, which run in chunks on per-call
 * scratch memory so that many threads can share one handle; and the rule
 * of their accuracy (nn_predicted_classes, nn_count_correct), for the
 * training loops, tools and bindings that count it themselves.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Rows of nn_predict's and nn_evaluate's scratch: nn_evaluate runs in
 * chunks of this many rows, nn_predict's threads share them out. */
#define CHUNK_ROWS 256

/* ---- through the handle's buffers ---- */

int nn_forward(nn_net *net, const float *x, size_t batch, float *y_hat)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_forward: net must not be NULL");
    NN__CHECK(net, x && y_hat, NN_EINVAL,
              "nn_forward: x and y_hat must not be NULL");
    NN__TRY(nn__check_data(net, "nn_forward", net, x, NULL, batch));
    NN__TRY(nn__buffers_reserve(net, batch));
    nn__forward_train(net, x, batch, 0);
    size_t n_out = net->sizes[net->n_sizes - 1];
    const float *out = net->buf.act[net->n_sizes - 1];
    NN__TRY(nn__check_outputs(net, "nn_forward", out, 0, batch, n_out));
    memcpy(y_hat, out, batch * n_out * sizeof *y_hat);
    return NN_OK;
}

int nn_cost(nn_net *net, const float *x, const float *y, size_t batch,
            double *cost)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_cost: net must not be NULL");
    NN__CHECK(net, x && y && cost, NN_EINVAL,
              "nn_cost: x, y and cost must not be NULL");
    NN__TRY(nn__check_data(net, "nn_cost", net, x, y, batch));
    NN__TRY(nn__buffers_reserve(net, batch));
    nn__forward_train(net, x, batch, 0);
    size_t L = net->n_sizes - 1;
    double c = nn__loss_sum(net->set.loss, net->buf.act[L], net->buf.logits,
                            y, batch, net->sizes[L]) /
               (double)batch;
    NN__CHECK(net, isfinite(c), NN_ENUMERIC, "nn_cost: the cost is not finite");
    *cost = c;
    return NN_OK;
}

/* ---- nn_predict and nn_evaluate ---- */

/* Per-call scratch of the read-only forward pass, one allocation. */
typedef struct scratch {
    void *block;
    float **out;    /* n_sizes layer-output pointers for nn__infer */
    float *y_hat;   /* chunk x n_out (nn_evaluate only) */
    float *logits;  /* chunk x n_out (nn_evaluate only) */
} scratch;

/* Hidden layers ping-pong between two chunk x max_width slots, the
 * transformed inputs (out[0]) sharing the first with layer 2's outputs,
 * written only once layer 0 has read them. The last layer's outputs are
 * the caller's (nn_predict) or two more chunk x n_out buffers, outputs and
 * logits (nn_evaluate), never a slot: nn__infer's parts share out the
 * slots' rows, and the outputs must be packed. What nn.h promises. */
static int scratch_alloc(const nn_net *net, size_t chunk, int with_outputs,
                         scratch *s)
{
    size_t n_out = net->sizes[net->n_sizes - 1];
    size_t ping = chunk * net->max_width;
    size_t outputs = with_outputs ? chunk * n_out : 0;
    size_t pointers = net->n_sizes * sizeof(float *);
    s->block = malloc(pointers + (2 * ping + 2 * outputs) * sizeof(float));
    if (!s->block)
        return 0;
    s->out = s->block;
    float *f = (float *)((char *)s->block + pointers);
    for (size_t l = 1; l < net->n_sizes; l++)
        s->out[l] = f + (l % 2) * ping;
    s->out[0] = net->input.shift ? f : NULL;
    s->y_hat = with_outputs ? f + 2 * ping : NULL;
    s->logits = with_outputs ? f + 2 * ping + outputs : NULL;
    return 1;
}

int nn_predict(const nn_net *net, const float *x, size_t batch, float *y_hat)
{
    NN__CHECK(NULL, net && x && y_hat, NN_EINVAL,
              "nn_predict: net, x and y_hat must not be NULL");
    NN__TRY(nn__check_data(NULL, "nn_predict", net, x, NULL, batch));
    size_t chunk = batch < CHUNK_ROWS ? batch : CHUNK_ROWS;
    size_t n_out = net->sizes[net->n_sizes - 1];
    scratch s;
    NN__CHECK(NULL, scratch_alloc(net, chunk, 0, &s), NN_ENOMEM,
              "nn_predict: cannot allocate scratch for %zu rows", chunk);
    /* one pass: the threads take their rows through the chunk's slots a
     * share at a time, so a call waits for its threads once */
    s.out[net->n_sizes - 1] = y_hat;
    nn__infer(net, x, batch, s.out, chunk, net->max_width, NULL);
    free(s.block);
    return nn__check_outputs(NULL, "nn_predict", y_hat, 0, batch, n_out);
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
        nn__infer(net, x + start * n_in, rows, s.out, rows, net->max_width,
                  s.logits);
        rc = nn__check_outputs(NULL, "nn_evaluate", s.y_hat, start, rows,
                               n_out);
        loss += nn__loss_sum(net->set.loss, s.y_hat, s.logits, yc, rows,
                             n_out);
        correct += nn__count_correct(s.y_hat, yc, rows, n_out);
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

/* ---- accuracy ---- */

/* `rows` x `width` values exist and can be addressed. */
static int check_rows(const char *fn, size_t rows, size_t width)
{
    size_t count;
    NN__CHECK(NULL, rows >= 1 && width >= 1, NN_EINVAL,
              "%s: rows (%zu) and width (%zu) must be >= 1", fn, rows, width);
    NN__CHECK(NULL, nn__mul_ok(rows, width, &count) &&
                        count <= SIZE_MAX / sizeof(float),
              NN_ESHAPE, "%s: %zu rows of %zu values are too many to "
              "address", fn, rows, width);
    return NN_OK;
}

int nn_predicted_classes(const float *y, size_t rows, size_t width,
                         size_t *classes)
{
    NN__CHECK(NULL, y && classes, NN_EINVAL,
              "nn_predicted_classes: y and classes must not be NULL");
    NN__TRY(check_rows("nn_predicted_classes", rows, width));
    nn__predicted_classes(y, rows, width, classes);
    return NN_OK;
}

int nn_count_correct(const float *y_hat, const float *y, size_t rows,
                     size_t width, size_t *correct)
{
    NN__CHECK(NULL, y_hat && y && correct, NN_EINVAL,
              "nn_count_correct: y_hat, y and correct must not be NULL");
    NN__TRY(check_rows("nn_count_correct", rows, width));
    *correct = nn__count_correct(y_hat, y, rows, width);
    return NN_OK;
}
