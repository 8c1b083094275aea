/* SPDX-License-Identifier: MIT */
/*
 * Gradients of nn_backprop against central finite differences computed
 * here, in double, over this file's own forward pass on nn_params - for
 * every allowed activation x loss combination (hidden layers identity,
 * sigmoid, tanh, ReLU, leaky ReLU; last layer any of them with MSE, softmax
 * with MSE and with cross-entropy, sigmoid with binary cross-entropy), with
 * and without biases, 1, 2 and 3 weight layers, batches of 1, 3 and 17 -
 * and against nn_gradcheck, whose own contract (parameters restored,
 * gradients left as nn_backprop's) is checked too. Inputs are drawn so that
 * no ReLU pre-activation sits within 0.01 of its kink. A wide network on
 * three threads, whose weight gradients are computed in blocks of rows
 * (with oneDNN), is checked on a sample of its parameters.
 */
#include "testutil.h"

static const nn_activation hidden[] = {NN_IDENTITY, NN_SIGMOID, NN_TANH,
                                       NN_RELU, NN_LEAKY_RELU};

typedef struct head {
    nn_activation act;
    int loss;
} head;

static const head heads[] = {
    {NN_IDENTITY, NN_LOSS_MSE},
    {NN_SIGMOID, NN_LOSS_MSE},
    {NN_TANH, NN_LOSS_MSE},
    {NN_RELU, NN_LOSS_MSE},
    {NN_LEAKY_RELU, NN_LOSS_MSE},
    {NN_SOFTMAX, NN_LOSS_MSE},
    {NN_SOFTMAX, NN_LOSS_CROSS_ENTROPY},
    {NN_SIGMOID, NN_LOSS_BINARY_CROSS_ENTROPY},
};

static const size_t batches[] = {1, 3, 17};

/* Layer widths by depth (number of weight layers). */
static const size_t widths[4][4] = {{0}, {3, 3}, {3, 4, 3}, {3, 4, 5, 3}};

/* Statistics over the whole run, printed at the end of each test. */
static double worst_fd, worst_gc;

/*
 * |analytic - numeric| within 1e-3 relative, plus 2e-5 of the largest
 * gradient component of the case for float32 rounding where terms cancel.
 * A wrong derivative, a lost 1/N or a missing term is off by far more.
 */
static void compare_gradients(const float *got, const double *fd, size_t n)
{
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(fd[i]));
    for (size_t i = 0; i < n; i++) {
        double err = fabs(got[i] - fd[i]) / (2e-5 * scale + 1e-9 +
                                             1e-3 * fabs(fd[i]));
        worst_fd = fmax(worst_fd, err);
        if (!(err <= 1.0))
            TU_FAIL("dJ/dtheta[%zu] = %.9g, finite differences %.9g "
                    "(largest component %.3g)",
                    i, (double)got[i], fd[i], scale);
    }
}

static void check_case(size_t depth, const nn_activation *acts, int loss,
                       unsigned flags, size_t batch, uint64_t seed)
{
    const size_t *sizes = widths[depth];
    size_t n_in = sizes[0], n_out = sizes[depth];
    nn_net *net = tu_create(depth + 1, sizes, acts, flags, seed);
    ASSERT_OK(nn_set(net, NN_OPT_LOSS, loss));
    ref_net ref;
    ref_init(&ref, depth + 1, sizes, acts, flags, loss);
    size_t n = nn_param_count(net);
    assert_int_equal(n, ref.n_params);

    /* non-zero biases, so that their gradients and effect are exercised */
    if (!(flags & NN_NO_BIAS)) {
        for (size_t l = 0; l < depth; l++) {
            float *b;
            ASSERT_OK(nn_layer_params(net, l, NULL, &b));
            tu_fill(b, sizes[l + 1], seed ^ 0xB1A5, -0.3, 0.3);
        }
    }
    double *p = tu_to_double(nn_params(net), n);

    float *x = tu_floats(batch * n_in), *y = tu_floats(batch * n_out);
    /* each row drawn until its ReLU units are clear of the kink */
    for (size_t s = 0; s < batch; s++) {
        double row[8], kink = 0;
        for (uint64_t attempt = 0; kink < 0.01; attempt++) {
            if (attempt == 1000)
                TU_FAIL("no input keeps ReLU units away from their kink");
            tu_fill(x + s * n_in, n_in, (seed * 1000 + s) * 1000 + attempt,
                    -1.5, 1.5);
            for (size_t i = 0; i < n_in; i++)
                row[i] = x[s * n_in + i];
            ref_forward_full(&ref, p, row, 1, NULL, NULL, &kink);
        }
    }
    double *xd = tu_to_double(x, batch * n_in);
    /* cross-entropy targets are probabilities, but for batches of 3, whose
     * rows do not sum to one: the loss is defined for those too */
    if (loss == NN_LOSS_CROSS_ENTROPY && batch != 3)
        tu_fill_probs(y, batch, n_out, seed + 7);
    else
        tu_fill(y, batch * n_out, seed + 7, 0, 1);
    double *yd = tu_to_double(y, batch * n_out);

    double cost = NAN, want_cost = ref_cost(&ref, p, xd, yd, batch);
    ASSERT_OK(nn_backprop(net, x, y, batch, &cost));
    ASSERT_CLOSE(cost, want_cost, 1e-5, 1e-7);

    double *fd = tu_doubles(n);
    ref_fd_grad(&ref, p, xd, yd, batch, fd);
    compare_gradients(nn_grads(net), fd, n);

    double err = NAN;
    ASSERT_OK(nn_gradcheck(net, x, y, batch, &err));
    worst_gc = fmax(worst_gc, err);
    if (!(err >= 0 && err < 1e-2))
        TU_FAIL("nn_gradcheck reports %g", err);

    free(p);
    free(x);
    free(y);
    free(xd);
    free(yd);
    free(fd);
    nn_free(net);
}

/* Every combination for one depth. */
static void check_depth(size_t depth)
{
    size_t n_hidden = depth - 1, combos = 1, cases = 0;
    for (size_t i = 0; i < n_hidden; i++)
        combos *= TU_ARRAY_LEN(hidden);
    worst_fd = worst_gc = 0;
    for (size_t c = 0; c < combos; c++) {
        nn_activation acts[3];
        for (size_t i = 0, k = c; i < n_hidden; i++, k /= TU_ARRAY_LEN(hidden))
            acts[i] = hidden[k % TU_ARRAY_LEN(hidden)];
        for (size_t h = 0; h < TU_ARRAY_LEN(heads); h++) {
            acts[depth - 1] = heads[h].act;
            for (unsigned flags = 0; flags <= NN_NO_BIAS; flags++) {
                for (size_t b = 0; b < TU_ARRAY_LEN(batches); b++) {
                    TU_CONTEXT("depth %zu, activations %d %d %d, loss %d, "
                               "flags %u, batch %zu",
                               depth, (int)acts[0],
                               depth > 1 ? (int)acts[1] : -1,
                               depth > 2 ? (int)acts[2] : -1, heads[h].loss,
                               flags, batches[b]);
                    check_case(depth, acts, heads[h].loss, flags, batches[b],
                               1 + cases++);
                }
            }
        }
    }
    TU_CONTEXT_CLEAR();
    print_message("depth %zu: %zu cases, worst error / tolerance %.3f, "
                  "worst nn_gradcheck %.3g\n",
                  depth, cases, worst_fd, worst_gc);
}

static void test_one_layer(void **state)
{
    (void)state;
    check_depth(1);
}

static void test_two_layers(void **state)
{
    (void)state;
    check_depth(2);
}

static void test_three_layers(void **state)
{
    (void)state;
    check_depth(3);
}

/* A network wide enough that its weight gradients are split by rows over
 * the threads: every 7th parameter against central differences, with
 * three threads, so that the parts end between cache lines. */
static void test_wide_network_on_three_threads(void **state)
{
    (void)state;
    enum { BATCH = 9, STRIDE = 7 };
    static const size_t sizes[] = {4, 2600, 3};
    static const nn_activation acts[] = {NN_TANH, NN_SOFTMAX};
    nn_net *net = tu_create(3, sizes, acts, 0, 77);
    ASSERT_OK(nn_set(net, NN_OPT_LOSS, NN_LOSS_CROSS_ENTROPY));
    ASSERT_OK(nn_set(net, NN_OPT_THREADS, 3));
    ref_net ref;
    ref_init(&ref, 3, sizes, acts, 0, NN_LOSS_CROSS_ENTROPY);
    size_t n = nn_param_count(net);
    assert_int_equal(n, ref.n_params);
    float x[BATCH * 4], y[BATCH * 3];
    tu_fill(x, BATCH * 4, 78, -1.5, 1.5);
    tu_fill_probs(y, BATCH, 3, 79);
    double *p = tu_to_double(nn_params(net), n);
    double *xd = tu_to_double(x, BATCH * 4), *yd = tu_to_double(y, BATCH * 3);
    ASSERT_OK(nn_backprop(net, x, y, BATCH, NULL));
    ASSERT_OK(nn_set(net, NN_OPT_THREADS, 0));

    size_t m = (n + STRIDE - 1) / STRIDE;
    float *got = tu_floats(m);
    double *fd = tu_doubles(m);
    for (size_t k = 0; k < m; k++) {
        size_t i = k * STRIDE;
        double h = 1e-6 * fmax(1.0, fabs(p[i])), keep = p[i];
        p[i] = keep + h;
        double up = ref_cost(&ref, p, xd, yd, BATCH);
        p[i] = keep - h;
        double down = ref_cost(&ref, p, xd, yd, BATCH);
        p[i] = keep;
        fd[k] = (up - down) / (2 * h);
        got[k] = nn_grads(net)[i];
    }
    compare_gradients(got, fd, m);
    free(got);
    free(fd);
    free(p);
    free(xd);
    free(yd);
    nn_free(net);
}

/* nn_gradcheck restores every parameter, leaves nn_backprop's gradients of
 * this batch, and nn_step may follow. */
static void test_gradcheck_contract(void **state)
{
    (void)state;
    const size_t sizes[] = {4, 6, 3};
    const nn_activation acts[] = {NN_TANH, NN_SOFTMAX};
    nn_net *net = tu_create(3, sizes, acts, 0, 17);
    ASSERT_OK(nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM));
    size_t n = nn_param_count(net);
    float x[5 * 4], y[5 * 3];
    tu_fill(x, 5 * 4, 1, -1, 1);
    tu_fill_onehot(y, 5, 3, 2);
    /* gradients of another batch first, so that stale ones would show */
    ASSERT_OK(nn_backprop(net, x, y, 2, NULL));

    nn_net *twin = tu_clone(net);
    float *before = tu_copy_floats(nn_params(net), n);
    double err = NAN;
    ASSERT_OK(nn_gradcheck(net, x, y, 5, &err));
    assert_true(err >= 0 && err < 1e-2);
    assert_memory_equal(nn_params(net), before, n * sizeof(float));

    ASSERT_OK(nn_backprop(twin, x, y, 5, NULL));
    assert_memory_equal(nn_grads(net), nn_grads(twin), n * sizeof(float));
    ASSERT_OK(nn_step(net));
    ASSERT_OK(nn_step(twin));
    assert_memory_equal(nn_params(net), nn_params(twin), n * sizeof(float));

    /* also as the very first call on a handle: nn_step may follow */
    nn_net *fresh = tu_create(3, sizes, acts, 0, 18);
    ASSERT_OK(nn_gradcheck(fresh, x, y, 5, &err));
    ASSERT_OK(nn_step(fresh));
    free(before);
    nn_free(net);
    nn_free(twin);
    nn_free(fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_layer),
        cmocka_unit_test(test_two_layers),
        cmocka_unit_test(test_three_layers),
        cmocka_unit_test(test_gradcheck_contract),
        cmocka_unit_test(test_wide_network_on_three_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
