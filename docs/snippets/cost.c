/* SPDX-License-Identifier: MIT */
/* docs/tutorial.md, "Cost": how wrong the untrained network is. */
#include "tutorial.h"

int main(void)
{
    float x[N * 2], y[N];
    tutorial_data(x, y);
    nn_net *net = tutorial_net();

    double cost;
    CHECK(net, nn_cost(net, x, y, N, &cost));
    printf("libnn cost (mean over students) %.6f\n", cost);
    printf("tutorial J  (sum over students) %.6f\n", N * cost);

    nn_free(net);
    return 0;
}
