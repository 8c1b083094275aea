/* SPDX-License-Identifier: MIT */
/*
 * CSV tables of numbers: comma-separated, one sample per line, an optional
 * header line (taken as one when any of its cells is not a number), blank
 * lines and lines starting with '#' skipped, CRLF accepted, cells trimmed
 * and unquoted ("1.5" is 1.5). Quoted cells may not contain commas: the
 * tool reads numeric tables, not general CSV. Every value must be a finite
 * number; the first one that is not stops the load with its line and
 * column.
 *
 * The file is parsed as it decompresses, a line at a time, into a table
 * that grows with its rows: its text is never held whole beside its floats
 * (text is several times larger), so a training run's peak memory is the
 * data as floats and a chunk (docs/performance.md, "Memory").
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data.h"

/* Why a cell is not a value. */
enum cell_error { CELL_OK, CELL_EMPTY, CELL_NOT_NUMBER, CELL_NOT_FINITE };

/* Trims blanks and one pair of double quotes from the cell of `n` bytes at
 * `s`, in place (the cell's length is known: no strlen per cell). */
static char *trim(char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    s[n] = '\0';
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

/* The powers of ten up to 10^15: exact doubles. */
static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                     1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15};

/* A plain decimal of at most 15 digits ("-12", "0.5", "+.25"; no
 * exponent) as the integer of its digits over a power of ten: both are
 * exact doubles, so the division's one rounding gives the correctly
 * rounded value that strtod gives (Clinger's fast path), at a fraction of
 * its cost. Returns 0, for strtod, on anything else. */
static int parse_plain_decimal(const char *s, double *out)
{
    int negative = *s == '-', point = 0, count = 0, decimals = 0;
    uint64_t digits = 0;
    s += *s == '-' || *s == '+';
    for (;; s++) {
        if (*s >= '0' && *s <= '9') {
            if (++count > 15)
                return 0;
            digits = 10 * digits + (uint64_t)(*s - '0');
            decimals += point;
        } else if (*s == '.' && !point) {
            point = 1;
        } else {
            break;
        }
    }
    if (*s || count == 0)
        return 0;
    double v = (double)digits / exact_pow10[decimals];
    *out = negative ? -v : v;
    return 1;
}

int csv_number(const char *cell, double *value)
{
    if (parse_plain_decimal(cell, value))
        return 1;
    char *end;
    errno = 0;
    *value = strtod(cell, &end);
    return end != cell && !*end;
}

static enum cell_error parse_cell(const char *cell, float *out)
{
    double v;
    if (!*cell)
        return CELL_EMPTY;
    if (!csv_number(cell, &v))
        return CELL_NOT_NUMBER;
    /* ERANGE on underflow still gives a usable tiny number or zero */
    if (!isfinite(v) || !isfinite((float)v))
        return CELL_NOT_FINITE;
    *out = (float)v;
    return CELL_OK;
}

/* A cell for a message: printable, at most ~30 characters. */
static void quote(const char *cell, char *buf, size_t cap)
{
    size_t k = 0;
    for (const char *p = cell; *p && k + 4 < cap && k < 30; p++)
        buf[k++] = (*p >= 32 && *p < 127) ? *p : '?';
    if (k >= 30 && cell[k])
        buf[k++] = '.', buf[k++] = '.', buf[k++] = '.';
    buf[k] = '\0';
}

static int cell_failure(const dataset *d, size_t line, size_t col,
                        const char *cell, enum cell_error e)
{
    char shown[40];
    quote(cell, shown, sizeof shown);
    switch (e) {
    case CELL_EMPTY:
        return cli_fail("%s:%zu:%zu: empty cell, expected a number", d->path,
                        line, col);
    case CELL_NOT_FINITE:
        return cli_fail("%s:%zu:%zu: '%s' is not a finite number (NaN or "
                        "infinity, or too large for a float)", d->path, line,
                        col, shown);
    default:
        return cli_fail("%s:%zu:%zu: '%s' is not a number", d->path, line,
                        col, shown);
    }
}

/* Splits a line at commas into at most `cap` trimmed cells; returns the
 * number of cells the line has (which may exceed `cap`). */
static size_t split(char *line, char **cells, size_t cap)
{
    size_t n = 0;
    for (char *p = line;; n++) {
        char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (n < cap)
            cells[n] = trim(p, len);
        if (!comma)
            return n + 1;
        p = comma + 1;
    }
}

static int is_skipped(const char *line)
{
    line += strspn(line, " \t\r");
    return *line == '\0' || *line == '#';
}

/* Whether the first line is a header, under `mode`. */
static int is_header(char **cells, size_t n, csv_header mode)
{
    if (mode != CSV_HEADER_AUTO)
        return mode == CSV_HEADER_YES;
    float v;
    for (size_t j = 0; j < n; j++)
        if (parse_cell(cells[j], &v) == CELL_NOT_NUMBER)
            return 1;
    return 0;
}

static int keep_names(dataset *d, char **cells)
{
    d->names = calloc(d->cols, sizeof *d->names);
    if (!d->names)
        return cli_fail("out of memory");
    for (size_t j = 0; j < d->cols; j++)
        if (!(d->names[j] = strdup(cells[j])))
            return cli_fail("out of memory");
    return ST_OK;
}

/* The table's width and column map, from its first line. */
static int begin_table(dataset *d, size_t width)
{
    d->cols = width;
    d->column = malloc(width * sizeof *d->column);
    if (!d->column)
        return cli_fail("%s: out of memory for %zu columns", d->path, width);
    for (size_t j = 0; j < width; j++)
        d->column[j] = j + 1;
    return ST_OK;
}

/* Room for one more row: the rows and their line numbers grow by doubling
 * (realloc remaps large blocks rather than copying them). */
static int reserve_row(dataset *d, size_t *cap)
{
    if (d->rows < *cap)
        return ST_OK;
    size_t grown = *cap ? 2 * *cap : 1024;
    if (grown > ((size_t)-1) / sizeof(float) / d->cols ||
        grown > ((size_t)-1) / sizeof(size_t))
        return cli_fail("%s: too large", d->path);
    float *x = realloc(d->x, grown * d->cols * sizeof *x);
    if (x)
        d->x = x;
    size_t *line = x ? realloc(d->line, grown * sizeof *line) : NULL;
    if (line)
        d->line = line;
    if (!x || !line)
        return cli_fail("%s: out of memory for %zu rows of %zu values",
                        d->path, grown, d->cols);
    *cap = grown;
    return ST_OK;
}

static int add_row(dataset *d, size_t *cap, char **cells, size_t n,
                   size_t line, size_t first_line)
{
    if (n != d->cols)
        return cli_fail("%s:%zu: %zu value%s, but line %zu has %zu", d->path,
                        line, n, n == 1 ? "" : "s", first_line, d->cols);
    int st = reserve_row(d, cap);
    if (st != ST_OK)
        return st;
    float *row = d->x + d->rows * d->cols;
    for (size_t j = 0; j < n; j++) {
        enum cell_error e = parse_cell(cells[j], &row[j]);
        if (e != CELL_OK)
            return cell_failure(d, line, j + 1, cells[j], e);
    }
    d->line[d->rows++] = line;
    return ST_OK;
}

/* Parser state between lines. */
typedef struct parser {
    dataset *d;
    csv_header header;
    char **cells;      /* width + 1 slots: one more shows a long line */
    size_t width;      /* cells per line; 0 before the first line */
    size_t first_line; /* its line number, for messages */
    size_t row_cap;    /* rows d->x has room for */
} parser;

/* The first line fixes the width, and is the header or the first row. */
static int first_line(parser *ps, char *line, size_t number)
{
    char *copy = strdup(line);
    ps->width = copy ? split(copy, NULL, 0) : 0;
    free(copy);
    ps->cells = ps->width ? malloc((ps->width + 1) * sizeof *ps->cells) : NULL;
    if (!ps->cells)
        return cli_fail("out of memory");
    ps->first_line = number;
    size_t n = split(line, ps->cells, ps->width + 1);
    int st = begin_table(ps->d, ps->width);
    if (st != ST_OK)
        return st;
    if (is_header(ps->cells, n, ps->header))
        return keep_names(ps->d, ps->cells);
    return add_row(ps->d, &ps->row_cap, ps->cells, n, number, number);
}

static int parse_line(parser *ps, char *line, size_t number)
{
    if (is_skipped(line))
        return ST_OK;
    if (!ps->width)
        return first_line(ps, line, number);
    size_t n = split(line, ps->cells, ps->width + 1);
    return add_row(ps->d, &ps->row_cap, ps->cells, n, number,
                   ps->first_line);
}

/* Parses the complete lines of text[0 .. *len), numbering them from
 * *line, and moves what follows the last newline to the front. */
static int parse_lines(parser *ps, char *text, size_t *len, size_t *line)
{
    char *p = text, *end = text + *len, *nl;
    int st = ST_OK;
    while (st == ST_OK && (nl = memchr(p, '\n', (size_t)(end - p)))) {
        *nl = '\0';
        st = parse_line(ps, p, (*line)++);
        p = nl + 1;
    }
    *len = (size_t)(end - p);
    memmove(text, p, *len);
    return st;
}

/* Shrinks the table to its rows: the doubling may have reserved up to
 * twice as many. */
static void fit_rows(dataset *d)
{
    float *x = realloc(d->x, d->rows * d->cols * sizeof *x);
    size_t *line = realloc(d->line, d->rows * sizeof *line);
    d->x = x ? x : d->x;
    d->line = line ? line : d->line;
}

/* Bytes read at a time. */
#define CSV_CHUNK (1u << 16)

/* Appends the next chunk of the stream to text[0 .. len), growing the
 * buffer when the carried partial line leaves no room for a chunk (a line
 * longer than one); *got is 0 at the end of the file. */
static int read_chunk(data_stream *s, char **text, size_t *cap, size_t len,
                      size_t *got)
{
    *got = 0;
    if (*cap - len < CSV_CHUNK) {
        char *grown = realloc(*text, 2 * *cap + 1);
        if (!grown)
            return cli_fail("%s: out of memory for a line of %zu bytes",
                            s->path, len);
        *text = grown;
        *cap *= 2;
    }
    int st = data_read(s, *text + len, CSV_CHUNK, got);
    if (st == ST_OK && memchr(*text + len, '\0', *got))
        st = cli_fail("%s: not a CSV, IDX or .npy file (it holds binary "
                      "data that is none of these)", s->path);
    return st;
}

int csv_read(dataset *d, data_stream *s, csv_header header)
{
    parser ps = {d, header, NULL, 0, 0, 0};
    size_t cap = 2 * CSV_CHUNK, len = 0, got = 0, line = 1;
    char *text = malloc(cap + 1); /* + 1: the last line's terminator */
    int st = text ? ST_OK : cli_fail("%s: out of memory", d->path);
    while (st == ST_OK) {
        st = read_chunk(s, &text, &cap, len, &got);
        len += got;
        if (st == ST_OK)
            st = parse_lines(&ps, text, &len, &line);
        if (got < CSV_CHUNK)
            break;
    }
    if (st == ST_OK && len > 0) { /* the last line, without a newline */
        text[len] = '\0';
        st = parse_line(&ps, text, line);
    }
    free(text);
    free(ps.cells);
    if (st == ST_OK && d->rows == 0)
        st = cli_fail("%s: no data rows", d->path);
    if (st == ST_OK)
        fit_rows(d);
    return st;
}
