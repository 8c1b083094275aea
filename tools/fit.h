/* SPDX-License-Identifier: MIT */
/*
 * Layer 5 of tools/ (the layers and their rule: cli.h).
 *
 * How `nnet train` trains: fit_run in one process (fit.c), or, with --mpi,
 * the fit_mpi_* functions, data-parallel over the ranks of an MPI job
 * (fit_mpi.c, in the nnet-mpi build of the tool, made when Meson finds
 * MPI; nnet itself never links MPI). Everything before training
 * (data, network, settings, input transform) and after it (history, plot,
 * log, saving) is train.c's and the same either way, so the plain tool
 * never needs MPI.
 */
#ifndef NN_TOOL_FIT_H
#define NN_TOOL_FIT_H

#include <stddef.h>

#include <nn.h>

#include "cli.h"
#include "progress.h"

/* Training and validation samples, row-major, already split. */
typedef struct fit_data {
    const float *x, *y;
    size_t n;
    const float *x_val, *y_val;
    size_t n_val;               /* 0: no validation */
} fit_data;

/* Trains `net` for at most `epochs` epochs with its settings, reporting to
 * `p`; with validation data the best epoch's weights are restored at the
 * end. Returns a libnn code (detail in nn_last_error(net)). */
int fit_run(nn_net *net, const fit_data *data, size_t epochs, progress *p);

/* ---- --mpi ----
 * Every rank holds the whole `fit_data` (each reads and splits the file
 * alike) and works on its contiguous slice of the training and of the
 * validation rows (nn_mpi_shard). Each function below is collective: all
 * ranks call it, in the same order, and get the same status (cli.h). Only
 * rank 0 prints: fit_mpi_begin mutes the others (cli_mute). */
#ifdef NN_TOOL_MPI

/* Joins the MPI job (MPI_Init) and sets *rank; ST_OK or ST_FAIL. */
int fit_mpi_begin(int *rank);
/* Leaves it (MPI_Finalize), if fit_mpi_begin joined it. */
void fit_mpi_end(void);
/* Number of ranks. */
int fit_mpi_size(void);

/* Agrees on this rank's status `st` after a step that may fail on some
 * ranks only: returns the status of the lowest failing rank on every rank,
 * and rank 0 prints that rank's message unless it printed its own. */
int fit_mpi_agree(int st);

/* nn_standardize_inputs over the training rows of all ranks. */
int fit_mpi_standardize(nn_net *net, const fit_data *data);

/* As fit_run, with nn_mpi_fit: every rank trains on its slices, and every
 * rank ends with the same network and history. Returns a status (cli.h),
 * the failure printed. */
int fit_mpi_run(nn_net *net, const fit_data *data, size_t epochs,
                progress *p);

#else /* nnet, without MPI: --mpi stops in fit_mpi_begin */

static inline int fit_mpi_begin(int *rank)
{
    *rank = 0;
    return cli_usage("--mpi: nnet does not link MPI; run nnet-mpi under "
                     "mpirun (built beside nnet when Meson finds MPI)");
}
static inline void fit_mpi_end(void) {}
static inline int fit_mpi_size(void) { return 1; }
static inline int fit_mpi_agree(int st) { return st; }
static inline int fit_mpi_standardize(nn_net *net, const fit_data *data)
{
    (void)net, (void)data;
    return ST_FAIL;
}
static inline int fit_mpi_run(nn_net *net, const fit_data *data,
                              size_t epochs, progress *p)
{
    (void)net, (void)data, (void)epochs, (void)p;
    return ST_FAIL;
}

#endif

#endif
