/* SPDX-License-Identifier: MIT */
/*
 * The one training call of `nn train`. Everything before it (data, network,
 * settings, input transform) and after it (history, plot, log, saving) is
 * independent of how training runs, so a distributed build can replace
 * fit.c alone, e.g. with one that all-reduces gradients over MPI, and keep
 * the rest of the tool. The plain tool never needs MPI.
 */
#ifndef NN_TOOL_FIT_H
#define NN_TOOL_FIT_H

#include <stddef.h>

#include <nn.h>

#include "progress.h"

/* Training and validation samples, row-major, already split. */
typedef struct fit_data {
    const float *x, *y;
    size_t n;
    const float *x_val, *y_val;
    size_t n_val;               /* 0: no validation */
} fit_data;

/* Trains `net` for at most `epochs` epochs with its settings, reporting to
 * `p`; with validation data the best epoch's weights are restored at the
 * end. Returns a libnn code (detail in nn_last_error(net)). */
int fit_run(nn_net *net, const fit_data *data, size_t epochs, progress *p);

#endif
