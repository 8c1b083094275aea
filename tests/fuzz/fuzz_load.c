/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for nn_load_buffer. Each input is loaded twice: as it
 * is (so that header, length and checksum checks are fuzzed), and with its
 * length field and checksum made right (so that the fuzzer reaches the
 * body's parser instead of stopping at the checksum). A model that loads
 * must survive use, and save -> load -> save must give the same bytes.
 * Any broken invariant aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "format.h"

#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_load: %s:%d: %s (last error: %s)\n",         \
                    __FILE__, __LINE__, #cond, nn_last_error(NULL));           \
            abort();                                                           \
        }                                                                      \
    } while (0)

static unsigned char *save(const nn_net *net, size_t *len)
{
    REQUIRE(nn_save_buffer(net, NULL, 0, len) == NN_OK);
    unsigned char *b = malloc(*len);
    REQUIRE(b != NULL);
    REQUIRE(nn_save_buffer(net, b, *len, len) == NN_OK);
    return b;
}

/* Uses a loaded network a little: whatever the file said, nothing may
 * crash, and failures are documented codes. */
static void exercise(nn_net *net)
{
    size_t n_in = nn_layer_size(net, 0);
    size_t n_out = nn_layer_size(net, nn_num_layers(net) - 1);
    if (n_in > 4096 || n_out > 4096)
        return;
    float *x = calloc(3 * n_in, sizeof *x);
    float *y = calloc(3 * n_out, sizeof *y);
    float *out = calloc(3 * n_out, sizeof *out);
    REQUIRE(x && y && out);
    for (size_t i = 0; i < 3 * n_in; i++)
        x[i] = (float)i / 7.0f - 1.0f;
    for (size_t i = 0; i < 3; i++)
        y[i * n_out] = 1.0f;
    /* finite weights of any size may still overflow to non-finite outputs,
     * which nn_predict refuses */
    int rc = nn_predict(net, x, 3, out);
    REQUIRE(rc == NN_OK || rc == NN_ENUMERIC);
    double cost;
    rc = nn_backprop(net, x, y, 3, &cost);
    REQUIRE(rc == NN_OK || rc == NN_ENUMERIC);
    rc = nn_step(net);
    REQUIRE(rc == NN_OK || rc == NN_ESTATE);
    rc = nn_train(net, x, y, 3, 1, NULL, NULL);
    REQUIRE(rc == NN_OK || rc == NN_ENUMERIC);
    free(x);
    free(y);
    free(out);
}

static void check_one(const unsigned char *data, size_t size)
{
    nn_net *net = (nn_net *)1;
    int rc = nn_load_buffer(&net, data, size);
    if (rc != NN_OK) {
        REQUIRE(rc == NN_EFORMAT);
        REQUIRE(net == NULL);
        REQUIRE(nn_last_error(NULL)[0] != '\0');
        return;
    }
    REQUIRE(net != NULL);
    size_t len1, len2;
    unsigned char *b1 = save(net, &len1);
    nn_net *again = NULL;
    REQUIRE(nn_load_buffer(&again, b1, len1) == NN_OK);
    unsigned char *b2 = save(again, &len2);
    REQUIRE(len1 == len2 && memcmp(b1, b2, len1) == 0);
    exercise(net);
    free(b1);
    free(b2);
    nn_free(again);
    nn_free(net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_one(data, size);
    if (size >= NN__MODEL_HEADER_LEN + NN__MODEL_CRC_LEN) {
        unsigned char *fixed = malloc(size);
        REQUIRE(fixed != NULL);
        memcpy(fixed, data, size);
        uint64_t n = size;
        for (int i = 0; i < 8; i++)
            fixed[NN__MODEL_OFF_LENGTH + i] = (unsigned char)(n >> (8 * i));
        uint32_t crc = nn__crc32(fixed, size - NN__MODEL_CRC_LEN);
        for (int i = 0; i < 4; i++)
            fixed[size - 4 + i] = (unsigned char)(crc >> (8 * i));
        check_one(fixed, size);
        free(fixed);
    }
    return 0;
}
