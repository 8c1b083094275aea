/* SPDX-License-Identifier: MIT */
/*
 * Backpropagation into the contiguous gradient buffer, from the activations
 * the training forward pass left in the batch buffers:
 *   dW_l = a_l^T delta_{l+1},  db_l = column sums of delta_{l+1},
 *   delta_l = (delta_{l+1} W_l^T) .* f'(a_l)   (not for the input layer),
 * with the dropout masks of the forward pass applied to delta_l too.
 * Indexing and derivations: docs/design.md, "Backpropagation".
 *
 * The element-wise work of a hidden layer is one pass: f' and the column
 * sums of the bias gradient are computed together, row by row, so each
 * delta is read once after its product (the sums keep their order, row 0
 * first, whether fused or not).
 */
#include <string.h>

#include "internal.h"
#include "vectorize.h"

#define LEAKY_SLOPE 0.01f

static NN__VECTORIZE void column_sums(const float *restrict delta,
                                      size_t rows, size_t cols,
                                      float *restrict out)
{
    memset(out, 0, cols * sizeof *out);
    for (size_t i = 0; i < rows; i++) {
        const float *restrict di = delta + i * cols;
        for (size_t j = 0; j < cols; j++)
            out[j] += di[j];
    }
}

/* delta .* f'(a) for one activation, with the column sums into db; the
 * expression `D` maps (a, d) to the new d, as nn__activation_backward. */
#define FUSED_BACKWARD(name, D)                                                \
    static NN__VECTORIZE void name(const float *restrict a,                    \
                                   float *restrict delta, size_t rows,         \
                                   size_t cols, float *restrict db)            \
    {                                                                          \
        memset(db, 0, cols * sizeof *db);                                      \
        for (size_t i = 0; i < rows; i++) {                                    \
            const float *restrict ai = a + i * cols;                           \
            float *restrict di = delta + i * cols;                             \
            for (size_t j = 0; j < cols; j++) {                                \
                float av = ai[j], d = di[j];                                   \
                d = (D);                                                       \
                di[j] = d;                                                     \
                db[j] += d;                                                    \
            }                                                                  \
        }                                                                      \
    }

FUSED_BACKWARD(relu_backward, av > 0.0f ? d : 0.0f)
FUSED_BACKWARD(leaky_relu_backward, av > 0.0f ? d : LEAKY_SLOPE * d)
FUSED_BACKWARD(sigmoid_backward, d * (av * (1.0f - av)))
FUSED_BACKWARD(tanh_backward, d * (1.0f - av * av))

/* delta of hidden layer l from delta_{l+1} W_l^T already in `delta`:
 * times f'(a_l) and the dropout mask, and db_{l-1} when `db` is not NULL. */
static void hidden_delta(nn_net *net, size_t l, float *delta, size_t batch,
                         float *db)
{
    nn_activation act = net->layers[l - 1].act;
    const float *a = net->buf.act[l];
    size_t cols = net->sizes[l], n = batch * cols;
    if (net->buf.masks_drawn) {
        nn__dropout_backward(act, a, net->buf.mask[l], delta, n);
        if (db)
            column_sums(delta, batch, cols, db);
        return;
    }
    if (!db) {
        nn__activation_backward(act, a, delta, n);
        return;
    }
    switch (act) {
    case NN_RELU:
        relu_backward(a, delta, batch, cols, db);
        break;
    case NN_LEAKY_RELU:
        leaky_relu_backward(a, delta, batch, cols, db);
        break;
    case NN_SIGMOID:
        sigmoid_backward(a, delta, batch, cols, db);
        break;
    case NN_TANH:
        tanh_backward(a, delta, batch, cols, db);
        break;
    default: /* identity; softmax is never a hidden layer */
        column_sums(delta, batch, cols, db);
        break;
    }
}

double nn__backprop(nn_net *net, const float *x, const float *y, size_t batch)
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
        column_sums(delta, batch, out_layer->n_out,
                    net->grads + out_layer->b_off);

    for (size_t l = n_layers; l-- > 0;) {
        const nn__layer *layer = &net->layers[l];
        const float *in = l == 0 ? input : act[l];
        nn__gemm(1, 0, layer->n_in, layer->n_out, batch, 1.0f, in,
                 layer->n_in, delta, layer->n_out, 0.0f,
                 net->grads + layer->w_off, layer->n_out);
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
    return cost;
}
