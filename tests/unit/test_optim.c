/* SPDX-License-Identifier: MIT */
/*
 * nn_step for every optimizer against updates computed here in double from
 * the torch.optim definitions (nn.h's table), over several consecutive
 * steps - including a step applied twice to the same gradients - with the
 * default hyperparameters, with others (an epsilon large enough that its
 * placement matters), with and without weight decay. Gradients come from
 * nn_backprop; the expected update starts from copies of nn_params and
 * nn_grads. Also: setting NN_OPT_OPTIMIZER resets the state (even to the
 * same value), other settings do not, and nn_step leaves the gradients.
 * A wide network (40 003 parameters) takes the update split across threads
 * (with oneDNN), checked against the same model and, bit for bit, against
 * the update on one thread.
 */
#include "testutil.h"

/* The update rules, in double. State persists across steps. Beside each
 * update the model keeps its scale: the same update computed from the
 * magnitudes of its terms, which bounds float32's rounding of it when
 * terms of opposite signs cancel (a gradient that changes sign between
 * steps leaves a momentum or first moment much smaller than its parts). */
typedef struct model {
    int opt;
    double lr, momentum, beta1, beta2, eps, wd, alpha;
    size_t n;
    double *buf, *m, *v; /* momentum buffer; Adam moments / RMSprop v */
    double *buf_abs;     /* buf or m from the magnitudes of its terms */
    double *scale;       /* the last update's scale, per parameter */
    long t;              /* steps since the last reset */
} model;

static void model_reset(model *M)
{
    M->t = 0;
    memset(M->buf, 0, M->n * sizeof(double));
    memset(M->m, 0, M->n * sizeof(double));
    memset(M->v, 0, M->n * sizeof(double));
    memset(M->buf_abs, 0, M->n * sizeof(double));
}

static void model_step(model *M, double *p, const double *grad)
{
    M->t++;
    double bc1 = 1 - pow(M->beta1, (double)M->t);
    double bc2 = 1 - pow(M->beta2, (double)M->t);
    for (size_t i = 0; i < M->n; i++) {
        double g = grad[i];
        double g_abs = fabs(g) + M->wd * fabs(p[i]);
        switch (M->opt) {
        case NN_SGD:
            g += M->wd * p[i];
            p[i] -= M->lr * g;
            M->scale[i] = M->lr * g_abs;
            break;
        case NN_MOMENTUM:
        case NN_NESTEROV:
            g += M->wd * p[i];
            /* torch: the buffer starts as the first gradient */
            M->buf[i] = M->t == 1 ? g : M->momentum * M->buf[i] + g;
            M->buf_abs[i] = M->t == 1 ? g_abs
                                      : M->momentum * M->buf_abs[i] + g_abs;
            p[i] -= M->lr * (M->opt == NN_NESTEROV ? g + M->momentum * M->buf[i]
                                                   : M->buf[i]);
            M->scale[i] = M->lr * (M->opt == NN_NESTEROV
                                       ? g_abs + M->momentum * M->buf_abs[i]
                                       : M->buf_abs[i]);
            break;
        case NN_ADAM:
        case NN_ADAMW:
            if (M->opt == NN_ADAMW) {
                p[i] *= 1 - M->lr * M->wd; /* decoupled, before the step */
                g_abs = fabs(g);
            } else {
                g += M->wd * p[i];
            }
            M->m[i] = M->beta1 * M->m[i] + (1 - M->beta1) * g;
            M->buf_abs[i] = M->beta1 * M->buf_abs[i] + (1 - M->beta1) * g_abs;
            M->v[i] = M->beta2 * M->v[i] + (1 - M->beta2) * g * g;
            double denom = sqrt(M->v[i]) / sqrt(bc2) + M->eps;
            p[i] -= M->lr / bc1 * M->m[i] / denom;
            M->scale[i] = M->lr / bc1 * M->buf_abs[i] / denom;
            break;
        case NN_RMSPROP:
            g += M->wd * p[i];
            M->v[i] = M->alpha * M->v[i] + (1 - M->alpha) * g * g;
            p[i] -= M->lr * g / (sqrt(M->v[i]) + M->eps);
            M->scale[i] = M->lr * g_abs / (sqrt(M->v[i]) + M->eps);
            break;
        default: fail();
        }
    }
}

typedef struct config {
    double lr, momentum, beta1, beta2, eps, wd, alpha;
} config;

static const config configs[] = {
    /* the defaults of nn.h, but for the learning rate */
    {0.05, 0.9, 0.9, 0.999, 1e-8, 0, 0.99},
    /* others, with weight decay */
    {0.1, 0.7, 0.8, 0.95, 1e-3, 0.1, 0.8},
    /* the same without */
    {0.1, 0.7, 0.8, 0.95, 1e-3, 0, 0.8},
    /* a strong decay */
    {0.02, 0.5, 0.5, 0.9, 1e-6, 2.0, 0.5},
};

/* The network and data every case trains. */
typedef struct rig {
    nn_net *net;
    model M;
    size_t n;
    float x[32 * 4], y[32 * 3];
    double *p, *g;
} rig;

/* Hidden units of the networks: the small one, and a wide one whose update
 * is long enough to be split across threads, in parts that end between
 * cache lines and one that does not. */
enum { SMALL = 6, WIDE = 5000 };

static void rig_init_sized(rig *R, int opt, const config *c, size_t hidden)
{
    const size_t sizes[] = {4, hidden, 3};
    static const nn_activation acts[] = {NN_TANH, NN_SIGMOID};
    R->net = tu_create(3, sizes, acts, 0, 314);
    R->n = nn_param_count(R->net);
    /* settings first, the optimizer last (a set of the optimizer resets) */
    ASSERT_OK(nn_set(R->net, NN_OPT_LEARNING_RATE, c->lr));
    ASSERT_OK(nn_set(R->net, NN_OPT_MOMENTUM, c->momentum));
    ASSERT_OK(nn_set(R->net, NN_OPT_BETA1, c->beta1));
    ASSERT_OK(nn_set(R->net, NN_OPT_BETA2, c->beta2));
    ASSERT_OK(nn_set(R->net, NN_OPT_EPSILON, c->eps));
    ASSERT_OK(nn_set(R->net, NN_OPT_WEIGHT_DECAY, c->wd));
    ASSERT_OK(nn_set(R->net, NN_OPT_RMSPROP_ALPHA, c->alpha));
    ASSERT_OK(nn_set(R->net, NN_OPT_OPTIMIZER, opt));
    R->M = (model){.opt = opt, .lr = c->lr, .momentum = c->momentum,
                   .beta1 = c->beta1, .beta2 = c->beta2, .eps = c->eps,
                   .wd = c->wd, .alpha = c->alpha, .n = R->n};
    R->M.buf = tu_doubles(R->n);
    R->M.m = tu_doubles(R->n);
    R->M.v = tu_doubles(R->n);
    R->M.buf_abs = tu_doubles(R->n);
    R->M.scale = tu_doubles(R->n);
    tu_fill(R->x, 32 * 4, 1, -1, 1);
    tu_fill(R->y, 32 * 3, 2, 0, 1);
    R->p = tu_doubles(R->n);
    R->g = tu_doubles(R->n);
}

static void rig_init(rig *R, int opt, const config *c)
{
    rig_init_sized(R, opt, c, SMALL);
}

static void rig_free(rig *R)
{
    nn_free(R->net);
    free(R->M.buf);
    free(R->M.m);
    free(R->M.v);
    free(R->M.buf_abs);
    free(R->M.scale);
    free(R->p);
    free(R->g);
}

/* Gradients of minibatch k (8 samples), fresh from nn_backprop. */
static void rig_backprop(rig *R, int k)
{
    ASSERT_OK(nn_backprop(R->net, R->x + 8 * 4 * (k % 4),
                          R->y + 8 * 3 * (k % 4), 8, NULL));
}

/* One nn_step, checked against the model from the same params and grads. */
static void rig_step(rig *R)
{
    float *params = nn_params(R->net), *grads = nn_grads(R->net);
    float *g_before = tu_copy_floats(grads, R->n);
    double *p0 = tu_to_double(params, R->n);
    for (size_t i = 0; i < R->n; i++) {
        R->p[i] = params[i];
        R->g[i] = grads[i];
    }
    model_step(&R->M, R->p, R->g);
    ASSERT_OK(nn_step(R->net));
    for (size_t i = 0; i < R->n; i++) {
        /* the update to 1e-4 of its scale, plus float rounding of p */
        double tol = 1e-4 * R->M.scale[i] +
                     2e-7 * fmax(fabs(R->p[i]), fabs(p0[i])) + 1e-12;
        if (!(fabs(params[i] - R->p[i]) <= tol))
            TU_FAIL("param %zu after step %ld: %.9g, want %.9g (from %.9g, "
                    "grad %.9g)",
                    i, R->M.t, (double)params[i], R->p[i], p0[i], R->g[i]);
    }
    assert_memory_equal(grads, g_before, R->n * sizeof(float));
    free(g_before);
    free(p0);
}

static void check_optimizer(int opt)
{
    static const size_t hidden[] = {SMALL, WIDE};
    for (size_t c = 0; c < 2 * TU_ARRAY_LEN(configs); c++) {
        rig R;
        size_t h = hidden[c % 2];
        rig_init_sized(&R, opt, &configs[c / 2], h);
        for (int k = 0; k < 6; k++) {
            TU_CONTEXT("optimizer %d, config %zu, %zu hidden, step %d", opt,
                       c / 2, h, k + 1);
            if (k != 3) /* step 4 applies step 3's gradients again */
                rig_backprop(&R, k);
            rig_step(&R);
        }
        rig_free(&R);
    }
    TU_CONTEXT_CLEAR();
}

static void test_sgd(void **state)
{
    (void)state;
    check_optimizer(NN_SGD);
}

static void test_momentum(void **state)
{
    (void)state;
    check_optimizer(NN_MOMENTUM);
}

static void test_nesterov(void **state)
{
    (void)state;
    check_optimizer(NN_NESTEROV);
}

static void test_adam(void **state)
{
    (void)state;
    check_optimizer(NN_ADAM);
}

static void test_adamw(void **state)
{
    (void)state;
    check_optimizer(NN_ADAMW);
}

static void test_rmsprop(void **state)
{
    (void)state;
    check_optimizer(NN_RMSPROP);
}

/* Setting the optimizer, even to its current value, starts it afresh. */
static void test_set_optimizer_resets_state(void **state)
{
    (void)state;
    static const int stateful[] = {NN_MOMENTUM, NN_NESTEROV, NN_ADAM,
                                   NN_ADAMW, NN_RMSPROP};
    for (size_t s = 0; s < TU_ARRAY_LEN(stateful); s++) {
        rig R;
        rig_init(&R, stateful[s], &configs[1]);
        TU_CONTEXT("optimizer %d", stateful[s]);
        for (int k = 0; k < 3; k++) {
            rig_backprop(&R, k);
            rig_step(&R);
        }
        /* a twin that keeps its state, to show the reset matters */
        nn_net *kept = tu_clone(R.net);
        ASSERT_OK(nn_set(R.net, NN_OPT_OPTIMIZER, stateful[s]));
        model_reset(&R.M);
        rig_backprop(&R, 3);
        ASSERT_OK(nn_backprop(kept, R.x + 8 * 4 * 3, R.y + 8 * 3 * 3, 8,
                              NULL));
        rig_step(&R);
        ASSERT_OK(nn_step(kept));
        assert_memory_not_equal(nn_params(kept), nn_params(R.net),
                                R.n * sizeof(float));
        rig_backprop(&R, 0);
        rig_step(&R);
        nn_free(kept);
        rig_free(&R);
    }
    TU_CONTEXT_CLEAR();
}

/* Switching between optimizers: each starts from zero state. */
static void test_switch_optimizers(void **state)
{
    (void)state;
    static const int seq[] = {NN_SGD, NN_ADAM, NN_RMSPROP, NN_NESTEROV,
                              NN_ADAM, NN_ADAMW, NN_MOMENTUM};
    rig R;
    rig_init(&R, NN_SGD, &configs[1]);
    int k = 0;
    for (size_t s = 0; s < TU_ARRAY_LEN(seq); s++) {
        ASSERT_OK(nn_set(R.net, NN_OPT_OPTIMIZER, seq[s]));
        R.M.opt = seq[s];
        model_reset(&R.M);
        for (int i = 0; i < 2; i++) {
            TU_CONTEXT("optimizer %d (position %zu), step %d", seq[s], s, i);
            rig_backprop(&R, k++);
            rig_step(&R);
        }
    }
    TU_CONTEXT_CLEAR();
    rig_free(&R);
}

/* Other settings change the next update but keep the state. */
static void test_other_settings_keep_state(void **state)
{
    (void)state;
    static const int opts[] = {NN_MOMENTUM, NN_ADAM, NN_ADAMW, NN_RMSPROP};
    for (size_t s = 0; s < TU_ARRAY_LEN(opts); s++) {
        rig R;
        rig_init(&R, opts[s], &configs[1]);
        TU_CONTEXT("optimizer %d", opts[s]);
        for (int k = 0; k < 2; k++) {
            rig_backprop(&R, k);
            rig_step(&R);
        }
        ASSERT_OK(nn_set(R.net, NN_OPT_LEARNING_RATE, 0.03));
        ASSERT_OK(nn_set(R.net, NN_OPT_WEIGHT_DECAY, 0.5));
        ASSERT_OK(nn_set(R.net, NN_OPT_BATCH_SIZE, 4));
        ASSERT_OK(nn_set(R.net, NN_OPT_SHUFFLE, 0));
        ASSERT_OK(nn_set(R.net, NN_OPT_LOSS, NN_LOSS_BINARY_CROSS_ENTROPY));
        R.M.lr = 0.03;
        R.M.wd = 0.5;
        for (int k = 2; k < 4; k++) {
            rig_backprop(&R, k);
            rig_step(&R);
        }
        rig_free(&R);
    }
    TU_CONTEXT_CLEAR();
}

/* NN_OPT_MOMENTUM is read only by momentum and Nesterov; the betas only by
 * Adam and AdamW; alpha only by RMSprop. */
static void test_unused_hyperparameters_are_ignored(void **state)
{
    (void)state;
    static const int opts[] = {NN_SGD, NN_MOMENTUM, NN_ADAM, NN_RMSPROP};
    for (size_t s = 0; s < TU_ARRAY_LEN(opts); s++) {
        rig A, B;
        rig_init(&A, opts[s], &configs[1]);
        rig_init(&B, opts[s], &configs[1]);
        TU_CONTEXT("optimizer %d", opts[s]);
        if (opts[s] != NN_MOMENTUM)
            ASSERT_OK(nn_set(B.net, NN_OPT_MOMENTUM, 0.1));
        if (opts[s] != NN_ADAM) {
            ASSERT_OK(nn_set(B.net, NN_OPT_BETA1, 0.1));
            ASSERT_OK(nn_set(B.net, NN_OPT_BETA2, 0.2));
        }
        if (opts[s] != NN_RMSPROP)
            ASSERT_OK(nn_set(B.net, NN_OPT_RMSPROP_ALPHA, 0.3));
        if (opts[s] == NN_SGD)
            ASSERT_OK(nn_set(B.net, NN_OPT_EPSILON, 0.4));
        for (int k = 0; k < 3; k++) {
            rig_backprop(&A, k);
            rig_backprop(&B, k);
            ASSERT_OK(nn_step(A.net));
            ASSERT_OK(nn_step(B.net));
        }
        assert_memory_equal(nn_params(A.net), nn_params(B.net),
                            A.n * sizeof(float));
        rig_free(&A);
        rig_free(&B);
    }
    TU_CONTEXT_CLEAR();
}

/* The update is element-wise: one thread or three give the same bits.
 * The gradients are computed on one thread for both, so that only the
 * update's split differs. */
static void test_thread_count_changes_no_bit(void **state)
{
    (void)state;
    static const int opts[] = {NN_SGD, NN_MOMENTUM, NN_NESTEROV, NN_ADAM,
                               NN_ADAMW, NN_RMSPROP};
    for (size_t s = 0; s < TU_ARRAY_LEN(opts); s++) {
        rig R;
        rig_init_sized(&R, opts[s], &configs[1], WIDE);
        nn_net *twin = tu_clone(R.net);
        TU_CONTEXT("optimizer %d", opts[s]);
        for (int k = 0; k < 3; k++) {
            ASSERT_OK(nn_set(R.net, NN_OPT_THREADS, 1));
            rig_backprop(&R, k);
            ASSERT_OK(nn_backprop(twin, R.x + 8 * 4 * k, R.y + 8 * 3 * k, 8,
                                  NULL));
            ASSERT_OK(nn_step(R.net));
            ASSERT_OK(nn_set(R.net, NN_OPT_THREADS, 3));
            ASSERT_OK(nn_step(twin));
            assert_memory_equal(nn_params(twin), nn_params(R.net),
                                R.n * sizeof(float));
        }
        ASSERT_OK(nn_set(R.net, NN_OPT_THREADS, 0));
        nn_free(twin);
        rig_free(&R);
    }
    TU_CONTEXT_CLEAR();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd),
        cmocka_unit_test(test_momentum),
        cmocka_unit_test(test_nesterov),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_adamw),
        cmocka_unit_test(test_rmsprop),
        cmocka_unit_test(test_set_optimizer_resets_state),
        cmocka_unit_test(test_switch_optimizers),
        cmocka_unit_test(test_other_settings_keep_state),
        cmocka_unit_test(test_unused_hyperparameters_are_ignored),
        cmocka_unit_test(test_thread_count_changes_no_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
