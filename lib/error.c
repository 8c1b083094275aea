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
#include "vectorize.h"

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

NN__VECTORIZE int nn__all_finite(const float *v, size_t n)
{
    /* The exponent bits are all ones exactly for NaN and infinities, and
     * then adding one to the exponent carries into the sign bit: an
     * and-add-or reduction, which vectorises even in SSE2 (this runs over
     * every gradient after every nn_backprop). */
    uint32_t carry = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        carry |= (bits & 0x7f800000u) + 0x00800000u;
    }
    return !(carry & 0x80000000u);
}

int nn__check_outputs(nn_net *err_net, const char *fn, const float *y_hat,
                      size_t first, size_t rows, size_t n_out)
{
    if (nn__all_finite(y_hat, rows * n_out))
        return NN_OK;
    size_t i = 0;
    while (i + 1 < rows && nn__all_finite(y_hat + i * n_out, n_out))
        i++;
    return nn__fail(err_net, NN_ENUMERIC,
                    "%s: the outputs of row %zu are not finite (NaN or "
                    "infinity): its inputs are too large for the network",
                    fn, first + i);
}
