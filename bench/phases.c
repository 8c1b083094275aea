/* SPDX-License-Identifier: MIT */
/*
 * bench-phases: where a step of the sgd64 workload spends its time, through
 * the public API: nn_train's loop written out (nn_shuffle, the gather of a
 * minibatch's rows, nn_backprop, nn_step), each phase timed on its own,
 * beside nn_train's own epoch as the check that the loop is the same work.
 * docs/performance.md, "Where the time goes", quotes it.
 *
 *   phases [THREADS]   THREADS sets NN_OPT_THREADS (default: OpenBLAS's)
 *
 * The inputs are synthetic: timings do not depend on the pixel values.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nn.h>

enum { N = 60000, N_IN = 784, N_OUT = 10, BATCH = 64, EPOCHS = 3 };

#define CHECK(call)                                                            \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != NN_OK) {                                                    \
            fprintf(stderr, "phases: %s: %s\n", #call, nn_last_error(NULL));   \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *xmalloc(size_t bytes)
{
    void *p = calloc(1, bytes);
    if (!p) {
        fprintf(stderr, "phases: out of memory\n");
        exit(1);
    }
    return p;
}

/* Pixels in [0, 1] and one-hot labels from a fixed linear generator. */
static void make_data(float *x, float *y)
{
    uint32_t s = 12345u;
    for (size_t i = 0; i < (size_t)N * N_IN; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)(s >> 24) / 255.0f;
    }
    for (size_t i = 0; i < N; i++)
        y[i * N_OUT + i % N_OUT] = 1.0f;
}

static nn_net *make_net(int threads)
{
    size_t sizes[] = {N_IN, 256, 128, N_OUT};
    nn_activation acts[] = {NN_RELU, NN_RELU, NN_SOFTMAX};
    nn_net *net;
    CHECK(nn_create(&net, 4, sizes, acts, 0, 1));
    CHECK(nn_set(net, NN_OPT_OPTIMIZER, NN_MOMENTUM));
    CHECK(nn_set(net, NN_OPT_BATCH_SIZE, BATCH));
    if (threads > 0)
        CHECK(nn_set(net, NN_OPT_THREADS, threads));
    return net;
}

static void gather(const float *src, size_t width, const size_t *rows,
                   float *dst)
{
    for (size_t i = 0; i < BATCH; i++)
        memcpy(dst + i * width, src + rows[i] * width, width * sizeof *dst);
}

/* One epoch of nn_train's loop, phase by phase; sums seconds into t[3]. */
static void epoch_by_phase(nn_net *net, const float *x, const float *y,
                           size_t *order, float *xb, float *yb, double t[3])
{
    CHECK(nn_shuffle(net, order, N));
    for (size_t step = 0; step < N / BATCH; step++) {
        const size_t *rows = order + step * BATCH;
        double t0 = now();
        gather(x, N_IN, rows, xb);
        gather(y, N_OUT, rows, yb);
        double t1 = now();
        CHECK(nn_backprop(net, xb, yb, BATCH, NULL));
        double t2 = now();
        CHECK(nn_step(net));
        t[0] += t1 - t0;
        t[1] += t2 - t1;
        t[2] += now() - t2;
    }
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 0;
    float *x = xmalloc((size_t)N * N_IN * sizeof *x);
    float *y = xmalloc((size_t)N * N_OUT * sizeof *y);
    float *xb = xmalloc(BATCH * N_IN * sizeof *xb);
    float *yb = xmalloc(BATCH * N_OUT * sizeof *yb);
    size_t *order = xmalloc(N * sizeof *order);
    make_data(x, y);
    nn_net *net = make_net(threads);
    CHECK(nn_train(net, x, y, N, 1, NULL, NULL)); /* warm-up */
    double steps = (double)(N / BATCH);
    printf("784-256-128-10, momentum, batch %d, NN_OPT_THREADS %d; "
           "us/step\n", BATCH, threads);
    printf("  nn_train   gather  nn_backprop  nn_step   (loop total)\n");
    for (int e = 0; e < EPOCHS; e++) {
        double t0 = now();
        CHECK(nn_train(net, x, y, N, 1, NULL, NULL));
        double train = now() - t0, t[3] = {0, 0, 0};
        epoch_by_phase(net, x, y, order, xb, yb, t);
        printf("  %8.1f %8.1f %12.1f %8.1f   (%.1f)\n", train * 1e6 / steps,
               t[0] * 1e6 / steps, t[1] * 1e6 / steps, t[2] * 1e6 / steps,
               (t[0] + t[1] + t[2]) * 1e6 / steps);
    }
    nn_free(net);
    free(x);
    free(y);
    free(xb);
    free(yb);
    free(order);
    return 0;
}
