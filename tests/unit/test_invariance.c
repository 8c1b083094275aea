/* SPDX-License-Identifier: MIT */
/*
 * Batch invariance (nn.h): a sample's outputs from nn_forward, nn_predict
 * and nn_evaluate are the same bits whichever batch computes them: alone,
 * in any subset, at any position, in any batch size, and in nn_predict's
 * and nn_evaluate's chunks, and at any thread count (an inference pass is
 * split between threads by rows). Compared libnn with itself, bit for bit, over
 * networks of many shapes and every activation, with and without biases
 * and the input transform. scripts/hardening's 'kernels' check runs it
 * again under each OpenBLAS core type the CPU can execute.
 */
#include "testutil.h"

enum { N = 300 }; /* more than nn_predict's 256-row chunks */

typedef struct shape {
    size_t n_sizes, sizes[5];
    nn_activation acts[4];
    unsigned flags;
    int transform;
} shape;

static const shape shapes[] = {
    {3, {2, 3, 1}, {NN_SIGMOID, NN_SIGMOID}, NN_NO_BIAS, 0},
    {4, {784, 64, 32, 10}, {NN_RELU, NN_RELU, NN_SOFTMAX}, 0, 1},
    {3, {20, 33, 3}, {NN_TANH, NN_SOFTMAX}, 0, 0},
    {4, {7, 17, 16, 1}, {NN_LEAKY_RELU, NN_SIGMOID, NN_IDENTITY}, 0, 1},
    {3, {64, 1000, 5}, {NN_RELU, NN_IDENTITY}, NN_NO_BIAS, 0},
    {5, {5, 40, 40, 40, 7}, {NN_TANH, NN_RELU, NN_LEAKY_RELU, NN_SIGMOID}, 0,
     0},
    {2, {300, 9}, {NN_SOFTMAX}, 0, 1},
};

static nn_net *make(const shape *s, float **x)
{
    nn_net *net = tu_create(s->n_sizes, s->sizes, s->acts, s->flags, 11);
    size_t n_in = s->sizes[0];
    *x = tu_floats(N * n_in);
    tu_fill(*x, N * n_in, 5, -2.0, 2.0);
    if (s->transform)
        ASSERT_OK(nn_standardize_inputs(net, *x, N));
    return net;
}

/* Every sample alone, then windows of several sizes at shifting positions,
 * against the outputs of all N samples in one call. `run` is nn_forward or
 * nn_predict through a small adapter. */
typedef int (*pass_fn)(nn_net *net, const float *x, size_t n, float *y);

static int via_forward(nn_net *net, const float *x, size_t n, float *y)
{
    return nn_forward(net, x, n, y);
}

static int via_predict(nn_net *net, const float *x, size_t n, float *y)
{
    return nn_predict(net, x, n, y);
}

static void check_invariant(nn_net *net, const float *x, pass_fn run,
                            const char *name)
{
    size_t n_in = nn_layer_size(net, 0), n_out = tu_n_out(net);
    float *all = tu_floats(N * n_out), *part = tu_floats(N * n_out);
    ASSERT_OK(run(net, x, N, all));
    for (size_t i = 0; i < N; i++) {
        ASSERT_OK(run(net, x + i * n_in, 1, part));
        if (memcmp(part, all + i * n_out, n_out * sizeof *part) != 0)
            TU_FAIL("%s: sample %zu alone differs from the batch of %d",
                    name, i, N);
    }
    const size_t windows[] = {2, 3, 5, 8, 13, 64, 257};
    for (size_t w = 0; w < TU_ARRAY_LEN(windows); w++)
        for (size_t start = 0; start + windows[w] <= N; start += 37) {
            ASSERT_OK(run(net, x + start * n_in, windows[w], part));
            if (memcmp(part, all + start * n_out,
                       windows[w] * n_out * sizeof *part) != 0)
                TU_FAIL("%s: rows %zu..%zu as a batch of %zu differ", name,
                        start, start + windows[w] - 1, windows[w]);
        }
    free(all);
    free(part);
}

/* The outputs of all N samples on 1, 2, 3 and 5 threads against those of
 * the default count. The threads share out the rows of nn_predict's
 * 256-row scratch (128 each on 2 threads; 80, 80 and 96 on 3; 48 and 64
 * on 5) and take the batch's rows through it that many at a time, in
 * whatever order they come: every split of the N rows must give the same
 * bits. */
static void check_thread_counts(nn_net *net, const float *x, pass_fn run,
                                const char *name)
{
    size_t n_out = tu_n_out(net);
    float *ref = tu_floats(N * n_out), *got = tu_floats(N * n_out);
    ASSERT_OK(run(net, x, N, ref));
    static const int counts[] = {1, 2, 3, 5};
    for (size_t c = 0; c < TU_ARRAY_LEN(counts); c++) {
        int threads = counts[c];
        ASSERT_OK(nn_set(net, NN_OPT_THREADS, threads));
        ASSERT_OK(run(net, x, N, got));
        if (memcmp(got, ref, N * n_out * sizeof *got) != 0)
            TU_FAIL("%s: %d threads change the outputs", name, threads);
    }
    ASSERT_OK(nn_set(net, NN_OPT_THREADS, 0));
    free(ref);
    free(got);
}

static void test_forward_and_predict(void **state)
{
    (void)state;
    for (size_t k = 0; k < TU_ARRAY_LEN(shapes); k++) {
        float *x;
        nn_net *net = make(&shapes[k], &x);
        TU_CONTEXT("shape %zu", k);
        check_invariant(net, x, via_forward, "nn_forward");
        check_invariant(net, x, via_predict, "nn_predict");
        check_thread_counts(net, x, via_forward, "nn_forward");
        check_thread_counts(net, x, via_predict, "nn_predict");
        /* and the two agree with each other */
        size_t n_out = tu_n_out(net);
        float *a = tu_floats(N * n_out), *b = tu_floats(N * n_out);
        ASSERT_OK(nn_forward(net, x, N, a));
        ASSERT_OK(nn_predict(net, x, N, b));
        assert_memory_equal(a, b, N * n_out * sizeof *a);
        free(a);
        free(b);
        free(x);
        nn_free(net);
    }
    TU_CONTEXT_CLEAR();
}

/* nn_evaluate's cost and accuracy from all N samples equal the sums of
 * the per-sample results it is built from: each sample evaluated alone,
 * in double, in the same order, is what nn_evaluate adds up. */
static void test_evaluate(void **state)
{
    (void)state;
    const shape *s = &shapes[1];
    float *x;
    nn_net *net = make(s, &x);
    size_t n_in = s->sizes[0], n_out = tu_n_out(net);
    float *y = tu_floats(N * n_out);
    tu_fill_onehot(y, N, n_out, 9);
    double cost_all, acc_all;
    ASSERT_OK(nn_evaluate(net, x, y, N, &cost_all, &acc_all));
    double sum = 0, correct = 0;
    for (size_t i = 0; i < N; i++) {
        double c, a;
        ASSERT_OK(nn_evaluate(net, x + i * n_in, y + i * n_out, 1, &c, &a));
        sum += c;
        correct += a;
    }
    /* per-sample losses identical, so the only difference is the order of
     * the double sums: far below float32 rounding */
    ASSERT_CLOSE(cost_all, sum / N, 1e-12, 0);
    assert_true(acc_all == correct / N);
    /* and a sample's loss does not depend on the rows evaluated with it */
    for (size_t i = 0; i + 10 <= N; i += 29) {
        double c_window, c_alone_sum = 0, c, a;
        ASSERT_OK(nn_evaluate(net, x + i * n_in, y + i * n_out, 10,
                              &c_window, &a));
        for (size_t j = i; j < i + 10; j++) {
            ASSERT_OK(nn_evaluate(net, x + j * n_in, y + j * n_out, 1, &c,
                                  &a));
            c_alone_sum += c;
        }
        ASSERT_CLOSE(c_window, c_alone_sum / 10, 1e-12, 0);
    }
    free(y);
    free(x);
    nn_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_and_predict),
        cmocka_unit_test(test_evaluate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
