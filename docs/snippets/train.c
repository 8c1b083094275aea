/* SPDX-License-Identifier: MIT */
/* docs/tutorial.md, "Learning": plain gradient descent, W <- W - lr dJ/dW. */
#include "tutorial.h"

int main(void)
{
    float x[N * 2], y[N], y_hat[N];
    tutorial_data(x, y);
    nn_net *net = tutorial_net();

    /* NN_SGD is the default optimizer: p <- p - lr * g for every weight. */
    CHECK(net, nn_set(net, NN_OPT_LEARNING_RATE, 1.0));
    for (int step = 0; step <= 10000; step++) {
        double cost;
        CHECK(net, nn_backprop(net, x, y, N, &cost)); /* cost and gradient */
        if (step == 0 || step == 10 || step == 100 || step == 1000 ||
            step == 10000)
            printf("step %5d  cost %.6f\n", step, cost);
        CHECK(net, nn_step(net)); /* one step downhill */
    }

    CHECK(net, nn_forward(net, x, N, y_hat));
    for (int i = 0; i < N; i++)
        printf("predicted %5.2f  actual %5.2f\n", 100 * y_hat[i], 100 * y[i]);

    nn_free(net);
    return 0;
}
