/* SPDX-License-Identifier: MIT */
/*
 * The one table of nn_set / nn_get options, a one-topic internal header
 * (the rule of lib/'s headers is at the top of internal.h). It gives the
 * fields of nn__settings (net.h), the defaults (net.c), the names, bounds,
 * checks and nn_get (nn.c); what a model file keeps and what the ranks of
 * nn_mpi_fit agree on follow from the flags that nn_option_bounds reports.
 * nn.h documents each option.
 *
 * A row: X(OPTION, name, field, type, lower, upper, flags, default)
 *   OPTION  the nn_option number (nn.h)
 *   name    what nn_option_name() says and nn_set's messages use
 *   field, type  the member of nn__settings (net.h) that keeps it
 *   lower, upper, flags  the valid values, as nn_option_bounds() reports
 *           them (NN_OPTION_* of nn.h)
 *   default the value of a new network (the loss of a softmax output
 *           layer is cross-entropy instead: default_settings in net.c)
 * or COMPUTED(OPTION, name, lower, upper, flags) for the options kept
 * elsewhere (the schedule's clock, the BLAS's threads): nn.c's
 * computed_option reads them.
 *
 * Adding an option: its number and documentation in nn.h (and NN_OPT_COUNT),
 * its row here; a case in nn.c's set_with_side_effect only if setting it
 * must do more than store the value. Everything else follows from the row.
 */
#ifndef LIBNN_OPTIONS_H
#define LIBNN_OPTIONS_H

#include <limits.h>
#include <math.h>

#include "nn.h"

#define NN__INT_LIMIT ((double)INT_MAX)

/* Flags of the usual kinds. */
#define NN__REAL_STATE (NN_OPTION_SAVED | NN_OPTION_MODEL)
#define NN__INT_STATE (NN_OPTION_INTEGER | NN_OPTION_SAVED | NN_OPTION_MODEL)
#define NN__OPEN (NN_OPTION_LOWER_OPEN | NN_OPTION_UPPER_OPEN)

#define NN__OPTIONS(X, COMPUTED)                                               \
    X(NN_OPT_LEARNING_RATE, "learning_rate", learning_rate, double, 0,         \
      INFINITY, NN__REAL_STATE | NN__OPEN, 0.01)                               \
    X(NN_OPT_OPTIMIZER, "optimizer", optimizer, int, NN_SGD, NN_RMSPROP,       \
      NN__INT_STATE, NN_SGD)                                                   \
    X(NN_OPT_MOMENTUM, "momentum", momentum, double, 0, 1,                     \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.9)                              \
    X(NN_OPT_BETA1, "beta1", beta1, double, 0, 1,                              \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.9)                              \
    X(NN_OPT_BETA2, "beta2", beta2, double, 0, 1,                              \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.999)                            \
    X(NN_OPT_EPSILON, "epsilon", epsilon, double, 0, INFINITY,                 \
      NN__REAL_STATE | NN__OPEN, 1e-8)                                         \
    X(NN_OPT_WEIGHT_DECAY, "weight_decay", weight_decay, double, 0, INFINITY,  \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.0)                              \
    X(NN_OPT_LOSS, "loss", loss, int, NN_LOSS_MSE,                             \
      NN_LOSS_BINARY_CROSS_ENTROPY, NN__INT_STATE, NN_LOSS_MSE)                \
    X(NN_OPT_BATCH_SIZE, "batch_size", batch_size, size_t, 1, NN__INT_LIMIT,   \
      NN__INT_STATE, 32)                                                       \
    X(NN_OPT_SHUFFLE, "shuffle", shuffle, int, 0, 1, NN__INT_STATE, 1)         \
    X(NN_OPT_RMSPROP_ALPHA, "rmsprop_alpha", rmsprop_alpha, double, 0, 1,      \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.99)                             \
    X(NN_OPT_DROPOUT, "dropout", dropout, double, 0, 1,                        \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.0)                              \
    X(NN_OPT_CLIP_NORM, "clip_norm", clip_norm, double, 0, INFINITY,           \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.0)                              \
    X(NN_OPT_SCHEDULE, "schedule", schedule, int, NN_SCHEDULE_CONSTANT,        \
      NN_SCHEDULE_PLATEAU, NN__INT_STATE, NN_SCHEDULE_CONSTANT)                \
    X(NN_OPT_STEP_SIZE, "step_size", step_size, size_t, 1, NN__INT_LIMIT,      \
      NN__INT_STATE, 10)                                                       \
    X(NN_OPT_GAMMA, "gamma", gamma, double, 0, 1,                              \
      NN__REAL_STATE | NN_OPTION_LOWER_OPEN, 0.1)                              \
    X(NN_OPT_T_MAX, "t_max", t_max, size_t, 1, NN__INT_LIMIT, NN__INT_STATE,   \
      100)                                                                     \
    X(NN_OPT_MIN_LR, "min_lr", min_lr, double, 0, INFINITY,                    \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.0)                              \
    X(NN_OPT_PLATEAU_PATIENCE, "plateau_patience", plateau_patience, size_t,   \
      0, NN__INT_LIMIT, NN__INT_STATE, 10)                                     \
    X(NN_OPT_EARLY_STOPPING, "early_stopping", early_stopping, size_t, 0,      \
      NN__INT_LIMIT, NN__INT_STATE, 0)                                         \
    COMPUTED(NN_OPT_CURRENT_LR, "current_lr", 0, INFINITY,                     \
             NN_OPTION_READ_ONLY | NN_OPTION_MODEL | NN__OPEN)                 \
    COMPUTED(NN_OPT_EPOCHS_DONE, "epochs_done", 0, 18446744073709551615.0,     \
             NN_OPTION_READ_ONLY | NN_OPTION_INTEGER | NN_OPTION_MODEL)        \
    COMPUTED(NN_OPT_THREADS, "threads", 0, 1024, NN_OPTION_INTEGER)

#endif
