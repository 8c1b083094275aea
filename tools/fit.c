/* SPDX-License-Identifier: MIT */
/*
 * Single-process training: nn_fit over the whole training set, with the
 * progress display as both callbacks. See fit.h for why this is a file of
 * its own.
 */
#include "fit.h"

int fit_run(nn_net *net, const fit_data *data, size_t epochs, progress *p)
{
    return nn_fit(net, data->x, data->y, data->n, data->x_val, data->y_val,
                  data->n_val, epochs, progress_step, progress_epoch, p);
}
