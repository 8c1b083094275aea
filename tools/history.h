/* SPDX-License-Identifier: MIT */
/*
 * Layer 5 of tools/ (the layers and their rule: cli.h).
 *
 * The per-epoch record of a training run, read once from libnn after
 * training, and written as CSV (--log) or drawn as SVG (--plot, plot.c).
 */
#ifndef NN_TOOL_HISTORY_H
#define NN_TOOL_HISTORY_H

#include <stddef.h>

#include <nn.h>

/* Values per epoch, indexed by nn_metric (NN_HIST_TRAIN_LOSS ...
 * NN_HIST_LEARNING_RATE). */
#define HISTORY_METRICS 5

typedef struct history {
    size_t first;      /* epochs of the run before the first one kept:
                          libnn keeps the last NN_HISTORY_CAPACITY */
    size_t n;          /* epochs kept, epochs first + 1 ... first + n */
    int classify;      /* accuracies are meaningful */
    int validated;     /* validation series are present */
    double *train_loss, *train_acc, *val_loss, *val_acc, *lr;
    double *seconds;   /* wall time since training began, per epoch */
} history;

/* Copies libnn's history of `net`, a run of `ran` epochs, and the times of
 * the epochs it kept (`seconds` has one entry per epoch of the run, or is
 * NULL). ST_OK or ST_FAIL. */
int history_read(history *h, const nn_net *net, size_t ran,
                 const double *seconds, int classify);
void history_free(history *h);

/* Index among the kept epochs of the lowest validation loss (its epoch is
 * first + index + 1); n when not validated. */
size_t history_best_epoch(const history *h);

/* --log FILE.csv: header "epoch,train_loss,train_accuracy,val_loss,
 * val_accuracy,learning_rate,seconds", one row per epoch (1-based epoch),
 * empty cells where a value does not apply. ST_OK or ST_FAIL. */
int history_write_csv(const history *h, const char *path);

/* --plot FILE.svg (plot.c): loss and, for classifiers, accuracy against
 * epoch, training and validation, as a self-contained SVG under `title`.
 * The loss axis is logarithmic when `log_loss` is set (--plot-log), or
 * when the loss spans a factor of 10 or more (and is positive). */
int plot_write_svg(const history *h, const char *path, const char *title,
                   int log_loss);

#endif
