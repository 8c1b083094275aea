/* SPDX-License-Identifier: MIT */
/*
 * Backpropagation into the contiguous gradient buffer, from the activations
 * the training forward pass left in the batch buffers:
 *   dW_l = a_l^T delta_{l+1},  db_l = column sums of delta_{l+1},
 *   delta_l = (delta_{l+1} W_l^T) .* f'(a_l)   (not for the input layer),
 * with the dropout masks of the forward pass applied to delta_l too.
 * Indexing and derivations: docs/design.md, "Backpropagation".
 *
 * This file holds the products and the buffers; the element-wise work of
 * a hidden layer (f', the dropout mask, the bias gradient's column sums)
 * is one pass of activation.c's.
 */
#include "internal.h"

/* delta of hidden layer l from delta_{l+1} W_l^T already in `delta`:
 * times f'(a_l) and the dropout mask, and db_{l-1} when `db` is not NULL. */
static void hidden_delta(nn_net *net, size_t l, float *delta, size_t batch,
                         float *db)
{
    nn__hidden_backward(net->layers[l - 1].act, net->buf.act[l],
                        net->buf.masks_drawn ? net->buf.mask[l] : NULL, delta,
                        batch, net->sizes[l], db);
}

/* 1 when layer l's gradient (its weights and bias, contiguous) is finite:
 * checked as soon as it is complete, while the product's output is still
 * in cache, rather than in a pass over all the gradients afterwards. */
static int layer_finite(const nn_net *net, size_t l)
{
    const nn__layer *layer = &net->layers[l];
    size_t n = layer->n_in * layer->n_out + (nn__has_bias(net) ? layer->n_out
                                                                : 0);
    return nn__all_finite(net->grads + layer->w_off, n);
}

double nn__backprop(nn_net *net, const float *x, const float *y, size_t batch,
                    int *finite)
{
    const nn__layer *out_layer = nn__last_layer(net);
    size_t n_layers = net->n_sizes - 1;
    int bias = nn__has_bias(net);
    float *const *act = net->buf.act;
    float *delta = net->buf.delta[0];
    float *next = net->buf.delta[1];

    const float *input = nn__forward_train(net, x, batch, 1);
    double cost = nn__loss_sum(net->set.loss, act[n_layers], net->buf.logits,
                               y, batch, out_layer->n_out) /
                  (double)batch;
    nn__loss_delta(net->set.loss, out_layer->act, act[n_layers], y, batch,
                   out_layer->n_out, batch, delta);
    if (bias)
        nn__column_sums(delta, batch, out_layer->n_out,
                        net->grads + out_layer->b_off);

    int all_finite = 1;
    for (size_t l = n_layers; l-- > 0;) {
        const nn__layer *layer = &net->layers[l];
        const float *in = l == 0 ? input : act[l];
        nn__gemm(1, 0, layer->n_in, layer->n_out, batch, 1.0f, in,
                 layer->n_in, delta, layer->n_out, 0.0f,
                 net->grads + layer->w_off, layer->n_out);
        all_finite &= layer_finite(net, l);
        if (l == 0)
            break; /* the input layer needs no delta */
        nn__gemm(0, 1, batch, layer->n_in, layer->n_out, 1.0f, delta,
                 layer->n_out, net->params + layer->w_off, layer->n_out, 0.0f,
                 next, layer->n_in);
        hidden_delta(net, l, next, batch,
                     bias ? net->grads + net->layers[l - 1].b_off : NULL);
        float *tmp = delta;
        delta = next;
        next = tmp;
    }
    *finite = all_finite;
    return cost;
}
