/* SPDX-License-Identifier: MIT */
/*
 * Layer 3 of tools/ (the layers and their rule: cli.h).
 *
 * The format readers, one per file: CSV (csv.c), IDX (idx.c) and NumPy
 * .npy (npy.c, with npy_header.c). Each fills a data set from a stream
 * as it decompresses; which one reads a file is data.c's business, not
 * theirs. On failure they leave the data set for data_free.
 */
#ifndef NN_TOOL_FORMATS_H
#define NN_TOOL_FORMATS_H

#include "dataset.h"

/* How a CSV file's first line is taken. */
typedef enum csv_header {
    CSV_HEADER_AUTO,
    CSV_HEADER_NO,
    CSV_HEADER_YES
} csv_header;

/* The CSV dialect, and which columns are which. Zeroes are the defaults. */
typedef struct csv_options {
    csv_header header;
    char delimiter;    /* 0: detected (',', ';' or tab; tab for .tsv) */
    const char *label; /* --label: the column kept as text too, by header
                          name or 0-based index; must exist */
    const char *label_name; /* otherwise this column when the header has
                               it (a model's label column); else the last */
    int no_label;      /* no column is kept as text (--labels FILE) */
    const char *ignore; /* --ignore: comma-separated names or indices of
                           columns not read at all; NULL for none */
    int ignore_absent;  /* names --ignore gives may be absent (--val) */
    int na_drop;       /* --na drop: rows with a missing value are skipped */
} csv_options;

/* Reads a CSV table. ST_OK, ST_USAGE for options that do not fit the file
 * (--label, --ignore), or ST_FAIL, after one message. */
int csv_read(dataset *d, data_stream *s, const csv_options *opt);

/* The number a CSV cell (already trimmed) holds, as strtod reads it, bit
 * for bit: 1 when the whole cell is one number, else 0. Plain decimals of
 * up to 15 digits take a fast path; tests/fuzz/fuzz_data.c checks it
 * against strtod. */
int csv_number(const char *cell, double *value);

/* Reads an IDX file, or a .npy file; the stream's first bytes are the
 * format's magic. ST_OK, or ST_FAIL after one message. */
int idx_read(dataset *d, data_stream *s);
int npy_read(dataset *d, data_stream *s);

#endif
