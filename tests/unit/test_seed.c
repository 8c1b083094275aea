/* SPDX-License-Identifier: MIT */
/*
 * The tutorial network (docs/tutorial.md), reproduced exactly: sizes {2, 3, 1},
 * sigmoid/sigmoid, no biases, the weights of tests/data/seed.json. Expected
 * values come twice: read at run time from $NN_TEST_DATA/seed.json (written
 * by tests/data/make_seed.py in float64),
 * and recomputed here in double from the tutorial's formulas. libnn's MSE
 * cost and gradients are the tutorial's J and dJ/dW divided by N = 3.
 */
#include "testutil.h"

#include <ctype.h>

enum { N = 3, IN = 2, HID = 3, OUT = 1, N_PARAMS = IN * HID + HID * OUT };

/* ---------------------------------------------------------------------
 * A tiny reader for seed.json: the numbers of one key, flattened.
 * --------------------------------------------------------------------- */

static char *read_seed_json(void)
{
    const char *dir = getenv("NN_TEST_DATA");
    char path[4096];
    if (dir == NULL)
        fail_msg("%s", "NN_TEST_DATA is not set (meson test sets it)");
    snprintf(path, sizeof path, "%s/seed.json", dir);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    char *text = tu_alloc((size_t)len + 1);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return text;
}

/* Every number of `key`'s value (a number or nested arrays of numbers), in
 * document order. Fails the test if the key is missing or the count is not
 * `want`. */
static void json_numbers(const char *text, const char *key, double *out,
                         size_t want)
{
    char quoted[128];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    const char *p = strstr(text, quoted);
    if (p == NULL)
        fail_msg("seed.json has no key %s", key);
    p = strchr(p + strlen(quoted), ':');
    assert_non_null(p);
    p++;
    size_t n = 0;
    int depth = 0;
    do {
        while (isspace((unsigned char)*p) || *p == ',')
            p++;
        if (*p == '[') {
            depth++;
            p++;
        } else if (*p == ']') {
            depth--;
            p++;
        } else {
            char *end;
            double v = strtod(p, &end);
            if (end == p)
                fail_msg("seed.json: %s: not a number at '%.10s'", key, p);
            if (n < want)
                out[n] = v;
            n++;
            p = end;
        }
    } while (depth > 0);
    if (n != want)
        fail_msg("seed.json: %s has %zu numbers, want %zu", key, n, want);
}

static double json_number(const char *text, const char *key)
{
    double v;
    json_numbers(text, key, &v, 1);
    return v;
}

/* ---------------------------------------------------------------------
 * The tutorial in double, straight from the tutorial's formulas.
 * --------------------------------------------------------------------- */

typedef struct tutorial {
    double X[N][IN], y[N];
    double W1[IN][HID], W2[HID];
    double z2[N][HID], a2[N][HID], z3[N], y_hat[N];
    double J;                      /* sum of 1/2 (y - yhat)^2 */
    double dJdW1[IN][HID], dJdW2[HID];
} tutorial;

static double f(double z) { return 1.0 / (1.0 + exp(-z)); }
static double f_prime(double z) { return exp(-z) / pow(1.0 + exp(-z), 2); }

/* forward(), costFunction() and costFunctionPrime() of the tutorial. */
static void tutorial_run(tutorial *t)
{
    t->J = 0;
    for (int s = 0; s < N; s++) {
        for (int j = 0; j < HID; j++) {
            t->z2[s][j] = 0;
            for (int i = 0; i < IN; i++)
                t->z2[s][j] += t->X[s][i] * t->W1[i][j];
            t->a2[s][j] = f(t->z2[s][j]);
        }
        t->z3[s] = 0;
        for (int j = 0; j < HID; j++)
            t->z3[s] += t->a2[s][j] * t->W2[j];
        t->y_hat[s] = f(t->z3[s]);
        t->J += 0.5 * (t->y[s] - t->y_hat[s]) * (t->y[s] - t->y_hat[s]);
    }
    double delta3[N], delta2[N][HID];
    for (int s = 0; s < N; s++)
        delta3[s] = -(t->y[s] - t->y_hat[s]) * f_prime(t->z3[s]);
    for (int j = 0; j < HID; j++) {
        t->dJdW2[j] = 0;
        for (int s = 0; s < N; s++)
            t->dJdW2[j] += t->a2[s][j] * delta3[s];
    }
    for (int s = 0; s < N; s++)
        for (int j = 0; j < HID; j++)
            delta2[s][j] = delta3[s] * t->W2[j] * f_prime(t->z2[s][j]);
    for (int i = 0; i < IN; i++) {
        for (int j = 0; j < HID; j++) {
            t->dJdW1[i][j] = 0;
            for (int s = 0; s < N; s++)
                t->dJdW1[i][j] += t->X[s][i] * delta2[s][j];
        }
    }
}

/* The data prepared as the tutorial does (columns scaled by their maximum,
 * scores by 100) and the weights of seed.json. */
static void tutorial_init(tutorial *t, const char *json)
{
    static const double X_raw[N][IN] = {{3, 5}, {5, 1}, {10, 2}};
    static const double y_raw[N] = {75, 82, 93};
    double w1[IN * HID], w2[HID];
    memset(t, 0, sizeof *t);
    for (int i = 0; i < IN; i++) {
        double m = 0;
        for (int s = 0; s < N; s++)
            m = fmax(m, X_raw[s][i]);
        for (int s = 0; s < N; s++)
            t->X[s][i] = X_raw[s][i] / m;
    }
    for (int s = 0; s < N; s++)
        t->y[s] = y_raw[s] / 100.0;
    json_numbers(json, "W1", w1, IN * HID);
    json_numbers(json, "W2", w2, HID);
    memcpy(t->W1, w1, sizeof w1);
    memcpy(t->W2, w2, sizeof w2);
    tutorial_run(t);
}

/* The library's view: params = W1 (2x3 row-major) then W2 (3x1). */
typedef struct fixture {
    char *json;
    tutorial t;
    nn_net *net;
    float x[N * IN], y[N * OUT];
} fixture;

static int setup(void **state)
{
    static const size_t sizes[] = {IN, HID, OUT};
    static const nn_activation acts[] = {NN_SIGMOID, NN_SIGMOID};
    fixture *fx = tu_alloc(sizeof *fx);
    fx->json = read_seed_json();
    tutorial_init(&fx->t, fx->json);
    fx->net = tu_create(3, sizes, acts, NN_NO_BIAS, 42);
    assert_int_equal(nn_param_count(fx->net), N_PARAMS);
    float *p = nn_params(fx->net);
    for (int i = 0; i < IN; i++)
        for (int j = 0; j < HID; j++)
            p[i * HID + j] = (float)fx->t.W1[i][j];
    for (int j = 0; j < HID; j++)
        p[IN * HID + j] = (float)fx->t.W2[j];
    for (int s = 0; s < N; s++) {
        for (int i = 0; i < IN; i++)
            fx->x[s * IN + i] = (float)fx->t.X[s][i];
        fx->y[s] = (float)fx->t.y[s];
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    nn_free(fx->net);
    free(fx->json);
    free(fx);
    return 0;
}

/* float32 against double: a few ulps of a few operations. */
#define RTOL 1e-5
#define ATOL 1e-7

/* ---------------------------------------------------------------------
 * Tests
 * --------------------------------------------------------------------- */

/* Guards the two sources of truth against each other (and the reader). */
static void test_json_agrees_with_formulas(void **state)
{
    fixture *fx = *state;
    const tutorial *t = &fx->t;
    double v[N * HID];

    json_numbers(fx->json, "X", v, N * IN);
    for (int k = 0; k < N * IN; k++)
        ASSERT_CLOSE(t->X[k / IN][k % IN], v[k], 1e-12, 0);
    json_numbers(fx->json, "y", v, N);
    for (int s = 0; s < N; s++)
        ASSERT_CLOSE(t->y[s], v[s], 1e-12, 0);
    json_numbers(fx->json, "z2", v, N * HID);
    for (int k = 0; k < N * HID; k++)
        ASSERT_CLOSE(t->z2[k / HID][k % HID], v[k], 1e-12, 1e-15);
    json_numbers(fx->json, "a2", v, N * HID);
    for (int k = 0; k < N * HID; k++)
        ASSERT_CLOSE(t->a2[k / HID][k % HID], v[k], 1e-12, 0);
    json_numbers(fx->json, "z3", v, N);
    for (int s = 0; s < N; s++)
        ASSERT_CLOSE(t->z3[s], v[s], 1e-12, 0);
    json_numbers(fx->json, "y_hat", v, N);
    for (int s = 0; s < N; s++)
        ASSERT_CLOSE(t->y_hat[s], v[s], 1e-12, 0);
    ASSERT_CLOSE(t->J, json_number(fx->json, "J_tutorial"), 1e-12, 0);
    ASSERT_CLOSE(t->J / N, json_number(fx->json, "cost_libnn"), 1e-12, 0);
    assert_int_equal((int)json_number(fx->json, "N"), N);
    json_numbers(fx->json, "dJdW1_tutorial", v, IN * HID);
    for (int k = 0; k < IN * HID; k++)
        ASSERT_CLOSE(t->dJdW1[k / HID][k % HID], v[k], 1e-12, 0);
    json_numbers(fx->json, "dJdW2_tutorial", v, HID);
    for (int j = 0; j < HID; j++)
        ASSERT_CLOSE(t->dJdW2[j], v[j], 1e-12, 0);
}

static void test_layout_of_tutorial_net(void **state)
{
    fixture *fx = *state;
    float *w, *b = (float *)1;
    assert_int_equal(nn_num_layers(fx->net), 3);
    assert_int_equal(nn_layer_size(fx->net, 0), IN);
    assert_int_equal(nn_layer_size(fx->net, 1), HID);
    assert_int_equal(nn_layer_size(fx->net, 2), OUT);
    ASSERT_OK(nn_layer_params(fx->net, 0, &w, &b));
    assert_ptr_equal(w, nn_params(fx->net));
    assert_null(b);
    b = (float *)1;
    ASSERT_OK(nn_layer_params(fx->net, 1, &w, &b));
    assert_ptr_equal(w, nn_params(fx->net) + IN * HID);
    assert_null(b);
}

static void test_forward(void **state)
{
    fixture *fx = *state;
    double want[N];
    float y_hat[N], pred[N];
    json_numbers(fx->json, "y_hat", want, N);

    ASSERT_OK(nn_forward(fx->net, fx->x, N, y_hat));
    ASSERT_CLOSE_ARRAY(y_hat, want, N, RTOL, ATOL);
    ASSERT_CLOSE_ARRAY(y_hat, fx->t.y_hat, N, RTOL, ATOL);

    ASSERT_OK(nn_predict(fx->net, fx->x, N, pred));
    ASSERT_CLOSE_ARRAY(pred, want, N, RTOL, ATOL);

    /* one sample at a time gives the same rows */
    for (int s = 0; s < N; s++) {
        float one;
        ASSERT_OK(nn_forward(fx->net, fx->x + s * IN, 1, &one));
        ASSERT_CLOSE(one, want[s], RTOL, ATOL);
    }
}

static void test_cost(void **state)
{
    fixture *fx = *state;
    double cost = -1, eval = -1, loss = -1;
    double want = json_number(fx->json, "cost_libnn");

    ASSERT_OK(nn_get(fx->net, NN_OPT_LOSS, &loss));
    assert_true(loss == NN_LOSS_MSE);
    ASSERT_OK(nn_cost(fx->net, fx->x, fx->y, N, &cost));
    ASSERT_CLOSE(cost, want, RTOL, 0);
    ASSERT_CLOSE(cost, fx->t.J / N, RTOL, 0);
    ASSERT_CLOSE(cost * N, json_number(fx->json, "J_tutorial"), RTOL, 0);
    ASSERT_OK(nn_evaluate(fx->net, fx->x, fx->y, N, &eval, NULL));
    ASSERT_CLOSE(eval, want, RTOL, 0);
}

static void test_gradients(void **state)
{
    fixture *fx = *state;
    double dW1[IN * HID], dW2[HID], want[N_PARAMS], cost = -1;
    json_numbers(fx->json, "dJdW1_tutorial", dW1, IN * HID);
    json_numbers(fx->json, "dJdW2_tutorial", dW2, HID);
    for (int k = 0; k < IN * HID; k++)
        want[k] = dW1[k] / N;
    for (int j = 0; j < HID; j++)
        want[IN * HID + j] = dW2[j] / N;

    ASSERT_OK(nn_backprop(fx->net, fx->x, fx->y, N, &cost));
    ASSERT_CLOSE(cost, json_number(fx->json, "cost_libnn"), RTOL, 0);
    ASSERT_CLOSE_ARRAY(nn_grads(fx->net), want, N_PARAMS, 1e-4, 1e-7);

    /* and against the formulas recomputed here */
    for (int k = 0; k < IN * HID; k++)
        ASSERT_CLOSE(nn_grads(fx->net)[k], fx->t.dJdW1[k / HID][k % HID] / N,
                     1e-4, 1e-7);
    for (int j = 0; j < HID; j++)
        ASSERT_CLOSE(nn_grads(fx->net)[IN * HID + j], fx->t.dJdW2[j] / N,
                     1e-4, 1e-7);
}

static void test_one_sgd_step(void **state)
{
    fixture *fx = *state;
    double lr = json_number(fx->json, "learning_rate");
    double w1[IN * HID], w2[HID], want[N_PARAMS];
    json_numbers(fx->json, "W1_after_step", w1, IN * HID);
    json_numbers(fx->json, "W2_after_step", w2, HID);
    memcpy(want, w1, sizeof w1);
    memcpy(want + IN * HID, w2, sizeof w2);

    assert_true(lr == 0.5);
    ASSERT_OK(nn_set(fx->net, NN_OPT_LEARNING_RATE, lr));
    ASSERT_OK(nn_backprop(fx->net, fx->x, fx->y, N, NULL));
    ASSERT_OK(nn_step(fx->net));
    ASSERT_CLOSE_ARRAY(nn_params(fx->net), want, N_PARAMS, RTOL, ATOL);

    /* W <- W - lr * dJ/dW / N, from the formulas */
    for (int k = 0; k < IN * HID; k++)
        ASSERT_CLOSE(nn_params(fx->net)[k],
                     fx->t.W1[k / HID][k % HID] -
                         lr * fx->t.dJdW1[k / HID][k % HID] / N,
                     RTOL, ATOL);
    for (int j = 0; j < HID; j++)
        ASSERT_CLOSE(nn_params(fx->net)[IN * HID + j],
                     fx->t.W2[j] - lr * fx->t.dJdW2[j] / N, RTOL, ATOL);
}

/* Twenty steps of gradient descent follow the tutorial's recurrence. */
static void test_training_follows_formulas(void **state)
{
    fixture *fx = *state;
    tutorial t = fx->t;
    const double lr = 0.5;
    ASSERT_OK(nn_set(fx->net, NN_OPT_LEARNING_RATE, lr));
    for (int it = 0; it < 20; it++) {
        double cost;
        ASSERT_OK(nn_backprop(fx->net, fx->x, fx->y, N, &cost));
        ASSERT_CLOSE(cost, t.J / N, 1e-4, 0);
        ASSERT_OK(nn_step(fx->net));
        for (int i = 0; i < IN; i++)
            for (int j = 0; j < HID; j++)
                t.W1[i][j] -= lr * t.dJdW1[i][j] / N;
        for (int j = 0; j < HID; j++)
            t.W2[j] -= lr * t.dJdW2[j] / N;
        tutorial_run(&t);
    }
    for (int k = 0; k < IN * HID; k++)
        ASSERT_CLOSE(nn_params(fx->net)[k], t.W1[k / HID][k % HID], 1e-4, 1e-6);
    for (int j = 0; j < HID; j++)
        ASSERT_CLOSE(nn_params(fx->net)[IN * HID + j], t.W2[j], 1e-4, 1e-6);
    /* and the cost went down, as the tutorial promises */
    assert_true(t.J < fx->t.J);
}

static void test_gradcheck(void **state)
{
    fixture *fx = *state;
    double err = -1;
    float *before = tu_copy_floats(nn_params(fx->net), N_PARAMS);
    ASSERT_OK(nn_gradcheck(fx->net, fx->x, fx->y, N, &err));
    assert_true(err >= 0 && err < 1e-3);
    assert_memory_equal(nn_params(fx->net), before, sizeof(float) * N_PARAMS);
    free(before);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_json_agrees_with_formulas),
        T(test_layout_of_tutorial_net),
        T(test_forward),
        T(test_cost),
        T(test_gradients),
        T(test_one_sgd_step),
        T(test_training_follows_formulas),
        T(test_gradcheck),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
