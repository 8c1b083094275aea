/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the files of libnn_mpi: the per-call context, the vote
 * by which ranks agree on a status before every collective step, error
 * recording, hashing, and the element-wise sums that give every rank the
 * same bytes. Private: never installed.
 */
#ifndef LIBNN_MPI_INTERNAL_H
#define LIBNN_MPI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nn_mpi.h"

#if defined(__GNUC__)
#define NN_MPI__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define NN_MPI__PRINTF(fmt, args)
#endif

/* Bytes of one rank's failure detail sent to the others. */
#define NN_MPI__DETAIL 400

/* Communicators up to this size keep their vote buffers on the stack, so
 * that the common case needs no allocation (and no collective to agree on
 * whether an allocation failed). */
#define NN_MPI__STACK_RANKS 64

/* One rank's vote: what it reports at an agreement point. All doubles, so
 * one MPI_Allgather of MPI_DOUBLE carries it; counts stay exact below
 * 2^53 and the 64-bit check travels as two 32-bit halves. */
enum {
    NN_MPI__STATUS,   /* NN_OK or this rank's error code */
    NN_MPI__STOP,     /* 1 when a callback here asked to stop */
    NN_MPI__COUNT,    /* rows this rank contributes */
    NN_MPI__COUNT2,   /* a second count (validation rows, ...) */
    NN_MPI__SUM,      /* a value to sum over ranks (a loss sum, ...) */
    NN_MPI__SUM2,     /* another (correct predictions, ...) */
    NN_MPI__CHECK_HI, /* a hash every rank must share */
    NN_MPI__CHECK_LO,
    NN_MPI__VOTE_LEN
};

/* What the ranks agreed on; identical on every rank, because each rank
 * sums the gathered votes itself in rank order. */
typedef struct nn_mpi__tally {
    int status; /* NN_OK, or the code of the lowest failing rank */
    int stop;   /* some rank asked to stop */
    double count, count2, sum, sum2;
} nn_mpi__tally;

/* The context of one public call. */
typedef struct nn_mpi__ctx {
    const char *fn; /* the public entry point, for messages */
    MPI_Comm comm;
    int rank, size;
    double *votes;         /* size x NN_MPI__VOTE_LEN, as gathered */
    int *counts, *displs;  /* blocks of an element-wise sum */
    void *heap;            /* the buffers above, for large communicators */
    double stack_votes[NN_MPI__STACK_RANKS * NN_MPI__VOTE_LEN];
    int stack_ints[2 * NN_MPI__STACK_RANKS];
} nn_mpi__ctx;

/* ---- agree.c ---- */

/* Starts a public call: rank, size and buffers. Collective only on
 * communicators larger than NN_MPI__STACK_RANKS (they agree on the
 * allocation). Records its own failures. */
int nn_mpi__open(nn_mpi__ctx *c, const char *fn, MPI_Comm comm);
void nn_mpi__close(nn_mpi__ctx *c);

/* Records this rank's failure detail, to be sent to the others at the next
 * vote; returns `code`. */
int nn_mpi__local(int code, const char *fmt, ...) NN_MPI__PRINTF(2, 3);

/* As nn_mpi__local, with libnn's detail of the failure of `what` on `net`
 * (NULL: the thread's detail). */
int nn_mpi__libnn(int code, const nn_net *net, const char *what);

/* Records a failure every rank meets alike (no vote needed): sets
 * nn_mpi_last_error() to "fn: detail"; returns `code`. */
int nn_mpi__all(const nn_mpi__ctx *c, int code, const char *fmt, ...)
    NN_MPI__PRINTF(3, 4);

/* Records a failed MPI call: NN_EIO with MPI's message. */
int nn_mpi__mpi_failed(const nn_mpi__ctx *c, int mpi_rc, const char *call);

/* The agreement point. Every rank gives its vote; every rank gets the same
 * tally. When all succeeded but the CHECK fields differ, the status is
 * `mismatch_code` with "rank R disagrees with rank 0 on <mismatch>".
 * Returns the agreed status, with nn_mpi_last_error() set on failure. */
int nn_mpi__vote(nn_mpi__ctx *c, double vote[NN_MPI__VOTE_LEN],
                 int mismatch_code, const char *mismatch, nn_mpi__tally *t);

/* Sum of field `field` of the last gathered votes over ranks below this
 * one: this rank's offset in the concatenated data. */
size_t nn_mpi__prefix(const nn_mpi__ctx *c, int field);

/* FNV-1a over bytes, to be continued by further calls; start with
 * NN_MPI__HASH_START. */
#define NN_MPI__HASH_START UINT64_C(0xcbf29ce484222325)
uint64_t nn_mpi__hash(uint64_t h, const void *bytes, size_t n);

/* Puts a 64-bit hash in the CHECK fields of a vote. */
void nn_mpi__set_check(double vote[NN_MPI__VOTE_LEN], uint64_t h);

/* A vote with status `status`, zero counts and check. */
void nn_mpi__vote_init(double vote[NN_MPI__VOTE_LEN], int status);

/* Hash of the architecture: layer sizes, activations, parameter count. */
uint64_t nn_mpi__shape_hash(const nn_net *net);

/* NN_ENUMERIC (recorded locally) unless every value is finite. */
int nn_mpi__check_finite(const char *name, const float *v, size_t rows,
                         size_t cols);

/* ---- reduce.c ---- */

/* In place on g[0..n): g = sum over ranks of (weight_r * g_r) / divisor,
 * computed once per element by the rank owning its block and copied to
 * every rank, so that all ranks hold the same bytes. n <= INT_MAX. */
int nn_mpi__sum_floats(nn_mpi__ctx *c, float *g, size_t n, float weight,
                       float divisor);

/* In place on v[0..n): the sum over ranks, the same bytes on every rank. */
int nn_mpi__sum_doubles(nn_mpi__ctx *c, double *v, size_t n);

/* MPI_Bcast from rank 0 of any number of bytes. */
int nn_mpi__bcast(nn_mpi__ctx *c, void *buf, size_t len);

/* Ranks holding no rows still need a stored gradient that nn_step()
 * accepts: one backprop on a zero row makes it valid, then it is zeroed. */
int nn_mpi__prime(nn_net *net);

#endif /* LIBNN_MPI_INTERNAL_H */
