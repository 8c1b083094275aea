/* SPDX-License-Identifier: MIT */
/**
 * @file nn.h
 * @brief libnn: a small, fast multilayer-perceptron library with a stable C ABI.
 *
 * This header is the reference manual of libnn's public interface and its
 * contract: every name and number below is part of the ABI of `libnn.so.0`.
 *
 * Conventions used throughout:
 * - Every function that can fail returns `int`: ::NN_OK (0) or a negative
 *   `NN_E...` code. A failed call changes nothing (parameters, settings and
 *   optimizer state stay as they were), never aborts and never prints.
 *   nn_last_error() returns the detail of the failure.
 * - Arrays are row-major, one sample per row, contiguous, owned by the
 *   caller. The library never keeps a caller's pointer after a call returns.
 * - `float` for data, parameters and gradients; `double` for scalar
 *   settings, costs and metrics; `size_t` for counts; `uint64_t` for seeds.
 * - A handle (`nn_net *`) may be used by one thread at a time, except for
 *   the functions that take `const nn_net *` and are documented as
 *   thread-safe (nn_predict(), nn_evaluate(), ...): any number of threads may
 *   call those at once on the same handle while no thread modifies it.
 * - Batch invariance: the inference passes (nn_forward(), nn_cost(),
 *   nn_predict(), nn_evaluate(), validation in nn_fit()) give a sample the
 *   same output bits whichever batch computes it: alone, in any subset, at
 *   any position, in any batch size or chunk, on any BLAS. Their products
 *   sum each output over its inputs in one fixed order, not through the
 *   BLAS (docs/design.md, "Batch invariance"). Training passes use the BLAS
 *   and are not batch-invariant; they agree with inference within float32
 *   rounding. Bits may differ between CPUs (vector width) and builds.
 *
 * Companion libraries, written on this API alone: `nn_mpi.h` (libnn_mpi,
 * data-parallel training over MPI) and `nn_onnx.h` (libnn_onnx, networks
 * to and from ONNX files). A network can also leave as one C99 file that
 * needs no library at all: `nnet export --c` (docs/interop.md).
 *
 * Example (the tutorial network of docs/tutorial.md):
 * @code
 *     size_t sizes[] = {2, 3, 1};
 *     nn_activation acts[] = {NN_SIGMOID, NN_SIGMOID};
 *     nn_net *net;
 *     if (nn_create(&net, 3, sizes, acts, NN_NO_BIAS, 42) != NN_OK)
 *         fprintf(stderr, "%s\n", nn_last_error(NULL));
 *     nn_set(net, NN_OPT_LEARNING_RATE, 0.5);
 *     for (int i = 0; i < 1000; i++) {
 *         nn_backprop(net, x, y, 3, &cost);
 *         nn_step(net);
 *     }
 *     nn_free(net);
 * @endcode
 */
#ifndef LIBNN_NN_H
#define LIBNN_NN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks exported declarations; the build defines it to set visibility. */
#ifndef NN_API
#if defined(_WIN32)
#define NN_API
#elif defined(__GNUC__) && __GNUC__ >= 4
#define NN_API __attribute__((visibility("default")))
#else
#define NN_API
#endif
#endif

/* ======================================================================
 * Versions
 * ====================================================================== */

/** Major version: changes only with an ABI break (and the soname). */
#define LIBNN_VERSION_MAJOR 0
/** Minor version: bumped when symbols or options are added. */
#define LIBNN_VERSION_MINOR 3
/** Patch version: bug fixes only. */
#define LIBNN_VERSION_PATCH 0

/**
 * @brief Version of the library actually loaded.
 * @return MAJOR*10000 + MINOR*100 + PATCH. Compare with the
 *         `LIBNN_VERSION_*` macros to detect a header/library mismatch.
 */
NN_API unsigned nn_version(void);

/** @brief Version as a static string "MAJOR.MINOR.PATCH". Never NULL. */
NN_API const char *nn_version_string(void);

/**
 * @brief How this libnn was built and what it runs on: lines of
 *        "key: value", each ending in a newline, for logs and bug reports.
 *
 * Keys, in this order:
 * - `libnn`: the version (as nn_version_string()).
 * - `backend`: the matrix products' library, chosen when libnn was built:
 *   "oneDNN X.Y.Z (OpenMP)" or "CBLAS" (with OpenBLAS: "CBLAS (<OpenBLAS's
 *   configuration>)", e.g. "CBLAS (OpenBLAS 0.3.21 DYNAMIC_ARCH ...)").
 * - `kernels`: the instruction set or kernel family the backend runs on
 *   this CPU (oneDNN: e.g. "avx512_core"; OpenBLAS: its core name, e.g.
 *   "Haswell"); absent when the backend does not say.
 * - `threads`: the products' thread count now (see ::NN_OPT_THREADS; 0 when
 *   the backend does not say).
 * - `better-kernels`: only with OpenBLAS, when this CPU can run faster
 *   kernels than those OpenBLAS picked and the variable that selects them
 *   is not set: "OPENBLAS_CORETYPE=<name>", the environment setting to
 *   give the process before it loads libnn (the nnet tool re-executes
 *   itself with it; see docs/performance.md, "Backends").
 * - `inference-kernels`: the kernels of libnn's own batch-invariant product
 *   (inference, whatever the backend) on this CPU: "avx512 (12 x 32
 *   blocks)", "avx2 (6 x 16 blocks)" or "baseline (4 x 16 blocks)". The
 *   environment variable `NN_MAX_ISA`, read once per process, caps them
 *   ("avx2" or "baseline"), to test or time a narrower CPU's kernels on a
 *   wider one; inference outputs are the same bits under any of them.
 *
 * Later versions may add keys; read them by name.
 *
 * @return A NUL-terminated string owned by libnn, never NULL, valid in the
 *         calling thread until its next call of nn_build_info(). Safe to
 *         call from any thread; changes nothing.
 * @since 0.3 (node LIBNN_0.3)
 */
NN_API const char *nn_build_info(void);

/* ======================================================================
 * Errors
 * ====================================================================== */

/**
 * The error codes, as an X-macro list: `X(NAME, value, "text")`. The values
 * are pinned by the ABI and never change.
 */
#define NN_ERROR_MAP(X)                                                        \
    X(NN_OK, 0, "success")                                                     \
    X(NN_EINVAL, -1, "invalid argument")                                       \
    X(NN_ENOMEM, -2, "out of memory or size overflow")                         \
    X(NN_ESHAPE, -3, "sizes do not agree")                                     \
    X(NN_ESTATE, -4, "call out of order")                                      \
    X(NN_EIO, -5, "input/output error")                                        \
    X(NN_EFORMAT, -6, "corrupt, truncated or unknown model data")              \
    X(NN_ENUMERIC, -7, "non-finite value")

/** Return codes of every function that can fail. */
typedef enum nn_error {
#define NN_ERROR_ENUM_(name, value, text) name = (value),
    NN_ERROR_MAP(NN_ERROR_ENUM_)
#undef NN_ERROR_ENUM_
} nn_error;
/** @var NN_OK
 *  0: success. */
/** @var NN_EINVAL
 *  -1: invalid argument (a NULL pointer, a value out of range). */
/** @var NN_ENOMEM
 *  -2: out of memory, or a size whose bytes overflow `size_t`. */
/** @var NN_ESHAPE
 *  -3: sizes do not agree (with the network, or with each other). */
/** @var NN_ESTATE
 *  -4: call out of order (e.g. nn_step() before any nn_backprop()). */
/** @var NN_EIO
 *  -5: input/output error (the detail names the file and the cause). */
/** @var NN_EFORMAT
 *  -6: corrupt, truncated or unknown model data. */
/** @var NN_ENUMERIC
 *  -7: non-finite value (a NaN or infinity in data or in training). */

/**
 * @brief Static, human-readable text for an error code.
 * @param[in] code any integer; unknown codes give "unknown error".
 * @return a static string, never NULL. Thread-safe.
 */
NN_API const char *nn_error_string(int code);

/**
 * @brief The name of an error code, e.g. "NN_EINVAL".
 * @param[in] code any integer; unknown codes give "NN_EUNKNOWN".
 * @return a static string, never NULL. Thread-safe.
 */
NN_API const char *nn_error_name(int code);

/** Opaque network handle. */
typedef struct nn_net nn_net;

/**
 * @brief Detail of the last failure.
 *
 * With a handle: the last failure of a call that modified this handle (a
 * function taking `nn_net *`). With NULL: the last failure of any libnn call
 * in the calling thread, including nn_create(), nn_load() and the
 * functions taking `const nn_net *` (nn_predict(), nn_evaluate(), ...), which
 * record their failures only there so that they can run in many threads.
 *
 * @param[in] net a handle, or NULL for the calling thread's detail.
 * @return a string owned by the library, valid until the next failing call
 *         on the same handle (or thread); "" before any failure. Never NULL.
 */
NN_API const char *nn_last_error(const nn_net *net);

/* ======================================================================
 * Lifecycle
 * ====================================================================== */

/** Activation of a weight layer. */
typedef enum nn_activation {
    NN_IDENTITY = 0,   /**< f(z) = z */
    NN_SIGMOID = 1,    /**< f(z) = 1 / (1 + e^-z) */
    NN_TANH = 2,       /**< f(z) = tanh z */
    NN_RELU = 3,       /**< f(z) = max(0, z) */
    NN_SOFTMAX = 4,    /**< row-wise e^z / sum e^z; last layer only */
    NN_LEAKY_RELU = 5  /**< f(z) = z if z > 0, else 0.01 z */
} nn_activation;

/** Flags for nn_create(). */
enum nn_create_flag {
    NN_NO_BIAS = 1u << 0 /**< no bias vectors: z = a W */
};

/**
 * @brief Create a network with freshly initialised weights.
 *
 * Weights are drawn from `seed` alone (same seed, same sizes: same bits on
 * every machine): Glorot U(-a, a), a = sqrt(6 / (fan_in + fan_out)) for
 * sigmoid, tanh, softmax and identity layers; He U(-a, a), a =
 * sqrt(6 / fan_in) for ReLU and leaky ReLU layers. Biases start at zero.
 * All settings take their defaults (see ::nn_option).
 *
 * @param[out] out      receives the new handle; set to NULL on failure.
 * @param[in]  n_sizes  number of layers of units, >= 2.
 * @param[in]  sizes    `n_sizes` unit counts, each >= 1: `sizes[0]` inputs,
 *                      `sizes[n_sizes-1]` outputs. Copied.
 * @param[in]  activations `n_sizes - 1` activations, one per weight layer;
 *                      ::NN_SOFTMAX only on the last. Copied.
 * @param[in]  flags    0 or ::NN_NO_BIAS.
 * @param[in]  seed     seed of the initialisation and of nn_train()'s
 *                      shuffling.
 * @return ::NN_OK; ::NN_EINVAL for a NULL pointer, `n_sizes < 2`, a zero size,
 *         an unknown activation or flag, or softmax on a hidden layer;
 *         ::NN_ENOMEM if allocation fails or the parameter count overflows.
 *         Failures are described by nn_last_error(NULL).
 */
NN_API int nn_create(nn_net **out, size_t n_sizes, const size_t *sizes,
                     const nn_activation *activations, unsigned flags,
                     uint64_t seed);

/**
 * @brief Free a network and everything it owns. NULL is a no-op.
 * Views from nn_params(), nn_grads() and nn_layer_params() die with it.
 */
NN_API void nn_free(nn_net *net);

/**
 * @brief Deep copy: architecture, parameters, gradients, settings,
 *        optimizer state and shuffling generator, and the history and
 *        early stopping's account of the current run. The copy trains on
 *        exactly as the original would. Thread-safe (reads `net` only).
 * @param[in]  net the network to copy.
 * @param[out] out receives the copy; set to NULL on failure.
 * @return ::NN_OK; ::NN_EINVAL for a NULL pointer; ::NN_ENOMEM.
 *         Failures are described by nn_last_error(NULL).
 */
NN_API int nn_clone(const nn_net *net, nn_net **out);

/* ======================================================================
 * Settings
 * ====================================================================== */

/** Keys for nn_set() / nn_get(). */
typedef enum nn_option {
    NN_OPT_LEARNING_RATE = 0, /**< > 0, finite; default 0.01 */
    NN_OPT_OPTIMIZER = 1,     /**< an ::nn_optimizer; default ::NN_SGD */
    NN_OPT_MOMENTUM = 2,      /**< [0, 1); default 0.9 (momentum, Nesterov) */
    NN_OPT_BETA1 = 3,         /**< [0, 1); default 0.9 (Adam, AdamW) */
    NN_OPT_BETA2 = 4,         /**< [0, 1); default 0.999 (Adam, AdamW) */
    NN_OPT_EPSILON = 5,       /**< > 0, finite; default 1e-8 */
    NN_OPT_WEIGHT_DECAY = 6,  /**< >= 0, finite; default 0 */
    NN_OPT_LOSS = 7,          /**< an ::nn_loss; default MSE, or
                                   cross-entropy after a softmax layer */
    NN_OPT_BATCH_SIZE = 8,    /**< integer >= 1, used by nn_train(); 32 */
    NN_OPT_SHUFFLE = 9,       /**< 0 or 1, used by nn_train(); default 1 */
    NN_OPT_RMSPROP_ALPHA = 10, /**< [0, 1); default 0.99 (RMSprop) */

    /* Training kit (since 0.1). Read by nn_train() and nn_fit(); dropout
     * also by nn_backprop(), clipping also by nn_step(). */
    NN_OPT_DROPOUT = 11,      /**< [0, 1): probability of dropping a hidden
                                   unit in training passes (nn_backprop,
                                   nn_train, nn_fit); inverted dropout, so
                                   inference needs no rescaling; default 0 */
    NN_OPT_CLIP_NORM = 12,    /**< >= 0: nn_step() first scales the gradient
                                   to this global L2 norm when it is larger
                                   (torch.nn.utils.clip_grad_norm_); 0 = off,
                                   the default */
    NN_OPT_SCHEDULE = 13,     /**< an ::nn_schedule; default constant.
                                   Setting it restarts the schedule */
    NN_OPT_STEP_SIZE = 14,    /**< integer >= 1: epochs between decays of
                                   ::NN_SCHEDULE_STEP; default 10 */
    NN_OPT_GAMMA = 15,        /**< (0, 1]: decay factor of the step,
                                   exponential and plateau schedules; 0.1 */
    NN_OPT_T_MAX = 16,        /**< integer >= 1: epochs of the cosine
                                   schedule's half period; default 100 */
    NN_OPT_MIN_LR = 17,       /**< >= 0: floor of the cosine and plateau
                                   schedules; default 0 */
    NN_OPT_PLATEAU_PATIENCE = 18, /**< integer >= 0: epochs without
                                   improvement before the plateau schedule
                                   decays; default 10 */
    NN_OPT_EARLY_STOPPING = 19, /**< integer >= 0: with validation data,
                                   nn_fit() stops after this many epochs
                                   without a better validation loss and
                                   restores the best weights (other loops:
                                   nn_epoch_should_stop()); 0 = off */
    NN_OPT_CURRENT_LR = 20,   /**< read-only: the learning rate nn_step()
                                   uses now, after the schedule */
    NN_OPT_EPOCHS_DONE = 21,  /**< read-only: epochs trained by nn_train()
                                   and nn_fit() so far (the schedule's clock) */

    /* Performance (since 0.1). */
    NN_OPT_THREADS = 22       /**< integer in [0, 1024]: threads of the
                                   matrix products and, with oneDNN, of
                                   libnn's own long passes (the optimizer
                                   update, the minibatch gather, the
                                   finiteness checks, and inference,
                                   split by rows, whose results do not
                                   depend on the count). Training
                                   is reproducible at a given count; its
                                   products may round differently at
                                   another. 0 = the backend's
                                   default, which libnn leaves alone unless
                                   this is set (oneDNN: OpenMP's,
                                   OMP_NUM_THREADS, else one per core;
                                   OpenBLAS: OPENBLAS_NUM_THREADS, else one
                                   per core). Process-wide, not per handle:
                                   setting it on any handle changes it for
                                   every handle (with OpenBLAS, for every
                                   other OpenBLAS user too; with oneDNN it
                                   is applied to each thread that runs a
                                   product); set it while no other thread
                                   is in libnn. nn_get() returns the count
                                   in use (0 if the backend does not say);
                                   a backend that cannot change it accepts
                                   only 0. Not saved with the model. libnn
                                   starts no threads of its own: with
                                   oneDNN its passes run on the OpenMP team
                                   of the products, with CBLAS on the
                                   calling thread; see
                                   nn_build_info() and docs/performance.md,
                                   "Threads" */
} nn_option;

/**
 * Learning-rate schedules, evaluated at the start of every epoch e (counted
 * over the life of the network, see ::NN_OPT_EPOCHS_DONE) from the base
 * rate lr0 = ::NN_OPT_LEARNING_RATE, as torch.optim.lr_scheduler defines
 * them (stepped once per epoch):
 * - constant: lr0
 * - step: lr0 * gamma^floor(e / step_size)               (StepLR)
 * - exponential: lr0 * gamma^e                           (ExponentialLR)
 * - cosine: min + (lr0 - min) (1 + cos(pi min(e, T) / T)) / 2
 *                                                    (CosineAnnealingLR)
 * - plateau: multiplied by gamma (not below min) after `patience` epochs in
 *   which the monitored loss (validation loss when nn_fit() has validation
 *   data, the epoch's training loss otherwise) did not fall below
 *   best * (1 - 1e-4)                                  (ReduceLROnPlateau)
 */
typedef enum nn_schedule {
    NN_SCHEDULE_CONSTANT = 0,    /**< constant: lr0 (the default) */
    NN_SCHEDULE_STEP = 1,        /**< step: StepLR */
    NN_SCHEDULE_EXPONENTIAL = 2, /**< exponential: ExponentialLR */
    NN_SCHEDULE_COSINE = 3,      /**< cosine: CosineAnnealingLR */
    NN_SCHEDULE_PLATEAU = 4      /**< plateau: ReduceLROnPlateau */
} nn_schedule;

/**
 * Optimizers, each defined as the `torch.optim` class of the same name so
 * that one step from the same parameters and gradients gives the same
 * parameters. See docs/design.md for the update formulas.
 */
typedef enum nn_optimizer {
    NN_SGD = 0,      /**< SGD(lr, weight_decay) */
    NN_MOMENTUM = 1, /**< SGD(lr, momentum, dampening=0, weight_decay) */
    NN_NESTEROV = 2, /**< SGD(..., nesterov=True) */
    NN_ADAM = 3,     /**< Adam(lr, betas, eps, weight_decay) */
    NN_ADAMW = 4,    /**< AdamW(lr, betas, eps, weight_decay) */
    NN_RMSPROP = 5   /**< RMSprop(lr, alpha, eps, weight_decay) */
} nn_optimizer;

/**
 * Losses over a batch of N samples with K outputs (means over samples):
 * - ::NN_LOSS_MSE: J = (1/N) sum_i sum_k 1/2 (y_ik - yhat_ik)^2
 * - ::NN_LOSS_CROSS_ENTROPY: J = -(1/N) sum_i sum_k y_ik log yhat_ik;
 *   needs a softmax last layer.
 * - ::NN_LOSS_BINARY_CROSS_ENTROPY: J = -(1/N) sum_i sum_k
 *   [y log yhat + (1 - y) log(1 - yhat)]; needs a sigmoid last layer.
 * Cross-entropies are computed from the logits (log-sum-exp, softplus), so
 * saturated outputs give large finite costs, not infinities.
 */
typedef enum nn_loss {
    NN_LOSS_MSE = 0,                 /**< mean squared error (the default) */
    NN_LOSS_CROSS_ENTROPY = 1,       /**< cross-entropy, softmax outputs */
    NN_LOSS_BINARY_CROSS_ENTROPY = 2 /**< binary cross-entropy, sigmoid
                                          outputs */
} nn_loss;

/**
 * @brief Change one setting.
 *
 * Integer- and enum-valued settings (optimizer, loss, batch size, shuffle)
 * reject non-integral values. nn_option_bounds() gives every option's
 * valid values, and nn_option_name() the name the messages use. Setting ::NN_OPT_OPTIMIZER (even to its
 * current value) resets the optimizer state (moments and step count) and
 * allocates the new state, so nn_step() never allocates.
 *
 * @param[in,out] net   the network.
 * @param[in]     option an ::nn_option.
 * @param[in]     value the new value, in the range given at ::nn_option.
 * @return ::NN_OK; ::NN_EINVAL for a NULL handle, an unknown option, a value
 *         out of range, NaN, or a loss the last layer does not support;
 *         ::NN_ENOMEM if the optimizer state cannot be allocated. On failure
 *         the setting keeps its previous value.
 */
NN_API int nn_set(nn_net *net, int option, double value);

/**
 * @brief Read one setting. Thread-safe.
 * @param[in]  net    the network.
 * @param[in]  option an ::nn_option.
 * @param[out] value  receives the value (enums as their numbers).
 * @return ::NN_OK; ::NN_EINVAL for a NULL pointer or an unknown option.
 */
NN_API int nn_get(const nn_net *net, int option, double *value);

/** Options are numbered 0 to NN_OPT_COUNT - 1 (::nn_option). @since 0.3 */
#define NN_OPT_COUNT 23

/** @name Flags of nn_option_bounds()
 *  @since 0.3
 *  @{ */
#define NN_OPTION_INTEGER 1u    /**< only integral values */
#define NN_OPTION_LOWER_OPEN 2u /**< the lower bound itself is refused */
#define NN_OPTION_UPPER_OPEN 4u /**< the upper bound itself is refused */
#define NN_OPTION_READ_ONLY 8u  /**< nn_get() only */
#define NN_OPTION_SAVED 16u     /**< kept by nn_save() */
#define NN_OPTION_MODEL 32u     /**< part of the model's state: the ranks of
                                     nn_mpi_fit() must agree on it */
/** @} */

/**
 * @brief The name of an option: "learning_rate" for
 *        ::NN_OPT_LEARNING_RATE, and so on, as nn_set()'s messages say it.
 * Thread-safe.
 * @param[in] option an ::nn_option.
 * @return a static string, or NULL for an unknown option.
 * @since 0.3
 */
NN_API const char *nn_option_name(int option);

/**
 * @brief The values nn_set() accepts for an option, so that bindings and
 *        tools need not restate them. Thread-safe.
 *
 * The accepted values lie between `lower` and `upper` (either may be
 * infinite), each bound included unless ::NN_OPTION_LOWER_OPEN or
 * ::NN_OPTION_UPPER_OPEN is set; with an infinite bound open, the value
 * must be finite. Enum-valued options (::NN_OPT_OPTIMIZER, ...) are
 * integers from the enum's first to its last value.
 *
 * @param[in]  option an ::nn_option.
 * @param[out] lower  receives the lower bound; may be NULL.
 * @param[out] upper  receives the upper bound; may be NULL.
 * @param[out] flags  receives NN_OPTION_* flags; may be NULL.
 * @return ::NN_OK; ::NN_EINVAL for an unknown option.
 * @since 0.3
 */
NN_API int nn_option_bounds(int option, double *lower, double *upper,
                            unsigned *flags);

/* ======================================================================
 * The four verbs
 * ====================================================================== */

/**
 * @brief Forward pass on a batch.
 *
 * Uses the handle's batch buffers (grown to the largest batch seen; no
 * allocation for batches no larger). For a read-only, thread-safe forward
 * pass use nn_predict().
 *
 * @param[in,out] net   the network (its activation buffers are written).
 * @param[in]     x     batch x sizes[0] inputs.
 * @param[in]     batch number of samples, >= 1.
 * @param[out]    y_hat batch x sizes[last] outputs.
 * @return ::NN_OK; ::NN_EINVAL for NULL pointers or a zero batch;
 *         ::NN_ESHAPE for a batch too large to address; ::NN_ENOMEM;
 *         ::NN_ENUMERIC for a NaN or infinity in `x`, or for an output
 *         that is not finite (finite but huge inputs can overflow), the
 *         message naming the first such row (0-based); `y_hat` is then
 *         left unchanged, while nn_outputs() shows the failed pass.
 */
NN_API int nn_forward(nn_net *net, const float *x, size_t batch, float *y_hat);

/**
 * @brief Forward pass, then the loss (::NN_OPT_LOSS) against targets.
 * @param[in,out] net   the network.
 * @param[in]     x     batch x sizes[0] inputs.
 * @param[in]     y     batch x sizes[last] targets.
 * @param[in]     batch number of samples, >= 1.
 * @param[out]    cost  receives the mean loss over the batch.
 * @return as nn_forward(); also ::NN_ENUMERIC for non-finite targets or a
 *         non-finite cost.
 */
NN_API int nn_cost(nn_net *net, const float *x, const float *y, size_t batch,
                   double *cost);

/**
 * @brief Forward pass, loss, and the gradient of the loss with respect to
 *        every parameter, stored in the handle (see nn_grads()).
 *
 * The gradient overwrites the previous one (it does not accumulate). On
 * failure the stored gradient is not to be trusted: nn_step() refuses with
 * ::NN_ESTATE until the next successful nn_backprop().
 *
 * @param[in,out] net   the network.
 * @param[in]     x     batch x sizes[0] inputs.
 * @param[in]     y     batch x sizes[last] targets.
 * @param[in]     batch number of samples, >= 1.
 * @param[out]    cost  receives the mean loss; may be NULL.
 * @return as nn_cost(); ::NN_ENUMERIC also for a non-finite gradient.
 */
NN_API int nn_backprop(nn_net *net, const float *x, const float *y,
                       size_t batch, double *cost);

/**
 * @brief One optimizer update from the stored gradients.
 *
 * May be called again on the same gradients (it applies them again, as
 * `optimizer.step()` would). Never allocates.
 *
 * @param[in,out] net the network.
 * @return ::NN_OK; ::NN_EINVAL for NULL; ::NN_ESTATE before any successful
 *         nn_backprop() or after a failed one.
 */
NN_API int nn_step(nn_net *net);

/* ======================================================================
 * Training and inference helpers
 * ====================================================================== */

/**
 * Progress callback of nn_train(), called after every step.
 * @param user            the pointer given to nn_train().
 * @param epoch           0-based epoch.
 * @param step            0-based step within the epoch.
 * @param steps_per_epoch ceil(n / batch size).
 * @param cost            that minibatch's loss before the update.
 * @return 0 to go on; non-zero to stop training (nn_train() returns NN_OK).
 */
typedef int (*nn_progress_fn)(void *user, size_t epoch, size_t step,
                              size_t steps_per_epoch, double cost);

/**
 * @brief Minibatch training with the network's settings.
 *
 * Each epoch uses every sample once, in an order shuffled by the handle's
 * seeded generator when ::NN_OPT_SHUFFLE is 1 (reproducible, and carried by
 * nn_clone() and model files), in order otherwise. The last batch of an
 * epoch is smaller when `n` is not a multiple of ::NN_OPT_BATCH_SIZE.
 * All inputs and targets are checked for NaN/Inf before the first step.
 *
 * Also applies the training kit's settings (dropout, clipping, schedule; see
 * docs/training.md) and records the per-epoch history (nn_history()).
 * nn_train() is nn_fit() without validation data or epoch callback.
 *
 * Memory: allocates, before its first step, the shuffle order (`n` size_t),
 * two gather buffers of one batch, the batch buffers and, on the first
 * call, the history ring (see nn_history()); a later call with no more
 * samples and no larger batch allocates nothing.
 *
 * @param[in,out] net      the network.
 * @param[in]     x        n x sizes[0] inputs.
 * @param[in]     y        n x sizes[last] targets.
 * @param[in]     n        number of samples, >= 1.
 * @param[in]     epochs   number of epochs, >= 1.
 * @param[in]     progress callback after every step; may be NULL.
 * @param[in]     user     passed to `progress`.
 * @return ::NN_OK (also when `progress` stopped training early);
 *         ::NN_EINVAL for NULL pointers or zero counts; ::NN_ESHAPE;
 *         ::NN_ENOMEM (before any step: nothing changed);
 *         ::NN_ENUMERIC for non-finite data (before any step) or when a
 *         step meets a non-finite cost or gradient: training stops and the
 *         network keeps the parameters of the last good step.
 */
NN_API int nn_train(nn_net *net, const float *x, const float *y, size_t n,
                    size_t epochs, nn_progress_fn progress, void *user);

/**
 * @brief Draw a permutation of 0 .. n-1 from the network's generator, as
 *        nn_train() draws each epoch's order when shuffling, advancing the
 *        generator the same way. For training loops run outside
 *        nn_train() (data-parallel ones, for instance): networks in the
 *        same state draw the same permutation, and the generator's state is
 *        saved in model files and copied by nn_clone().
 * @param[in,out] net   the network.
 * @param[out]    order receives n indices.
 * @param[in]     n     number of indices, >= 1.
 * @return ::NN_OK; ::NN_EINVAL for NULL pointers or n == 0.
 */
NN_API int nn_shuffle(nn_net *net, size_t *order, size_t n);

/**
 * @brief Read-only forward pass. Thread-safe: any number of threads may call
 *        nn_predict() and nn_evaluate() at once on the same handle.
 *
 * Memory: allocates per call two scratch buffers of
 * min(batch, 256) x max(sizes) floats, freed before it returns.
 *
 * @param[in]  net   the network (not modified).
 * @param[in]  x     batch x sizes[0] inputs.
 * @param[in]  batch number of samples, >= 1.
 * @param[out] y_hat batch x sizes[last] outputs.
 * @return ::NN_OK; ::NN_EINVAL; ::NN_ESHAPE; ::NN_ENOMEM; ::NN_ENUMERIC for a
 *         NaN or infinity in `x`, or for an output that is not finite
 *         (finite but huge inputs can overflow), the message naming the
 *         first such row (0-based: "the outputs of row 17 are not
 *         finite"). Details in nn_last_error(NULL). Then the rows of
 *         `y_hat` up to and including that one hold their outputs (so a
 *         caller may look for the first non-finite row itself); beyond it,
 *         and after any other error, the contents of `y_hat` are
 *         unspecified.
 */
NN_API int nn_predict(const nn_net *net, const float *x, size_t batch,
                      float *y_hat);

/**
 * @brief Loss and accuracy over a data set. Thread-safe like nn_predict().
 *
 * Accuracy is the share of samples whose arg-max output equals the arg-max
 * target (ties go to the lowest index); with one output, a sample counts
 * when (yhat > 0.5) == (y > 0.5).
 *
 * Memory: allocates per call two scratch buffers of
 * min(n, 256) x max(sizes) floats and two of min(n, 256) x sizes[last]
 * (outputs and logits), freed before it returns.
 *
 * @param[in]  net      the network (not modified).
 * @param[in]  x        n x sizes[0] inputs.
 * @param[in]  y        n x sizes[last] targets.
 * @param[in]  n        number of samples, >= 1.
 * @param[out] cost     receives the mean loss; may be NULL.
 * @param[out] accuracy receives the accuracy in [0, 1]; may be NULL.
 * @return as nn_predict() (a non-finite output is ::NN_ENUMERIC naming
 *         its row); also ::NN_ENUMERIC for non-finite targets or a mean
 *         loss that is not finite. `cost` and `accuracy` are written only
 *         on success. Details in nn_last_error(NULL).
 */
NN_API int nn_evaluate(const nn_net *net, const float *x, const float *y,
                       size_t n, double *cost, double *accuracy);

/**
 * @brief The class each row of outputs (or of one-hot targets) picks, by
 *        the rule nn_evaluate() counts accuracy with: the arg-max, ties to
 *        the lowest index; with one output (a sigmoid), class 1 when the
 *        value is above 0.5, else class 0.
 *
 * Each value is compared with the largest before it by `>`, which is false
 * for a NaN: a NaN after the first value is passed over, one in first
 * place is never replaced, and a single NaN output picks class 0.
 * Thread-safe; needs no network and allocates nothing.
 *
 * @param[in]  y       rows x width values, row-major (e.g. nn_predict()'s
 *                     outputs).
 * @param[in]  rows    number of rows, >= 1.
 * @param[in]  width   values per row (the output layer's size), >= 1.
 * @param[out] classes receives `rows` classes, each in [0, width), or
 *                     [0, 1] when `width` is 1.
 * @return ::NN_OK; ::NN_EINVAL for a NULL pointer or a zero count;
 *         ::NN_ESHAPE when rows x width floats cannot be addressed. A
 *         failed call writes nothing; details in nn_last_error(NULL).
 * @since 0.3
 */
NN_API int nn_predicted_classes(const float *y, size_t rows, size_t width,
                                size_t *classes);

/**
 * @brief Count the rows whose outputs pick the class their targets pick
 *        (nn_predicted_classes()): the numerator of nn_evaluate()'s
 *        accuracy and of the training accuracy in nn_history(), for
 *        training loops that count it themselves (libnn_mpi counts it from
 *        nn_outputs() after each nn_backprop()).
 *
 * Thread-safe; needs no network and allocates nothing.
 *
 * @param[in]  y_hat   rows x width outputs.
 * @param[in]  y       rows x width targets.
 * @param[in]  rows    number of rows, >= 1.
 * @param[in]  width   values per row, >= 1.
 * @param[out] correct receives the count, in [0, rows].
 * @return ::NN_OK; ::NN_EINVAL for a NULL pointer or a zero count;
 *         ::NN_ESHAPE when rows x width floats cannot be addressed. A
 *         failed call writes nothing; details in nn_last_error(NULL).
 * @since 0.3
 */
NN_API int nn_count_correct(const float *y_hat, const float *y, size_t rows,
                            size_t width, size_t *correct);

/**
 * Called by nn_fit() after every epoch, once that epoch's history entry is
 * recorded (read it with nn_history()).
 * @param user  the pointer given to nn_fit().
 * @param net   the network being trained (read-only access).
 * @param epoch 0-based epoch of this call.
 * @return 0 to go on; non-zero to stop training (nn_fit() returns NN_OK).
 */
typedef int (*nn_epoch_fn)(void *user, const nn_net *net, size_t epoch);

/**
 * @brief nn_train() with validation data, early stopping and an epoch
 *        callback.
 *
 * Trains as nn_train() does, and after every epoch evaluates the
 * validation set (when `n_val` > 0; dropout off), records the epoch in the
 * history and calls `on_epoch`. With ::NN_OPT_EARLY_STOPPING = p > 0 and
 * validation data, training stops after p epochs without a lower validation
 * loss; whenever validation data is given, training ends (for whatever
 * reason: epochs done, early stop, a callback's stop) with the weights of
 * the epoch of lowest validation loss restored.
 *
 * Memory: as nn_train(), plus, the first time validation data is given,
 * one copy of the parameters; validation runs in the handle's batch
 * buffers. A later call with no more samples and no larger batch allocates
 * nothing.
 *
 * @param[in,out] net      the network.
 * @param[in]     x, y     n training samples (as nn_train()).
 * @param[in]     n        >= 1.
 * @param[in]     x_val, y_val `n_val` validation samples; NULL when
 *                         `n_val` is 0.
 * @param[in]     n_val    number of validation samples, may be 0.
 * @param[in]     epochs   >= 1.
 * @param[in]     progress per-step callback; may be NULL.
 * @param[in]     on_epoch per-epoch callback; may be NULL.
 * @param[in]     user     passed to both callbacks.
 * @return as nn_train().
 */
NN_API int nn_fit(nn_net *net, const float *x, const float *y, size_t n,
                  const float *x_val, const float *y_val, size_t n_val,
                  size_t epochs, nn_progress_fn progress,
                  nn_epoch_fn on_epoch, void *user);

/** Per-epoch series recorded by nn_train(), nn_fit() and nn_epoch_end(). */
typedef enum nn_metric {
    NN_HIST_TRAIN_LOSS = 0,     /**< mean minibatch loss over the epoch */
    NN_HIST_TRAIN_ACCURACY = 1, /**< share of the epoch's samples whose
                                     minibatch output (before the update)
                                     was right, as nn_evaluate() counts */
    NN_HIST_VAL_LOSS = 2,       /**< validation loss; NaN without one */
    NN_HIST_VAL_ACCURACY = 3,   /**< validation accuracy; NaN without one */
    NN_HIST_LEARNING_RATE = 4   /**< learning rate used in the epoch */
} nn_metric;

/** Epochs the history keeps: the last ones of a longer call. */
#define NN_HISTORY_CAPACITY 1024

/**
 * @brief Number of epochs in the history of the last nn_train() / nn_fit()
 *        call: the epochs that ran (a partial last one when a callback
 *        stopped it), at most ::NN_HISTORY_CAPACITY (the most recent);
 *        0 before any. Epochs that nn_epoch_end() records are appended to
 *        it (nn_history_clear() starts afresh). Thread-safe.
 */
NN_API size_t nn_history_len(const nn_net *net);

/**
 * @brief Copy one per-epoch series of the last nn_train() / nn_fit() call,
 *        oldest kept epoch first.
 * @param[in]  net    the network.
 * @param[in]  metric an ::nn_metric.
 * @param[out] out    receives min(cap, nn_history_len()) values.
 * @param[in]  cap    capacity of `out`.
 * @return ::NN_OK; ::NN_EINVAL for NULL pointers or an unknown metric.
 *         Thread-safe; failures in nn_last_error(NULL).
 */
NN_API int nn_history(const nn_net *net, int metric, double *out, size_t cap);

/* ----------------------------------------------------------------------
 * Epochs of training loops run outside nn_train() / nn_fit() (libnn_mpi's,
 * a custom sampler): the hooks nn_fit() itself calls around each epoch,
 * so that such a loop follows the learning-rate schedule, fills the
 * history and stops early as nn_fit() would. A loop is
 *
 *     nn_history_clear(net);                // a new run
 *     for (each epoch) {
 *         nn_epoch_begin(net);              // the schedule's lr
 *         ... nn_shuffle(), nn_backprop(), nn_step(),
 *             nn_count_correct() on nn_outputs() ...
 *         double m[] = {train_loss, train_accuracy, val_loss, val_acc};
 *         nn_epoch_end(net, m, 4);          // history, schedule, best
 *         int stop;
 *         nn_epoch_should_stop(net, &stop); // NN_OPT_EARLY_STOPPING
 *         if (stop)
 *             break;
 *     }
 *     nn_restore_best_weights(net);         // lowest validation loss
 * ---------------------------------------------------------------------- */

/**
 * @brief Start an epoch: set the learning rate that the schedule
 *        (::NN_OPT_SCHEDULE) gives the epoch about to run, as nn_fit()
 *        does before each; read it back with ::NN_OPT_CURRENT_LR. Calling
 *        it again before nn_epoch_end() changes nothing.
 * @return ::NN_OK; ::NN_EINVAL for a NULL handle.
 * @since 0.2
 */
NN_API int nn_epoch_begin(nn_net *net);

/**
 * @brief End an epoch as nn_fit() does after each: append its metrics to
 *        the history, with the learning rate it ran at; count it in
 *        ::NN_OPT_EPOCHS_DONE; let the schedule see it (the plateau
 *        schedule watches the validation loss, or the training loss when
 *        the validation loss is NaN); and, when a validation loss is given
 *        (not NaN), keep early stopping's account: a validation loss lower
 *        than every one since nn_history_clear() keeps a copy of the
 *        parameters (for nn_restore_best_weights()), any other counts one
 *        more epoch without improvement (for nn_epoch_should_stop()).
 *
 * The first call on a handle allocates the history ring (as the first
 * nn_train() does), and the first with a validation loss one copy of the
 * parameters (as the first nn_fit() with validation data does); no later
 * call allocates.
 *
 * @param[in,out] net     the network.
 * @param[in]     metrics the epoch's values in ::nn_metric order:
 *                        training loss, then optionally training accuracy,
 *                        validation loss and validation accuracy; NaN
 *                        marks a value there is none of. Those not given
 *                        are NaN.
 * @param[in]     count   number of values in `metrics`, 1 to 4.
 * @return ::NN_OK; ::NN_EINVAL for a NULL pointer or a count out of range;
 *         ::NN_ENUMERIC for a training loss that is not finite or an
 *         infinite metric; ::NN_ENOMEM. A failed call changes nothing.
 * @since 0.2 (early stopping's account since 0.3)
 */
NN_API int nn_epoch_end(nn_net *net, const double *metrics, size_t count);

/**
 * @brief Whether early stopping ends training now, by nn_fit()'s rule:
 *        ::NN_OPT_EARLY_STOPPING = p > 0 and the last p epochs that
 *        nn_epoch_end() received a validation loss for brought none lower
 *        than the best before them (since nn_history_clear()). Call it
 *        after nn_epoch_end(). Thread-safe (reads `net` only).
 * @param[in]  net  the network.
 * @param[out] stop receives 1 to stop, 0 to go on (always 0 when
 *                  ::NN_OPT_EARLY_STOPPING is 0 or no validation loss was
 *                  given).
 * @return ::NN_OK; ::NN_EINVAL for a NULL pointer (details in
 *         nn_last_error(NULL)).
 * @since 0.3
 */
NN_API int nn_epoch_should_stop(const nn_net *net, int *stop);

/**
 * @brief Put back the parameters of the epoch of lowest validation loss
 *        that nn_epoch_end() recorded since nn_history_clear(), as nn_fit()
 *        does when it ends with validation data. Changes nothing when no
 *        epoch since then had a validation loss. Only the parameters
 *        change: the optimizer state, the schedule and the history stay.
 *        Never allocates.
 * @param[in,out] net the network.
 * @return ::NN_OK; ::NN_EINVAL for a NULL handle.
 * @since 0.3
 */
NN_API int nn_restore_best_weights(nn_net *net);

/**
 * @brief Start a new run: empty the history and forget early stopping's
 *        account (the lowest validation loss, the epochs since), as
 *        nn_train() and nn_fit() do when they start.
 * @return ::NN_OK; ::NN_EINVAL for a NULL handle.
 * @since 0.2
 */
NN_API int nn_history_clear(nn_net *net);

/* ======================================================================
 * What the model knows about its data (since 0.3)
 *
 * Metadata that tools and bindings keep with a model so that it can be
 * used without the script that trained it: the task, the names of the
 * classes (what each output means), the names of the input features and
 * of the label column. Training and inference never read them; nn_save()
 * stores them (format version 2) and nn_clone() copies them. The setters
 * copy their arguments; a failed call changes nothing. The getters return
 * pointers into the handle, valid until the next setter of the same field
 * or nn_free(); reading is thread-safe, writing is not.
 * ====================================================================== */

/** What a model predicts, for nn_set_task() and nn_get_task(). */
typedef enum nn_task {
    NN_TASK_AUTO = 0,     /**< nn_set_task(): decide from the loss */
    NN_TASK_CLASSIFY = 1, /**< classes: softmax + cross-entropy (one class
                               per sample) or sigmoid + binary cross-entropy
                               (binary, or one yes/no per output) */
    NN_TASK_REGRESS = 2   /**< real-valued targets */
} nn_task;

/**
 * @brief Record what the model predicts.
 * @param[in,out] net  the network.
 * @param[in]     task an ::nn_task; ::NN_TASK_AUTO forgets a recorded task.
 * @return ::NN_OK; ::NN_EINVAL for a NULL handle or an unknown task.
 * @since 0.3
 */
NN_API int nn_set_task(nn_net *net, int task);

/**
 * @brief What the model predicts: the recorded task, or without one
 *        ::NN_TASK_CLASSIFY when the loss is a cross-entropy (softmax or
 *        sigmoid output) and ::NN_TASK_REGRESS otherwise. Thread-safe.
 * @return an ::nn_task other than ::NN_TASK_AUTO; ::NN_EINVAL for NULL.
 * @since 0.3
 */
NN_API int nn_get_task(const nn_net *net);

/**
 * @brief Name the classes, in the order of the outputs.
 * @param[in,out] net   the network.
 * @param[in]     n     0 to remove the names; else the number of outputs,
 *                      or 2 when the last layer has one unit (a binary
 *                      classifier: names[1] is the class of outputs > 0.5).
 * @param[in]     names n distinct, non-empty NUL-terminated strings (not
 *                      kept: they are copied); may be NULL when n is 0.
 * @return ::NN_OK; ::NN_EINVAL for a NULL handle, a NULL, empty or repeated
 *         name; ::NN_ESHAPE for a count the output layer does not allow;
 *         ::NN_ENOMEM.
 * @since 0.3
 */
NN_API int nn_set_classes(nn_net *net, size_t n, const char *const *names);

/**
 * @brief The class names set by nn_set_classes() (or loaded with the
 *        model). Thread-safe.
 * @param[in]  net   the network.
 * @param[out] names receives the array of names owned by the handle, NULL
 *                   when there are none; may be NULL.
 * @return the number of names; 0 when there are none or `net` is NULL.
 * @since 0.3
 */
NN_API size_t nn_classes(const nn_net *net, const char *const **names);

/**
 * @brief Name the input features, in the order of the inputs.
 * @param[in,out] net   the network.
 * @param[in]     n     0 to remove the names, else sizes[0].
 * @param[in]     names n distinct, non-empty strings (copied); may be NULL
 *                      when n is 0.
 * @return as nn_set_classes(); ::NN_ESHAPE when n is neither 0 nor
 *         sizes[0].
 * @since 0.3
 */
NN_API int nn_set_feature_names(nn_net *net, size_t n,
                                const char *const *names);

/**
 * @brief The feature names; as nn_classes(). Thread-safe.
 * @since 0.3
 */
NN_API size_t nn_feature_names(const nn_net *net, const char *const **names);

/**
 * @brief Record the name of the label (target) column the model was
 *        trained on.
 * @param[in,out] net  the network.
 * @param[in]     name a NUL-terminated string (copied), or NULL or "" to
 *                     remove it.
 * @return ::NN_OK; ::NN_EINVAL for a NULL handle; ::NN_ENOMEM.
 * @since 0.3
 */
NN_API int nn_set_label_name(nn_net *net, const char *name);

/**
 * @brief The label column's name, or NULL when none is recorded (or `net`
 *        is NULL). Owned by the handle. Thread-safe.
 * @since 0.3
 */
NN_API const char *nn_label_name(const nn_net *net);

/* ======================================================================
 * Input transform
 * ====================================================================== */

/**
 * @brief Set the per-feature input transform x' = (x - shift) * scale that
 *        nn_forward(), nn_predict() and every training call apply to
 *        inputs before the first layer, so a model predicts on raw data. It
 *        is saved in model files and copied by nn_clone().
 * @param[in,out] net   the network.
 * @param[in]     shift sizes[0] floats, or NULL (with `scale` NULL) to
 *                      remove the transform.
 * @param[in]     scale sizes[0] finite floats, or NULL (with `shift` NULL).
 * @return ::NN_OK; ::NN_EINVAL for a NULL handle or only one NULL array;
 *         ::NN_ENUMERIC for a non-finite value; ::NN_ENOMEM.
 */
NN_API int nn_set_input_transform(nn_net *net, const float *shift,
                                  const float *scale);

/**
 * @brief Set the input transform to standardise features: shift = mean,
 *        scale = 1 / std (population std over the n samples; 1 where the
 *        std is below 1e-6 so constant features pass through centred).
 * @param[in,out] net the network.
 * @param[in]     x   n x sizes[0] training inputs (raw).
 * @param[in]     n   number of samples, >= 1.
 * @return ::NN_OK; ::NN_EINVAL; ::NN_ENUMERIC for NaN/Inf in x; ::NN_ENOMEM.
 */
NN_API int nn_standardize_inputs(nn_net *net, const float *x, size_t n);

/**
 * @brief Read the input transform. Thread-safe.
 * @param[in]  net   the network.
 * @param[out] shift sizes[0] floats (0 without a transform); may be NULL.
 * @param[out] scale sizes[0] floats (1 without a transform); may be NULL.
 * @return 1 if the network has a transform, 0 if not; ::NN_EINVAL for a
 *         NULL handle.
 */
NN_API int nn_get_input_transform(const nn_net *net, float *shift,
                                  float *scale);

/* ======================================================================
 * Parameters and gradients
 * ====================================================================== */

/**
 * Layout of the parameter (and gradient) buffer: for each weight layer
 * l = 0 .. n_sizes-2 in order, first W_l, sizes[l] x sizes[l+1] row-major
 * (W[i*out + j] joins input i to unit j, z = a W), then b_l, sizes[l+1]
 * floats (absent with ::NN_NO_BIAS).
 */

/** @brief Number of layers of units (`n_sizes`); 0 for NULL. */
NN_API size_t nn_num_layers(const nn_net *net);

/** @brief `sizes[i]`; 0 for NULL or `i >= n_sizes`. */
NN_API size_t nn_layer_size(const nn_net *net, size_t i);

/**
 * @brief The activation of weight layer `layer` (0 .. n_sizes-2), as an
 *        ::nn_activation value (>= 0). Thread-safe.
 * @return the activation; ::NN_EINVAL for a NULL handle or a layer out of
 *         range (detail in nn_last_error(NULL)).
 */
NN_API int nn_layer_activation(const nn_net *net, size_t layer);

/** @brief Total number of parameters; 0 for NULL. */
NN_API size_t nn_param_count(const nn_net *net);

/**
 * @brief Live view of all parameters (nn_param_count() floats).
 * Writing through it is how callers set weights. Valid until nn_free().
 * @return the view, or NULL for a NULL handle.
 */
NN_API float *nn_params(nn_net *net);

/**
 * @brief Live view of the stored gradients, laid out as nn_params().
 * Zero before the first nn_backprop(). MPI users all-reduce it in place
 * between nn_backprop() and nn_step(). Valid until nn_free().
 * @return the view, or NULL for a NULL handle.
 */
NN_API float *nn_grads(nn_net *net);

/**
 * @brief Read-only view of the outputs of the last forward pass run on the
 *        handle: by nn_forward(), nn_cost(), nn_backprop() (the outputs of
 *        that minibatch before the update, which is how a training loop
 *        outside nn_train() counts its training accuracy without a second
 *        pass), each step of nn_train() / nn_fit(), and nn_fit()'s
 *        validation, in chunks. nn_predict() and nn_evaluate() do not
 *        count: they leave the handle alone.
 *
 * Valid until the next call on the handle that runs a forward pass or
 * grows its batch buffers, or nn_free().
 *
 * @param[in]  net  the network.
 * @param[out] rows receives the number of rows (0 before any forward pass
 *                  or for NULL); may be NULL.
 * @return `rows` x sizes[last] floats, row-major; NULL before any forward
 *         pass and for a NULL handle (then ::NN_EINVAL in
 *         nn_last_error(NULL)).
 * @since 0.2
 */
NN_API const float *nn_outputs(const nn_net *net, size_t *rows);

/**
 * @brief Pointers into nn_params() for one weight layer.
 * @param[in]  net     the network.
 * @param[in]  layer   weight layer, 0 .. n_sizes-2.
 * @param[out] weights receives W_l (sizes[l] x sizes[l+1]); may be NULL.
 * @param[out] bias    receives b_l, or NULL with ::NN_NO_BIAS; may be NULL.
 * @return ::NN_OK; ::NN_EINVAL for a NULL handle, both outputs NULL, or a
 *         layer out of range.
 */
NN_API int nn_layer_params(nn_net *net, size_t layer, float **weights,
                           float **bias);

/* ======================================================================
 * Persistence
 * ====================================================================== */

/**
 * @brief Save the network (architecture, parameters, settings, optimizer
 *        state, generator) to a file; see docs/format.md.
 *
 * What `path` names decides how it is written, so that nothing the caller
 * owns is destroyed:
 * - a regular file, or nothing yet: a temporary file beside it is written,
 *   synced and renamed over it, so `path` holds the old model or the new
 *   one, never part of one, and a failed save removes the temporary file.
 *   The replaced file's permissions are kept; a new file gets 0666 minus
 *   the umask. The process must not be killed meanwhile (a caller that
 *   handles SIGINT should hold it back around the call, as `nnet` does),
 *   or the temporary file (`path` + ".tmp-XXXXXX") stays.
 * - a symbolic link: followed; the file it points to is replaced (created
 *   for a dangling link) and the link stays a link.
 * - a character device, FIFO or socket, or an open descriptor named by
 *   /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N: written in
 *   place, never replaced (so "/dev/null" works for every user).
 * - a directory: ::NN_EIO, nothing written.
 *
 * Thread-safe (reads `net` only).
 * @return ::NN_OK; ::NN_EINVAL; ::NN_ENOMEM; ::NN_EIO (the detail names the
 *         path and the step that failed).
 */
NN_API int nn_save(const nn_net *net, const char *path);

/**
 * @brief Load a network saved by nn_save().
 * @param[out] out  receives the handle; NULL on failure.
 * @param[in]  path the file.
 * @return ::NN_OK; ::NN_EINVAL; ::NN_ENOMEM; ::NN_EIO if it cannot be opened
 *         or read; ::NN_EFORMAT if it holds no valid model.
 */
NN_API int nn_load(nn_net **out, const char *path);

/**
 * @brief Serialise into a caller's buffer.
 * @param[in]  net the network.
 * @param[out] buf destination, or NULL to ask for the size.
 * @param[in]  cap capacity of `buf` in bytes.
 * @param[out] len receives the size needed (also when `cap` is too small).
 * @return ::NN_OK; ::NN_EINVAL; ::NN_ESHAPE when `cap` is too small.
 */
NN_API int nn_save_buffer(const nn_net *net, void *buf, size_t cap,
                          size_t *len);

/**
 * @brief Load a network from a buffer written by nn_save_buffer().
 * @return ::NN_OK; ::NN_EINVAL; ::NN_ENOMEM; ::NN_EFORMAT.
 */
NN_API int nn_load_buffer(nn_net **out, const void *buf, size_t len);

/* ======================================================================
 * Diagnostics
 * ====================================================================== */

/**
 * @brief Check nn_backprop()'s gradient against central finite differences.
 *
 * For every parameter theta, with h = 1e-3 * max(1, |theta|), the cost is
 * evaluated in double precision at theta +- h; the result is the largest
 * |a - n| / max(|a| + |n|, 1e-6) over all parameters (a analytic, n
 * numeric). On a correct network it is far below 1e-2. Parameters are left
 * untouched, and on return the stored gradients are those of nn_backprop()
 * on this batch, so nn_step() may follow. Slow: 2 x nn_param_count() double
 * forward passes; allocates its double-precision copies per call.
 *
 * @param[in,out] net           the network.
 * @param[in]     x             batch x sizes[0] inputs.
 * @param[in]     y             batch x sizes[last] targets.
 * @param[in]     batch         number of samples, >= 1.
 * @param[out]    max_rel_error receives the largest relative error.
 * @return as nn_backprop().
 */
NN_API int nn_gradcheck(nn_net *net, const float *x, const float *y,
                        size_t batch, double *max_rel_error);

#ifdef __cplusplus
}
#endif

#endif /* LIBNN_NN_H */
