/* SPDX-License-Identifier: MIT */
/*
 * NN_OPT_THREADS (suite 'perf'): the setting reads back (also in
 * nn_build_info), 0 restores the backend's default, bad values are
 * refused, a given thread count gives the same bits run after run, and
 * different counts agree to rounding (not to the bit: OpenBLAS and oneDNN
 * pick different kernels and splits for one thread and for two, so sums
 * may round differently).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn.h>

static int failures;

#define EXPECT(cond)                                                           \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);         \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static nn_net *mlp(void)
{
    static const size_t sizes[] = {784, 256, 128, 10};
    static const nn_activation acts[] = {NN_RELU, NN_RELU, NN_SOFTMAX};
    nn_net *net = NULL;
    EXPECT(nn_create(&net, 4, sizes, acts, 0, 3) == NN_OK);
    EXPECT(nn_set(net, NN_OPT_OPTIMIZER, NN_MOMENTUM) == NN_OK);
    return net;
}

/* Parameters after three steps on the same batch with `threads`. */
static float *train(nn_net *ctl, int threads, const float *x, const float *y)
{
    EXPECT(nn_set(ctl, NN_OPT_THREADS, threads) == NN_OK);
    nn_net *net = mlp();
    for (int i = 0; i < 3; i++) {
        EXPECT(nn_backprop(net, x, y, 64, NULL) == NN_OK);
        EXPECT(nn_step(net) == NN_OK);
    }
    size_t n = nn_param_count(net);
    float *p = malloc(n * sizeof *p);
    memcpy(p, nn_params(net), n * sizeof *p);
    nn_free(net);
    return p;
}

int main(void)
{
    nn_net *net = mlp();
    double v = -1, start;
    EXPECT(nn_get(net, NN_OPT_THREADS, &start) == NN_OK);
    EXPECT(start >= 0);
    if (start == 0) { /* a BLAS that cannot say or set its count */
        EXPECT(nn_set(net, NN_OPT_THREADS, 0) == NN_OK);
        EXPECT(nn_set(net, NN_OPT_THREADS, 1) == NN_EINVAL);
        nn_free(net);
        return failures != 0;
    }
    EXPECT(nn_set(net, NN_OPT_THREADS, 1) == NN_OK);
    EXPECT(nn_get(net, NN_OPT_THREADS, &v) == NN_OK && v == 1);
    EXPECT(strstr(nn_build_info(), "\nthreads: 1\n") != NULL);
    EXPECT(nn_set(net, NN_OPT_THREADS, 2) == NN_OK);
    EXPECT(nn_get(net, NN_OPT_THREADS, &v) == NN_OK && v == 2);
    EXPECT(strstr(nn_build_info(), "\nthreads: 2\n") != NULL);
    /* process-wide: another handle sees it */
    nn_net *other = mlp();
    EXPECT(nn_get(other, NN_OPT_THREADS, &v) == NN_OK && v == 2);
    EXPECT(nn_set(net, NN_OPT_THREADS, 0) == NN_OK);
    EXPECT(nn_get(net, NN_OPT_THREADS, &v) == NN_OK && v == start);
    static const double bad[] = {-1, 0.5, 1025, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        EXPECT(nn_set(net, NN_OPT_THREADS, bad[i]) == NN_EINVAL);
        EXPECT(nn_get(net, NN_OPT_THREADS, &v) == NN_OK && v == start);
    }

    float *x = malloc(64 * 784 * sizeof *x), *y = calloc(64 * 10, sizeof *y);
    for (size_t i = 0; i < 64 * 784; i++)
        x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    for (size_t i = 0; i < 64; i++)
        y[i * 10 + i % 10] = 1;
    size_t n = nn_param_count(net);
    float *one = train(net, 1, x, y), *two = train(net, 2, x, y);
    float *one_again = train(net, 1, x, y), *two_again = train(net, 2, x, y);
    EXPECT(memcmp(one, one_again, n * sizeof *one) == 0);
    EXPECT(memcmp(two, two_again, n * sizeof *two) == 0);
    double worst = 0;
    size_t differ = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)one[i] - (double)two[i]);
        differ += one[i] != two[i];
        worst = d > worst ? d : worst;
    }
    printf("1 vs 2 threads: %zu of %zu parameters differ, by at most %.3g\n",
           differ, n, worst);
    EXPECT(worst < 1e-6);
    EXPECT(nn_set(net, NN_OPT_THREADS, 0) == NN_OK);
    free(one);
    free(two);
    free(one_again);
    free(two_again);
    free(x);
    free(y);
    nn_free(other);
    nn_free(net);
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures != 0;
}
