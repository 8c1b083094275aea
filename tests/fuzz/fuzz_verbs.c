/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target driving the public API with fuzzed architectures,
 * settings, batch sizes and values (raw float bits: NaN, infinities,
 * denormals, huge numbers). The input is a small program: a header that
 * builds the network, then one operation per byte with its operands.
 *
 * Invariants checked (a broken one aborts, which libFuzzer reports):
 * - every return code is a documented one, and failures leave a message;
 * - a failed call leaves parameters, settings and optimizer state as they
 *   were (the whole model serialisation is compared), except nn_train /
 *   nn_fit stopping with NN_ENUMERIC part-way, as documented;
 * - nn_forward and nn_predict agree; save -> load -> save is the identity;
 *   a clone serialises as its original.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_verbs: %s:%d: %s (last error: %s)\n",        \
                    __FILE__, __LINE__, #cond, nn_last_error(NULL));           \
            abort();                                                           \
        }                                                                      \
    } while (0)

#define MAX_BATCH 24
#define MAX_WIDTH 9

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static uint8_t byte(input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static uint64_t u64(input *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)byte(in) << (8 * i);
    return v;
}

/* A float: mostly tame values, sometimes raw bits. */
static float value(input *in)
{
    uint8_t kind = byte(in);
    if (kind < 200)
        return ((float)kind - 100.0f) / 25.0f;
    uint32_t bits = (uint32_t)byte(in) | (uint32_t)byte(in) << 8 |
                    (uint32_t)byte(in) << 16 | (uint32_t)byte(in) << 24;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* A setting value: the interesting ones of every option, or raw bits. */
static double setting(input *in)
{
    static const double table[] = {
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        0.5,
        0.9,
        0.999,
        1e-8,
        0.01,
        0.1,
        -1,
        1.5,
        1e300,
        2147483647.0,
        2147483648.0,
        1e-300,
        0.99999999,
        7,
        32,
        100,
    };
    uint8_t k = byte(in);
    if (k < 2 * sizeof table / sizeof table[0])
        return table[k % (sizeof table / sizeof table[0])];
    if (k < 250)
        return (double)value(in);
    uint64_t bits = u64(in);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static float xs[MAX_BATCH * MAX_WIDTH], ys[MAX_BATCH * MAX_WIDTH];
static float xv[MAX_BATCH * MAX_WIDTH], yv[MAX_BATCH * MAX_WIDTH];
static float out1[MAX_BATCH * MAX_WIDTH], out2[MAX_BATCH * MAX_WIDTH];

static unsigned char *save(const nn_net *net, size_t *len)
{
    REQUIRE(nn_save_buffer(net, NULL, 0, len) == NN_OK);
    unsigned char *b = malloc(*len);
    REQUIRE(b != NULL);
    REQUIRE(nn_save_buffer(net, b, *len, len) == NN_OK);
    return b;
}

static int same_floats(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(a[i] == b[i] || (isnan(a[i]) && isnan(b[i]))))
            return 0;
    return 1;
}

static void check_rc(int rc)
{
    REQUIRE(rc <= 0 && rc >= NN_ENUMERIC);
    if (rc != NN_OK)
        REQUIRE(nn_last_error(NULL)[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* FUZZ_TRACE=1: print every operation (to study a crashing input). */
    static int trace = -1;
    if (trace < 0)
        trace = getenv("FUZZ_TRACE") != NULL;
    input in = {data, size};
    size_t n_sizes = 2 + byte(&in) % 3, sizes[4];
    nn_activation acts[3];
    for (size_t i = 0; i < n_sizes; i++)
        sizes[i] = 1 + byte(&in) % MAX_WIDTH;
    for (size_t i = 0; i + 1 < n_sizes; i++)
        acts[i] = (nn_activation)(byte(&in) % 7); /* 6 is not one */
    unsigned flags = byte(&in) % 3;               /* 2 is not one */
    uint64_t seed = u64(&in);

    nn_net *net = NULL;
    int rc = nn_create(&net, n_sizes, sizes, acts, flags, seed);
    check_rc(rc);
    if (rc != NN_OK) {
        REQUIRE(rc == NN_EINVAL && net == NULL);
        return 0;
    }
    size_t n_in = sizes[0], n_out = sizes[n_sizes - 1];

    while (in.n > 0) {
        uint8_t op = byte(&in) % 14;
        size_t batch = 1 + byte(&in) % MAX_BATCH;
        for (size_t i = 0; i < batch * n_in; i++)
            xs[i] = value(&in);
        if (op == 2 || op == 3 || op == 5 || op == 7 || op == 11 || op == 12)
            for (size_t i = 0; i < batch * n_out; i++)
                ys[i] = value(&in);

        size_t before_len;
        unsigned char *before = save(net, &before_len);
        int may_change_on_failure = 0;
        double cost, acc;
        switch (op) {
        case 0: {
            int option = byte(&in) % 24; /* 22, 23 are unknown */
            rc = nn_set(net, option, setting(&in));
            break;
        }
        case 1:
            rc = nn_forward(net, xs, batch, out1);
            if (rc == NN_OK) {
                REQUIRE(nn_predict(net, xs, batch, out2) == NN_OK);
                REQUIRE(same_floats(out1, out2, batch * n_out));
                size_t rows = 0; /* nn_predict left the handle's alone */
                const float *kept = nn_outputs(net, &rows);
                REQUIRE(kept && rows == batch &&
                        same_floats(kept, out1, batch * n_out));
            }
            break;
        case 2:
            rc = nn_cost(net, xs, ys, batch, &cost);
            REQUIRE(rc != NN_OK || isfinite(cost));
            break;
        case 3:
            rc =
                nn_backprop(net, xs, ys, batch, (byte(&in) & 1) ? &cost : NULL);
            if (rc != NN_OK)
                REQUIRE(nn_step(net) == NN_ESTATE);
            break;
        case 4:
            rc = nn_step(net);
            REQUIRE(rc == NN_OK || rc == NN_ESTATE);
            break;
        case 5: {
            size_t epochs = 1 + byte(&in) % 3;
            rc = nn_train(net, xs, ys, batch, epochs, NULL, NULL);
            may_change_on_failure = rc == NN_ENUMERIC;
            if (rc == NN_OK) { /* what the epoch hooks recorded */
                double loss[3];
                REQUIRE(nn_history_len(net) == epochs);
                REQUIRE(nn_history(net, NN_HIST_TRAIN_LOSS, loss, 3) ==
                        NN_OK);
                for (size_t e = 0; e < epochs; e++)
                    REQUIRE(isfinite(loss[e]));
                REQUIRE(nn_outputs(net, NULL) != NULL);
            }
            break;
        }
        case 6:
            rc = nn_predict(net, xs, batch, out1);
            break;
        case 7:
            rc = nn_evaluate(net, xs, ys, batch, &cost, &acc);
            REQUIRE(rc != NN_OK || (isfinite(cost) && acc >= 0 && acc <= 1));
            if (rc == NN_OK) { /* the accuracy is nn_count_correct's count */
                size_t correct = batch + 1;
                REQUIRE(nn_predict(net, xs, batch, out1) == NN_OK);
                REQUIRE(nn_count_correct(out1, ys, batch, n_out, &correct) ==
                        NN_OK);
                REQUIRE(acc == (double)correct / (double)batch);
            }
            break;
        case 8: { /* replace the network by its saved and loaded copy */
            nn_net *copy = NULL;
            REQUIRE(nn_load_buffer(&copy, before, before_len) == NN_OK);
            size_t len;
            unsigned char *b = save(copy, &len);
            REQUIRE(len == before_len && memcmp(b, before, len) == 0);
            free(b);
            nn_free(net);
            net = copy;
            rc = NN_OK;
            break;
        }
        case 9: {
            nn_net *copy = NULL;
            rc = nn_clone(net, &copy);
            if (rc == NN_OK) {
                size_t len;
                unsigned char *b = save(copy, &len);
                REQUIRE(len == before_len && memcmp(b, before, len) == 0);
                free(b);
                nn_free(copy);
            }
            break;
        }
        case 10:
            for (size_t i = 0; i < n_in; i++)
                ys[i] = value(&in);
            rc = (byte(&in) & 3) == 0 ? nn_set_input_transform(net, NULL, NULL)
                                      : nn_set_input_transform(net, xs, ys);
            break;
        case 11: {
            double err;
            rc = nn_gradcheck(net, xs, ys, batch < 4 ? batch : 4, &err);
            break;
        }
        case 12: {
            size_t n_val = byte(&in) % 4;
            for (size_t i = 0; i < n_val * n_in; i++)
                xv[i] = value(&in);
            for (size_t i = 0; i < n_val * n_out; i++)
                yv[i] = value(&in);
            rc =
                nn_fit(net, xs, ys, batch, n_val ? xv : NULL, n_val ? yv : NULL,
                       n_val, 1 + byte(&in) % 3, NULL, NULL, NULL);
            may_change_on_failure = rc == NN_ENUMERIC;
            break;
        }
        default: { /* write raw values into the parameters */
            float *p = nn_params(net);
            size_t count = nn_param_count(net);
            for (int k = byte(&in) % 4; k > 0; k--)
                p[u64(&in) % count] = value(&in);
            rc = NN_OK;
            break;
        }
        }
        check_rc(rc);
        if (trace)
            fprintf(stderr, "op %d batch %zu: %s %s\n", op, batch,
                    nn_error_name(rc), rc ? nn_last_error(NULL) : "");
        if (rc != NN_OK && !may_change_on_failure) {
            size_t after_len;
            unsigned char *after = save(net, &after_len);
            if (trace && after_len == before_len)
                for (size_t i = 0; i < before_len; i++)
                    if (after[i] != before[i])
                        fprintf(stderr, "  byte %zu of %zu changed\n", i,
                                before_len);
            REQUIRE(after_len == before_len &&
                    memcmp(after, before, before_len) == 0);
            free(after);
        }
        free(before);
    }
    nn_free(net);
    return 0;
}
