/* SPDX-License-Identifier: MIT */
/*
 * FANN peer of bench/bench.c, built only when libfann-dev is installed; the
 * line protocol is in peer_common.py.
 *
 * usage: peer_fann DATA_FILE
 *
 * FANN 2.2 has neither ReLU nor softmax nor cross-entropy nor minibatches:
 * the network is 784-256-128-10 with FANN_LINEAR_PIECE hidden units (the
 * bounded ReLU-like one), sigmoid outputs and its MSE, and a batch-64 step
 * is fann_train_epoch() with FANN_TRAIN_BATCH on a 64-sample subset
 * (subsets cut before timing, in data order). Adam does not exist in FANN:
 * "adam" runs FANN_TRAIN_RPROP on the same subsets, its adaptive
 * optimizer. The tutorial step is fann_train_epoch() with FANN_TRAIN_BATCH
 * on the 3 samples of a 2-3-1 sigmoid network.
 */
#define _POSIX_C_SOURCE 200809L
#include <floatfann.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static struct fann_train_data *all;

static int load(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint32_t head[3];
    if (!f || fread(head, sizeof head, 1, f) != 1)
        return 0;
    unsigned n = head[0], n_in = head[1], n_out = head[2];
    all = fann_create_train(n, n_in, n_out);
    if (!all)
        return 0;
    float *row = malloc(n_in * sizeof *row);
    for (unsigned i = 0; i < n; i++) {
        if (fread(row, sizeof *row, n_in, f) != n_in)
            return 0;
        for (unsigned j = 0; j < n_in; j++)
            all->input[i][j] = row[j];
    }
    for (unsigned i = 0; i < n; i++) {
        int label = fgetc(f);
        if (label == EOF)
            return 0;
        for (unsigned k = 0; k < n_out; k++)
            all->output[i][k] = (unsigned)label == k ? 1.0f : 0.0f;
    }
    free(row);
    fclose(f);
    return 1;
}

static struct fann *mlp(enum fann_train_enum algo)
{
    struct fann *ann = fann_create_standard(4, 784, 256, 128, 10);
    fann_set_activation_function_hidden(ann, FANN_LINEAR_PIECE);
    fann_set_activation_function_output(ann, FANN_SIGMOID);
    fann_set_training_algorithm(ann, algo);
    fann_set_learning_rate(ann, 0.01f);
    fann_randomize_weights(ann, -0.05f, 0.05f);
    return ann;
}

/* Batches of `batch` samples over the first `n`, cut once. */
typedef struct batches {
    unsigned batch, n, count;
    struct fann_train_data **b;
} batches;

static batches cache[4];

static batches *get_batches(unsigned batch, unsigned n)
{
    for (int i = 0; i < 4; i++)
        if (cache[i].b && cache[i].batch == batch && cache[i].n == n)
            return &cache[i];
    for (int i = 0; i < 4; i++) {
        if (cache[i].b)
            continue;
        batches *c = &cache[i];
        c->batch = batch;
        c->n = n;
        c->count = (n + batch - 1) / batch;
        c->b = malloc(c->count * sizeof *c->b);
        for (unsigned k = 0; k < c->count; k++) {
            unsigned start = k * batch;
            unsigned len = n - start < batch ? n - start : batch;
            c->b[k] = fann_subset_train_data(all, start, len);
        }
        return c;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2 || !load(argv[1])) {
        fprintf(stderr, "peer_fann: cannot load the data\n");
        return 1;
    }
    struct fann *sgd64 = mlp(FANN_TRAIN_BATCH);
    struct fann *rprop64 = mlp(FANN_TRAIN_RPROP);
    struct fann *sgd256 = mlp(FANN_TRAIN_BATCH);
    struct fann *infer = mlp(FANN_TRAIN_BATCH);
    char line[256], opt[16];
    unsigned batch, n;
    long steps;
    while (fgets(line, sizeof line, stdin)) {
        double t = -1.0;
        if (!strncmp(line, "quit", 4))
            break;
        if (!strncmp(line, "hello", 5)) {
            t = 0.0;
        } else if (sscanf(line, "train %15s %u %u", opt, &batch, &n) == 3) {
            struct fann *ann = !strcmp(opt, "adam") ? rprop64
                               : batch == 256       ? sgd256
                                                    : sgd64;
            batches *bs = get_batches(batch, n);
            if (bs) {
                double t0 = now();
                for (unsigned k = 0; k < bs->count; k++)
                    fann_train_epoch(ann, bs->b[k]);
                t = now() - t0;
            }
        } else if (sscanf(line, "predict %u %u", &batch, &n) == 2) {
            double t0 = now();
            for (unsigned i = 0; i < n && i < all->num_data; i++)
                fann_run(infer, all->input[i]);
            t = now() - t0;
        } else if (sscanf(line, "tutorial %ld", &steps) == 1) {
            static const float x[3][2] = {
                {0.3f, 1.0f}, {0.5f, 0.2f}, {1.0f, 0.4f}};
            static const float y[3] = {0.75f, 0.82f, 0.93f};
            struct fann *ann = fann_create_standard(3, 2, 3, 1);
            fann_set_activation_function_hidden(ann, FANN_SIGMOID);
            fann_set_activation_function_output(ann, FANN_SIGMOID);
            fann_set_training_algorithm(ann, FANN_TRAIN_BATCH);
            fann_set_learning_rate(ann, 0.5f);
            struct fann_train_data *d = fann_create_train(3, 2, 1);
            for (int i = 0; i < 3; i++) {
                d->input[i][0] = x[i][0];
                d->input[i][1] = x[i][1];
                d->output[i][0] = y[i];
            }
            double t0 = now();
            for (long i = 0; i < steps; i++)
                fann_train_epoch(ann, d);
            t = now() - t0;
            fann_destroy_train(d);
            fann_destroy(ann);
        }
        if (t < 0.0)
            printf("na\n");
        else
            printf("ok %.9f\n", t);
        fflush(stdout);
    }
    return 0;
}
