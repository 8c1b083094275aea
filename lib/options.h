/* SPDX-License-Identifier: MIT */
/*
 * The one table of nn_set / nn_get options. Internal headers of lib/: this
 * one is included by nn.c (defaults, checks, nn_get), persist.c (what a
 * model file keeps) and nothing else; nn.h documents each option.
 *
 * A row: X(OPTION, name, field, lower, upper, flags, default)
 *   OPTION  the nn_option number (nn.h)
 *   name    what nn_option_name() says and nn_set's messages use
 *   field   where nn__settings keeps it
 *   lower, upper, flags  the valid values, as nn_option_bounds() reports
 *           them (NN_OPTION_* of nn.h)
 *   default the value of a new network (the loss of a softmax output
 *           layer is cross-entropy instead: default_settings in net.c)
 * or COMPUTED(OPTION, name, lower, upper, flags) for the options kept
 * elsewhere (the schedule's clock, the BLAS's threads): nn.c's
 * computed_option reads them.
 *
 * Adding an option: its number and documentation in nn.h, its row here,
 * its field in nn__settings; a case in nn.c's apply_side_effect only if
 * setting it must do more than store the value.
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

#define NN__OPTIONS(X, COMPUTED)                                                         \
    X(NN_OPT_LEARNING_RATE, "learning_rate", learning_rate, 0, INFINITY,       \
      NN__REAL_STATE | NN__OPEN, 0.01)                                         \
    X(NN_OPT_OPTIMIZER, "optimizer", optimizer, NN_SGD, NN_RMSPROP,            \
      NN__INT_STATE, NN_SGD)                                                   \
    X(NN_OPT_MOMENTUM, "momentum", momentum, 0, 1,                             \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.9)                              \
    X(NN_OPT_BETA1, "beta1", beta1, 0, 1,                                      \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.9)                              \
    X(NN_OPT_BETA2, "beta2", beta2, 0, 1,                                      \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.999)                            \
    X(NN_OPT_EPSILON, "epsilon", epsilon, 0, INFINITY,                         \
      NN__REAL_STATE | NN__OPEN, 1e-8)                                         \
    X(NN_OPT_WEIGHT_DECAY, "weight_decay", weight_decay, 0, INFINITY,          \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.0)                              \
    X(NN_OPT_LOSS, "loss", loss, NN_LOSS_MSE, NN_LOSS_BINARY_CROSS_ENTROPY,    \
      NN__INT_STATE, NN_LOSS_MSE)                                              \
    X(NN_OPT_BATCH_SIZE, "batch_size", batch_size, 1, NN__INT_LIMIT,           \
      NN__INT_STATE, 32)                                                       \
    X(NN_OPT_SHUFFLE, "shuffle", shuffle, 0, 1, NN__INT_STATE, 1)              \
    X(NN_OPT_RMSPROP_ALPHA, "rmsprop_alpha", rmsprop_alpha, 0, 1,              \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.99)                             \
    X(NN_OPT_DROPOUT, "dropout", dropout, 0, 1,                                \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.0)                              \
    X(NN_OPT_CLIP_NORM, "clip_norm", clip_norm, 0, INFINITY,                   \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.0)                              \
    X(NN_OPT_SCHEDULE, "schedule", schedule, NN_SCHEDULE_CONSTANT,             \
      NN_SCHEDULE_PLATEAU, NN__INT_STATE, NN_SCHEDULE_CONSTANT)                \
    X(NN_OPT_STEP_SIZE, "step_size", step_size, 1, NN__INT_LIMIT,              \
      NN__INT_STATE, 10)                                                       \
    X(NN_OPT_GAMMA, "gamma", gamma, 0, 1,                                      \
      NN__REAL_STATE | NN_OPTION_LOWER_OPEN, 0.1)                              \
    X(NN_OPT_T_MAX, "t_max", t_max, 1, NN__INT_LIMIT, NN__INT_STATE, 100)      \
    X(NN_OPT_MIN_LR, "min_lr", min_lr, 0, INFINITY,                            \
      NN__REAL_STATE | NN_OPTION_UPPER_OPEN, 0.0)                              \
    X(NN_OPT_PLATEAU_PATIENCE, "plateau_patience", plateau_patience, 0,        \
      NN__INT_LIMIT, NN__INT_STATE, 10)                                        \
    X(NN_OPT_EARLY_STOPPING, "early_stopping", early_stopping, 0,              \
      NN__INT_LIMIT, NN__INT_STATE, 0)                                         \
    COMPUTED(NN_OPT_CURRENT_LR, "current_lr", 0, INFINITY,                    \
             NN_OPTION_READ_ONLY | NN_OPTION_MODEL | NN__OPEN)                 \
    COMPUTED(NN_OPT_EPOCHS_DONE, "epochs_done", 0, 18446744073709551615.0,     \
             NN_OPTION_READ_ONLY | NN_OPTION_INTEGER | NN_OPTION_MODEL)        \
    COMPUTED(NN_OPT_THREADS, "threads", 0, 1024, NN_OPTION_INTEGER)

#endif
