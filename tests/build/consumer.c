/* SPDX-License-Identifier: MIT */
/*
 * A program that knows libnn only through `pkg-config --cflags --libs nn`:
 * it learns XOR for a few hundred steps and prints what it got. Built and run
 * against an installed copy by check-consumer.sh.
 */
#include <nn.h>

#include <stdio.h>

int main(void)
{
    static const float x[] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const float y[] = {0, 1, 1, 0};
    static const size_t sizes[] = {2, 4, 1};
    static const nn_activation acts[] = {NN_TANH, NN_SIGMOID};
    float y_hat[4];
    double first = 0, cost = 0, accuracy = 0;
    nn_net *net = NULL;
    int rc, i;

    printf("libnn %s (header %d.%d.%d)\n", nn_version_string(),
           LIBNN_VERSION_MAJOR, LIBNN_VERSION_MINOR, LIBNN_VERSION_PATCH);
    rc = nn_create(&net, 3, sizes, acts, 0, 7);
    if (rc == NN_OK)
        rc = nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM);
    if (rc == NN_OK)
        rc = nn_set(net, NN_OPT_LEARNING_RATE, 0.05);
    for (i = 0; rc == NN_OK && i < 500; i++) {
        rc = nn_backprop(net, x, y, 4, &cost);
        if (rc == NN_OK)
            rc = nn_step(net);
        if (i == 0)
            first = cost;
    }
    if (rc == NN_OK)
        rc = nn_evaluate(net, x, y, 4, &cost, &accuracy);
    if (rc == NN_OK)
        rc = nn_predict(net, x, 4, y_hat);
    if (rc != NN_OK) {
        printf("error: %s: %s %s\n", nn_error_name(rc), nn_last_error(NULL),
               net ? nn_last_error(net) : "");
        nn_free(net);
        return 1;
    }
    printf("xor: cost %.4f -> %.4f after 500 Adam steps, accuracy %.2f\n",
           first, cost, accuracy);
    for (i = 0; i < 4; i++)
        printf("  %g xor %g = %.3f\n", x[2 * i], x[2 * i + 1], y_hat[i]);
    nn_free(net);
    if (!(cost < first)) {
        printf("error: training did not lower the cost\n");
        return 1;
    }
    printf("consumer ok\n");
    return 0;
}
