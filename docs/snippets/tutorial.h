/* SPDX-License-Identifier: MIT */
/* Shared by the tutorial's programs (docs/tutorial.md): the data, the
 * network with the tutorial's starting weights, and an error check. */
#ifndef TUTORIAL_H
#define TUTORIAL_H

#include <stdio.h>
#include <stdlib.h>

#include <nn.h>

/* Stops the program with libnn's explanation when a call fails. */
#define CHECK(net, call)                                                       \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != NN_OK) {                                                    \
            fprintf(stderr, "%s: %s (%s)\n", #call, nn_error_name(rc_),        \
                    nn_last_error(net));                                       \
            exit(EXIT_FAILURE);                                                \
        }                                                                      \
    } while (0)

enum { N = 3 }; /* students */

/* Hours of sleep and of study, one student per row, each column divided by
 * its maximum (10 h and 5 h); scores divided by 100. */
static inline void tutorial_data(float x[N * 2], float y[N])
{
    const float hours[N][2] = {{3, 5}, {5, 1}, {10, 2}};
    const float score[N] = {75, 82, 93};
    for (int i = 0; i < N; i++) {
        x[2 * i] = hours[i][0] / 10;
        x[2 * i + 1] = hours[i][1] / 5;
        y[i] = score[i] / 100;
    }
}

/* 2 inputs, 3 hidden units, 1 output, sigmoid on both layers, no biases. */
static inline nn_net *tutorial_net(void)
{
    size_t sizes[] = {2, 3, 1};
    nn_activation acts[] = {NN_SIGMOID, NN_SIGMOID};
    nn_net *net;
    CHECK(NULL, nn_create(&net, 3, sizes, acts, NN_NO_BIAS, 42));

    /* The tutorial's starting weights instead of random ones:
     * W1 (2 x 3, row-major) then W2 (3 x 1), one buffer. */
    const float w[9] = {0.5f,  -0.25f, 1.0f,  /* W1, from sleep */
                        0.75f, 0.1f,   -0.6f, /* W1, from study */
                        0.3f,  -1.2f,  0.8f}; /* W2 */
    float *p = nn_params(net);
    for (int i = 0; i < 9; i++)
        p[i] = w[i];
    return net;
}

#endif
