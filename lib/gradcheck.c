/* SPDX-License-Identifier: MIT */
/*
 * nn_gradcheck: central finite differences of a plain double-precision
 * forward pass and cost, compared with nn_backprop's float gradient (with
 * its input transform and its dropout masks held fixed). Speed
 * does not matter here; independence from the fast path does, so nothing
 * below shares code with forward.c or loss.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct dnet {
    const nn_net *net;
    double *theta;  /* n_params */
    double *a, *b;  /* batch x max_width each: layer input and output */
} dnet;

static double activate(nn_activation act, double z)
{
    switch (act) {
    case NN_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case NN_TANH: return tanh(z);
    case NN_RELU: return z > 0.0 ? z : 0.0;
    case NN_LEAKY_RELU: return z > 0.0 ? z : 0.01 * z;
    default: return z; /* identity; softmax is applied per row */
    }
}

/* Loss of one sample from the last layer's pre-activations z. */
static double sample_loss(int loss, nn_activation act, const double *z,
                          const float *y, size_t k_out)
{
    double max = z[0], sum = 0.0, cost = 0.0;
    for (size_t k = 1; k < k_out; k++)
        max = z[k] > max ? z[k] : max;
    for (size_t k = 0; k < k_out; k++)
        sum += exp(z[k] - max);
    double lse = max + log(sum);
    for (size_t k = 0; k < k_out; k++) {
        double yk = y[k];
        double p = act == NN_SOFTMAX ? exp(z[k] - lse) : activate(act, z[k]);
        if (loss == NN_LOSS_CROSS_ENTROPY)
            cost -= yk * (z[k] - lse);
        else if (loss == NN_LOSS_BINARY_CROSS_ENTROPY)
            cost -= yk * log(p) + (1.0 - yk) * log1p(-p);
        else
            cost += 0.5 * (yk - p) * (yk - p);
    }
    return cost;
}

static double dnet_cost(dnet *d, const float *x, const float *y, size_t batch)
{
    const nn_net *net = d->net;
    size_t n_layers = net->n_sizes - 1;
    size_t n_in = net->sizes[0];
    for (size_t i = 0; i < batch * n_in; i++) {
        const nn__input_transform *t = &net->input;
        size_t j = i % n_in;
        d->a[i] = t->shift ? ((double)x[i] - t->shift[j]) * t->scale[j] : x[i];
    }
    /* nn_backprop's dropout masks, held fixed for the differences. */
    float *const *mask = net->buf.masks_drawn ? net->buf.mask : NULL;
    for (size_t l = 0; l < n_layers; l++) {
        const nn__layer *layer = &net->layers[l];
        const double *w = d->theta + layer->w_off;
        const double *bias = nn__has_bias(net) ? d->theta + layer->b_off
                                               : NULL;
        int last = l + 1 == n_layers;
        for (size_t r = 0; r < batch; r++)
            for (size_t j = 0; j < layer->n_out; j++) {
                double z = bias ? bias[j] : 0.0;
                for (size_t i = 0; i < layer->n_in; i++)
                    z += d->a[r * layer->n_in + i] * w[i * layer->n_out + j];
                /* The last layer stays as logits for the loss. */
                size_t o = r * layer->n_out + j;
                d->b[o] = last ? z : activate(layer->act, z);
                if (mask && !last)
                    d->b[o] *= mask[l + 1][o];
            }
        double *tmp = d->a;
        d->a = d->b;
        d->b = tmp;
    }
    const nn__layer *out = nn__last_layer(net);
    double cost = 0.0;
    for (size_t r = 0; r < batch; r++)
        cost += sample_loss(net->set.loss, out->act, d->a + r * out->n_out,
                            y + r * out->n_out, out->n_out);
    return cost / (double)batch;
}

int nn_gradcheck(nn_net *net, const float *x, const float *y, size_t batch,
                 double *max_rel_error)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_gradcheck: net must not be NULL");
    NN__CHECK(net, x && y && max_rel_error, NN_EINVAL,
              "nn_gradcheck: x, y and max_rel_error must not be NULL");
    NN__TRY(nn__check_data(net, "nn_gradcheck", net, x, y, batch));
    size_t rows_floats = batch * net->max_width;
    dnet d = {net, calloc(net->n_params, sizeof(double)),
              calloc(rows_floats, sizeof(double)),
              calloc(rows_floats, sizeof(double))};
    int rc = NN_ENOMEM;
    if (!d.theta || !d.a || !d.b) {
        nn__fail(net, rc, "nn_gradcheck: cannot allocate double buffers");
        goto done;
    }
    rc = nn_backprop(net, x, y, batch, NULL);
    if (rc != NN_OK)
        goto done;
    for (size_t i = 0; i < net->n_params; i++)
        d.theta[i] = net->params[i];
    double worst = 0.0;
    for (size_t i = 0; i < net->n_params; i++) {
        double orig = d.theta[i], h = 1e-3 * fmax(1.0, fabs(orig));
        d.theta[i] = orig + h;
        double plus = dnet_cost(&d, x, y, batch);
        d.theta[i] = orig - h;
        double minus = dnet_cost(&d, x, y, batch);
        d.theta[i] = orig;
        double numeric = (plus - minus) / (2.0 * h);
        double analytic = net->grads[i];
        double err = fabs(analytic - numeric) /
                     fmax(fabs(analytic) + fabs(numeric), 1e-6);
        worst = err > worst ? err : worst;
    }
    *max_rel_error = worst;
done:
    free(d.theta);
    free(d.a);
    free(d.b);
    return rc;
}
