/* SPDX-License-Identifier: MIT */
/*
 * Loading a data set (data.h): the stream's first bytes decide the format,
 * and that format's reader (formats.h) fills the matrix as the bytes
 * arrive. Also the bookkeeping every command needs: finding and selecting
 * columns, and splitting the label column off a CSV table.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data.h"

static int is_idx(const unsigned char *b, size_t len)
{
    static const unsigned char types[] = {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E};
    if (len < 4 || b[0] != 0 || b[1] != 0 || b[3] == 0)
        return 0;
    return memchr(types, b[2], sizeof types) != NULL;
}

static int is_npy(const unsigned char *b, size_t len)
{
    return len >= 6 && memcmp(b, "\x93NUMPY", 6) == 0;
}

/* Whether `path` ends with `suffix`. */
static int ends_with(const char *path, const char *suffix)
{
    size_t n = strlen(path), k = strlen(suffix);
    return n >= k && strcmp(path + n - k, suffix) == 0;
}

int data_load(dataset *d, const char *path, const csv_options *csv)
{
    memset(d, 0, sizeof *d);
    d->path = strcmp(path, "-") == 0 ? "stdin" : path;
    csv_options opt = *csv;
    if (!opt.delimiter && (ends_with(path, ".tsv") ||
                           ends_with(path, ".tsv.gz")))
        opt.delimiter = '\t';
    data_stream s;
    int st = data_stream_open(&s, path, d->path);
    if (st != ST_OK)
        return st;
    if (is_idx(s.head, s.head_len)) {
        d->format = DATA_IDX;
        st = idx_read(d, &s);
    } else if (is_npy(s.head, s.head_len)) {
        d->format = DATA_NPY;
        st = npy_read(d, &s);
    } else {
        d->format = DATA_CSV;
        st = csv_read(d, &s, &opt);
    }
    st = data_stream_close(&s, st);
    if (st != ST_OK)
        data_free(d);
    return st;
}

int data_check_numbers(dataset *d)
{
    for (size_t i = 0; d->text && d->text_col < d->cols && i < d->rows; i++)
        if (isnan(d->x[i * d->cols + d->text_col])) {
            char where[512];
            data_where(d, i, d->text_col, where, sizeof where);
            return cli_fail("%s: '%.40s' is not a number", where,
                            d->text[d->text_id[i]]);
        }
    data_free_text(d);
    return ST_OK;
}

int data_column_named(const dataset *d, const char *name, const char *what,
                      size_t *col)
{
    *col = (size_t)-1;
    for (size_t j = 0; d->names && j < d->cols; j++) {
        if (strcmp(d->names[j], name) != 0)
            continue;
        if (*col != (size_t)-1)
            return cli_fail("%s: two columns are named '%s' (%s): rename "
                            "one, or --ignore one by its index", d->path,
                            name, what);
        *col = j;
    }
    return ST_OK;
}

int data_select_columns(dataset *d, const size_t *keep, size_t n)
{
    float *x = malloc(d->rows * n * sizeof *x);
    size_t *column = d->column ? malloc(n * sizeof *column) : NULL;
    char **names = d->names ? calloc(n, sizeof *names) : NULL;
    if (!x || (d->column && !column) || (d->names && !names)) {
        free(x);
        free(column);
        free(names);
        return cli_fail("out of memory");
    }
    for (size_t i = 0; i < d->rows; i++)
        for (size_t k = 0; k < n; k++)
            x[i * n + k] = d->x[i * d->cols + keep[k]];
    size_t text_col = (size_t)-1;
    for (size_t k = 0; k < n; k++) {
        if (column)
            column[k] = d->column[keep[k]];
        if (names) { /* moved: each column is kept at most once */
            names[k] = d->names[keep[k]];
            d->names[keep[k]] = NULL;
        }
        if (keep[k] == d->text_col)
            text_col = k;
    }
    for (size_t j = 0; d->names && j < d->cols; j++)
        free(d->names[j]);
    free(d->names);
    free(d->column);
    free(d->x);
    d->x = x;
    d->column = column;
    d->names = names;
    d->cols = n;
    d->text_col = text_col;
    return ST_OK;
}

/* Removes column `col` from the rows of `d`, in place. */
static void drop_column(dataset *d, size_t col)
{
    size_t w = d->cols, k = 0;
    for (size_t i = 0; i < d->rows; i++)
        for (size_t j = 0; j < w; j++)
            if (j != col)
                d->x[k++] = d->x[i * w + j];
    if (d->names) {
        free(d->names[col]);
        memmove(d->names + col, d->names + col + 1,
                (w - col - 1) * sizeof *d->names);
    }
    if (d->column)
        memmove(d->column + col, d->column + col + 1,
                (w - col - 1) * sizeof *d->column);
    d->cols = w - 1;
    if (d->text_col > col && d->text_col != (size_t)-1)
        d->text_col--;
}

int data_take_column(dataset *d, size_t col, dataset *out)
{
    memset(out, 0, sizeof *out);
    out->path = d->path;
    out->format = d->format;
    out->rows = d->rows;
    out->cols = 1;
    out->x = malloc(d->rows * sizeof *out->x);
    out->column = malloc(sizeof *out->column);
    out->line = d->line ? malloc(d->rows * sizeof *out->line) : NULL;
    out->names = d->names ? malloc(sizeof *out->names) : NULL;
    if (out->names) { /* the name goes with its column */
        out->names[0] = d->names[col];
        d->names[col] = NULL;
    }
    if (!out->x || !out->column || (d->line && !out->line) ||
        (d->names && !out->names)) {
        data_free(out);
        return cli_fail("out of memory");
    }
    for (size_t i = 0; i < d->rows; i++)
        out->x[i] = d->x[i * d->cols + col];
    if (d->line)
        memcpy(out->line, d->line, d->rows * sizeof *out->line);
    out->column[0] = d->column ? d->column[col] : col + 1;
    if (!d->column) {
        free(out->column);
        out->column = NULL;
    }
    if (d->text && col == d->text_col) { /* the text goes with its column */
        out->text = d->text;
        out->n_text = d->n_text;
        out->text_id = d->text_id;
        out->text_col = 0;
        d->text = NULL;
        d->text_id = NULL;
        d->n_text = 0;
    }
    drop_column(d, col);
    return ST_OK;
}

const char *data_format_name(data_format f)
{
    switch (f) {
    case DATA_CSV:
        return "CSV";
    case DATA_IDX:
        return "IDX";
    case DATA_NPY:
        return "NumPy .npy";
    }
    return "unknown";
}
