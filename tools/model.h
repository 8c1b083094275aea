/* SPDX-License-Identifier: MIT */
/*
 * Model files as the tool sees them: loading with one clear message, what
 * kind of model a file holds, and its architecture in words.
 */
#ifndef NN_TOOL_MODEL_H
#define NN_TOOL_MODEL_H

#include <stddef.h>

#include <nn.h>

/* nn_load with the tool's message on failure; ST_OK or ST_FAIL. */
int model_load(const char *path, nn_net **net);

/* A classifier is a network trained with cross-entropy, which libnn allows
 * only after a softmax output layer: that is how a model file remembers
 * that `nn train --task classify` made it. */
int model_is_classifier(const nn_net *net);

/* "784-256-128-10". */
void model_layers(const nn_net *net, char *buf, size_t cap);

/* The activation of each weight layer, read from the file's architecture
 * record (libnn 0.1 has no getter for it). Returns 1 and fills
 * acts[0 .. nn_num_layers(net) - 2] when the file is the one `net` was
 * loaded from, 0 when it cannot tell. */
int model_file_activations(const char *path, const nn_net *net,
                           nn_activation *acts);

#endif
