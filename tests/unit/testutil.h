/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the unit suites: tolerant comparisons that say what
 * differed, a deterministic data generator, a plain double-precision
 * reference MLP (forward pass, the three losses, central finite
 * differences) that knows nothing of the library beyond the documented
 * parameter layout, and the snapshot used to check that a failed call
 * changed nothing (parameters, settings, optimizer behaviour).
 */
#ifndef LIBNN_TESTUTIL_H
#define LIBNN_TESTUTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn.h"

#define TU_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* Arrays of every option (tu_get_all). */
#define TU_N_OPTIONS NN_OPT_COUNT
#define TU_MAX_LAYERS 8

/* ---------------------------------------------------------------------
 * Allocation and comparisons
 * --------------------------------------------------------------------- */

/* What a loop over cases is checking now; printed with any failure. */
static char tu_context[512];
#define TU_CONTEXT(...) snprintf(tu_context, sizeof tu_context, __VA_ARGS__)
#define TU_CONTEXT_CLEAR() (tu_context[0] = '\0')

static inline void tu_fail_(const char *file, int line)
{
    if (tu_context[0] != '\0')
        print_error("  while checking: %s\n", tu_context);
    _fail(file, line);
}

/* fail_msg() that also prints the context. */
#define TU_FAIL(...)                                                           \
    do {                                                                       \
        print_error("ERROR: " __VA_ARGS__);                                    \
        print_error("\n");                                                     \
        tu_fail_(__FILE__, __LINE__);                                          \
    } while (0)

static inline void *tu_alloc_(size_t bytes, const char *file, int line)
{
    void *p = calloc(bytes ? bytes : 1, 1);
    if (p == NULL) {
        print_error("calloc(%zu) failed\n", bytes);
        tu_fail_(file, line);
    }
    return p;
}
#define tu_alloc(bytes) tu_alloc_((bytes), __FILE__, __LINE__)
#define tu_floats(n) ((float *)tu_alloc((n) * sizeof(float)))
#define tu_doubles(n) ((double *)tu_alloc((n) * sizeof(double)))

static inline int tu_close(double got, double want, double rtol, double atol)
{
    return fabs(got - want) <= atol + rtol * fabs(want); /* false for NaN */
}

static inline void tu_assert_close_(double got, double want, double rtol,
                                    double atol, const char *expr,
                                    const char *file, int line)
{
    if (!tu_close(got, want, rtol, atol)) {
        print_error("%s = %.10g, want %.10g (|diff| %.3g > %.3g)\n", expr, got,
                    want, fabs(got - want), atol + rtol * fabs(want));
        tu_fail_(file, line);
    }
}
/* |got - want| <= atol + rtol * |want| */
#define ASSERT_CLOSE(got, want, rtol, atol)                                    \
    tu_assert_close_((got), (want), (rtol), (atol), #got, __FILE__, __LINE__)

static inline void tu_assert_close_array_(const float *got, const double *want,
                                          size_t n, double rtol, double atol,
                                          const char *expr, const char *file,
                                          int line)
{
    for (size_t i = 0; i < n; i++) {
        if (!tu_close(got[i], want[i], rtol, atol)) {
            print_error("%s[%zu] = %.10g, want %.10g (|diff| %.3g > %.3g)\n",
                        expr, i, (double)got[i], want[i],
                        fabs(got[i] - want[i]), atol + rtol * fabs(want[i]));
            tu_fail_(file, line);
        }
    }
}
/* Element-wise ASSERT_CLOSE of float got[n] against double want[n]. */
#define ASSERT_CLOSE_ARRAY(got, want, n, rtol, atol)                           \
    tu_assert_close_array_((got), (want), (n), (rtol), (atol), #got, __FILE__, \
                           __LINE__)

/* Asserts a return code, naming both codes on failure. */
static inline void tu_assert_rc_(int got, int want, const char *expr,
                                 const char *file, int line)
{
    if (got != want) {
        print_error("%s returned %s (%d), want %s (%d)\n", expr,
                    nn_error_name(got), got, nn_error_name(want), want);
        tu_fail_(file, line);
    }
}
#define ASSERT_RC(call, want)                                                  \
    tu_assert_rc_((call), (want), #call, __FILE__, __LINE__)
#define ASSERT_OK(call) ASSERT_RC(call, NN_OK)

static inline double *tu_to_double(const float *v, size_t n)
{
    double *d = tu_doubles(n);
    for (size_t i = 0; i < n; i++)
        d[i] = v[i];
    return d;
}

static inline float *tu_copy_floats(const float *v, size_t n)
{
    float *f = tu_floats(n);
    memcpy(f, v, n * sizeof(float));
    return f;
}

/* ---------------------------------------------------------------------
 * Deterministic data
 * --------------------------------------------------------------------- */

/* splitmix64: small, good enough for test data. */
static inline uint64_t tu_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static inline double tu_uniform(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(tu_next(s) >> 11) * 0x1.0p-53);
}

static inline void tu_fill(float *v, size_t n, uint64_t seed, double lo,
                           double hi)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        v[i] = (float)tu_uniform(&s, lo, hi);
}

/* Rows of k probabilities summing to 1 (targets for cross-entropy). */
static inline void tu_fill_probs(float *v, size_t rows, size_t k,
                                 uint64_t seed)
{
    uint64_t s = seed;
    for (size_t r = 0; r < rows; r++) {
        double sum = 0;
        for (size_t j = 0; j < k; j++) {
            v[r * k + j] = (float)tu_uniform(&s, 0.05, 1.0);
            sum += v[r * k + j];
        }
        for (size_t j = 0; j < k; j++)
            v[r * k + j] = (float)(v[r * k + j] / sum);
    }
}

/* Rows of k one-hot targets. */
static inline void tu_fill_onehot(float *v, size_t rows, size_t k,
                                  uint64_t seed)
{
    uint64_t s = seed;
    memset(v, 0, rows * k * sizeof(float));
    for (size_t r = 0; r < rows; r++)
        v[r * k + tu_next(&s) % k] = 1.0f;
}

/* ---------------------------------------------------------------------
 * Reference MLP in double precision
 *
 * Follows nn.h's definitions only: layout W_l (n_in x n_out, row-major, z = a W) then
 * b_l per weight layer, activations and losses as documented.
 * --------------------------------------------------------------------- */

typedef struct ref_net {
    size_t n_sizes;
    size_t sizes[TU_MAX_LAYERS];
    nn_activation acts[TU_MAX_LAYERS];
    int bias;
    int loss; /* nn_loss */
    size_t n_params;
    size_t w_off[TU_MAX_LAYERS], b_off[TU_MAX_LAYERS];
} ref_net;

static inline void ref_init(ref_net *r, size_t n_sizes, const size_t *sizes,
                            const nn_activation *acts, unsigned flags, int loss)
{
    assert_true(n_sizes >= 2 && n_sizes <= TU_MAX_LAYERS);
    memset(r, 0, sizeof *r);
    r->n_sizes = n_sizes;
    r->bias = !(flags & NN_NO_BIAS);
    r->loss = loss;
    size_t off = 0;
    for (size_t l = 0; l < n_sizes; l++)
        r->sizes[l] = sizes[l];
    for (size_t l = 0; l + 1 < n_sizes; l++) {
        r->acts[l] = acts[l];
        r->w_off[l] = off;
        off += sizes[l] * sizes[l + 1];
        r->b_off[l] = off;
        if (r->bias)
            off += sizes[l + 1];
    }
    r->n_params = off;
}

static inline size_t ref_max_width(const ref_net *r)
{
    size_t m = 0;
    for (size_t l = 0; l < r->n_sizes; l++)
        m = r->sizes[l] > m ? r->sizes[l] : m;
    return m;
}

static inline double ref_act(nn_activation a, double z)
{
    switch (a) {
    case NN_IDENTITY: return z;
    case NN_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case NN_TANH: return tanh(z);
    case NN_RELU: return z > 0 ? z : 0.0;
    case NN_LEAKY_RELU: return z > 0 ? z : 0.01 * z;
    default: return NAN; /* softmax is row-wise, handled by the caller */
    }
}

/*
 * Forward pass of `batch` rows. Writes the last layer's logits and outputs
 * (batch x sizes[L]) when the pointers are not NULL, and the smallest |z|
 * met in a ReLU or leaky-ReLU layer (how close the point is to a kink).
 */
static inline void ref_forward_full(const ref_net *r, const double *p,
                                    const double *x, size_t batch,
                                    double *logits, double *out,
                                    double *min_kink)
{
    size_t w = ref_max_width(r);
    double *a = tu_doubles(w), *z = tu_doubles(w);
    size_t L = r->n_sizes - 1, n_out = r->sizes[L];
    double kink = INFINITY;
    for (size_t s = 0; s < batch; s++) {
        for (size_t i = 0; i < r->sizes[0]; i++)
            a[i] = x[s * r->sizes[0] + i];
        for (size_t l = 0; l < L; l++) {
            size_t ni = r->sizes[l], no = r->sizes[l + 1];
            const double *W = p + r->w_off[l];
            for (size_t j = 0; j < no; j++) {
                double acc = r->bias ? p[r->b_off[l] + j] : 0.0;
                for (size_t i = 0; i < ni; i++)
                    acc += a[i] * W[i * no + j];
                z[j] = acc;
                if (r->acts[l] == NN_RELU || r->acts[l] == NN_LEAKY_RELU)
                    kink = fabs(acc) < kink ? fabs(acc) : kink;
            }
            if (l + 1 == L && logits)
                memcpy(logits + s * n_out, z, n_out * sizeof(double));
            if (r->acts[l] == NN_SOFTMAX) {
                double m = z[0], sum = 0;
                for (size_t j = 1; j < no; j++)
                    m = z[j] > m ? z[j] : m;
                for (size_t j = 0; j < no; j++)
                    sum += (a[j] = exp(z[j] - m));
                for (size_t j = 0; j < no; j++)
                    a[j] /= sum;
            } else {
                for (size_t j = 0; j < no; j++)
                    a[j] = ref_act(r->acts[l], z[j]);
            }
        }
        if (out)
            memcpy(out + s * n_out, a, n_out * sizeof(double));
    }
    if (min_kink)
        *min_kink = kink;
    free(a);
    free(z);
}

static inline void ref_forward(const ref_net *r, const double *p,
                               const double *x, size_t batch, double *out)
{
    ref_forward_full(r, p, x, batch, NULL, out, NULL);
}

/* The mean loss of nn.h. Cross-entropies from the logits (stable). */
static inline double ref_cost(const ref_net *r, const double *p,
                              const double *x, const double *y, size_t batch)
{
    size_t k = r->sizes[r->n_sizes - 1];
    double *zl = tu_doubles(batch * k), *out = tu_doubles(batch * k);
    ref_forward_full(r, p, x, batch, zl, out, NULL);
    double J = 0;
    for (size_t s = 0; s < batch; s++) {
        const double *z = zl + s * k, *yh = out + s * k, *t = y + s * k;
        if (r->loss == NN_LOSS_MSE) {
            for (size_t j = 0; j < k; j++)
                J += 0.5 * (t[j] - yh[j]) * (t[j] - yh[j]);
        } else if (r->loss == NN_LOSS_CROSS_ENTROPY) {
            double m = z[0], sum = 0;
            for (size_t j = 1; j < k; j++)
                m = z[j] > m ? z[j] : m;
            for (size_t j = 0; j < k; j++)
                sum += exp(z[j] - m);
            double lse = m + log(sum);
            for (size_t j = 0; j < k; j++)
                J -= t[j] * (z[j] - lse); /* log softmax = z - lse */
        } else {
            for (size_t j = 0; j < k; j++) {
                /* -[t log s(z) + (1-t) log(1-s(z))] = softplus(z) - t z */
                double sp = fmax(z[j], 0.0) + log1p(exp(-fabs(z[j])));
                J += sp - t[j] * z[j];
            }
        }
    }
    free(zl);
    free(out);
    return J / (double)batch;
}

/* Central finite differences of ref_cost, h = 1e-6 * max(1, |theta|). */
static inline void ref_fd_grad(const ref_net *r, const double *p,
                               const double *x, const double *y, size_t batch,
                               double *grad)
{
    double *q = tu_doubles(r->n_params);
    memcpy(q, p, r->n_params * sizeof(double));
    for (size_t i = 0; i < r->n_params; i++) {
        double h = 1e-6 * fmax(1.0, fabs(p[i]));
        q[i] = p[i] + h;
        double up = ref_cost(r, q, x, y, batch);
        q[i] = p[i] - h;
        double down = ref_cost(r, q, x, y, batch);
        q[i] = p[i];
        grad[i] = (up - down) / (2 * h);
    }
    free(q);
}

/* ---------------------------------------------------------------------
 * Networks
 * --------------------------------------------------------------------- */

static inline nn_net *tu_create(size_t n_sizes, const size_t *sizes,
                                const nn_activation *acts, unsigned flags,
                                uint64_t seed)
{
    nn_net *net = NULL;
    ASSERT_OK(nn_create(&net, n_sizes, sizes, acts, flags, seed));
    assert_non_null(net);
    return net;
}

static inline nn_net *tu_clone(const nn_net *net)
{
    nn_net *c = NULL;
    ASSERT_OK(nn_clone(net, &c));
    assert_non_null(c);
    return c;
}

/* The model's options (NN_OPTION_MODEL), read-only ones included; 0 for
 * the process-wide ones (threads), which other tests may change. */
static inline void tu_get_all(const nn_net *net, double v[TU_N_OPTIONS])
{
    for (int o = 0; o < TU_N_OPTIONS; o++) {
        unsigned flags = 0;
        ASSERT_OK(nn_option_bounds(o, NULL, NULL, &flags));
        v[o] = 0;
        if (flags & NN_OPTION_MODEL)
            ASSERT_OK(nn_get(net, o, &v[o]));
    }
}

static inline size_t tu_n_out(const nn_net *net)
{
    return nn_layer_size(net, nn_num_layers(net) - 1);
}

/* ---------------------------------------------------------------------
 * The failed-call-changes-nothing check
 *
 * tu_snap_take() records the parameters, every setting and the input
 * transform, and keeps a clone. tu_snap_check() compares the parameters
 * and the transform byte for byte and the settings exactly, then runs the
 * same probe (backprop, two steps, one shuffled epoch of nn_train) on the
 * saved clone and on a clone of the network as it is now: any change to
 * the optimizer state or to the shuffling generator shows as different
 * parameters.
 * --------------------------------------------------------------------- */

typedef struct tu_snap {
    size_t n;
    float *params;
    double settings[TU_N_OPTIONS];
    int has_transform;
    float *transform; /* shift then scale, sizes[0] each */
    nn_net *clone;
} tu_snap;

static inline float *tu_get_transform(const nn_net *net, int *has)
{
    size_t n_in = nn_layer_size(net, 0);
    float *t = tu_floats(2 * n_in);
    *has = nn_get_input_transform(net, t, t + n_in);
    assert_true(*has == 0 || *has == 1);
    return t;
}

static inline void tu_snap_take(tu_snap *s, nn_net *net)
{
    s->n = nn_param_count(net);
    s->params = tu_copy_floats(nn_params(net), s->n);
    tu_get_all(net, s->settings);
    s->transform = tu_get_transform(net, &s->has_transform);
    s->clone = tu_clone(net);
}

static inline void tu_snap_free(tu_snap *s)
{
    free(s->params);
    free(s->transform);
    nn_free(s->clone);
    s->params = NULL;
    s->transform = NULL;
    s->clone = NULL;
}

/* Backprop on fixed data, two steps, one epoch of nn_train. */
static inline void tu_probe(nn_net *net)
{
    size_t n_in = nn_layer_size(net, 0), n_out = tu_n_out(net), n = 7;
    float *x = tu_floats(n * n_in), *y = tu_floats(n * n_out);
    tu_fill(x, n * n_in, 101, -1, 1);
    tu_fill(y, n * n_out, 202, 0.1, 0.9);
    ASSERT_OK(nn_backprop(net, x, y, 4, NULL));
    ASSERT_OK(nn_step(net));
    ASSERT_OK(nn_step(net));
    ASSERT_OK(nn_train(net, x, y, n, 1, NULL, NULL));
    free(x);
    free(y);
}

static inline void tu_snap_check_(tu_snap *s, nn_net *net, const char *file,
                                  int line)
{
    double now[TU_N_OPTIONS];
    if (nn_param_count(net) != s->n ||
        memcmp(nn_params(net), s->params, s->n * sizeof(float)) != 0) {
        print_error("the failed call changed the parameters\n");
        tu_fail_(file, line);
    }
    tu_get_all(net, now);
    for (int o = 0; o < TU_N_OPTIONS; o++) {
        if (now[o] != s->settings[o]) {
            print_error("the failed call changed option %d: %g -> %g\n", o,
                        s->settings[o], now[o]);
            tu_fail_(file, line);
        }
    }
    int has;
    float *t = tu_get_transform(net, &has);
    if (has != s->has_transform ||
        memcmp(t, s->transform, 2 * nn_layer_size(net, 0) * sizeof(float))) {
        print_error("the failed call changed the input transform\n");
        tu_fail_(file, line);
    }
    free(t);
    nn_net *after = tu_clone(net);
    tu_probe(s->clone);
    tu_probe(after);
    if (memcmp(nn_params(after), nn_params(s->clone), s->n * sizeof(float))) {
        print_error("the failed call changed the optimizer state or the "
                    "shuffling generator\n");
        tu_fail_(file, line);
    }
    nn_free(after);
}
#define tu_snap_check(s, net) tu_snap_check_((s), (net), __FILE__, __LINE__)

/* ---------------------------------------------------------------------
 * A network with history: {3, 5, 2}, tanh then `last`, Adam, two steps
 * taken (moments and step count non-zero) and fresh gradients, so that
 * nn_step may follow. No failure has been recorded on it.
 * --------------------------------------------------------------------- */

static inline nn_net *tu_fixture(nn_activation last)
{
    static const size_t sizes[] = {3, 5, 2};
    const nn_activation acts[] = {NN_TANH, last};
    float x[6 * 3], y[6 * 2];
    nn_net *net = tu_create(3, sizes, acts, 0, 2024);
    tu_fill(x, 6 * 3, 31, -1, 1);
    tu_fill(y, 6 * 2, 32, 0.1, 0.9);
    ASSERT_OK(nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM));
    ASSERT_OK(nn_set(net, NN_OPT_BATCH_SIZE, 3));
    for (int i = 0; i < 2; i++) {
        ASSERT_OK(nn_backprop(net, x + 9 * i, y + 6 * i, 3, NULL));
        ASSERT_OK(nn_step(net));
    }
    ASSERT_OK(nn_backprop(net, x, y, 6, NULL));
    return net;
}

static inline void tu_expect_no_detail_(const nn_net *net, const char *file,
                                        int line)
{
    if (strcmp(nn_last_error(net), "") != 0) {
        print_error("nn_last_error(net) is \"%s\", want \"\"\n",
                    nn_last_error(net));
        tu_fail_(file, line);
    }
}

static inline void tu_expect_detail_(const nn_net *net, const char *file,
                                     int line)
{
    const char *d = nn_last_error(net);
    if (d == NULL || d[0] == '\0') {
        print_error("nn_last_error(%s) is empty after a failure\n",
                    net ? "net" : "NULL");
        tu_fail_(file, line);
    }
}

/*
 * A call on a fresh handle (no failure recorded yet) that must fail with
 * `want`, record a detail on the handle and in the thread, and change
 * nothing.
 */
#define EXPECT_NET_FAIL(net, want, call)                                       \
    do {                                                                       \
        tu_snap snap_;                                                         \
        tu_expect_no_detail_((net), __FILE__, __LINE__);                       \
        tu_snap_take(&snap_, (net));                                           \
        tu_assert_rc_((call), (want), #call, __FILE__, __LINE__);              \
        tu_expect_detail_((net), __FILE__, __LINE__);                          \
        tu_expect_detail_(NULL, __FILE__, __LINE__);                           \
        tu_snap_check_(&snap_, (net), __FILE__, __LINE__);                     \
        tu_snap_free(&snap_);                                                  \
    } while (0)

/* The same for functions taking a const handle: the detail goes to the
 * thread's slot only, never to the handle's. */
#define EXPECT_CONST_FAIL(net, want, call)                                     \
    do {                                                                       \
        tu_snap snap_;                                                         \
        tu_expect_no_detail_((net), __FILE__, __LINE__);                       \
        tu_snap_take(&snap_, (net));                                           \
        tu_assert_rc_((call), (want), #call, __FILE__, __LINE__);              \
        tu_expect_no_detail_((net), __FILE__, __LINE__);                       \
        tu_expect_detail_(NULL, __FILE__, __LINE__);                           \
        tu_snap_check_(&snap_, (net), __FILE__, __LINE__);                     \
        tu_snap_free(&snap_);                                                  \
    } while (0)

/* A call without a usable handle: the detail goes to the thread's slot. */
#define EXPECT_FAIL(want, call)                                                \
    do {                                                                       \
        tu_assert_rc_((call), (want), #call, __FILE__, __LINE__);              \
        tu_expect_detail_(NULL, __FILE__, __LINE__);                           \
    } while (0)

#endif /* LIBNN_TESTUTIL_H */
