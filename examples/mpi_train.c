/* SPDX-License-Identifier: MIT */
/*
 * Data-parallel training with libnn_mpi.
 *
 * Every rank holds only its slice of the data (here it generates the rows
 * of its slice; a real program reads them, see nn_mpi_shard()), every rank
 * builds the same network from the same seed, and nn_mpi_fit() splits each
 * global batch of 64 samples across the ranks, averages their gradients
 * and steps all of them alike. Rank 0 prints and saves the model.
 *
 *   mpirun -np 2 ./mpi_train [model.nn]
 *
 * Build: cc mpi_train.c $(pkg-config --cflags --libs nn_mpi) -lm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_mpi.h"

#define N_TRAIN 3000
#define N_VAL 600
#define CLASSES 3

/* Row i of a three-armed spiral, the same on every rank whatever the
 * slicing: a function of the row's global index alone. */
static void spiral_row(size_t i, size_t n, float *x, float *y)
{
    size_t cls = i % CLASSES;
    double t = (double)(i / CLASSES) / (double)(n / CLASSES); /* 0..1 */
    double angle = 4.0 * t + 2.0944 * (double)cls;
    double noise = sin(12.9898 * (double)i) * 0.04; /* fixed, not random */
    x[0] = (float)(t * cos(angle) + noise);
    x[1] = (float)(t * sin(angle) - noise);
    for (size_t k = 0; k < CLASSES; k++)
        y[k] = k == cls ? 1.0f : 0.0f;
}

/* This rank's rows of a data set of n rows (offset: training vs
 * validation rows are different rows of the same spiral). */
static int make_slice(size_t n, size_t offset, float **x, float **y,
                      size_t *count)
{
    size_t first;
    int rc = nn_mpi_shard(MPI_COMM_WORLD, n, &first, count);
    if (rc != NN_OK)
        return rc;
    *x = malloc((*count + 1) * 2 * sizeof **x);
    *y = malloc((*count + 1) * CLASSES * sizeof **y);
    if (!*x || !*y)
        return NN_ENOMEM;
    for (size_t i = 0; i < *count; i++)
        spiral_row(2 * (first + i) + offset, 2 * n, *x + 2 * i,
                   *y + CLASSES * i);
    return NN_OK;
}

static int print_epoch(void *user, const nn_net *net, size_t epoch,
                       const double *m)
{
    (void)user;
    (void)net;
    if (epoch % 10 == 9)
        printf("epoch %3zu  loss %.4f  val loss %.4f  val accuracy %.3f\n",
               epoch + 1, m[NN_HIST_TRAIN_LOSS], m[NN_HIST_VAL_LOSS],
               m[NN_HIST_VAL_ACCURACY]);
    return 0;
}

static int build(nn_net **net)
{
    size_t sizes[] = {2, 32, 32, CLASSES};
    nn_activation acts[] = {NN_TANH, NN_TANH, NN_SOFTMAX};
    int rc = nn_create(net, 4, sizes, acts, 0, 2024); /* same on all ranks */
    if (rc == NN_OK)
        rc = nn_set(*net, NN_OPT_OPTIMIZER, NN_ADAM);
    if (rc == NN_OK)
        rc = nn_set(*net, NN_OPT_LEARNING_RATE, 0.01);
    if (rc == NN_OK)
        rc = nn_set(*net, NN_OPT_BATCH_SIZE, 64); /* global batch */
    return rc;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    float *x = NULL, *y = NULL, *xv = NULL, *yv = NULL;
    size_t n = 0, n_val = 0;
    nn_net *net = NULL;
    /* Local steps may fail on some ranks only: agree before going on. */
    int rc = make_slice(N_TRAIN, 0, &x, &y, &n);
    if (rc == NN_OK)
        rc = make_slice(N_VAL, 1, &xv, &yv, &n_val);
    if (rc == NN_OK)
        rc = build(&net);
    rc = nn_mpi_agree(MPI_COMM_WORLD, rc, "cannot set up");
    if (rc == NN_OK)
        rc = nn_mpi_standardize_inputs(net, MPI_COMM_WORLD, x, n);
    if (rc == NN_OK && rank == 0)
        printf("%d ranks, %zu training rows here of %d\n", size, n, N_TRAIN);
    if (rc == NN_OK)
        rc = nn_mpi_fit(net, MPI_COMM_WORLD, x, y, n, xv, yv, n_val, 40, NULL,
                        rank == 0 ? print_epoch : NULL, NULL);

    double accuracy = 0.0;
    if (rc == NN_OK)
        rc = nn_mpi_evaluate(net, MPI_COMM_WORLD, xv, yv, n_val, NULL,
                             &accuracy);
    if (rc == NN_OK && rank == 0) {
        printf("validation accuracy %.3f\n", accuracy);
        if (argc > 1 && (rc = nn_save(net, argv[1])) != NN_OK)
            fprintf(stderr, "%s\n", nn_last_error(NULL));
    }
    if (rc != NN_OK && rank == 0)
        fprintf(stderr, "mpi_train: %s\n", nn_mpi_last_error());
    nn_free(net);
    free(x);
    free(y);
    free(xv);
    free(yv);
    MPI_Finalize();
    return rc == NN_OK && accuracy >= 0.9 ? 0 : 1;
}
