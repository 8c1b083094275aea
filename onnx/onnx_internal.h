/* SPDX-License-Identifier: MIT */
/*
 * What the files of libnn_onnx share: the generated protobuf-c code for
 * onnx.proto, the thread's error detail, and a small arena that owns every
 * message built for one export, so that one call frees them all.
 */
#ifndef LIBNN_ONNX_INTERNAL_H
#define LIBNN_ONNX_INTERNAL_H

#include <stddef.h>

#include "nn_onnx.h"
#include "onnx.pb-c.h"

/* Sets the thread's detail (printf-style) and returns `code`. */
int nn_onnx__fail(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Blocks freed together; a NULL from nn_onnx__alloc is out of memory. */
typedef struct nn_onnx__arena {
    struct nn_onnx__block *blocks;
} nn_onnx__arena;

/* `size` zeroed bytes owned by `arena`. */
void *nn_onnx__alloc(nn_onnx__arena *arena, size_t size);
/* A copy of the formatted string owned by `arena`. */
char *nn_onnx__printf(nn_onnx__arena *arena, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void nn_onnx__arena_free(nn_onnx__arena *arena);

#endif
