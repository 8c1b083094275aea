/* SPDX-License-Identifier: MIT */
/* docs/tutorial.md, "Backpropagation": dJ/dW, and a numerical check. */
#include "tutorial.h"

int main(void)
{
    float x[N * 2], y[N];
    tutorial_data(x, y);
    nn_net *net = tutorial_net();

    CHECK(net, nn_backprop(net, x, y, N, NULL));
    const float *g = nn_grads(net); /* laid out like nn_params */
    printf("dJ/dW1 = [% .4f % .4f % .4f]\n"
           "         [% .4f % .4f % .4f]\n",
           N * g[0], N * g[1], N * g[2], N * g[3], N * g[4], N * g[5]);
    printf("dJ/dW2 = [% .4f % .4f % .4f]^T\n", N * g[6], N * g[7], N * g[8]);

    double error;
    CHECK(net, nn_gradcheck(net, x, y, N, &error));
    printf("largest relative error against finite differences: %s\n",
           error < 1e-4 ? "below 1e-4" : "TOO LARGE");

    nn_free(net);
    return error < 1e-4 ? 0 : 1;
}
