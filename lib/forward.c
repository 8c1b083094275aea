/* SPDX-License-Identifier: MIT */
/*
 * The batch forward pass: the optional input transform, then for each
 * weight layer one GEMM over the whole batch (z = a W, row-major, the
 * parameter layout of the contract) and one fused pass that adds the bias
 * and applies the activation; training passes then apply dropout masks.
 * Inference passes take their products from nn__gemm_rows instead of the
 * BLAS, so that their answers do not depend on the batch, and run split
 * by rows (nn__infer): a sample's outputs depend on its row alone, so each
 * thread can take its rows through all the layers without waiting for
 * the others between layers.
 */
#include <stdatomic.h>

#include "internal.h"

static void transform_inputs(const nn__input_transform *t, const float *x,
                             size_t rows, size_t cols, float *out)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            out[i * cols + j] = (x[i * cols + j] - t->shift[j]) * t->scale[j];
}

static void apply_mask(float *restrict a, const float *restrict mask,
                       size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] *= mask[i];
}

/* Where rows from `row` on begin in a layer's buffer of `width` floats a
 * row: packed (pitch 0), or, in ping-pong scratch, `pitch` floats a row
 * apart whatever the layer's width, so that two layers sharing a slot
 * never overlap between parts. */
static float *rows_from(float *buf, size_t row, size_t width, size_t pitch)
{
    return buf ? buf + row * (pitch ? pitch : width) : NULL;
}

/* `rows` rows of x through the network into y (the last layer's outputs,
 * packed) and logits (packed; NULL: the last layer in place in y). The
 * transformed inputs and the hidden layers' outputs go to out[0..L-1]
 * from row `slot_row` on (rows_from). `mask` (whole training batches
 * only) holds the dropout multipliers. Returns the first layer's input. */
static const float *forward_rows(const nn_net *net, const float *x,
                                 size_t rows, float *const *out,
                                 size_t slot_row, size_t pitch, float *y,
                                 float *logits, float *const *mask,
                                 int inference)
{
    const float *in = x;
    if (net->input.shift) {
        float *t = rows_from(out[0], slot_row, net->sizes[0], pitch);
        transform_inputs(&net->input, in, rows, net->sizes[0], t);
        in = t;
    }
    const float *first_input = in;
    size_t n_layers = net->n_sizes - 1;
    for (size_t l = 0; l < n_layers; l++) {
        const nn__layer *layer = &net->layers[l];
        int last = l + 1 == n_layers;
        float *a = last ? y
                        : rows_from(out[l + 1], slot_row, layer->n_out, pitch);
        float *z = (last && logits) ? logits : a;
        const float *w = net->params + layer->w_off;
        if (inference)
            nn__gemm_rows(rows, layer->n_out, layer->n_in, in, layer->n_in,
                          w, layer->n_out, z, layer->n_out);
        else
            nn__gemm(0, 0, rows, layer->n_out, layer->n_in, in, layer->n_in,
                     w, layer->n_out, z, layer->n_out);
        const float *bias = nn__has_bias(net) ? net->params + layer->b_off
                                              : NULL;
        nn__activate(layer->act, bias, z, a, rows, layer->n_out);
        if (mask && !last)
            apply_mask(a, mask[l + 1], rows * layer->n_out);
        in = a;
    }
    return first_input;
}

const float *nn__forward(const nn_net *net, const float *x, size_t batch,
                         float *const *out, float *logits,
                         float *const *mask)
{
    return forward_rows(net, x, batch, out, 0, 0, out[net->n_sizes - 1],
                        logits, mask, 0);
}

/* One inference pass: its parts share out the rows of the ping-pong
 * slots, and take the batch's rows from `next`. */
typedef struct inference {
    const nn_net *net;
    const float *x;
    size_t batch;
    float *const *out;
    size_t pitch;
    float *logits;
    atomic_size_t next; /* the first row no part has taken yet */
} inference;

/* A part: slot rows [lo, hi) are its own, and it takes the batch's rows
 * hi - lo at a time, the next ones no part has taken, until none are
 * left. A part whose thread runs late (a busy machine) takes fewer rows
 * instead of keeping the others waiting; a row's outputs are the same
 * bits whichever part computes them. */
static void infer_part(void *ctx, size_t lo, size_t hi)
{
    inference *p = ctx;
    const nn_net *net = p->net;
    size_t n_in = net->sizes[0], n_out = net->sizes[net->n_sizes - 1];
    float *y = p->out[net->n_sizes - 1];
    size_t piece = hi - lo;
    for (;;) {
        size_t r = atomic_fetch_add_explicit(&p->next, piece,
                                             memory_order_relaxed);
        if (r >= p->batch)
            return;
        size_t rows = p->batch - r < piece ? p->batch - r : piece;
        forward_rows(net, p->x + r * n_in, rows, p->out, lo, p->pitch,
                     y + r * n_out, p->logits ? p->logits + r * n_out : NULL,
                     NULL, 1);
    }
}

void nn__infer(const nn_net *net, const float *x, size_t batch,
               float *const *out, size_t slot_rows, size_t pitch,
               float *logits)
{
    inference p = {net, x, batch, out, pitch, logits, 0};
    /* Fewer rows than two blocks stay on the calling thread, where a lone
     * sample's latency is the point. */
    size_t work = batch >= 2 * NN__PARALLEL_BLOCK ? batch * net->n_params : 0;
    nn__parallel_for(slot_rows, work, infer_part, &p);
}

/* Inverted dropout: a unit is kept with probability 1 - p and then scaled
 * by 1 / (1 - p), so that inference needs no rescaling. */
static void draw_masks(nn_net *net, size_t batch)
{
    float keep_scale = (float)(1.0 / (1.0 - net->set.dropout));
    for (size_t l = 1; l + 1 < net->n_sizes; l++)
        nn__rng_dropout_mask(net->rng, net->buf.mask[l],
                             batch * net->sizes[l], net->set.dropout,
                             keep_scale);
}

const float *nn__forward_train(nn_net *net, const float *x, size_t batch,
                               int training)
{
    int dropout = training && nn__needs_masks(net);
    if (dropout)
        draw_masks(net, batch);
    net->buf.masks_drawn = dropout;
    net->buf.rows = batch;
    if (!training) {
        nn__infer(net, x, batch, net->buf.act, batch, 0, net->buf.logits);
        return net->input.shift ? net->buf.act[0] : x;
    }
    return nn__forward(net, x, batch, net->buf.act, net->buf.logits,
                       dropout ? net->buf.mask : NULL);
}
