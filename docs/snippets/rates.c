/* SPDX-License-Identifier: MIT */
/* docs/tutorial.md, "Choosing the learning rate": the same training with
 * rates a factor of 10 apart. */
#include "tutorial.h"

int main(void)
{
    float x[N * 2], y[N];
    tutorial_data(x, y);

    const double rates[] = {0.01, 0.1, 1, 10, 1000};
    printf("cost after this many steps:\n");
    printf("%-7s%10s%10s%10s%10s\n", "rate", "10", "100", "1000", "10000");
    for (int r = 0; r < 5; r++) {
        nn_net *net = tutorial_net(); /* same start for every rate */
        CHECK(net, nn_set(net, NN_OPT_LEARNING_RATE, rates[r]));
        printf("%-7g", rates[r]);
        for (int step = 1; step <= 10000; step++) {
            double cost;
            CHECK(net, nn_backprop(net, x, y, N, &cost));
            CHECK(net, nn_step(net));
            if (step == 10 || step == 100 || step == 1000 || step == 10000)
                printf("  %.6f", cost);
        }
        printf("\n");
        nn_free(net);
    }
    return 0;
}
