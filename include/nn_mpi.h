/* SPDX-License-Identifier: MIT */
/**
 * @file nn_mpi.h
 * @brief libnn_mpi: data-parallel training of libnn networks over MPI.
 *
 * A small companion library, `libnn_mpi.so.0` (pkg-config `nn_mpi`), built
 * when Meson finds MPI. libnn itself never depends on MPI: everything here
 * is written on libnn's public API (nn_backprop(), nn_grads(), nn_step(),
 * nn_params(), ...) plus MPI collectives on a communicator the caller owns.
 * See docs/distributed.md for how to run it and how it scales.
 *
 * Conventions, on top of those of nn.h:
 * - Functions taking an `MPI_Comm` are collective: every rank of the
 *   communicator must call them, in the same order, with arguments that
 *   agree where the documentation says so. They never leave one rank
 *   waiting for another that failed: before each collective step the ranks
 *   agree on a status, and a failure on any rank makes the call return the
 *   same error code on every rank (the code of the lowest failing rank).
 * - On failure, nn_mpi_last_error() gives the detail on every rank, naming
 *   the rank that failed and what it met ("nn_mpi_fit: rank 2 of 3:
 *   nn_backprop: ..."). libnn's own nn_last_error() is left to libnn.
 * - Ranks stay bit-identical: every rank gets the same bytes of the reduced
 *   gradient (each element is summed once and copied to all; with two
 *   ranks, by one addition, which commutes exactly), so every rank applies
 *   nn_step() to the same bytes. Results equal one process on the whole
 *   data set up to the float round-off of a different summation order.
 * - MPI errors: with the communicator's error handler set to
 *   `MPI_ERRORS_RETURN`, a failing MPI call makes the function return
 *   ::NN_EIO with MPI's message; with the default handler
 *   (`MPI_ERRORS_ARE_FATAL`) MPI ends the job itself. After an MPI failure
 *   the ranks may be out of step: end the job.
 * - The library calls neither MPI_Init() nor MPI_Finalize(), keeps no
 *   state between calls except each thread's error detail, and never
 *   prints. The calling thread must be allowed to make MPI calls (any
 *   thread level works when only one thread uses MPI).
 *
 * Example (every rank; `x`, `y` hold this rank's `n` rows):
 * @code
 *     nn_create(&net, 4, sizes, acts, 0, 42);   // same seed: same weights
 *     nn_mpi_broadcast_params(net, MPI_COMM_WORLD);  // or make sure of it
 *     nn_set(net, NN_OPT_BATCH_SIZE, 128);     // the global batch
 *     if (nn_mpi_train(net, MPI_COMM_WORLD, x, y, n, 10, NULL, NULL))
 *         fprintf(stderr, "%s\n", nn_mpi_last_error());
 * @endcode
 */
#ifndef LIBNN_NN_MPI_H
#define LIBNN_NN_MPI_H

#include <stddef.h>

#include <mpi.h>

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Errors and agreement
 * ====================================================================== */

/**
 * @brief Detail of the last failure of an nn_mpi_* call in this thread.
 * @return a string owned by the library, valid until the next failing
 *         nn_mpi_* call in this thread; "" before any failure. Never NULL.
 */
NN_API const char *nn_mpi_last_error(void);

/**
 * @brief Agree on a status across the ranks (collective).
 *
 * For the caller's own steps that may fail on some ranks only, such as
 * reading this rank's slice of a data file: every rank passes its local
 * status, and every rank gets the same answer, so all of them can stop
 * cleanly instead of some waiting forever in the next collective.
 *
 * @param[in] comm   the communicator.
 * @param[in] status this rank's status: 0 for success, anything else a
 *                   failure (a libnn `NN_E...` code is best).
 * @param[in] detail text describing a failure on this rank (copied, cut at
 *                   400 bytes); may be NULL. Ignored when `status` is 0.
 * @return 0 when every rank passed 0; otherwise the status of the lowest
 *         failing rank, on every rank, with nn_mpi_last_error() holding
 *         "rank R of P: <its detail>". ::NN_EINVAL for `MPI_COMM_NULL`;
 *         ::NN_EIO when MPI fails.
 */
NN_API int nn_mpi_agree(MPI_Comm comm, int status, const char *detail);

/* ======================================================================
 * Data sharding
 * ====================================================================== */

/**
 * @brief This rank's contiguous slice of `n` rows (not collective).
 *
 * The rows are cut into as many slices as there are ranks, in rank order,
 * sizes differing by at most one (the first `n % size` ranks get one more):
 * rank r gets rows [first, first + count). Use it to read only this rank's
 * part of a data file; the global data set of nn_mpi_fit() is then the file
 * in its original order.
 *
 * @param[in]  comm  the communicator.
 * @param[in]  n     total number of rows.
 * @param[out] first receives the index of this rank's first row.
 * @param[out] count receives this rank's number of rows (0 when n < size).
 * @return ::NN_OK; ::NN_EINVAL for NULL pointers or `MPI_COMM_NULL`;
 *         ::NN_EIO when MPI fails.
 */
NN_API int nn_mpi_shard(MPI_Comm comm, size_t n, size_t *first,
                        size_t *count);

/* ======================================================================
 * Parameters and gradients
 * ====================================================================== */

/**
 * @brief Copy rank 0's parameters to every rank (collective).
 *
 * Only nn_params() travels: settings, optimizer state and input transform
 * stay as each rank has them. Use it after creating the network on every
 * rank; to share a whole model (for example one that rank 0 loaded) use
 * nn_mpi_broadcast_net().
 *
 * @param[in,out] net  the network; the same architecture on every rank.
 * @param[in]     comm the communicator.
 * @return ::NN_OK; ::NN_EINVAL for a NULL handle on any rank or
 *         `MPI_COMM_NULL`; ::NN_ESHAPE when architectures (sizes,
 *         activations, biases) differ between ranks; ::NN_EIO when MPI
 *         fails. On failure no parameter changed.
 */
NN_API int nn_mpi_broadcast_params(nn_net *net, MPI_Comm comm);

/**
 * @brief Give every rank an exact copy of rank 0's network (collective).
 *
 * Rank 0 serialises its network with nn_save_buffer() (architecture,
 * parameters, settings, optimizer state, input transform, generator) and
 * the other ranks load it with nn_load_buffer(), freeing the handle they
 * held. After it, training on every rank continues bit-identically.
 *
 * @param[in,out] net  on rank 0: the source handle, unchanged. On other
 *                     ranks: receives the copy; the handle it held (may be
 *                     NULL) is freed. Must not be NULL itself.
 * @param[in]     comm the communicator.
 * @return ::NN_OK; ::NN_EINVAL for a NULL `net` (or `*net` on rank 0);
 *         ::NN_ENOMEM; ::NN_EFORMAT if a copy cannot be loaded; ::NN_EIO
 *         when MPI fails. On failure every `*net` is as it was.
 */
NN_API int nn_mpi_broadcast_net(nn_net **net, MPI_Comm comm);

/**
 * @brief Average the gradients of one global batch across ranks, in place
 *        on nn_grads() (collective).
 *
 * Call it on every rank between nn_backprop() and nn_step(). Each rank's
 * stored gradient is the mean over its `local_batch` rows; the result, on
 * every rank, is
 *
 *     g = sum_r (local_batch_r * g_r) / sum_r local_batch_r,
 *
 * the mean over the whole global batch, so uneven slices give what one
 * process gets on the whole batch (up to float round-off). A rank with
 * `local_batch` 0 contributes nothing: it need not call nn_backprop(), and
 * is given a stored gradient nn_step() accepts. All ranks end with the
 * same bytes.
 *
 * @code
 *     int rc = nn_backprop(net, x, y, rows, &cost);   // rows may be 0:
 *     rc = nn_mpi_allreduce_grads(net, comm, rows, rc); // skip backprop
 *     if (rc == NN_OK)
 *         rc = nn_step(net);
 * @endcode
 *
 * @param[in,out] net          the network.
 * @param[in]     comm         the communicator.
 * @param[in]     local_batch  rows of this rank's nn_backprop(); 0 for none.
 * @param[in]     local_status what this rank's nn_backprop() returned
 *                             (::NN_OK when it did not call it): a failure
 *                             on any rank fails the call on every rank.
 * @return ::NN_OK; the failing rank's `local_status`; ::NN_EINVAL for a
 *         NULL handle or a global batch of 0; ::NN_ESHAPE when
 *         architectures differ or parameter counts exceed INT_MAX;
 *         ::NN_ENOMEM; ::NN_EIO. On failure the stored gradients are not
 *         to be used.
 */
NN_API int nn_mpi_allreduce_grads(nn_net *net, MPI_Comm comm,
                                  size_t local_batch, int local_status);

/* ======================================================================
 * Data-parallel helpers
 * ====================================================================== */

/**
 * @brief nn_standardize_inputs() over the data of all ranks (collective).
 *
 * Sets, on every rank, the input transform of the mean and population
 * standard deviation of the concatenated rows of all ranks, as
 * nn_standardize_inputs() would on the whole data set (up to round-off).
 *
 * @param[in,out] net     the network; the same input width on every rank.
 * @param[in]     comm    the communicator.
 * @param[in]     x       n_local x sizes[0] inputs; NULL when n_local is 0.
 * @param[in]     n_local this rank's rows; the sum over ranks must be >= 1.
 * @return ::NN_OK; ::NN_EINVAL; ::NN_ESHAPE when input widths differ;
 *         ::NN_ENUMERIC for NaN/Inf in any rank's `x`; ::NN_ENOMEM;
 *         ::NN_EIO.
 */
NN_API int nn_mpi_standardize_inputs(nn_net *net, MPI_Comm comm,
                                     const float *x, size_t n_local);

/**
 * @brief nn_evaluate() over the data of all ranks (collective).
 *
 * Each rank evaluates its rows; the loss and accuracy returned on every
 * rank (the same values) are those of the concatenated data set.
 *
 * @param[in]  net      the network (not modified); the same on every rank.
 * @param[in]  comm     the communicator.
 * @param[in]  x, y     this rank's n_local samples; NULL when n_local is 0.
 * @param[in]  n_local  this rank's rows; the sum over ranks must be >= 1.
 * @param[out] cost     receives the mean loss; may be NULL.
 * @param[out] accuracy receives the accuracy; may be NULL.
 * @return ::NN_OK; as nn_evaluate() on any rank; ::NN_ESHAPE when
 *         architectures differ; ::NN_EIO.
 */
NN_API int nn_mpi_evaluate(const nn_net *net, MPI_Comm comm, const float *x,
                           const float *y, size_t n_local, double *cost,
                           double *accuracy);

/* ======================================================================
 * Data-parallel training
 * ====================================================================== */

/** Number of values nn_mpi_fit() passes to its epoch callback. */
#define NN_MPI_METRICS 5

/**
 * Called by nn_mpi_fit() on every rank after every epoch.
 * @param user    the pointer given to nn_mpi_fit().
 * @param net     the network being trained (read-only access).
 * @param epoch   0-based epoch of this call.
 * @param metrics ::NN_MPI_METRICS values of the epoch over all ranks,
 *                indexed by ::nn_metric as nn_history() reports them
 *                (::NN_HIST_TRAIN_LOSS ... ::NN_HIST_LEARNING_RATE);
 *                the validation values NaN without validation data.
 *                The same values on every rank.
 * @return 0 to go on; non-zero to stop training. The stop takes effect on
 *         every rank at the same point (see nn_mpi_fit()).
 */
typedef int (*nn_mpi_epoch_fn)(void *user, const nn_net *net, size_t epoch,
                               const double *metrics);

/**
 * @brief Data-parallel nn_fit(): every global batch is split across the
 *        ranks, and all ranks end with bit-identical networks (collective).
 *
 * The data: rank r holds `n_local` rows; the global data set is the
 * concatenation of every rank's rows in rank order (for a file cut with
 * nn_mpi_shard(), the file in order). N is the sum of `n_local`, B =
 * min(::NN_OPT_BATCH_SIZE, N) the global batch, ceil(N / B) the steps of an
 * epoch; the last batch of an epoch is smaller when B does not divide N.
 *
 * The order: with ::NN_OPT_SHUFFLE 1, each epoch's order is the
 * permutation of the N global rows that nn_shuffle() draws from rank 0's
 * network (the generator nn_train() shuffles with, so the order follows
 * the seed and a saved model's state); every rank draws it too, keeping
 * the generators in step, and uses rank 0's; with 0, the global rows in
 * order. Global batch k is the rows at positions
 * [kB, kB + B) of that order; each rank runs nn_backprop() on those it
 * holds (a rank holding none contributes nothing), the gradients are
 * averaged weighted by rows (nn_mpi_allreduce_grads()'s rule) and every
 * rank runs nn_step(). So P ranks compute what one process would on the
 * whole data set in the same order, up to float round-off; on one rank the
 * result is bitwise that of nn_backprop() + nn_step() on each batch.
 * Without shuffling, a batch lies on one or two ranks: only shuffled
 * training runs the ranks in parallel.
 *
 * After every epoch, with validation data (some rank has `n_val_local` >
 * 0), the loss and accuracy over all ranks' validation rows are computed;
 * ::NN_OPT_EARLY_STOPPING and the restoration of the weights of the best
 * epoch work as in nn_fit(). Callbacks run on every rank that passes them
 * (pass NULL on ranks that should not print); a stop asked by a callback
 * on any rank takes effect on all ranks before the next update, so they
 * stop after the same step.
 *
 * Requirements, checked on entry on every rank: the same architecture,
 * parameters, input transform and settings on every rank (create with the
 * same seed, or use nn_mpi_broadcast_net(), which also copies the optimizer
 * state that nn_mpi_fit() cannot see), and the same `epochs`.
 *
 * Learning-rate schedules and the history work as in nn_fit(), through
 * libnn's epoch hooks (nn_epoch_begin(), nn_epoch_end()) on every rank:
 * each epoch runs at the schedule's rate, its metrics (those given to
 * `on_epoch`) are appended to nn_history() on every rank, the plateau
 * schedule watches the validation loss over all ranks (the training loss
 * without validation data), and ::NN_OPT_EPOCHS_DONE advances. The
 * training accuracy is counted on each rank from nn_backprop()'s outputs
 * (nn_outputs()) and summed.
 * With dropout each rank draws its masks from its own generator, in step
 * with the others at the start of the call.
 *
 * Memory: per call, the order (N size_t, with shuffling) and gather
 * buffers of min(B, n_local) rows; in the handle, as nn_fit() allocates
 * them, libnn's buffers of the largest slice, the history ring and, with
 * validation data, one copy of the parameters (the best epoch's).
 *
 * @param[in,out] net      the network.
 * @param[in]     comm     the communicator.
 * @param[in]     x, y     this rank's n_local training samples; NULL when
 *                         n_local is 0.
 * @param[in]     n_local  this rank's training rows; N must be >= 1.
 * @param[in]     x_val, y_val this rank's validation samples; NULL when
 *                         n_val_local is 0.
 * @param[in]     n_val_local this rank's validation rows; may be 0.
 * @param[in]     epochs   >= 1, the same on every rank.
 * @param[in]     progress called after every step with the global batch's
 *                         loss before the update (the same on every rank);
 *                         may be NULL.
 * @param[in]     on_epoch called after every epoch; may be NULL.
 * @param[in]     user     passed to both callbacks.
 * @return ::NN_OK (also when a callback stopped training), on every rank;
 *         otherwise the same code on every rank: ::NN_EINVAL for NULL
 *         pointers, zero counts, or ranks that disagree;
 *         ::NN_ESHAPE; ::NN_ENOMEM (before any step: nothing changed;
 *         or, the first time, when the history or the best weights' copy
 *         cannot be allocated at the end of the first epoch: training
 *         stops there on every rank);
 *         ::NN_ENUMERIC for non-finite data on any rank (before any step)
 *         or a non-finite cost or gradient in a step (training stops with
 *         the parameters of the last good step, on every rank); ::NN_EIO.
 */
NN_API int nn_mpi_fit(nn_net *net, MPI_Comm comm, const float *x,
                      const float *y, size_t n_local, const float *x_val,
                      const float *y_val, size_t n_val_local, size_t epochs,
                      nn_progress_fn progress, nn_mpi_epoch_fn on_epoch,
                      void *user);

/**
 * @brief Data-parallel nn_train(): nn_mpi_fit() without validation data or
 *        epoch callback (collective).
 * @return as nn_mpi_fit().
 */
NN_API int nn_mpi_train(nn_net *net, MPI_Comm comm, const float *x,
                        const float *y, size_t n_local, size_t epochs,
                        nn_progress_fn progress, void *user);

#ifdef __cplusplus
}
#endif

#endif /* LIBNN_NN_MPI_H */
