/* SPDX-License-Identifier: MIT */
/*
 * Data-parallel training gives what one process gives on the whole data,
 * and every rank ends with the same bytes. Run under mpirun with 1, 2 and 3
 * ranks; shards are deliberately uneven (and one case leaves a rank with
 * no rows), so that the weighting of the gradient average is exercised.
 * Every rank computes the single-process reference itself with plain
 * libnn (or with nn_mpi_* on MPI_COMM_SELF where the order is shuffled).
 */
#include "mpitest.h"

#define N 50
#define N_IN 5
#define N_HIDDEN 7
#define N_OUT 3
#define N_VAL 13

/* Tolerance for "equal up to the round-off of a different summation
 * order": a few epochs of updates at float precision. */
#define TOL 1e-5

static float x_all[N * N_IN], y_all[N * N_OUT];
static float xv_all[N_VAL * N_IN], yv_all[N_VAL * N_OUT];

static nn_net *make_net(int optimizer, double batch, double shuffle)
{
    size_t sizes[] = {N_IN, N_HIDDEN, N_OUT};
    nn_activation acts[] = {NN_TANH, NN_SOFTMAX};
    nn_net *net = NULL;
    CHECK_RC(nn_create(&net, 3, sizes, acts, 0, 7), NN_OK);
    if (!net)
        return NULL;
    CHECK_RC(nn_set(net, NN_OPT_OPTIMIZER, optimizer), NN_OK);
    CHECK_RC(nn_set(net, NN_OPT_LEARNING_RATE,
                    optimizer == NN_ADAM ? 0.01 : 0.2), NN_OK);
    CHECK_RC(nn_set(net, NN_OPT_BATCH_SIZE, batch), NN_OK);
    CHECK_RC(nn_set(net, NN_OPT_SHUFFLE, shuffle), NN_OK);
    return net;
}

/* Uneven slices: rank r holds a share proportional to r + 1. */
static void my_slice(size_t n, size_t *first, size_t *count)
{
    double w[64];
    for (int r = 0; r < mt_size && r < 64; r++)
        w[r] = r + 1.0;
    mt_uneven(n, w, first, count);
}

/* Parameters equal to the reference within TOL, and bitwise equal on every
 * rank; with one rank also bitwise equal to the reference when `exact`. */
static void check_params(nn_net *net, nn_net *ref, int exact)
{
    size_t count = nn_param_count(net);
    double rel = mt_max_rel(nn_params(net), nn_params(ref), count);
    if (rel > TOL)
        fprintf(stderr, "rank %d: max relative difference %g\n", mt_rank,
                rel);
    CHECK(rel <= TOL);
    if (exact && mt_size == 1)
        CHECK(memcmp(nn_params(net), nn_params(ref),
                     count * sizeof(float)) == 0);
    CHECK(mt_same_everywhere(nn_params(net), count * sizeof(float)));
}

/* The reference of unshuffled training: plain backprop + step on each
 * batch of the whole data set in order. */
static void reference_in_order(nn_net *ref, size_t batch, size_t epochs)
{
    for (size_t e = 0; e < epochs; e++)
        for (size_t start = 0; start < N; start += batch) {
            size_t rows = N - start < batch ? N - start : batch;
            CHECK_RC(nn_backprop(ref, x_all + start * N_IN,
                                 y_all + start * N_OUT, rows, NULL), NN_OK);
            CHECK_RC(nn_step(ref), NN_OK);
        }
}

static void test_in_order(int optimizer, const char *name)
{
    nn_net *net = make_net(optimizer, 16, 0), *ref = make_net(optimizer, 16, 0);
    size_t first, count;
    my_slice(N, &first, &count);
    CHECK_RC(nn_mpi_train(net, MPI_COMM_WORLD, x_all + first * N_IN,
                          y_all + first * N_OUT, count, 3, NULL, NULL),
             NN_OK);
    reference_in_order(ref, 16, 3);
    check_params(net, ref, 1);
    nn_free(net);
    nn_free(ref);
    mt_case(name);
}

/* One rank holds every row, the others none: they must contribute zeros
 * and still step (their gradients were never computed). */
static void test_empty_ranks(void)
{
    nn_net *net = make_net(NN_MOMENTUM, 16, 0);
    nn_net *ref = make_net(NN_MOMENTUM, 16, 0);
    int holder = mt_size - 1;
    size_t count = mt_rank == holder ? N : 0;
    CHECK_RC(nn_mpi_train(net, MPI_COMM_WORLD, count ? x_all : NULL,
                          count ? y_all : NULL, count, 2, NULL, NULL),
             NN_OK);
    reference_in_order(ref, 16, 2);
    check_params(net, ref, 1);
    nn_free(net);
    nn_free(ref);
    mt_case("one rank holds all rows, the others none");
}

/* With shuffling the order comes from the shared generator; the same call
 * on one process (MPI_COMM_SELF, whole data) is the reference. */
static void test_shuffled(void)
{
    nn_net *net = make_net(NN_ADAM, 8, 1), *ref = make_net(NN_ADAM, 8, 1);
    size_t first, count;
    my_slice(N, &first, &count);
    CHECK_RC(nn_mpi_train(net, MPI_COMM_WORLD, x_all + first * N_IN,
                          y_all + first * N_OUT, count, 2, NULL, NULL),
             NN_OK);
    CHECK_RC(nn_mpi_train(ref, MPI_COMM_SELF, x_all, y_all, N, 2, NULL,
                          NULL), NN_OK);
    check_params(net, ref, 1);
    nn_free(net);
    nn_free(ref);
    mt_case("shuffled, Adam: same as one process on the same order");
}

/* The building block alone: each rank backprops its uneven part of one
 * global batch of 20 rows (rank 0 none at all in the second step). */
static void test_allreduce_grads(void)
{
    nn_net *net = make_net(NN_SGD, 20, 0), *ref = make_net(NN_SGD, 20, 0);
    for (size_t step = 0; step < 2; step++) {
        const float *xb = x_all + step * 20 * N_IN;
        const float *yb = y_all + step * 20 * N_OUT;
        double w[64];
        for (int r = 0; r < mt_size && r < 64; r++)
            w[r] = step == 1 && r == 0 && mt_size > 1 ? 0.0 : r + 2.0;
        size_t first, count;
        mt_uneven(20, w, &first, &count);
        int rc = count ? nn_backprop(net, xb + first * N_IN,
                                     yb + first * N_OUT, count, NULL)
                       : NN_OK;
        CHECK_RC(nn_mpi_allreduce_grads(net, MPI_COMM_WORLD, count, rc),
                 NN_OK);
        CHECK(mt_same_everywhere(nn_grads(net),
                                 nn_param_count(net) * sizeof(float)));
        CHECK_RC(nn_backprop(ref, xb, yb, 20, NULL), NN_OK);
        double rel = mt_max_rel(nn_grads(net), nn_grads(ref),
                                nn_param_count(net));
        CHECK(rel <= 1e-6);
        CHECK_RC(nn_step(net), NN_OK);
        CHECK_RC(nn_step(ref), NN_OK);
    }
    check_params(net, ref, 0);
    nn_free(net);
    nn_free(ref);
    mt_case("nn_mpi_allreduce_grads weighs uneven slices by rows");
}

/* Records every epoch's metrics; stops after `stop_after` epochs when set
 * (on the last rank only: the stop must still reach every rank). */
typedef struct epochs_seen {
    double metrics[10][NN_MPI_METRICS];
    size_t count, stop_after;
    int steps;
} epochs_seen;

static int on_epoch(void *user, const nn_net *net, size_t epoch,
                    const double *metrics)
{
    epochs_seen *s = user;
    (void)net;
    if (epoch < 10)
        memcpy(s->metrics[epoch], metrics, sizeof s->metrics[epoch]);
    s->count = epoch + 1;
    return s->stop_after && s->count >= s->stop_after &&
           (mt_rank == mt_size - 1 || s == NULL);
}

static int on_step(void *user, size_t epoch, size_t step, size_t steps,
                   double cost)
{
    epochs_seen *s = user;
    (void)epoch;
    (void)step;
    (void)steps;
    (void)cost;
    s->steps++;
    return 0;
}

/* nn_mpi_fit with validation and early stopping against the same call on
 * one process: the same metrics, the same restored weights. */
static void test_fit_validation(void)
{
    nn_net *net = make_net(NN_MOMENTUM, 8, 1);
    nn_net *ref = make_net(NN_MOMENTUM, 8, 1);
    CHECK_RC(nn_set(net, NN_OPT_EARLY_STOPPING, 2), NN_OK);
    CHECK_RC(nn_set(ref, NN_OPT_EARLY_STOPPING, 2), NN_OK);
    size_t first, count, vfirst, vcount;
    my_slice(N, &first, &count);
    CHECK_RC(nn_mpi_shard(MPI_COMM_WORLD, N_VAL, &vfirst, &vcount), NN_OK);
    epochs_seen got = {{{0}}, 0, 0, 0}, want = {{{0}}, 0, 0, 0};
    CHECK_RC(nn_mpi_fit(net, MPI_COMM_WORLD, x_all + first * N_IN,
                        y_all + first * N_OUT, count, xv_all + vfirst * N_IN,
                        yv_all + vfirst * N_OUT, vcount, 6, on_step,
                        on_epoch, &got), NN_OK);
    CHECK_RC(nn_mpi_fit(ref, MPI_COMM_SELF, x_all, y_all, N, xv_all, yv_all,
                        N_VAL, 6, on_step, on_epoch, &want), NN_OK);
    check_params(net, ref, 1);
    CHECK(got.count == want.count && got.steps == want.steps);
    for (size_t e = 0; e < got.count && e < 10; e++) {
        CHECK(fabs(got.metrics[e][NN_HIST_TRAIN_LOSS] -
                   want.metrics[e][NN_HIST_TRAIN_LOSS]) < 1e-5);
        CHECK(fabs(got.metrics[e][NN_HIST_VAL_LOSS] -
                   want.metrics[e][NN_HIST_VAL_LOSS]) < 1e-5);
        CHECK(got.metrics[e][NN_HIST_VAL_ACCURACY] ==
              want.metrics[e][NN_HIST_VAL_ACCURACY]);
        /* counted from each rank's outputs: an arg-max may flip at the
         * round-off of a different summation order, not more */
        CHECK(fabs(got.metrics[e][NN_HIST_TRAIN_ACCURACY] -
                   want.metrics[e][NN_HIST_TRAIN_ACCURACY]) <= 2.0 / N);
        CHECK(mt_size > 1 || got.metrics[e][NN_HIST_TRAIN_ACCURACY] ==
                                 want.metrics[e][NN_HIST_TRAIN_ACCURACY]);
        CHECK(got.metrics[e][NN_HIST_LEARNING_RATE] == 0.2);
    }
    CHECK(mt_same_everywhere(got.metrics, sizeof got.metrics));
    nn_free(net);
    nn_free(ref);
    mt_case("nn_mpi_fit: validation metrics and best weights as one process");
}

/* Learning-rate schedules and the history under nn_mpi_fit, through
 * libnn's epoch hooks: the same rates, epochs and weights as one process
 * (nn_mpi_fit on MPI_COMM_SELF, whose rates are nn_fit's), on every rank.
 * The plateau schedule watches the validation loss over all ranks. */
static void test_fit_schedules(void)
{
    const int schedules[] = {NN_SCHEDULE_COSINE, NN_SCHEDULE_PLATEAU};
    enum { E = 6 };
    for (size_t k = 0; k < 2; k++) {
        nn_net *nets[3];
        for (int i = 0; i < 3; i++) {
            nets[i] = make_net(NN_MOMENTUM, 8, 1);
            CHECK_RC(nn_set(nets[i], NN_OPT_SCHEDULE, schedules[k]), NN_OK);
            CHECK_RC(nn_set(nets[i], NN_OPT_T_MAX, 4), NN_OK);
            CHECK_RC(nn_set(nets[i], NN_OPT_PLATEAU_PATIENCE, 0), NN_OK);
        }
        nn_net *net = nets[0], *self = nets[1], *fit = nets[2];
        size_t first, count, vfirst, vcount;
        my_slice(N, &first, &count);
        CHECK_RC(nn_mpi_shard(MPI_COMM_WORLD, N_VAL, &vfirst, &vcount),
                 NN_OK);
        CHECK_RC(nn_mpi_fit(net, MPI_COMM_WORLD, x_all + first * N_IN,
                            y_all + first * N_OUT, count,
                            xv_all + vfirst * N_IN, yv_all + vfirst * N_OUT,
                            vcount, E, NULL, NULL, NULL), NN_OK);
        CHECK_RC(nn_mpi_fit(self, MPI_COMM_SELF, x_all, y_all, N, xv_all,
                            yv_all, N_VAL, E, NULL, NULL, NULL), NN_OK);
        CHECK_RC(nn_fit(fit, x_all, y_all, N, xv_all, yv_all, N_VAL, E, NULL,
                        NULL, NULL), NN_OK);
        check_params(net, self, 1);
        double rates[3][E], val[E], done = 0;
        for (int i = 0; i < 3; i++) {
            CHECK(nn_history_len(nets[i]) == E);
            CHECK_RC(nn_history(nets[i], NN_HIST_LEARNING_RATE, rates[i], E),
                     NN_OK);
            CHECK_RC(nn_get(nets[i], NN_OPT_EPOCHS_DONE, &done), NN_OK);
            CHECK(done == E);
        }
        CHECK(memcmp(rates[0], rates[1], sizeof rates[0]) == 0);
        CHECK(memcmp(rates[1], rates[2], sizeof rates[1]) == 0);
        CHECK(rates[0][0] == 0.2 && rates[0][E - 1] < 0.2); /* it moved */
        CHECK_RC(nn_history(net, NN_HIST_VAL_LOSS, val, E), NN_OK);
        CHECK(mt_same_everywhere(rates[0], sizeof rates[0]));
        CHECK(mt_same_everywhere(val, sizeof val));
        for (int i = 0; i < 3; i++)
            nn_free(nets[i]);
    }
    mt_case("nn_mpi_fit: cosine and plateau schedules, history, as one "
            "process");
}

/* A stop asked by one rank's callback stops every rank after the same
 * epoch. */
static void test_stop_from_one_rank(void)
{
    nn_net *net = make_net(NN_SGD, 8, 1), *ref = make_net(NN_SGD, 8, 1);
    size_t first, count;
    my_slice(N, &first, &count);
    epochs_seen got = {{{0}}, 0, 2, 0}, want = {{{0}}, 0, 0, 0};
    CHECK_RC(nn_mpi_fit(net, MPI_COMM_WORLD, x_all + first * N_IN,
                        y_all + first * N_OUT, count, NULL, NULL, 0, 5,
                        on_step, on_epoch, &got), NN_OK);
    CHECK_RC(nn_mpi_fit(ref, MPI_COMM_SELF, x_all, y_all, N, NULL, NULL, 0,
                        2, on_step, NULL, &want), NN_OK);
    CHECK(got.steps == want.steps);
    CHECK(mt_same_everywhere(&got.steps, sizeof got.steps));
    check_params(net, ref, 1);
    nn_free(net);
    nn_free(ref);
    mt_case("a stop asked on one rank stops all ranks at the same point");
}

static void test_statistics(void)
{
    nn_net *net = make_net(NN_SGD, 8, 1), *ref = make_net(NN_SGD, 8, 1);
    size_t first, count;
    my_slice(N, &first, &count);
    const float *xs = x_all + first * N_IN, *ys = y_all + first * N_OUT;
    CHECK_RC(nn_mpi_standardize_inputs(net, MPI_COMM_WORLD, xs, count),
             NN_OK);
    CHECK_RC(nn_standardize_inputs(ref, x_all, N), NN_OK);
    float got[2 * N_IN], want[2 * N_IN];
    CHECK(nn_get_input_transform(net, got, got + N_IN) == 1);
    CHECK(nn_get_input_transform(ref, want, want + N_IN) == 1);
    CHECK(mt_max_rel(got, want, 2 * N_IN) <= 1e-6);
    CHECK(mt_same_everywhere(got, sizeof got));
    double cost, acc, ref_cost, ref_acc;
    CHECK_RC(nn_mpi_evaluate(net, MPI_COMM_WORLD, xs, ys, count, &cost, &acc),
             NN_OK);
    CHECK_RC(nn_evaluate(net, x_all, y_all, N, &ref_cost, &ref_acc), NN_OK);
    CHECK(fabs(cost - ref_cost) <= 1e-6 * ref_cost && acc == ref_acc);
    nn_free(net);
    nn_free(ref);
    mt_case("nn_mpi_standardize_inputs and nn_mpi_evaluate over all ranks");
}

static void test_broadcast(void)
{
    size_t sizes[] = {N_IN, N_HIDDEN, N_OUT};
    nn_activation acts[] = {NN_TANH, NN_SOFTMAX};
    nn_net *net = NULL, *zero = NULL;
    CHECK_RC(nn_create(&net, 3, sizes, acts, 0, 100 + (uint64_t)mt_rank),
             NN_OK);
    CHECK_RC(nn_create(&zero, 3, sizes, acts, 0, 100), NN_OK);
    CHECK_RC(nn_mpi_broadcast_params(net, MPI_COMM_WORLD), NN_OK);
    CHECK(memcmp(nn_params(net), nn_params(zero),
                 nn_param_count(net) * sizeof(float)) == 0);
    /* A whole model: rank 0 trains with Adam; the others get it all,
     * optimizer state included, and then train on in step. */
    if (mt_rank == 0) {
        CHECK_RC(nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM), NN_OK);
        CHECK_RC(nn_train(net, x_all, y_all, N, 1, NULL, NULL), NN_OK);
    }
    nn_net *keep = net;
    CHECK_RC(nn_mpi_broadcast_net(&net, MPI_COMM_WORLD), NN_OK);
    CHECK(mt_rank == 0 ? net == keep : net != NULL);
    size_t len = 0;
    CHECK_RC(nn_save_buffer(net, NULL, 0, &len), NN_OK);
    unsigned char *buf = malloc(len);
    CHECK_RC(nn_save_buffer(net, buf, len, &len), NN_OK);
    CHECK(mt_same_everywhere(buf, len));
    free(buf);
    nn_free(net);
    nn_free(zero);
    mt_case("nn_mpi_broadcast_params and nn_mpi_broadcast_net");
}

static void test_shard(void)
{
    size_t first, count, n = 10;
    CHECK_RC(nn_mpi_shard(MPI_COMM_WORLD, n, &first, &count), NN_OK);
    size_t range[2] = {first, count}, all[2 * 64];
    MPI_Allgather(range, 2 * sizeof(size_t), MPI_BYTE, all,
                  2 * sizeof(size_t), MPI_BYTE, MPI_COMM_WORLD);
    size_t next = 0;
    for (int r = 0; r < mt_size; r++) {
        CHECK(all[2 * r] == next);
        CHECK(all[2 * r + 1] + 1 >= n / (size_t)mt_size);
        next += all[2 * r + 1];
    }
    CHECK(next == n);
    mt_case("nn_mpi_shard tiles the rows in rank order");
}

int main(int argc, char **argv)
{
    mt_init(&argc, &argv);
    if (mt_size > 64) {
        fprintf(stderr, "at most 64 ranks\n");
        return mt_finish("test_mpi_fit");
    }
    mt_data(N, N_IN, N_OUT, x_all, y_all);
    mt_data(N_VAL, N_IN, N_OUT, xv_all, yv_all);
    for (size_t i = 0; i < N_VAL * N_IN; i++)
        xv_all[i] = -xv_all[i] * 0.9f; /* not the training rows */
    test_in_order(NN_MOMENTUM, "in order, momentum: same as plain libnn");
    test_in_order(NN_ADAM, "in order, Adam: same as plain libnn");
    test_empty_ranks();
    test_shuffled();
    test_allreduce_grads();
    test_fit_validation();
    test_fit_schedules();
    test_stop_from_one_rank();
    test_statistics();
    test_broadcast();
    test_shard();
    return mt_finish("test_mpi_fit");
}
