/* SPDX-License-Identifier: MIT */
/*
 * Model files for the commands: loading with messages, the task a model
 * was trained for, and its architecture. The activations come from the
 * file's architecture record (docs/format.md) because libnn 0.1 exposes no
 * getter for them; the record is cross-checked against the loaded network,
 * and anything unexpected makes the answer "unknown" rather than wrong.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "model.h"

int model_load(const char *path, nn_net **net)
{
    int rc = nn_load(net, path);
    if (rc == NN_OK)
        return ST_OK;
    /* libnn's detail already names the file */
    const char *detail = nn_last_error(NULL);
    if (strstr(detail, path))
        return cli_fail("%s (%s)", detail, nn_error_name(rc));
    return cli_fail("%s: %s (%s)", path, *detail ? detail : nn_error_string(rc),
                    nn_error_name(rc));
}

int model_is_classifier(const nn_net *net)
{
    double loss = -1.0;
    return nn_get(net, NN_OPT_LOSS, &loss) == NN_OK &&
           loss == NN_LOSS_CROSS_ENTROPY;
}

void model_layers(const nn_net *net, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < nn_num_layers(net) && used < cap; i++) {
        int n = snprintf(buf + used, cap - used, "%s%zu", i ? "-" : "",
                         nn_layer_size(net, i));
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static uint64_t le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* Layout of the start of a version-1 file (docs/format.md): 8 magic bytes,
 * u32 version, u32 reserved, u64 length, u64 n_sizes, n_sizes u64 sizes,
 * n_sizes - 1 u32 activations. */
enum { MAGIC_LEN = 8, OFF_VERSION = 8, OFF_NSIZES = 24, OFF_SIZES = 32 };

int model_file_activations(const char *path, const nn_net *net,
                           nn_activation *acts)
{
    size_t layers = nn_num_layers(net);
    unsigned char head[OFF_SIZES + 64 * 12];
    if (layers < 2 || layers > 64)
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t need = OFF_SIZES + layers * 8 + (layers - 1) * 4;
    size_t got = fread(head, 1, need, f);
    fclose(f);
    if (got != need || memcmp(head, "\x89LNN\r\n\x1a\n", MAGIC_LEN) != 0 ||
        le(head + OFF_VERSION, 4) != 1 || le(head + OFF_NSIZES, 8) != layers)
        return 0;
    for (size_t i = 0; i < layers; i++)
        if (le(head + OFF_SIZES + 8 * i, 8) != nn_layer_size(net, i))
            return 0;
    for (size_t l = 0; l + 1 < layers; l++) {
        uint64_t a = le(head + OFF_SIZES + 8 * layers + 4 * l, 4);
        if (a > NN_LEAKY_RELU)
            return 0;
        acts[l] = (nn_activation)a;
    }
    return 1;
}
