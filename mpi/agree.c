/* SPDX-License-Identifier: MIT */
/*
 * How ranks agree. Every collective step of libnn_mpi is preceded by a
 * vote: one MPI_Allgather of a few doubles per rank carrying its status,
 * its counts and sums, and a hash of what must be the same everywhere.
 * Each rank then reads all votes in rank order, so every rank reaches the
 * same verdict from the same bytes; a failure anywhere becomes the same
 * error code on every rank, with the failing rank's detail broadcast to
 * all, and no rank is left waiting in a collective the others skipped.
 * Also here: the thread's error detail and the hashes.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

/* The detail nn_mpi_last_error() returns, and the pending detail of this
 * rank's own failure, sent to the others at the next vote. Per thread, as
 * libnn's own nn_last_error(NULL). */
static _Thread_local char last_error[NN_MPI__DETAIL + 160];
static _Thread_local char pending[NN_MPI__DETAIL];

const char *nn_mpi_last_error(void)
{
    return last_error;
}

int nn_mpi__local(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pending, sizeof pending, fmt, ap);
    va_end(ap);
    return code;
}

int nn_mpi__libnn(int code, const nn_net *net, const char *what)
{
    const char *detail = nn_last_error(net);
    if (!*detail)
        detail = nn_error_string(code);
    return nn_mpi__local(code, "%s failed with %s: %s", what,
                         nn_error_name(code), detail);
}

int nn_mpi__all(const nn_mpi__ctx *c, int code, const char *fmt, ...)
{
    char detail[NN_MPI__DETAIL];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    snprintf(last_error, sizeof last_error, "%s: %s", c->fn, detail);
    return code;
}

int nn_mpi__mpi_failed(const nn_mpi__ctx *c, int mpi_rc, const char *call)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(mpi_rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error %d", mpi_rc);
    return nn_mpi__all(c, NN_EIO, "%s failed: %s", call, text);
}

/* Buffers for communicators too large for the stack. The ranks agree on
 * whether every allocation succeeded before any of them uses a buffer. */
static int open_heap(nn_mpi__ctx *c)
{
    size_t n = (size_t)c->size;
    c->heap = malloc(n * NN_MPI__VOTE_LEN * sizeof(double) +
                     2 * n * sizeof(int));
    int failed = c->heap == NULL, any = 0;
    int rc = MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, c->comm);
    if (rc != MPI_SUCCESS)
        return nn_mpi__mpi_failed(c, rc, "MPI_Allreduce");
    if (any)
        return nn_mpi__all(c, NN_ENOMEM, "cannot allocate the buffers of "
                           "a communicator of %d ranks", c->size);
    c->votes = c->heap;
    c->counts = (int *)(c->votes + n * NN_MPI__VOTE_LEN);
    c->displs = c->counts + n;
    return NN_OK;
}

int nn_mpi__open(nn_mpi__ctx *c, const char *fn, MPI_Comm comm)
{
    c->fn = fn;
    c->comm = comm;
    c->heap = NULL;
    pending[0] = '\0';
    if (comm == MPI_COMM_NULL)
        return nn_mpi__all(c, NN_EINVAL, "the communicator is MPI_COMM_NULL");
    int rc = MPI_Comm_rank(comm, &c->rank);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_size(comm, &c->size);
    if (rc != MPI_SUCCESS)
        return nn_mpi__mpi_failed(c, rc, "MPI_Comm_rank/size");
    if (c->size > NN_MPI__STACK_RANKS)
        return open_heap(c);
    c->votes = c->stack_votes;
    c->counts = c->stack_ints;
    c->displs = c->stack_ints + NN_MPI__STACK_RANKS;
    return NN_OK;
}

void nn_mpi__close(nn_mpi__ctx *c)
{
    free(c->heap);
    c->heap = NULL;
}

void nn_mpi__vote_init(double vote[NN_MPI__VOTE_LEN], int status)
{
    for (int i = 0; i < NN_MPI__VOTE_LEN; i++)
        vote[i] = 0.0;
    vote[NN_MPI__STATUS] = status;
}

void nn_mpi__set_check(double vote[NN_MPI__VOTE_LEN], uint64_t h)
{
    vote[NN_MPI__CHECK_HI] = (double)(h >> 32);
    vote[NN_MPI__CHECK_LO] = (double)(h & 0xffffffffu);
}

/* The failing rank's detail goes to every rank, which all then hold the
 * same message. */
static int report_failure(nn_mpi__ctx *c, int root, int code, int n_failed)
{
    char detail[NN_MPI__DETAIL];
    if (c->rank == root)
        memcpy(detail, pending, sizeof detail);
    int rc = MPI_Bcast(detail, NN_MPI__DETAIL, MPI_CHAR, root, c->comm);
    if (rc != MPI_SUCCESS)
        return nn_mpi__mpi_failed(c, rc, "MPI_Bcast");
    detail[NN_MPI__DETAIL - 1] = '\0';
    if (!detail[0])
        snprintf(detail, sizeof detail, "%s", nn_error_string(code));
    char more[48] = "";
    if (n_failed > 1)
        snprintf(more, sizeof more, " (%d ranks failed)", n_failed);
    return nn_mpi__all(c, code, "rank %d of %d: %s%s", root, c->size, detail,
                       more);
}

int nn_mpi__vote(nn_mpi__ctx *c, double vote[NN_MPI__VOTE_LEN],
                 int mismatch_code, const char *mismatch, nn_mpi__tally *t)
{
    int rc = MPI_Allgather(vote, NN_MPI__VOTE_LEN, MPI_DOUBLE, c->votes,
                           NN_MPI__VOTE_LEN, MPI_DOUBLE, c->comm);
    if (rc != MPI_SUCCESS)
        return nn_mpi__mpi_failed(c, rc, "MPI_Allgather");
    *t = (nn_mpi__tally){NN_OK, 0, 0.0, 0.0, 0.0, 0.0};
    int failed = -1, n_failed = 0, differs = -1;
    const double *first = c->votes;
    for (int r = 0; r < c->size; r++) {
        const double *v = c->votes + (size_t)r * NN_MPI__VOTE_LEN;
        if (v[NN_MPI__STATUS] != 0.0 && n_failed++ == 0)
            failed = r;
        if (differs < 0 && (v[NN_MPI__CHECK_HI] != first[NN_MPI__CHECK_HI] ||
                            v[NN_MPI__CHECK_LO] != first[NN_MPI__CHECK_LO]))
            differs = r;
        t->stop |= v[NN_MPI__STOP] != 0.0;
        t->count += v[NN_MPI__COUNT];
        t->count2 += v[NN_MPI__COUNT2];
        t->sum += v[NN_MPI__SUM];
        t->sum2 += v[NN_MPI__SUM2];
    }
    if (failed >= 0) {
        t->status = (int)c->votes[(size_t)failed * NN_MPI__VOTE_LEN];
        return report_failure(c, failed, t->status, n_failed);
    }
    if (differs >= 0)
        t->status = nn_mpi__all(c, mismatch_code, "rank %d disagrees with "
                                "rank 0 on %s", differs, mismatch);
    return t->status;
}

size_t nn_mpi__prefix(const nn_mpi__ctx *c, int field)
{
    double sum = 0.0;
    for (int r = 0; r < c->rank; r++)
        sum += c->votes[(size_t)r * NN_MPI__VOTE_LEN + (size_t)field];
    return (size_t)sum;
}

uint64_t nn_mpi__hash(uint64_t h, const void *bytes, size_t n)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

uint64_t nn_mpi__shape_hash(const nn_net *net)
{
    uint64_t h = NN_MPI__HASH_START;
    size_t layers = nn_num_layers(net);
    h = nn_mpi__hash(h, &layers, sizeof layers);
    for (size_t i = 0; i < layers; i++) {
        size_t width = nn_layer_size(net, i);
        int act = i + 1 < layers ? nn_layer_activation(net, i) : 0;
        h = nn_mpi__hash(h, &width, sizeof width);
        h = nn_mpi__hash(h, &act, sizeof act);
    }
    size_t params = nn_param_count(net);
    return nn_mpi__hash(h, &params, sizeof params);
}

int nn_mpi__check_finite(const char *name, const float *v, size_t rows,
                         size_t cols)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            if (!isfinite(v[i * cols + j]))
                return nn_mpi__local(NN_ENUMERIC, "%s has a non-finite "
                                     "value (%g) in this rank's row %zu, "
                                     "column %zu", name,
                                     (double)v[i * cols + j], i, j);
    return NN_OK;
}
