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
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "vectorize.h"

#define LEAKY_SLOPE 0.01f

/* Sigmoid and softmax layers narrower than this take libm's expf, one call
 * an element: there the vector loop's set-up and its scalar tail, one long
 * chain of dependent operations, cost more than it saves (the tutorial's 3-
 * and 1-unit layers: 20 ns a step). The choice depends on the layer, never
 * on the batch, so a sample's outputs do not depend on its batch. */
#define VECTOR_EXP_MIN_COLS 8

static inline float float_from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint32_t float_bits(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

/* 2^n for n in [-126, 127], built in the exponent field. */
static inline float pow2(int32_t n)
{
    return float_from_bits((uint32_t)(n + 127) << 23);
}

/*
 * e^x, within 1 ulp of the true value (tests/unit/test_kit.c checks the
 * sigmoid and softmax outputs), written so that a loop of it vectorises:
 * libm's expf is a call per element, 3.6 times slower on a wide sigmoid
 * layer (4.3 against 1.2 ns an element with AVX2). Cephes's expf: x = n ln 2
 * + r with |r| <= ln 2 / 2 (ln 2 in two parts, so r is exact), e^r by a
 * degree-7 polynomial, then the scale 2^n in two halves so that results
 * down to the subnormals (x >= -104) and up to FLT_MAX come out right.
 * Rounding n to an integer is the add-and-subtract of 1.5 * 2^23, which
 * also leaves n in the low bits of the sum: no float-to-int conversion.
 * Same operations in the AVX2 and the baseline clones, so the same bits.
 */
static inline float exp_vectorizable(float x)
{
    const float lowest = -104.0f, highest = 88.72283905f, round = 12582912.0f;
    float xc = x > lowest ? x : lowest;
    xc = xc < highest ? xc : highest;
    float shifted = xc * 1.44269504088896341f + round;
    float n = shifted - round;
    int32_t n_int = (int32_t)(float_bits(shifted) - float_bits(round));
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e = p * (r * r) + r + 1.0f;
    int32_t half = n_int / 2;
    e = e * pow2(half) * pow2(n_int - half);
    e = x > highest ? INFINITY : e;
    return x != x ? x : e;
}

/* In place: with separate z and a GCC could not prove that the two do not
 * overlap in part, and its run-time check would send the usual case of the
 * hidden layers (a == z) to the scalar loop. */
static NN__VECTORIZE void sigmoid_in_place(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = 1.0f / (1.0f + exp_vectorizable(-v[i]));
}

/* Numerically stable softmax of one row: shifted by its maximum. The
 * exponentials are one vectorised pass; their sum keeps its order. */
static NN__VECTORIZE void softmax_row(const float *z, float *a, size_t cols)
{
    float max = z[0];
    for (size_t j = 1; j < cols; j++)
        max = z[j] > max ? z[j] : max;
    if (cols < VECTOR_EXP_MIN_COLS)
        for (size_t j = 0; j < cols; j++)
            a[j] = expf(z[j] - max);
    else
        for (size_t j = 0; j < cols; j++)
            a[j] = exp_vectorizable(z[j] - max);
    float sum = 0.0f;
    for (size_t j = 0; j < cols; j++)
        sum += a[j];
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
 * pass. The expression `F` maps the biased value v to the activation. */
#define BIAS_ACTIVATION(name, F)                                               \
    static NN__VECTORIZE void name(const float *restrict bias,                 \
                                   float *restrict z, size_t rows,             \
                                   size_t cols)                                \
    {                                                                          \
        for (size_t i = 0; i < rows; i++) {                                    \
            float *restrict zi = z + i * cols;                                 \
            for (size_t j = 0; j < cols; j++) {                                \
                float v = zi[j] + bias[j];                                     \
                zi[j] = (F);                                                   \
            }                                                                  \
        }                                                                      \
    }

BIAS_ACTIVATION(relu_bias, v > 0.0f ? v : 0.0f)
BIAS_ACTIVATION(leaky_relu_bias, v > 0.0f ? v : LEAKY_SLOPE * v)

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
        if (cols < VECTOR_EXP_MIN_COLS) {
            for (size_t i = 0; i < n; i++)
                a[i] = 1.0f / (1.0f + expf(-z[i]));
            break;
        }
        if (a != z)
            memcpy(a, z, n * sizeof *a);
        sigmoid_in_place(a, n);
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

/* One pass per activation through a dropout layer: for a kept unit
 * (mask m > 0) f(z) = a / m, delta *= m, then delta *= f'(z) as in
 * nn__activation_backward (`D` maps (f(z), d) to the new d); a dropped unit
 * gets 0. The same operations in the same order as applying the two
 * element by element, so the same bits, in vector registers. */
#define DROPOUT_BACKWARD(name, D)                                              \
    static NN__VECTORIZE void name(const float *restrict a,                    \
                                   const float *restrict mask,                 \
                                   float *restrict delta, size_t n)            \
    {                                                                          \
        for (size_t i = 0; i < n; i++) {                                       \
            float m = mask[i], kept = m != 0.0f ? m : 1.0f;                    \
            float av = a[i] / kept, d = delta[i] * m;                          \
            d = (D);                                                           \
            delta[i] = m != 0.0f ? d : 0.0f;                                   \
        }                                                                      \
    }

DROPOUT_BACKWARD(identity_dropout_backward, ((void)av, d))
DROPOUT_BACKWARD(sigmoid_dropout_backward, d * (av * (1.0f - av)))
DROPOUT_BACKWARD(tanh_dropout_backward, d * (1.0f - av * av))
DROPOUT_BACKWARD(relu_dropout_backward, av > 0.0f ? d : 0.0f)
DROPOUT_BACKWARD(leaky_relu_dropout_backward,
                 av > 0.0f ? d : LEAKY_SLOPE * d)

void nn__dropout_backward(nn_activation act, const float *restrict a,
                          const float *restrict mask, float *restrict delta,
                          size_t n)
{
    switch (act) {
    case NN_IDENTITY:
    case NN_SOFTMAX: /* never a hidden layer */
        identity_dropout_backward(a, mask, delta, n);
        break;
    case NN_SIGMOID:
        sigmoid_dropout_backward(a, mask, delta, n);
        break;
    case NN_TANH:
        tanh_dropout_backward(a, mask, delta, n);
        break;
    case NN_RELU:
        relu_dropout_backward(a, mask, delta, n);
        break;
    case NN_LEAKY_RELU:
        leaky_relu_dropout_backward(a, mask, delta, n);
        break;
    }
}
