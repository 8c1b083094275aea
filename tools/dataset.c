/* SPDX-License-Identifier: MIT */
/*
 * The data set and the stream the readers fill it from (dataset.h): zlib
 * reading with one message per failure, the binary formats' values
 * converted a chunk at a time, and where a value came from.
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
#include "dataset.h"

/* ---- the stream ---- */

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

/* The file, or standard input for "-" (which zlib reads through a copy of
 * its descriptor, so that closing the stream leaves stdin open). */
static gzFile open_gz(const char *path)
{
    if (strcmp(path, "-") != 0)
        return gzopen(path, "rb");
    int fd = dup(0);
    gzFile gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    if (!gz && fd >= 0)
        close(fd);
    return gz;
}

int data_stream_open(data_stream *s, const char *path, const char *shown)
{
    s->path = shown;
    s->head_len = s->head_pos = 0;
    errno = 0;
    s->gz = open_gz(path);
    if (!s->gz)
        return cli_fail("%s: cannot open: %s", shown,
                        errno ? strerror(errno) : "out of memory");
    gzbuffer(s->gz, 1u << 17);
    int st = read_gz(s->gz, shown, s->head, sizeof s->head, &s->head_len);
    return st == ST_OK ? ST_OK : data_stream_close(s, st);
}

int data_stream_close(data_stream *s, int st)
{
    if (gzclose_r((gzFile)s->gz) == Z_BUF_ERROR && st == ST_OK)
        st = cli_fail("%s: cannot read: unexpected end of file", s->path);
    s->gz = NULL;
    return st;
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

/* ---- binary values ---- */

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

static double value(const data_binary *t, const unsigned char *p)
{
    uint64_t bits = 0;
    for (size_t i = 0; i < t->size; i++)
        bits |= (uint64_t)p[t->big ? t->size - 1 - i : i] << (8 * i);
    int shift = 64 - 8 * (int)t->size;
    switch (t->kind) {
    case 'f':
        if (t->size == 4) {
            uint32_t b32 = (uint32_t)bits;
            float f;
            memcpy(&f, &b32, sizeof f);
            return f;
        } else {
            double v;
            memcpy(&v, &bits, sizeof v);
            return v;
        }
    case 'i': /* sign-extend through the top bits */
        return (double)((int64_t)(bits << shift) >> shift);
    default: /* 'u', 'b' */
        return (double)bits;
    }
}

/* Converts the `n` values at `raw`, values [done, done + n) in the file's
 * order (Fortran order stores column after column). */
static int convert(dataset *d, const data_binary *t, const unsigned char *raw,
                   size_t n, size_t done)
{
    for (size_t i = 0; i < n; i++) {
        size_t at = done + i;
        double v = value(t, raw + i * t->size);
        d->x[at] = (float)v;
        if (!isfinite(d->x[at])) {
            char where[512];
            data_where(d, t->fortran ? at % d->rows : at / d->cols,
                       t->fortran ? at / d->rows : at % d->cols, where,
                       sizeof where);
            return cli_fail("%s: %g is not a finite float", where, v);
        }
    }
    return ST_OK;
}

int data_read_binary(dataset *d, data_stream *s, const data_binary *type,
                     size_t *done)
{
    enum { CHUNK = 1 << 16 }; /* bytes, a multiple of every value width */
    unsigned char chunk[CHUNK];
    size_t count = d->rows * d->cols, width = type->size;
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
            st = convert(d, type, chunk, n, *done);
        *done += n;
    } while (st == ST_OK && got == want && *done < count);
    return st;
}

/* ---- the data set ---- */

void data_free_text(dataset *d)
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
    data_free_text(d);
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
