/* SPDX-License-Identifier: MIT */
/*
 * Errors and versions: every code's name and text (and unknown codes), the
 * version functions against the macros, nn_last_error's slots (per handle,
 * per thread, "" before any failure, isolated between threads), and bad
 * input for every public function - NULL pointers, zero sizes, unknown
 * enums and flags, non-finite data, batches too large to address, calls
 * out of order - each with its code, a detail in the right slot, *out set
 * to NULL where the contract says so, and nothing changed (parameters,
 * settings, optimizer state, shuffling generator). nn_set / nn_get values
 * are covered in test_settings.c.
 */
#include "testutil.h"

#include <limits.h>
#include <pthread.h>

/* ---------------------------------------------------------------------
 * Codes, texts, versions
 * --------------------------------------------------------------------- */

typedef struct code_text {
    int code;
    const char *name, *text;
} code_text;

static const code_text codes[] = {
#define ROW_(name, value, text) {value, #name, text},
    NN_ERROR_MAP(ROW_)
#undef ROW_
};

static void test_error_names_and_texts(void **state)
{
    (void)state;
    /* the ABI pins the values */
    assert_int_equal(NN_OK, 0);
    assert_int_equal(NN_EINVAL, -1);
    assert_int_equal(NN_ENOMEM, -2);
    assert_int_equal(NN_ESHAPE, -3);
    assert_int_equal(NN_ESTATE, -4);
    assert_int_equal(NN_EIO, -5);
    assert_int_equal(NN_EFORMAT, -6);
    assert_int_equal(NN_ENUMERIC, -7);
    assert_int_equal(TU_ARRAY_LEN(codes), 8);
    for (size_t i = 0; i < TU_ARRAY_LEN(codes); i++) {
        assert_string_equal(nn_error_name(codes[i].code), codes[i].name);
        assert_string_equal(nn_error_string(codes[i].code), codes[i].text);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(nn_error_string(codes[i].code),
                                    nn_error_string(codes[j].code));
    }
    static const int unknown[] = {1, 2, -8, -100, 1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < TU_ARRAY_LEN(unknown); i++) {
        assert_string_equal(nn_error_string(unknown[i]), "unknown error");
        assert_string_equal(nn_error_name(unknown[i]), "NN_EUNKNOWN");
    }
}

static void test_versions(void **state)
{
    (void)state;
    char want[32];
    assert_int_equal(nn_version(), LIBNN_VERSION_MAJOR * 10000 +
                                        LIBNN_VERSION_MINOR * 100 +
                                        LIBNN_VERSION_PATCH);
    snprintf(want, sizeof want, "%d.%d.%d", LIBNN_VERSION_MAJOR,
             LIBNN_VERSION_MINOR, LIBNN_VERSION_PATCH);
    assert_string_equal(nn_version_string(), want);
    assert_string_equal(nn_version_string(), "0.3.0");
    assert_int_equal(nn_version(), 300);
}

/* ---------------------------------------------------------------------
 * nn_last_error's slots
 * --------------------------------------------------------------------- */

static nn_net *shared_net; /* read-only target for the thread probes */

static int fail_create(void)
{
    static const size_t sizes[] = {3};
    static const nn_activation acts[] = {NN_TANH};
    nn_net *out;
    return nn_create(&out, 1, sizes, acts, 0, 1);
}
static int fail_clone(void)
{
    nn_net *out;
    return nn_clone(NULL, &out);
}
static int fail_get(void)
{
    double v;
    return nn_get(shared_net, 99, &v);
}
static int fail_predict(void)
{
    const float x[3] = {0, NAN, 0};
    float y_hat[2];
    return nn_predict(shared_net, x, 1, y_hat);
}
static int fail_evaluate(void)
{
    const float x[3] = {0, 0, 0};
    double cost;
    return nn_evaluate(shared_net, x, NULL, 1, &cost, NULL);
}
static int fail_set_null(void)
{
    return nn_set(NULL, NN_OPT_LEARNING_RATE, 0.1);
}
static int fail_forward_null(void)
{
    float y_hat[2];
    return nn_forward(NULL, NULL, 1, y_hat);
}
static int fail_load_buffer(void)
{
    nn_net *out;
    return nn_load_buffer(&out, NULL, 16);
}

typedef struct fresh_job {
    int (*fn)(void);
    const char *name;
    int want;
    int rc, empty_before, empty_after;
} fresh_job;

static void *run_fresh(void *arg)
{
    fresh_job *job = arg;
    const char *before = nn_last_error(NULL);
    job->empty_before = before != NULL && before[0] == '\0';
    job->rc = job->fn();
    const char *after = nn_last_error(NULL);
    job->empty_after = after == NULL || after[0] == '\0';
    return NULL;
}

static void run_in_fresh_thread(fresh_job *job)
{
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_fresh, job), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
}

/* In a new thread: "" before any failure; the failure's detail after. */
static void test_thread_slot_per_function(void **state)
{
    (void)state;
    fresh_job jobs[] = {
        {fail_create, "nn_create", NN_EINVAL, 0, 0, 0},
        {fail_clone, "nn_clone", NN_EINVAL, 0, 0, 0},
        {fail_get, "nn_get", NN_EINVAL, 0, 0, 0},
        {fail_predict, "nn_predict", NN_ENUMERIC, 0, 0, 0},
        {fail_evaluate, "nn_evaluate", NN_EINVAL, 0, 0, 0},
        {fail_set_null, "nn_set(NULL)", NN_EINVAL, 0, 0, 0},
        {fail_forward_null, "nn_forward(NULL)", NN_EINVAL, 0, 0, 0},
        {fail_load_buffer, "nn_load_buffer", NN_EINVAL, 0, 0, 0},
    };
    shared_net = tu_fixture(NN_SIGMOID);
    for (size_t i = 0; i < TU_ARRAY_LEN(jobs); i++) {
        TU_CONTEXT("%s in a new thread", jobs[i].name);
        run_in_fresh_thread(&jobs[i]);
        assert_true(jobs[i].empty_before);
        ASSERT_RC(jobs[i].rc, jobs[i].want);
        assert_false(jobs[i].empty_after);
    }
    TU_CONTEXT_CLEAR();
    /* the const-handle failures left the handle's slot alone */
    tu_expect_no_detail_(shared_net, __FILE__, __LINE__);
    nn_free(shared_net);
    shared_net = NULL;
}

/* A failure in one thread is not seen in another. */
static void test_thread_slots_are_isolated(void **state)
{
    (void)state;
    char mine[512];
    nn_net *out;
    assert_int_equal(nn_clone(NULL, &out), NN_EINVAL); /* fill this slot */
    snprintf(mine, sizeof mine, "%s", nn_last_error(NULL));
    assert_string_not_equal(mine, "");

    fresh_job a = {fail_create, "nn_create", NN_EINVAL, 0, 0, 0};
    fresh_job b = {fail_clone, "nn_clone", NN_EINVAL, 0, 0, 0};
    run_in_fresh_thread(&a);
    run_in_fresh_thread(&b); /* b starts after a failed: still "" */
    assert_true(a.empty_before && !a.empty_after);
    assert_true(b.empty_before && !b.empty_after);
    assert_string_equal(nn_last_error(NULL), mine);
}

static void test_handle_slot(void **state)
{
    (void)state;
    nn_net *a = tu_fixture(NN_SIGMOID), *b = tu_fixture(NN_SIGMOID);
    assert_non_null(nn_last_error(a));
    assert_string_equal(nn_last_error(a), "");
    assert_int_equal(nn_forward(a, NULL, 1, NULL), NN_EINVAL);
    assert_string_not_equal(nn_last_error(a), "");
    assert_string_equal(nn_last_error(b), ""); /* per handle */
    /* the detail stays through successful calls on other handles */
    char kept[512];
    snprintf(kept, sizeof kept, "%s", nn_last_error(a));
    float x[3] = {0}, y_hat[2];
    ASSERT_OK(nn_forward(b, x, 1, y_hat));
    assert_string_equal(nn_last_error(a), kept);
    nn_free(a);
    nn_free(b);
}

/* ---------------------------------------------------------------------
 * nn_create and nn_clone
 * --------------------------------------------------------------------- */

static void expect_create_fails(int want, nn_net **out, size_t n_sizes,
                                const size_t *sizes, const nn_activation *acts,
                                unsigned flags)
{
    static nn_net *const sentinel = (nn_net *)&sentinel;
    if (out)
        *out = sentinel;
    EXPECT_FAIL(want, nn_create(out, n_sizes, sizes, acts, flags, 1));
    if (out && *out != NULL)
        TU_FAIL("*out is %p after a failed nn_create, want NULL",
                (void *)*out);
}

static void test_create_bad_input(void **state)
{
    (void)state;
    nn_net *out;
    const size_t s3[] = {3, 4, 2};
    const nn_activation ok[] = {NN_TANH, NN_SIGMOID};

    TU_CONTEXT("NULL pointers");
    expect_create_fails(NN_EINVAL, NULL, 3, s3, ok, 0);
    expect_create_fails(NN_EINVAL, &out, 3, NULL, ok, 0);
    expect_create_fails(NN_EINVAL, &out, 3, s3, NULL, 0);

    TU_CONTEXT("n_sizes < 2");
    expect_create_fails(NN_EINVAL, &out, 0, s3, ok, 0);
    expect_create_fails(NN_EINVAL, &out, 1, s3, ok, 0);

    TU_CONTEXT("a zero size");
    for (size_t z = 0; z < 3; z++) {
        size_t s[3] = {3, 4, 2};
        s[z] = 0;
        expect_create_fails(NN_EINVAL, &out, 3, s, ok, 0);
    }

    TU_CONTEXT("softmax on a hidden layer");
    const size_t s4[] = {3, 4, 4, 2};
    const nn_activation soft_first[] = {NN_SOFTMAX, NN_TANH, NN_SIGMOID};
    const nn_activation soft_mid[] = {NN_TANH, NN_SOFTMAX, NN_SOFTMAX};
    expect_create_fails(NN_EINVAL, &out, 4, s4, soft_first, 0);
    expect_create_fails(NN_EINVAL, &out, 4, s4, soft_mid, 0);

    TU_CONTEXT("unknown activation");
    const int bad_acts[] = {6, 7, -1, 1000, INT_MAX};
    for (size_t i = 0; i < TU_ARRAY_LEN(bad_acts); i++) {
        nn_activation hid[2] = {(nn_activation)bad_acts[i], NN_SIGMOID};
        nn_activation last[2] = {NN_TANH, (nn_activation)bad_acts[i]};
        expect_create_fails(NN_EINVAL, &out, 3, s3, hid, 0);
        expect_create_fails(NN_EINVAL, &out, 3, s3, last, 0);
    }

    TU_CONTEXT("unknown flag");
    const unsigned bad_flags[] = {2u, 4u, NN_NO_BIAS | 8u, 0x80000000u,
                                  ~0u};
    for (size_t i = 0; i < TU_ARRAY_LEN(bad_flags); i++)
        expect_create_fails(NN_EINVAL, &out, 3, s3, ok, bad_flags[i]);

    TU_CONTEXT("parameter count overflows");
    const size_t huge[] = {SIZE_MAX / 2, SIZE_MAX / 2};
    const size_t big[] = {(size_t)1 << 40, (size_t)1 << 40};
    const size_t wide[] = {1, SIZE_MAX};
    expect_create_fails(NN_ENOMEM, &out, 2, huge, ok, 0);
    expect_create_fails(NN_ENOMEM, &out, 2, big, ok, NN_NO_BIAS);
    expect_create_fails(NN_ENOMEM, &out, 2, wide, ok, 0);
    TU_CONTEXT_CLEAR();
}

static void test_clone_bad_input(void **state)
{
    (void)state;
    nn_net *net = tu_fixture(NN_SIGMOID);
    nn_net *out = (nn_net *)&out;
    EXPECT_FAIL(NN_EINVAL, nn_clone(NULL, &out));
    assert_null(out);
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_clone(net, NULL));
    nn_free(net);
}

/* ---------------------------------------------------------------------
 * The verbs, training and the read-only helpers
 * --------------------------------------------------------------------- */

/* Data for tu_fixture's {3, 5, 2} network: 4 samples, and a copy with one
 * non-finite value in the last sample. */
typedef struct io {
    float x[4 * 3], y[4 * 2], y_hat[4 * 2];
    float x_bad[4 * 3], y_bad[4 * 2];
} io;

static void io_init(io *d, float bad)
{
    tu_fill(d->x, 12, 1, -1, 1);
    tu_fill(d->y, 8, 2, 0.1, 0.9);
    memcpy(d->x_bad, d->x, sizeof d->x);
    memcpy(d->y_bad, d->y, sizeof d->y);
    d->x_bad[11] = bad;
    d->y_bad[7] = bad;
}

static const float non_finite[] = {NAN, INFINITY, -INFINITY};

/* Batches whose buffers cannot be addressed: batch * width * sizeof(float)
 * overflows size_t. */
static const size_t too_big[] = {SIZE_MAX / 2 + 1, SIZE_MAX};

static void test_forward_bad_input(void **state)
{
    (void)state;
    io d;
    nn_net *net;
    io_init(&d, NAN);
    EXPECT_FAIL(NN_EINVAL, nn_forward(NULL, d.x, 4, d.y_hat));
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_forward(net, NULL, 4, d.y_hat));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_forward(net, d.x, 4, NULL));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_forward(net, d.x, 0, d.y_hat));
    nn_free(net);
    for (size_t k = 0; k < TU_ARRAY_LEN(non_finite); k++) {
        io_init(&d, non_finite[k]);
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ENUMERIC, nn_forward(net, d.x_bad, 4, d.y_hat));
        nn_free(net);
    }
    for (size_t k = 0; k < TU_ARRAY_LEN(too_big); k++) {
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ESHAPE,
                        nn_forward(net, d.x, too_big[k], d.y_hat));
        nn_free(net);
    }
}

static void test_cost_bad_input(void **state)
{
    (void)state;
    io d;
    nn_net *net;
    double cost;
    io_init(&d, NAN);
    EXPECT_FAIL(NN_EINVAL, nn_cost(NULL, d.x, d.y, 4, &cost));
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_cost(net, NULL, d.y, 4, &cost));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_cost(net, d.x, NULL, 4, &cost));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_cost(net, d.x, d.y, 4, NULL));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_cost(net, d.x, d.y, 0, &cost));
    nn_free(net);
    for (size_t k = 0; k < TU_ARRAY_LEN(non_finite); k++) {
        io_init(&d, non_finite[k]);
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ENUMERIC, nn_cost(net, d.x_bad, d.y, 4, &cost));
        nn_free(net);
        net = tu_fixture(NN_SOFTMAX);
        EXPECT_NET_FAIL(net, NN_ENUMERIC, nn_cost(net, d.x, d.y_bad, 4, &cost));
        nn_free(net);
    }
    for (size_t k = 0; k < TU_ARRAY_LEN(too_big); k++) {
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ESHAPE,
                        nn_cost(net, d.x, d.y, too_big[k], &cost));
        nn_free(net);
    }
}

/* Long inputs are checked in parts on several threads (with oneDNN): a
 * non-finite value is found wherever it is, at either end of a part
 * included, and nothing else is taken for one. */
static void test_non_finite_found_anywhere_in_long_inputs(void **state)
{
    (void)state;
    enum { ROWS = 12001, N_IN = 3 }; /* 36 003 inputs */
    static const size_t at[] = {0,     1,     15,    16,   11999,
                                12000, 17999, 18000, 18001, ROWS * N_IN - 1};
    float *x = tu_floats(ROWS * N_IN), *y_hat = tu_floats(ROWS * 2);
    tu_fill(x, ROWS * N_IN, 3, -1, 1);
    nn_net *net = tu_fixture(NN_SIGMOID);
    ASSERT_OK(nn_forward(net, x, ROWS, y_hat));
    nn_free(net);
    for (size_t k = 0; k < TU_ARRAY_LEN(at); k++) {
        for (size_t b = 0; b < TU_ARRAY_LEN(non_finite); b++) {
            TU_CONTEXT("value %g at %zu", (double)non_finite[b], at[k]);
            float kept = x[at[k]];
            x[at[k]] = non_finite[b];
            net = tu_fixture(NN_SIGMOID);
            EXPECT_NET_FAIL(net, NN_ENUMERIC, nn_forward(net, x, ROWS, y_hat));
            nn_free(net);
            x[at[k]] = kept;
        }
    }
    TU_CONTEXT_CLEAR();
    free(x);
    free(y_hat);
}

/* After the failed call, nn_step refuses until a successful backprop. */
static void expect_step_refused(nn_net *net, const io *d)
{
    size_t n = nn_param_count(net);
    float *before = tu_copy_floats(nn_params(net), n);
    ASSERT_RC(nn_step(net), NN_ESTATE);
    ASSERT_RC(nn_step(net), NN_ESTATE);
    assert_memory_equal(nn_params(net), before, n * sizeof(float));
    assert_string_not_equal(nn_last_error(net), "");
    ASSERT_OK(nn_backprop(net, d->x, d->y, 4, NULL));
    ASSERT_OK(nn_step(net));
    free(before);
}

static void test_backprop_bad_input(void **state)
{
    (void)state;
    io d;
    nn_net *net;
    double cost;
    io_init(&d, NAN);
    EXPECT_FAIL(NN_EINVAL, nn_backprop(NULL, d.x, d.y, 4, &cost));

    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_backprop(net, NULL, d.y, 4, &cost));
    expect_step_refused(net, &d);
    nn_free(net);

    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_backprop(net, d.x, NULL, 4, &cost));
    expect_step_refused(net, &d);
    nn_free(net);

    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_backprop(net, d.x, d.y, 0, &cost));
    expect_step_refused(net, &d);
    nn_free(net);

    for (size_t k = 0; k < TU_ARRAY_LEN(non_finite); k++) {
        io_init(&d, non_finite[k]);
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ENUMERIC,
                        nn_backprop(net, d.x_bad, d.y, 4, &cost));
        expect_step_refused(net, &d);
        nn_free(net);
        net = tu_fixture(NN_SOFTMAX);
        EXPECT_NET_FAIL(net, NN_ENUMERIC,
                        nn_backprop(net, d.x, d.y_bad, 4, NULL));
        expect_step_refused(net, &d);
        nn_free(net);
    }
    for (size_t k = 0; k < TU_ARRAY_LEN(too_big); k++) {
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ESHAPE,
                        nn_backprop(net, d.x, d.y, too_big[k], &cost));
        expect_step_refused(net, &d);
        nn_free(net);
    }
}

static void test_step_out_of_order(void **state)
{
    (void)state;
    static const size_t sizes[] = {3, 5, 2};
    static const nn_activation acts[] = {NN_TANH, NN_SIGMOID};
    io d;
    io_init(&d, NAN);
    EXPECT_FAIL(NN_EINVAL, nn_step(NULL));

    /* before any backprop, whatever the optimizer */
    for (int opt = NN_SGD; opt <= NN_RMSPROP; opt++) {
        nn_net *net = tu_create(3, sizes, acts, 0, 1);
        ASSERT_OK(nn_set(net, NN_OPT_OPTIMIZER, opt));
        TU_CONTEXT("optimizer %d", opt);
        EXPECT_NET_FAIL(net, NN_ESTATE, nn_step(net));
        nn_free(net);
    }
    TU_CONTEXT_CLEAR();

    /* forward and cost are not backprop */
    nn_net *net = tu_create(3, sizes, acts, 0, 1);
    double cost;
    ASSERT_OK(nn_forward(net, d.x, 4, d.y_hat));
    ASSERT_OK(nn_cost(net, d.x, d.y, 4, &cost));
    EXPECT_NET_FAIL(net, NN_ESTATE, nn_step(net));
    nn_free(net);

    /* nor are failed gradchecks */
    net = tu_create(3, sizes, acts, 0, 1);
    ASSERT_RC(nn_gradcheck(net, d.x_bad, d.y, 4, &cost), NN_ENUMERIC);
    ASSERT_RC(nn_step(net), NN_ESTATE);
    nn_free(net);
}

static void test_train_bad_input(void **state)
{
    (void)state;
    io d;
    nn_net *net;
    io_init(&d, NAN);
    EXPECT_FAIL(NN_EINVAL, nn_train(NULL, d.x, d.y, 4, 1, NULL, NULL));
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_train(net, NULL, d.y, 4, 1, NULL, NULL));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_train(net, d.x, NULL, 4, 1, NULL, NULL));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_train(net, d.x, d.y, 0, 1, NULL, NULL));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_train(net, d.x, d.y, 4, 0, NULL, NULL));
    nn_free(net);
    for (size_t k = 0; k < TU_ARRAY_LEN(non_finite); k++) {
        io_init(&d, non_finite[k]);
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ENUMERIC,
                        nn_train(net, d.x_bad, d.y, 4, 1, NULL, NULL));
        nn_free(net);
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ENUMERIC,
                        nn_train(net, d.x, d.y_bad, 4, 1, NULL, NULL));
        nn_free(net);
    }
    for (size_t k = 0; k < TU_ARRAY_LEN(too_big); k++) {
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ESHAPE,
                        nn_train(net, d.x, d.y, too_big[k], 1, NULL, NULL));
        nn_free(net);
    }
}

static void test_predict_bad_input(void **state)
{
    (void)state;
    io d;
    io_init(&d, NAN);
    nn_net *net;
    EXPECT_FAIL(NN_EINVAL, nn_predict(NULL, d.x, 4, d.y_hat));
    net = tu_fixture(NN_SIGMOID);
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_predict(net, NULL, 4, d.y_hat));
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_predict(net, d.x, 4, NULL));
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_predict(net, d.x, 0, d.y_hat));
    for (size_t k = 0; k < TU_ARRAY_LEN(non_finite); k++) {
        io_init(&d, non_finite[k]);
        EXPECT_CONST_FAIL(net, NN_ENUMERIC,
                          nn_predict(net, d.x_bad, 4, d.y_hat));
    }
    for (size_t k = 0; k < TU_ARRAY_LEN(too_big); k++)
        EXPECT_CONST_FAIL(net, NN_ESHAPE,
                          nn_predict(net, d.x, too_big[k], d.y_hat));
    nn_free(net);
}

static void test_evaluate_bad_input(void **state)
{
    (void)state;
    io d;
    io_init(&d, NAN);
    double cost, acc;
    nn_net *net;
    EXPECT_FAIL(NN_EINVAL, nn_evaluate(NULL, d.x, d.y, 4, &cost, &acc));
    net = tu_fixture(NN_SIGMOID);
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_evaluate(net, NULL, d.y, 4, &cost,
                                                  &acc));
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_evaluate(net, d.x, NULL, 4, &cost,
                                                  &acc));
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_evaluate(net, d.x, d.y, 0, &cost,
                                                  &acc));
    for (size_t k = 0; k < TU_ARRAY_LEN(non_finite); k++) {
        io_init(&d, non_finite[k]);
        EXPECT_CONST_FAIL(net, NN_ENUMERIC,
                          nn_evaluate(net, d.x_bad, d.y, 4, &cost, &acc));
        EXPECT_CONST_FAIL(net, NN_ENUMERIC,
                          nn_evaluate(net, d.x, d.y_bad, 4, &cost, NULL));
        EXPECT_CONST_FAIL(net, NN_ENUMERIC,
                          nn_evaluate(net, d.x, d.y_bad, 4, NULL, &acc));
    }
    for (size_t k = 0; k < TU_ARRAY_LEN(too_big); k++)
        EXPECT_CONST_FAIL(net, NN_ESHAPE, nn_evaluate(net, d.x, d.y,
                                                      too_big[k], &cost, &acc));
    nn_free(net);
}

static void test_gradcheck_bad_input(void **state)
{
    (void)state;
    io d;
    io_init(&d, NAN);
    double err;
    nn_net *net;
    EXPECT_FAIL(NN_EINVAL, nn_gradcheck(NULL, d.x, d.y, 4, &err));
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_gradcheck(net, NULL, d.y, 4, &err));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_gradcheck(net, d.x, NULL, 4, &err));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_gradcheck(net, d.x, d.y, 4, NULL));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_gradcheck(net, d.x, d.y, 0, &err));
    nn_free(net);
    for (size_t k = 0; k < TU_ARRAY_LEN(non_finite); k++) {
        io_init(&d, non_finite[k]);
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ENUMERIC,
                        nn_gradcheck(net, d.x_bad, d.y, 4, &err));
        nn_free(net);
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ENUMERIC,
                        nn_gradcheck(net, d.x, d.y_bad, 4, &err));
        nn_free(net);
    }
    for (size_t k = 0; k < TU_ARRAY_LEN(too_big); k++) {
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ESHAPE,
                        nn_gradcheck(net, d.x, d.y, too_big[k], &err));
        nn_free(net);
    }
}

static void test_fit_bad_input(void **state)
{
    (void)state;
    io d, v;
    nn_net *net;
    io_init(&d, NAN);
    io_init(&v, NAN);
    EXPECT_FAIL(NN_EINVAL, nn_fit(NULL, d.x, d.y, 4, v.x, v.y, 4, 1, NULL,
                                  NULL, NULL));
#define FIT_FAILS(want, ...)                                                   \
    do {                                                                       \
        net = tu_fixture(NN_SIGMOID);                                          \
        EXPECT_NET_FAIL(net, want, nn_fit(net, __VA_ARGS__, NULL, NULL, NULL)); \
        nn_free(net);                                                          \
    } while (0)
    FIT_FAILS(NN_EINVAL, NULL, d.y, 4, v.x, v.y, 4, 1);
    FIT_FAILS(NN_EINVAL, d.x, NULL, 4, v.x, v.y, 4, 1);
    FIT_FAILS(NN_EINVAL, d.x, d.y, 0, v.x, v.y, 4, 1);
    FIT_FAILS(NN_EINVAL, d.x, d.y, 4, v.x, v.y, 4, 0);
    FIT_FAILS(NN_EINVAL, d.x, d.y, 4, NULL, v.y, 4, 1);
    FIT_FAILS(NN_EINVAL, d.x, d.y, 4, v.x, NULL, 4, 1);
    for (size_t k = 0; k < TU_ARRAY_LEN(non_finite); k++) {
        io_init(&d, non_finite[k]);
        io_init(&v, non_finite[k]);
        FIT_FAILS(NN_ENUMERIC, d.x_bad, d.y, 4, v.x, v.y, 4, 1);
        FIT_FAILS(NN_ENUMERIC, d.x, d.y_bad, 4, NULL, NULL, 0, 1);
        FIT_FAILS(NN_ENUMERIC, d.x, d.y, 4, v.x_bad, v.y, 4, 1);
        FIT_FAILS(NN_ENUMERIC, d.x, d.y, 4, v.x, v.y_bad, 4, 1);
    }
    for (size_t k = 0; k < TU_ARRAY_LEN(too_big); k++) {
        FIT_FAILS(NN_ESHAPE, d.x, d.y, too_big[k], NULL, NULL, 0, 1);
        FIT_FAILS(NN_ESHAPE, d.x, d.y, 4, v.x, v.y, too_big[k], 1);
    }
#undef FIT_FAILS
}

static void test_history_bad_input(void **state)
{
    (void)state;
    double out[4];
    nn_net *net = tu_fixture(NN_SIGMOID);
    assert_int_equal(nn_history_len(NULL), 0);
    EXPECT_FAIL(NN_EINVAL, nn_history(NULL, NN_HIST_TRAIN_LOSS, out, 4));
    EXPECT_CONST_FAIL(net, NN_EINVAL,
                      nn_history(net, NN_HIST_TRAIN_LOSS, NULL, 4));
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_history(net, -1, out, 4));
    EXPECT_CONST_FAIL(net, NN_EINVAL,
                      nn_history(net, NN_HIST_LEARNING_RATE + 1, out, 4));
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_history(net, INT_MAX, out, 4));
    nn_free(net);
}

static void test_input_transform_bad_input(void **state)
{
    (void)state;
    float shift[3] = {0.5f, -1, 2}, scale[3] = {1, 2, 0.5f};
    float bad_shift[3], bad_scale[3], t[3];
    io d;
    nn_net *net;
    io_init(&d, NAN);

    EXPECT_FAIL(NN_EINVAL, nn_set_input_transform(NULL, shift, scale));
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_set_input_transform(net, shift, NULL));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_set_input_transform(net, NULL, scale));
    nn_free(net);
    for (size_t k = 0; k < TU_ARRAY_LEN(non_finite); k++) {
        memcpy(bad_shift, shift, sizeof shift);
        memcpy(bad_scale, scale, sizeof scale);
        bad_shift[2] = non_finite[k];
        bad_scale[1] = non_finite[k];
        net = tu_fixture(NN_SIGMOID);
        /* over an existing transform, which must survive */
        ASSERT_OK(nn_set_input_transform(net, shift, scale));
        EXPECT_NET_FAIL(net, NN_ENUMERIC,
                        nn_set_input_transform(net, bad_shift, scale));
        nn_free(net);
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ENUMERIC,
                        nn_set_input_transform(net, shift, bad_scale));
        nn_free(net);
    }

    EXPECT_FAIL(NN_EINVAL, nn_standardize_inputs(NULL, d.x, 4));
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_standardize_inputs(net, NULL, 4));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_standardize_inputs(net, d.x, 0));
    nn_free(net);
    for (size_t k = 0; k < TU_ARRAY_LEN(non_finite); k++) {
        io_init(&d, non_finite[k]);
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ENUMERIC, nn_standardize_inputs(net, d.x_bad,
                                                                4));
        nn_free(net);
    }
    for (size_t k = 0; k < TU_ARRAY_LEN(too_big); k++) {
        net = tu_fixture(NN_SIGMOID);
        EXPECT_NET_FAIL(net, NN_ESHAPE,
                        nn_standardize_inputs(net, d.x, too_big[k]));
        nn_free(net);
    }

    EXPECT_FAIL(NN_EINVAL, nn_get_input_transform(NULL, t, t));
}

/* ---------------------------------------------------------------------
 * Parameters, persistence
 * --------------------------------------------------------------------- */

static void test_layer_params_bad_input(void **state)
{
    (void)state;
    float *w, *b;
    nn_net *net;
    EXPECT_FAIL(NN_EINVAL, nn_layer_params(NULL, 0, &w, &b));
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_layer_params(net, 0, NULL, NULL));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID); /* two weight layers: 0 and 1 */
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_layer_params(net, 2, &w, &b));
    nn_free(net);
    net = tu_fixture(NN_SIGMOID);
    EXPECT_NET_FAIL(net, NN_EINVAL, nn_layer_params(net, SIZE_MAX, &w, NULL));
    nn_free(net);
}

/* Only the arguments here: test_persist.c owns the formats. */
static void test_persistence_bad_input(void **state)
{
    (void)state;
    nn_net *net = tu_fixture(NN_SIGMOID);
    nn_net *out;
    char buf[16];
    size_t len;

    EXPECT_FAIL(NN_EINVAL, nn_save(NULL, "unused.nn"));
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_save(net, NULL));
    EXPECT_FAIL(NN_EINVAL, nn_save_buffer(NULL, buf, sizeof buf, &len));
    EXPECT_CONST_FAIL(net, NN_EINVAL, nn_save_buffer(net, buf, sizeof buf,
                                                     NULL));
    EXPECT_FAIL(NN_EINVAL, nn_load(NULL, "unused.nn"));
    out = (nn_net *)&out;
    EXPECT_FAIL(NN_EINVAL, nn_load(&out, NULL));
    assert_null(out);
    EXPECT_FAIL(NN_EINVAL, nn_load_buffer(NULL, buf, sizeof buf));
    out = (nn_net *)&out;
    EXPECT_FAIL(NN_EINVAL, nn_load_buffer(&out, NULL, 16));
    assert_null(out);
    nn_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_names_and_texts),
        cmocka_unit_test(test_versions),
        /* before any test below fails a call in the main thread */
        cmocka_unit_test(test_thread_slot_per_function),
        cmocka_unit_test(test_thread_slots_are_isolated),
        cmocka_unit_test(test_handle_slot),
        cmocka_unit_test(test_create_bad_input),
        cmocka_unit_test(test_clone_bad_input),
        cmocka_unit_test(test_forward_bad_input),
        cmocka_unit_test(test_cost_bad_input),
        cmocka_unit_test(test_non_finite_found_anywhere_in_long_inputs),
        cmocka_unit_test(test_backprop_bad_input),
        cmocka_unit_test(test_step_out_of_order),
        cmocka_unit_test(test_train_bad_input),
        cmocka_unit_test(test_predict_bad_input),
        cmocka_unit_test(test_evaluate_bad_input),
        cmocka_unit_test(test_gradcheck_bad_input),
        cmocka_unit_test(test_fit_bad_input),
        cmocka_unit_test(test_history_bad_input),
        cmocka_unit_test(test_input_transform_bad_input),
        cmocka_unit_test(test_layer_params_bad_input),
        cmocka_unit_test(test_persistence_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
