/* SPDX-License-Identifier: MIT */
/*
 * The training kit: dropout (gradients checked by finite differences with
 * the masks held fixed, off at inference, reproducible), gradient-norm
 * clipping, learning-rate schedules against their formulas, the plateau
 * schedule and early stopping on constructed cases (through nn_fit and
 * through the epoch hooks), the per-epoch history,
 * the input transform, and bad input for each of these functions.
 * White-box where the library hides what must be held fixed (the masks).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net.h"
#include "nn.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t lcg_state;

/* Deterministic uniform values in [lo, hi), independent of the library. */
static float uniform(float lo, float hi)
{
    lcg_state = lcg_state * 6364136223846793005u + 1442695040888963407u;
    return lo + (hi - lo) * (float)((lcg_state >> 40) * 0x1.0p-24);
}

static float *random_floats(size_t n, float lo, float hi)
{
    float *v = malloc(n * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = uniform(lo, hi);
    return v;
}

static nn_net *make_net(size_t n_sizes, const size_t *sizes,
                        const nn_activation *acts, unsigned flags,
                        uint64_t seed)
{
    nn_net *net = NULL;
    assert_int_equal(nn_create(&net, n_sizes, sizes, acts, flags, seed),
                     NN_OK);
    return net;
}

static void assert_close(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol * fmax(1.0, fabs(want))))
        fail_msg("got %.12g, want %.12g (tolerance %g)", got, want, tol);
}

/* ---- an independent double-precision reference for dropout ---- */

static double ref_activate(nn_activation act, double z)
{
    switch (act) {
    case NN_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case NN_TANH: return tanh(z);
    case NN_RELU: return z > 0 ? z : 0;
    case NN_LEAKY_RELU: return z > 0 ? z : 0.01 * z;
    default: return z;
    }
}

/* MSE cost of a net with identity output, hidden dropout multipliers
 * `mask[l]` (rows x sizes[l]) applied after each hidden activation, and
 * parameters `theta` in the contract's layout. */
static double ref_cost(const nn_net *net, const double *theta,
                       float *const *mask, const float *x, const float *y,
                       size_t rows)
{
    size_t L = nn_num_layers(net) - 1, width = 0;
    for (size_t l = 0; l <= L; l++)
        width = nn_layer_size(net, l) > width ? nn_layer_size(net, l) : width;
    double *a = calloc(rows * width, sizeof *a), *b = calloc(rows * width,
                                                             sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    for (size_t i = 0; i < rows * nn_layer_size(net, 0); i++)
        a[i] = x[i];
    size_t off = 0;
    for (size_t l = 0; l < L; l++) {
        size_t n_in = nn_layer_size(net, l), n_out = nn_layer_size(net, l + 1);
        const double *w = theta + off, *bias = theta + off + n_in * n_out;
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < n_out; j++) {
                double z = bias[j];
                for (size_t i = 0; i < n_in; i++)
                    z += a[r * n_in + i] * w[i * n_out + j];
                size_t o = r * n_out + j;
                b[o] = l + 1 < L ? ref_activate(net->layers[l].act, z) *
                                       mask[l + 1][o]
                                 : z;
            }
        off += n_in * n_out + n_out;
        double *t = a;
        a = b;
        b = t;
    }
    double cost = 0;
    size_t k = nn_layer_size(net, L);
    for (size_t i = 0; i < rows * k; i++)
        cost += 0.5 * (a[i] - y[i]) * (a[i] - y[i]);
    free(a);
    free(b);
    return cost / (double)rows;
}

static void test_dropout_gradient_with_fixed_masks(void **state)
{
    (void)state;
    nn_activation hidden[] = {NN_SIGMOID, NN_TANH, NN_RELU, NN_LEAKY_RELU,
                              NN_IDENTITY};
    lcg_state = 11;
    for (size_t h = 0; h < LEN(hidden); h++) {
        size_t sizes[] = {4, 7, 6, 2};
        nn_activation acts[] = {hidden[h], hidden[h], NN_IDENTITY};
        nn_net *net = make_net(4, sizes, acts, 0, 100 + h);
        assert_int_equal(nn_set(net, NN_OPT_DROPOUT, 0.3), NN_OK);
        size_t rows = 9;
        float *x = random_floats(rows * 4, -1, 1);
        float *y = random_floats(rows * 2, -1, 1);
        assert_int_equal(nn_backprop(net, x, y, rows, NULL), NN_OK);

        size_t n = nn_param_count(net);
        double *theta = malloc(n * sizeof *theta);
        assert_non_null(theta);
        for (size_t i = 0; i < n; i++)
            theta[i] = nn_params(net)[i];
        size_t checked = 0;
        for (size_t i = 0; i < n; i++) {
            double t0 = theta[i], step = 1e-4;
            theta[i] = t0 + step;
            double plus = ref_cost(net, theta, net->buf.mask, x, y, rows);
            theta[i] = t0 - step;
            double minus = ref_cost(net, theta, net->buf.mask, x, y, rows);
            theta[i] = t0;
            double numeric = (plus - minus) / (2 * step);
            double analytic = nn_grads(net)[i];
            /* ReLU kinks make a few differences meaningless; skip only
             * parameters whose one-sided slopes disagree. */
            double mid = ref_cost(net, theta, net->buf.mask, x, y, rows);
            if (fabs((plus - mid) - (mid - minus)) > 1e-6)
                continue;
            checked++;
            if (fabs(analytic - numeric) > 1e-3 * fmax(1e-2, fabs(numeric)))
                fail_msg("activation %d parameter %zu: analytic %.8g, "
                         "numeric %.8g", hidden[h], i, analytic, numeric);
        }
        assert_true(checked > n * 3 / 4);
        /* nn_gradcheck cannot skip kinks: check it on smooth units. */
        double worst = 0;
        int smooth = hidden[h] != NN_RELU && hidden[h] != NN_LEAKY_RELU;
        if (smooth)
            assert_int_equal(nn_gradcheck(net, x, y, rows, &worst), NN_OK);
        if (!(worst < 1e-2))
            fail_msg("activation %d: nn_gradcheck %g", hidden[h], worst);
        free(theta);
        free(x);
        free(y);
        nn_free(net);
    }
}

static void test_dropout_masks_are_inverted_and_fair(void **state)
{
    (void)state;
    size_t sizes[] = {3, 200, 1};
    nn_activation acts[] = {NN_SIGMOID, NN_IDENTITY};
    nn_net *net = make_net(3, sizes, acts, 0, 5);
    assert_int_equal(nn_set(net, NN_OPT_DROPOUT, 0.25), NN_OK);
    lcg_state = 3;
    size_t rows = 50;
    float *x = random_floats(rows * 3, -1, 1), *y = random_floats(rows, 0, 1);
    assert_int_equal(nn_backprop(net, x, y, rows, NULL), NN_OK);
    size_t zeros = 0, total = rows * 200;
    for (size_t i = 0; i < total; i++) {
        float m = net->buf.mask[1][i];
        assert_true(m == 0.0f || m == (float)(1.0 / 0.75));
        zeros += m == 0.0f;
    }
    /* 10 000 Bernoulli(0.25) draws: 5 standard deviations is +-217. */
    assert_true(zeros > 2500 - 217 && zeros < 2500 + 217);
    free(x);
    free(y);
    nn_free(net);
}

static void test_dropout_is_off_at_inference(void **state)
{
    (void)state;
    size_t sizes[] = {5, 16, 16, 3};
    nn_activation acts[] = {NN_RELU, NN_TANH, NN_SOFTMAX};
    nn_net *with = make_net(4, sizes, acts, 0, 9);
    nn_net *without = make_net(4, sizes, acts, 0, 9);
    assert_int_equal(nn_set(with, NN_OPT_DROPOUT, 0.5), NN_OK);
    lcg_state = 4;
    size_t rows = 20;
    float *x = random_floats(rows * 5, -2, 2);
    float a[60], b[60], c[60];
    assert_int_equal(nn_forward(with, x, rows, a), NN_OK);
    assert_int_equal(nn_predict(with, x, rows, b), NN_OK);
    assert_int_equal(nn_forward(without, x, rows, c), NN_OK);
    assert_memory_equal(a, c, sizeof a);
    assert_memory_equal(b, c, sizeof b);
    free(x);
    nn_free(with);
    nn_free(without);
}

static void test_dropout_training_is_reproducible(void **state)
{
    (void)state;
    size_t sizes[] = {4, 12, 2};
    nn_activation acts[] = {NN_RELU, NN_SOFTMAX};
    lcg_state = 8;
    size_t n = 40;
    float *x = random_floats(n * 4, -1, 1), *y = calloc(n * 2, sizeof *y);
    assert_non_null(y);
    for (size_t i = 0; i < n; i++)
        y[i * 2 + (x[i * 4] > 0)] = 1;
    nn_net *nets[2];
    for (int k = 0; k < 2; k++) {
        nets[k] = make_net(3, sizes, acts, 0, 77);
        assert_int_equal(nn_set(nets[k], NN_OPT_DROPOUT, 0.2), NN_OK);
        assert_int_equal(nn_set(nets[k], NN_OPT_BATCH_SIZE, 8), NN_OK);
        assert_int_equal(nn_train(nets[k], x, y, n, 3, NULL, NULL), NN_OK);
    }
    assert_memory_equal(nn_params(nets[0]), nn_params(nets[1]),
                        nn_param_count(nets[0]) * sizeof(float));
    free(x);
    free(y);
    nn_free(nets[0]);
    nn_free(nets[1]);
}

/* ---- clipping ---- */

static void test_clip_norm_scales_the_gradient(void **state)
{
    (void)state;
    size_t sizes[] = {3, 4, 2};
    nn_activation acts[] = {NN_TANH, NN_IDENTITY};
    lcg_state = 21;
    float *x = random_floats(6 * 3, -1, 1), *y = random_floats(6 * 2, 2, 4);
    const double lrs[] = {0.1}, clips[] = {0.05, 1e6};
    for (size_t c = 0; c < LEN(clips); c++) {
        nn_net *net = make_net(3, sizes, acts, 0, 31);
        assert_int_equal(nn_set(net, NN_OPT_LEARNING_RATE, lrs[0]), NN_OK);
        assert_int_equal(nn_set(net, NN_OPT_CLIP_NORM, clips[c]), NN_OK);
        assert_int_equal(nn_backprop(net, x, y, 6, NULL), NN_OK);
        size_t n = nn_param_count(net);
        double norm = 0;
        for (size_t i = 0; i < n; i++)
            norm += (double)nn_grads(net)[i] * nn_grads(net)[i];
        norm = sqrt(norm);
        double coef = fmin(1.0, clips[c] / (norm + 1e-6));
        float *before = malloc(n * sizeof *before);
        float *g = malloc(n * sizeof *g);
        assert_non_null(before);
        assert_non_null(g);
        memcpy(before, nn_params(net), n * sizeof *before);
        memcpy(g, nn_grads(net), n * sizeof *g);
        assert_int_equal(nn_step(net), NN_OK);
        for (size_t i = 0; i < n; i++)
            assert_close(nn_params(net)[i], before[i] - lrs[0] * coef * g[i],
                         1e-6);
        if (c == 0)
            assert_true(coef < 0.5); /* the case really clipped */
        free(before);
        free(g);
        nn_free(net);
    }
    free(x);
    free(y);
}

/* ---- schedules ---- */

/* Trains `epochs` epochs of one full batch each and returns the history of
 * learning rates (caller frees). */
static double *scheduled_rates(double lr0, int schedule, const int *options,
                               const double *values, size_t n_options,
                               size_t epochs)
{
    size_t sizes[] = {2, 3, 1};
    nn_activation acts[] = {NN_SIGMOID, NN_IDENTITY};
    nn_net *net = make_net(3, sizes, acts, 0, 1);
    assert_int_equal(nn_set(net, NN_OPT_LEARNING_RATE, lr0), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_SCHEDULE, schedule), NN_OK);
    for (size_t i = 0; i < n_options; i++)
        assert_int_equal(nn_set(net, options[i], values[i]), NN_OK);
    float x[] = {0.1f, 0.2f, 0.3f, 0.4f}, y[] = {0.5f, 0.25f};
    assert_int_equal(nn_train(net, x, y, 2, epochs, NULL, NULL), NN_OK);
    assert_int_equal(nn_history_len(net), epochs);
    double *rates = calloc(epochs, sizeof *rates);
    assert_non_null(rates);
    assert_int_equal(nn_history(net, NN_HIST_LEARNING_RATE, rates, epochs),
                     NN_OK);
    double done = 0, current = 0;
    assert_int_equal(nn_get(net, NN_OPT_EPOCHS_DONE, &done), NN_OK);
    assert_int_equal(nn_get(net, NN_OPT_CURRENT_LR, &current), NN_OK);
    assert_close(done, (double)epochs, 0);
    assert_close(current, rates[epochs - 1], 1e-15);
    nn_free(net);
    return rates;
}

static void test_schedules_follow_their_formulas(void **state)
{
    (void)state;
    const double lr0 = 0.2, pi = 3.14159265358979323846;
    size_t E = 12;

    int step_opts[] = {NN_OPT_STEP_SIZE, NN_OPT_GAMMA};
    double step_vals[] = {3, 0.5};
    double *r = scheduled_rates(lr0, NN_SCHEDULE_STEP, step_opts, step_vals,
                                2, E);
    for (size_t e = 0; e < E; e++)
        assert_close(r[e], lr0 * pow(0.5, (double)(e / 3)), 1e-12);
    free(r);

    int exp_opts[] = {NN_OPT_GAMMA};
    double exp_vals[] = {0.9};
    r = scheduled_rates(lr0, NN_SCHEDULE_EXPONENTIAL, exp_opts, exp_vals, 1,
                        E);
    for (size_t e = 0; e < E; e++)
        assert_close(r[e], lr0 * pow(0.9, (double)e), 1e-12);
    free(r);

    int cos_opts[] = {NN_OPT_T_MAX, NN_OPT_MIN_LR};
    double cos_vals[] = {8, 0.01};
    r = scheduled_rates(lr0, NN_SCHEDULE_COSINE, cos_opts, cos_vals, 2, E);
    for (size_t e = 0; e < E; e++) {
        double t = fmin((double)e, 8.0);
        assert_close(r[e], 0.01 + (lr0 - 0.01) * (1 + cos(pi * t / 8)) / 2,
                     1e-12);
    }
    free(r);

    r = scheduled_rates(lr0, NN_SCHEDULE_CONSTANT, NULL, NULL, 0, E);
    for (size_t e = 0; e < E; e++)
        assert_close(r[e], lr0, 0);
    free(r);
}

static void test_schedule_drives_the_update(void **state)
{
    (void)state;
    /* Two epochs of one full SGD step each with an exponential schedule
     * equal two manual steps at lr0 and lr0 * gamma. */
    size_t sizes[] = {2, 4, 1};
    nn_activation acts[] = {NN_TANH, NN_IDENTITY};
    nn_net *scheduled = make_net(3, sizes, acts, 0, 12);
    nn_net *manual = make_net(3, sizes, acts, 0, 12);
    float x[] = {0.1f, -0.7f, 0.9f, 0.3f, -0.2f, 0.5f};
    float y[] = {0.3f, -0.4f, 0.8f};
    assert_int_equal(nn_set(scheduled, NN_OPT_SCHEDULE,
                            NN_SCHEDULE_EXPONENTIAL), NN_OK);
    assert_int_equal(nn_set(scheduled, NN_OPT_GAMMA, 0.5), NN_OK);
    assert_int_equal(nn_set(scheduled, NN_OPT_LEARNING_RATE, 0.1), NN_OK);
    assert_int_equal(nn_set(scheduled, NN_OPT_SHUFFLE, 0), NN_OK);
    assert_int_equal(nn_train(scheduled, x, y, 3, 2, NULL, NULL), NN_OK);

    assert_int_equal(nn_set(manual, NN_OPT_LEARNING_RATE, 0.1), NN_OK);
    assert_int_equal(nn_backprop(manual, x, y, 3, NULL), NN_OK);
    assert_int_equal(nn_step(manual), NN_OK);
    assert_int_equal(nn_set(manual, NN_OPT_LEARNING_RATE, 0.05), NN_OK);
    assert_int_equal(nn_backprop(manual, x, y, 3, NULL), NN_OK);
    assert_int_equal(nn_step(manual), NN_OK);
    for (size_t i = 0; i < nn_param_count(manual); i++)
        assert_close(nn_params(scheduled)[i], nn_params(manual)[i], 1e-6);
    nn_free(scheduled);
    nn_free(manual);
}

static void test_plateau_schedule_on_a_flat_loss(void **state)
{
    (void)state;
    /* A learning rate too small to move the loss: every epoch after the
     * first is a bad one, so the rate falls by gamma after each
     * patience + 1 epochs, never below the floor. */
    size_t sizes[] = {2, 3, 1};
    nn_activation acts[] = {NN_SIGMOID, NN_IDENTITY};
    nn_net *net = make_net(3, sizes, acts, 0, 2);
    const double lr0 = 1e-12, gamma = 0.5, floor_lr = 0.3e-12;
    assert_int_equal(nn_set(net, NN_OPT_LEARNING_RATE, lr0), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_SCHEDULE, NN_SCHEDULE_PLATEAU), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_PLATEAU_PATIENCE, 2), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_GAMMA, gamma), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_MIN_LR, floor_lr), NN_OK);
    float x[] = {0.1f, 0.2f, 0.3f, 0.4f}, y[] = {0.5f, 0.25f};
    size_t E = 12;
    assert_int_equal(nn_train(net, x, y, 2, E, NULL, NULL), NN_OK);
    double r[12];
    assert_int_equal(nn_history(net, NN_HIST_LEARNING_RATE, r, E), NN_OK);
    /* Epoch 0 sets the best; epochs 1..3 are bad; the third bad one
     * exceeds the patience, so epoch 4 runs at lr0 * gamma, and so on. */
    const double want[12] = {lr0, lr0, lr0, lr0, lr0 * gamma, lr0 * gamma,
                             lr0 * gamma, lr0 * 0.25, lr0 * 0.25,
                             lr0 * 0.25, floor_lr, floor_lr};
    for (size_t e = 0; e < E; e++)
        assert_close(r[e], want[e], 1e-9);
    nn_free(net);
}

/* ---- early stopping and history ---- */

typedef struct watch {
    size_t n_params;
    float *best;        /* parameters at the lowest validation loss */
    double best_loss;
    size_t best_epoch;
    const float *x_val, *y_val;
    size_t n_val;
    int evaluated_ok;
} watch;

static int watch_epoch(void *user, const nn_net *net, size_t epoch)
{
    watch *w = user;
    size_t len = nn_history_len(net);
    double val[64], acc[64];
    if (len != epoch + 1 || len > 64 ||
        nn_history(net, NN_HIST_VAL_LOSS, val, len) != NN_OK ||
        nn_history(net, NN_HIST_VAL_ACCURACY, acc, len) != NN_OK)
        return 1;
    /* The recorded validation figures are nn_evaluate's on these weights. */
    double cost, accuracy;
    if (nn_evaluate(net, w->x_val, w->y_val, w->n_val, &cost, &accuracy) !=
            NN_OK ||
        fabs(cost - val[epoch]) > 1e-9 * fmax(1, cost) ||
        fabs(accuracy - acc[epoch]) > 1e-12)
        w->evaluated_ok = 0;
    if (val[epoch] < w->best_loss) {
        w->best_loss = val[epoch];
        w->best_epoch = epoch;
        memcpy(w->best, nn_params((nn_net *)net), w->n_params * sizeof(float));
    }
    return 0;
}

static void test_early_stopping_restores_the_best_weights(void **state)
{
    (void)state;
    /* Validation labels are the training labels flipped: the better the
     * network learns, the worse it validates, so training stops early. */
    size_t sizes[] = {2, 8, 1};
    nn_activation acts[] = {NN_TANH, NN_SIGMOID};
    nn_net *net = make_net(3, sizes, acts, 0, 4);
    assert_int_equal(nn_set(net, NN_OPT_LOSS, NN_LOSS_BINARY_CROSS_ENTROPY),
                     NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_LEARNING_RATE, 0.5), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_EARLY_STOPPING, 3), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_BATCH_SIZE, 10), NN_OK);
    lcg_state = 42;
    size_t n = 40;
    float *x = random_floats(n * 2, -1, 1);
    float *y = malloc(n * sizeof *y), *y_flip = malloc(n * sizeof *y);
    assert_non_null(y);
    assert_non_null(y_flip);
    for (size_t i = 0; i < n; i++) {
        y[i] = x[2 * i] + x[2 * i + 1] > 0 ? 1.0f : 0.0f;
        y_flip[i] = 1.0f - y[i];
    }
    watch w = {nn_param_count(net), malloc(nn_param_count(net) * 4),
               HUGE_VAL, 0, x, y_flip, n, 1};
    assert_non_null(w.best);
    assert_int_equal(nn_fit(net, x, y, n, x, y_flip, n, 50, NULL,
                            watch_epoch, &w),
                     NN_OK);
    size_t len = nn_history_len(net);
    assert_true(len < 50);                   /* it stopped early */
    assert_int_equal(len, w.best_epoch + 1 + 3); /* after 3 worse epochs */
    assert_true(w.evaluated_ok);
    assert_memory_equal(nn_params(net), w.best, w.n_params * sizeof(float));
    free(w.best);
    free(x);
    free(y);
    free(y_flip);
    nn_free(net);
}

typedef struct cost_log {
    double sum;
    size_t steps;
    int stop_at;
} cost_log;

static int log_cost(void *user, size_t epoch, size_t step, size_t steps,
                    double cost)
{
    (void)epoch;
    (void)steps;
    cost_log *log = user;
    log->sum += cost;
    log->steps++;
    return log->stop_at >= 0 && (int)step == log->stop_at;
}

static void test_history_of_train_loss(void **state)
{
    (void)state;
    size_t sizes[] = {3, 5, 2};
    nn_activation acts[] = {NN_RELU, NN_SOFTMAX};
    nn_net *net = make_net(3, sizes, acts, 0, 6);
    assert_int_equal(nn_set(net, NN_OPT_BATCH_SIZE, 4), NN_OK);
    lcg_state = 5;
    size_t n = 16; /* four equal minibatches per epoch */
    float *x = random_floats(n * 3, -1, 1), *y = calloc(n * 2, sizeof *y);
    assert_non_null(y);
    for (size_t i = 0; i < n; i++)
        y[2 * i + (x[3 * i] > 0)] = 1;
    cost_log log = {0, 0, -1};
    assert_int_equal(nn_train(net, x, y, n, 1, log_cost, &log), NN_OK);
    double train_loss, acc, val;
    assert_int_equal(nn_history(net, NN_HIST_TRAIN_LOSS, &train_loss, 1),
                     NN_OK);
    assert_int_equal(nn_history(net, NN_HIST_TRAIN_ACCURACY, &acc, 1), NN_OK);
    assert_int_equal(nn_history(net, NN_HIST_VAL_LOSS, &val, 1), NN_OK);
    assert_close(train_loss, log.sum / 4, 1e-12);
    assert_true(acc >= 0 && acc <= 1 && acc * 16 == floor(acc * 16));
    assert_true(isnan(val));
    /* A stop from the progress callback still records the partial epoch. */
    cost_log stop = {0, 0, 1};
    assert_int_equal(nn_train(net, x, y, n, 5, log_cost, &stop), NN_OK);
    assert_int_equal(stop.steps, 2);
    assert_int_equal(nn_history_len(net), 1);
    assert_int_equal(nn_history(net, NN_HIST_TRAIN_LOSS, &train_loss, 1),
                     NN_OK);
    assert_close(train_loss, stop.sum / 2, 1e-12);
    free(x);
    free(y);
    nn_free(net);
}

/* ---- input transform ---- */

static void test_input_transform_applies_before_the_first_layer(void **state)
{
    (void)state;
    size_t sizes[] = {3, 6, 2};
    nn_activation acts[] = {NN_TANH, NN_SOFTMAX};
    nn_net *net = make_net(3, sizes, acts, 0, 13);
    nn_net *plain = make_net(3, sizes, acts, 0, 13);
    const float shift[] = {10, -5, 0.5f}, scale[] = {0.1f, 2, 1};
    assert_int_equal(nn_set_input_transform(net, shift, scale), NN_OK);
    lcg_state = 9;
    size_t rows = 300; /* more than nn_predict's chunk */
    float *x = random_floats(rows * 3, -20, 20);
    float *xt = malloc(rows * 3 * sizeof *xt);
    float *a = malloc(rows * 2 * sizeof *a), *b = malloc(rows * 2 * sizeof *b);
    float *c = malloc(rows * 2 * sizeof *c);
    assert_non_null(xt);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    for (size_t i = 0; i < rows * 3; i++)
        xt[i] = (x[i] - shift[i % 3]) * scale[i % 3];
    assert_int_equal(nn_predict(net, x, rows, a), NN_OK);
    assert_int_equal(nn_forward(net, x, rows, b), NN_OK);
    assert_int_equal(nn_predict(plain, xt, rows, c), NN_OK);
    assert_memory_equal(a, c, rows * 2 * sizeof *a);
    /* One GEMM over 300 rows and nn_predict's chunks may round apart. */
    for (size_t i = 0; i < rows * 2; i++)
        assert_close(b[i], c[i], 1e-5);

    float y[] = {1, 0, 0, 1, 1, 0};
    double worst = 1;
    assert_int_equal(nn_gradcheck(net, x, y, 3, &worst), NN_OK);
    assert_true(worst < 1e-2);

    nn_net *copy = NULL;
    assert_int_equal(nn_clone(net, &copy), NN_OK);
    float got_shift[3], got_scale[3];
    assert_int_equal(nn_get_input_transform(copy, got_shift, got_scale), 1);
    assert_memory_equal(got_shift, shift, sizeof shift);
    assert_memory_equal(got_scale, scale, sizeof scale);

    assert_int_equal(nn_set_input_transform(net, NULL, NULL), NN_OK);
    assert_int_equal(nn_get_input_transform(net, got_shift, got_scale), 0);
    assert_true(got_shift[0] == 0 && got_scale[0] == 1);
    assert_int_equal(nn_predict(net, x, rows, a), NN_OK);
    assert_int_equal(nn_predict(plain, x, rows, c), NN_OK);
    assert_memory_equal(a, c, rows * 2 * sizeof *a);
    free(x);
    free(xt);
    free(a);
    free(b);
    free(c);
    nn_free(copy);
    nn_free(net);
    nn_free(plain);
}

static void test_standardize_inputs_uses_mean_and_std(void **state)
{
    (void)state;
    size_t sizes[] = {3, 2, 1};
    nn_activation acts[] = {NN_RELU, NN_IDENTITY};
    nn_net *net = make_net(3, sizes, acts, 0, 1);
    lcg_state = 17;
    size_t n = 500;
    float *x = random_floats(n * 3, 0, 255);
    for (size_t i = 0; i < n; i++)
        x[i * 3 + 2] = 7.0f; /* a constant feature */
    assert_int_equal(nn_standardize_inputs(net, x, n), NN_OK);
    float shift[3], scale[3];
    assert_int_equal(nn_get_input_transform(net, shift, scale), 1);
    for (size_t j = 0; j < 3; j++) {
        double mean = 0, var = 0;
        for (size_t i = 0; i < n; i++)
            mean += x[i * 3 + j];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++)
            var += (x[i * 3 + j] - mean) * (x[i * 3 + j] - mean);
        double std = sqrt(var / (double)n);
        assert_close(shift[j], mean, 1e-6);
        assert_close(scale[j], j == 2 ? 1.0 : 1.0 / std, 1e-6);
    }
    free(x);
    nn_free(net);
}

/* ---- bad input ---- */

static void test_training_kit_rejects_bad_input(void **state)
{
    (void)state;
    size_t sizes[] = {2, 3, 2};
    nn_activation acts[] = {NN_RELU, NN_SOFTMAX};
    nn_net *net = make_net(3, sizes, acts, 0, 1);
    struct {
        int option;
        double value;
    } bad[] = {
        {NN_OPT_DROPOUT, -0.1}, {NN_OPT_DROPOUT, 1.0}, {NN_OPT_DROPOUT, NAN},
        {NN_OPT_CLIP_NORM, -1}, {NN_OPT_CLIP_NORM, INFINITY},
        {NN_OPT_SCHEDULE, 5}, {NN_OPT_SCHEDULE, 1.5}, {NN_OPT_SCHEDULE, -1},
        {NN_OPT_STEP_SIZE, 0}, {NN_OPT_STEP_SIZE, 2.5},
        {NN_OPT_GAMMA, 0}, {NN_OPT_GAMMA, 1.5}, {NN_OPT_GAMMA, NAN},
        {NN_OPT_T_MAX, 0}, {NN_OPT_T_MAX, 1e12}, {NN_OPT_MIN_LR, -1},
        {NN_OPT_PLATEAU_PATIENCE, -1}, {NN_OPT_PLATEAU_PATIENCE, 0.5},
        {NN_OPT_EARLY_STOPPING, -2}, {NN_OPT_EARLY_STOPPING, NAN},
        {NN_OPT_CURRENT_LR, 0.1}, {NN_OPT_EPOCHS_DONE, 3}, {23, 1}, {-1, 1},
    };
    for (size_t i = 0; i < LEN(bad); i++) {
        double before = -7, after = -7;
        int readable = nn_get(net, bad[i].option, &before) == NN_OK;
        assert_int_equal(nn_set(net, bad[i].option, bad[i].value), NN_EINVAL);
        assert_true(strlen(nn_last_error(net)) > 0);
        if (readable) {
            assert_int_equal(nn_get(net, bad[i].option, &after), NN_OK);
            assert_true(before == after);
        }
    }
    float x[] = {1, 2}, y[] = {1, 0}, nan_x[] = {NAN, 2}, out[2];
    assert_int_equal(nn_fit(NULL, x, y, 1, NULL, NULL, 0, 1, NULL, NULL, NULL),
                     NN_EINVAL);
    assert_int_equal(nn_fit(net, x, y, 1, NULL, y, 1, 1, NULL, NULL, NULL),
                     NN_EINVAL);
    assert_int_equal(nn_fit(net, x, y, 1, x, y, 1, 0, NULL, NULL, NULL),
                     NN_EINVAL);
    assert_int_equal(nn_fit(net, x, y, 1, nan_x, y, 1, 1, NULL, NULL, NULL),
                     NN_ENUMERIC);
    assert_int_equal(nn_history_len(net), 0);
    assert_int_equal(nn_history_len(NULL), 0);
    double h[1];
    assert_int_equal(nn_history(NULL, NN_HIST_TRAIN_LOSS, h, 1), NN_EINVAL);
    assert_int_equal(nn_history(net, NN_HIST_TRAIN_LOSS, NULL, 1), NN_EINVAL);
    assert_int_equal(nn_history(net, 5, h, 1), NN_EINVAL);
    assert_int_equal(nn_history(net, -1, h, 1), NN_EINVAL);
    assert_true(strlen(nn_last_error(NULL)) > 0);

    const float shift[] = {1, 2}, scale[] = {1, 1}, bad_scale[] = {1, NAN};
    assert_int_equal(nn_set_input_transform(NULL, shift, scale), NN_EINVAL);
    assert_int_equal(nn_set_input_transform(net, shift, NULL), NN_EINVAL);
    assert_int_equal(nn_set_input_transform(net, NULL, scale), NN_EINVAL);
    assert_int_equal(nn_set_input_transform(net, shift, bad_scale),
                     NN_ENUMERIC);
    assert_int_equal(nn_get_input_transform(net, NULL, NULL), 0);
    assert_int_equal(nn_get_input_transform(NULL, NULL, NULL), NN_EINVAL);
    assert_int_equal(nn_standardize_inputs(NULL, x, 1), NN_EINVAL);
    assert_int_equal(nn_standardize_inputs(net, NULL, 1), NN_EINVAL);
    assert_int_equal(nn_standardize_inputs(net, x, 0), NN_EINVAL);
    assert_int_equal(nn_standardize_inputs(net, nan_x, 1), NN_ENUMERIC);
    assert_int_equal(nn_get_input_transform(net, NULL, NULL), 0);
    /* Nothing above changed the network's outputs. */
    nn_net *fresh = make_net(3, sizes, acts, 0, 1);
    float want[2];
    assert_int_equal(nn_predict(net, x, 1, out), NN_OK);
    assert_int_equal(nn_predict(fresh, x, 1, want), NN_OK);
    assert_memory_equal(out, want, sizeof out);
    nn_free(fresh);
    nn_free(net);
}

static void test_layer_activation_reads_the_architecture(void **state)
{
    (void)state;
    size_t sizes[] = {2, 3, 4, 2};
    nn_activation acts[] = {NN_LEAKY_RELU, NN_TANH, NN_SOFTMAX};
    nn_net *net = make_net(4, sizes, acts, 0, 1);
    for (size_t l = 0; l < 3; l++)
        assert_int_equal(nn_layer_activation(net, l), acts[l]);
    assert_int_equal(nn_layer_activation(net, 3), NN_EINVAL);
    assert_int_equal(nn_layer_activation(net, SIZE_MAX), NN_EINVAL);
    assert_true(strlen(nn_last_error(NULL)) > 0);
    assert_int_equal(nn_layer_activation(NULL, 0), NN_EINVAL);
    nn_free(net);
}

static void test_shuffle_draws_the_training_order(void **state)
{
    (void)state;
    size_t sizes[] = {2, 3, 1};
    nn_activation acts[] = {NN_TANH, NN_IDENTITY};
    nn_net *a = make_net(3, sizes, acts, 0, 21);
    nn_net *b = make_net(3, sizes, acts, 0, 21);
    size_t n = 50, first[50], again[50], other[50];
    int seen[50] = {0};
    assert_int_equal(nn_shuffle(a, first, n), NN_OK);
    for (size_t i = 0; i < n; i++) {
        assert_true(first[i] < n && !seen[first[i]]);
        seen[first[i]] = 1;
    }
    /* One epoch of nn_train advances the generator exactly as one draw. */
    float *x = random_floats(n * 2, -1, 1), *y = random_floats(n, -1, 1);
    assert_int_equal(nn_train(b, x, y, n, 1, NULL, NULL), NN_OK);
    assert_int_equal(nn_shuffle(a, again, n), NN_OK);
    assert_int_equal(nn_shuffle(b, other, n), NN_OK);
    assert_memory_equal(again, other, sizeof again);
    assert_memory_not_equal(first, again, sizeof first);
    assert_int_equal(nn_shuffle(NULL, first, n), NN_EINVAL);
    assert_int_equal(nn_shuffle(a, NULL, n), NN_EINVAL);
    assert_int_equal(nn_shuffle(a, first, 0), NN_EINVAL);
    assert_true(strlen(nn_last_error(a)) > 0);
    free(x);
    free(y);
    nn_free(a);
    nn_free(b);
}

/* ---- epochs run outside nn_fit: the epoch hooks ---- */

/* nn_fit's epochs written out with the public verbs and the epoch hooks:
 * nn_shuffle, gather, nn_backprop, nn_step, the metrics nn_fit records
 * (training accuracy counted by nn_count_correct from the outputs before
 * each update; nn_evaluate on the validation data, when n_val > 0), early
 * stopping and the best weights restored. Returns the epochs run. */
static size_t train_by_hand(nn_net *net, const float *x, const float *y,
                            size_t n, const float *x_val,
                            const float *y_val, size_t n_val, size_t epochs)
{
    size_t n_in = nn_layer_size(net, 0), n_out = nn_layer_size(net, 2);
    double batch_d = 0;
    assert_int_equal(nn_get(net, NN_OPT_BATCH_SIZE, &batch_d), NN_OK);
    size_t batch = (size_t)batch_d, *order = malloc(n * sizeof *order);
    float *xb = malloc(batch * n_in * sizeof *xb);
    float *yb = malloc(batch * n_out * sizeof *yb);
    float *out = malloc(batch * n_out * sizeof *out);
    assert_true(order && xb && yb && out);
    assert_int_equal(nn_history_clear(net), NN_OK);
    size_t e = 0;
    for (int stop = 0; e < epochs && !stop; e++) {
        assert_int_equal(nn_epoch_begin(net), NN_OK);
        assert_int_equal(nn_shuffle(net, order, n), NN_OK);
        double loss_sum = 0;
        size_t correct = 0;
        for (size_t start = 0; start < n; start += batch) {
            size_t rows = n - start < batch ? n - start : batch;
            for (size_t i = 0; i < rows; i++) {
                memcpy(xb + i * n_in, x + order[start + i] * n_in,
                       n_in * sizeof *xb);
                memcpy(yb + i * n_out, y + order[start + i] * n_out,
                       n_out * sizeof *yb);
            }
            double cost;
            size_t got_rows = 0;
            assert_int_equal(nn_forward(net, xb, rows, out), NN_OK);
            assert_int_equal(nn_backprop(net, xb, yb, rows, &cost), NN_OK);
            /* nn_backprop's own outputs: those of nn_forward, up to
             * rounding. The training pass takes its products from the
             * BLAS, nn_forward from the batch-invariant kernel; both sum
             * at most 5 terms of unit scale, so the probabilities agree
             * within a few float32 ulps (2^-23 = 1.2e-7): 1e-6. */
            const float *y_hat = nn_outputs(net, &got_rows);
            assert_true(y_hat && got_rows == rows);
            for (size_t i = 0; i < rows * n_out; i++)
                assert_close(y_hat[i], out[i], 1e-6);
            size_t hits = 0;
            assert_int_equal(nn_count_correct(y_hat, yb, rows, n_out, &hits),
                             NN_OK);
            correct += hits;
            loss_sum += cost * (double)rows;
            assert_int_equal(nn_step(net), NN_OK);
        }
        double m[] = {loss_sum / (double)n, (double)correct / (double)n,
                      NAN, NAN};
        if (n_val > 0)
            assert_int_equal(nn_evaluate(net, x_val, y_val, n_val, &m[2],
                                         &m[3]),
                             NN_OK);
        assert_int_equal(nn_epoch_end(net, m, 4), NN_OK);
        assert_int_equal(nn_epoch_should_stop(net, &stop), NN_OK);
    }
    assert_int_equal(nn_restore_best_weights(net), NN_OK);
    free(order);
    free(xb);
    free(yb);
    free(out);
    return e;
}

static void test_epoch_hooks_reproduce_nn_train(void **state)
{
    (void)state;
    /* every schedule; 50 samples in batches of 16 (the last one of 2) */
    const int schedules[] = {NN_SCHEDULE_CONSTANT, NN_SCHEDULE_STEP,
                             NN_SCHEDULE_EXPONENTIAL, NN_SCHEDULE_COSINE,
                             NN_SCHEDULE_PLATEAU};
    size_t sizes[] = {4, 5, 3}, n = 50, E = 7;
    nn_activation acts[] = {NN_TANH, NN_SOFTMAX};
    lcg_state = 77;
    float *x = random_floats(n * 4, -1, 1), y[50 * 3] = {0};
    for (size_t i = 0; i < n; i++)
        y[i * 3 + (x[i * 4] > 0) + (x[i * 4 + 1] > 0.5f)] = 1;
    for (size_t k = 0; k < LEN(schedules); k++) {
        nn_net *nets[2];
        for (int which = 0; which < 2; which++) {
            nn_net *net = nets[which] = make_net(3, sizes, acts, 0, 5);
            assert_int_equal(nn_set(net, NN_OPT_OPTIMIZER, NN_MOMENTUM),
                             NN_OK);
            assert_int_equal(nn_set(net, NN_OPT_LEARNING_RATE, 0.3), NN_OK);
            assert_int_equal(nn_set(net, NN_OPT_BATCH_SIZE, 16), NN_OK);
            assert_int_equal(nn_set(net, NN_OPT_SCHEDULE, schedules[k]),
                             NN_OK);
            assert_int_equal(nn_set(net, NN_OPT_STEP_SIZE, 2), NN_OK);
            assert_int_equal(nn_set(net, NN_OPT_GAMMA, 0.5), NN_OK);
            assert_int_equal(nn_set(net, NN_OPT_T_MAX, 5), NN_OK);
            assert_int_equal(nn_set(net, NN_OPT_PLATEAU_PATIENCE, 0), NN_OK);
        }
        assert_int_equal(nn_train(nets[0], x, y, n, E, NULL, NULL), NN_OK);
        assert_int_equal(train_by_hand(nets[1], x, y, n, NULL, NULL, 0, E),
                         E);
        /* the same steps at the same rates: the same bits */
        assert_memory_equal(nn_params(nets[0]), nn_params(nets[1]),
                            nn_param_count(nets[0]) * sizeof(float));
        assert_int_equal(nn_history_len(nets[1]), E);
        for (int m = 0; m <= NN_HIST_LEARNING_RATE; m++) {
            double a[7], b[7];
            assert_int_equal(nn_history(nets[0], m, a, E), NN_OK);
            assert_int_equal(nn_history(nets[1], m, b, E), NN_OK);
            for (size_t e = 0; e < E; e++)
                assert_true(a[e] == b[e] || (isnan(a[e]) && isnan(b[e])));
        }
        double done[2], lr[2];
        for (int which = 0; which < 2; which++) {
            assert_int_equal(nn_get(nets[which], NN_OPT_EPOCHS_DONE,
                                    &done[which]), NN_OK);
            assert_int_equal(nn_get(nets[which], NN_OPT_CURRENT_LR,
                                    &lr[which]), NN_OK);
        }
        assert_true(done[0] == (double)E && done[1] == (double)E);
        assert_true(lr[0] == lr[1]);
        nn_free(nets[0]);
        nn_free(nets[1]);
    }
    free(x);
}

static void test_epoch_hooks_reproduce_early_stopping(void **state)
{
    (void)state;
    /* test_early_stopping_restores_the_best_weights's case: validation
     * labels flipped, so that nn_fit stops early */
    size_t sizes[] = {2, 8, 1}, n = 40, E = 50;
    nn_activation acts[] = {NN_TANH, NN_SIGMOID};
    lcg_state = 42;
    float *x = random_floats(n * 2, -1, 1), y[40], y_flip[40];
    for (size_t i = 0; i < n; i++) {
        y[i] = x[2 * i] + x[2 * i + 1] > 0 ? 1.0f : 0.0f;
        y_flip[i] = 1.0f - y[i];
    }
    nn_net *nets[2];
    for (int which = 0; which < 2; which++) {
        nn_net *net = nets[which] = make_net(3, sizes, acts, 0, 4);
        assert_int_equal(nn_set(net, NN_OPT_LOSS,
                                NN_LOSS_BINARY_CROSS_ENTROPY), NN_OK);
        assert_int_equal(nn_set(net, NN_OPT_LEARNING_RATE, 0.5), NN_OK);
        assert_int_equal(nn_set(net, NN_OPT_EARLY_STOPPING, 3), NN_OK);
        assert_int_equal(nn_set(net, NN_OPT_BATCH_SIZE, 10), NN_OK);
    }
    assert_int_equal(nn_fit(nets[0], x, y, n, x, y_flip, n, E, NULL, NULL,
                            NULL), NN_OK);
    size_t ran = train_by_hand(nets[1], x, y, n, x, y_flip, n, E);
    assert_true(ran < E); /* stopped early, after the same epoch */
    assert_int_equal(nn_history_len(nets[0]), ran);
    assert_memory_equal(nn_params(nets[0]), nn_params(nets[1]),
                        nn_param_count(nets[0]) * sizeof(float));
    for (int m = 0; m <= NN_HIST_LEARNING_RATE; m++) {
        double a[50], b[50];
        assert_int_equal(nn_history(nets[0], m, a, E), NN_OK);
        assert_int_equal(nn_history(nets[1], m, b, E), NN_OK);
        /* nn_fit validates in chunks of its batch buffers, nn_evaluate
         * in chunks of 256 rows: the same outputs, the loss summed in
         * another order (double rounding); the rest are the same bits */
        for (size_t e = 0; e < ran; e++)
            if (m == NN_HIST_VAL_LOSS)
                assert_close(b[e], a[e], 1e-12);
            else
                assert_true(a[e] == b[e]);
    }
    free(x);
    nn_free(nets[0]);
    nn_free(nets[1]);
}

/* Fills every parameter with v: each epoch's weights are told apart. */
static void fill_params(nn_net *net, float v)
{
    for (size_t i = 0; i < nn_param_count(net); i++)
        nn_params(net)[i] = v;
}

static void assert_params_all(nn_net *net, float v)
{
    for (size_t i = 0; i < nn_param_count(net); i++)
        assert_true(nn_params(net)[i] == v);
}

static void test_epoch_hooks_keep_the_best_weights(void **state)
{
    (void)state;
    /* Patience 2. By the rule: a validation loss below every earlier one
     * keeps the weights and resets the count; any other counts one epoch
     * (an equal one too); NaN (none) counts nothing. */
    const double val[] = {3, 2, 2.5, 2, 1, NAN, 4, 5};
    const int want_stop[] = {0, 0, 0, 1, 0, 0, 0, 1};
    size_t sizes[] = {2, 2};
    nn_activation act = NN_IDENTITY;
    nn_net *net = make_net(2, sizes, &act, 0, 1), *copy = NULL;
    assert_int_equal(nn_set(net, NN_OPT_EARLY_STOPPING, 2), NN_OK);
    assert_int_equal(nn_history_clear(net), NN_OK);
    for (size_t e = 0; e < LEN(val); e++) {
        fill_params(net, (float)(e + 1)); /* epoch e's weights */
        assert_int_equal(nn_epoch_begin(net), NN_OK);
        double m[] = {1.0, NAN, val[e]};
        assert_int_equal(nn_epoch_end(net, m, 3), NN_OK);
        int stop = -1;
        assert_int_equal(nn_epoch_should_stop(net, &stop), NN_OK);
        assert_int_equal(stop, want_stop[e]);
        if (e == 3) /* the clone carries the account: best epoch 1 */
            assert_int_equal(nn_clone(net, &copy), NN_OK);
    }
    fill_params(net, 99);
    assert_int_equal(nn_restore_best_weights(net), NN_OK);
    assert_params_all(net, 5); /* epoch 4's, loss 1 */
    assert_int_equal(nn_restore_best_weights(copy), NN_OK);
    assert_params_all(copy, 2); /* epoch 1's, loss 2 */
    int stop = -1;
    assert_int_equal(nn_epoch_should_stop(copy, &stop), NN_OK);
    assert_int_equal(stop, 1);
    /* patience 0: never stop, whatever the count */
    assert_int_equal(nn_set(copy, NN_OPT_EARLY_STOPPING, 0), NN_OK);
    assert_int_equal(nn_epoch_should_stop(copy, &stop), NN_OK);
    assert_int_equal(stop, 0);
    /* a new run forgets the account: nothing to restore, no stop */
    assert_int_equal(nn_history_clear(net), NN_OK);
    fill_params(net, 99);
    assert_int_equal(nn_restore_best_weights(net), NN_OK);
    assert_params_all(net, 99);
    assert_int_equal(nn_epoch_should_stop(net, &stop), NN_OK);
    assert_int_equal(stop, 0);
    /* without a validation loss (count 2, or NaN) nothing is kept */
    double no_val[] = {1.0, 0.5};
    assert_int_equal(nn_epoch_end(net, no_val, 2), NN_OK);
    fill_params(net, 7);
    assert_int_equal(nn_restore_best_weights(net), NN_OK);
    assert_params_all(net, 7);
    /* bad input */
    stop = 5;
    assert_int_equal(nn_epoch_should_stop(NULL, &stop), NN_EINVAL);
    assert_int_equal(nn_epoch_should_stop(net, NULL), NN_EINVAL);
    assert_true(strstr(nn_last_error(NULL), "nn_epoch_should_stop"));
    assert_int_equal(stop, 5);
    assert_int_equal(nn_restore_best_weights(NULL), NN_EINVAL);
    assert_true(strstr(nn_last_error(NULL), "nn_restore_best_weights"));
    assert_params_all(net, 7);
    nn_free(copy);
    nn_free(net);
}

static void test_epoch_end_watches_the_validation_loss(void **state)
{
    (void)state;
    /* Plateau with patience 1 and gamma 0.1: a falling training loss but a
     * flat validation loss cuts the rate after two bad epochs; with the
     * validation loss NaN (none) the falling training loss keeps it. */
    size_t sizes[] = {2, 2};
    nn_activation act = NN_IDENTITY;
    for (int with_val = 0; with_val <= 1; with_val++) {
        nn_net *net = make_net(2, sizes, &act, 0, 1);
        assert_int_equal(nn_set(net, NN_OPT_SCHEDULE, NN_SCHEDULE_PLATEAU),
                         NN_OK);
        assert_int_equal(nn_set(net, NN_OPT_PLATEAU_PATIENCE, 1), NN_OK);
        assert_int_equal(nn_set(net, NN_OPT_GAMMA, 0.1), NN_OK);
        double lr0 = 0, rates[4], val[4], acc[4];
        assert_int_equal(nn_get(net, NN_OPT_LEARNING_RATE, &lr0), NN_OK);
        for (int e = 0; e < 4; e++) {
            assert_int_equal(nn_epoch_begin(net), NN_OK);
            double m[] = {1.0 / (e + 1), 0.5, with_val ? 2.0 : NAN};
            assert_int_equal(nn_epoch_end(net, m, 3), NN_OK);
        }
        assert_int_equal(nn_history_len(net), 4);
        assert_int_equal(nn_history(net, NN_HIST_LEARNING_RATE, rates, 4),
                         NN_OK);
        assert_int_equal(nn_history(net, NN_HIST_VAL_LOSS, val, 4), NN_OK);
        assert_int_equal(nn_history(net, NN_HIST_VAL_ACCURACY, acc, 4),
                         NN_OK);
        for (int e = 0; e < 4; e++) {
            double want = with_val && e == 3 ? lr0 * 0.1 : lr0;
            assert_close(rates[e], want, 1e-15);
            assert_true(with_val ? val[e] == 2.0 : isnan(val[e]));
            assert_true(isnan(acc[e])); /* not given */
        }
        assert_int_equal(nn_history_clear(net), NN_OK);
        assert_int_equal(nn_history_len(net), 0);
        nn_free(net);
    }
}

static void test_outputs_view_the_last_forward_pass(void **state)
{
    (void)state;
    size_t sizes[] = {3, 4, 2}, rows = 99;
    nn_activation acts[] = {NN_RELU, NN_SOFTMAX};
    nn_net *net = make_net(3, sizes, acts, 0, 4);
    assert_null(nn_outputs(net, &rows)); /* no forward pass yet */
    assert_int_equal(rows, 0);
    lcg_state = 5;
    float *x = random_floats(40 * 3, -1, 1), y[40 * 2] = {0}, want[40 * 2];
    for (size_t i = 0; i < 40; i++)
        y[i * 2 + i % 2] = 1;
    /* nn_forward, then a larger nn_backprop (the buffers grow), then
     * nn_cost on fewer rows: each time the outputs of that pass */
    const size_t batches[] = {7, 40, 3};
    for (size_t k = 0; k < LEN(batches); k++) {
        size_t b = batches[k];
        double cost;
        assert_int_equal(nn_predict(net, x, b, want), NN_OK);
        if (k == 0)
            assert_int_equal(nn_forward(net, x, b, want), NN_OK);
        else if (k == 1)
            assert_int_equal(nn_backprop(net, x, y, b, &cost), NN_OK);
        else
            assert_int_equal(nn_cost(net, x, y, b, &cost), NN_OK);
        const float *out = nn_outputs(net, &rows);
        assert_non_null(out);
        assert_int_equal(rows, b);
        for (size_t i = 0; i < b * 2; i++)
            assert_close(out[i], want[i], 1e-6);
    }
    /* nn_predict and nn_evaluate leave the handle's outputs alone */
    const float *before = nn_outputs(net, &rows);
    float first = before[0];
    assert_int_equal(nn_predict(net, x + 3, 1, want), NN_OK);
    assert_true(nn_outputs(net, &rows) == before && rows == 3 &&
                before[0] == first);
    assert_null(nn_outputs(NULL, &rows));
    assert_int_equal(rows, 0);
    assert_null(nn_outputs(NULL, NULL));
    assert_true(strlen(nn_last_error(NULL)) > 0);
    free(x);
    nn_free(net);
}

static void test_epoch_hooks_reject_bad_input(void **state)
{
    (void)state;
    size_t sizes[] = {2, 2};
    nn_activation act = NN_IDENTITY;
    nn_net *net = make_net(2, sizes, &act, 0, 1);
    assert_int_equal(nn_set(net, NN_OPT_SCHEDULE, NN_SCHEDULE_PLATEAU), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_PLATEAU_PATIENCE, 0), NN_OK);
    double good[] = {1.0, 0.5, 0.7, 0.4};
    assert_int_equal(nn_epoch_end(net, good, 4), NN_OK);
    const double nan = NAN, inf = INFINITY;
    struct {
        const double *metrics;
        double first, second;
        size_t count;
        int code;
    } bad[] = {
        {NULL, 0, 0, 1, NN_EINVAL},   {good, 0, 0, 0, NN_EINVAL},
        {good, 0, 0, 5, NN_EINVAL},   {NULL, nan, 0.5, 2, NN_ENUMERIC},
        {NULL, inf, 0.5, 2, NN_ENUMERIC}, {NULL, 1.0, -inf, 2, NN_ENUMERIC},
    };
    for (size_t i = 0; i < LEN(bad); i++) {
        double m[2] = {bad[i].first, bad[i].second}, done = 0, lr = 0;
        const double *metrics = bad[i].code == NN_ENUMERIC ? m
                                                           : bad[i].metrics;
        assert_int_equal(nn_epoch_end(net, metrics, bad[i].count),
                         bad[i].code);
        assert_true(strlen(nn_last_error(net)) > 0);
        /* nothing changed: one epoch recorded, counted, the rate kept */
        assert_int_equal(nn_history_len(net), 1);
        assert_int_equal(nn_get(net, NN_OPT_EPOCHS_DONE, &done), NN_OK);
        assert_int_equal(nn_get(net, NN_OPT_CURRENT_LR, &lr), NN_OK);
        assert_true(done == 1.0 && lr == 0.01);
    }
    assert_int_equal(nn_epoch_end(NULL, good, 1), NN_EINVAL);
    assert_int_equal(nn_epoch_begin(NULL), NN_EINVAL);
    assert_int_equal(nn_history_clear(NULL), NN_EINVAL);
    assert_true(strlen(nn_last_error(NULL)) > 0);
    nn_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropout_gradient_with_fixed_masks),
        cmocka_unit_test(test_dropout_masks_are_inverted_and_fair),
        cmocka_unit_test(test_dropout_is_off_at_inference),
        cmocka_unit_test(test_dropout_training_is_reproducible),
        cmocka_unit_test(test_clip_norm_scales_the_gradient),
        cmocka_unit_test(test_schedules_follow_their_formulas),
        cmocka_unit_test(test_schedule_drives_the_update),
        cmocka_unit_test(test_plateau_schedule_on_a_flat_loss),
        cmocka_unit_test(test_early_stopping_restores_the_best_weights),
        cmocka_unit_test(test_history_of_train_loss),
        cmocka_unit_test(test_input_transform_applies_before_the_first_layer),
        cmocka_unit_test(test_standardize_inputs_uses_mean_and_std),
        cmocka_unit_test(test_training_kit_rejects_bad_input),
        cmocka_unit_test(test_layer_activation_reads_the_architecture),
        cmocka_unit_test(test_shuffle_draws_the_training_order),
        cmocka_unit_test(test_epoch_hooks_reproduce_nn_train),
        cmocka_unit_test(test_epoch_hooks_reproduce_early_stopping),
        cmocka_unit_test(test_epoch_hooks_keep_the_best_weights),
        cmocka_unit_test(test_epoch_end_watches_the_validation_loss),
        cmocka_unit_test(test_epoch_hooks_reject_bad_input),
        cmocka_unit_test(test_outputs_view_the_last_forward_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
