/* SPDX-License-Identifier: MIT */
/*
 * CSV tables as people write them (RFC 4180 and its dialects): fields
 * separated by ',', ';' or tab (detected from the first line, or given),
 * quoted fields holding the delimiter, quotes ("") or line breaks, LF, CRLF
 * or CR line endings, a UTF-8 byte order mark, an optional header line,
 * blank lines and lines starting with '#' skipped, cells trimmed. Every
 * value must be a finite number, but for the label column, whose cells are
 * also kept as text (class names may be words), and the --ignore'd
 * columns, which are not read. A missing value (an empty cell, NA, N/A,
 * NaN, null, ?) stops the load with its line and column, or with --na drop
 * skips its row.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "formats.h"

/* Why a cell is not a value. */
enum cell_error { CELL_OK, CELL_MISSING, CELL_NOT_NUMBER, CELL_NOT_FINITE };

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

/* The cells that stand for a missing value, besides the empty cell. */
static int is_missing(const char *cell)
{
    static const char *const tokens[] = {"NA",   "N/A",  "NaN", "nan", "NAN",
                                         "null", "NULL", "?",   "-"};
    if (!*cell)
        return 1;
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
        if (strcmp(cell, tokens[i]) == 0)
            return 1;
    return 0;
}

static enum cell_error parse_cell(const char *cell, float *out)
{
    double v;
    int number = csv_number(cell, &v);
    /* ERANGE on underflow still gives a usable tiny number or zero */
    if (number && isfinite(v) && isfinite((float)v)) {
        *out = (float)v;
        return CELL_OK;
    }
    if (is_missing(cell))
        return CELL_MISSING;
    return number ? CELL_NOT_FINITE : CELL_NOT_NUMBER;
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
                        const char *name, const char *cell,
                        enum cell_error e)
{
    char shown[40], named[80] = "";
    quote(cell, shown, sizeof shown);
    if (name) {
        char n[40];
        quote(name, n, sizeof n);
        snprintf(named, sizeof named, " in column '%s'", n);
    }
    switch (e) {
    case CELL_MISSING:
        if (!*cell)
            return cli_fail("%s:%zu:%zu: empty cell%s, expected a number "
                            "(--na drop skips rows with missing values)",
                            d->path, line, col, named);
        return cli_fail("%s:%zu:%zu: '%s'%s is a missing value (--na drop "
                        "skips rows with missing values)", d->path, line, col,
                        shown, named);
    case CELL_NOT_FINITE:
        return cli_fail("%s:%zu:%zu: '%s' is not a finite number (NaN or "
                        "infinity, or too large for a float)", d->path, line,
                        col, shown);
    default:
        return cli_fail("%s:%zu:%zu: '%s' is not a number", d->path, line,
                        col, shown);
    }
}

/* Whether c is a blank around a cell: spaces, and tabs unless they are
 * the delimiter. */
static int is_blank(char c, char delim)
{
    return c == ' ' || (c == '\t' && delim != '\t') || c == '\r';
}

/* Reads one cell from p, RFC 4180 style: a quoted cell may hold the
 * delimiter, line breaks and doubled quotes, which are undone in place.
 * Blanks around the cell are trimmed (not inside quotes). Returns where
 * the cell stops: at the delimiter or the end of the record. */
static char *read_cell(char *p, char delim, char **cell)
{
    while (is_blank(*p, delim))
        p++;
    char *w = p, *kept = p; /* kept: the end of quoted text, never trimmed */
    *cell = p;
    if (*p == '"') {
        for (p++;;) {
            if (*p == '"' && p[1] == '"') {
                *w++ = '"';
                p += 2;
            } else if (*p == '"' || *p == '\0') {
                p += *p == '"';
                break;
            } else {
                *w++ = *p++;
            }
        }
        kept = w;
        while (*p && *p != delim) /* text after the closing quote */
            *w++ = *p++;
    } else {
        char *stop = strchr(p, delim);
        p = w = stop ? stop : p + strlen(p);
    }
    while (w > kept && is_blank(w[-1], delim))
        w--;
    if (w < p || *p == '\0')
        *w = '\0'; /* at p when p is the end: the same NUL */
    return p;
}

/* Splits a record into at most `cap` cells; returns the number of cells
 * the record has (which may exceed `cap`). */
static size_t split(char *record, char delim, char **cells, size_t cap)
{
    size_t n = 0;
    for (char *p = record;; n++) {
        char *cell;
        p = read_cell(p, delim, &cell);
        int last = *p != delim;
        *p = '\0'; /* the delimiter; cells[] may point just before it */
        if (n < cap)
            cells[n] = cell;
        if (last)
            return n + 1;
        p++;
    }
}

/* The delimiter of a file whose first record is `record`: of ',', ';' and
 * tab, the one that appears most often outside quotes (',' on a tie). */
static char detect_delimiter(const char *record)
{
    static const char candidates[] = {',', ';', '\t'};
    size_t count[3] = {0, 0, 0};
    int quoted = 0;
    for (const char *p = record; *p; p++) {
        quoted ^= *p == '"';
        for (int k = 0; k < 3 && !quoted; k++)
            count[k] += *p == candidates[k];
    }
    int best = 0;
    for (int k = 1; k < 3; k++)
        if (count[k] > count[best])
            best = k;
    return candidates[best];
}

static int is_skipped(const char *line)
{
    line += strspn(line, " \t\r");
    return *line == '\0' || *line == '#';
}

/* ---- Interning the label column's cells ---- */

/* The distinct texts of a column, with an open-addressing hash table of
 * their indices + 1 (0: a free slot). */
typedef struct intern {
    char **s;
    size_t n, cap;
    uint32_t *slot;
    size_t n_slots; /* a power of two, more than twice n */
} intern;

static size_t hash(const char *s)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return (size_t)h;
}

static int rehash(intern *t)
{
    size_t n_slots = t->n_slots ? 2 * t->n_slots : 64;
    uint32_t *slot = calloc(n_slots, sizeof *slot);
    if (!slot)
        return cli_fail("out of memory");
    for (size_t i = 0; i < t->n; i++) {
        size_t k = hash(t->s[i]) & (n_slots - 1);
        while (slot[k])
            k = (k + 1) & (n_slots - 1);
        slot[k] = (uint32_t)(i + 1);
    }
    free(t->slot);
    t->slot = slot;
    t->n_slots = n_slots;
    return ST_OK;
}

/* The index of `cell` among the distinct texts, adding it if new. */
static int intern_add(intern *t, const char *cell, uint32_t *id)
{
    if (2 * (t->n + 1) > t->n_slots && rehash(t) != ST_OK)
        return ST_FAIL;
    size_t k = hash(cell) & (t->n_slots - 1);
    for (; t->slot[k]; k = (k + 1) & (t->n_slots - 1))
        if (strcmp(t->s[t->slot[k] - 1], cell) == 0) {
            *id = t->slot[k] - 1;
            return ST_OK;
        }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **s = cap < UINT32_MAX ? realloc(t->s, cap * sizeof *s) : NULL;
        if (!s)
            return cli_fail("out of memory for %zu distinct labels", t->n);
        t->s = s;
        t->cap = cap;
    }
    if (!(t->s[t->n] = strdup(cell)))
        return cli_fail("out of memory");
    t->slot[k] = (uint32_t)(t->n + 1);
    *id = (uint32_t)t->n++;
    return ST_OK;
}

/* ---- The table ---- */

/* What the parser does with a column of the file. */
enum role { ROLE_NUMBER, ROLE_TEXT, ROLE_SKIP };

/* Parser state between records. */
typedef struct parser {
    dataset *d;
    const csv_options *opt;
    char delim;
    char **cells;      /* width + 1 slots: one more shows a long line */
    size_t width;      /* cells per record in the file; 0 before the first */
    char *first;       /* the first record, while its kind is undecided */
    size_t first_line; /* its line number, for messages */
    unsigned char *role; /* per file column, an enum role */
    size_t text_col;   /* the file column of ROLE_TEXT, or width */
    size_t row_cap;    /* rows d->x has room for */
    intern text;
} parser;

/* How many columns the header names `name`: the first two in at[]. */
static size_t columns_named(const parser *ps, char **names, const char *name,
                            size_t at[2])
{
    size_t found = 0;
    for (size_t j = 0; names && j < ps->width; j++)
        if (strcmp(names[j], name) == 0 && found++ < 2)
            at[found - 1] = j;
    return found;
}

static int duplicate_name(const parser *ps, const char *option,
                          const char *spec, size_t found, const size_t at[2])
{
    return cli_fail("%s %s: %s has %zu columns of that name (%zu and %zu, "
                    "counting from 0)", option, spec, ps->d->path, found,
                    at[0], at[1]);
}

/* The file column `spec` names (a header name, or a 0-based index). */
static int resolve(const parser *ps, char **names, const char *option,
                   const char *spec, size_t *col)
{
    size_t at[2] = {0, 0}, found = columns_named(ps, names, spec, at);
    if (found > 1)
        return duplicate_name(ps, option, spec, found, at);
    if (found == 1) {
        *col = at[0];
        return ST_OK;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(spec, &end, 10);
    if (*spec && !*end && !errno && !strchr(spec, '-') && v < ps->width) {
        *col = (size_t)v;
        return ST_OK;
    }
    if (names)
        return cli_usage("%s %s: %s has no column of that name, and indices "
                         "run 0..%zu", option, spec, ps->d->path,
                         ps->width - 1);
    return cli_usage("%s %s: %s has no header, so columns are 0-based "
                     "indices in 0..%zu", option, spec, ps->d->path,
                     ps->width - 1);
}

/* --ignore: the listed columns are skipped. */
static int ignore_columns(parser *ps, char **names)
{
    const char *list = ps->opt->ignore;
    while (list && *list) {
        size_t len = strcspn(list, ","), col = ps->width, at[2];
        char *spec = strndup(list, len);
        int st = spec ? ST_OK : cli_fail("out of memory");
        if (st == ST_OK && (!ps->opt->ignore_absent ||
                            columns_named(ps, names, spec, at)))
            st = resolve(ps, names, "--ignore", spec, &col);
        free(spec);
        if (st != ST_OK)
            return st;
        if (col < ps->width)
            ps->role[col] = ROLE_SKIP;
        list += len + (list[len] == ',');
    }
    return ST_OK;
}

/* The column kept as text: --label, or the model's label column when the
 * header has it, or the last column read. */
static int choose_text_column(parser *ps, char **names)
{
    const csv_options *opt = ps->opt;
    size_t col = ps->width;
    if (opt->no_label)
        return ST_OK;
    if (opt->label) {
        int st = resolve(ps, names, "--label", opt->label, &col);
        if (st != ST_OK)
            return st;
        if (ps->role[col] == ROLE_SKIP)
            return cli_usage("--label %s is also given to --ignore",
                             opt->label);
    } else if (opt->label_name && names) {
        size_t at[2] = {0, 0};
        size_t found = columns_named(ps, names, opt->label_name, at);
        if (found > 1)
            return duplicate_name(ps, "the model's label column",
                                  opt->label_name, found, at);
        if (found == 1)
            col = at[0];
    }
    for (size_t j = ps->width; col == ps->width && j-- > 0;)
        if (ps->role[j] != ROLE_SKIP)
            col = j;
    if (col < ps->width)
        ps->role[col] = ROLE_TEXT;
    ps->text_col = col;
    return ST_OK;
}

/* The roles of the columns, then the table's columns: their file columns
 * and (with a header) names. */
static int begin_table(parser *ps, char **names)
{
    dataset *d = ps->d;
    ps->role = calloc(ps->width, 1);
    if (!ps->role)
        return cli_fail("out of memory");
    int st = ignore_columns(ps, names);
    if (st == ST_OK)
        st = choose_text_column(ps, names);
    if (st != ST_OK)
        return st;
    for (size_t j = 0; j < ps->width; j++)
        d->cols += ps->role[j] != ROLE_SKIP;
    if (d->cols == 0)
        return cli_fail("%s: every column is ignored", d->path);
    d->column = malloc(d->cols * sizeof *d->column);
    d->names = names ? calloc(d->cols, sizeof *d->names) : NULL;
    if (!d->column || (names && !d->names))
        return cli_fail("%s: out of memory for %zu columns", d->path,
                        ps->width);
    for (size_t j = 0, k = 0; j < ps->width; j++) {
        if (ps->role[j] == ROLE_SKIP)
            continue;
        if (j == ps->text_col)
            d->text_col = k;
        d->column[k] = j + 1;
        if (names && !(d->names[k] = strdup(names[j])))
            return cli_fail("out of memory");
        k++;
    }
    return ST_OK;
}

/* Room for one more row: the rows and their line numbers grow by doubling
 * (realloc remaps large blocks rather than copying them). */
static int reserve_row(parser *ps)
{
    dataset *d = ps->d;
    if (d->rows < ps->row_cap)
        return ST_OK;
    size_t grown = ps->row_cap ? 2 * ps->row_cap : 1024;
    if (grown > ((size_t)-1) / sizeof(float) / d->cols ||
        grown > ((size_t)-1) / sizeof(size_t))
        return cli_fail("%s: too large", d->path);
    float *x = realloc(d->x, grown * d->cols * sizeof *x);
    if (x)
        d->x = x;
    size_t *line = x ? realloc(d->line, grown * sizeof *line) : NULL;
    if (line)
        d->line = line;
    uint32_t *id = line && ps->text_col < ps->width
                       ? realloc(d->text_id, grown * sizeof *id)
                       : NULL;
    if (id)
        d->text_id = id;
    if (!x || !line || (ps->text_col < ps->width && !id))
        return cli_fail("%s: out of memory for %zu rows of %zu values",
                        d->path, grown, d->cols);
    ps->row_cap = grown;
    return ST_OK;
}

/* --na drop: whether a column read has a missing value. */
static int has_missing(const parser *ps, char **cells)
{
    for (size_t j = 0; j < ps->width; j++) {
        float v;
        if (ps->role[j] != ROLE_SKIP &&
            parse_cell(cells[j], &v) == CELL_MISSING)
            return 1;
    }
    return 0;
}

static int add_row(parser *ps, char **cells, size_t n, size_t line)
{
    dataset *d = ps->d;
    if (n != ps->width)
        return cli_fail("%s:%zu: %zu value%s, but line %zu has %zu", d->path,
                        line, n, n == 1 ? "" : "s", ps->first_line,
                        ps->width);
    if (ps->opt->na_drop && has_missing(ps, cells)) {
        d->dropped++;
        return ST_OK;
    }
    int st = reserve_row(ps);
    float *row = d->x + d->rows * d->cols;
    for (size_t j = 0, k = 0; st == ST_OK && j < n; j++) {
        if (ps->role[j] == ROLE_SKIP)
            continue;
        enum cell_error e = parse_cell(cells[j], &row[k]);
        if (e == CELL_MISSING || (e != CELL_OK && ps->role[j] == ROLE_NUMBER))
            return cell_failure(d, line, j + 1, d->names ? d->names[k] : NULL,
                                cells[j], e);
        if (ps->role[j] == ROLE_TEXT) {
            /* the cell's text, and the number it holds or NaN */
            st = intern_add(&ps->text, cells[j], &d->text_id[d->rows]);
            if (e != CELL_OK)
                row[k] = NAN;
        }
        k++;
    }
    if (st == ST_OK)
        d->line[d->rows++] = line;
    return st;
}

/* Whether the first record is a header: so forced, or in auto mode when
 * some column holds a word there and a number in the second record (a
 * column of words throughout, like class names, says nothing). */
static int is_header(const parser *ps, char **first, char **second)
{
    csv_header mode = ps->opt->header;
    if (mode != CSV_HEADER_AUTO)
        return mode == CSV_HEADER_YES;
    float v;
    for (size_t j = 0; j < ps->width; j++)
        if (parse_cell(first[j], &v) == CELL_NOT_NUMBER &&
            (!second || parse_cell(second[j], &v) == CELL_OK))
            return 1;
    return 0;
}

/* Decides what the first record is, given the second (or NULL at the end
 * of the file), and sets up the table. */
static int decide(parser *ps, char **second)
{
    char **first = malloc((ps->width + 1) * sizeof *first);
    if (!first)
        return cli_fail("out of memory");
    size_t n = split(ps->first, ps->delim, first, ps->width + 1);
    int header = is_header(ps, first, second);
    int st = begin_table(ps, header ? first : NULL);
    if (st == ST_OK && !header)
        st = add_row(ps, first, n, ps->first_line);
    free(first);
    free(ps->first);
    ps->first = NULL;
    return st;
}

/* The first record fixes the delimiter and the width; it waits for the
 * second to tell whether it is a header. */
static int first_record(parser *ps, char *record, size_t number)
{
    if (strncmp(record, "\xEF\xBB\xBF", 3) == 0) /* UTF-8 byte order mark */
        record += 3;
    ps->delim = ps->opt->delimiter ? ps->opt->delimiter
                                   : detect_delimiter(record);
    ps->first = strdup(record);
    ps->width = ps->first ? split(record, ps->delim, NULL, 0) : 0;
    ps->cells = ps->width ? malloc((ps->width + 1) * sizeof *ps->cells) : NULL;
    if (!ps->cells)
        return cli_fail("out of memory");
    ps->first_line = number;
    ps->text_col = ps->width;
    return ST_OK;
}

static int parse_record(parser *ps, char *record, size_t number)
{
    if (is_skipped(record))
        return ST_OK;
    if (!ps->width)
        return first_record(ps, record, number);
    size_t n = split(record, ps->delim, ps->cells, ps->width + 1);
    int st = ST_OK;
    if (ps->first)
        st = decide(ps, n == ps->width ? ps->cells : NULL);
    return st == ST_OK ? add_row(ps, ps->cells, n, number) : st;
}

/* The newline that ends the record at p: the first one outside quotes;
 * NULL when the text ends inside the record. *lines receives the line
 * breaks inside quotes. */
static char *record_end(char *p, char *end, size_t *lines)
{
    int quoted = 0;
    *lines = 0;
    for (;;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return NULL;
        for (char *q = memchr(p, '"', (size_t)(nl - p)); q;
             q = memchr(q + 1, '"', (size_t)(nl - q - 1)))
            quoted = !quoted;
        if (!quoted)
            return nl;
        ++*lines;
        p = nl + 1;
    }
}

/* Parses the complete records of text[0 .. *len), numbering their lines
 * from *line, and moves what follows the last one to the front. */
static int parse_lines(parser *ps, char *text, size_t *len, size_t *line)
{
    char *p = text, *end = text + *len, *nl;
    size_t inner;
    int st = ST_OK;
    while (st == ST_OK && (nl = record_end(p, end, &inner))) {
        *nl = '\0';
        st = parse_record(ps, p, *line);
        *line += 1 + inner;
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
    if (d->text_id) {
        uint32_t *id = realloc(d->text_id, d->rows * sizeof *id);
        d->text_id = id ? id : d->text_id;
    }
}

/* Whether the text's lines end in CR alone (old Mac files): more lone CRs
 * than LFs (a quoted cell may hold a line feed). */
static int cr_line_ends(const char *text, size_t n)
{
    size_t lone_cr = 0, lf = 0;
    for (size_t i = 0; i < n; i++) {
        lf += text[i] == '\n';
        lone_cr += text[i] == '\r' && (i + 1 == n || text[i + 1] != '\n');
    }
    return lone_cr > lf;
}

/* Bytes read at a time. */
#define CSV_CHUNK (1u << 16)

/* Appends the next chunk of the stream to text[0 .. len), growing the
 * buffer when the carried partial record leaves no room for a chunk (a
 * record longer than one); *got is 0 at the end of the file. Line ends
 * of a CR-only file (*cr_only, decided on the first chunk) become LF. */
static int read_chunk(data_stream *s, char **text, size_t *cap, size_t len,
                      size_t *got, int *cr_only)
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
    char *chunk = *text + len;
    int st = data_read(s, chunk, CSV_CHUNK, got);
    if (st == ST_OK && memchr(chunk, '\0', *got))
        st = cli_fail("%s: not a CSV, IDX or .npy file (it holds binary "
                      "data that is none of these)", s->path);
    if (*cr_only < 0)
        *cr_only = cr_line_ends(chunk, *got);
    for (char *p = chunk; *cr_only && (p = memchr(p, '\r', *got - (size_t)(p - chunk)));)
        *p++ = '\n';
    return st;
}

int csv_read(dataset *d, data_stream *s, const csv_options *opt)
{
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.d = d;
    ps.opt = opt;
    size_t cap = 2 * CSV_CHUNK, len = 0, got = 0, line = 1;
    int cr_only = -1;
    char *text = malloc(cap + 1); /* + 1: the last line's terminator */
    int st = text ? ST_OK : cli_fail("%s: out of memory", d->path);
    while (st == ST_OK) {
        st = read_chunk(s, &text, &cap, len, &got, &cr_only);
        len += got;
        if (st == ST_OK)
            st = parse_lines(&ps, text, &len, &line);
        if (got < CSV_CHUNK)
            break;
    }
    if (st == ST_OK && len > 0) { /* the last record, without a newline */
        text[len] = '\0';
        st = parse_record(&ps, text, line);
    }
    if (st == ST_OK && ps.first)
        st = decide(&ps, NULL);
    free(text);
    free(ps.cells);
    free(ps.first);
    free(ps.role);
    free(ps.text.slot);
    d->text = ps.text.s; /* owned by d from here, even on failure */
    d->n_text = ps.text.n;
    if (st == ST_OK && d->rows == 0)
        st = cli_fail("%s: no data rows%s", d->path,
                      d->dropped ? " left after --na drop" : "");
    if (st == ST_OK)
        fit_rows(d);
    return st;
}
