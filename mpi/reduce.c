/* SPDX-License-Identifier: MIT */
/*
 * Element-wise sums that leave every rank with the same bytes. MPI does
 * not promise that MPI_Allreduce gives bit-identical floats on all ranks
 * (an implementation may combine in a different order on each), and ranks
 * whose parameters drift apart by one ulp are no longer one model. So the
 * vector is cut into one block per rank: MPI_Reduce_scatter sums each
 * block once, on the rank that owns it, and MPI_Allgatherv copies the
 * blocks to everyone. That is also the bandwidth-optimal shape of an
 * all-reduce (each rank sends and receives about 2 x the vector), so the
 * guarantee costs nothing in traffic. Two ranks are the exception: every
 * element is then one addition of two operands, and a + b == b + a
 * exactly in IEEE arithmetic, so MPI_Allreduce is bit-identical whatever
 * its algorithm, and one exchange is quicker than two. docs/distributed.md
 * has the numbers.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

/* Rank r owns elements [displs[r], displs[r] + counts[r]); the first
 * n % size ranks own one more. n <= INT_MAX, so every int fits. */
static void cut_blocks(nn_mpi__ctx *c, size_t n)
{
    size_t base = n / (size_t)c->size, extra = n % (size_t)c->size;
    size_t at = 0;
    for (int r = 0; r < c->size; r++) {
        size_t count = base + ((size_t)r < extra);
        c->counts[r] = (int)count;
        c->displs[r] = (int)at;
        at += count;
    }
}

/* After an in-place MPI_Reduce_scatter this rank's block sits at the start
 * of the buffer; MPI_Allgatherv in place wants it at its displacement. */
static int gather_blocks(nn_mpi__ctx *c, void *buf, size_t elem,
                         MPI_Datatype type)
{
    char *base = buf;
    size_t own = (size_t)c->counts[c->rank];
    memmove(base + (size_t)c->displs[c->rank] * elem, base, own * elem);
    int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf,
                            c->counts, c->displs, type, c->comm);
    return rc == MPI_SUCCESS ? NN_OK
                             : nn_mpi__mpi_failed(c, rc, "MPI_Allgatherv");
}

/* Two ranks: one MPI_Allreduce; both divide the same sums alike. n fits an
 * int (checked by the callers). */
static int sum_pair(nn_mpi__ctx *c, float *g, size_t n, float divisor)
{
    int rc = MPI_Allreduce(MPI_IN_PLACE, g, (int)n, MPI_FLOAT, MPI_SUM,
                           c->comm);
    if (rc != MPI_SUCCESS)
        return nn_mpi__mpi_failed(c, rc, "MPI_Allreduce");
    for (size_t i = 0; i < n; i++)
        g[i] /= divisor;
    return NN_OK;
}

int nn_mpi__sum_floats(nn_mpi__ctx *c, float *g, size_t n, float weight,
                       float divisor)
{
    if (c->size == 1)
        return NN_OK; /* already the mean over the whole batch */
    if (weight == 0.0f) /* no rows here: stale gradients must not count */
        memset(g, 0, n * sizeof *g);
    for (size_t i = 0; weight != 0.0f && i < n; i++)
        g[i] *= weight;
    if (c->size == 2)
        return sum_pair(c, g, n, divisor);
    cut_blocks(c, n);
    int rc = MPI_Reduce_scatter(MPI_IN_PLACE, g, c->counts, MPI_FLOAT,
                                MPI_SUM, c->comm);
    if (rc != MPI_SUCCESS)
        return nn_mpi__mpi_failed(c, rc, "MPI_Reduce_scatter");
    /* Only the owner divides: one rounding per element, then copies. */
    for (int i = 0; i < c->counts[c->rank]; i++)
        g[i] /= divisor;
    return gather_blocks(c, g, sizeof *g, MPI_FLOAT);
}

int nn_mpi__sum_doubles(nn_mpi__ctx *c, double *v, size_t n)
{
    if (c->size == 1)
        return NN_OK;
    cut_blocks(c, n);
    int rc = MPI_Reduce_scatter(MPI_IN_PLACE, v, c->counts, MPI_DOUBLE,
                                MPI_SUM, c->comm);
    if (rc != MPI_SUCCESS)
        return nn_mpi__mpi_failed(c, rc, "MPI_Reduce_scatter");
    return gather_blocks(c, v, sizeof *v, MPI_DOUBLE);
}

int nn_mpi__bcast(nn_mpi__ctx *c, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        int rc = MPI_Bcast(p, chunk, MPI_BYTE, 0, c->comm);
        if (rc != MPI_SUCCESS)
            return nn_mpi__mpi_failed(c, rc, "MPI_Bcast");
        p += chunk;
        len -= (size_t)chunk;
    }
    return NN_OK;
}

int nn_mpi__prime(nn_net *net)
{
    size_t n_in = nn_layer_size(net, 0);
    size_t n_out = nn_layer_size(net, nn_num_layers(net) - 1);
    float *zero = calloc(n_in + n_out, sizeof *zero);
    if (!zero)
        return nn_mpi__local(NN_ENOMEM, "out of memory for a zero row");
    int rc = nn_backprop(net, zero, zero + n_in, 1, NULL);
    free(zero);
    if (rc != NN_OK)
        return nn_mpi__libnn(rc, net, "nn_backprop (on a zero row)");
    memset(nn_grads(net), 0, nn_param_count(net) * sizeof(float));
    return NN_OK;
}
