/* SPDX-License-Identifier: MIT */
/* docs/tutorial.md, "Beyond the tutorial": nn_train runs the loop, nn_save
 * and nn_load keep the result. */
#include <stdio.h>

#include "tutorial.h"

/* Called after every step; a non-zero return would stop training. */
static int report(void *user, size_t epoch, size_t step, size_t steps,
                  double cost)
{
    (void)user;
    if (step + 1 == steps && (epoch == 0 || epoch == 9 || epoch == 99))
        printf("epoch %3zu  cost %.6f\n", epoch + 1, cost);
    return 0;
}

int main(void)
{
    float x[N * 2], y[N], y_hat[N];
    tutorial_data(x, y);
    nn_net *net = tutorial_net();

    CHECK(net, nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM));
    CHECK(net, nn_set(net, NN_OPT_LEARNING_RATE, 0.05));
    CHECK(net, nn_set(net, NN_OPT_BATCH_SIZE, 2)); /* two students a step */
    CHECK(net, nn_train(net, x, y, N, 1000, report, NULL));

    /* The file holds everything: architecture, weights, settings, optimizer
     * state. Training resumed from it continues exactly. */
    CHECK(NULL, nn_save(net, "tutorial.nn"));
    nn_free(net);
    CHECK(NULL, nn_load(&net, "tutorial.nn"));
    remove("tutorial.nn");

    CHECK(NULL, nn_predict(net, x, N, y_hat));
    for (int i = 0; i < N; i++)
        printf("predicted %5.2f  actual %5.2f\n", 100 * y_hat[i], 100 * y[i]);
    nn_free(net);
    return 0;
}
