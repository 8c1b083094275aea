/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for libnn_onnx's importer, nn_onnx_load_buffer, on
 * arbitrary bytes. An input is either refused with a documented code, no
 * handle and a message, or gives a network that predicts, exports, and
 * imports back to the same parameters, transform and exported bytes. Any
 * broken invariant aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "nn_onnx.h"

#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_onnx: %s:%d: %s (last error: %s)\n",         \
                    __FILE__, __LINE__, #cond, nn_onnx_last_error());          \
            abort();                                                           \
        }                                                                      \
    } while (0)

static unsigned char *export(const nn_net *net, size_t *len)
{
    REQUIRE(nn_onnx_save_buffer(net, NULL, 0, len) == NN_OK);
    unsigned char *b = malloc(*len);
    REQUIRE(b != NULL);
    REQUIRE(nn_onnx_save_buffer(net, b, *len, len) == NN_OK);
    return b;
}

static void predicts(const nn_net *net)
{
    size_t n_in = nn_layer_size(net, 0);
    size_t n_out = nn_layer_size(net, nn_num_layers(net) - 1);
    float *x = calloc(3 * n_in, sizeof *x);
    float *y = calloc(3 * n_out, sizeof *y);
    REQUIRE(x && y);
    for (size_t i = 0; i < 3 * n_in; i++)
        x[i] = (float)i / 7.0f - 1.0f;
    int rc = nn_predict(net, x, 3, y); /* weights may overflow */
    REQUIRE(rc == NN_OK || rc == NN_ENUMERIC);
    free(x);
    free(y);
}

static void same_network(nn_net *a, nn_net *b)
{
    size_t layers = nn_num_layers(a);
    REQUIRE(nn_num_layers(b) == layers);
    for (size_t i = 0; i < layers; i++)
        REQUIRE(nn_layer_size(a, i) == nn_layer_size(b, i));
    for (size_t l = 0; l + 1 < layers; l++)
        REQUIRE(nn_layer_activation(a, l) == nn_layer_activation(b, l));
    size_t n = nn_param_count(a);
    REQUIRE(nn_param_count(b) == n);
    REQUIRE(memcmp(nn_params(a), nn_params(b), n * sizeof(float)) == 0);
    size_t k = nn_layer_size(a, 0);
    float *t = malloc(4 * k * sizeof *t);
    REQUIRE(t != NULL);
    REQUIRE(nn_get_input_transform(a, t, t + k) ==
            nn_get_input_transform(b, t + 2 * k, t + 3 * k));
    REQUIRE(memcmp(t, t + 2 * k, 2 * k * sizeof *t) == 0);
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nn_net *net = (nn_net *)1;
    int rc = nn_onnx_load_buffer(&net, data, size);
    if (rc != NN_OK) {
        REQUIRE(rc == NN_EFORMAT || rc == NN_ENOMEM);
        REQUIRE(net == NULL);
        REQUIRE(nn_onnx_last_error()[0] != '\0');
        return 0;
    }
    REQUIRE(net != NULL);
    if (nn_layer_size(net, 0) <= 4096 &&
        nn_layer_size(net, nn_num_layers(net) - 1) <= 4096)
        predicts(net);
    size_t len1, len2;
    unsigned char *b1 = export(net, &len1);
    nn_net *again = NULL;
    REQUIRE(nn_onnx_load_buffer(&again, b1, len1) == NN_OK);
    same_network(net, again);
    unsigned char *b2 = export(again, &len2);
    REQUIRE(len1 == len2 && memcmp(b1, b2, len1) == 0);
    free(b1);
    free(b2);
    nn_free(again);
    nn_free(net);
    return 0;
}
