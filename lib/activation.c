/* SPDX-License-Identifier: MIT */
/*
 * Activations and their derivatives. The forward pass fuses the bias add
 * with the activation (one pass over z); derivatives are computed from the
 * outputs a = f(z), so backprop needs no stored pre-activations, and the
 * backward pass fuses f' with the dropout mask and with the column sums
 * that make the previous layer's bias gradient (one pass over delta).
 *
 * Each activation is one loop over the whole batch, dispatched once per
 * call, not once per row or element: the tutorial's 3 x 3 layer costs a
 * few dozen instructions, a 64 x 256 layer runs in AVX2 (vectorize.h).
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "vectorize.h"

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

/* z += bias, row by row (z is rows x cols). */
static NN__VECTORIZE void add_bias(const float *restrict bias, float *z,
                                   size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows; i++) {
        float *restrict zi = z + i * cols;
        for (size_t j = 0; j < cols; j++)
            zi[j] += bias[j];
    }
}

/* ReLU and leaky ReLU in place with the bias add fused: the hidden layers
 * of an MLP take this path, so it is the one pass over z of their forward
 * pass. */
static NN__VECTORIZE void relu_bias(const float *restrict bias,
                                    float *restrict z, size_t rows,
                                    size_t cols)
{
    for (size_t i = 0; i < rows; i++) {
        float *restrict zi = z + i * cols;
        for (size_t j = 0; j < cols; j++) {
            float v = zi[j] + bias[j];
            zi[j] = v > 0.0f ? v : 0.0f;
        }
    }
}

static NN__VECTORIZE void leaky_relu_bias(const float *restrict bias,
                                          float *restrict z, size_t rows,
                                          size_t cols)
{
    for (size_t i = 0; i < rows; i++) {
        float *restrict zi = z + i * cols;
        for (size_t j = 0; j < cols; j++) {
            float v = zi[j] + bias[j];
            zi[j] = v > 0.0f ? v : LEAKY_SLOPE * v;
        }
    }
}

static NN__VECTORIZE void relu(const float *z, float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = z[i] > 0.0f ? z[i] : 0.0f;
}

static NN__VECTORIZE void leaky_relu(const float *z, float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = z[i] > 0.0f ? z[i] : LEAKY_SLOPE * z[i];
}

void nn__activate(nn_activation act, const float *bias, float *z, float *a,
                  size_t rows, size_t cols)
{
    size_t n = rows * cols;
    if (bias && a == z && act == NN_RELU) {
        relu_bias(bias, z, rows, cols);
        return;
    }
    if (bias && a == z && act == NN_LEAKY_RELU) {
        leaky_relu_bias(bias, z, rows, cols);
        return;
    }
    if (bias) /* z keeps z + b: the logits of the last layer */
        add_bias(bias, z, rows, cols);
    switch (act) {
    case NN_IDENTITY:
        if (a != z)
            memcpy(a, z, n * sizeof *a);
        break;
    case NN_SIGMOID:
        for (size_t i = 0; i < n; i++)
            a[i] = sigmoid(z[i]);
        break;
    case NN_TANH:
        for (size_t i = 0; i < n; i++)
            a[i] = tanhf(z[i]);
        break;
    case NN_RELU:
        relu(z, a, n);
        break;
    case NN_LEAKY_RELU:
        leaky_relu(z, a, n);
        break;
    case NN_SOFTMAX:
        for (size_t i = 0; i < rows; i++)
            softmax_row(z + i * cols, a + i * cols, cols);
        break;
    }
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
