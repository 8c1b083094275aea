/* SPDX-License-Identifier: MIT */
/*
 * The building blocks of data parallelism: agreeing on a status, cutting
 * a data set into slices, sharing parameters or a whole network, averaging
 * gradients, and the data-set-wide input statistics and evaluation. Each
 * public function checks its arguments locally, then votes (agree.c)
 * before any collective that moves data, so a bad argument on one rank
 * fails the call on all of them.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

/* ---- agreement and slicing ---- */

int nn_mpi_agree(MPI_Comm comm, int status, const char *detail)
{
    nn_mpi__ctx c;
    int rc = nn_mpi__open(&c, "nn_mpi_agree", comm);
    if (rc != NN_OK)
        return rc;
    if (status != 0)
        nn_mpi__local(status, "%s", detail ? detail : nn_error_string(status));
    double vote[NN_MPI__VOTE_LEN];
    nn_mpi__vote_init(vote, status);
    nn_mpi__tally t;
    rc = nn_mpi__vote(&c, vote, NN_EINVAL, "", &t);
    nn_mpi__close(&c);
    return rc;
}

int nn_mpi_shard(MPI_Comm comm, size_t n, size_t *first, size_t *count)
{
    nn_mpi__ctx c;
    if (!first || !count) {
        c.fn = "nn_mpi_shard";
        return nn_mpi__all(&c, NN_EINVAL, "first and count must not be NULL");
    }
    int rc = nn_mpi__open(&c, "nn_mpi_shard", comm);
    if (rc != NN_OK)
        return rc;
    size_t size = (size_t)c.size, rank = (size_t)c.rank;
    size_t base = n / size, extra = n % size;
    *first = rank * base + (rank < extra ? rank : extra);
    *count = base + (rank < extra);
    nn_mpi__close(&c);
    return NN_OK;
}

/* ---- parameters ---- */

int nn_mpi_broadcast_params(nn_net *net, MPI_Comm comm)
{
    nn_mpi__ctx c;
    int rc = nn_mpi__open(&c, "nn_mpi_broadcast_params", comm);
    if (rc != NN_OK)
        return rc;
    double vote[NN_MPI__VOTE_LEN];
    nn_mpi__vote_init(vote, net ? NN_OK : nn_mpi__local(NN_EINVAL,
                                                        "net is NULL"));
    if (net)
        nn_mpi__set_check(vote, nn_mpi__shape_hash(net));
    nn_mpi__tally t;
    rc = nn_mpi__vote(&c, vote, NN_ESHAPE, "the architecture", &t);
    if (rc == NN_OK)
        rc = nn_mpi__bcast(&c, nn_params(net),
                           nn_param_count(net) * sizeof(float));
    nn_mpi__close(&c);
    return rc;
}

/* Rank 0's network as nn_save_buffer() bytes; *len is 0 elsewhere. */
static int serialise_root(const nn_mpi__ctx *c, nn_net **net, void **buf,
                          size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (!net || (c->rank == 0 && !*net))
        return nn_mpi__local(NN_EINVAL, "net is NULL");
    if (c->rank != 0)
        return NN_OK;
    int rc = nn_save_buffer(*net, NULL, 0, len);
    if (rc != NN_OK)
        return nn_mpi__libnn(rc, NULL, "nn_save_buffer");
    if (!(*buf = malloc(*len)))
        return nn_mpi__local(NN_ENOMEM, "cannot allocate %zu bytes", *len);
    rc = nn_save_buffer(*net, *buf, *len, len);
    return rc == NN_OK ? NN_OK : nn_mpi__libnn(rc, NULL, "nn_save_buffer");
}

/* Every step is voted on, so a failure anywhere leaves each *net as it
 * was: the handles are swapped only after every rank has loaded its copy. */
static int share_net(nn_mpi__ctx *c, nn_net **net, void **buf, nn_net **copy)
{
    double vote[NN_MPI__VOTE_LEN];
    size_t len;
    nn_mpi__tally t;
    nn_mpi__vote_init(vote, serialise_root(c, net, buf, &len));
    vote[NN_MPI__COUNT] = (double)len;
    int rc = nn_mpi__vote(c, vote, NN_EINVAL, "", &t);
    if (rc != NN_OK)
        return rc;
    len = (size_t)t.count;
    if (c->rank != 0 && !(*buf = malloc(len)))
        rc = nn_mpi__local(NN_ENOMEM, "cannot allocate %zu bytes", len);
    nn_mpi__vote_init(vote, rc);
    if ((rc = nn_mpi__vote(c, vote, NN_EINVAL, "", &t)) != NN_OK ||
        (rc = nn_mpi__bcast(c, *buf, len)) != NN_OK)
        return rc;
    if (c->rank != 0 && (rc = nn_load_buffer(copy, *buf, len)) != NN_OK)
        rc = nn_mpi__libnn(rc, NULL, "nn_load_buffer");
    nn_mpi__vote_init(vote, rc);
    return nn_mpi__vote(c, vote, NN_EINVAL, "", &t);
}

int nn_mpi_broadcast_net(nn_net **net, MPI_Comm comm)
{
    nn_mpi__ctx c;
    int rc = nn_mpi__open(&c, "nn_mpi_broadcast_net", comm);
    if (rc != NN_OK)
        return rc;
    void *buf = NULL;
    nn_net *copy = NULL;
    rc = share_net(&c, net, &buf, &copy);
    if (rc == NN_OK && c.rank != 0) {
        nn_free(*net);
        *net = copy;
        copy = NULL;
    }
    nn_free(copy);
    free(buf);
    nn_mpi__close(&c);
    return rc;
}

/* ---- gradients ---- */

static int grads_local(nn_net *net, size_t local_batch, int local_status)
{
    if (local_status != NN_OK)
        return net ? nn_mpi__libnn(local_status, net, "nn_backprop")
                   : nn_mpi__local(local_status, "local status %d",
                                   local_status);
    if (!net)
        return nn_mpi__local(NN_EINVAL, "net is NULL");
    if (nn_param_count(net) > INT_MAX)
        return nn_mpi__local(NN_ESHAPE, "%zu parameters: more than INT_MAX "
                             "cannot be reduced", nn_param_count(net));
    return local_batch == 0 ? nn_mpi__prime(net) : NN_OK;
}

int nn_mpi_allreduce_grads(nn_net *net, MPI_Comm comm, size_t local_batch,
                           int local_status)
{
    nn_mpi__ctx c;
    int rc = nn_mpi__open(&c, "nn_mpi_allreduce_grads", comm);
    if (rc != NN_OK)
        return rc;
    double vote[NN_MPI__VOTE_LEN];
    nn_mpi__vote_init(vote, grads_local(net, local_batch, local_status));
    vote[NN_MPI__COUNT] = (double)local_batch;
    if (net)
        nn_mpi__set_check(vote, nn_mpi__shape_hash(net));
    nn_mpi__tally t;
    rc = nn_mpi__vote(&c, vote, NN_ESHAPE, "the architecture", &t);
    if (rc == NN_OK && t.count < 1.0)
        rc = nn_mpi__all(&c, NN_EINVAL, "the global batch is 0 rows");
    if (rc == NN_OK)
        rc = nn_mpi__sum_floats(&c, nn_grads(net), nn_param_count(net),
                                (float)local_batch, (float)t.count);
    nn_mpi__close(&c);
    return rc;
}

/* ---- data-set-wide statistics ---- */

/* Scratch of nn_mpi_standardize_inputs. */
typedef struct stats {
    double *mean, *dev;  /* n_in each: sums, then means; squared deviations */
    float *shift, *scale; /* the new transform */
    float *old_shift, *old_scale; /* the transform to restore on failure */
    int had_transform;
} stats;

static int standardize_local(nn_net *net, const float *x, size_t n_local,
                             stats *s)
{
    if (!net || (n_local > 0 && !x))
        return nn_mpi__local(NN_EINVAL, "net and x must not be NULL");
    size_t n_in = nn_layer_size(net, 0);
    s->mean = calloc(2 * n_in, sizeof *s->mean);
    s->shift = malloc(4 * n_in * sizeof *s->shift);
    if (!s->mean || !s->shift)
        return nn_mpi__local(NN_ENOMEM, "out of memory");
    s->dev = s->mean + n_in;
    s->scale = s->shift + n_in;
    s->old_shift = s->scale + n_in;
    s->old_scale = s->old_shift + n_in;
    s->had_transform = nn_get_input_transform(net, s->old_shift,
                                              s->old_scale) == 1;
    return nn_mpi__check_finite("x", x, n_local, n_in);
}

/* Two passes over the whole data set, as nn_standardize_inputs() (means,
 * then squared deviations: no cancellation on features with large means). */
static int standardize_sums(nn_mpi__ctx *c, const float *x, size_t n_local,
                            size_t n_in, double total, stats *s)
{
    for (size_t i = 0; i < n_local; i++)
        for (size_t j = 0; j < n_in; j++)
            s->mean[j] += x[i * n_in + j];
    int rc = nn_mpi__sum_doubles(c, s->mean, n_in);
    if (rc != NN_OK)
        return rc;
    for (size_t j = 0; j < n_in; j++) {
        s->mean[j] /= total;
        s->shift[j] = (float)s->mean[j];
    }
    for (size_t i = 0; i < n_local; i++)
        for (size_t j = 0; j < n_in; j++) {
            double d = x[i * n_in + j] - s->mean[j];
            s->dev[j] += d * d;
        }
    if ((rc = nn_mpi__sum_doubles(c, s->dev, n_in)) != NN_OK)
        return rc;
    for (size_t j = 0; j < n_in; j++) {
        double std = sqrt(s->dev[j] / total);
        s->scale[j] = std < 1e-6 ? 1.0f : (float)(1.0 / std);
    }
    return NN_OK;
}

/* Installs the same floats on every rank; if any rank cannot (memory),
 * the others put their previous transform back. */
static int standardize_install(nn_mpi__ctx *c, nn_net *net, const stats *s)
{
    int rc = nn_set_input_transform(net, s->shift, s->scale);
    double vote[NN_MPI__VOTE_LEN];
    nn_mpi__vote_init(vote, rc == NN_OK ? NN_OK
                                        : nn_mpi__libnn(rc, net,
                                              "nn_set_input_transform"));
    nn_mpi__tally t;
    int agreed = nn_mpi__vote(c, vote, NN_EINVAL, "", &t);
    if (agreed != NN_OK && rc == NN_OK)
        (void)nn_set_input_transform(net, s->had_transform ? s->old_shift
                                                           : NULL,
                                     s->had_transform ? s->old_scale : NULL);
    return agreed;
}

int nn_mpi_standardize_inputs(nn_net *net, MPI_Comm comm, const float *x,
                              size_t n_local)
{
    nn_mpi__ctx c;
    int rc = nn_mpi__open(&c, "nn_mpi_standardize_inputs", comm);
    if (rc != NN_OK)
        return rc;
    stats s = {NULL, NULL, NULL, NULL, NULL, NULL, 0};
    double vote[NN_MPI__VOTE_LEN];
    nn_mpi__vote_init(vote, standardize_local(net, x, n_local, &s));
    vote[NN_MPI__COUNT] = (double)n_local;
    if (net)
        nn_mpi__set_check(vote, (uint64_t)nn_layer_size(net, 0));
    nn_mpi__tally t;
    rc = nn_mpi__vote(&c, vote, NN_ESHAPE, "the number of inputs", &t);
    if (rc == NN_OK && t.count < 1.0)
        rc = nn_mpi__all(&c, NN_EINVAL, "no rank has any rows");
    if (rc == NN_OK)
        rc = standardize_sums(&c, x, n_local, nn_layer_size(net, 0), t.count,
                              &s);
    if (rc == NN_OK)
        rc = standardize_install(&c, net, &s);
    free(s.mean);
    free(s.shift);
    nn_mpi__close(&c);
    return rc;
}

static int evaluate_local(const nn_net *net, const float *x, const float *y,
                          size_t n_local, double vote[NN_MPI__VOTE_LEN])
{
    if (!net || (n_local > 0 && (!x || !y)))
        return nn_mpi__local(NN_EINVAL, "net, x and y must not be NULL");
    if (n_local == 0)
        return NN_OK;
    double cost, accuracy;
    int rc = nn_evaluate(net, x, y, n_local, &cost, &accuracy);
    if (rc != NN_OK)
        return nn_mpi__libnn(rc, NULL, "nn_evaluate");
    /* Back to sums, so that the global means weigh each rank by its rows. */
    vote[NN_MPI__SUM] = cost * (double)n_local;
    vote[NN_MPI__SUM2] = nearbyint(accuracy * (double)n_local);
    return NN_OK;
}

int nn_mpi_evaluate(const nn_net *net, MPI_Comm comm, const float *x,
                    const float *y, size_t n_local, double *cost,
                    double *accuracy)
{
    nn_mpi__ctx c;
    int rc = nn_mpi__open(&c, "nn_mpi_evaluate", comm);
    if (rc != NN_OK)
        return rc;
    double vote[NN_MPI__VOTE_LEN];
    nn_mpi__vote_init(vote, NN_OK);
    vote[NN_MPI__STATUS] = evaluate_local(net, x, y, n_local, vote);
    vote[NN_MPI__COUNT] = (double)n_local;
    if (net)
        nn_mpi__set_check(vote, nn_mpi__shape_hash(net));
    nn_mpi__tally t;
    rc = nn_mpi__vote(&c, vote, NN_ESHAPE, "the architecture", &t);
    if (rc == NN_OK && t.count < 1.0)
        rc = nn_mpi__all(&c, NN_EINVAL, "no rank has any rows");
    if (rc == NN_OK && cost)
        *cost = t.sum / t.count;
    if (rc == NN_OK && accuracy)
        *accuracy = t.sum2 / t.count;
    nn_mpi__close(&c);
    return rc;
}
