/* SPDX-License-Identifier: MIT */
/*
 * Data sets as the tool reads them: a matrix of floats, one sample per row,
 * from CSV, IDX (MNIST's format) or NumPy .npy, each optionally gzipped.
 * A data set remembers where each value came from, so that every message
 * about a bad value names the file, line and column (CSV) or the element
 * (IDX, .npy).
 */
#ifndef NN_TOOL_DATA_H
#define NN_TOOL_DATA_H

#include <stddef.h>
#include <stdint.h>

typedef enum data_format { DATA_CSV, DATA_IDX, DATA_NPY } data_format;

/* How a CSV file's first line is taken. */
typedef enum csv_header { CSV_HEADER_AUTO, CSV_HEADER_NO, CSV_HEADER_YES } csv_header;

/* How to read a file: the CSV dialect, and which CSV columns are which.
 * Zeroes are the defaults. */
typedef struct data_options {
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
} data_options;

typedef struct dataset {
    const char *path;  /* as given on the command line; not owned */
    data_format format;
    size_t rows, cols;
    float *x;          /* rows x cols, row-major, all finite but for the
                          text column */
    char **names;      /* CSV header: one name per column; NULL without */
    size_t *line;      /* CSV: 1-based line of each row; NULL otherwise */
    size_t *column;    /* CSV: 1-based file column of each column */
    /* CSV: the label column's cells as text (class names may be words):
     * its x values are the numbers the cells hold, NaN for the cells that
     * are not numbers. text is NULL when no column is kept as text. */
    size_t text_col;   /* which column */
    char **text;       /* its distinct cells, in order of appearance */
    size_t n_text;
    uint32_t *text_id; /* per row: the index of its cell in text */
    size_t dropped;    /* rows skipped for a missing value (--na drop) */
} dataset;

/* Reads `path` (any format, gzipped or not: the content decides; "-" is
 * standard input). Returns ST_OK, ST_USAGE for options that do not fit
 * the file (--label, --ignore), or ST_FAIL, after one message; on failure
 * *d holds nothing. */
int data_load(dataset *d, const char *path, const data_options *opt);
void data_free(dataset *d);

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

/* "file.csv:LINE:COLUMN" for CSV, "file.npy: element [ROW, COL]" for the
 * array formats: where value (row, col) came from. */
void data_where(const dataset *d, size_t row, size_t col, char *buf,
                size_t cap);

/* "file.csv:LINE" for CSV, "file.npy: row ROW" (0-based) for the array
 * formats: where sample `row` came from. */
void data_where_row(const dataset *d, size_t row, char *buf, size_t cap);

/* Moves column `col` out of `d` into the one-column data set `out`, which
 * keeps the locations of its values (and its text, if it is the text
 * column). */
int data_take_column(dataset *d, size_t col, dataset *out);

/* Name of the format, for messages. */
const char *data_format_name(data_format f);

/* A file being read through zlib: the bytes data_load has already read to
 * tell the format, then the rest of the stream. The IDX reader converts
 * values as they arrive, so that the file's bytes are never held whole
 * beside their floats (a training run's peak memory is then the data as
 * floats plus a chunk: docs/performance.md, "Memory"); so do the .npy
 * and CSV readers. */
typedef struct data_stream {
    void *gz;                  /* gzFile */
    const char *path;
    const unsigned char *head; /* the bytes already read */
    size_t head_len, head_pos;
} data_stream;

/* Reads up to `cap` bytes into `buf`; *got receives how many, 0 at the end
 * of the file. ST_OK, or ST_FAIL after one message. */
int data_read(data_stream *s, void *buf, size_t cap, size_t *got);

/* Converts the `n` raw values at `raw`, values [done, done + n) of the
 * file, into d->x; ST_OK, or ST_FAIL after one message. */
typedef int (*data_convert_fn)(dataset *d, const void *format,
                               const unsigned char *raw, size_t n,
                               size_t done);

/* The values of a binary format: `count` of `width` bytes each, read a
 * chunk at a time and converted into d->x, which grows as they arrive (by
 * remapping, not copying), so a header that promises more than the file
 * holds costs no more than the file. *done receives the number of whole
 * values read: fewer than `count` when the file is short, which the
 * caller reports in its format's words. */
int data_read_values(dataset *d, data_stream *s, size_t count, size_t width,
                     data_convert_fn convert, const void *format,
                     size_t *done);

/* The number a CSV cell (already trimmed) holds, as strtod reads it, bit
 * for bit: 1 when the whole cell is one number, else 0. Plain decimals of
 * up to 15 digits take a fast path; tests/fuzz/fuzz_data.c checks it
 * against strtod. */
int csv_number(const char *cell, double *value);

/* Parsers behind data_load, one per format, each reading the stream as it
 * decompresses. On failure they leave *d for data_free. */
int csv_read(dataset *d, data_stream *s, const data_options *opt);
int idx_read(dataset *d, data_stream *s);
int npy_read(dataset *d, data_stream *s);

#endif
