/* SPDX-License-Identifier: MIT */
/*
 * The four verbs and the read-only helpers against a double-precision
 * reference: nn_forward / nn_predict for every activation, with and without
 * bias, batches from 1 to 1000 (past nn_predict's 256-row chunks) and
 * growing; nn_cost / nn_backprop / nn_evaluate costs for every loss,
 * saturated cross-entropies staying finite; gradients overwritten, not
 * accumulated; nn_evaluate's accuracy recomputed independently (arg-max,
 * ties to the lowest index, the 0.5 threshold for one output), and the same
 * rule as nn_predicted_classes / nn_count_correct; eight threads calling
 * nn_predict and nn_evaluate on one handle at once.
 */
#include "testutil.h"

#include <float.h>
#include <pthread.h>

#define RTOL 1e-5
#define ATOL 1e-6

/* A network with random biases (not the zero of nn_create) and its
 * reference twin. */
typedef struct pair {
    nn_net *net;
    ref_net ref;
    double *p; /* nn_params as double */
} pair;

static pair make_pair(size_t n_sizes, const size_t *sizes,
                      const nn_activation *acts, unsigned flags, int loss,
                      uint64_t seed)
{
    pair P;
    P.net = tu_create(n_sizes, sizes, acts, flags, seed);
    ref_init(&P.ref, n_sizes, sizes, acts, flags, loss);
    assert_int_equal(nn_param_count(P.net), P.ref.n_params);
    if (!(flags & NN_NO_BIAS)) {
        for (size_t l = 0; l + 1 < n_sizes; l++) {
            float *b;
            ASSERT_OK(nn_layer_params(P.net, l, NULL, &b));
            tu_fill(b, sizes[l + 1], seed + 100 + l, -0.5, 0.5);
        }
    }
    ASSERT_OK(nn_set(P.net, NN_OPT_LOSS, loss));
    P.p = tu_to_double(nn_params(P.net), P.ref.n_params);
    return P;
}

static void free_pair(pair *P)
{
    nn_free(P->net);
    free(P->p);
}

typedef struct arch {
    size_t n;
    size_t sizes[4];
    nn_activation acts[3];
} arch;

static const arch archs[] = {
    {2, {3, 4}, {NN_IDENTITY}},
    {2, {3, 4}, {NN_SIGMOID}},
    {2, {3, 4}, {NN_TANH}},
    {2, {3, 4}, {NN_RELU}},
    {2, {3, 4}, {NN_SOFTMAX}},
    {2, {3, 4}, {NN_LEAKY_RELU}},
    {4, {3, 5, 4, 2}, {NN_RELU, NN_TANH, NN_SOFTMAX}},
    {4, {3, 5, 4, 2}, {NN_SIGMOID, NN_LEAKY_RELU, NN_IDENTITY}},
    {4, {3, 5, 4, 2}, {NN_IDENTITY, NN_RELU, NN_SIGMOID}},
    {4, {3, 5, 4, 2}, {NN_TANH, NN_SIGMOID, NN_LEAKY_RELU}},
    {4, {3, 5, 4, 2}, {NN_LEAKY_RELU, NN_IDENTITY, NN_TANH}},
    {4, {3, 5, 4, 2}, {NN_RELU, NN_RELU, NN_RELU}},
    {3, {6, 9, 5}, {NN_TANH, NN_SOFTMAX}},
    /* wide enough for the vectorised exponential of activation.c */
    {3, {6, 12, 16}, {NN_SIGMOID, NN_SOFTMAX}},
    {3, {5, 33, 9}, {NN_SIGMOID, NN_SIGMOID}},
};

static void check_forward(pair *P, size_t batch, uint64_t seed)
{
    size_t n_in = P->ref.sizes[0], n_out = P->ref.sizes[P->ref.n_sizes - 1];
    float *x = tu_floats(batch * n_in), *y_hat = tu_floats(batch * n_out);
    float *pred = tu_floats(batch * n_out);
    tu_fill(x, batch * n_in, seed, -2, 2);
    double *xd = tu_to_double(x, batch * n_in);
    double *want = tu_doubles(batch * n_out);
    ref_forward(&P->ref, P->p, xd, batch, want);

    ASSERT_OK(nn_forward(P->net, x, batch, y_hat));
    ASSERT_CLOSE_ARRAY(y_hat, want, batch * n_out, RTOL, ATOL);
    ASSERT_OK(nn_predict(P->net, x, batch, pred));
    ASSERT_CLOSE_ARRAY(pred, want, batch * n_out, RTOL, ATOL);
    /* nn_predict and nn_forward agree to rounding */
    for (size_t i = 0; i < batch * n_out; i++)
        ASSERT_CLOSE(pred[i], y_hat[i], 1e-6, 1e-7);
    free(x);
    free(y_hat);
    free(pred);
    free(xd);
    free(want);
}

static void test_forward_matches_reference(void **state)
{
    (void)state;
    static const size_t batches[] = {1, 3, 17, 300, 1000};
    for (size_t a = 0; a < TU_ARRAY_LEN(archs); a++) {
        for (unsigned flags = 0; flags <= NN_NO_BIAS; flags++) {
            const arch *A = &archs[a];
            pair P = make_pair(A->n, A->sizes, A->acts, flags, NN_LOSS_MSE,
                               500 + a);
            for (size_t b = 0; b < TU_ARRAY_LEN(batches); b++) {
                TU_CONTEXT("arch %zu, flags %u, batch %zu", a, flags,
                           batches[b]);
                check_forward(&P, batches[b], 7 * b + a);
            }
            free_pair(&P);
        }
    }
    TU_CONTEXT_CLEAR();
}

/* The exponential behind wide sigmoid and softmax layers, over the whole
 * float range: one input x, 16 units z_j = x * w_j, against the formulas
 * in double. Sigmoid within 3 ulp, softmax (a float sum and a division
 * after the exponentials) within 5, down into the subnormals;
 * sigmoid's 1 / (1 + e^-z) is 0 where e^-z overflows (z < -88.7, where
 * the true value is below FLT_MIN). Infinite pre-activations give
 * sigmoid's limits; a NaN one a NaN output, which nn_forward refuses. */
static void test_wide_exponentials(void **state)
{
    (void)state;
    enum { UNITS = 16, BATCH = 2401 };
    const size_t sizes[] = {1, UNITS};
    float w[UNITS], *x = tu_floats(BATCH), *y = tu_floats(BATCH * UNITS);
    for (size_t j = 0; j < UNITS; j++)
        w[j] = 0.25f + 0.05f * (float)j;
    for (size_t i = 0; i < BATCH; i++)
        x[i] = -120.0f + 0.1f * (float)i;
    for (int softmax = 0; softmax <= 1; softmax++) {
        nn_activation act = softmax ? NN_SOFTMAX : NN_SIGMOID;
        nn_net *net = tu_create(2, sizes, &act, NN_NO_BIAS, 1);
        memcpy(nn_params(net), w, sizeof w);
        ASSERT_OK(nn_forward(net, x, BATCH, y));
        for (size_t i = 0; i < BATCH; i++) {
            double z[UNITS], max = -INFINITY, sum = 0.0;
            for (size_t j = 0; j < UNITS; j++) {
                z[j] = (double)(x[i] * w[j]); /* the float product */
                max = z[j] > max ? z[j] : max;
            }
            double shifted[UNITS]; /* z - max as the library rounds it */
            for (size_t j = 0; j < UNITS; j++) {
                shifted[j] = (double)((float)z[j] - (float)max);
                sum += exp(shifted[j]);
            }
            for (size_t j = 0; j < UNITS; j++) {
                double want = softmax ? exp(shifted[j]) / sum
                                      : 1.0 / (1.0 + exp(-z[j]));
                TU_CONTEXT("%s, x %g, unit %zu", softmax ? "softmax"
                           : "sigmoid", (double)x[i], j);
                ASSERT_CLOSE(y[i * UNITS + j], want,
                             softmax ? 6e-7 : 3.6e-7,
                             softmax ? 3e-45 : FLT_MIN);
            }
        }
        nn_free(net);
    }
    const float special[] = {INFINITY, -INFINITY, NAN, 88.8f, -88.8f};
    const double sigmoid_of[] = {1.0, 0.0, NAN, 1.0, 0.0};
    /* inputs must be finite: the weights make z = 1 * w non-finite */
    nn_activation act = NN_SIGMOID;
    nn_net *net = tu_create(2, sizes, &act, NN_NO_BIAS, 1);
    const float one = 1.0f;
    for (size_t k = 0; k < TU_ARRAY_LEN(special); k++) {
        for (size_t j = 0; j < UNITS; j++)
            nn_params(net)[j] = special[k];
        TU_CONTEXT("sigmoid of %g", (double)special[k]);
        if (isnan(sigmoid_of[k])) { /* a NaN output is refused */
            y[0] = 5.0f;
            ASSERT_RC(nn_forward(net, &one, 1, y), NN_ENUMERIC);
            assert_true(y[0] == 5.0f);
            continue;
        }
        ASSERT_OK(nn_forward(net, &one, 1, y));
        for (size_t j = 0; j < UNITS; j++)
            ASSERT_CLOSE(y[j], sigmoid_of[k], 0.0, FLT_MIN);
    }
    TU_CONTEXT_CLEAR();
    nn_free(net);
    free(x);
    free(y);
}

/* Batches of 1, then 50, then 5: buffers grow and later smaller batches
 * still compute (and differentiate) exactly what a fresh handle does. */
static void test_batch_growth(void **state)
{
    (void)state;
    const arch *A = &archs[6];
    pair P = make_pair(A->n, A->sizes, A->acts, 0, NN_LOSS_CROSS_ENTROPY, 9);
    nn_net *fresh = tu_clone(P.net);
    check_forward(&P, 1, 1);
    check_forward(&P, 50, 2);
    check_forward(&P, 5, 3);

    float x[50 * 3], y[50 * 2];
    tu_fill(x, 50 * 3, 4, -1, 1);
    tu_fill_onehot(y, 50, 2, 5);
    size_t n = nn_param_count(P.net);
    double c1, c50, c5, cf;
    ASSERT_OK(nn_backprop(P.net, x, y, 1, &c1));
    ASSERT_OK(nn_backprop(P.net, x, y, 50, &c50));
    ASSERT_OK(nn_backprop(P.net, x, y, 5, &c5));
    ASSERT_OK(nn_backprop(fresh, x, y, 5, &cf));
    assert_true(c5 == cf);
    assert_memory_equal(nn_grads(P.net), nn_grads(fresh), n * sizeof(float));
    nn_free(fresh);
    free_pair(&P);
}

typedef struct loss_case {
    nn_activation last;
    int loss;
    int targets; /* 0: uniform in [0, 1], 1: probabilities, 2: one-hot,
                    3: exact 0s and 1s mixed with fractions */
} loss_case;

static const loss_case loss_cases[] = {
    {NN_IDENTITY, NN_LOSS_MSE, 0},
    {NN_SIGMOID, NN_LOSS_MSE, 0},
    {NN_TANH, NN_LOSS_MSE, 0},
    {NN_RELU, NN_LOSS_MSE, 0},
    {NN_LEAKY_RELU, NN_LOSS_MSE, 0},
    {NN_SOFTMAX, NN_LOSS_MSE, 1},
    {NN_SOFTMAX, NN_LOSS_CROSS_ENTROPY, 1},
    {NN_SOFTMAX, NN_LOSS_CROSS_ENTROPY, 2},
    {NN_SIGMOID, NN_LOSS_BINARY_CROSS_ENTROPY, 0},
    {NN_SIGMOID, NN_LOSS_BINARY_CROSS_ENTROPY, 3},
};

static void fill_targets(float *y, size_t rows, size_t k, int kind,
                         uint64_t seed)
{
    switch (kind) {
    case 1: tu_fill_probs(y, rows, k, seed); break;
    case 2: tu_fill_onehot(y, rows, k, seed); break;
    case 3:
        tu_fill(y, rows * k, seed, 0, 1);
        for (size_t i = 0; i < rows * k; i += 3)
            y[i] = (float)((i / 3) % 2);
        break;
    default: tu_fill(y, rows * k, seed, 0, 1); break;
    }
}

static void test_costs_match_reference(void **state)
{
    (void)state;
    static const size_t batches[] = {1, 17, 300};
    for (size_t c = 0; c < TU_ARRAY_LEN(loss_cases); c++) {
        const loss_case *L = &loss_cases[c];
        const size_t sizes[] = {4, 6, 3};
        const nn_activation acts[] = {NN_TANH, L->last};
        pair P = make_pair(3, sizes, acts, 0, L->loss, 40 + c);
        for (size_t b = 0; b < TU_ARRAY_LEN(batches); b++) {
            size_t batch = batches[b];
            float *x = tu_floats(batch * 4), *y = tu_floats(batch * 3);
            tu_fill(x, batch * 4, 60 + c, -1.5, 1.5);
            fill_targets(y, batch, 3, L->targets, 70 + c);
            double *xd = tu_to_double(x, batch * 4);
            double *yd = tu_to_double(y, batch * 3);
            double want = ref_cost(&P.ref, P.p, xd, yd, batch);
            double cost = NAN, bp = NAN, ev = NAN;
            TU_CONTEXT("last %d, loss %d, targets %d, batch %zu",
                       (int)L->last, L->loss, L->targets, batch);
            ASSERT_OK(nn_cost(P.net, x, y, batch, &cost));
            ASSERT_CLOSE(cost, want, RTOL, 1e-7);
            ASSERT_OK(nn_backprop(P.net, x, y, batch, &bp));
            ASSERT_CLOSE(bp, want, RTOL, 1e-7);
            ASSERT_OK(nn_evaluate(P.net, x, y, batch, &ev, NULL));
            ASSERT_CLOSE(ev, want, RTOL, 1e-7);
            free(x);
            free(y);
            free(xd);
            free(yd);
        }
        free_pair(&P);
    }
    TU_CONTEXT_CLEAR();
}

/* Outputs saturated in float (sigmoid(60) == 1.0f) still give the exact
 * cross-entropy and a finite gradient: the fused, stable form. */
static void test_saturated_cross_entropies(void **state)
{
    (void)state;
    {
        const size_t sizes[] = {1, 1};
        const nn_activation act = NN_SIGMOID;
        nn_net *net = tu_create(2, sizes, &act, 0, 1);
        ASSERT_OK(nn_set(net, NN_OPT_LOSS, NN_LOSS_BINARY_CROSS_ENTROPY));
        nn_params(net)[0] = 60.0f; /* w */
        nn_params(net)[1] = 0.0f;  /* b */
        const float x = 1.0f, y = 0.0f;
        double cost = NAN;
        /* -log(1 - sigmoid(60)) = softplus(60) = 60 + log1p(e^-60) */
        ASSERT_OK(nn_backprop(net, &x, &y, 1, &cost));
        ASSERT_CLOSE(cost, 60.0, 1e-6, 0);
        /* dJ/dz = sigmoid(z) - y = 1 */
        ASSERT_CLOSE(nn_grads(net)[0], 1.0, 1e-6, 0);
        ASSERT_CLOSE(nn_grads(net)[1], 1.0, 1e-6, 0);
        nn_free(net);
    }
    {
        const size_t sizes[] = {1, 3};
        const nn_activation act = NN_SOFTMAX;
        nn_net *net = tu_create(2, sizes, &act, NN_NO_BIAS, 1);
        float *w = nn_params(net);
        w[0] = 100.0f;
        w[1] = 0.0f;
        w[2] = -100.0f;
        const float x = 1.0f, y[3] = {0, 0, 1};
        double cost = NAN;
        /* -log softmax(z)_2 = logsumexp(z) - z_2 = 200 + log1p(...) */
        ASSERT_OK(nn_backprop(net, &x, y, 1, &cost));
        ASSERT_CLOSE(cost, 200.0, 1e-6, 0);
        /* dJ/dz = softmax(z) - y = (1, 0, -1) */
        ASSERT_CLOSE(nn_grads(net)[0], 1.0, 1e-6, 1e-12);
        ASSERT_CLOSE(nn_grads(net)[1], 0.0, 0, 1e-12);
        ASSERT_CLOSE(nn_grads(net)[2], -1.0, 1e-6, 1e-12);
        nn_free(net);
    }
}

/* nn_backprop overwrites the stored gradient; cost may be NULL. */
static void test_backprop_overwrites(void **state)
{
    (void)state;
    const arch *A = &archs[7];
    pair P = make_pair(A->n, A->sizes, A->acts, 0, NN_LOSS_MSE, 3);
    size_t n = nn_param_count(P.net);
    float x[8 * 3], y[8 * 2];
    tu_fill(x, 8 * 3, 1, -1, 1);
    tu_fill(y, 8 * 2, 2, 0, 1);
    double cost;
    ASSERT_OK(nn_backprop(P.net, x, y, 4, &cost));
    float *first = tu_copy_floats(nn_grads(P.net), n);
    ASSERT_OK(nn_backprop(P.net, x + 4 * 3, y + 4 * 2, 4, NULL));
    assert_memory_not_equal(nn_grads(P.net), first, n * sizeof(float));
    ASSERT_OK(nn_backprop(P.net, x, y, 4, NULL));
    assert_memory_equal(nn_grads(P.net), first, n * sizeof(float));
    free(first);
    free_pair(&P);
}

/* nn_forward and nn_cost between nn_backprop and nn_step do not disturb the
 * stored gradient. */
static void test_forward_between_backprop_and_step(void **state)
{
    (void)state;
    nn_net *a = tu_fixture(NN_SIGMOID);
    nn_net *b = tu_clone(a);
    size_t n = nn_param_count(a);
    float x[20 * 3], y[20 * 2], y_hat[20 * 2];
    double cost;
    tu_fill(x, 20 * 3, 8, -1, 1);
    tu_fill(y, 20 * 2, 9, 0, 1);
    ASSERT_OK(nn_backprop(a, x, y, 2, NULL));
    ASSERT_OK(nn_backprop(b, x, y, 2, NULL));
    ASSERT_OK(nn_forward(a, x + 3, 20 - 1, y_hat));
    ASSERT_OK(nn_cost(a, x + 6, y + 4, 18, &cost));
    ASSERT_OK(nn_step(a));
    ASSERT_OK(nn_step(b));
    assert_memory_equal(nn_params(a), nn_params(b), n * sizeof(float));
    nn_free(a);
    nn_free(b);
}

/* Accuracy as documented, from nn_forward's outputs. */
static double accuracy_of(const float *y_hat, const float *y, size_t n,
                          size_t k)
{
    size_t hits = 0;
    for (size_t s = 0; s < n; s++) {
        const float *o = y_hat + s * k, *t = y + s * k;
        if (k == 1) {
            hits += (o[0] > 0.5f) == (t[0] > 0.5f);
            continue;
        }
        size_t ao = 0, at = 0;
        for (size_t j = 1; j < k; j++) {
            if (o[j] > o[ao])
                ao = j;
            if (t[j] > t[at])
                at = j;
        }
        hits += ao == at;
    }
    return (double)hits / (double)n;
}

static void test_evaluate_matches_forward_and_cost(void **state)
{
    (void)state;
    enum { M = 700 }; /* spans several 256-row chunks */
    const size_t sizes[][3] = {{5, 8, 4}, {5, 8, 1}};
    const nn_activation acts[][2] = {{NN_RELU, NN_SOFTMAX},
                                     {NN_TANH, NN_SIGMOID}};
    for (int k = 0; k < 2; k++) {
        size_t n_out = sizes[k][2];
        nn_net *net = tu_create(3, sizes[k], acts[k], 0, 21 + k);
        float *x = tu_floats(M * 5), *y = tu_floats(M * n_out);
        float *y_hat = tu_floats(M * n_out), *pred = tu_floats(M * n_out);
        tu_fill(x, M * 5, 22, -2, 2);
        if (n_out == 1)
            tu_fill(y, M, 23, 0, 1);
        else
            tu_fill_onehot(y, M, n_out, 23);
        double cost = NAN, ev = NAN, acc = NAN, acc_only = NAN;
        TU_CONTEXT("%zu outputs", n_out);
        ASSERT_OK(nn_forward(net, x, M, y_hat));
        ASSERT_OK(nn_predict(net, x, M, pred));
        for (size_t i = 0; i < M * n_out; i++)
            ASSERT_CLOSE(pred[i], y_hat[i], 1e-6, 1e-7);
        ASSERT_OK(nn_cost(net, x, y, M, &cost));
        ASSERT_OK(nn_evaluate(net, x, y, M, &ev, &acc));
        ASSERT_CLOSE(ev, cost, 1e-6, 0);
        double want = accuracy_of(y_hat, y, M, n_out);
        assert_true(want > 0.05 && want < 0.95); /* a meaningful mix */
        ASSERT_CLOSE(acc, want, 0, 1e-12);
        ASSERT_OK(nn_evaluate(net, x, y, M, NULL, &acc_only));
        assert_true(acc_only == acc);
        free(x);
        free(y);
        free(y_hat);
        free(pred);
        nn_free(net);
    }
    TU_CONTEXT_CLEAR();
}

/* Outputs that tie: the lowest index wins, for outputs and targets. */
static void test_accuracy_ties_and_threshold(void **state)
{
    (void)state;
    {
        const size_t sizes[] = {2, 3};
        const nn_activation act = NN_IDENTITY;
        nn_net *net = tu_create(2, sizes, &act, 0, 1);
        float *w, *b;
        ASSERT_OK(nn_layer_params(net, 0, &w, &b));
        memset(w, 0, 6 * sizeof(float));
        const float x[3 * 2] = {0};
        double acc = NAN;

        /* every output row is (0.5, 0.5, 0.2): the arg-max is 0 */
        b[0] = 0.5f;
        b[1] = 0.5f;
        b[2] = 0.2f;
        const float y1[3 * 3] = {1, 0, 0, 1, 0, 0, 0, 1, 0};
        ASSERT_OK(nn_evaluate(net, x, y1, 3, NULL, &acc));
        ASSERT_CLOSE(acc, 2.0 / 3.0, 0, 1e-12);

        /* outputs (0.1, 0.7, 0.2), arg-max 1; targets that tie */
        b[0] = 0.1f;
        b[1] = 0.7f;
        b[2] = 0.2f;
        const float y2[3 * 3] = {0, 0.9f, 0.9f, 0, 1, 1, 0, 0, 1};
        ASSERT_OK(nn_evaluate(net, x, y2, 3, NULL, &acc));
        ASSERT_CLOSE(acc, 2.0 / 3.0, 0, 1e-12);
        nn_free(net);
    }
    {
        /* one output: y_hat = x; a sample counts when
         * (y_hat > 0.5) == (y > 0.5), and 0.5 is not above 0.5 */
        const size_t sizes[] = {1, 1};
        const nn_activation act = NN_IDENTITY;
        nn_net *net = tu_create(2, sizes, &act, 0, 1);
        nn_params(net)[0] = 1.0f;
        nn_params(net)[1] = 0.0f;
        const float x[6] = {0.2f, 0.5f, 0.7f, 0.9f, 0.7f, 0.5f};
        const float y[6] = {0.4f, 0.5f, 0.6f, 0.3f, 0.5f, 0.51f};
        /*                  hit   hit   hit   miss  miss  miss */
        double acc = NAN;
        ASSERT_OK(nn_evaluate(net, x, y, 6, NULL, &acc));
        ASSERT_CLOSE(acc, 3.0 / 6.0, 0, 1e-12);
        nn_free(net);
    }
}

/* ---------------------------------------------------------------------
 * Eight threads on one handle
 * --------------------------------------------------------------------- */

enum { THREADS = 8, ROUNDS = 25, TB = 300 };

typedef struct shared {
    const nn_net *net;
    const float *x, *y;
    const float *want_pred;
    double want_cost, want_acc;
    size_t n_out;
} shared;

typedef struct worker {
    const shared *sh;
    int id;
    int failures; /* rounds whose results differ from the serial run */
    int bad_rc;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    const shared *sh = w->sh;
    float *pred = malloc(TB * sh->n_out * sizeof(float));
    if (pred == NULL) {
        w->bad_rc = NN_ENOMEM;
        return NULL;
    }
    for (int r = 0; r < ROUNDS; r++) {
        double cost, acc;
        /* alternate order so calls overlap in every combination */
        int rc1 = (r + w->id) % 2 ? nn_predict(sh->net, sh->x, TB, pred)
                                  : nn_evaluate(sh->net, sh->x, sh->y, TB,
                                                &cost, &acc);
        int rc2 = (r + w->id) % 2 ? nn_evaluate(sh->net, sh->x, sh->y, TB,
                                                &cost, &acc)
                                  : nn_predict(sh->net, sh->x, TB, pred);
        if (rc1 != NN_OK || rc2 != NN_OK) {
            w->bad_rc = rc1 != NN_OK ? rc1 : rc2;
            break;
        }
        if (memcmp(pred, sh->want_pred, TB * sh->n_out * sizeof(float)) ||
            cost != sh->want_cost || acc != sh->want_acc)
            w->failures++;
    }
    free(pred);
    return NULL;
}

/* Finite inputs whose outputs overflow: NN_ENUMERIC naming the first such
 * row, in nn_predict's second chunk too; nn_forward leaves y_hat alone,
 * nn_evaluate its results; nn_predict's rows before that one are written. */
/* nn_predicted_classes on rows whose classes follow from the documented
 * rule by hand, and nn_count_correct against accuracy_of and against
 * nn_evaluate's own accuracy. */
static void test_predicted_classes_and_count_correct(void **state)
{
    (void)state;
    const float nan = NAN;
    const float wide[][3] = {
        {0.2f, 0.5f, 0.5f}, /* tie: the lowest index */
        {0.5f, 0.5f, 0.2f}, {-1, -2, -3}, {0, 0, 1},
        {nan, 1, 2},        /* nothing compares above a NaN in first place */
        {1, nan, 2},        /* a later NaN is skipped */
    };
    const size_t wide_want[] = {1, 0, 0, 2, 0, 2};
    const float single[] = {0.7f, 0.5f, -3, nan}; /* above 0.5: class 1 */
    const size_t single_want[] = {1, 0, 0, 0};
    size_t got[6];
    ASSERT_OK(nn_predicted_classes(&wide[0][0], 6, 3, got));
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(got[i], wide_want[i]);
    ASSERT_OK(nn_predicted_classes(single, 4, 1, got));
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(got[i], single_want[i]);

    enum { M = 700 };
    const size_t sizes[][3] = {{5, 8, 4}, {5, 8, 1}};
    const nn_activation acts[][2] = {{NN_RELU, NN_SOFTMAX},
                                     {NN_TANH, NN_SIGMOID}};
    for (int k = 0; k < 2; k++) {
        size_t n_out = sizes[k][2], correct = 0;
        nn_net *net = tu_create(3, sizes[k], acts[k], 0, 31 + k);
        float *x = tu_floats(M * 5), *y = tu_floats(M * n_out);
        float *y_hat = tu_floats(M * n_out);
        tu_fill(x, M * 5, 32, -2, 2);
        if (n_out == 1)
            tu_fill(y, M, 33, 0, 1);
        else
            tu_fill_onehot(y, M, n_out, 33);
        TU_CONTEXT("%zu outputs", n_out);
        ASSERT_OK(nn_predict(net, x, M, y_hat));
        ASSERT_OK(nn_count_correct(y_hat, y, M, n_out, &correct));
        double want = accuracy_of(y_hat, y, M, n_out);
        assert_true(want > 0.05 && want < 0.95); /* a meaningful mix */
        assert_int_equal(correct, (size_t)nearbyint(want * M));
        /* nn_evaluate's accuracy is this count over M, bit for bit:
         * nn_predict and nn_evaluate give the same outputs (batch
         * invariance) and count by the same rule */
        double acc = NAN;
        ASSERT_OK(nn_evaluate(net, x, y, M, NULL, &acc));
        assert_true(acc == (double)correct / (double)M);
        free(x);
        free(y);
        free(y_hat);
        nn_free(net);
    }
    TU_CONTEXT_CLEAR();
}

/* NULL pointers, zero counts and sizes past the address space: an error
 * with a message, and nothing written. */
static void test_accuracy_bad_input(void **state)
{
    (void)state;
    const float v[4] = {0.1f, 0.9f, 0.8f, 0.2f};
    size_t classes[2] = {7, 7}, correct = 7;
    struct {
        const float *y_hat, *y;
        size_t rows, width;
        int with_out, code;
    } bad[] = {
        {NULL, v, 2, 2, 1, NN_EINVAL}, {v, NULL, 2, 2, 1, NN_EINVAL},
        {v, v, 2, 2, 0, NN_EINVAL},    {v, v, 0, 2, 1, NN_EINVAL},
        {v, v, 2, 0, 1, NN_EINVAL},    {v, v, SIZE_MAX, 2, 1, NN_ESHAPE},
        {v, v, SIZE_MAX / 8, 4, 1, NN_ESHAPE},
    };
    for (size_t i = 0; i < TU_ARRAY_LEN(bad); i++) {
        TU_CONTEXT("case %zu", i);
        size_t *out = bad[i].with_out ? &correct : NULL;
        assert_int_equal(nn_count_correct(bad[i].y_hat, bad[i].y,
                                          bad[i].rows, bad[i].width, out),
                         bad[i].code);
        assert_true(strstr(nn_last_error(NULL), "nn_count_correct"));
        assert_int_equal(correct, 7);
        if (!bad[i].y)
            continue; /* nn_predicted_classes reads one array */
        assert_int_equal(nn_predicted_classes(bad[i].y_hat, bad[i].rows,
                                              bad[i].width,
                                              bad[i].with_out ? classes
                                                              : NULL),
                         bad[i].code);
        assert_true(strstr(nn_last_error(NULL), "nn_predicted_classes"));
        assert_true(classes[0] == 7 && classes[1] == 7);
    }
    TU_CONTEXT_CLEAR();
    ASSERT_OK(nn_count_correct(v, v, 2, 2, &correct));
    assert_int_equal(correct, 2);
    ASSERT_OK(nn_predicted_classes(v, 2, 2, classes));
    assert_true(classes[0] == 1 && classes[1] == 0);
}

static void test_non_finite_outputs(void **state)
{
    (void)state;
    static const size_t sizes[] = {3, 2, 2};
    static const nn_activation acts[] = {NN_IDENTITY, NN_IDENTITY};
    nn_net *net = tu_create(3, sizes, acts, 0, 1);
    float *p = nn_params(net);
    for (size_t i = 0; i < nn_param_count(net); i++)
        p[i] = 1.0f; /* every output is 2 * (x0 + x1 + x2) + 3 */
    enum { N = 300, BAD = 290 };
    float *x = tu_alloc(N * 3 * sizeof *x), *y = tu_alloc(N * 2 * sizeof *y);
    float *y_hat = tu_alloc(N * 2 * sizeof *y_hat);
    for (size_t i = 0; i < N * 3; i++)
        x[i] = (float)(i % 7) - 3.0f;
    for (size_t i = 0; i < N * 2; i++)
        y[i] = 0.0f;
    /* 3 x 3e38 = 9e38 > FLT_MAX: infinite in layer 1 already */
    for (size_t j = 0; j < 3; j++)
        x[BAD * 3 + j] = 3e38f;
    x[(BAD + 5) * 3] = 3e38f; /* finite: 3e38 + small, doubled: inf too */

    ASSERT_RC(nn_predict(net, x, N, y_hat), NN_ENUMERIC);
    assert_non_null(strstr(nn_last_error(NULL),
                           "nn_predict: the outputs of row 290 are not "
                           "finite"));
    for (size_t i = 0; i < BAD; i++) {
        double want = 2.0 * ((double)x[3 * i] + x[3 * i + 1] + x[3 * i + 2]) +
                      3.0;
        assert_true(y_hat[2 * i] == (float)want &&
                    y_hat[2 * i + 1] == (float)want);
    }
    /* the first chunk alone is fine */
    ASSERT_OK(nn_predict(net, x, BAD, y_hat));

    float sentinel[2 * 4] = {7, 7, 7, 7, 7, 7, 7, 7};
    ASSERT_RC(nn_forward(net, x + (BAD - 2) * 3, 4, sentinel), NN_ENUMERIC);
    assert_non_null(strstr(nn_last_error(net), "row 2 "));
    for (size_t i = 0; i < 8; i++)
        assert_true(sentinel[i] == 7.0f);

    double cost = -1.0, acc = -1.0;
    ASSERT_RC(nn_evaluate(net, x, y, N, &cost, &acc), NN_ENUMERIC);
    assert_non_null(strstr(nn_last_error(NULL),
                           "nn_evaluate: the outputs of row 290 are not "
                           "finite"));
    assert_true(cost == -1.0 && acc == -1.0);
    free(x);
    free(y);
    free(y_hat);
    nn_free(net);
}

static void test_threads_share_a_handle(void **state)
{
    (void)state;
    const size_t sizes[] = {6, 32, 16, 4};
    const nn_activation acts[] = {NN_RELU, NN_TANH, NN_SOFTMAX};
    nn_net *net = tu_create(4, sizes, acts, 0, 5);
    float *x = tu_floats(TB * 6), *y = tu_floats(TB * 4);
    float *pred = tu_floats(TB * 4);
    tu_fill(x, TB * 6, 1, -1, 1);
    tu_fill_onehot(y, TB, 4, 2);
    shared sh = {.net = net, .x = x, .y = y, .want_pred = pred, .n_out = 4};
    ASSERT_OK(nn_predict(net, x, TB, pred));
    ASSERT_OK(nn_evaluate(net, x, y, TB, &sh.want_cost, &sh.want_acc));

    pthread_t th[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.sh = &sh, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        if (w[i].bad_rc != NN_OK)
            TU_FAIL("thread %d: a call returned %s", i,
                    nn_error_name(w[i].bad_rc));
        if (w[i].failures)
            TU_FAIL("thread %d: %d of %d rounds differ from the serial run",
                    i, w[i].failures, ROUNDS);
    }
    free(x);
    free(y);
    free(pred);
    nn_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_matches_reference),
        cmocka_unit_test(test_wide_exponentials),
        cmocka_unit_test(test_batch_growth),
        cmocka_unit_test(test_costs_match_reference),
        cmocka_unit_test(test_saturated_cross_entropies),
        cmocka_unit_test(test_backprop_overwrites),
        cmocka_unit_test(test_forward_between_backprop_and_step),
        cmocka_unit_test(test_evaluate_matches_forward_and_cost),
        cmocka_unit_test(test_accuracy_ties_and_threshold),
        cmocka_unit_test(test_predicted_classes_and_count_correct),
        cmocka_unit_test(test_accuracy_bad_input),
        cmocka_unit_test(test_non_finite_outputs),
        cmocka_unit_test(test_threads_share_a_handle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
