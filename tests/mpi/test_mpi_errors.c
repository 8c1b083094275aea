/* SPDX-License-Identifier: MIT */
/*
 * A failure on one rank is a failure on every rank, and no rank hangs: the
 * program runs under a timeout (tests/mpi/run-mpi.sh), so a rank left
 * waiting in a collective fails the test instead of blocking CI. The bad
 * rank is always the last one, so that rank 0, which usually prints, must
 * learn of it from the others.
 */
#include "mpitest.h"

#define N 40
#define N_IN 4
#define N_OUT 2

static float x_all[N * N_IN], y_all[N * N_OUT];

static nn_net *make_net_with(nn_activation last)
{
    size_t sizes[] = {N_IN, 6, N_OUT};
    nn_activation acts[] = {NN_RELU, last};
    nn_net *net = NULL;
    CHECK_RC(nn_create(&net, 3, sizes, acts, 0, 11), NN_OK);
    CHECK_RC(nn_set(net, NN_OPT_BATCH_SIZE, 8), NN_OK);
    return net;
}

static nn_net *make_net(void)
{
    return make_net_with(NN_SOFTMAX);
}

static int is_bad_rank(void)
{
    return mt_rank == mt_size - 1;
}

/* The detail names the failing rank on every rank. */
static void check_detail(const char *needle)
{
    char want[64];
    snprintf(want, sizeof want, "rank %d of %d", mt_size - 1, mt_size);
    const char *got = nn_mpi_last_error();
    CHECK(strstr(got, want) != NULL);
    CHECK(strstr(got, needle) != NULL);
    if (!strstr(got, want) || !strstr(got, needle))
        fprintf(stderr, "rank %d: detail was \"%s\"\n", mt_rank, got);
}

/* This rank's copy of its shard, so that one rank can spoil its own. */
static float *my_shard(size_t *count, float **y)
{
    size_t first;
    CHECK_RC(nn_mpi_shard(MPI_COMM_WORLD, N, &first, count), NN_OK);
    float *x = malloc(*count * N_IN * sizeof *x + 1);
    *y = malloc(*count * N_OUT * sizeof **y + 1);
    memcpy(x, x_all + first * N_IN, *count * N_IN * sizeof *x);
    memcpy(*y, y_all + first * N_OUT, *count * N_OUT * sizeof **y);
    return x;
}

static void test_nan_in_one_shard(void)
{
    nn_net *net = make_net();
    size_t count;
    float *y, *x = my_shard(&count, &y);
    if (is_bad_rank() && count > 0)
        x[count * N_IN - 1] = NAN;
    float before[64];
    memcpy(before, nn_params(net), nn_param_count(net) * sizeof(float));
    CHECK_RC(nn_mpi_train(net, MPI_COMM_WORLD, x, y, count, 3, NULL, NULL),
             NN_ENUMERIC);
    check_detail("non-finite");
    CHECK(memcmp(before, nn_params(net),
                 nn_param_count(net) * sizeof(float)) == 0);
    free(x);
    free(y);
    nn_free(net);
    mt_case("NaN in one rank's shard: NN_ENUMERIC on every rank, no change");
}

/* Finite inputs that overflow inside the network (an identity output with
 * the squared error) make one rank's nn_backprop fail in the middle of
 * training, inside the step loop. */
static void test_failure_mid_training(void)
{
    nn_net *net = make_net_with(NN_IDENTITY);
    CHECK_RC(nn_set(net, NN_OPT_SHUFFLE, 0), NN_OK);
    size_t count;
    float *y, *x = my_shard(&count, &y);
    if (is_bad_rank() && count > 0)
        for (size_t j = 0; j < N_IN; j++)
            x[(count - 1) * N_IN + j] = 3e38f;
    CHECK_RC(nn_mpi_train(net, MPI_COMM_WORLD, x, y, count, 2, NULL, NULL),
             NN_ENUMERIC);
    check_detail("nn_backprop");
    CHECK(mt_same_everywhere(nn_params(net),
                             nn_param_count(net) * sizeof(float)));
    free(x);
    free(y);
    nn_free(net);
    mt_case("a step failing on one rank stops all ranks at the same step");
}

static void test_disagreeing_settings(void)
{
    nn_net *net = make_net();
    if (is_bad_rank())
        CHECK_RC(nn_set(net, NN_OPT_BATCH_SIZE, 9), NN_OK);
    size_t count;
    float *y, *x = my_shard(&count, &y);
    int want = mt_size > 1 ? NN_EINVAL : NN_OK;
    CHECK_RC(nn_mpi_train(net, MPI_COMM_WORLD, x, y, count, 1, NULL, NULL),
             want);
    if (mt_size > 1)
        CHECK(strstr(nn_mpi_last_error(), "disagrees") != NULL);
    free(x);
    free(y);
    nn_free(net);
    mt_case("ranks with different settings: NN_EINVAL on every rank");
}

static void test_bad_arguments(void)
{
    nn_net *net = make_net();
    size_t count;
    float *y, *x = my_shard(&count, &y);
    CHECK_RC(nn_mpi_train(is_bad_rank() ? NULL : net, MPI_COMM_WORLD, x, y,
                          count, 1, NULL, NULL), NN_EINVAL);
    check_detail("net is NULL");
    CHECK_RC(nn_mpi_train(net, MPI_COMM_WORLD, x, y, count,
                          is_bad_rank() ? 0 : 1, NULL, NULL), NN_EINVAL);
    check_detail("epochs");
    CHECK_RC(nn_mpi_train(net, MPI_COMM_WORLD, x, y, 0, 1, NULL, NULL),
             NN_EINVAL);
    CHECK_RC(nn_mpi_train(net, MPI_COMM_NULL, x, y, count, 1, NULL, NULL),
             NN_EINVAL);
    free(x);
    free(y);
    nn_free(net);
    mt_case("bad arguments on one rank: NN_EINVAL on every rank");
}

static void test_allreduce_failure(void)
{
    nn_net *net = make_net();
    size_t count;
    float *y, *x = my_shard(&count, &y);
    if (is_bad_rank() && count > 0)
        y[0] = INFINITY;
    int rc = count ? nn_backprop(net, x, y, count, NULL) : NN_OK;
    CHECK_RC(nn_mpi_allreduce_grads(net, MPI_COMM_WORLD, count, rc),
             NN_ENUMERIC);
    check_detail("nn_backprop");
    free(x);
    free(y);
    nn_free(net);
    mt_case("nn_backprop failing on one rank fails nn_mpi_allreduce_grads "
            "everywhere");
}

static void test_shape_mismatch(void)
{
    size_t sizes[] = {N_IN, is_bad_rank() ? 5u : 6u, N_OUT};
    nn_activation acts[] = {NN_RELU, NN_SOFTMAX};
    nn_net *net = NULL;
    CHECK_RC(nn_create(&net, 3, sizes, acts, 0, 11), NN_OK);
    int want = mt_size > 1 ? NN_ESHAPE : NN_OK;
    CHECK_RC(nn_mpi_broadcast_params(net, MPI_COMM_WORLD), want);
    CHECK_RC(nn_mpi_allreduce_grads(net, MPI_COMM_WORLD, 1, NN_OK), want);
    nn_free(net);
    /* The same sizes, another activation on one rank. */
    sizes[1] = 6;
    acts[0] = is_bad_rank() ? NN_TANH : NN_RELU;
    CHECK_RC(nn_create(&net, 3, sizes, acts, 0, 11), NN_OK);
    CHECK_RC(nn_mpi_broadcast_params(net, MPI_COMM_WORLD), want);
    nn_free(net);
    mt_case("different architectures: NN_ESHAPE, nothing sent");
}

static void test_agree_and_statistics(void)
{
    int status = is_bad_rank() ? NN_EIO : NN_OK;
    CHECK_RC(nn_mpi_agree(MPI_COMM_WORLD, status,
                          "data.csv: line 3: not a number"), NN_EIO);
    check_detail("data.csv: line 3");
    CHECK_RC(nn_mpi_agree(MPI_COMM_WORLD, NN_OK, NULL), NN_OK);
    nn_net *net = make_net();
    size_t count;
    float *y, *x = my_shard(&count, &y);
    if (is_bad_rank() && count > 0)
        x[1] = NAN;
    CHECK_RC(nn_mpi_standardize_inputs(net, MPI_COMM_WORLD, x, count),
             NN_ENUMERIC);
    CHECK(nn_get_input_transform(net, NULL, NULL) == 0);
    if (is_bad_rank() && count > 0)
        y[1] = NAN;
    CHECK_RC(nn_mpi_evaluate(net, MPI_COMM_WORLD, x, y, count, NULL, NULL),
             NN_ENUMERIC);
    free(x);
    free(y);
    nn_free(net);
    mt_case("nn_mpi_agree, nn_mpi_standardize_inputs and nn_mpi_evaluate "
            "fail together");
}

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    mt_data(N, N_IN, N_OUT, x_all, y_all);
    test_nan_in_one_shard();
    test_failure_mid_training();
    test_disagreeing_settings();
    test_bad_arguments();
    test_allreduce_failure();
    test_shape_mismatch();
    test_agree_and_statistics();
    return mt_finish("test_mpi_errors");
}
