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

/* A list of sizes (--layers, --hidden): malloc'd, or NULL when not given. */
typedef struct size_list {
    size_t *v, n;
} size_list;

/* Everything the command line says, one field per option (see the help
 * text in train_args.c for meanings and defaults). */
typedef struct train_opts {
    input_spec in;             /* DATA, --labels, --label, --header */
    const char *out;           /* -o: the model file */
    const char *plot, *log;    /* --plot, --log, or NULL */
    const char *init;          /* --init MODEL: continue training it */
    const char *val;           /* --val FILE: validation data */
    unsigned long long given;  /* bit i: option i of train_args.c given */
    const char *activation;    /* --activation as given: "relu,tanh" */
    int task;                  /* enum task */
    int optimizer, schedule;   /* nn_optimizer, nn_schedule */
    int no_standardize, quiet;
    int plot_log;              /* --plot-log: a log loss axis, always */
    int mpi;                   /* --mpi: data-parallel over MPI ranks */
    size_list layers, hidden;  /* --layers, --hidden */
    size_t epochs, batch, step_size, t_max, patience, early_stop;
    size_t threads;            /* 0: leave the BLAS's default alone */
    double lr, momentum, weight_decay, dropout, clip, gamma, min_lr;
    double val_split;
    uint64_t seed;
} train_opts;

/* The default --epochs for `n` training samples: about a million sample
 * passes, within 10..200 (small tables need many epochs, large ones few). */
size_t train_default_epochs(size_t n);

/* `nnet train --help`. */
extern const char *const train_help[]; /* NULL-terminated parts */

/* Fills *o from the arguments (argv[0] is "train"), with defaults for what
 * is not given; sets *help_asked for --help. ST_OK or ST_USAGE (printed). */
int train_parse_args(int argc, char **argv, train_opts *o, int *help_asked);

/* Gives `net` the settings of the command line: all of them, or with
 * --init those given. A value libnn rejects is a usage error naming the
 * option. ST_OK or ST_USAGE. */
int train_apply_settings(nn_net *net, const train_opts *o);

/* nn_set with `option` ("--lr") naming the value in the message. */
int train_set(nn_net *net, const char *option, int key, double value);

#endif
