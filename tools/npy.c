/* SPDX-License-Identifier: MIT */
/*
 * NumPy .npy files (format versions 1 to 3): the magic "\x93NUMPY", a
 * version, a little-endian header length and a Python dict literal giving
 * 'descr' (dtype), 'fortran_order' and 'shape', then the raw values.
 * Numeric dtypes of either byte order are read (float 4/8 bytes, signed and
 * unsigned integers of 1 to 8 bytes, bool); the first axis counts samples
 * and the others are flattened into one row per sample. Values are
 * converted as they are read, into an array that grows with the values
 * present (data_read_binary), as the IDX reader does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "formats.h"
#include "npy_header.h"

static int supported(const data_binary *t)
{
    switch (t->kind) {
    case 'f':
        return t->size == 4 || t->size == 8;
    case 'i':
    case 'u':
        return t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8;
    case 'b':
        return t->size == 1;
    default:
        return 0;
    }
}

/* A descr such as '<f4' ('f4' and '=f4': this host's order, '|u1': no
 * order): byte order, kind, size. */
static int parse_descr(const char *path, const char *descr, data_binary *t)
{
    static const unsigned one = 1;
    int host_big = *(const unsigned char *)&one == 0;
    const char *p = descr;
    t->big = host_big;
    if (*p && strchr("<>|=", *p)) {
        t->big = *p == '>' || (*p == '=' && host_big);
        p++;
    }
    int ok = 0;
    if (strlen(p) >= 2 && p[1] >= '1' && p[1] <= '9') {
        char *end;
        t->kind = p[0];
        t->size = (size_t)strtoul(p + 1, &end, 10);
        ok = !*end && supported(t);
    }
    if (!ok)
        return cli_fail("%s: dtype %s is not supported (use float32, "
                        "float64, an integer type or bool)", path,
                        descr[0] ? descr : "(a structured or unknown one)");
    return ST_OK;
}

/* The longest header read: numpy refuses longer ones (UTF-8 of v3 may
 * take up to 4 bytes a character). */
#define MAX_HEADER (4u * NPY_MAX_HEADER)

/* Reads the magic, version, length and dict from the stream into *h, and
 * the dtype and order into *type. */
static int read_header(dataset *d, data_stream *s, npy_header *h,
                       data_binary *type)
{
    unsigned char pre[12];
    size_t got = 0;
    int st = data_read(s, pre, 10, &got);
    if (st != ST_OK)
        return st;
    if (got < 10 || pre[6] < 1 || pre[6] > 3)
        return cli_fail("%s: .npy version %d is not supported", d->path,
                        got < 10 ? -1 : pre[6]);
    size_t hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    if (pre[6] > 1) {
        if ((st = data_read(s, pre + 10, 2, &got)) != ST_OK)
            return st;
        if (got < 2)
            return cli_fail("%s: truncated .npy header", d->path);
        hlen |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    if (hlen > MAX_HEADER)
        return cli_fail("%s: the .npy header claims %zu bytes (at most %u "
                        "are read)", d->path, hlen, MAX_HEADER);
    char *dict = malloc(hlen + 1);
    if (!dict)
        return cli_fail("out of memory");
    st = data_read(s, dict, hlen, &got);
    if (st == ST_OK && got < hlen)
        st = cli_fail("%s: truncated .npy header", d->path);
    char why[160];
    if (st == ST_OK && !npy_parse_header(dict, hlen, pre[6], h, why,
                                         sizeof why))
        st = cli_fail("%s: %s", d->path, why);
    free(dict);
    if (st != ST_OK)
        return st;
    type->fortran = h->fortran;
    return parse_descr(d->path, h->descr, type);
}

/* The rows (the first axis) and columns (the others, flattened). */
static int set_shape(dataset *d, const npy_header *h)
{
    for (size_t k = 0; k < h->ndim; k++)
        if (h->dims[k] > SIZE_MAX)
            return cli_fail("%s: shape overflows", d->path);
    if (h->ndim == 0)
        return cli_fail("%s: the array is a scalar; it needs one row per "
                        "sample", d->path);
    if (h->fortran && h->ndim > 2)
        return cli_fail("%s: Fortran-ordered arrays of more than 2 "
                        "dimensions are not supported", d->path);
    d->rows = (size_t)h->dims[0];
    d->cols = 1;
    for (size_t k = 1; k < h->ndim; k++) {
        if (h->dims[k] != 0 && d->cols > SIZE_MAX / h->dims[k])
            return cli_fail("%s: shape overflows", d->path);
        d->cols *= (size_t)h->dims[k];
    }
    if (d->rows == 0 || d->cols == 0)
        return cli_fail("%s: the array is empty", d->path);
    if (d->cols > SIZE_MAX / d->rows)
        return cli_fail("%s: shape overflows", d->path);
    return ST_OK;
}

/* A Fortran-ordered (column after column) matrix into rows, in place: the
 * transposition's permutation is followed cycle by cycle, with a bit per
 * value to mark those already in place (1/32 of the floats; a second array
 * would double them while the file loads). */
static int to_rows(dataset *d)
{
    size_t n = d->rows * d->cols;
    uint64_t *placed = calloc(n / 64 + 1, sizeof *placed);
    if (!placed)
        return cli_fail("%s: out of memory for %zu values", d->path, n);
    /* the first and last values stay where they are */
    for (size_t start = 1; start + 1 < n; start++) {
        if (placed[start / 64] >> (start % 64) & 1)
            continue;
        size_t at = start;
        float carried = d->x[at];
        do { /* column-major index at = c rows + r goes to r cols + c */
            size_t to = (at % d->rows) * d->cols + at / d->rows;
            float displaced = d->x[to];
            d->x[to] = carried;
            placed[to / 64] |= (uint64_t)1 << (to % 64);
            carried = displaced;
            at = to;
        } while (at != start);
    }
    free(placed);
    return ST_OK;
}

int npy_read(dataset *d, data_stream *s)
{
    npy_header h;
    data_binary type = {0, 0, 0, 0};
    size_t done = 0;
    int st = read_header(d, s, &h, &type);
    if (st == ST_OK)
        st = set_shape(d, &h);
    if (st == ST_OK)
        st = data_read_binary(d, s, &type, &done);
    if (st == ST_OK && done < d->rows * d->cols)
        return cli_fail("%s: truncated: the shape needs %zu values, the "
                        "file holds %zu", d->path, d->rows * d->cols, done);
    if (st == ST_OK && type.fortran && d->cols > 1)
        st = to_rows(d);
    return st;
}
