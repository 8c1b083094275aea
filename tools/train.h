/* SPDX-License-Identifier: MIT */
/*
 * Layer 6 of tools/ (the layers and their rule: cli.h).
 *
 * `nnet train` in two files: train_args.c reads the command line into a
 * train_opts, train.c runs the training it describes.
 */
#ifndef NN_TOOL_TRAIN_H
#define NN_TOOL_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "inputs.h"

/* --task; AUTO decides from the output layer and the labels (train.c). */
enum task { TASK_AUTO, TASK_CLASSIFY, TASK_REGRESS };

/* Everything the command line says, one field per option (see the help
 * text in train_args.c for meanings and defaults). */
typedef struct train_opts {
    input_spec in;             /* DATA, --labels, --label, --header */
    const char *out;           /* -o: the model file */
    const char *plot, *log;    /* --plot, --log, or NULL */
    const char *init;          /* --init MODEL: continue training it */
    const char *val;           /* --val FILE: validation data */
    unsigned long long given;  /* bit OPT_x - OPT_FIRST_FREE: on the line */
    const char *activation;    /* --activation as given: "relu,tanh" */
    int task;                  /* enum task */
    int optimizer, schedule;   /* nn_optimizer, nn_schedule */
    int standardize, quiet;
    int plot_log;              /* --plot-log: a log loss axis, always */
    int mpi;                   /* --mpi: data-parallel over MPI ranks */
    size_t *layers, n_layers;  /* --layers, malloc'd, or NULL */
    size_t *hidden, n_hidden;  /* --hidden, malloc'd, or NULL */
    size_t epochs, batch, step_size, t_max, patience, early_stop;
    size_t threads;            /* 0: leave the BLAS's default alone */
    double lr, momentum, weight_decay, dropout, clip, gamma, min_lr;
    double val_split;
    uint64_t seed;
} train_opts;

/* The default --epochs for `n` training samples: about a million sample
 * passes, within 10..200 (small tables need many epochs, large ones few). */
size_t train_default_epochs(size_t n);

/* Whether the long option `option` ("lr", without dashes) was on the
 * command line. */
int train_option_given(const train_opts *o, const char *option);

/* `nnet train --help`. */
extern const char *const train_help[]; /* NULL-terminated parts */

/* Fills *o from the arguments (argv[0] is "train"), with defaults for what
 * is not given; sets *help_asked for --help. ST_OK or ST_USAGE (printed). */
int train_parse_args(int argc, char **argv, train_opts *o, int *help_asked);

#endif
