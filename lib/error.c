/* SPDX-License-Identifier: MIT */
/*
 * The one table of error names and texts (generated from NN_ERROR_MAP), and
 * the failure details: one slot per handle, one per thread. Handles that are
 * shared read-only between threads only ever write the thread's slot.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char thread_error[NN__ERR_LEN];

const char *nn_error_string(int code)
{
    switch (code) {
#define NN__TEXT(name, value, text)                                            \
    case value:                                                                \
        return text;
        NN_ERROR_MAP(NN__TEXT)
#undef NN__TEXT
    default:
        return "unknown error";
    }
}

const char *nn_error_name(int code)
{
    switch (code) {
#define NN__NAME(name, value, text)                                            \
    case value:                                                                \
        return #name;
        NN_ERROR_MAP(NN__NAME)
#undef NN__NAME
    default:
        return "NN_EUNKNOWN";
    }
}

const char *nn_last_error(const nn_net *net)
{
    return net ? net->err : thread_error;
}

int nn__fail(nn_net *net, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(thread_error, sizeof thread_error, fmt, ap);
    va_end(ap);
    if (net)
        memcpy(net->err, thread_error, sizeof net->err);
    return code;
}
