/* SPDX-License-Identifier: MIT */
/*
 * Activations and their derivatives, every variant generated from one
 * table (ACTIVATIONS below): f(v) and f' as a function of the output.
 * The forward pass fuses the bias add with the activation (one pass over
 * z); derivatives are computed from the outputs a = f(z), so backprop
 * needs no stored pre-activations, and a hidden layer's backward pass is
 * one pass over delta: f' alone, f' with the dropout mask, or f' with the
 * column sums that make the previous layer's bias gradient.
 *
 * Each activation is one loop over the whole batch, dispatched once per
 * call, not once per row or element, so that tiny layers cost little and
 * wide ones run in AVX2 (vectorize.h).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "vectorize.h"

#define LEAKY_SLOPE 0.01f

/* Sigmoid and softmax layers narrower than this take libm's expf, one call
 * an element: there the vector loop's set-up and its scalar tail, one long
 * chain of dependent operations, cost more than it saves on layers as narrow
 * as the tutorial's 3- and 1-unit ones (bench/bench.c's tutorial step
 * measures it). The choice depends on the layer, never
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
 * libm's expf is a call per element, several times slower on a wide
 * sigmoid layer (bench/phases.c shows the element-wise share).
 * Cephes's expf: x = n ln 2
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

/* The element-wise activations: name, enum, f(v), and D(av, d) = d f'(z)
 * from the output av = f(z). Softmax (row-wise, output layers only) is
 * written out below, and so is the sigmoid of narrow layers, which takes
 * libm's expf (VECTOR_EXP_MIN_COLS). For leaky ReLU the slope is positive,
 * so av > 0 exactly when z > 0. */
#define ACTIVATIONS(X)                                                         \
    X(identity, NN_IDENTITY, v, ((void)av, d))                                 \
    X(sigmoid, NN_SIGMOID, 1.0f / (1.0f + exp_vectorizable(-v)),               \
      d * (av * (1.0f - av)))                                                  \
    X(tanh, NN_TANH, tanhf(v), d * (1.0f - av * av))                           \
    X(relu, NN_RELU, v > 0.0f ? v : 0.0f, av > 0.0f ? d : 0.0f)                \
    X(leaky_relu, NN_LEAKY_RELU, v > 0.0f ? v : LEAKY_SLOPE * v,               \
      av > 0.0f ? d : LEAKY_SLOPE * d)

/* ---- forward ---- */

/* Hidden layers, in place: z = f(z + bias), one pass. */
#define BIAS_IN_PLACE(name, ENUM, F, D)                                        \
    static NN__VECTORIZE void name##_bias_in_place(                            \
        const float *restrict bias, float *restrict z, size_t rows,            \
        size_t cols)                                                           \
    {                                                                          \
        for (size_t i = 0; i < rows; i++) {                                    \
            float *restrict zi = z + i * cols;                                 \
            for (size_t j = 0; j < cols; j++) {                                \
                float v = zi[j] + bias[j];                                     \
                zi[j] = (F);                                                   \
            }                                                                  \
        }                                                                      \
    }
/* a = f(z) over n values; a == z is allowed (in place). With separate
 * pointers GCC could not prove that the two do not overlap in part, so the
 * in-place case has its own loop, which its run-time check would otherwise
 * send to the scalar code. */
#define APPLY(name, ENUM, F, D)                                                \
    static NN__VECTORIZE void name##_apply(const float *restrict z,            \
                                           float *restrict a, size_t n)        \
    {                                                                          \
        for (size_t i = 0; i < n; i++) {                                       \
            float v = z[i];                                                    \
            a[i] = (F);                                                        \
        }                                                                      \
    }                                                                          \
    static NN__VECTORIZE void name##_apply_in_place(float *a, size_t n)        \
    {                                                                          \
        for (size_t i = 0; i < n; i++) {                                       \
            float v = a[i];                                                    \
            a[i] = (F);                                                        \
        }                                                                      \
    }
ACTIVATIONS(BIAS_IN_PLACE)
ACTIVATIONS(APPLY)

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

void nn__activate(nn_activation act, const float *bias, float *z, float *a,
                  size_t rows, size_t cols)
{
    size_t n = rows * cols;
    if (act == NN_SOFTMAX || (act == NN_SIGMOID && cols < VECTOR_EXP_MIN_COLS)) {
        if (bias) /* z keeps z + b: the logits of the last layer */
            add_bias(bias, z, rows, cols);
        if (act == NN_SIGMOID)
            for (size_t i = 0; i < n; i++)
                a[i] = 1.0f / (1.0f + expf(-z[i]));
        else
            for (size_t i = 0; i < rows; i++)
                softmax_row(z + i * cols, a + i * cols, cols);
        return;
    }
#define FORWARD_CASE(name, ENUM, F, D)                                         \
    case ENUM:                                                                 \
        if (bias && a == z)                                                    \
            name##_bias_in_place(bias, z, rows, cols);                         \
        else if (a == z)                                                       \
            name##_apply_in_place(a, n);                                       \
        else                                                                   \
            name##_apply(z, a, n);                                             \
        break;
    if (bias && a != z) /* z keeps z + b: the logits of the last layer */
        add_bias(bias, z, rows, cols);
    switch (act) {
        ACTIVATIONS(FORWARD_CASE)
    case NN_SOFTMAX:
        break; /* above */
    }
#undef FORWARD_CASE
}

/* ---- backward ---- */

/* delta = D(a, delta): the output layer's MSE gradient (loss.c) and hidden
 * layers without dropout or bias. */
#define PLAIN_BACKWARD(name, ENUM, F, D)                                       \
    static void name##_backward(const float *restrict a,                       \
                                float *restrict delta, size_t n)               \
    {                                                                          \
        for (size_t i = 0; i < n; i++) {                                       \
            float av = a[i], d = delta[i];                                     \
            delta[i] = (D);                                                    \
        }                                                                      \
    }
/* The same with the column sums into db, row by row (the sums keep their
 * order, row 0 first, as column_sums), so each delta is read once. */
#define FUSED_BACKWARD(name, ENUM, F, D)                                       \
    static NN__VECTORIZE void name##_backward_sums(                            \
        const float *restrict a, float *restrict delta, size_t rows,           \
        size_t cols, float *restrict db)                                       \
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
/* Through a dropout layer: for a kept unit (mask m > 0) f(z) = a / m,
 * delta *= m, then D; a dropped unit gets 0. The same operations in the
 * same order as applying the two element by element, so the same bits, in
 * vector registers. */
#define DROPOUT_BACKWARD(name, ENUM, F, D)                                     \
    static NN__VECTORIZE void name##_backward_dropout(                         \
        const float *restrict a, const float *restrict mask,                   \
        float *restrict delta, size_t n)                                       \
    {                                                                          \
        for (size_t i = 0; i < n; i++) {                                       \
            float m = mask[i], kept = m != 0.0f ? m : 1.0f;                    \
            float av = a[i] / kept, d = delta[i] * m;                          \
            d = (D);                                                           \
            delta[i] = m != 0.0f ? d : 0.0f;                                   \
        }                                                                      \
    }
ACTIVATIONS(PLAIN_BACKWARD)
ACTIVATIONS(FUSED_BACKWARD)
ACTIVATIONS(DROPOUT_BACKWARD)

NN__VECTORIZE void nn__column_sums(const float *restrict delta, size_t rows,
                                   size_t cols, float *restrict out)
{
    memset(out, 0, cols * sizeof *out);
    for (size_t i = 0; i < rows; i++) {
        const float *restrict di = delta + i * cols;
        for (size_t j = 0; j < cols; j++)
            out[j] += di[j];
    }
}

void nn__activation_backward(nn_activation act, const float *restrict a,
                             float *restrict delta, size_t n)
{
#define PLAIN_CASE(name, ENUM, F, D)                                           \
    case ENUM:                                                                 \
        name##_backward(a, delta, n);                                          \
        break;
    /* identity: f' = 1; softmax: the loss handles its Jacobian */
    if (act == NN_IDENTITY || act == NN_SOFTMAX)
        return;
    switch (act) {
        ACTIVATIONS(PLAIN_CASE)
    case NN_SOFTMAX:
        break;
    }
#undef PLAIN_CASE
}

void nn__hidden_backward(nn_activation act, const float *a, const float *mask,
                         float *delta, size_t rows, size_t cols, float *db)
{
    size_t n = rows * cols;
    if (act == NN_SOFTMAX) /* never a hidden layer: nn_create refuses */
        act = NN_IDENTITY;
    if (mask) {
#define DROPOUT_CASE(name, ENUM, F, D)                                         \
    case ENUM:                                                                 \
        name##_backward_dropout(a, mask, delta, n);                            \
        break;
        switch (act) {
            ACTIVATIONS(DROPOUT_CASE)
        case NN_SOFTMAX:
            break;
        }
#undef DROPOUT_CASE
        if (db)
            nn__column_sums(delta, rows, cols, db);
        return;
    }
    if (!db) {
        nn__activation_backward(act, a, delta, n);
        return;
    }
#define FUSED_CASE(name, ENUM, F, D)                                           \
    case ENUM:                                                                 \
        name##_backward_sums(a, delta, rows, cols, db);                        \
        break;
    switch (act) {
        ACTIVATIONS(FUSED_CASE)
    case NN_SOFTMAX:
        break;
    }
#undef FUSED_CASE
}
