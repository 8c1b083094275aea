/* SPDX-License-Identifier: MIT */
/* The thread's error detail and the arena of onnx_internal.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

/* Per thread, as libnn's own nn_last_error(NULL). */
static _Thread_local char last_error[512];

const char *nn_onnx_last_error(void)
{
    return last_error;
}

int nn_onnx__fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

struct nn_onnx__block {
    struct nn_onnx__block *next;
    max_align_t data[]; /* aligned for any message */
};

void *nn_onnx__alloc(nn_onnx__arena *arena, size_t size)
{
    if (size > (size_t)-1 - sizeof(struct nn_onnx__block))
        return NULL;
    struct nn_onnx__block *b = calloc(1, sizeof *b + size);
    if (!b)
        return NULL;
    b->next = arena->blocks;
    arena->blocks = b;
    return b->data;
}

char *nn_onnx__printf(nn_onnx__arena *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = nn_onnx__alloc(arena, (size_t)n + 1);
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

void nn_onnx__arena_free(nn_onnx__arena *arena)
{
    while (arena->blocks) {
        struct nn_onnx__block *next = arena->blocks->next;
        free(arena->blocks);
        arena->blocks = next;
    }
}
