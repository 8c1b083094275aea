/* SPDX-License-Identifier: MIT */
/*
 * The per-feature input transform x' = (x - shift) * scale kept in the
 * network, so that a model standardised on its training set predicts on
 * raw data. Applied by forward.c; saved by format.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Installs a transform (shift and scale in one allocation) and grows the
 * batch buffers by the transformed-input rows, so that later passes do not
 * allocate; on failure the network is unchanged. */
static int install(nn_net *net, const float *shift, const float *scale)
{
    size_t n_in = net->sizes[0];
    float *block = malloc(2 * n_in * sizeof *block);
    NN__CHECK(net, block, NN_ENOMEM,
              "cannot allocate the input transform");
    memcpy(block, shift, n_in * sizeof *block);
    memcpy(block + n_in, scale, n_in * sizeof *block);
    nn__input_transform old = net->input;
    net->input.shift = block;
    net->input.scale = block + n_in;
    if (net->buf.cap > 0) {
        int rc = nn__buffers_reserve(net, net->buf.cap);
        if (rc != NN_OK) {
            net->input = old;
            free(block);
            return rc;
        }
    }
    free(old.shift);
    return NN_OK;
}

int nn_set_input_transform(nn_net *net, const float *shift,
                           const float *scale)
{
    NN__CHECK(NULL, net, NN_EINVAL,
              "nn_set_input_transform: net must not be NULL");
    NN__CHECK(net, !shift == !scale, NN_EINVAL,
              "nn_set_input_transform: shift and scale must both be given "
              "or both be NULL");
    if (!shift) {
        free(net->input.shift);
        net->input.shift = net->input.scale = NULL;
        return NN_OK;
    }
    size_t n_in = net->sizes[0];
    NN__CHECK(net, nn__all_finite(shift, n_in) && nn__all_finite(scale, n_in),
              NN_ENUMERIC,
              "nn_set_input_transform: shift or scale is not finite");
    return install(net, shift, scale);
}

int nn_standardize_inputs(nn_net *net, const float *x, size_t n)
{
    NN__CHECK(NULL, net, NN_EINVAL,
              "nn_standardize_inputs: net must not be NULL");
    NN__CHECK(net, x, NN_EINVAL, "nn_standardize_inputs: x must not be NULL");
    NN__TRY(nn__check_data(net, "nn_standardize_inputs", net, x, NULL, n));
    size_t n_in = net->sizes[0];
    double *sum = calloc(2 * n_in, sizeof *sum);
    float *stats = malloc(2 * n_in * sizeof *stats);
    if (!sum || !stats) {
        free(sum);
        free(stats);
        return nn__fail(net, NN_ENOMEM,
                        "nn_standardize_inputs: out of memory");
    }
    /* Two passes (mean, then squared deviations) avoid the cancellation of
     * E[x^2] - E[x]^2 on features with a large mean. */
    double *mean = sum, *var = sum + n_in;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n_in; j++)
            mean[j] += x[i * n_in + j];
    for (size_t j = 0; j < n_in; j++)
        mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n_in; j++) {
            double d = x[i * n_in + j] - mean[j];
            var[j] += d * d;
        }
    for (size_t j = 0; j < n_in; j++) {
        double std = sqrt(var[j] / (double)n);
        stats[j] = (float)mean[j];
        stats[n_in + j] = std < 1e-6 ? 1.0f : (float)(1.0 / std);
    }
    int rc = install(net, stats, stats + n_in);
    free(sum);
    free(stats);
    return rc;
}

int nn_get_input_transform(const nn_net *net, float *shift, float *scale)
{
    NN__CHECK(NULL, net, NN_EINVAL,
              "nn_get_input_transform: net must not be NULL");
    size_t n_in = net->sizes[0];
    for (size_t j = 0; j < n_in; j++) {
        if (shift)
            shift[j] = net->input.shift ? net->input.shift[j] : 0.0f;
        if (scale)
            scale[j] = net->input.scale ? net->input.scale[j] : 1.0f;
    }
    return net->input.shift != NULL;
}
