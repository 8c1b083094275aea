/* SPDX-License-Identifier: MIT */
/* docs/tutorial.md, "Overfitting": training and test cost side by side,
 * without and with weight decay. */
#include "tutorial.h"

enum { N_TRAIN = 4, N_TEST = 6 };

/* Hours of sleep, hours of study, score; invented for this page. */
static const float train[N_TRAIN][3] = {
    {3, 5, 75}, {5, 1, 82}, {10, 2, 93}, {6, 1.5f, 70}};
static const float test[N_TEST][3] = {{4, 5.5f, 70}, {4.5f, 1, 89},
                                      {9, 2.5f, 85}, {6, 2, 75},
                                      {7, 4, 85},    {5, 3, 77}};

static void scale(const float (*rows)[3], int n, float *x, float *y)
{
    for (int i = 0; i < n; i++) {
        x[2 * i] = rows[i][0] / 10;
        x[2 * i + 1] = rows[i][1] / 5;
        y[i] = rows[i][2] / 100;
    }
}

int main(void)
{
    float x[N_TRAIN * 2], y[N_TRAIN], x_test[N_TEST * 2], y_test[N_TEST];
    scale(train, N_TRAIN, x, y);
    scale(test, N_TEST, x_test, y_test);

    /* Two identical networks (same seed), with biases this time; the second
     * pays for large weights. */
    size_t sizes[] = {2, 3, 1};
    nn_activation acts[] = {NN_SIGMOID, NN_SIGMOID};
    const double decay[2] = {0.0, 1e-4};
    nn_net *net[2];
    for (int k = 0; k < 2; k++) {
        CHECK(NULL, nn_create(&net[k], 3, sizes, acts, 0, 7));
        CHECK(net[k], nn_set(net[k], NN_OPT_OPTIMIZER, NN_ADAM));
        CHECK(net[k], nn_set(net[k], NN_OPT_WEIGHT_DECAY, decay[k]));
    }

    printf("%5s    %-14s    %s\n", "", "no decay", "decay 1e-4");
    printf("%5s    %-6s  %-6s    %-6s  %s\n", "step", "train", "test", "train",
           "test");
    for (int step = 0; step <= 10000; step++) {
        if (step % 2000 == 0)
            printf("%5d", step);
        for (int k = 0; k < 2; k++) {
            double cost, cost_test;
            CHECK(net[k], nn_backprop(net[k], x, y, N_TRAIN, &cost));
            if (step % 2000 == 0) {
                CHECK(NULL, nn_evaluate(net[k], x_test, y_test, N_TEST,
                                        &cost_test, NULL));
                printf("    %.4f  %.4f", cost, cost_test);
            }
            CHECK(net[k], nn_step(net[k]));
        }
        if (step % 2000 == 0)
            printf("\n");
    }

    for (int k = 0; k < 2; k++)
        nn_free(net[k]);
    return 0;
}
