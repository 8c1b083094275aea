/* SPDX-License-Identifier: MIT */
/*
 * Creating, querying, cloning and freeing networks: shape queries and the
 * parameter layout, seeded initialisation (same seed same bits, in any
 * thread; Glorot and He bounds and spread; zero biases), zero gradients
 * before the first backprop, live and stable views, and deep clones that
 * train on exactly as the original.
 */
#include "testutil.h"

#include <pthread.h>

static const size_t sz_a[] = {3, 1};
static const nn_activation act_a[] = {NN_IDENTITY};
static const size_t sz_b[] = {4, 5, 2};
static const nn_activation act_b[] = {NN_TANH, NN_SOFTMAX};
static const size_t sz_c[] = {2, 7, 6, 3};
static const nn_activation act_c[] = {NN_RELU, NN_LEAKY_RELU, NN_SIGMOID};

typedef struct arch {
    size_t n;
    const size_t *sizes;
    const nn_activation *acts;
} arch;

static const arch archs[] = {
    {2, sz_a, act_a},
    {3, sz_b, act_b},
    {4, sz_c, act_c},
};

static void test_shape_and_layout(void **state)
{
    (void)state;
    for (size_t k = 0; k < TU_ARRAY_LEN(archs); k++) {
        for (unsigned flags = 0; flags <= NN_NO_BIAS; flags++) {
            const arch *A = &archs[k];
            nn_net *net = tu_create(A->n, A->sizes, A->acts, flags, 7);
            float *p = nn_params(net);
            size_t off = 0;
            assert_non_null(p);
            assert_int_equal(nn_num_layers(net), A->n);
            for (size_t i = 0; i < A->n; i++)
                assert_int_equal(nn_layer_size(net, i), A->sizes[i]);
            assert_int_equal(nn_layer_size(net, A->n), 0);
            assert_int_equal(nn_layer_size(net, SIZE_MAX), 0);
            for (size_t l = 0; l + 1 < A->n; l++) {
                float *w = NULL, *b = (float *)1;
                ASSERT_OK(nn_layer_params(net, l, &w, &b));
                assert_ptr_equal(w, p + off);
                off += A->sizes[l] * A->sizes[l + 1];
                if (flags & NN_NO_BIAS) {
                    assert_null(b);
                } else {
                    assert_ptr_equal(b, p + off);
                    off += A->sizes[l + 1];
                }
                /* either output alone */
                float *w2 = NULL, *b2 = NULL;
                ASSERT_OK(nn_layer_params(net, l, &w2, NULL));
                assert_ptr_equal(w2, w);
                if (!(flags & NN_NO_BIAS)) {
                    ASSERT_OK(nn_layer_params(net, l, NULL, &b2));
                    assert_ptr_equal(b2, b);
                }
            }
            assert_int_equal(nn_param_count(net), off);
            nn_free(net);
        }
    }
}

static void test_null_handle_queries(void **state)
{
    (void)state;
    assert_int_equal(nn_num_layers(NULL), 0);
    assert_int_equal(nn_layer_size(NULL, 0), 0);
    assert_int_equal(nn_param_count(NULL), 0);
    assert_null(nn_params(NULL));
    assert_null(nn_grads(NULL));
    nn_free(NULL); /* a no-op */
}

static void test_same_seed_same_bits(void **state)
{
    (void)state;
    nn_net *a = tu_create(4, sz_c, act_c, 0, 12345);
    nn_net *b = tu_create(4, sz_c, act_c, 0, 12345);
    assert_int_equal(nn_param_count(a), nn_param_count(b));
    assert_memory_equal(nn_params(a), nn_params(b),
                        nn_param_count(a) * sizeof(float));
    nn_free(a);
    nn_free(b);
}

typedef struct create_job {
    uint64_t seed;
    nn_net *net;
    int rc;
} create_job;

static void *create_in_thread(void *arg)
{
    create_job *job = arg;
    job->rc = nn_create(&job->net, 4, sz_c, act_c, 0, job->seed);
    return NULL;
}

static void test_same_bits_in_other_threads(void **state)
{
    (void)state;
    create_job jobs[4];
    pthread_t th[4];
    nn_net *ref = tu_create(4, sz_c, act_c, 0, 99);
    for (int i = 0; i < 4; i++) {
        jobs[i] = (create_job){.seed = 99, .net = NULL, .rc = -100};
        assert_int_equal(pthread_create(&th[i], NULL, create_in_thread,
                                        &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 4; i++) {
        ASSERT_OK(jobs[i].rc);
        assert_memory_equal(nn_params(jobs[i].net), nn_params(ref),
                            nn_param_count(ref) * sizeof(float));
        nn_free(jobs[i].net);
    }
    nn_free(ref);
}

static void test_different_seeds_differ(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {0, 1, 2, 42, 0xFFFFFFFFull,
                                     0x100000000ull, UINT64_MAX};
    enum { K = TU_ARRAY_LEN(seeds) };
    nn_net *nets[K];
    for (size_t i = 0; i < K; i++)
        nets[i] = tu_create(3, sz_b, act_b, NN_NO_BIAS, seeds[i]);
    size_t n = nn_param_count(nets[0]);
    for (size_t i = 0; i < K; i++) {
        for (size_t j = i + 1; j < K; j++) {
            /* most weights differ, not just one */
            size_t same = 0;
            for (size_t k = 0; k < n; k++)
                same += nn_params(nets[i])[k] == nn_params(nets[j])[k];
            if (same > n / 4)
                fail_msg("seeds %llu and %llu share %zu of %zu weights",
                         (unsigned long long)seeds[i],
                         (unsigned long long)seeds[j], same, n);
        }
    }
    for (size_t i = 0; i < K; i++)
        nn_free(nets[i]);
}

/* All weights of one layer within (-a, a), spread like U(-a, a). */
static void check_uniform_layer(const float *w, size_t n, double a,
                                const char *what)
{
    double lo = INFINITY, hi = -INFINITY, sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(fabs(w[i]) <= a))
            fail_msg("%s: |w[%zu]| = %g exceeds a = %g", what, i,
                     (double)w[i], a);
        lo = fmin(lo, w[i]);
        hi = fmax(hi, w[i]);
        sum += w[i];
        sq += (double)w[i] * w[i];
    }
    double mean = sum / (double)n, var = sq / (double)n - mean * mean;
    if (!(hi > 0.95 * a && lo < -0.95 * a))
        fail_msg("%s: range [%g, %g] does not fill (-%g, %g)", what, lo, hi,
                 a, a);
    if (!(fabs(mean) < 0.05 * a))
        fail_msg("%s: mean %g, want about 0", what, mean);
    if (!(fabs(var / (a * a / 3) - 1) < 0.1))
        fail_msg("%s: variance %g, want about a^2/3 = %g", what, var,
                 a * a / 3);
}

static void test_glorot_and_he_init(void **state)
{
    (void)state;
    static const nn_activation all[] = {NN_IDENTITY, NN_SIGMOID, NN_TANH,
                                        NN_SOFTMAX, NN_RELU, NN_LEAKY_RELU};
    static const size_t sizes[] = {100, 80};
    for (size_t k = 0; k < TU_ARRAY_LEN(all); k++) {
        nn_activation act = all[k];
        int he = act == NN_RELU || act == NN_LEAKY_RELU;
        double a = he ? sqrt(6.0 / 100) : sqrt(6.0 / (100 + 80));
        char what[64];
        snprintf(what, sizeof what, "activation %d", (int)act);
        nn_net *net = tu_create(2, sizes, &act, 0, 1000 + k);
        float *w, *b;
        ASSERT_OK(nn_layer_params(net, 0, &w, &b));
        check_uniform_layer(w, 100 * 80, a, what);
        for (size_t j = 0; j < 80; j++)
            assert_true(b[j] == 0.0f);
        nn_free(net);
    }

    /* per layer, in a deeper network: He then Glorot then Glorot */
    static const size_t deep[] = {120, 90, 60, 30};
    static const nn_activation deep_acts[] = {NN_LEAKY_RELU, NN_TANH,
                                              NN_SOFTMAX};
    nn_net *net = tu_create(4, deep, deep_acts, 0, 77);
    for (size_t l = 0; l < 3; l++) {
        double a = l == 0 ? sqrt(6.0 / (double)deep[0])
                          : sqrt(6.0 / (double)(deep[l] + deep[l + 1]));
        char what[64];
        float *w, *b;
        snprintf(what, sizeof what, "deep layer %zu", l);
        ASSERT_OK(nn_layer_params(net, l, &w, &b));
        check_uniform_layer(w, deep[l] * deep[l + 1], a, what);
        for (size_t j = 0; j < deep[l + 1]; j++)
            assert_true(b[j] == 0.0f);
    }
    nn_free(net);
}

static void test_grads_zero_before_backprop(void **state)
{
    (void)state;
    nn_net *net = tu_create(4, sz_c, act_c, 0, 3);
    size_t n = nn_param_count(net);
    float *g = nn_grads(net);
    assert_non_null(g);
    assert_ptr_not_equal(g, nn_params(net));
    for (size_t i = 0; i < n; i++)
        assert_true(g[i] == 0.0f);
    nn_free(net);
}

/* Writing through nn_params changes what the network computes, and the
 * views survive buffer growth and optimizer changes. */
static void test_views_are_live_and_stable(void **state)
{
    (void)state;
    nn_net *net = tu_create(2, sz_a, act_a, 0, 5);
    float *p = nn_params(net), *g = nn_grads(net);
    const float x[3] = {1, 2, 3};
    float y_hat;
    p[0] = 0.5f;
    p[1] = -1.0f;
    p[2] = 2.0f;
    p[3] = 0.25f; /* bias */
    ASSERT_OK(nn_forward(net, x, 1, &y_hat));
    assert_true(y_hat == 0.5f - 2.0f + 6.0f + 0.25f);

    float *big = tu_floats(3 * 500), *out = tu_floats(500);
    ASSERT_OK(nn_forward(net, big, 500, out));
    ASSERT_OK(nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM));
    assert_ptr_equal(nn_params(net), p);
    assert_ptr_equal(nn_grads(net), g);
    free(big);
    free(out);
    nn_free(net);
}

static void test_clone_is_a_deep_copy(void **state)
{
    (void)state;
    nn_net *net = tu_create(3, sz_b, act_b, 0, 8);
    ASSERT_OK(nn_set(net, NN_OPT_LEARNING_RATE, 0.125));
    ASSERT_OK(nn_set(net, NN_OPT_OPTIMIZER, NN_RMSPROP));
    ASSERT_OK(nn_set(net, NN_OPT_BATCH_SIZE, 5));
    ASSERT_OK(nn_set(net, NN_OPT_LOSS, NN_LOSS_MSE));
    size_t n = nn_param_count(net);

    nn_net *c = tu_clone(net);
    assert_ptr_not_equal(c, net);
    assert_int_equal(nn_num_layers(c), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(nn_layer_size(c, i), sz_b[i]);
    assert_int_equal(nn_param_count(c), n);
    assert_ptr_not_equal(nn_params(c), nn_params(net));
    assert_memory_equal(nn_params(c), nn_params(net), n * sizeof(float));
    double s1[TU_N_OPTIONS], s2[TU_N_OPTIONS];
    tu_get_all(net, s1);
    tu_get_all(c, s2);
    assert_memory_equal(s1, s2, sizeof s1);

    /* independent storage */
    float keep = nn_params(net)[0];
    nn_params(c)[0] = keep + 1.0f;
    assert_true(nn_params(net)[0] == keep);

    /* the clone outlives the original */
    nn_free(net);
    float x[4] = {0.1f, 0.2f, 0.3f, 0.4f}, y_hat[2];
    ASSERT_OK(nn_forward(c, x, 1, y_hat));
    nn_free(c);
}

/* Data for a {4, 5, 2} network. */
static void make_data(float *x, float *y, size_t n)
{
    tu_fill(x, n * 4, 11, -1, 1);
    tu_fill_probs(y, n, 2, 12);
}

static void test_clone_trains_identically(void **state)
{
    (void)state;
    enum { M = 40 };
    float x[M * 4], y[M * 2];
    make_data(x, y, M);
    nn_net *net = tu_create(3, sz_b, act_b, 0, 9);
    ASSERT_OK(nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM));
    ASSERT_OK(nn_set(net, NN_OPT_BATCH_SIZE, 7));
    ASSERT_OK(nn_train(net, x, y, M, 2, NULL, NULL)); /* moments, rng */

    nn_net *c = tu_clone(net);
    size_t n = nn_param_count(net);
    for (int round = 0; round < 3; round++) {
        nn_net *both[2] = {net, c};
        for (int k = 0; k < 2; k++) {
            ASSERT_OK(nn_backprop(both[k], x + round * 4, y + round * 2, 5,
                                  NULL));
            ASSERT_OK(nn_step(both[k]));
            ASSERT_OK(nn_train(both[k], x, y, M, 1, NULL, NULL));
        }
        assert_memory_equal(nn_params(c), nn_params(net), n * sizeof(float));
    }
    nn_free(net);
    nn_free(c);
}

/* The clone carries the gradients: a step without a new backprop works and
 * equals the original's. */
static void test_clone_carries_gradients(void **state)
{
    (void)state;
    float x[3 * 4], y[3 * 2];
    make_data(x, y, 3);
    nn_net *net = tu_create(3, sz_b, act_b, 0, 10);
    ASSERT_OK(nn_set(net, NN_OPT_OPTIMIZER, NN_MOMENTUM));
    ASSERT_OK(nn_backprop(net, x, y, 3, NULL));
    ASSERT_OK(nn_step(net));
    ASSERT_OK(nn_backprop(net, x, y, 2, NULL));
    size_t n = nn_param_count(net);

    nn_net *c = tu_clone(net);
    assert_memory_equal(nn_grads(c), nn_grads(net), n * sizeof(float));
    ASSERT_OK(nn_step(net));
    ASSERT_OK(nn_step(c));
    assert_memory_equal(nn_params(c), nn_params(net), n * sizeof(float));
    nn_free(net);
    nn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_and_layout),
        cmocka_unit_test(test_null_handle_queries),
        cmocka_unit_test(test_same_seed_same_bits),
        cmocka_unit_test(test_same_bits_in_other_threads),
        cmocka_unit_test(test_different_seeds_differ),
        cmocka_unit_test(test_glorot_and_he_init),
        cmocka_unit_test(test_grads_zero_before_backprop),
        cmocka_unit_test(test_views_are_live_and_stable),
        cmocka_unit_test(test_clone_is_a_deep_copy),
        cmocka_unit_test(test_clone_trains_identically),
        cmocka_unit_test(test_clone_carries_gradients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
