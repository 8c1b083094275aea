/* SPDX-License-Identifier: MIT */
/*
 * ab_libs: two builds of libnn, timed in one process, turn about. On a
 * shared or virtual machine, runs minutes apart can differ by 50 % (the
 * host's load moves); turns a fraction of a second apart in one process
 * see the same machine. Each library is loaded into a namespace of its own
 * (dlmopen), with its own copies of its dependencies, so both can be
 * loaded though they have the same soname.
 *
 *   ab_libs LIB_A LIB_B WORKLOAD [THREADS]
 *
 * LIB_A, LIB_B: paths of libnn.so.0 files (e.g. build/lib/libnn.so.0 and
 * a copy of an earlier build's). WORKLOAD: predict (nn_predict, 1000 rows
 * of 784-256-128-10), evaluate (nn_evaluate, the same), train (nn_train,
 * 10 000 samples, momentum, batch 64) or tutorial (nn_backprop + nn_step
 * of the 2-3-1 network). THREADS sets NN_OPT_THREADS (default: 0). Prints
 * each library's median, minimum and maximum time per call over 15 turns,
 * and B's median over A's. Inputs are synthetic: timings do not depend on
 * their values.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nn.h>

enum { TURNS = 15, N_IN = 784, N_OUT = 10 };

/* The entry points a workload calls, from one library. */
typedef struct library {
    const char *path;
    int (*create)(nn_net **, size_t, const size_t *, const nn_activation *,
                  unsigned, uint64_t);
    int (*set)(nn_net *, int, double);
    int (*predict)(const nn_net *, const float *, size_t, float *);
    int (*evaluate)(const nn_net *, const float *, const float *, size_t,
                    double *, double *);
    int (*train)(nn_net *, const float *, const float *, size_t, size_t,
                 nn_progress_fn, void *);
    int (*backprop)(nn_net *, const float *, const float *, size_t,
                    double *);
    int (*step)(nn_net *);
    nn_net *net;
} library;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "ab_libs: %s: %s\n", what, detail);
    exit(1);
}

static void *symbol(void *handle, const char *path, const char *name)
{
    void *p = dlsym(handle, name);
    if (!p)
        die(path, dlerror());
    return p;
}

static void check(int rc, const library *lib, const char *call)
{
    if (rc != NN_OK)
        die(lib->path, call);
}

static void load(library *lib, const char *path, int tutorial, int threads)
{
    void *h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        die(path, dlerror());
    lib->path = path;
    *(void **)&lib->create = symbol(h, path, "nn_create");
    *(void **)&lib->set = symbol(h, path, "nn_set");
    *(void **)&lib->predict = symbol(h, path, "nn_predict");
    *(void **)&lib->evaluate = symbol(h, path, "nn_evaluate");
    *(void **)&lib->train = symbol(h, path, "nn_train");
    *(void **)&lib->backprop = symbol(h, path, "nn_backprop");
    *(void **)&lib->step = symbol(h, path, "nn_step");
    if (tutorial) {
        size_t sizes[] = {2, 3, 1};
        nn_activation acts[] = {NN_SIGMOID, NN_SIGMOID};
        check(lib->create(&lib->net, 3, sizes, acts, NN_NO_BIAS, 42), lib,
              "nn_create");
        check(lib->set(lib->net, NN_OPT_LEARNING_RATE, 0.5), lib, "nn_set");
    } else {
        size_t sizes[] = {N_IN, 256, 128, N_OUT};
        nn_activation acts[] = {NN_RELU, NN_RELU, NN_SOFTMAX};
        check(lib->create(&lib->net, 4, sizes, acts, 0, 1), lib,
              "nn_create");
        check(lib->set(lib->net, NN_OPT_OPTIMIZER, NN_MOMENTUM), lib,
              "nn_set");
        check(lib->set(lib->net, NN_OPT_BATCH_SIZE, 64), lib, "nn_set");
    }
    check(lib->set(lib->net, NN_OPT_THREADS, threads), lib, "nn_set");
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct data {
    float *x, *y, *out;
    size_t n;
} data;

/* One turn of a workload; returns seconds per call. */
static double turn(const library *lib, const char *workload, const data *d)
{
    static const float tx[6] = {0.3f, 1.0f, 0.5f, 0.2f, 1.0f, 0.4f};
    static const float ty[3] = {0.75f, 0.82f, 0.93f};
    double cost, accuracy, t0 = now();
    long calls;
    if (strcmp(workload, "predict") == 0) {
        for (calls = 0; calls < 100; calls++)
            check(lib->predict(lib->net, d->x, d->n, d->out), lib,
                  "nn_predict");
    } else if (strcmp(workload, "evaluate") == 0) {
        for (calls = 0; calls < 100; calls++)
            check(lib->evaluate(lib->net, d->x, d->y, d->n, &cost, &accuracy),
                  lib, "nn_evaluate");
    } else if (strcmp(workload, "train") == 0) {
        calls = 1;
        check(lib->train(lib->net, d->x, d->y, d->n, 1, NULL, NULL), lib,
              "nn_train");
    } else {
        for (calls = 0; calls < 200000; calls++) {
            check(lib->backprop(lib->net, tx, ty, 3, &cost), lib,
                  "nn_backprop");
            check(lib->step(lib->net), lib, "nn_step");
        }
    }
    return (now() - t0) / (double)calls;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    static const char *const workloads[] = {"predict", "evaluate", "train",
                                            "tutorial"};
    int known = 0;
    for (size_t i = 0; argc >= 4 && i < 4; i++)
        known |= strcmp(argv[3], workloads[i]) == 0;
    if (argc < 4 || argc > 5 || !known) {
        fprintf(stderr, "usage: ab_libs LIB_A LIB_B "
                        "predict|evaluate|train|tutorial [THREADS]\n");
        return 2;
    }
    const char *workload = argv[3];
    int threads = argc == 5 ? atoi(argv[4]) : 0;
    library libs[2];
    for (int v = 0; v < 2; v++)
        load(&libs[v], argv[1 + v], strcmp(workload, "tutorial") == 0,
             threads);

    data d = {NULL, NULL, NULL, strcmp(workload, "train") == 0 ? 10000 : 1000};
    d.x = malloc(d.n * N_IN * sizeof *d.x);
    d.y = calloc(d.n * N_OUT, sizeof *d.y);
    d.out = malloc(d.n * N_OUT * sizeof *d.out);
    if (!d.x || !d.y || !d.out)
        die("data", "out of memory");
    uint32_t s = 1;
    for (size_t i = 0; i < d.n * N_IN; i++) {
        s = s * 1664525u + 1013904223u;
        d.x[i] = (float)(s >> 24) / 255.0f;
    }
    for (size_t i = 0; i < d.n; i++)
        d.y[i * N_OUT + i % N_OUT] = 1.0f;

    double t[2][TURNS];
    for (int r = 0; r < TURNS; r++)
        for (int v = 0; v < 2; v++)
            t[v][r] = turn(&libs[v], workload, &d);
    for (int v = 0; v < 2; v++) {
        qsort(t[v], TURNS, sizeof t[v][0], by_value);
        printf("%s: %s, median %.4g s, min %.4g, max %.4g a call\n",
               v ? "B" : "A", argv[1 + v], t[v][TURNS / 2], t[v][0],
               t[v][TURNS - 1]);
    }
    printf("B / A (medians): %.3f\n", t[1][TURNS / 2] / t[0][TURNS / 2]);
    free(d.x);
    free(d.y);
    free(d.out);
    return 0;
}
