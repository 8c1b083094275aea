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
#include "model.h"

static const char help[] =
    "Usage: nnet eval MODEL DATA [--labels FILE] [--label COL]\n"
    "\n"
    "Evaluate MODEL on labelled DATA: loss and accuracy; for classifiers\n"
    "also per-class precision and recall and the confusion matrix; for\n"
    "regression models RMSE, MAE and R^2 of each output.\n"
    "\n"
    "  --labels FILE        targets in a file of their own (IDX, .npy)\n"
    "  --label COL          CSV label column, by name or 0-based index\n"
    "                       (default: the last column)\n"
    "  --header, --no-header  CSV first line is / is not a header\n"
    "  -h, --help           this help\n";

static const struct option long_options[] = {
    INPUT_LONG_OPTIONS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int parse_args(int argc, char **argv, input_spec *in,
                      const char **model, int *help_asked)
{
    int c;
    memset(in, 0, sizeof *in);
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (c == 'h')
            *help_asked = 1;
        else if (!inputs_option(in, c, optarg))
            return cli_bad_option(c, argv);
    }
    return *help_asked ? ST_OK : inputs_model_and_data(argc, argv, model, in);
}

/* "0.9123", or "-" when the ratio is undefined (no samples). */
static void ratio(char *buf, size_t cap, size_t num, size_t den)
{
    if (den == 0)
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.4f", (double)num / (double)den);
}

static void print_classes(const size_t *cm, size_t k)
{
    printf("\nclass  precision  recall  support\n");
    for (size_t c = 0; c < k; c++) {
        size_t tp = cm[c * k + c], predicted = 0, actual = 0;
        for (size_t j = 0; j < k; j++) {
            predicted += cm[j * k + c];
            actual += cm[c * k + j];
        }
        char p[16], r[16];
        ratio(p, sizeof p, tp, predicted);
        ratio(r, sizeof r, tp, actual);
        printf("%5zu  %9s  %6s  %7zu\n", c, p, r, actual);
    }
}

static void print_confusion(const size_t *cm, size_t k)
{
    printf("\nconfusion matrix (rows: true class, columns: predicted)\n");
    printf("%9s", "true\\pred");
    for (size_t j = 0; j < k; j++)
        printf(" %6zu", j);
    printf("\n");
    for (size_t i = 0; i < k; i++) {
        printf("%9zu", i);
        for (size_t j = 0; j < k; j++)
            printf(" %6zu", cm[i * k + j]);
        printf("\n");
    }
}

static int report_classes(const float *y_hat, const targets *t)
{
    size_t k = t->k, *cm = calloc(k * k, sizeof *cm);
    if (!cm)
        return cli_fail("out of memory");
    for (size_t i = 0; i < t->n; i++)
        cm[t->cls[i] * k + model_predicted_class(y_hat + i * k, k)]++;
    print_classes(cm, k);
    print_confusion(cm, k);
    free(cm);
    return ST_OK;
}

static void report_values(const float *y_hat, const targets *t)
{
    printf("\noutput  rmse        mae         r2\n");
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
        printf("%6zu  %-10.6g  %-10.6g  ", j, sqrt(se / (double)t->n),
               ae / (double)t->n);
        if (ss > 0)
            printf("%.4f\n", 1 - se / ss);
        else
            printf("-\n");
    }
}

/* The report after loss and accuracy, from every output. */
static int report(const float *y_hat, const targets *t, int classify)
{
    if (classify)
        return report_classes(y_hat, t);
    report_values(y_hat, t);
    return ST_OK;
}

/* The outputs first: a sample whose outputs are not finite is then named
 * by its file and line (model_predict), before nn_evaluate would refuse
 * the whole set. */
static int evaluate(const char *model, const nn_net *net, const dataset *x,
                    const targets *t, int classify)
{
    float *y_hat;
    int st = model_predict(net, x, &y_hat);
    if (st != ST_OK)
        return st;
    double loss, acc;
    int rc = nn_evaluate(net, x->x, t->y, t->n, &loss, &acc);
    if (rc != NN_OK) {
        free(y_hat);
        return cli_fail_nn(x->path, rc, NULL);
    }
    char layers[256];
    model_layers(net, layers, sizeof layers);
    printf("model     %s (%s, %s)\n", model, layers,
           classify ? "classifier" : "regression");
    printf("data      %s (%zu sample%s)\n", x->path, x->rows,
           x->rows == 1 ? "" : "s");
    printf("loss      %.6g\n", loss);
    if (classify)
        printf("accuracy  %.4f (%zu/%zu)\n", acc,
               (size_t)llround(acc * (double)t->n), t->n);
    st = report(y_hat, t, classify);
    free(y_hat);
    return st;
}

int cmd_eval(int argc, char **argv)
{
    input_spec in;
    const char *model = NULL;
    int help_asked = 0;
    int st = parse_args(argc, argv, &in, &model, &help_asked);
    if (st != ST_OK || help_asked)
        return st == ST_OK ? cli_help(help) : st;
    nn_net *net = NULL;
    dataset x = {0}, labels = {0};
    targets t = {0};
    st = model_load(model, &net);
    if (st == ST_OK)
        st = inputs_load(&in, LABELS_REQUIRED, nn_layer_size(net, 0),
                         "the model takes", &x, &labels);
    int classify = st == ST_OK && model_is_classifier(net);
    if (st == ST_OK)
        st = targets_make(&labels, classify,
                          nn_layer_size(net, nn_num_layers(net) - 1), &t);
    if (st == ST_OK)
        st = evaluate(model, net, &x, &t, classify);
    targets_free(&t);
    data_free(&labels);
    data_free(&x);
    nn_free(net);
    return st;
}
