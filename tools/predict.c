/* SPDX-License-Identifier: MIT */
/*
 * `nnet predict`: a model's outputs for each sample of DATA, as CSV with a
 * header. A classifier's rows are the predicted class (arg-max, ties to the
 * lowest) and the probability of each class; a regression model's rows are
 * its output values. With -o the file appears whole or not at all.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "inputs.h"
#include "model.h"

static const char help[] =
    "Usage: nnet predict MODEL DATA [-o OUT.csv]\n"
    "\n"
    "Write MODEL's predictions for DATA as CSV (to stdout without -o).\n"
    "Classifiers: class,p_NAME,... (the predicted class's name, then each\n"
    "class's probability). Regression models: the label's name, or y (y0,\n"
    "y1,... for several outputs). A CSV with a header has its columns found\n"
    "by the names the model keeps, its label column ignored; without a\n"
    "header, a CSV with one column more than the model's inputs is taken to\n"
    "hold labels in --label COL (default: the last column), also ignored.\n"
    "\n"
    "  -o, --output FILE    write the CSV to FILE\n"
    "  --label COL          CSV label column to ignore\n"
    CSV_OPTIONS_HELP
    "  -h, --help           this help\n";

static const struct option long_options[] = {
    CSV_LONG_OPTIONS,
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

typedef struct predict_opts {
    input_spec in;
    const char *model, *out;
} predict_opts;

static int parse_args(int argc, char **argv, predict_opts *o,
                      int *help_asked)
{
    int c, st = ST_OK;
    memset(o, 0, sizeof *o);
    while (st == ST_OK &&
           (c = getopt_long(argc, argv, ":o:h", long_options, NULL)) != -1) {
        if (c == 'h')
            *help_asked = 1;
        else if (c == 'o')
            o->out = optarg;
        else if (!inputs_option(&o->in, c, optarg, &st))
            return cli_bad_option(c, argv);
    }
    if (st != ST_OK || *help_asked)
        return st;
    return inputs_model_and_data(argc, argv, &o->model, &o->in);
}

/* A CSV field, quoted (RFC 4180) when it holds a delimiter, a quote or a
 * line break, or starts or ends with a blank. */
static void write_field(FILE *f, const char *s)
{
    size_t n = strlen(s);
    if (!strpbrk(s, ",;\t\"\r\n") && n && s[0] != ' ' && s[n - 1] != ' ') {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* What the rows say: the class names, or the regression outputs' name. */
typedef struct columns {
    const class_list *classes; /* classifiers; else NULL */
    const char *target;        /* a regression's label name, or NULL */
} columns;

static void write_header(FILE *f, size_t k, const columns *c)
{
    if (c->classes) {
        fputs("class", f);
        for (size_t j = 0; j < c->classes->k; j++) {
            char name[512];
            snprintf(name, sizeof name, "p_%s", c->classes->names[j]);
            fputc(',', f);
            write_field(f, name);
        }
    } else if (k == 1) {
        write_field(f, c->target ? c->target : "y");
    } else {
        for (size_t j = 0; j < k; j++)
            fprintf(f, "%sy%zu", j ? "," : "", j);
    }
    fputc('\n', f);
}

/* Probabilities to 6 significant digits; regression values to 9, enough
 * to give back the exact float. */
static void write_rows(FILE *f, const float *y_hat, size_t n, size_t k,
                       const columns *c)
{
    for (size_t i = 0; i < n; i++) {
        const float *row = y_hat + i * k;
        if (c->classes) {
            write_field(f, c->classes->names[model_predicted_class(row, k)]);
            if (k == 1) /* a sigmoid: the second class's probability */
                fprintf(f, ",%.6g,%.6g", 1.0 - (double)row[0],
                        (double)row[0]);
            for (size_t j = 0; k > 1 && j < k; j++)
                fprintf(f, ",%.6g", (double)row[j]);
        } else {
            for (size_t j = 0; j < k; j++)
                fprintf(f, "%s%.9g", j ? "," : "", (double)row[j]);
        }
        fputc('\n', f);
    }
}

static int write_out(const predict_opts *o, const float *y_hat, size_t n,
                     size_t k, const columns *cols)
{
    if (!o->out) {
        write_header(stdout, k, cols);
        write_rows(stdout, y_hat, n, k, cols);
        return fflush(stdout) == 0 && !ferror(stdout)
                   ? ST_OK
                   : cli_fail("cannot write the predictions to stdout");
    }
    cli_out out;
    int st = cli_out_open(&out, o->out);
    if (st != ST_OK)
        return st;
    write_header(out.f, k, cols);
    write_rows(out.f, y_hat, n, k, cols);
    return cli_out_commit(&out);
}

static int predict(const predict_opts *o, const nn_net *net, const dataset *x)
{
    size_t k = nn_layer_size(net, nn_num_layers(net) - 1);
    class_list classes = {0};
    columns c = {NULL, nn_label_name(net)};
    int st = ST_OK;
    if (model_is_classifier(net)) {
        st = classes_from_model(net, &classes);
        c.classes = &classes;
    }
    float *y_hat = NULL;
    if (st == ST_OK)
        st = model_predict(net, x, &y_hat);
    if (st == ST_OK)
        st = write_out(o, y_hat, x->rows, k, &c);
    free(y_hat);
    classes_free(&classes);
    return st;
}

int cmd_predict(int argc, char **argv)
{
    predict_opts o;
    int help_asked = 0;
    int st = parse_args(argc, argv, &o, &help_asked);
    if (st != ST_OK || help_asked)
        return st == ST_OK ? cli_help(help) : st;
    cli_file out = {"-o", o.out};
    cli_file ins[] = {{"MODEL", o.model}, {"DATA", o.in.data}};
    if (o.out && (st = cli_check_outputs(&out, 1, ins, 2)) != ST_OK)
        return st;
    nn_net *net = NULL;
    dataset x = {0}, unused = {0};
    st = model_load(o.model, &net);
    if (st == ST_OK)
        st = inputs_load(&o.in, LABELS_IGNORED, net, nn_layer_size(net, 0),
                         "the model takes", &x, &unused);
    if (st == ST_OK)
        st = predict(&o, net, &x);
    data_free(&unused);
    data_free(&x);
    nn_free(net);
    return st;
}
