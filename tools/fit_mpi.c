/* SPDX-License-Identifier: MIT */
/*
 * `nnet train --mpi`: data-parallel training with libnn_mpi (see fit.h and
 * docs/distributed.md). Every rank has read and split the whole file as
 * the plain tool does (the split's shuffle is seeded, so it is the same on
 * every rank) and created the network from the same --seed; here each rank
 * keeps its contiguous slice of the rows and nn_mpi_fit spreads every
 * global batch over the ranks. Only MPI_COMM_WORLD is used.
 */
#include <mpi.h>

#include <nn_mpi.h>

#include "fit.h"

int fit_mpi_begin(int *rank)
{
    /* MPI_Init's arguments may be NULL since MPI-2 */
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS ||
        MPI_Comm_rank(MPI_COMM_WORLD, rank) != MPI_SUCCESS)
        return cli_fail("--mpi: cannot start MPI");
    if (*rank != 0)
        cli_mute();
    return ST_OK;
}

void fit_mpi_end(void)
{
    int started = 0, ended = 0;
    MPI_Initialized(&started);
    MPI_Finalized(&ended);
    if (started && !ended)
        MPI_Finalize();
}

int fit_mpi_size(void)
{
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

int fit_mpi_agree(int st)
{
    int rc = nn_mpi_agree(MPI_COMM_WORLD, st,
                          st == ST_OK ? NULL : cli_last_message());
    if (rc == NN_OK)
        return ST_OK;
    /* a status of ours (positive), or a libnn code when MPI failed */
    int agreed = rc > 0 ? rc : ST_FAIL;
    /* a failing rank 0 printed its message already; an interruption is
     * not a failure (train.c prints it) */
    if (st == ST_OK && agreed != ST_INTERRUPTED)
        cli_fail("%s", nn_mpi_last_error());
    return agreed;
}

/* This rank's rows of the training and of the validation part; NULL
 * pointers for no rows, as libnn_mpi asks. nn_mpi_shard fails only for
 * NULL pointers or MPI_COMM_NULL, neither of which can happen here. */
static fit_data my_slice(const nn_net *net, const fit_data *d)
{
    size_t nx = nn_layer_size(net, 0);
    size_t ny = nn_layer_size(net, nn_num_layers(net) - 1);
    size_t first, count, first_val, count_val;
    nn_mpi_shard(MPI_COMM_WORLD, d->n, &first, &count);
    nn_mpi_shard(MPI_COMM_WORLD, d->n_val, &first_val, &count_val);
    fit_data s = {NULL, NULL, count, NULL, NULL, count_val};
    if (count) {
        s.x = d->x + first * nx;
        s.y = d->y + first * ny;
    }
    if (count_val) {
        s.x_val = d->x_val + first_val * nx;
        s.y_val = d->y_val + first_val * ny;
    }
    return s;
}

int fit_mpi_standardize(nn_net *net, const fit_data *data)
{
    fit_data s = my_slice(net, data);
    int rc = nn_mpi_standardize_inputs(net, MPI_COMM_WORLD, s.x, s.n);
    return rc == NN_OK ? ST_OK
                       : cli_fail("standardising the inputs: %s",
                                  nn_mpi_last_error());
}

/* The epoch's metrics, the same on every rank (nn_mpi_fit has put them in
 * libnn's history too): rank 0 prints them. */
static int on_epoch(void *user, const nn_net *net, size_t epoch,
                    const double *metrics)
{
    (void)net;
    return progress_epoch_done(user, epoch, metrics);
}

int fit_mpi_run(nn_net *net, const fit_data *data, size_t epochs,
                progress *p)
{
    fit_data s = my_slice(net, data);
    /* every rank asks after every step, so a stop (Ctrl-C, SIGUSR1) seen
     * by any rank takes effect at the next step */
    int rc = nn_mpi_fit(net, MPI_COMM_WORLD, s.x, s.y, s.n, s.x_val, s.y_val,
                        s.n_val, epochs, progress_step, on_epoch, p);
    progress_clear(p);
    return rc == NN_OK ? ST_OK
                       : cli_fail("training failed, no model written: %s",
                                  nn_mpi_last_error());
}
