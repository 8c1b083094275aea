/* SPDX-License-Identifier: MIT */
/* docs/tutorial.md, "Testing": train with Adam, then ask about a student
 * the network has never seen. */
#include "tutorial.h"

int main(void)
{
    float x[N * 2], y[N];
    tutorial_data(x, y);
    nn_net *net = tutorial_net();

    CHECK(net, nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM));
    CHECK(net, nn_set(net, NN_OPT_LEARNING_RATE, 0.05));
    for (int step = 0; step < 2000; step++) {
        CHECK(net, nn_backprop(net, x, y, N, NULL));
        CHECK(net, nn_step(net));
    }
    double cost;
    CHECK(net, nn_cost(net, x, y, N, &cost));
    printf("cost after 2000 Adam steps %.6f\n", cost);

    /* 8 hours of sleep, 3 of study: scaled like the training data. */
    float student[2] = {8.0f / 10, 3.0f / 5}, score;
    CHECK(NULL, nn_predict(net, student, 1, &score));
    printf("8 h sleep, 3 h study: predicted score %.1f\n", 100 * score);

    nn_free(net);
    return 0;
}
