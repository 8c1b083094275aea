/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by every file of lib/: error recording, the NN__CHECK /
 * NN__TRY macros that keep entry points short, overflow-checked size
 * arithmetic, and the declarations of the per-concern modules.
 */
#ifndef LIBNN_INTERNAL_H
#define LIBNN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "nn.h"

#if defined(__GNUC__)
#define NN__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define NN__PRINTF(fmt, args)
#endif

/* Records a failure: the formatted detail goes to the calling thread's slot
 * and, when `net` is not NULL, to the handle's slot too. Returns `code`.
 * Functions taking a const handle pass NULL (they may run concurrently). */
int nn__fail(nn_net *net, int code, const char *fmt, ...) NN__PRINTF(3, 4);

/* Fails the enclosing function with `code` when `cond` is false, recording
 * the detail on `err_net` (the handle, or NULL for the thread's slot only). */
#define NN__CHECK(err_net, cond, code, ...)                                    \
    do {                                                                       \
        if (!(cond))                                                           \
            return nn__fail((err_net), (code), __VA_ARGS__);                   \
    } while (0)

/* Returns from the enclosing function when `expr` yields an error code;
 * the callee has already recorded the detail. */
#define NN__TRY(expr)                                                          \
    do {                                                                       \
        int nn__rc_ = (expr);                                                  \
        if (nn__rc_ != NN_OK)                                                  \
            return nn__rc_;                                                    \
    } while (0)

/* Overflow-checked a * b and a + b; return 0 on overflow. */
static inline int nn__mul_ok(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return 0;
    *out = a * b;
    return 1;
}

static inline int nn__add_ok(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b)
        return 0;
    *out = a + b;
    return 1;
}

/* 1 when every value is finite (no NaN, no infinity). */
int nn__all_finite(const float *v, size_t n);

/* After a forward pass over rows [first, first + rows) of a call's data:
 * NN_OK when all `rows` x `n_out` outputs at `y_hat` are finite, else
 * NN_ENUMERIC naming the first row that is not (recorded on err_net;
 * NULL: the thread's slot only). */
int nn__check_outputs(nn_net *err_net, const char *fn, const float *y_hat,
                      size_t first, size_t rows, size_t n_out);

/* ---- nn.c ---- */
/* Checks a batch's size and that x (and y, when not NULL) are finite;
 * failures are recorded on err_net (NULL: thread slot only). */
int nn__check_data(nn_net *err_net, const char *fn, const nn_net *net,
                   const float *x, const float *y, size_t batch);

/* nn_backprop after nn__check_data and nn__buffers_reserve: gradients,
 * finiteness checks, grads_valid. */
int nn__backprop_checked(nn_net *net, const float *x, const float *y,
                         size_t batch, double *cost);

/* ---- rng.c: xoshiro256**, seeded through splitmix64 ---- */
void nn__rng_seed(uint64_t state[4], uint64_t seed);
uint64_t nn__rng_next(uint64_t state[4]);
/* Uniform double in [0, 1) from the top 53 bits. */
double nn__rng_uniform(uint64_t state[4]);
/* Uniform integer in [0, bound), unbiased; bound >= 1. */
uint64_t nn__rng_below(uint64_t state[4], uint64_t bound);
/* Dropout masks: mask[i] = 0 when the i-th of n uniform draws is below p,
 * else keep_scale; the draws and results of n calls of nn__rng_uniform,
 * p in [0, 1). */
void nn__rng_dropout_mask(uint64_t state[4], float *mask, size_t n, double p,
                          float keep_scale);

/* ---- forward.c ---- */
/* Runs the network on `batch` rows of raw inputs x. With an input transform
 * out[0] receives the transformed inputs. out[l] (l = 1..L) receives layer
 * l's activations; out[l] may alias out[l-2] (ping-pong) when the caller
 * keeps no intermediate. When `logits` is not NULL it receives the last
 * layer's pre-activations and out[L] the activations; otherwise the last
 * layer is computed in place in out[L]. `mask` (may be NULL) holds dropout
 * multipliers for the hidden layers. An `inference` pass takes its
 * products from nn__gemm_rows, so that a sample's outputs do not depend on
 * the batch; a training pass takes them from the BLAS. Returns the first
 * layer's input: x or out[0]. */
const float *nn__forward(const nn_net *net, const float *x, size_t batch,
                         float *const *out, float *logits,
                         float *const *mask, int inference);

/* The handle's forward pass into net->buf (reserved by the caller); a
 * training pass draws and applies dropout masks, any other is an inference
 * pass (batch-invariant). Returns the first layer's input. */
const float *nn__forward_train(nn_net *net, const float *x, size_t batch,
                               int training);

/* ---- loss.c ---- */
/* Sum over rows of the per-sample loss (not divided by rows), in double.
 * `logits` are the last layer's pre-activations (used by the
 * cross-entropies for stability), `y_hat` its outputs. */
double nn__loss_sum(int loss, const float *y_hat, const float *logits,
                    const float *y, size_t rows, size_t cols);

/* Gradient of the mean loss over `n_mean` samples with respect to the last
 * layer's pre-activations, for `rows` rows, written to delta. */
void nn__loss_delta(int loss, nn_activation act, const float *y_hat,
                    const float *y, size_t rows, size_t cols, size_t n_mean,
                    float *delta);

/* 1 when `loss` may follow the activation `act` of the last layer. */
int nn__loss_fits(int loss, nn_activation act);

/* ---- activation.c ---- */
/* Adds the bias (may be NULL) to each row of z and applies `act`, writing
 * to a (a may equal z). */
void nn__activate(nn_activation act, const float *bias, float *z, float *a,
                  size_t rows, size_t cols);

/* delta *= f'(z), with f' computed from the activations a = f(z); not for
 * softmax, whose Jacobian the loss handles. */
void nn__activation_backward(nn_activation act, const float *a, float *delta,
                             size_t n);

/* A hidden layer's backward pass over rows x cols deltas, in one pass:
 * delta *= f'(z); through a dropout layer (`mask` not NULL: a = f(z) *
 * mask) delta *= mask * f'(z), with f(z) recovered as a / mask where
 * mask != 0; and, when `db` is not NULL, db = the column sums of the new
 * delta (the previous layer's bias gradient). */
void nn__hidden_backward(nn_activation act, const float *a, const float *mask,
                         float *delta, size_t rows, size_t cols, float *db);

/* out = the column sums of delta (rows x cols), row 0 first. */
void nn__column_sums(const float *delta, size_t rows, size_t cols,
                     float *out);

/* ---- backprop.c ---- */
/* Gradient of the loss on (x, y) into net->grads, after nn__forward_train;
 * returns the mean cost. The caller checks finiteness. */
double nn__backprop(nn_net *net, const float *x, const float *y,
                    size_t batch);

/* ---- schedule.c ---- */
/* Sets sched.lr_factor for the epoch about to start. */
void nn__schedule_begin_epoch(nn_net *net);
/* Advances the clock after an epoch; the plateau schedule watches
 * `monitored` (the loss it tries to reduce). */
void nn__schedule_end_epoch(nn_net *net, double monitored);

/* ---- optim.c ---- */
void nn__step(nn_net *net);

/* ---- rowgemm.c ---- */
/* z = a W for m rows (a: m x k, W: k x n, z: m x n, row-major with leading
 * dimensions), each output summed over k in order in one accumulator: a
 * row's outputs are the same bits whatever other rows the call holds. */
void nn__gemm_rows(size_t m, size_t n, size_t k, const float *a, size_t lda,
                   const float *w, size_t ldw, float *z, size_t ldz);

/* ---- blas.c: the seam to the matrix-product backend ---- */
/* Row-major C = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n. */
void nn__gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
              float alpha, const float *a, size_t lda, const float *b,
              size_t ldb, float beta, float *c, size_t ldc);
/* The same in plain loops (a backend's fallback). */
void nn__gemm_reference(int trans_a, int trans_b, size_t m, size_t n,
                        size_t k, float alpha, const float *a, size_t lda,
                        const float *b, size_t ldb, float beta, float *c,
                        size_t ldc);

/* ---- backend_dnnl.c or backend_cblas.c: one is built ---- */
/* nn__gemm's products above the small-layer loops. */
void nn__backend_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
                      float alpha, const float *a, size_t lda, const float *b,
                      size_t ldb, float beta, float *c, size_t ldc);

/* NN_OPT_THREADS: the products' thread count, a property of the process.
 * nn__backend_threads() returns the count in use (0 when the backend does
 * not say); nn__backend_set_threads(n) sets it, n = 0 meaning the
 * backend's default, and returns 0 when this backend cannot change it. */
int nn__backend_threads(void);
int nn__backend_set_threads(int n);

/* nn_build_info's lines about the backend ("key: value\n" each), written
 * into buf like snprintf (returns the length it needed). */
int nn__backend_info(char *buf, size_t size);

#endif
