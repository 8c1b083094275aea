/* SPDX-License-Identifier: MIT */
/*
 * Layer 5 of tools/ (the layers and their rule: cli.h).
 *
 * From the command line's DATA, --labels and --label to what libnn eats:
 * an input matrix that fits the network and, when needed, targets (one-hot
 * classes or regression values), each checked with a message that says
 * which file and which value is wrong.
 */
#ifndef NN_TOOL_INPUTS_H
#define NN_TOOL_INPUTS_H

#include <stddef.h>

#include <nn.h>

#include "data.h"

/* Where the inputs and labels come from, as the options give them. */
typedef struct input_spec {
    const char *data;    /* DATA: inputs, and for CSV the labels too */
    const char *labels;  /* --labels FILE, or NULL */
    const char *label;   /* --label COL for CSV, or NULL: the model's label
                            column, else the last column */
    const char *ignore;  /* --ignore COL,...: CSV columns not read */
    int ignore_absent;   /* which may be absent (--val FILE) */
    csv_header header;   /* --header / --no-header */
    char delimiter;      /* --delimiter; 0: detected */
    int na_drop;         /* --na drop */
} input_spec;

/* getopt_long codes of the options every data-reading command shares:
 * --labels FILE, --label COL, --header, --no-header, --ignore COL,...,
 * --delimiter C, --na error|drop. */
enum input_option {
    OPT_LABELS = 1000,
    OPT_LABEL,
    OPT_HEADER,
    OPT_NO_HEADER,
    OPT_IGNORE,
    OPT_DELIMITER,
    OPT_NA,
    OPT_FIRST_FREE /* the commands number their own options from here */
};
#define CSV_LONG_OPTIONS                                                       \
    {"label", required_argument, NULL, OPT_LABEL},                             \
        {"header", no_argument, NULL, OPT_HEADER},                             \
        {"no-header", no_argument, NULL, OPT_NO_HEADER},                       \
        {"ignore", required_argument, NULL, OPT_IGNORE},                       \
        {"delimiter", required_argument, NULL, OPT_DELIMITER},                 \
        {"na", required_argument, NULL, OPT_NA}
#define INPUT_LONG_OPTIONS                                                     \
    {"labels", required_argument, NULL, OPT_LABELS}, CSV_LONG_OPTIONS

/* The help lines of the CSV options. */
#define CSV_OPTIONS_HELP                                                       \
    "  --header, --no-header  CSV first line is / is not a header (default:\n" \
    "                       a header when a column holds a word there and\n"   \
    "                       a number below)\n"                                 \
    "  --delimiter C        CSV field separator: ',', ';', 'tab' or any one\n" \
    "                       character (default: the most frequent of , ; and\n"\
    "                       tab on the first line; tab for .tsv)\n"            \
    "  --ignore COL,...     CSV columns to skip, by name or 0-based index\n"   \
    "  --na error|drop      missing values (empty, NA, N/A, NaN, null, ?, -)\n"\
    "                       are an error, or drop their rows [error]\n"

/* Applies one of the shared options; returns 1 when `code` was one, and
 * sets *st (ST_USAGE for a bad value). */
int inputs_option(input_spec *spec, int code, const char *arg, int *st);

/* The MODEL DATA operands of `nnet eval` and `nnet predict`, after getopt_long
 * has taken the options: *model and spec->data. ST_OK or ST_USAGE. */
int inputs_model_and_data(int argc, char **argv, const char **model,
                          input_spec *spec);

/* Whether the command needs labels. */
typedef enum label_need {
    LABELS_REQUIRED, /* train, eval */
    LABELS_IGNORED   /* predict: a CSV label column is dropped if present */
} label_need;

/* Loads DATA (and labels). With a `model` (eval, predict), a CSV with a
 * header has its columns found by the names the model keeps: reordered
 * columns are matched, a missing or extra one is an error naming it.
 * `n_in` is the inputs the network takes (0: not known yet, for train to
 * take from the data); `whose` names where n_in comes from in messages
 * ("--layers asks for", "the model takes"). `y` is left empty (rows 0)
 * when there are no labels. */
int inputs_load(const input_spec *spec, label_need need, const nn_net *model,
                size_t n_in, const char *whose, dataset *x, dataset *y);

/* Class names, sorted as scikit-learn sorts them: numerically when every
 * label is a number, else as strings (byte order). */
typedef struct class_list {
    size_t k;
    char **names;
} class_list;

/* The distinct labels of `y` (one per sample). */
int classes_from_labels(const dataset *y, class_list *c);
/* Replaces the classes of `c` (a list or zeroes) with "0".."k-1". */
int classes_numbered(class_list *c, size_t k);
/* The model's class names, or "0".."K-1" for a model that keeps none. */
int classes_from_model(const nn_net *net, class_list *c);
void classes_free(class_list *c);
/* "a, b, c" (the first ones, then "..."), for messages. */
void classes_list(const class_list *c, char *buf, size_t cap);

/* Whether labels look like classes: words, or whole numbers with at most
 * CLASSES_MAX distinct values (digits' 0-9, UCI's 1-based classes), one
 * per sample. Real values, or hundreds of distinct integers (a score),
 * are a regression's targets. */
#define CLASSES_MAX 50
int labels_look_like_classes(const dataset *y);

/* Targets as the network trains on them. */
typedef struct targets {
    size_t n, k;    /* samples, outputs */
    float *y;       /* n x k: one-hot rows for classes (one 0/1 value for
                       a single sigmoid output), values otherwise */
    size_t *cls;    /* classify: the class of each sample; else NULL */
    size_t n_classes;
} targets;

/* Builds the targets of a network with `n_out` outputs: each label mapped
 * to its class in `classes` (a word by name, a number by value), or with
 * `classes` NULL n_out values per sample. */
int targets_make(const dataset *labels, const class_list *classes,
                 size_t n_out, targets *t);
void targets_free(targets *t);

#endif
