/* SPDX-License-Identifier: MIT */
/*
 * The training kit on a small problem: is a point inside a ring? Raw
 * features far from zero are standardised inside the network, a held-out
 * set drives early stopping, dropout and a cosine schedule regularise, and
 * the per-epoch history is printed at the end. Run: build/examples/fit
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn.h"

#define N_TRAIN 800
#define N_VAL 200
#define EPOCHS 60

/* Points in a 20 x 20 square around (100, 100), labelled by whether they
 * fall in a ring; one-hot targets for the two classes. */
static void make_ring(float *x, float *y, size_t n, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        float u = 100.0f + 20.0f * ((float)rand() / (float)RAND_MAX - 0.5f);
        float v = 100.0f + 20.0f * ((float)rand() / (float)RAND_MAX - 0.5f);
        float r = hypotf(u - 100.0f, v - 100.0f);
        int inside = r > 3.0f && r < 7.0f;
        x[2 * i] = u;
        x[2 * i + 1] = v;
        y[2 * i] = (float)!inside;
        y[2 * i + 1] = (float)inside;
    }
}

static int check(int rc, nn_net *net)
{
    if (rc != NN_OK)
        fprintf(stderr, "libnn: %s: %s\n", nn_error_name(rc),
                nn_last_error(net));
    return rc;
}

static int print_epoch(void *user, const nn_net *net, size_t epoch)
{
    (void)user;
    double val[EPOCHS];
    size_t len = nn_history_len(net);
    if (epoch % 10 == 0 &&
        nn_history(net, NN_HIST_VAL_ACCURACY, val, EPOCHS) == NN_OK)
        printf("epoch %2zu  validation accuracy %.3f\n", epoch, val[len - 1]);
    return 0;
}

int main(void)
{
    static float x[N_TRAIN * 2], y[N_TRAIN * 2], xv[N_VAL * 2], yv[N_VAL * 2];
    make_ring(x, y, N_TRAIN, 1);
    make_ring(xv, yv, N_VAL, 2);

    size_t sizes[] = {2, 32, 32, 2};
    nn_activation acts[] = {NN_RELU, NN_RELU, NN_SOFTMAX};
    nn_net *net;
    if (check(nn_create(&net, 4, sizes, acts, 0, 7), NULL))
        return 1;
    int rc = nn_standardize_inputs(net, x, N_TRAIN);
    if (!rc) rc = nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM);
    if (!rc) rc = nn_set(net, NN_OPT_LEARNING_RATE, 0.01);
    if (!rc) rc = nn_set(net, NN_OPT_DROPOUT, 0.1);
    if (!rc) rc = nn_set(net, NN_OPT_SCHEDULE, NN_SCHEDULE_COSINE);
    if (!rc) rc = nn_set(net, NN_OPT_T_MAX, EPOCHS);
    if (!rc) rc = nn_set(net, NN_OPT_EARLY_STOPPING, 15);
    if (!rc)
        rc = nn_fit(net, x, y, N_TRAIN, xv, yv, N_VAL, EPOCHS, NULL,
                    print_epoch, NULL);
    if (check(rc, net)) {
        nn_free(net);
        return 1;
    }

    double loss, accuracy;
    if (check(nn_evaluate(net, xv, yv, N_VAL, &loss, &accuracy), NULL)) {
        nn_free(net);
        return 1;
    }
    printf("trained %zu epochs; best weights restored: validation loss "
           "%.4f, accuracy %.3f\n", nn_history_len(net), loss, accuracy);
    nn_free(net);
    return accuracy > 0.9 ? 0 : 1;
}
