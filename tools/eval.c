/* SPDX-License-Identifier: MIT */
/*
 * `nnet eval`: how well a model does on labelled data. Loss and accuracy come
 * from nn_evaluate (the numbers training reports); for classifiers, the
 * per-class precision and recall and the confusion matrix come from the
 * arg-max of nn_predict's outputs; for regression, RMSE, MAE and R^2 per
 * output.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "inputs.h"
#include "json.h"
#include "model.h"

static const char help[] =
    "Usage: nnet eval MODEL DATA [--label COL] [--json]\n"
    "\n"
    "Evaluate MODEL on labelled DATA: loss and accuracy; for classifiers\n"
    "also per-class precision and recall and the confusion matrix, under\n"
    "the class names the model keeps; for regression models RMSE, MAE and\n"
    "R^2 of each output. A CSV with a header has its columns found by the\n"
    "names the model keeps (in any order; a missing or extra column is an\n"
    "error).\n"
    "\n"
    "  --labels FILE        targets in a file of their own (IDX, .npy)\n"
    "  --label COL          CSV label column, by name or 0-based index\n"
    "                       (default: the model's label column, else the\n"
    "                       last column)\n"
    CSV_OPTIONS_HELP
    "  --json               print the results as one JSON object\n"
    "  -h, --help           this help\n";

enum { OPT_JSON = OPT_FIRST_FREE };

static const struct option long_options[] = {
    INPUT_LONG_OPTIONS,
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int parse_args(int argc, char **argv, input_spec *in,
                      const char **model, int *json, int *help_asked)
{
    int c, st = ST_OK;
    memset(in, 0, sizeof *in);
    while (st == ST_OK &&
           (c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (c == 'h')
            *help_asked = 1;
        else if (c == OPT_JSON)
            *json = 1;
        else if (!inputs_option(in, c, optarg, &st))
            return cli_bad_option(c, argv);
    }
    if (st != ST_OK || *help_asked)
        return st;
    return inputs_model_and_data(argc, argv, model, in);
}

/* What the report needs besides the data. */
typedef struct evaluation {
    const char *model;
    const nn_net *net;
    const dataset *x;
    const targets *t;
    const class_list *classes; /* classifiers; else NULL */
    double loss, accuracy;
    int json;
} evaluation;

/* A class's row of the report, from the confusion matrix `cm` of `k`
 * classes: precision and recall (NaN when undefined: no samples). */
typedef struct class_stats {
    double precision, recall;
    size_t support;
} class_stats;

static class_stats stats_of(const size_t *cm, size_t k, size_t i)
{
    size_t tp = cm[i * k + i], predicted = 0, actual = 0;
    for (size_t j = 0; j < k; j++) {
        predicted += cm[j * k + i];
        actual += cm[i * k + j];
    }
    return (class_stats){predicted ? (double)tp / (double)predicted : NAN,
                         actual ? (double)tp / (double)actual : NAN, actual};
}

/* "0.9123", or "-" when undefined. */
static const char *ratio(char *buf, size_t cap, double v)
{
    snprintf(buf, cap, isnan(v) ? "-" : "%.4f", v);
    return buf;
}

/* The widest class name, at least `min`. */
static int name_width(const class_list *c, size_t min)
{
    size_t w = min;
    for (size_t j = 0; j < c->k; j++)
        if (strlen(c->names[j]) > w)
            w = strlen(c->names[j]);
    return (int)(w < 40 ? w : 40);
}

static void print_classes(const size_t *cm, const class_list *c)
{
    size_t k = c->k;
    int w = name_width(c, 5);
    printf("\n%-*s  precision  recall  support\n", w, "class");
    for (size_t i = 0; i < k; i++) {
        class_stats s = stats_of(cm, k, i);
        char p[16], r[16];
        printf("%-*.40s  %9s  %6s  %7zu\n", w, c->names[i],
               ratio(p, sizeof p, s.precision), ratio(r, sizeof r, s.recall),
               s.support);
    }
}

static void print_confusion(const size_t *cm, const class_list *c)
{
    size_t k = c->k;
    int w = name_width(c, 9), cw = name_width(c, 6);
    printf("\nconfusion matrix (rows: true class, columns: predicted)\n");
    printf("%-*s", w, "true\\pred");
    for (size_t j = 0; j < k; j++)
        printf(" %*.40s", cw, c->names[j]);
    printf("\n");
    for (size_t i = 0; i < k; i++) {
        printf("%-*.40s", w, c->names[i]);
        for (size_t j = 0; j < k; j++)
            printf(" %*zu", cw, cm[i * k + j]);
        printf("\n");
    }
}

static void json_classes(const size_t *cm, const class_list *c)
{
    size_t k = c->k;
    printf(",\n  \"classes\": [");
    for (size_t i = 0; i < k; i++) {
        class_stats s = stats_of(cm, k, i);
        printf("%s\n    {\"name\": ", i ? "," : "");
        json_string(stdout, c->names[i]);
        printf(", \"precision\": ");
        json_number(stdout, s.precision);
        printf(", \"recall\": ");
        json_number(stdout, s.recall);
        printf(", \"support\": %zu}", s.support);
    }
    printf("\n  ],\n  \"confusion\": [");
    for (size_t i = 0; i < k; i++) {
        printf("%s\n    [", i ? "," : "");
        for (size_t j = 0; j < k; j++)
            printf("%s%zu", j ? ", " : "", cm[i * k + j]);
        printf("]");
    }
    printf("\n  ]");
}

static int report_classes(const evaluation *e, const float *y_hat)
{
    const targets *t = e->t;
    size_t k = e->classes->k, *cm = calloc(k * k, sizeof *cm);
    if (!cm)
        return cli_fail("out of memory");
    for (size_t i = 0; i < t->n; i++)
        cm[t->cls[i] * k + model_predicted_class(y_hat + i * t->k, t->k)]++;
    if (e->json) {
        json_classes(cm, e->classes);
    } else {
        print_classes(cm, e->classes);
        print_confusion(cm, e->classes);
    }
    free(cm);
    return ST_OK;
}

static void report_values(const evaluation *e, const float *y_hat)
{
    const targets *t = e->t;
    printf(e->json ? ",\n  \"outputs\": [" : "\noutput  rmse        mae         r2\n");
    for (size_t j = 0; j < t->k; j++) {
        double mean = 0, se = 0, ae = 0, ss = 0;
        for (size_t i = 0; i < t->n; i++)
            mean += t->y[i * t->k + j];
        mean /= (double)t->n;
        for (size_t i = 0; i < t->n; i++) {
            double y = t->y[i * t->k + j], d = y_hat[i * t->k + j] - y;
            se += d * d;
            ae += fabs(d);
            ss += (y - mean) * (y - mean);
        }
        double rmse = sqrt(se / (double)t->n), mae = ae / (double)t->n;
        double r2 = ss > 0 ? 1 - se / ss : NAN;
        if (e->json) {
            printf("%s\n    {\"rmse\": ", j ? "," : "");
            json_number(stdout, rmse);
            printf(", \"mae\": ");
            json_number(stdout, mae);
            printf(", \"r2\": ");
            json_number(stdout, r2);
            printf("}");
        } else if (ss > 0) {
            printf("%6zu  %-10.6g  %-10.6g  %.4f\n", j, rmse, mae, r2);
        } else {
            printf("%6zu  %-10.6g  %-10.6g  -\n", j, rmse, mae);
        }
    }
    if (e->json)
        printf("\n  ]");
}

static void print_summary(const evaluation *e)
{
    char layers[256];
    model_layers(e->net, layers, sizeof layers);
    const char *kind = e->classes ? "classifier" : "regression";
    if (e->json) {
        printf("{\n  \"model\": ");
        json_string(stdout, e->model);
        printf(",\n  \"layers\": [");
        for (size_t i = 0; i < nn_num_layers(e->net); i++)
            printf("%s%zu", i ? ", " : "", nn_layer_size(e->net, i));
        printf("],\n  \"task\": \"%s\",\n  \"data\": ",
               e->classes ? "classification" : "regression");
        json_string(stdout, e->x->path);
        printf(",\n  \"samples\": %zu,\n  \"loss\": ", e->x->rows);
        json_number(stdout, e->loss);
        if (e->classes) {
            printf(",\n  \"accuracy\": ");
            json_number(stdout, e->accuracy);
        }
        return;
    }
    printf("model     %s (%s, %s)\n", e->model, layers, kind);
    printf("data      %s (%zu sample%s)\n", e->x->path, e->x->rows,
           e->x->rows == 1 ? "" : "s");
    if (e->x->dropped)
        printf("dropped   %zu rows with missing values\n", e->x->dropped);
    printf("loss      %.6g\n", e->loss);
    if (e->classes)
        printf("accuracy  %.4f (%zu/%zu)\n", e->accuracy,
               (size_t)llround(e->accuracy * (double)e->t->n), e->t->n);
}

/* The outputs first: a sample whose outputs are not finite is then named
 * by its file and line (model_predict), before nn_evaluate would refuse
 * the whole set. */
static int evaluate(evaluation *e)
{
    float *y_hat;
    int st = model_predict(e->net, e->x, &y_hat);
    if (st != ST_OK)
        return st;
    int rc = nn_evaluate(e->net, e->x->x, e->t->y, e->t->n, &e->loss,
                         &e->accuracy);
    if (rc != NN_OK) {
        free(y_hat);
        return cli_fail_nn(e->x->path, rc, NULL);
    }
    print_summary(e);
    if (e->classes)
        st = report_classes(e, y_hat);
    else
        report_values(e, y_hat);
    if (e->json)
        printf("\n}\n");
    free(y_hat);
    return st;
}

int cmd_eval(int argc, char **argv)
{
    input_spec in;
    const char *model = NULL;
    int help_asked = 0, json = 0;
    int st = parse_args(argc, argv, &in, &model, &json, &help_asked);
    if (st != ST_OK || help_asked)
        return st == ST_OK ? cli_help(help) : st;
    nn_net *net = NULL;
    dataset x = {0}, labels = {0};
    targets t = {0};
    class_list classes = {0};
    st = model_load(model, &net);
    if (st == ST_OK)
        st = inputs_load(&in, LABELS_REQUIRED, net, nn_layer_size(net, 0),
                         "the model takes", &x, &labels);
    int classify = st == ST_OK && model_is_classifier(net);
    if (classify)
        st = classes_from_model(net, &classes);
    if (st == ST_OK)
        st = targets_make(&labels, classify ? &classes : NULL,
                          nn_layer_size(net, nn_num_layers(net) - 1), &t);
    if (st == ST_OK) {
        evaluation e = {model, net, &x, &t, classify ? &classes : NULL,
                        0, 0, json};
        st = evaluate(&e);
    }
    classes_free(&classes);
    targets_free(&t);
    data_free(&labels);
    data_free(&x);
    nn_free(net);
    return st;
}
