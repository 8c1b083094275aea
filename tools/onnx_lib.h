/* SPDX-License-Identifier: MIT */
/*
 * Layer 5 of tools/ (the layers and their rule: cli.h).
 *
 * libnn_onnx, loaded only when `nnet export --onnx` or `nnet import` runs,
 * so that nnet itself needs nothing beyond libnn, zlib, libm and libc
 * (docs/cli.md). The library is $NN_ONNX_LIBRARY when set, else
 * libnn_onnx.so.0 wherever the dynamic loader finds libraries.
 */
#ifndef NN_TOOL_ONNX_LIB_H
#define NN_TOOL_ONNX_LIB_H

#include <nn.h>

/* The functions of nn_onnx.h that the tool calls. */
typedef struct onnx_lib {
    int (*save)(const nn_net *net, const char *path);
    int (*load)(nn_net **out, const char *path);
    const char *(*last_error)(void);
} onnx_lib;

/* Loads the library once; ST_OK, or a failure reported (for `what`, the
 * file the command was asked to read or write) with how to get it. */
int onnx_lib_open(onnx_lib *lib, const char *what);

#endif
