/* SPDX-License-Identifier: MIT */
/* docs/tutorial.md, "Forward": the untrained network's predictions. */
#include "tutorial.h"

int main(void)
{
    float x[N * 2], y[N], y_hat[N];
    tutorial_data(x, y);
    nn_net *net = tutorial_net();

    CHECK(net, nn_forward(net, x, N, y_hat));
    for (int i = 0; i < N; i++)
        printf("predicted %5.2f  actual %5.2f\n", 100 * y_hat[i], 100 * y[i]);

    nn_free(net);
    return 0;
}
