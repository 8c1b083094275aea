/* SPDX-License-Identifier: MIT */
/*
 * Finding the inputs and the labels of a command. For CSV, the labels are a
 * column of DATA (--label, by default the last); for IDX and .npy, and for
 * CSV when --labels is given, they are a file of their own. Sizes are
 * checked against the network here, once, so that libnn never sees data of
 * the wrong shape.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "inputs.h"

static int take_label_column(dataset *x, const char *spec, dataset *y)
{
    size_t col = x->cols - 1;
    if (spec) {
        int st = data_find_column(x, spec, &col);
        if (st != ST_OK)
            return st;
    }
    if (x->cols < 2)
        return cli_fail("%s: a single column: there must be input columns "
                        "besides the label column", x->path);
    return data_take_column(x, col, y);
}

/* Decides where the labels are, and loads or splits them off. */
static int find_labels(const input_spec *spec, label_need need, size_t n_in,
                       const char *whose, dataset *x, dataset *y)
{
    if (spec->labels)
        return data_load(y, spec->labels, spec->header);
    if (x->format != DATA_CSV) {
        if (spec->label)
            return cli_usage("--label picks a column of CSV data; %s is %s "
                             "data", x->path, data_format_name(x->format));
        if (need == LABELS_REQUIRED)
            return cli_usage("%s is %s data: give the targets with --labels "
                             "FILE", x->path, data_format_name(x->format));
        return ST_OK;
    }
    if (need == LABELS_REQUIRED && !spec->label && x->cols == n_in)
        return cli_fail("%s: %zu column%s, but %s %zu input%s plus a label "
                        "column (or give --labels FILE)", x->path, x->cols,
                        CLI_S(x->cols), whose, n_in, CLI_S(n_in));
    /* predict: a CSV with one column more than the model's inputs carries
     * its labels; drop them so a training file can be predicted as is */
    if (need == LABELS_REQUIRED || spec->label || x->cols == n_in + 1)
        return take_label_column(x, spec->label, y);
    return ST_OK;
}

static int check_sizes(const dataset *x, const dataset *y, size_t n_in,
                       const char *whose)
{
    if (x->cols != n_in)
        return cli_fail("%s: %zu input value%s per sample, but %s %zu",
                        x->path, x->cols, CLI_S(x->cols), whose, n_in);
    if (y->x && y->rows != x->rows)
        return cli_fail("%s has %zu label row%s, but %s has %zu sample%s",
                        y->path, y->rows, CLI_S(y->rows), x->path, x->rows,
                        CLI_S(x->rows));
    return ST_OK;
}

int inputs_load(const input_spec *spec, label_need need, size_t n_in,
                const char *whose, dataset *x, dataset *y)
{
    memset(y, 0, sizeof *y);
    if (spec->label && spec->labels)
        return cli_usage("--label picks a CSV column of DATA; with --labels "
                         "FILE every column of DATA is an input");
    int st = data_load(x, spec->data, spec->header);
    if (st != ST_OK)
        return st;
    st = find_labels(spec, need, n_in, whose, x, y);
    if (st == ST_OK)
        st = check_sizes(x, y, n_in, whose);
    if (st != ST_OK) {
        data_free(x);
        data_free(y);
    }
    return st;
}

int inputs_option(input_spec *spec, int code, const char *arg)
{
    switch (code) {
    case OPT_LABELS:
        spec->labels = arg;
        return 1;
    case OPT_LABEL:
        spec->label = arg;
        return 1;
    case OPT_HEADER:
        spec->header = CSV_HEADER_YES;
        return 1;
    case OPT_NO_HEADER:
        spec->header = CSV_HEADER_NO;
        return 1;
    default:
        return 0;
    }
}

int inputs_model_and_data(int argc, char **argv, const char **model,
                          input_spec *spec)
{
    if (argc - optind != 2)
        return cli_usage(argc - optind < 2 ? "MODEL and DATA are needed"
                                           : "too many arguments");
    *model = argv[optind];
    spec->data = argv[optind + 1];
    return ST_OK;
}
