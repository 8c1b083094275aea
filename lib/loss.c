/* SPDX-License-Identifier: MIT */
/*
 * Costs and their gradients with respect to the last layer's
 * pre-activations ("output deltas"). Cross-entropy after softmax and binary
 * cross-entropy after sigmoid use the fused forms; the costs are computed
 * from the logits so that saturated outputs stay finite. Formulas:
 * docs/design.md, "Losses". Also accuracy: the rows whose output picks the
 * target's class.
 */
#include <math.h>

#include "internal.h"

int nn__loss_fits(int loss, nn_activation act)
{
    switch (loss) {
    case NN_LOSS_MSE:
        return 1;
    case NN_LOSS_CROSS_ENTROPY:
        return act == NN_SOFTMAX;
    case NN_LOSS_BINARY_CROSS_ENTROPY:
        return act == NN_SIGMOID;
    default:
        return 0;
    }
}

static double mse_row(const float *y_hat, const float *y, size_t cols)
{
    double sum = 0.0;
    for (size_t k = 0; k < cols; k++) {
        double d = (double)y[k] - (double)y_hat[k];
        sum += 0.5 * d * d;
    }
    return sum;
}

/* -sum_k y_k log softmax(z)_k = sum_k y_k (logsumexp(z) - z_k). */
static double cross_entropy_row(const float *z, const float *y, size_t cols)
{
    double max = z[0];
    for (size_t k = 1; k < cols; k++)
        max = z[k] > max ? z[k] : max;
    double sum = 0.0;
    for (size_t k = 0; k < cols; k++)
        sum += exp((double)z[k] - max);
    double lse = max + log(sum);
    double cost = 0.0;
    for (size_t k = 0; k < cols; k++)
        if (y[k] != 0.0f)
            cost += (double)y[k] * (lse - (double)z[k]);
    return cost;
}

/* -[y log s(z) + (1-y) log(1-s(z))] = max(z,0) - y z + log(1 + e^-|z|). */
static double binary_cross_entropy_row(const float *z, const float *y,
                                       size_t cols)
{
    double cost = 0.0;
    for (size_t k = 0; k < cols; k++) {
        double zk = z[k];
        cost += fmax(zk, 0.0) - (double)y[k] * zk + log1p(exp(-fabs(zk)));
    }
    return cost;
}

double nn__loss_sum(int loss, const float *y_hat, const float *logits,
                    const float *y, size_t rows, size_t cols)
{
    double sum = 0.0;
    /* one loop per loss, not a dispatch per row; each row's sum is still
     * formed on its own and then added, as the definition reads */
    switch (loss) {
    case NN_LOSS_CROSS_ENTROPY:
        for (size_t i = 0; i < rows; i++)
            sum += cross_entropy_row(logits + i * cols, y + i * cols, cols);
        break;
    case NN_LOSS_BINARY_CROSS_ENTROPY:
        for (size_t i = 0; i < rows; i++)
            sum += binary_cross_entropy_row(logits + i * cols, y + i * cols,
                                            cols);
        break;
    default:
        for (size_t i = 0; i < rows; i++)
            sum += mse_row(y_hat + i * cols, y + i * cols, cols);
        break;
    }
    return sum;
}

/* MSE after softmax: the softmax Jacobian applied to g = (y_hat - y) / N,
 * delta_k = y_hat_k (g_k - sum_j g_j y_hat_j). */
static void softmax_mse_row(const float *y_hat, const float *y, size_t cols,
                            float scale, float *delta)
{
    float dot = 0.0f;
    for (size_t k = 0; k < cols; k++) {
        delta[k] = (y_hat[k] - y[k]) * scale;
        dot += delta[k] * y_hat[k];
    }
    for (size_t k = 0; k < cols; k++)
        delta[k] = y_hat[k] * (delta[k] - dot);
}

/* Softmax + cross-entropy: delta_k = (y_hat_k sum_j y_j - y_k) / N, which is
 * (y_hat - y) / N for targets that sum to one, and exact otherwise. */
static void softmax_cross_entropy_row(const float *y_hat, const float *y,
                                      size_t cols, float scale, float *delta)
{
    float total = 0.0f;
    for (size_t k = 0; k < cols; k++)
        total += y[k];
    for (size_t k = 0; k < cols; k++)
        delta[k] = (y_hat[k] * total - y[k]) * scale;
}

/* MSE's cost of one row, as mse_row computes it, and the row's
 * (y_hat - y) / N, in one pass over the outputs. */
static double mse_row_delta(const float *y_hat, const float *y, size_t cols,
                            float scale, float *delta)
{
    double sum = 0.0;
    for (size_t k = 0; k < cols; k++) {
        double d = (double)y[k] - (double)y_hat[k];
        sum += 0.5 * d * d;
        delta[k] = (y_hat[k] - y[k]) * scale;
    }
    return sum;
}

double nn__loss_delta(int loss, nn_activation act, const float *y_hat,
                      const float *logits, const float *y, size_t rows,
                      size_t cols, size_t n_mean, float *delta)
{
    float scale = (float)(1.0 / (double)n_mean);
    size_t n = rows * cols;
    double sum = 0.0;
    /* one loop per case, not a dispatch per row */
    if (loss == NN_LOSS_CROSS_ENTROPY) {
        for (size_t i = 0; i < n; i += cols) {
            sum += cross_entropy_row(logits + i, y + i, cols);
            softmax_cross_entropy_row(y_hat + i, y + i, cols, scale,
                                      delta + i);
        }
    } else if (loss == NN_LOSS_BINARY_CROSS_ENTROPY) {
        /* after sigmoid: the same (y_hat - y) / N as MSE, but no f' */
        for (size_t i = 0; i < n; i += cols) {
            sum += binary_cross_entropy_row(logits + i, y + i, cols);
            mse_row_delta(y_hat + i, y + i, cols, scale, delta + i);
        }
    } else if (act == NN_SOFTMAX) {
        for (size_t i = 0; i < n; i += cols) {
            sum += mse_row(y_hat + i, y + i, cols);
            softmax_mse_row(y_hat + i, y + i, cols, scale, delta + i);
        }
    } else {
        for (size_t i = 0; i < n; i += cols)
            sum += mse_row_delta(y_hat + i, y + i, cols, scale, delta + i);
        nn__activation_backward(act, y_hat, delta, n);
    }
    return sum;
}

/* Index of the largest value; ties go to the lowest index. */
static size_t argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t k = 1; k < n; k++)
        if (v[k] > v[best])
            best = k;
    return best;
}

/* The class a row of outputs or targets picks: a single (sigmoid) output
 * picks class 1 above one half, several pick their arg-max. */
static size_t row_class(const float *row, size_t cols)
{
    return cols == 1 ? row[0] > 0.5f : argmax(row, cols);
}

void nn__predicted_classes(const float *y, size_t rows, size_t cols,
                           size_t *classes)
{
    for (size_t i = 0; i < rows; i++)
        classes[i] = row_class(y + i * cols, cols);
}

size_t nn__count_correct(const float *y_hat, const float *y, size_t rows,
                         size_t cols)
{
    size_t correct = 0;
    for (size_t i = 0; i < rows; i++)
        correct += row_class(y_hat + i * cols, cols) ==
                   row_class(y + i * cols, cols);
    return correct;
}
