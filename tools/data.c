/* SPDX-License-Identifier: MIT */
/*
 * Loading a data set: the file is read through zlib (which passes
 * uncompressed files through unchanged, so any format may be gzipped), its
 * first bytes decide the format, and a format parser fills the matrix as
 * the bytes arrive, so the file is never held whole beside its floats.
 * Also the bookkeeping every command needs: where a value came from, and
 * splitting the label column off a CSV table.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "cli.h"
#include "data.h"

/* The longest IDX header, the magic and 255 dimensions: data_load reads
 * this much first, which tells every format apart. */
#define HEAD_BYTES (4 + 4 * 255)

/* Why reading `gz` failed, or ST_OK. A truncated gzip stream reads as a
 * short file: only gzerror (and gzclose_r) tell, with Z_BUF_ERROR. */
static int read_error(gzFile gz, const char *path, int got)
{
    int err = Z_OK;
    const char *zmsg = gzerror(gz, &err);
    size_t plen = strlen(path);
    if (strncmp(zmsg, path, plen) == 0 && strncmp(zmsg + plen, ": ", 2) == 0)
        zmsg += plen + 2; /* zlib prefixes the path we print anyway */
    if (err == Z_ERRNO)
        return cli_fail("%s: cannot read: %s", path, strerror(errno));
    if (err != Z_OK)
        return cli_fail("%s: cannot read: %s", path, zmsg);
    if (got < 0)
        return cli_fail("%s: cannot read", path);
    return ST_OK;
}

/* gzread for any size: it returns less than asked only at the end of the
 * file or on an error, which is then reported. */
static int read_gz(gzFile gz, const char *path, unsigned char *buf,
                   size_t cap, size_t *got)
{
    *got = 0;
    while (*got < cap) {
        size_t want = cap - *got < (1u << 30) ? cap - *got : 1u << 30;
        int n = gzread(gz, buf + *got, (unsigned)want);
        if (n > 0)
            *got += (size_t)n;
        if (n < (int)want)
            return read_error(gz, path, n);
    }
    return ST_OK;
}

int data_read(data_stream *s, void *buf, size_t cap, size_t *got)
{
    size_t from_head = s->head_len - s->head_pos;
    if (from_head > cap)
        from_head = cap;
    memcpy(buf, s->head + s->head_pos, from_head);
    s->head_pos += from_head;
    size_t rest = 0;
    int st = ST_OK;
    if (from_head < cap)
        st = read_gz((gzFile)s->gz, s->path, (unsigned char *)buf + from_head,
                     cap - from_head, &rest);
    *got = from_head + rest;
    return st;
}

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

/* The file, or standard input for "-" (which zlib reads through a copy of
 * its descriptor, so that closing the stream leaves stdin open). */
static gzFile open_data(const char *path)
{
    if (strcmp(path, "-") != 0)
        return gzopen(path, "rb");
    int fd = dup(0);
    gzFile gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    if (!gz && fd >= 0)
        close(fd);
    return gz;
}

int data_load(dataset *d, const char *path, const data_options *opt)
{
    memset(d, 0, sizeof *d);
    d->path = strcmp(path, "-") == 0 ? "stdin" : path;
    data_options csv = *opt;
    if (!csv.delimiter && (ends_with(path, ".tsv") ||
                           ends_with(path, ".tsv.gz")))
        csv.delimiter = '\t';
    errno = 0;
    gzFile gz = open_data(path);
    if (!gz)
        return cli_fail("%s: cannot open: %s", d->path,
                        errno ? strerror(errno) : "out of memory");
    path = d->path;
    gzbuffer(gz, 1u << 17);
    unsigned char head[HEAD_BYTES];
    data_stream s = {gz, path, head, 0, 0};
    int st = read_gz(gz, path, head, sizeof head, &s.head_len);
    if (st == ST_OK && is_idx(head, s.head_len)) {
        d->format = DATA_IDX;
        st = idx_read(d, &s);
    } else if (st == ST_OK && is_npy(head, s.head_len)) {
        d->format = DATA_NPY;
        st = npy_read(d, &s);
    } else if (st == ST_OK) {
        d->format = DATA_CSV;
        st = csv_read(d, &s, &csv);
    }
    if (gzclose_r(gz) == Z_BUF_ERROR && st == ST_OK)
        st = cli_fail("%s: cannot read: unexpected end of file", path);
    if (st != ST_OK)
        data_free(d);
    return st;
}

/* Room in d->x for at least `need` of the `count` values. */
static int reserve(dataset *d, size_t *cap, size_t need, size_t count)
{
    if (need <= *cap)
        return ST_OK;
    size_t grown = *cap ? *cap : 1u << 16;
    while (grown < need)
        grown = grown > count / 2 ? count : 2 * grown;
    if (grown > count)
        grown = count;
    float *x = realloc(d->x, grown * sizeof *x);
    if (!x)
        return cli_fail("%s: out of memory for %zu values", d->path, count);
    d->x = x;
    *cap = grown;
    return ST_OK;
}

int data_read_values(dataset *d, data_stream *s, size_t count, size_t width,
                     data_convert_fn convert, const void *format,
                     size_t *done)
{
    enum { CHUNK = 1 << 16 }; /* bytes, a multiple of every value width */
    unsigned char chunk[CHUNK];
    size_t cap = 0, got = 0, want = 0;
    int st = ST_OK;
    *done = 0;
    do {
        /* whole values, and no product that could overflow: a header may
         * promise nearly SIZE_MAX of them */
        size_t left = count - *done;
        want = left < CHUNK / width ? left * width : CHUNK / width * width;
        st = data_read(s, chunk, want, &got);
        size_t n = got / width;
        if (st == ST_OK)
            st = reserve(d, &cap, *done + n, count);
        if (st == ST_OK)
            st = convert(d, format, chunk, n, *done);
        *done += n;
    } while (st == ST_OK && got == want && *done < count);
    return st;
}

/* Frees the text of the text column. */
static void drop_text(dataset *d)
{
    for (size_t i = 0; d->text && i < d->n_text; i++)
        free(d->text[i]);
    free(d->text);
    free(d->text_id);
    d->text = NULL;
    d->text_id = NULL;
    d->n_text = 0;
}

void data_free(dataset *d)
{
    if (d->names)
        for (size_t j = 0; j < d->cols; j++)
            free(d->names[j]);
    free(d->names);
    drop_text(d);
    free(d->x);
    free(d->line);
    free(d->column);
    d->names = NULL;
    d->x = NULL;
    d->line = NULL;
    d->column = NULL;
    d->rows = d->cols = 0;
}

void data_where(const dataset *d, size_t row, size_t col, char *buf,
                size_t cap)
{
    if (d->line && d->column)
        snprintf(buf, cap, "%s:%zu:%zu", d->path, d->line[row],
                 d->column[col]);
    else if (d->cols == 1)
        snprintf(buf, cap, "%s: element [%zu]", d->path, row);
    else
        snprintf(buf, cap, "%s: element [%zu, %zu]", d->path, row, col);
}

void data_where_row(const dataset *d, size_t row, char *buf, size_t cap)
{
    if (d->line)
        snprintf(buf, cap, "%s:%zu", d->path, d->line[row]);
    else
        snprintf(buf, cap, "%s: row %zu", d->path, row);
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
    drop_text(d);
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
