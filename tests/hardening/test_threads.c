/* SPDX-License-Identifier: MIT */
/*
 * nn_predict and nn_evaluate on one handle from 8 threads at once: every
 * thread's results equal, bit for bit, those of a serial run, and the
 * handle is unchanged. scripts/hardening runs this under ThreadSanitizer,
 * which reports any write the read-only calls make to shared state (the
 * handle's buffers, its generator, the error slots). The network has
 * dropout and an input transform set, so that a read-only call touching
 * the training machinery would show.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn.h"

#define THREADS 8
#define ROUNDS 20
#define N 300 /* more than one 256-row chunk */

static const size_t sizes[] = {6, 24, 12, 4};
static const nn_activation acts[] = {NN_RELU, NN_TANH, NN_SOFTMAX};

static float x[N * 6], y[N * 4], bad_x[N * 6];
/* Serial outputs for each batch size the threads use: batch N (index 0)
 * and 17 + id (index 1 + id). */
static float serial_out[1 + THREADS][N * 4];
static double serial_cost, serial_acc;

typedef struct job {
    const nn_net *net;
    int id;
    int mismatches;
    int failures;
} job;

static void fill(float *v, size_t n, uint64_t s)
{
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (float)((double)(s >> 11) * 0x1.0p-53 * 4.0 - 2.0);
    }
}

static void *worker(void *arg)
{
    job *j = arg;
    float *out = malloc(N * 4 * sizeof(float));
    if (out == NULL) {
        j->failures++;
        return NULL;
    }
    for (int r = 0; r < ROUNDS; r++) {
        /* Different batch sizes per thread and round. */
        int which = (r + j->id) % 3 == 0 ? 0 : 1 + j->id;
        size_t batch = which == 0 ? N : (size_t)(17 + j->id);
        memset(out, 0, N * 4 * sizeof(float));
        if (nn_predict(j->net, x, batch, out) != NN_OK)
            j->failures++;
        else if (memcmp(out, serial_out[which], batch * 4 * sizeof(float)))
            j->mismatches++;

        double cost = -1, acc = -1;
        if (nn_evaluate(j->net, x, y, N, &cost, &acc) != NN_OK)
            j->failures++;
        else if (memcmp(&cost, &serial_cost, sizeof cost) != 0 ||
                 memcmp(&acc, &serial_acc, sizeof acc) != 0)
            j->mismatches++;

        /* Failures write the thread's own error slot only. */
        if (nn_predict(j->net, bad_x, N, out) != NN_ENUMERIC ||
            strstr(nn_last_error(NULL), "nn_predict") == NULL)
            j->failures++;
        if (nn_evaluate(j->net, x, y, 0, &cost, NULL) != NN_EINVAL)
            j->failures++;
    }
    free(out);
    return NULL;
}

static void test_concurrent_predict_and_evaluate(void **state)
{
    (void)state;
    nn_net *net = NULL;
    assert_int_equal(nn_create(&net, 4, sizes, acts, 0, 5), NN_OK);
    fill(x, N * 6, 1);
    fill(y, N * 4, 2);
    for (size_t i = 0; i < N; i++) { /* one-hot targets */
        size_t k = (size_t)(y[i * 4] + 2.0f) % 4;
        memset(y + i * 4, 0, 4 * sizeof(float));
        y[i * 4 + k] = 1.0f;
    }
    memcpy(bad_x, x, sizeof x);
    bad_x[N * 6 - 1] = 0.0f / 0.0f;
    assert_int_equal(nn_standardize_inputs(net, x, N), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_DROPOUT, 0.3), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_OPTIMIZER, NN_ADAM), NN_OK);
    assert_int_equal(nn_train(net, x, y, N, 2, NULL, NULL), NN_OK);

    size_t len;
    assert_int_equal(nn_save_buffer(net, NULL, 0, &len), NN_OK);
    unsigned char *before = malloc(len), *after = malloc(len);
    assert_non_null(before);
    assert_non_null(after);
    assert_int_equal(nn_save_buffer(net, before, len, &len), NN_OK);

    assert_int_equal(nn_predict(net, x, N, serial_out[0]), NN_OK);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(
            nn_predict(net, x, (size_t)(17 + i), serial_out[1 + i]), NN_OK);
    assert_int_equal(nn_evaluate(net, x, y, N, &serial_cost, &serial_acc),
                     NN_OK);

    pthread_t t[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){net, i, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        if (jobs[i].failures || jobs[i].mismatches)
            fail_msg("thread %d: %d failed calls, %d results that differ from "
                     "the serial run",
                     i, jobs[i].failures, jobs[i].mismatches);
    }
    assert_string_equal(nn_last_error(net), "");
    assert_int_equal(nn_save_buffer(net, after, len, &len), NN_OK);
    assert_memory_equal(before, after, len);
    free(before);
    free(after);
    nn_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_predict_and_evaluate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
