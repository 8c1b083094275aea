/* SPDX-License-Identifier: MIT */
/*
 * The batch forward pass: the optional input transform, then for each
 * weight layer one GEMM over the whole batch (z = a W, row-major, the
 * parameter layout of the contract) and one fused pass that adds the bias
 * and applies the activation; training passes then apply dropout masks.
 * Inference passes take their products from nn__gemm_rows instead of the
 * BLAS, so that their answers do not depend on the batch.
 */
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

const float *nn__forward(const nn_net *net, const float *x, size_t batch,
                         float *const *out, float *logits,
                         float *const *mask, int inference)
{
    const float *in = x;
    if (net->input.shift) {
        transform_inputs(&net->input, x, batch, net->sizes[0], out[0]);
        in = out[0];
    }
    const float *first_input = in;
    size_t n_layers = net->n_sizes - 1;
    for (size_t l = 0; l < n_layers; l++) {
        const nn__layer *layer = &net->layers[l];
        int last = l + 1 == n_layers;
        float *z = (last && logits) ? logits : out[l + 1];
        const float *w = net->params + layer->w_off;
        if (inference)
            nn__gemm_rows(batch, layer->n_out, layer->n_in, in, layer->n_in,
                          w, layer->n_out, z, layer->n_out);
        else
            nn__gemm(0, 0, batch, layer->n_out, layer->n_in, 1.0f, in,
                     layer->n_in, w, layer->n_out, 0.0f, z, layer->n_out);
        const float *bias = nn__has_bias(net) ? net->params + layer->b_off
                                              : NULL;
        nn__activate(layer->act, bias, z, out[l + 1], batch, layer->n_out);
        if (mask && !last)
            apply_mask(out[l + 1], mask[l + 1], batch * layer->n_out);
        in = out[l + 1];
    }
    return first_input;
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
    return nn__forward(net, x, batch, net->buf.act, net->buf.logits,
                       dropout ? net->buf.mask : NULL, !training);
}
