/* SPDX-License-Identifier: MIT */
/*
 * Finding the inputs and the labels of a command. For CSV, the labels are a
 * column of DATA (--label, else the model's label column, else the last);
 * for IDX and .npy, and for CSV when --labels is given, they are a file of
 * their own. A model that keeps its feature names finds its inputs in a
 * CSV with a header by name. Sizes are checked against the network here,
 * once, so that libnn never sees data of the wrong shape.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inputs.h"

/* The reading options of DATA. */
static csv_options data_opts(const input_spec *spec, const nn_net *model)
{
    csv_options o = {spec->header, spec->delimiter, spec->label,
                      model ? nn_label_name(model) : NULL,
                      spec->labels != NULL, spec->ignore,
                      spec->ignore_absent, spec->na_drop};
    return o;
}

/* The model's label column is in the header (its text column then). */
static int has_model_label(const dataset *x, const nn_net *model)
{
    const char *name = model ? nn_label_name(model) : NULL;
    return name && x->names && x->text &&
           strcmp(x->names[x->text_col], name) == 0;
}

/* Decides where the labels are without names, as before models kept them:
 * the text column, when labels are needed or asked for, or when DATA has
 * one column more than the network's inputs (predict on a training file). */
static int split_by_position(const input_spec *spec, label_need need,
                             size_t n_in, const char *whose, dataset *x,
                             dataset *y)
{
    if (need == LABELS_REQUIRED && !spec->label && n_in && x->cols == n_in)
        return cli_fail("%s: %zu column%s, but %s %zu input%s plus a label "
                        "column (or give --labels FILE)", x->path, x->cols,
                        CLI_S(x->cols), whose, n_in, CLI_S(n_in));
    if (x->cols < 2 && (need == LABELS_REQUIRED || spec->label))
        return cli_fail("%s: a single column: there must be input columns "
                        "besides the label column", x->path);
    if (need == LABELS_REQUIRED || spec->label || x->cols == n_in + 1)
        return data_take_column(x, x->text_col, y);
    return ST_OK;
}

/* The model's feature names, found in the header: the label column (by
 * --label or the model's label name) goes to `y`, the features are put in
 * the model's order, and any other column is an error naming it. */
static int match_names(const input_spec *spec, label_need need,
                       const nn_net *model, dataset *x, dataset *y)
{
    const char *label = nn_label_name(model);
    int st = ST_OK;
    if (spec->label || has_model_label(x, model))
        st = data_take_column(x, x->text_col, y);
    else if (need == LABELS_REQUIRED)
        return cli_fail("%s has no column '%s', the model's label column "
                        "(give --label COL)", x->path, label ? label : "");
    const char *const *names;
    size_t n = nn_feature_names(model, &names);
    size_t *keep = st == ST_OK ? malloc(n * sizeof *keep) : NULL;
    if (st == ST_OK && !keep)
        st = cli_fail("out of memory");
    for (size_t k = 0; st == ST_OK && k < n; k++) {
        st = data_column_named(x, names[k], "an input of the model",
                               &keep[k]);
        if (st == ST_OK && keep[k] == (size_t)-1)
            st = cli_fail("%s has no column '%s', an input of the model",
                          x->path, names[k]);
    }
    for (size_t j = 0; st == ST_OK && j < x->cols; j++) {
        size_t k = 0;
        while (k < n && strcmp(x->names[j], names[k]) != 0)
            k++;
        if (k == n)
            st = cli_fail("%s: column '%s' is not an input of the model "
                          "(skip it with --ignore '%s')", x->path,
                          x->names[j], x->names[j]);
    }
    if (st == ST_OK)
        st = data_select_columns(x, keep, n);
    free(keep);
    return st;
}

/* Decides where the labels are, and loads or splits them off. */
static int find_labels(const input_spec *spec, label_need need,
                       const nn_net *model, size_t n_in, const char *whose,
                       dataset *x, dataset *y)
{
    if (spec->labels) {
        csv_options o = {spec->header, spec->delimiter, NULL, NULL, 0, NULL,
                          0, 0};
        return data_load(y, spec->labels, &o);
    }
    if (x->format != DATA_CSV) {
        if (spec->label)
            return cli_usage("--label picks a column of CSV data; %s is %s "
                             "data", x->path, data_format_name(x->format));
        if (need == LABELS_REQUIRED)
            return cli_usage("%s is %s data: give the targets with --labels "
                             "FILE", x->path, data_format_name(x->format));
        return ST_OK;
    }
    if (model && x->names && nn_feature_names(model, NULL))
        return match_names(spec, need, model, x, y);
    return split_by_position(spec, need, n_in, whose, x, y);
}

static int check_sizes(const dataset *x, const dataset *y, size_t n_in,
                       const char *whose)
{
    if (n_in && x->cols != n_in)
        return cli_fail("%s: %zu input value%s per sample, but %s %zu",
                        x->path, x->cols, CLI_S(x->cols), whose, n_in);
    if (y->x && y->rows != x->rows)
        return cli_fail("%s has %zu label row%s, but %s has %zu sample%s",
                        y->path, y->rows, CLI_S(y->rows), x->path, x->rows,
                        CLI_S(x->rows));
    return ST_OK;
}

int inputs_load(const input_spec *spec, label_need need, const nn_net *model,
                size_t n_in, const char *whose, dataset *x, dataset *y)
{
    memset(y, 0, sizeof *y);
    if (spec->label && spec->labels)
        return cli_usage("--label picks a CSV column of DATA; with --labels "
                         "FILE every column of DATA is an input");
    if (spec->na_drop && spec->labels)
        return cli_usage("--na drop needs the labels in DATA: rows cannot "
                         "be dropped from DATA and --labels FILE alike");
    csv_options o = data_opts(spec, model);
    int st = data_load(x, spec->data, &o);
    if (st != ST_OK)
        return st;
    st = find_labels(spec, need, model, n_in, whose, x, y);
    if (st == ST_OK)
        st = data_check_numbers(x);
    if (st == ST_OK)
        st = check_sizes(x, y, n_in, whose);
    if (st != ST_OK) {
        data_free(x);
        data_free(y);
    }
    return st;
}

static int parse_delimiter(const char *arg, char *out)
{
    if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0)
        *out = '\t';
    else if (strlen(arg) == 1 && arg[0] != '"' && arg[0] != '\n' &&
             arg[0] != '\r')
        *out = arg[0];
    else
        return cli_usage("--delimiter: '%s' is not one character (or "
                         "'tab')", arg);
    return ST_OK;
}

int inputs_option(input_spec *spec, int code, const char *arg, int *st)
{
    static const char *const na_modes[] = {"error", "drop", NULL};
    *st = ST_OK;
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
    case OPT_IGNORE:
        spec->ignore = arg;
        return 1;
    case OPT_DELIMITER:
        *st = parse_delimiter(arg, &spec->delimiter);
        return 1;
    case OPT_NA:
        *st = cli_parse_choice("--na", arg, na_modes, &spec->na_drop);
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
