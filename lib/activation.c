/* SPDX-License-Identifier: MIT */
/*
 * Activations and their derivatives. The forward pass fuses the bias add
 * with the activation (one pass over z); derivatives are computed from the
 * outputs a = f(z), so backprop needs no stored pre-activations.
 */
#include <math.h>

#include "internal.h"

#define LEAKY_SLOPE 0.01f

static float sigmoid(float z)
{
    return 1.0f / (1.0f + expf(-z));
}

/* Numerically stable softmax of one row: shifted by its maximum. */
static void softmax_row(const float *z, float *a, size_t cols)
{
    float max = z[0];
    for (size_t j = 1; j < cols; j++)
        max = z[j] > max ? z[j] : max;
    float sum = 0.0f;
    for (size_t j = 0; j < cols; j++) {
        a[j] = expf(z[j] - max);
        sum += a[j];
    }
    float inv = 1.0f / sum;
    for (size_t j = 0; j < cols; j++)
        a[j] *= inv;
}

static void activate_row(nn_activation act, const float *restrict bias,
                         float *z, float *a, size_t cols)
{
    if (bias)
        for (size_t j = 0; j < cols; j++)
            z[j] += bias[j];
    switch (act) {
    case NN_IDENTITY:
        if (a != z)
            for (size_t j = 0; j < cols; j++)
                a[j] = z[j];
        break;
    case NN_SIGMOID:
        for (size_t j = 0; j < cols; j++)
            a[j] = sigmoid(z[j]);
        break;
    case NN_TANH:
        for (size_t j = 0; j < cols; j++)
            a[j] = tanhf(z[j]);
        break;
    case NN_RELU:
        for (size_t j = 0; j < cols; j++)
            a[j] = z[j] > 0.0f ? z[j] : 0.0f;
        break;
    case NN_LEAKY_RELU:
        for (size_t j = 0; j < cols; j++)
            a[j] = z[j] > 0.0f ? z[j] : LEAKY_SLOPE * z[j];
        break;
    case NN_SOFTMAX:
        softmax_row(z, a, cols);
        break;
    }
}

void nn__activate(nn_activation act, const float *bias, float *z, float *a,
                  size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows; i++)
        activate_row(act, bias, z + i * cols, a + i * cols, cols);
}

void nn__activation_backward(nn_activation act, const float *restrict a,
                             float *restrict delta, size_t n)
{
    switch (act) {
    case NN_IDENTITY:
    case NN_SOFTMAX: /* handled by the loss; never reached for hidden layers */
        break;
    case NN_SIGMOID:
        for (size_t i = 0; i < n; i++)
            delta[i] *= a[i] * (1.0f - a[i]);
        break;
    case NN_TANH:
        for (size_t i = 0; i < n; i++)
            delta[i] *= 1.0f - a[i] * a[i];
        break;
    case NN_RELU:
        for (size_t i = 0; i < n; i++)
            delta[i] = a[i] > 0.0f ? delta[i] : 0.0f;
        break;
    case NN_LEAKY_RELU:
        /* The slope is positive, so a > 0 exactly when z > 0. */
        for (size_t i = 0; i < n; i++)
            delta[i] = a[i] > 0.0f ? delta[i] : LEAKY_SLOPE * delta[i];
        break;
    }
}

void nn__dropout_backward(nn_activation act, const float *restrict a,
                          const float *restrict mask, float *restrict delta,
                          size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (mask[i] == 0.0f) {
            delta[i] = 0.0f;
            continue;
        }
        float f = a[i] / mask[i];
        delta[i] *= mask[i];
        nn__activation_backward(act, &f, &delta[i], 1);
    }
}
