/* SPDX-License-Identifier: MIT */
/*
 * Layer 5 of tools/ (the layers and their rule: cli.h).
 *
 * Model files as the tool sees them: loading with one clear message, what
 * kind of model a file holds, its architecture in words, and its outputs.
 */
#ifndef NN_TOOL_MODEL_H
#define NN_TOOL_MODEL_H

#include <stddef.h>

#include <nn.h>

#include "data.h"

/* nn_load with the tool's message on failure; ST_OK or ST_FAIL. */
int model_load(const char *path, nn_net **net);

/* nn_save with signals held meanwhile (cli_signals_hold), so that none
 * leaves its temporary file behind; a failure is reported as `what`'s.
 * ST_OK or ST_FAIL. */
int model_save(const nn_net *net, const char *path, const char *what);

/* A classifier predicts one class per sample: a model whose task
 * (nn_get_task: recorded, or from a cross-entropy loss) is classification,
 * with a softmax output or a single sigmoid output (binary). A sigmoid
 * output of several units (multi-label) is evaluated output by output. */
int model_is_classifier(const nn_net *net);

/* nn_get's value of `option`, 0 if libnn cannot say (it always can for a
 * loaded model). */
double model_get(const nn_net *net, int option);

/* "784-256-128-10". */
void model_layers(const nn_net *net, char *buf, size_t cap);

/* The outputs for every sample of `x` (x->rows x the output layer's size)
 * into a malloc'd *y_hat; ST_OK, or ST_FAIL after one message with *y_hat
 * NULL. */
int model_predict(const nn_net *net, const dataset *x, float **y_hat);

/* The class a classifier's output row of `k` (>= 1) values predicts, by
 * libnn's rule (nn_predicted_classes, as nn_evaluate counts accuracy): the
 * arg-max, ties to the lowest index; for a single sigmoid output, class 1
 * when it is above 0.5. */
size_t model_predicted_class(const float *row, size_t k);

#endif
