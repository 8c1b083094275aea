/* SPDX-License-Identifier: MIT */
/*
 * The workload of the clock-free regression guard (callgrind_check.py):
 * one case per run, set up and warmed outside the measurement, then
 * instrumentation and collection switched on around `steps` repetitions of
 * the hot call only, so callgrind's total is the instruction count of
 * exactly those calls (run with --instr-atstart=no --collect-atstart=no).
 *
 * usage: callgrind_step CASE      (callgrind_step --list lists the cases)
 *
 * Run natively it just performs the work (a smoke test).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn.h>

#include "hand.h"

#ifdef HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_TOGGLE_COLLECT
#endif

/* Instrumentation (slow) only around the measured calls: the set-up and
 * warm-up run at valgrind's uninstrumented speed (--instr-atstart=no). */
#define MEASURE_BEGIN                                                          \
    do {                                                                       \
        CALLGRIND_START_INSTRUMENTATION;                                       \
        CALLGRIND_TOGGLE_COLLECT;                                              \
    } while (0)
#define MEASURE_END                                                            \
    do {                                                                       \
        CALLGRIND_TOGGLE_COLLECT;                                              \
        CALLGRIND_STOP_INSTRUMENTATION;                                        \
    } while (0)

#define CHECK(call)                                                            \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != NN_OK) {                                                    \
            fprintf(stderr, "%s: %s (%s)\n", #call, nn_error_name(rc_),        \
                    nn_last_error(NULL));                                      \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static uint64_t state = 12345;
static float uniform(void)
{
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(state >> 40) * (1.0f / 16777216.0f);
}

static const size_t mlp_sizes[] = {784, 256, 128, 10};

static nn_net *mlp(int optimizer)
{
    nn_activation acts[] = {NN_RELU, NN_RELU, NN_SOFTMAX};
    nn_net *net;
    CHECK(nn_create(&net, 4, mlp_sizes, acts, 0, 7));
    CHECK(nn_set(net, NN_OPT_OPTIMIZER, optimizer));
    CHECK(nn_set(net, NN_OPT_LEARNING_RATE, 1e-3));
    return net;
}

static void mnist_like(size_t n, float **x, float **y)
{
    *x = malloc(n * 784 * sizeof **x);
    *y = calloc(n * 10, sizeof **y);
    if (!*x || !*y)
        exit(1);
    for (size_t i = 0; i < n * 784; i++)
        (*x)[i] = uniform();
    for (size_t i = 0; i < n; i++)
        (*y)[i * 10 + (size_t)(uniform() * 10) % 10] = 1.0f;
}

/* One nn_backprop + nn_step on a batch, `steps` times. */
static void train_steps(int optimizer, size_t batch, int steps)
{
    float *x, *y;
    mnist_like(batch, &x, &y);
    nn_net *net = mlp(optimizer);
    double cost;
    CHECK(nn_backprop(net, x, y, batch, &cost)); /* warm: buffers */
    CHECK(nn_step(net));
    MEASURE_BEGIN;
    for (int i = 0; i < steps; i++) {
        CHECK(nn_backprop(net, x, y, batch, &cost));
        CHECK(nn_step(net));
    }
    MEASURE_END;
    nn_free(net);
    free(x);
    free(y);
}

static void predict(size_t batch)
{
    float *x, *y;
    mnist_like(batch, &x, &y);
    nn_net *net = mlp(NN_SGD);
    float *out = malloc(batch * 10 * sizeof *out);
    CHECK(nn_predict(net, x, batch, out));
    MEASURE_BEGIN;
    CHECK(nn_predict(net, x, batch, out));
    MEASURE_END;
    nn_free(net);
    free(out);
    free(x);
    free(y);
}

static void tutorial(int steps)
{
    size_t sizes[] = {2, 3, 1};
    nn_activation acts[] = {NN_SIGMOID, NN_SIGMOID};
    const float x[6] = {0.3f, 1.0f, 0.5f, 0.2f, 1.0f, 0.4f};
    const float y[3] = {0.75f, 0.82f, 0.93f};
    nn_net *net;
    CHECK(nn_create(&net, 3, sizes, acts, NN_NO_BIAS, 42));
    CHECK(nn_set(net, NN_OPT_LEARNING_RATE, 0.5));
    double cost;
    CHECK(nn_backprop(net, x, y, 3, &cost));
    MEASURE_BEGIN;
    for (int i = 0; i < steps; i++) {
        nn_backprop(net, x, y, 3, &cost);
        nn_step(net);
    }
    MEASURE_END;
    nn_free(net);
}

/* The same steps as hand-written loops: the yardstick of "tutorial". */
static void tutorial_hand(int steps)
{
    const float x[6] = {0.3f, 1.0f, 0.5f, 0.2f, 1.0f, 0.4f};
    const float y[3] = {0.75f, 0.82f, 0.93f};
    hand_net h = {2,
                  3,
                  1,
                  {0.5f, -0.25f, 1.0f, 0.75f, 0.1f, -0.6f},
                  {0.3f, -1.2f, 0.8f},
                  0.5f};
    volatile float sink = hand_step(&h, x, y, 3);
    MEASURE_BEGIN;
    for (int i = 0; i < steps; i++)
        sink += hand_step(&h, x, y, 3);
    MEASURE_END;
    (void)sink;
}

/* nn_train's own loop (shuffle, gather, count) around the steps. */
static void train_epoch(size_t n)
{
    float *x, *y;
    mnist_like(n, &x, &y);
    nn_net *net = mlp(NN_MOMENTUM);
    CHECK(nn_set(net, NN_OPT_BATCH_SIZE, 64));
    CHECK(nn_train(net, x, y, n, 1, NULL, NULL));
    MEASURE_BEGIN;
    CHECK(nn_train(net, x, y, n, 1, NULL, NULL));
    MEASURE_END;
    nn_free(net);
    free(x);
    free(y);
}

static const struct {
    const char *name, *what;
} cases[] = {
    {"tutorial", "1000 steps of the tutorial 2-3-1 network"},
    {"hand", "the same 1000 steps as hand-written loops (yardstick)"},
    {"sgd64", "2 steps 784-256-128-10 momentum, batch 64"},
    {"adam64", "2 steps 784-256-128-10 Adam, batch 64"},
    {"sgd256", "1 step 784-256-128-10 momentum, batch 256"},
    {"predict256", "nn_predict of 256 samples (one chunk)"},
    {"train256", "nn_train, one epoch of 256 samples, batch 64"},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: callgrind_step CASE | --list\n");
        return 2;
    }
    const char *c = argv[1];
    if (!strcmp(c, "--list")) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            printf("%s\t%s\n", cases[i].name, cases[i].what);
        return 0;
    }
    if (!strcmp(c, "tutorial"))
        tutorial(1000);
    else if (!strcmp(c, "hand"))
        tutorial_hand(1000);
    else if (!strcmp(c, "sgd64"))
        train_steps(NN_MOMENTUM, 64, 2);
    else if (!strcmp(c, "adam64"))
        train_steps(NN_ADAM, 64, 2);
    else if (!strcmp(c, "sgd256"))
        train_steps(NN_MOMENTUM, 256, 1);
    else if (!strcmp(c, "predict256"))
        predict(256);
    else if (!strcmp(c, "train256"))
        train_epoch(256);
    else {
        fprintf(stderr, "callgrind_step: unknown case %s\n", c);
        return 2;
    }
    return 0;
}
