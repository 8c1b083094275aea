/* SPDX-License-Identifier: MIT */
/*
 * IDX files, the format of MNIST and Fashion-MNIST: two zero bytes, a type
 * byte, the number of dimensions, each dimension as a big-endian u32, then
 * the values in row-major order, big-endian. The first dimension counts
 * samples; the others are flattened into one row per sample (28x28 images
 * become 784 inputs). Values are converted as they are read, a chunk at a
 * time, into an array that grows with the values actually present, so a
 * corrupt header cannot ask for more memory than the file holds, and the
 * file's bytes are never held whole beside their floats.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data.h"

static uint64_t be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Bytes per value of an IDX type code. */
static size_t type_width(unsigned char type)
{
    switch (type) {
    case 0x08: /* unsigned byte */
    case 0x09: /* signed byte */
        return 1;
    case 0x0B: /* short */
        return 2;
    case 0x0C: /* int */
    case 0x0D: /* float */
        return 4;
    default: /* 0x0E, double */
        return 8;
    }
}

static double value(unsigned char type, const unsigned char *p)
{
    uint64_t bits = be(p, type_width(type));
    switch (type) {
    case 0x08:
        return (double)bits;
    case 0x09:
        return (double)(int8_t)bits;
    case 0x0B:
        return (double)(int16_t)bits;
    case 0x0C:
        return (double)(int32_t)bits;
    case 0x0D: {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        return f;
    }
    default: {
        double v;
        memcpy(&v, &bits, sizeof v);
        return v;
    }
    }
}

/* Reads the dimensions; *count receives the number of values. */
static int read_shape(dataset *d, data_stream *s, size_t *count)
{
    unsigned char head[4 + 4 * 255];
    size_t got = 0;
    int st = data_read(s, head, 4, &got); /* data_load saw these 4 */
    size_t ndim = head[3];
    if (st == ST_OK)
        st = data_read(s, head + 4, 4 * ndim, &got);
    if (st != ST_OK)
        return st;
    if (got < 4 * ndim)
        return cli_fail("%s: truncated IDX header (%zu dimensions need %zu "
                        "bytes, the file has %zu)", d->path, ndim,
                        4 + 4 * ndim, 4 + got);
    size_t rows = (size_t)be(head + 4, 4), cols = 1;
    for (size_t k = 1; k < ndim; k++) {
        size_t dim = (size_t)be(head + 4 + 4 * k, 4);
        if (dim != 0 && cols > SIZE_MAX / dim)
            return cli_fail("%s: IDX dimensions overflow", d->path);
        cols *= dim;
    }
    if (rows == 0 || cols == 0)
        return cli_fail("%s: IDX file holds no values (a dimension is 0)",
                        d->path);
    if (cols > SIZE_MAX / rows)
        return cli_fail("%s: IDX dimensions overflow", d->path);
    d->rows = rows;
    d->cols = cols;
    *count = rows * cols;
    return ST_OK;
}

/* Converts `n` values of the IDX type (*format, the type byte) from
 * `raw`, the values [done, done + n); a data_convert_fn. */
static int convert(dataset *d, const void *format, const unsigned char *raw,
                   size_t n, size_t done)
{
    unsigned char type = *(const unsigned char *)format;
    size_t width = type_width(type);
    for (size_t i = 0; i < n; i++) {
        double v = value(type, raw + i * width);
        float *x = &d->x[done + i];
        *x = (float)v;
        if (!isfinite(*x)) {
            char where[512];
            data_where(d, (done + i) / d->cols, (done + i) % d->cols, where,
                       sizeof where);
            return cli_fail("%s: %g is not a finite float", where, v);
        }
    }
    return ST_OK;
}

/* Bytes left in the stream (all read, none kept). */
static int count_rest(data_stream *s, unsigned char *chunk, size_t cap,
                      size_t *rest)
{
    size_t got = 0;
    *rest = 0;
    do {
        int st = data_read(s, chunk, cap, &got);
        if (st != ST_OK)
            return st;
        *rest += got;
    } while (got == cap);
    return ST_OK;
}

int idx_read(dataset *d, data_stream *s)
{
    unsigned char type = s->head[2], rest[1 << 12];
    size_t count = 0, done = 0, extra = 0;
    int st = read_shape(d, s, &count);
    if (st == ST_OK)
        st = data_read_values(d, s, count, type_width(type), convert, &type,
                              &done);
    if (st == ST_OK && done < count)
        return cli_fail("%s: truncated: the IDX header promises %zu x %zu "
                        "values, the file holds %zu", d->path, d->rows,
                        d->cols, done);
    if (st == ST_OK)
        st = count_rest(s, rest, sizeof rest, &extra);
    if (st == ST_OK && extra)
        return cli_fail("%s: %zu byte%s after the %zu x %zu values the IDX "
                        "header promises", d->path, extra, CLI_S(extra),
                        d->rows, d->cols);
    return st;
}
