/* SPDX-License-Identifier: MIT */
/*
 * Layer 5 of tools/ (the layers and their rule: cli.h).
 *
 * `nnet export --c` (export_c.c), called by `nnet export` (export.c).
 */
#ifndef NN_TOOL_EXPORT_H
#define NN_TOOL_EXPORT_H

#include <nn.h>

/* 1 when `name` can prefix the generated C identifiers (a letter, then
 * letters, digits or underscores; at most 40 characters), 0 if not. */
int export_c_name_ok(const char *name);

/* Writes `c_path` (which ends in ".c") and its header beside it, each
 * whole or not at all, declaring `name`_predict. ST_OK, or a status after
 * one message. */
int export_c(nn_net *net, const char *c_path, const char *name);

#endif
