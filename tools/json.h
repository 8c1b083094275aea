/* SPDX-License-Identifier: MIT */
/*
 * Layer 1 of tools/ (the layers and their rule: cli.h).
 *
 * The little JSON that `nnet info --json` and `nnet eval --json` print:
 * strings escaped as RFC 8259 asks, numbers that JSON can hold.
 */
#ifndef NN_TOOL_JSON_H
#define NN_TOOL_JSON_H

#include <stdio.h>

/* `s` as a JSON string, quotes included. */
void json_string(FILE *f, const char *s);

/* `v` as a JSON number, or null when it is not finite (JSON has no NaN). */
void json_number(FILE *f, double v);

/* "[...]" of `n` strings. */
void json_strings(FILE *f, const char *const *s, size_t n);

#endif
