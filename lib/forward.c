/* SPDX-License-Identifier: MIT */
/*
 * The batch forward pass: for each weight layer one GEMM over the whole
 * batch (z = a W, row-major, the parameter layout of the contract), then
 * one fused pass that adds the bias and applies the activation.
 */
#include "internal.h"

void nn__forward(const nn_net *net, const float *x, size_t batch,
                 float *const *out, float *logits)
{
    const float *in = x;
    size_t n_layers = net->n_sizes - 1;
    for (size_t l = 0; l < n_layers; l++) {
        const nn__layer *layer = &net->layers[l];
        int last = l + 1 == n_layers;
        float *z = (last && logits) ? logits : out[l + 1];
        nn__gemm(0, 0, batch, layer->n_out, layer->n_in, 1.0f, in,
                 layer->n_in, net->params + layer->w_off, layer->n_out, 0.0f,
                 z, layer->n_out);
        const float *bias = nn__has_bias(net) ? net->params + layer->b_off
                                              : NULL;
        nn__activate(layer->act, bias, z, out[l + 1], batch, layer->n_out);
        in = out[l + 1];
    }
}

void nn__forward_train(nn_net *net, const float *x, size_t batch)
{
    nn__forward(net, x, batch, net->buf.act, net->buf.logits);
}
