/* SPDX-License-Identifier: MIT */
/*
 * Steps per second of data-parallel training on the 784-256-128-10 MLP
 * (MNIST-sized, synthetic data), for docs/distributed.md.
 *
 *   mpirun -np P bench_mpi [BATCH [ROWS [EPOCHS]]]
 *
 * Prints, from rank 0: nn_mpi_train's steps/s and samples/s with P ranks
 * (best of EPOCHS timed epochs, after one warm-up epoch), and the parts of
 * a step timed alone: one rank's nn_backprop on its B/P rows plus nn_step
 * (the compute), and one gradient all-reduce (the communication); with one
 * rank also plain nn_train's steps/s for comparison.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_mpi.h"

#define N_IN 784
#define N_OUT 10

static void make_rows(size_t first, size_t count, float *x, float *y)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t s = (first + i) * 0x9e3779b97f4a7c15u + 1;
        for (size_t j = 0; j < N_IN; j++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            x[i * N_IN + j] = (float)(s >> 40) / (float)(1 << 24);
        }
        for (size_t k = 0; k < N_OUT; k++)
            y[i * N_OUT + k] = k == (first + i) % N_OUT ? 1.0f : 0.0f;
    }
}

static nn_net *make_net(size_t batch)
{
    size_t sizes[] = {N_IN, 256, 128, N_OUT};
    nn_activation acts[] = {NN_RELU, NN_RELU, NN_SOFTMAX};
    nn_net *net = NULL;
    if (nn_create(&net, 4, sizes, acts, 0, 1) != NN_OK ||
        nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM) != NN_OK ||
        nn_set(net, NN_OPT_LEARNING_RATE, 1e-3) != NN_OK ||
        nn_set(net, NN_OPT_BATCH_SIZE, (double)batch) != NN_OK) {
        fprintf(stderr, "bench_mpi: %s\n", nn_last_error(net));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return net;
}

/* Best time of `epochs` epochs of nn_mpi_train (after a warm-up). */
static double time_mpi_epoch(nn_net *net, const float *x, const float *y,
                             size_t n, size_t epochs)
{
    double best = 1e30;
    for (size_t e = 0; e <= epochs; e++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        if (nn_mpi_train(net, MPI_COMM_WORLD, x, y, n, 1, NULL, NULL)) {
            fprintf(stderr, "bench_mpi: %s\n", nn_mpi_last_error());
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        double t = MPI_Wtime() - t0;
        MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX,
                      MPI_COMM_WORLD);
        if (e > 0 && t < best)
            best = t;
    }
    return best;
}

/* Seconds per nn_mpi_allreduce_grads alone (the communication of a step). */
static double time_allreduce(nn_net *net, const float *x, const float *y,
                             size_t rows)
{
    const int reps = 50;
    if (nn_backprop(net, x, y, rows, NULL) != NN_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int i = 0; i < reps; i++)
        if (nn_mpi_allreduce_grads(net, MPI_COMM_WORLD, rows, NN_OK))
            MPI_Abort(MPI_COMM_WORLD, 1);
    return (MPI_Wtime() - t0) / reps;
}

/* Seconds per nn_backprop on `rows` rows plus nn_step: a step's compute. */
static double time_compute(nn_net *net, const float *x, const float *y,
                           size_t rows)
{
    const int reps = 50;
    double t0 = MPI_Wtime();
    for (int i = 0; i < reps; i++)
        if (nn_backprop(net, x, y, rows, NULL) != NN_OK ||
            nn_step(net) != NN_OK)
            MPI_Abort(MPI_COMM_WORLD, 1);
    double t = (MPI_Wtime() - t0) / reps;
    MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return t;
}

static double time_plain_epoch(size_t batch, const float *x, const float *y,
                               size_t n, size_t epochs)
{
    nn_net *net = make_net(batch);
    double best = 1e30;
    for (size_t e = 0; e <= epochs; e++) {
        double t0 = MPI_Wtime();
        if (nn_train(net, x, y, n, 1, NULL, NULL) != NN_OK)
            MPI_Abort(MPI_COMM_WORLD, 1);
        double t = MPI_Wtime() - t0;
        if (e > 0 && t < best)
            best = t;
    }
    nn_free(net);
    return best;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t batch = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
    size_t total = argc > 2 ? strtoul(argv[2], NULL, 10) : 6400;
    size_t epochs = argc > 3 ? strtoul(argv[3], NULL, 10) : 3;
    size_t first, n;
    nn_mpi_shard(MPI_COMM_WORLD, total, &first, &n);
    float *x = malloc(n * N_IN * sizeof *x), *y = malloc(n * N_OUT * sizeof *y);
    make_rows(first, n, x, y);

    nn_net *net = make_net(batch);
    size_t steps = (total + batch - 1) / batch;
    double t = time_mpi_epoch(net, x, y, n, epochs);
    double t_comm = time_allreduce(net, x, y, batch / (size_t)size);
    double t_compute = time_compute(net, x, y, batch / (size_t)size);
    if (rank == 0) {
        printf("ranks %d  batch %zu  params %zu  steps/epoch %zu\n", size,
               batch, nn_param_count(net), steps);
        printf("nn_mpi_train: %.1f steps/s  %.0f samples/s\n",
               (double)steps / t, (double)total / t);
        printf("nn_mpi_allreduce_grads alone: %.3f ms (%zu bytes)\n",
               t_comm * 1e3, nn_param_count(net) * sizeof(float));
        printf("nn_backprop on %zu rows + nn_step alone: %.3f ms\n",
               batch / (size_t)size, t_compute * 1e3);
    }
    if (size == 1) {
        double tp = time_plain_epoch(batch, x, y, n, epochs);
        printf("plain nn_train: %.1f steps/s  %.0f samples/s\n",
               (double)steps / tp, (double)total / tp);
    }
    nn_free(net);
    free(x);
    free(y);
    MPI_Finalize();
    return 0;
}
