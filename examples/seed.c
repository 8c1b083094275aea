/* SPDX-License-Identifier: MIT */
/*
 * The tutorial network that libnn grew from (docs/tutorial.md): predict a
 * test score from hours of sleep and hours of study, with 2 inputs, 3
 * sigmoid hidden units, 1 sigmoid output and no biases.
 *
 * It first checks libnn against the tutorial's own formulas, computed here
 * in double, then trains the network and tries it on a student it has not
 * seen. Exits non-zero if a libnn call fails or libnn disagrees with the
 * formulas.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <nn.h>

#define N 3 /* samples */

/* Stops the example on a failed call, with libnn's explanation. */
static void check(int rc, const nn_net *net, const char *what)
{
    if (rc != NN_OK) {
        fprintf(stderr, "%s failed: %s (%s)\n", what, nn_error_name(rc),
                nn_last_error(net));
        exit(EXIT_FAILURE);
    }
}

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

int main(void)
{
    /* Hours of sleep, hours of study -> test score. */
    const double x_raw[N][2] = {{3, 5}, {5, 1}, {10, 2}};
    const double y_raw[N] = {75, 82, 93};

    /* Normalise as the tutorial does: each input column by its maximum,
     * scores by 100, so everything lies in [0, 1]. */
    double x_max[2] = {0, 0};
    for (int i = 0; i < N; i++)
        for (int j = 0; j < 2; j++)
            x_max[j] = fmax(x_max[j], x_raw[i][j]);
    float x[N * 2], y[N];
    for (int i = 0; i < N; i++) {
        x[2 * i] = (float)(x_raw[i][0] / x_max[0]);
        x[2 * i + 1] = (float)(x_raw[i][1] / x_max[1]);
        y[i] = (float)(y_raw[i] / 100.0);
    }

    size_t sizes[] = {2, 3, 1};
    nn_activation acts[] = {NN_SIGMOID, NN_SIGMOID};
    nn_net *net = NULL;
    check(nn_create(&net, 3, sizes, acts, NN_NO_BIAS, 42), NULL, "nn_create");

    /* The tutorial's starting weights (tests/data/seed.json), instead of
     * libnn's random ones, so both sides start from the same network. The
     * parameter buffer holds W1 (2 x 3, row-major) then W2 (3 x 1). */
    const double w1[2][3] = {{0.5, -0.25, 1.0}, {0.75, 0.1, -0.6}};
    const double w2[3] = {0.3, -1.2, 0.8};
    float *p = nn_params(net);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            p[3 * i + j] = (float)w1[i][j];
    for (int j = 0; j < 3; j++)
        p[6 + j] = (float)w2[j];

    /* ---- The tutorial's formulas, in double ----
     * z2 = X W1, a2 = f(z2), z3 = a2 W2, yhat = f(z3), J = sum 1/2 (y-yhat)^2
     * delta3 = -(y - yhat) f'(z3), dJ/dW2 = a2^T delta3
     * delta2 = (delta3 W2^T) f'(z2), dJ/dW1 = X^T delta2
     * with f'(z) = f(z) (1 - f(z)). The weights are read back from libnn so
     * that both sides use the same float-rounded values. */
    double yhat[N], J = 0, dw1[2][3] = {{0}}, dw2[3] = {0};
    for (int i = 0; i < N; i++) {
        double a2[3], z3 = 0;
        for (int j = 0; j < 3; j++) {
            a2[j] = sigmoid(x[2 * i] * p[j] + x[2 * i + 1] * p[3 + j]);
            z3 += a2[j] * p[6 + j];
        }
        yhat[i] = sigmoid(z3);
        J += 0.5 * (y[i] - yhat[i]) * (y[i] - yhat[i]);
        double delta3 = -(y[i] - yhat[i]) * yhat[i] * (1 - yhat[i]);
        for (int j = 0; j < 3; j++) {
            double delta2 = delta3 * p[6 + j] * a2[j] * (1 - a2[j]);
            dw2[j] += a2[j] * delta3;
            dw1[0][j] += x[2 * i] * delta2;
            dw1[1][j] += x[2 * i + 1] * delta2;
        }
    }

    /* ---- The same with libnn ----
     * libnn's MSE is the MEAN over samples of 1/2 (y - yhat)^2, so the
     * tutorial's J (a sum) is N times libnn's cost, and so are the
     * gradients. */
    float out[N];
    double cost;
    check(nn_forward(net, x, N, out), net, "nn_forward");
    check(nn_backprop(net, x, y, N, &cost), net, "nn_backprop");
    const float *g = nn_grads(net);

    double worst = 0; /* largest relative disagreement */
    printf("libnn's cost and gradients are means over the N = %d samples:\n"
           "its column shows them times N, the tutorial's sums.\n\n",
           N);
    printf("%-16s %14s %14s\n", "", "tutorial", "libnn");
    for (int i = 0; i < N; i++) {
        printf("yhat[%d]%9s %14.9f %14.9f\n", i, "", yhat[i], out[i]);
        worst = fmax(worst, fabs(out[i] - yhat[i]) / fabs(yhat[i]));
    }
    printf("%-16s %14.9f %14.9f\n", "J", J, N * cost);
    worst = fmax(worst, fabs(N * cost - J) / J);
    for (int k = 0; k < 9; k++) { /* g[k]: W1 row-major, then W2 */
        int w2 = k >= 6, row = w2 ? k - 6 : k / 3, col = w2 ? 0 : k % 3;
        double want = w2 ? dw2[row] : dw1[row][col];
        printf("dJ/dW%d[%d][%d]     %14.9f %14.9f\n", 1 + w2, row, col, want,
               N * g[k]);
        worst = fmax(worst, fabs(N * g[k] - want) / fabs(want));
    }
    printf("largest relative difference: %.1e\n\n", worst);
    if (worst > 1e-5) {
        fprintf(stderr, "libnn disagrees with the tutorial's formulas\n");
        return EXIT_FAILURE;
    }

    /* ---- Learning ----
     * The tutorial's rule is plain gradient descent, W <- W - lr dJ/dW
     * (NN_SGD). Adam gets there in far fewer steps on this tiny problem. */
    check(nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM), net, "nn_set optimizer");
    check(nn_set(net, NN_OPT_LEARNING_RATE, 0.05), net, "nn_set rate");
    for (int it = 0; it <= 2000; it++) {
        check(nn_backprop(net, x, y, N, &cost), net, "nn_backprop");
        if (it % 250 == 0)
            printf("iteration %4d  cost %.8f\n", it, cost);
        check(nn_step(net), net, "nn_step");
    }

    check(nn_forward(net, x, N, out), net, "nn_forward");
    printf("\nsleep  study  score  predicted\n");
    for (int i = 0; i < N; i++)
        printf("%5.0f  %5.0f  %5.0f  %9.2f\n", x_raw[i][0], x_raw[i][1],
               y_raw[i], 100.0 * out[i]);

    /* ---- Testing on a student the network has never seen ----
     * Normalised with the training data's maxima, as the network expects.
     * A perfect fit of three samples says little: with so little data the
     * network can only memorise them (overfit). Judge it on unseen data. */
    const double sleep = 8, study = 3;
    float unseen[2] = {(float)(sleep / x_max[0]), (float)(study / x_max[1])};
    float score;
    check(nn_forward(net, unseen, 1, &score), net, "nn_forward");
    printf("\nunseen: %.0f h sleep, %.0f h study -> predicted score %.2f\n",
           sleep, study, 100.0 * score);

    nn_free(net);
    return EXIT_SUCCESS;
}
