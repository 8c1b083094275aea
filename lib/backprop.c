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
#include <stdatomic.h>

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

/* One layer's weight gradient dW = in^T delta (n_in x n_out), computed a
 * block of rows at a time on the backend's threads (one product each, on
 * one thread): each thread checks its rows for NaN and infinity while
 * they are in its cache, in the same parallel region, instead of in a
 * second pass. */
typedef struct weight_gradient {
    const float *in, *delta;
    float *dw;
    size_t n_in, n_out, batch;
    atomic_int finite;
} weight_gradient;

static inline void weight_gradient_rows(void *ctx, size_t lo, size_t hi)
{
    weight_gradient *w = ctx;
    float *dw = w->dw + lo * w->n_out;
    nn__gemm(1, 0, hi - lo, w->n_out, w->batch, w->in + lo, w->n_in,
             w->delta, w->n_out, dw, w->n_out);
    if (!nn__all_finite(dw, (hi - lo) * w->n_out))
        atomic_store_explicit(&w->finite, 0, memory_order_relaxed);
}

/* dW_l into the gradient buffer; 1 when layer l's whole gradient is
 * finite (its bias gradient, if any, is complete by then). */
static int layer_gradient(nn_net *net, size_t l, const float *in,
                          const float *delta, size_t batch)
{
    const nn__layer *layer = &net->layers[l];
    weight_gradient w = {in, delta, net->grads + layer->w_off, layer->n_in,
                         layer->n_out, batch, 1};
    nn__parallel_for(layer->n_in, layer->n_in * layer->n_out * batch,
                     weight_gradient_rows, &w);
    int finite = atomic_load_explicit(&w.finite, memory_order_relaxed);
    if (nn__has_bias(net))
        finite &= nn__all_finite(net->grads + layer->b_off, layer->n_out);
    return finite;
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
    double cost = nn__loss_delta(net->set.loss, out_layer->act, act[n_layers],
                                 net->buf.logits, y, batch, out_layer->n_out,
                                 batch, delta) /
                  (double)batch;
    if (bias)
        nn__column_sums(delta, batch, out_layer->n_out,
                        net->grads + out_layer->b_off);

    int all_finite = 1;
    for (size_t l = n_layers; l-- > 0;) {
        const nn__layer *layer = &net->layers[l];
        const float *in = l == 0 ? input : act[l];
        all_finite &= layer_gradient(net, l, in, delta, batch);
        if (l == 0)
            break; /* the input layer needs no delta */
        nn__gemm(0, 1, batch, layer->n_in, layer->n_out, delta, layer->n_out,
                 net->params + layer->w_off, layer->n_out, next, layer->n_in);
        hidden_delta(net, l, next, batch,
                     bias ? net->grads + net->layers[l - 1].b_off : NULL);
        float *tmp = delta;
        delta = next;
        next = tmp;
    }
    *finite = all_finite;
    return cost;
}
