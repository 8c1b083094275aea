/* SPDX-License-Identifier: MIT */
/*
 * nn_train: the progress callback's arguments (epoch, step,
 * steps_per_epoch = ceil(n / batch), the minibatch's loss before the
 * update), the smaller last batch, early stopping, unshuffled training equal
 * to hand-made nn_backprop / nn_step calls, every sample used once an
 * epoch with and without shuffling, seeded bit-for-bit reproducibility
 * (same seed, clones, split calls), learning (XOR, a linear regression),
 * and non-finite values: rejected before any step for the data, stopping
 * at the last good step when training diverges.
 */
#include "testutil.h"

enum { MAX_CALLS = 4096 };

typedef struct recorder {
    size_t calls;
    size_t epoch[MAX_CALLS], step[MAX_CALLS], spe[MAX_CALLS];
    double cost[MAX_CALLS];
    size_t stop_after; /* return non-zero on this call (1-based); 0: never */
    nn_net *net;       /* if set, its parameters are copied on every call */
    float *last_params;
} recorder;

static int record(void *user, size_t epoch, size_t step, size_t spe,
                  double cost)
{
    recorder *r = user;
    if (r->calls < MAX_CALLS) {
        r->epoch[r->calls] = epoch;
        r->step[r->calls] = step;
        r->spe[r->calls] = spe;
        r->cost[r->calls] = cost;
    }
    r->calls++;
    if (r->net)
        memcpy(r->last_params, nn_params(r->net),
               nn_param_count(r->net) * sizeof(float));
    return r->stop_after != 0 && r->calls == r->stop_after;
}

static recorder *new_recorder(void)
{
    return tu_alloc(sizeof(recorder));
}

/* {3, 6, 2} tanh / sigmoid with data of M samples. */
enum { M = 10, IN = 3, OUT = 2 };

typedef struct data {
    float x[M * IN], y[M * OUT];
} data;

static nn_net *small_net(data *d, uint64_t seed, int optimizer)
{
    static const size_t sizes[] = {IN, 6, OUT};
    static const nn_activation acts[] = {NN_TANH, NN_SIGMOID};
    nn_net *net = tu_create(3, sizes, acts, 0, seed);
    tu_fill(d->x, M * IN, 1, -1, 1);
    tu_fill(d->y, M * OUT, 2, 0, 1);
    ASSERT_OK(nn_set(net, NN_OPT_OPTIMIZER, optimizer));
    ASSERT_OK(nn_set(net, NN_OPT_LEARNING_RATE, 0.1));
    ASSERT_OK(nn_set(net, NN_OPT_BATCH_SIZE, 4));
    return net;
}

static void test_progress_arguments(void **state)
{
    (void)state;
    for (int shuffle = 0; shuffle <= 1; shuffle++) {
        data d;
        nn_net *net = small_net(&d, 1, NN_ADAM);
        recorder *r = new_recorder();
        double before[TU_N_OPTIONS], after[TU_N_OPTIONS];
        ASSERT_OK(nn_set(net, NN_OPT_SHUFFLE, shuffle));
        tu_get_all(net, before);
        ASSERT_OK(nn_train(net, d.x, d.y, M, 3, record, r));
        assert_int_equal(r->calls, 3 * 3); /* ceil(10 / 4) = 3 a epoch */
        for (size_t i = 0; i < r->calls; i++) {
            assert_int_equal(r->epoch[i], i / 3);
            assert_int_equal(r->step[i], i % 3);
            assert_int_equal(r->spe[i], 3);
            assert_true(isfinite(r->cost[i]) && r->cost[i] > 0);
        }
        /* settings unchanged; the epoch clock advanced by three */
        tu_get_all(net, after);
        for (int o = 0; o < TU_N_OPTIONS; o++)
            if (o != NN_OPT_EPOCHS_DONE && after[o] != before[o])
                TU_FAIL("nn_train changed option %d: %g -> %g", o, before[o],
                        after[o]);
        assert_true(after[NN_OPT_EPOCHS_DONE] == before[NN_OPT_EPOCHS_DONE] + 3);

        /* n smaller than the batch: one step an epoch */
        r->calls = 0;
        ASSERT_OK(nn_set(net, NN_OPT_BATCH_SIZE, 32));
        ASSERT_OK(nn_train(net, d.x, d.y, 3, 2, record, r));
        assert_int_equal(r->calls, 2);
        assert_int_equal(r->spe[0], 1);
        assert_int_equal(r->epoch[1], 1);
        assert_int_equal(r->step[1], 0);

        /* batch of 1: n steps; batch == n: one step */
        r->calls = 0;
        ASSERT_OK(nn_set(net, NN_OPT_BATCH_SIZE, 1));
        ASSERT_OK(nn_train(net, d.x, d.y, M, 1, record, r));
        assert_int_equal(r->calls, M);
        assert_int_equal(r->spe[M - 1], M);
        assert_int_equal(r->step[M - 1], M - 1);
        r->calls = 0;
        ASSERT_OK(nn_set(net, NN_OPT_BATCH_SIZE, M));
        ASSERT_OK(nn_train(net, d.x, d.y, M, 1, record, r));
        assert_int_equal(r->calls, 1);
        assert_int_equal(r->spe[0], 1);

        /* no callback at all */
        ASSERT_OK(nn_train(net, d.x, d.y, M, 2, NULL, NULL));
        free(r);
        nn_free(net);
    }
}

/*
 * Without shuffling, an epoch is nn_backprop / nn_step over rows 0-3, 4-7,
 * then the smaller batch 8-9; the callback gets each batch's loss before
 * its update.
 */
static void replay(nn_net *net, const data *d, size_t steps, double *costs)
{
    for (size_t k = 0; k < steps; k++) {
        size_t first = (k % 3) * 4, rows = (k % 3) == 2 ? 2 : 4;
        ASSERT_OK(nn_backprop(net, d->x + first * IN, d->y + first * OUT, rows,
                              &costs[k]));
        ASSERT_OK(nn_step(net));
    }
}

static void test_unshuffled_equals_manual_steps(void **state)
{
    (void)state;
    data d;
    nn_net *net = small_net(&d, 2, NN_MOMENTUM);
    ASSERT_OK(nn_set(net, NN_OPT_SHUFFLE, 0));
    nn_net *twin = tu_clone(net);
    recorder *r = new_recorder();
    double costs[6];
    size_t n = nn_param_count(net);

    ASSERT_OK(nn_train(net, d.x, d.y, M, 2, record, r));
    replay(twin, &d, 6, costs);
    assert_int_equal(r->calls, 6);
    for (size_t k = 0; k < 6; k++)
        ASSERT_CLOSE(r->cost[k], costs[k], 1e-6, 0);
    for (size_t i = 0; i < n; i++)
        ASSERT_CLOSE(nn_params(net)[i], nn_params(twin)[i], 1e-6, 1e-7);
    free(r);
    nn_free(net);
    nn_free(twin);
}

static void test_early_stop(void **state)
{
    (void)state;
    data d;
    nn_net *net = small_net(&d, 3, NN_ADAM);
    ASSERT_OK(nn_set(net, NN_OPT_SHUFFLE, 0));
    nn_net *twin = tu_clone(net);
    recorder *r = new_recorder();
    double costs[5];
    r->stop_after = 5; /* epoch 1, step 1 */
    ASSERT_OK(nn_train(net, d.x, d.y, M, 100, record, r));
    assert_int_equal(r->calls, 5);
    assert_int_equal(r->epoch[4], 1);
    assert_int_equal(r->step[4], 1);
    /* the fifth step was taken, no sixth */
    replay(twin, &d, 5, costs);
    for (size_t i = 0; i < nn_param_count(net); i++)
        ASSERT_CLOSE(nn_params(net)[i], nn_params(twin)[i], 1e-6, 1e-7);
    free(r);
    nn_free(net);
    nn_free(twin);
}

/*
 * With a learning rate so small that no float parameter moves, every
 * callback cost is a loss at the same parameters: weighted by the batch
 * sizes (4, 4, 2) they add up to the loss over all samples exactly when
 * each sample is used once an epoch.
 */
static void test_every_sample_once_an_epoch(void **state)
{
    (void)state;
    double seq[3] = {0};
    for (int shuffle = 0; shuffle <= 1; shuffle++) {
        data d;
        nn_net *net = small_net(&d, 4, NN_SGD);
        ASSERT_OK(nn_set(net, NN_OPT_LEARNING_RATE, 1e-30));
        ASSERT_OK(nn_set(net, NN_OPT_SHUFFLE, shuffle));
        float *p0 = tu_copy_floats(nn_params(net), nn_param_count(net));
        recorder *r = new_recorder();
        double full;
        ASSERT_OK(nn_cost(net, d.x, d.y, M, &full));
        ASSERT_OK(nn_train(net, d.x, d.y, M, 4, record, r));
        /* the parameters did not move (zero biases may by 1e-30 g) */
        for (size_t i = 0; i < nn_param_count(net); i++)
            ASSERT_CLOSE(nn_params(net)[i], p0[i], 1e-7, 1e-25);
        assert_int_equal(r->calls, 12);
        for (size_t e = 0; e < 4; e++) {
            const double *c = r->cost + 3 * e;
            TU_CONTEXT("shuffle %d, epoch %zu", shuffle, e);
            ASSERT_CLOSE((4 * c[0] + 4 * c[1] + 2 * c[2]) / M, full, 1e-5, 0);
            if (!shuffle) {
                /* the same batches, in order, every epoch */
                for (int k = 0; k < 3; k++)
                    ASSERT_CLOSE(c[k], r->cost[k], 1e-6, 0);
            }
        }
        if (!shuffle) {
            memcpy(seq, r->cost, sizeof seq);
        } else {
            /* shuffled: batches differ from the unshuffled ones and
             * between epochs */
            int differs_from_seq = 0, differs_between_epochs = 0;
            for (int k = 0; k < 3; k++) {
                differs_from_seq |= !tu_close(r->cost[k], seq[k], 1e-6, 0);
                differs_between_epochs |=
                    !tu_close(r->cost[k], r->cost[3 + k], 1e-6, 0);
            }
            assert_true(differs_from_seq);
            assert_true(differs_between_epochs);
        }
        free(p0);
        free(r);
        nn_free(net);
    }
    TU_CONTEXT_CLEAR();
}

/* A shuffled epoch of one batch holding every sample is one full step. */
static void test_full_batch_epoch(void **state)
{
    (void)state;
    data d;
    nn_net *net = small_net(&d, 5, NN_RMSPROP);
    ASSERT_OK(nn_set(net, NN_OPT_BATCH_SIZE, M));
    nn_net *twin = tu_clone(net);
    recorder *r = new_recorder();
    double cost;
    ASSERT_OK(nn_train(net, d.x, d.y, M, 1, record, r));
    ASSERT_OK(nn_backprop(twin, d.x, d.y, M, &cost));
    ASSERT_OK(nn_step(twin));
    ASSERT_CLOSE(r->cost[0], cost, 1e-6, 0);
    for (size_t i = 0; i < nn_param_count(net); i++)
        ASSERT_CLOSE(nn_params(net)[i], nn_params(twin)[i], 1e-5, 1e-6);
    free(r);
    nn_free(net);
    nn_free(twin);
}

static void test_reproducible_bits(void **state)
{
    (void)state;
    data d;
    nn_net *a = small_net(&d, 6, NN_ADAM);
    nn_net *b = small_net(&d, 6, NN_ADAM);
    nn_net *c = small_net(&d, 7, NN_ADAM);
    size_t n = nn_param_count(a);
    /* shuffled, batch 3: ten-sample epochs of 3, 3, 3, 1 */
    ASSERT_OK(nn_set(a, NN_OPT_BATCH_SIZE, 3));
    ASSERT_OK(nn_set(b, NN_OPT_BATCH_SIZE, 3));
    ASSERT_OK(nn_set(c, NN_OPT_BATCH_SIZE, 3));
    nn_net *clone = tu_clone(a);

    ASSERT_OK(nn_train(a, d.x, d.y, M, 5, NULL, NULL));
    ASSERT_OK(nn_train(b, d.x, d.y, M, 5, NULL, NULL));
    ASSERT_OK(nn_train(clone, d.x, d.y, M, 5, NULL, NULL));
    assert_memory_equal(nn_params(a), nn_params(b), n * sizeof(float));
    assert_memory_equal(nn_params(a), nn_params(clone), n * sizeof(float));

    ASSERT_OK(nn_train(c, d.x, d.y, M, 5, NULL, NULL));
    assert_memory_not_equal(nn_params(a), nn_params(c), n * sizeof(float));

    /* and clones keep agreeing after further training */
    nn_net *again = tu_clone(a);
    ASSERT_OK(nn_train(a, d.x, d.y, M, 2, NULL, NULL));
    ASSERT_OK(nn_train(again, d.x, d.y, M, 2, NULL, NULL));
    assert_memory_equal(nn_params(a), nn_params(again), n * sizeof(float));
    nn_free(a);
    nn_free(b);
    nn_free(c);
    nn_free(clone);
    nn_free(again);
}

/*
 * The generator lives in the handle, so training stopped and resumed (as
 * from a saved file) continues as if it had not stopped: 2 + 3 epochs are
 * 5 epochs, bit for bit.
 */
static void test_split_calls_continue_the_shuffle(void **state)
{
    (void)state;
    data d;
    nn_net *whole = small_net(&d, 6, NN_ADAM);
    ASSERT_OK(nn_set(whole, NN_OPT_BATCH_SIZE, 3));
    nn_net *split = tu_clone(whole);
    ASSERT_OK(nn_train(whole, d.x, d.y, M, 5, NULL, NULL));
    ASSERT_OK(nn_train(split, d.x, d.y, M, 2, NULL, NULL));
    ASSERT_OK(nn_train(split, d.x, d.y, M, 3, NULL, NULL));
    assert_memory_equal(nn_params(whole), nn_params(split),
                        nn_param_count(whole) * sizeof(float));
    nn_free(whole);
    nn_free(split);
}

/* Same seed, shuffled or not, different shuffle settings differ. */
static void test_shuffle_changes_the_path(void **state)
{
    (void)state;
    data d;
    nn_net *a = small_net(&d, 8, NN_SGD);
    nn_net *b = tu_clone(a);
    ASSERT_OK(nn_set(a, NN_OPT_SHUFFLE, 0));
    ASSERT_OK(nn_train(a, d.x, d.y, M, 3, NULL, NULL));
    ASSERT_OK(nn_train(b, d.x, d.y, M, 3, NULL, NULL));
    assert_memory_not_equal(nn_params(a), nn_params(b),
                            nn_param_count(a) * sizeof(float));
    nn_free(a);
    nn_free(b);
}

static void test_learns_xor(void **state)
{
    (void)state;
    static const size_t sizes[] = {2, 8, 1};
    static const nn_activation acts[] = {NN_TANH, NN_SIGMOID};
    static const float x[4 * 2] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const float y[4] = {0, 1, 1, 0};
    nn_net *net = tu_create(3, sizes, acts, 0, 42);
    ASSERT_OK(nn_set(net, NN_OPT_LOSS, NN_LOSS_BINARY_CROSS_ENTROPY));
    ASSERT_OK(nn_set(net, NN_OPT_LEARNING_RATE, 0.05));
    ASSERT_OK(nn_set(net, NN_OPT_BATCH_SIZE, 4));
    ASSERT_OK(nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM));
    double first, cost, acc;
    ASSERT_OK(nn_evaluate(net, x, y, 4, &first, NULL));
    ASSERT_OK(nn_train(net, x, y, 4, 500, NULL, NULL));
    ASSERT_OK(nn_evaluate(net, x, y, 4, &cost, &acc));
    print_message("XOR: loss %.4f -> %.4f, accuracy %.2f\n", first, cost, acc);
    assert_true(first > 0.6); /* about log 2 at the start */
    assert_true(cost < 0.05);
    assert_true(acc == 1.0);
    nn_free(net);
}

/* y = x w + b exactly: SGD recovers w and b, the loss falling steadily. */
static void test_learns_linear_regression(void **state)
{
    (void)state;
    enum { R = 64 };
    static const size_t sizes[] = {3, 1};
    static const nn_activation act = NN_IDENTITY;
    const double w[3] = {0.5, -1.25, 2.0}, b = 0.75;
    float x[R * 3], y[R];
    tu_fill(x, R * 3, 9, -1, 1);
    for (int s = 0; s < R; s++)
        y[s] = (float)(x[3 * s] * w[0] + x[3 * s + 1] * w[1] +
                       x[3 * s + 2] * w[2] + b);
    nn_net *net = tu_create(2, sizes, &act, 0, 10);
    ASSERT_OK(nn_set(net, NN_OPT_LEARNING_RATE, 0.2));
    ASSERT_OK(nn_set(net, NN_OPT_BATCH_SIZE, 8));
    double prev = INFINITY;
    for (int round = 0; round < 10; round++) {
        double cost;
        ASSERT_OK(nn_train(net, x, y, R, 20, NULL, NULL));
        ASSERT_OK(nn_cost(net, x, y, R, &cost));
        assert_true(cost < prev || cost < 1e-10);
        prev = cost;
    }
    assert_true(prev < 1e-8);
    for (int i = 0; i < 3; i++)
        ASSERT_CLOSE(nn_params(net)[i], w[i], 0, 1e-3);
    ASSERT_CLOSE(nn_params(net)[3], b, 0, 1e-3);
    nn_free(net);
}

/* NaN or Inf anywhere in the data: NN_ENUMERIC before any step, nothing
 * changed (parameters, settings, optimizer state, generator). */
static void test_non_finite_data(void **state)
{
    (void)state;
    const float bad[] = {NAN, INFINITY, -INFINITY};
    enum { N = 50 };
    float x[N * 3], y[N * 2];
    for (size_t k = 0; k < TU_ARRAY_LEN(bad); k++) {
        for (int in_y = 0; in_y <= 1; in_y++) {
            nn_net *net = tu_fixture(NN_SIGMOID);
            recorder *r = new_recorder();
            tu_fill(x, N * 3, 1, -1, 1);
            tu_fill(y, N * 2, 2, 0, 1);
            /* in the very last sample, so that only an upfront check
             * catches it before the first step */
            if (in_y)
                y[N * 2 - 1] = bad[k];
            else
                x[N * 3 - 1] = bad[k];
            TU_CONTEXT("value %g in %s", (double)bad[k], in_y ? "y" : "x");
            EXPECT_NET_FAIL(net, NN_ENUMERIC,
                            nn_train(net, x, y, N, 3, record, r));
            assert_int_equal(r->calls, 0);
            free(r);
            nn_free(net);
        }
    }
    TU_CONTEXT_CLEAR();
}

/* A diverging run stops with NN_ENUMERIC and keeps the parameters of the
 * last good step: those the callback saw after it. */
static void test_divergence_keeps_last_good_step(void **state)
{
    (void)state;
    static const size_t sizes[] = {2, 1};
    static const nn_activation act = NN_IDENTITY;
    float x[8 * 2], y[8];
    tu_fill(x, 16, 3, 0.5, 1);
    tu_fill(y, 8, 4, 0, 1);
    nn_net *net = tu_create(2, sizes, &act, 0, 11);
    ASSERT_OK(nn_set(net, NN_OPT_LEARNING_RATE, 1e20));
    ASSERT_OK(nn_set(net, NN_OPT_BATCH_SIZE, 2));
    recorder *r = new_recorder();
    r->net = net;
    r->last_params = tu_floats(nn_param_count(net));
    ASSERT_RC(nn_train(net, x, y, 8, 10, record, r), NN_ENUMERIC);
    print_message("diverged after %zu good steps\n", r->calls);
    assert_true(r->calls >= 1 && r->calls < 40);
    assert_memory_equal(nn_params(net), r->last_params,
                        nn_param_count(net) * sizeof(float));
    tu_expect_detail_(net, __FILE__, __LINE__);
    free(r->last_params);
    free(r);
    nn_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_arguments),
        cmocka_unit_test(test_unshuffled_equals_manual_steps),
        cmocka_unit_test(test_early_stop),
        cmocka_unit_test(test_every_sample_once_an_epoch),
        cmocka_unit_test(test_full_batch_epoch),
        cmocka_unit_test(test_reproducible_bits),
        cmocka_unit_test(test_split_calls_continue_the_shuffle),
        cmocka_unit_test(test_shuffle_changes_the_path),
        cmocka_unit_test(test_learns_xor),
        cmocka_unit_test(test_learns_linear_regression),
        cmocka_unit_test(test_non_finite_data),
        cmocka_unit_test(test_divergence_keeps_last_good_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
