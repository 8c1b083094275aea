/* SPDX-License-Identifier: MIT */
/*
 * IDX files, the format of MNIST and Fashion-MNIST: two zero bytes, a type
 * byte, the number of dimensions, each dimension as a big-endian u32, then
 * the values in row-major order, big-endian. The first dimension counts
 * samples; the others are flattened into one row per sample (28x28 images
 * become 784 inputs). The header's sizes are checked against the bytes
 * present before anything is allocated, so a corrupt header cannot ask for
 * more memory than the file's own size suggests.
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
static int read_shape(dataset *d, const unsigned char *buf, size_t len,
                      size_t *count)
{
    size_t ndim = buf[3];
    if (len < 4 + 4 * ndim)
        return cli_fail("%s: truncated IDX header (%zu dimensions need %zu "
                        "bytes, the file has %zu)", d->path, ndim,
                        4 + 4 * ndim, len);
    size_t rows = (size_t)be(buf + 4, 4), cols = 1;
    for (size_t k = 1; k < ndim; k++) {
        size_t dim = (size_t)be(buf + 4 + 4 * k, 4);
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

int idx_parse(dataset *d, const unsigned char *buf, size_t len)
{
    size_t count = 0, width = type_width(buf[2]);
    int st = read_shape(d, buf, len, &count);
    if (st != ST_OK)
        return st;
    size_t start = 4 + 4 * (size_t)buf[3], have = (len - start) / width;
    if (have < count)
        return cli_fail("%s: truncated: the IDX header promises %zu x %zu "
                        "values, the file holds %zu", d->path, d->rows,
                        d->cols, have);
    if (len - start != count * width)
        return cli_fail("%s: %zu bytes after the %zu x %zu values the IDX "
                        "header promises", d->path,
                        len - start - count * width, d->rows, d->cols);
    d->x = malloc(count * sizeof *d->x);
    if (!d->x)
        return cli_fail("%s: out of memory for %zu values", d->path, count);
    for (size_t i = 0; i < count; i++) {
        double v = value(buf[2], buf + start + i * width);
        d->x[i] = (float)v;
        if (!isfinite(d->x[i])) {
            char where[512];
            data_where(d, i / d->cols, i % d->cols, where, sizeof where);
            return cli_fail("%s: %g is not a finite float", where, v);
        }
    }
    return ST_OK;
}
