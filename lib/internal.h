/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by every file of lib/: error recording, the NN__CHECK /
 * NN__TRY macros that keep entry points short, overflow-checked size
 * arithmetic, and the declarations of the per-concern modules.
 *
 * The rule of lib/'s internal headers: net.h holds the handle's layout
 * (struct nn_net, the types it is made of, and inline readers of them) and
 * declares no function that a .c file defines; this file holds the error
 * plumbing (with the inline checks every entry point runs) and declares
 * every nn__ function that one file of lib/ defines for the others, under
 * the name of the file defining it. The exceptions
 * are the one-topic headers that only a few files include: options.h (the
 * settings table), format.h (the model format: its constants, also for
 * the tests that build files, and format.c's encoder and decoder for
 * persist.c), outfile.h (also compiled into the tool) and vectorize.h
 * (the hot loops' AVX2 clones).
 */
#ifndef LIBNN_INTERNAL_H
#define LIBNN_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "nn.h"

#if defined(__GNUC__)
#define NN__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define NN__PRINTF(fmt, args)
#endif

/* ---- error.c ---- */
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

/* ---- net.c ---- */
/* The rules of an architecture, the one check for nn_create and for the
 * loader (format.c): 2 or more layers of 1 .. INT_MAX units, known
 * activations, softmax on the last layer only, known flags. NN_OK, else
 * NN_EINVAL (NN_ENOMEM for a layer wider than INT_MAX) recorded on the
 * thread's slot with `who` (the function, the file) in front. */
int nn__check_architecture(const char *who, size_t n_sizes,
                           const size_t *sizes,
                           const nn_activation *activations, unsigned flags);

/* Allocates a network with the given architecture: parameters zeroed,
 * settings at their defaults, no optimizer state, no batch buffers.
 * The caller has validated the arguments (nn__check_architecture).
 * Returns NN_OK or NN_ENOMEM. */
int nn__net_alloc(nn_net **out, size_t n_sizes, const size_t *sizes,
                  const nn_activation *activations, unsigned flags);

/* Draws the weights from `seed` (Glorot or He uniform per layer) and seeds
 * the handle's generator with it; biases stay as they are (zero). */
void nn__net_init_weights(nn_net *net, uint64_t seed);

/* Frees everything the handle owns, then the handle. */
void nn__net_free(nn_net *net);

/* Makes the batch buffers hold at least `batch` rows, with the optional
 * buffers the current settings need (transformed inputs, dropout masks).
 * Keeps the old ones on failure. Returns NN_OK, NN_ESHAPE (batch too large)
 * or NN_ENOMEM, recorded on `net`. */
int nn__buffers_reserve(nn_net *net, size_t batch);

/* 1 when the settings need the dropout masks / transformed-input buffers. */
int nn__needs_masks(const nn_net *net);

/* 1 when every value is finite (no NaN, no infinity). */
int nn__all_finite(const float *v, size_t n);

/* After a forward pass over rows [first, first + rows) of a call's data:
 * NN_OK when all `rows` x `n_out` outputs at `y_hat` are finite, else
 * NN_ENUMERIC naming the first row that is not (recorded on err_net;
 * NULL: the thread's slot only). */
int nn__check_outputs(nn_net *err_net, const char *fn, const float *y_hat,
                      size_t first, size_t rows, size_t n_out);

/* ---- inline: the first check of every entry point that takes data ---- */
/* The batch's size, and that x (and y, when not NULL) are finite; failures
 * are recorded on err_net (NULL: thread slot only). Inline, as nn__mul_ok:
 * it runs on every call, where a call into another file shows in the
 * instruction counts of tiny networks' steps (bench/callgrind_step). */
static inline int nn__check_data(nn_net *err_net, const char *fn,
                                 const nn_net *net, const float *x,
                                 const float *y, size_t batch)
{
    size_t n_in = net->sizes[0], n_out = net->sizes[net->n_sizes - 1];
    size_t count;
    NN__CHECK(err_net, batch >= 1, NN_EINVAL, "%s: batch is 0", fn);
    NN__CHECK(err_net, nn__mul_ok(batch, net->max_width * sizeof(float),
                                  &count) && batch <= INT_MAX,
              NN_ESHAPE, "%s: batch of %zu rows is too large", fn, batch);
    NN__CHECK(err_net, nn__all_finite(x, batch * n_in), NN_ENUMERIC,
              "%s: x holds NaN or infinity", fn);
    NN__CHECK(err_net, !y || nn__all_finite(y, batch * n_out), NN_ENUMERIC,
              "%s: y holds NaN or infinity", fn);
    return NN_OK;
}

/* ---- meta.c ---- */
/* Frees the metadata's strings and empties it. */
void nn__meta_free(nn__meta *meta);

/* *dst = a deep copy of *src; NN_OK or NN_ENOMEM (then *dst is empty). */
int nn__meta_copy(nn__meta *dst, const nn__meta *src);

/* ---- epoch.c ---- */
/* Allocate the history ring / early stopping's copy of the parameters
 * unless they exist; NN_OK or NN_ENOMEM, the detail (naming `fn`)
 * recorded on `net`. */
int nn__history_reserve(nn_net *net, const char *fn);
int nn__best_reserve(nn_net *net, const char *fn);

/* Starts a training run: the history emptied, early stopping's
 * bookkeeping forgotten. */
void nn__epochs_restart(nn_net *net);

/* The end of an epoch (nn_fit's and nn_epoch_end's): `count` metrics in
 * nn_metric order into the history, then the schedule's step, then, for
 * a `validated` epoch, early stopping's bookkeeping. The history ring
 * exists, and the copy of the parameters when `validated`. */
void nn__epoch_end(nn_net *net, const double *metrics, size_t count,
                   int validated);

/* 1 when ::NN_OPT_EARLY_STOPPING = p > 0 and the last p validated epochs
 * brought no lower validation loss. */
int nn__early_stop(const nn_net *net);

/* Puts back the parameters of the lowest validation loss, if any. */
void nn__restore_best(nn_net *net);

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
/* The training pass: runs the network on `batch` rows of raw inputs x,
 * its products from the BLAS. With an input transform out[0] receives the
 * transformed inputs. out[l] (l = 1..L) receives layer l's activations.
 * When `logits` is not NULL it receives the last layer's pre-activations
 * and out[L] the activations; otherwise the last layer is computed in
 * place in out[L]. `mask` (may be NULL) holds dropout multipliers for the
 * hidden layers. Returns the first layer's input: x or out[0]. */
const float *nn__forward(const nn_net *net, const float *x, size_t batch,
                         float *const *out, float *logits,
                         float *const *mask);

/* The inference pass, as nn__forward's without masks but with its
 * products from nn__gemm_rows, so that a sample's outputs do not depend
 * on the batch. The last layer's outputs (out[L]) and `logits` (or NULL)
 * are `batch` packed rows. out[0..L-1] hold `slot_rows` rows (at most
 * `batch`): packed at each layer's width when `pitch` is 0 (then
 * slot_rows is batch), or ping-pong slots (out[l] may alias out[l-2])
 * whose rows are `pitch` floats apart whatever the layer's width.
 * One parallel region a call: each part owns a range of the slots' rows
 * and takes the batch's rows through every layer on its thread, as many
 * at a time as it owns slot rows, the next ones no part has taken, until
 * none are left. The layers need no barrier between them, a part's
 * activations stay in its thread's cache, two layers sharing a slot never
 * overlap between parts, and a part that starts late takes fewer rows. A
 * pass of a few rows stays on the calling thread. */
void nn__infer(const nn_net *net, const float *x, size_t batch,
               float *const *out, size_t slot_rows, size_t pitch,
               float *logits);

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
 * layer's pre-activations, for `rows` rows, written to delta. Returns the
 * loss summed over the rows, the same value as nn__loss_sum, from the same
 * pass over the outputs. */
double nn__loss_delta(int loss, nn_activation act, const float *y_hat,
                      const float *logits, const float *y, size_t rows,
                      size_t cols, size_t n_mean, float *delta);

/* 1 when `loss` may follow the activation `act` of the last layer. */
int nn__loss_fits(int loss, nn_activation act);

/* The class each of `rows` rows of outputs (or targets) picks: the
 * arg-max, ties to the lowest index; with one column, 1 above 0.5, else 0.
 * nn_evaluate's accuracy is the share of rows whose outputs pick the
 * class their targets pick: nn__count_correct counts them. */
void nn__predicted_classes(const float *y, size_t rows, size_t cols,
                           size_t *classes);
size_t nn__count_correct(const float *y_hat, const float *y, size_t rows,
                         size_t cols);

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
 * returns the mean cost, and *finite = 1 when every gradient is finite
 * (the caller checks the cost). */
double nn__backprop(nn_net *net, const float *x, const float *y, size_t batch,
                    int *finite);

/* ---- schedule.c ---- */
/* Sets sched.lr_factor for the epoch about to start. */
void nn__schedule_begin_epoch(nn_net *net);
/* Advances the clock after an epoch; the plateau schedule watches
 * `monitored` (the loss it tries to reduce). */
void nn__schedule_end_epoch(nn_net *net, double monitored);
/* Restarts the learning-rate schedule: clock 0, factor 1, plateau reset. */
void nn__schedule_restart(nn_net *net);

/* ---- optim.c ---- */
void nn__step(nn_net *net);

/* Number of optimizer state slots (arrays of n_params floats) for `opt`. */
int nn__optimizer_slots(int optimizer);

/* Replaces the optimizer state with a zeroed one for `optimizer`.
 * Keeps the old state on failure. Returns NN_OK or NN_ENOMEM. */
int nn__optimizer_reset(nn_net *net, int optimizer);

/* ---- rowgemm.c ---- */
/* z = a W for m rows (a: m x k, W: k x n, z: m x n, row-major with leading
 * dimensions), each output summed over k in order in one accumulator: a
 * row's outputs are the same bits whatever other rows the call holds. On
 * the calling thread (nn__infer splits inference between threads). */
void nn__gemm_rows(size_t m, size_t n, size_t k, const float *a, size_t lda,
                   const float *w, size_t ldw, float *z, size_t ldz);

/* The kernels nn__gemm_rows runs in this process, for nn_build_info:
 * "avx512 (12 x 32 blocks)", "avx2 (6 x 16 blocks)" or "baseline (4 x 16
 * blocks)". */
const char *nn__inference_kernels(void);

/* ---- blas.c: the seam to the matrix-product backend ---- */
/* Row-major C = op(A) op(B), op(A) m x k, op(B) k x n: C is overwritten,
 * the only product libnn's passes need. */
void nn__gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
              const float *a, size_t lda, const float *b, size_t ldb,
              float *c, size_t ldc);
/* The same in plain loops (a backend's fallback). */
void nn__gemm_reference(int trans_a, int trans_b, size_t m, size_t n,
                        size_t k, const float *a, size_t lda, const float *b,
                        size_t ldb, float *c, size_t ldc);

/* ---- backend_dnnl.c or backend_cblas.c: one is built ---- */
/* nn__gemm's products above the small-layer loops. */
void nn__backend_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
                      const float *a, size_t lda, const float *b, size_t ldb,
                      float *c, size_t ldc);

/* NN_OPT_THREADS: the products' thread count, a property of the process.
 * nn__backend_threads() returns the count in use (0 when the backend does
 * not say); nn__backend_set_threads(n) sets it, n = 0 meaning the
 * backend's default, and returns 0 when this backend cannot change it. */
int nn__backend_threads(void);
int nn__backend_set_threads(int n);

/* libnn's own passes over long arrays, on the backend's threads: the
 * OpenMP team of the products with oneDNN (already up between products),
 * the calling thread with CBLAS (whose pool libnn cannot use).
 * nn__parallel_for(n, work, fn, ctx) calls fn(ctx, lo, hi) on parts
 * [lo, hi) of n items that cover them once each: contiguous, in blocks of
 * NN__PARALLEL_BLOCK items (a cache line of floats) but for the last part,
 * one part a thread, in parallel, returning when all are done. A pass of
 * `work` element operations or multiply-adds below NN__PARALLEL_MIN runs
 * whole on the calling thread, where waking the team would cost more than
 * it saves (so a small network's step pays one comparison). fn must give
 * the same bits whatever the parts. */
enum { NN__PARALLEL_MIN = 1 << 15, NN__PARALLEL_BLOCK = 16 };
typedef void (*nn__range_fn)(void *ctx, size_t lo, size_t hi);
void nn__backend_parallel_for(size_t n, nn__range_fn fn, void *ctx);
static inline void nn__parallel_for(size_t n, size_t work, nn__range_fn fn,
                                    void *ctx)
{
    if (work < NN__PARALLEL_MIN)
        fn(ctx, 0, n);
    else
        nn__backend_parallel_for(n, fn, ctx);
}

/* nn_build_info's lines about the backend ("key: value\n" each), written
 * into buf like snprintf (returns the length it needed). */
int nn__backend_info(char *buf, size_t size);

#endif
