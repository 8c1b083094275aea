/* SPDX-License-Identifier: MIT */
/*
 * Layer 4 of tools/ (the layers and their rule: cli.h).
 *
 * Data sets as the commands load them: a CSV, IDX or NumPy .npy file,
 * each optionally gzipped, its format told by its first bytes; and the
 * column bookkeeping every command needs (finding a column by name,
 * selecting columns, splitting the label column off).
 */
#ifndef NN_TOOL_DATA_H
#define NN_TOOL_DATA_H

#include <stddef.h>

#include "dataset.h"
#include "formats.h"

/* Reads `path` (any format, gzipped or not: the content decides; "-" is
 * standard input); `csv` says how to read a CSV file. Returns ST_OK,
 * ST_USAGE for options that do not fit the file (--label, --ignore), or
 * ST_FAIL, after one message; on failure *d holds nothing. */
int data_load(dataset *d, const char *path, const csv_options *csv);

/* Checks that the text column, if `d` still has it, holds numbers only:
 * it is an input. ST_OK, or ST_FAIL naming the first cell that is not;
 * on success the text, no longer needed, is freed. */
int data_check_numbers(dataset *d);

/* Index of the column named `name` in d->names, or (size_t)-1; ST_FAIL
 * when two columns have that name (the message names `what`). */
int data_column_named(const dataset *d, const char *name, const char *what,
                      size_t *col);

/* Keeps only the columns `keep[0..n)`, in that order. */
int data_select_columns(dataset *d, const size_t *keep, size_t n);

/* Moves column `col` out of `d` into the one-column data set `out`, which
 * keeps the locations of its values (and its text, if it is the text
 * column). */
int data_take_column(dataset *d, size_t col, dataset *out);

/* Name of the format, for messages. */
const char *data_format_name(data_format f);

#endif
