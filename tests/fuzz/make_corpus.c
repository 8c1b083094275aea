/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of fuzz_load: valid model files covering every
 * activation, optimizer (with its state), schedule, with and without bias
 * and input transform. Run once; the outputs are committed under
 * tests/fuzz/corpus/load/ (built by tests/fuzz/meson.build, not by
 * default):   make_corpus DIR
 */
#include <stdio.h>

#include "nn.h"

#define CHECK(call)                                                            \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != NN_OK) {                                                    \
            fprintf(stderr, "%s: %s\n", #call, nn_last_error(NULL));           \
            return 1;                                                          \
        }                                                                      \
    } while (0)

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    static const struct {
        size_t n_sizes, sizes[4];
        nn_activation acts[3];
        unsigned flags;
        int optimizer, schedule, transform;
        double dropout;
    } models[] = {
        {3, {2, 3, 1}, {NN_SIGMOID, NN_SIGMOID}, NN_NO_BIAS, NN_SGD, 0, 0, 0},
        {2, {1, 1}, {NN_IDENTITY}, NN_NO_BIAS, NN_SGD, 0, 0, 0},
        {3, {3, 4, 2}, {NN_TANH, NN_SOFTMAX}, 0, NN_MOMENTUM, 1, 1, 0},
        {4,
         {4, 5, 3, 2},
         {NN_RELU, NN_LEAKY_RELU, NN_SIGMOID},
         0,
         NN_NESTEROV,
         2,
         0,
         0.2},
        {3,
         {2, 6, 3},
         {NN_LEAKY_RELU, NN_SOFTMAX},
         NN_NO_BIAS,
         NN_ADAM,
         3,
         1,
         0.1},
        {2, {5, 2}, {NN_SIGMOID}, 0, NN_ADAMW, 4, 1, 0},
        {3, {2, 2, 2}, {NN_RELU, NN_IDENTITY}, 0, NN_RMSPROP, 4, 0, 0.5},
    };
    float x[16 * 5], y[16 * 3];
    for (int i = 0; i < 16 * 5; i++)
        x[i] = (float)((i * 37) % 19) / 9.0f - 1.0f;
    for (int i = 0; i < 16 * 3; i++)
        y[i] = (float)((i * 11) % 3 == 0);
    for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
        nn_net *net;
        CHECK(nn_create(&net, models[m].n_sizes, models[m].sizes,
                        models[m].acts, models[m].flags, 100 + m));
        CHECK(nn_set(net, NN_OPT_OPTIMIZER, models[m].optimizer));
        CHECK(nn_set(net, NN_OPT_SCHEDULE, models[m].schedule));
        CHECK(nn_set(net, NN_OPT_DROPOUT, models[m].dropout));
        CHECK(nn_set(net, NN_OPT_BATCH_SIZE, 4));
        if (models[m].transform)
            CHECK(nn_standardize_inputs(net, x, 16));
        size_t n_out = models[m].sizes[models[m].n_sizes - 1];
        float yy[16 * 3];
        for (int i = 0; i < 16; i++) { /* rows of probabilities */
            float sum = 0;
            for (size_t k = 0; k < n_out; k++)
                sum += yy[i * n_out + k] = y[i * 3 + k] + 0.5f;
            for (size_t k = 0; k < n_out; k++)
                yy[i * n_out + k] /= n_out == 1 ? 2 * sum : sum;
        }
        if (m > 0)
            CHECK(nn_train(net, x, yy, 16, 2, NULL, NULL));
        char path[4096];
        snprintf(path, sizeof path, "%s/model-%zu.nnm", argv[1], m);
        CHECK(nn_save(net, path));
        nn_free(net);
    }
    return 0;
}
