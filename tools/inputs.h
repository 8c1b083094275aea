/* SPDX-License-Identifier: MIT */
/*
 * From the command line's DATA, --labels and --label to what libnn eats:
 * an input matrix that fits the network and, when needed, targets (one-hot
 * classes or regression values), each checked with a message that says
 * which file and which value is wrong.
 */
#ifndef NN_TOOL_INPUTS_H
#define NN_TOOL_INPUTS_H

#include <stddef.h>

#include "data.h"

/* Where the inputs and labels come from, as the options give them. */
typedef struct input_spec {
    const char *data;    /* DATA: inputs, and for CSV the labels too */
    const char *labels;  /* --labels FILE, or NULL */
    const char *label;   /* --label COL for CSV, or NULL: the last column */
    csv_header header;   /* --header / --no-header */
} input_spec;

/* getopt_long codes of the options every data-reading command shares:
 * --labels FILE, --label COL, --header, --no-header. */
enum input_option {
    OPT_LABELS = 1000,
    OPT_LABEL,
    OPT_HEADER,
    OPT_NO_HEADER,
    OPT_FIRST_FREE /* the commands number their own options from here */
};
#define INPUT_LONG_OPTIONS                                                     \
    {"labels", required_argument, NULL, OPT_LABELS},                           \
        {"label", required_argument, NULL, OPT_LABEL},                         \
        {"header", no_argument, NULL, OPT_HEADER},                             \
        {"no-header", no_argument, NULL, OPT_NO_HEADER}

/* Applies one of the shared options; returns 1 when `code` was one. */
int inputs_option(input_spec *spec, int code, const char *arg);

/* The MODEL DATA operands of `nnet eval` and `nnet predict`, after getopt_long
 * has taken the options: *model and spec->data. ST_OK or ST_USAGE. */
int inputs_model_and_data(int argc, char **argv, const char **model,
                          input_spec *spec);

/* Whether the command needs labels. */
typedef enum label_need {
    LABELS_REQUIRED, /* train, eval */
    LABELS_IGNORED   /* predict: a CSV label column is dropped if present */
} label_need;

/* Loads DATA (and labels) for a network with `n_in` inputs; `whose`
 * names where n_in comes from in messages ("--layers asks for", "the
 * model takes"). `y` is left empty (rows 0) when there are no labels. */
int inputs_load(const input_spec *spec, label_need need, size_t n_in,
                const char *whose, dataset *x, dataset *y);

/* Targets as the network trains on them. */
typedef struct targets {
    size_t n, k;    /* samples, outputs */
    float *y;       /* n x k: one-hot rows for classes, values otherwise */
    size_t *cls;    /* classify: the class of each sample; else NULL */
} targets;

/* Checks the labels against a network with `n_out` outputs and builds the
 * targets: integer classes 0..n_out-1 when `classify`, n_out values per
 * sample otherwise. */
int targets_make(const dataset *labels, int classify, size_t n_out,
                 targets *t);
void targets_free(targets *t);

#endif
