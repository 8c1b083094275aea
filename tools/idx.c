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
#include <stdint.h>

#include "cli.h"
#include "formats.h"

static uint64_t be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* How an IDX type code stores its values (data_load checked the code). */
static data_binary binary_type(unsigned char type)
{
    switch (type) {
    case 0x08: /* unsigned byte */
        return (data_binary){'u', 1, 1, 0};
    case 0x09: /* signed byte */
        return (data_binary){'i', 1, 1, 0};
    case 0x0B: /* short */
        return (data_binary){'i', 2, 1, 0};
    case 0x0C: /* int */
        return (data_binary){'i', 4, 1, 0};
    case 0x0D: /* float */
        return (data_binary){'f', 4, 1, 0};
    default: /* 0x0E, double */
        return (data_binary){'f', 8, 1, 0};
    }
}

/* Reads the dimensions into d->rows and d->cols. */
static int read_shape(dataset *d, data_stream *s)
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
    data_binary type = binary_type(s->head[2]);
    unsigned char rest[1 << 12];
    size_t done = 0, extra = 0;
    int st = read_shape(d, s);
    if (st == ST_OK)
        st = data_read_binary(d, s, &type, &done);
    if (st == ST_OK && done < d->rows * d->cols)
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
