/* SPDX-License-Identifier: MIT */
/* A program built with `pkg-config --cflags --libs nn_onnx` alone: a
 * network through ONNX bytes and back gives the same predictions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn_onnx.h>

int main(void)
{
    size_t sizes[] = {3, 5, 2};
    nn_activation acts[] = {NN_TANH, NN_SOFTMAX};
    nn_net *net = NULL, *back = NULL;
    size_t len = 0;
    float x[] = {0.5f, -1.0f, 2.0f}, y1[2], y2[2];
    if (nn_create(&net, 3, sizes, acts, 0, 7) != NN_OK ||
        nn_onnx_save_buffer(net, NULL, 0, &len) != NN_OK)
        return 1;
    unsigned char *buf = malloc(len);
    int ok = buf && nn_onnx_save_buffer(net, buf, len, &len) == NN_OK &&
             nn_onnx_load_buffer(&back, buf, len) == NN_OK &&
             nn_predict(net, x, 1, y1) == NN_OK &&
             nn_predict(back, x, 1, y2) == NN_OK &&
             memcmp(y1, y2, sizeof y1) == 0;
    if (!ok)
        fprintf(stderr, "consumer: %s\n", nn_onnx_last_error());
    free(buf);
    nn_free(back);
    nn_free(net);
    return ok ? 0 : 1;
}
