/* SPDX-License-Identifier: MIT */
/*
 * Wrote the frozen model files that tests/unit/test_persist.c loads to hold
 * the compatibility promise of docs/format.md, and printed the predictions
 * recorded in that test:
 *
 *     make-model OUT.nnm           tests/data/model-v1.nnm (format 1)
 *     make-model OUT.nnm --names   tests/data/model-v2.nnm (format 2: the
 *                                  same network, trained alike, with the
 *                                  task, class, feature and label names)
 *
 * Built by tests/hardening/meson.build, not by default. Kept for the
 * record: the committed files must never be regenerated (a new format
 * version adds a new file next to them instead).
 */
#include <stdio.h>
#include <string.h>

#include "nn.h"

#define CHECK(call)                                                            \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != NN_OK) {                                                    \
            fprintf(stderr, "%s: %s (%s)\n", #call, nn_error_name(rc_),        \
                    nn_last_error(NULL));                                      \
            return 1;                                                          \
        }                                                                      \
    } while (0)

int main(int argc, char **argv)
{
    int names = argc == 3 && strcmp(argv[2], "--names") == 0;
    if (argc != 2 && !names) {
        fprintf(stderr, "usage: %s OUT.nnm [--names]\n", argv[0]);
        return 2;
    }
    static const size_t sizes[] = {3, 5, 2};
    static const nn_activation acts[] = {NN_TANH, NN_SOFTMAX};
    static const float shift[3] = {0.25f, -0.5f, 1.0f};
    static const float scale[3] = {2.0f, 0.5f, 1.5f};
    /* Two classes: is x0 + x1 - x2 positive? */
    float x[16 * 3], y[16 * 2];
    for (int i = 0; i < 16; i++) {
        x[3 * i + 0] = (float)((i * 7) % 11) / 5.0f - 1.0f;
        x[3 * i + 1] = (float)((i * 5) % 13) / 6.0f - 1.0f;
        x[3 * i + 2] = (float)((i * 3) % 7) / 3.0f - 1.0f;
        int c = x[3 * i] + x[3 * i + 1] - x[3 * i + 2] > 0.0f;
        y[2 * i + 0] = (float)c;
        y[2 * i + 1] = (float)!c;
    }
    static const float probe[4 * 3] = {
        0.5f, -1.0f, 2.0f, -0.25f, 0.0f,  1.5f,
        1.0f, 1.0f,  1.0f, -2.0f,  0.75f, -0.5f,
    };

    nn_net *net;
    CHECK(nn_create(&net, 3, sizes, acts, 0, 20240601));
    CHECK(nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM));
    CHECK(nn_set(net, NN_OPT_LEARNING_RATE, 0.05));
    CHECK(nn_set(net, NN_OPT_BATCH_SIZE, 4));
    CHECK(nn_set_input_transform(net, shift, scale));
    CHECK(nn_train(net, x, y, 16, 3, NULL, NULL));
    if (names) {
        static const char *const classes[] = {"above", "below"};
        static const char *const features[] = {"x0", "x1", "x2"};
        CHECK(nn_set_task(net, NN_TASK_CLASSIFY));
        CHECK(nn_set_classes(net, 2, classes));
        CHECK(nn_set_feature_names(net, 3, features));
        CHECK(nn_set_label_name(net, "side"));
    }
    CHECK(nn_save(net, argv[1]));

    float out[4 * 2];
    CHECK(nn_predict(net, probe, 4, out));
    for (int i = 0; i < 8; i++)
        printf("    %a, /* %.9g */\n", (double)out[i], (double)out[i]);
    nn_free(net);
    return 0;
}
