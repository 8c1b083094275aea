/* SPDX-License-Identifier: MIT */
/*
 * Model files for the commands: loading with messages, the task a model
 * was trained for, its architecture, and its outputs for a data set.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "outfile.h"

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

int model_save(const nn_net *net, const char *path, const char *what)
{
    /* in place (a device, a FIFO) there is no temporary file, and Ctrl-C
     * must end a wait for a FIFO's reader */
    int in_place = nn__outfile_in_place(path);
    if (!in_place)
        cli_signals_hold();
    int rc = nn_save(net, path);
    if (!in_place)
        cli_signals_release();
    return rc == NN_OK ? ST_OK : cli_fail_nn(what, rc, NULL);
}

int model_is_classifier(const nn_net *net)
{
    double loss = -1.0;
    size_t outputs = nn_layer_size(net, nn_num_layers(net) - 1);
    return nn_get_task(net) == NN_TASK_CLASSIFY &&
           nn_get(net, NN_OPT_LOSS, &loss) == NN_OK &&
           (loss != NN_LOSS_BINARY_CROSS_ENTROPY || outputs == 1);
}

double model_get(const nn_net *net, int option)
{
    double v = 0;
    (void)nn_get(net, option, &v);
    return v;
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

/* nn_predict's NN_ENUMERIC for an output: the rows up to the first
 * non-finite one are written (nn.h), so the first non-finite row found is
 * that one; reported with its file and line. ST_OK when there is none
 * (NaN or infinity in the inputs, which data_load never lets through). */
static int report_non_finite(const dataset *x, const float *y_hat, size_t k)
{
    for (size_t i = 0; i < x->rows; i++)
        for (size_t j = 0; j < k; j++)
            if (!isfinite(y_hat[i * k + j])) {
                char where[512];
                data_where_row(x, i, where, sizeof where);
                return cli_fail("%s: the model's outputs for this sample "
                                "are not finite (NaN or infinity): its "
                                "inputs are too large for the model",
                                where);
            }
    return ST_OK;
}

int model_predict(const nn_net *net, const dataset *x, float **y_hat)
{
    size_t k = nn_layer_size(net, nn_num_layers(net) - 1);
    *y_hat = malloc(x->rows * k * sizeof **y_hat);
    if (!*y_hat)
        return cli_fail("out of memory for %zu outputs", x->rows * k);
    int rc = nn_predict(net, x->x, x->rows, *y_hat);
    if (rc == NN_OK)
        return ST_OK;
    int st = rc == NN_ENUMERIC ? report_non_finite(x, *y_hat, k)
                               : ST_OK;
    if (st == ST_OK)
        st = cli_fail_nn("predicting", rc, NULL);
    free(*y_hat);
    *y_hat = NULL;
    return st;
}

size_t model_predicted_class(const float *row, size_t k)
{
    size_t cls = 0; /* libnn refuses only NULL and k == 0: not the tool's */
    (void)nn_predicted_classes(row, 1, k, &cls);
    return cls;
}
