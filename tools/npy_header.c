/* SPDX-License-Identifier: MIT */
/*
 * The dict of a .npy header, read as numpy reads it
 * (numpy/lib/format.py, _read_array_header): the text is a Python literal
 * evaluated by ast.literal_eval, so quoting, escapes, adjacent strings,
 * comments, 0x/0o/0b and 1_000 integers, unary signs and, for format
 * versions 1 and 2, Python 2's "3L" all mean what they mean to Python, and
 * a key given twice keeps its last value. Then numpy requires exactly the
 * keys 'descr', 'fortran_order' and 'shape', a bool (True or False, not 1)
 * for 'fortran_order' and a tuple of ints for 'shape'. Whatever numpy
 * refuses is refused here, with numpy's reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "npy_header.h"

typedef enum kind {
    K_STR, K_BYTES, K_INT, K_BOOL, K_NONE, K_FLOAT, K_TUPLE, K_LIST, K_DICT,
    K_SET
} kind;

/* What a literal evaluates to, as far as the header's checks need. */
typedef struct pyval {
    kind kind;
    int hashable;        /* usable as a dict key or set member */
    char str[32];        /* K_STR: the text (first 31 bytes) */
    size_t str_len;      /* its full length */
    int neg;             /* K_INT: negative (zero is not) */
    int big;             /* K_INT: does not fit in 64 bits */
    uint64_t mag;        /* K_INT: magnitude; K_BOOL: 0 or 1 */
    size_t n;            /* K_TUPLE: items */
    int all_ints;        /* K_TUPLE: every item a K_INT */
    int any_neg, any_big;
    uint64_t dims[NPY_MAX_DIMS]; /* K_TUPLE: the first items' values */
} pyval;

typedef struct parser {
    const char *p, *end;
    int old_ints; /* versions 1 and 2: "3L" is 3 (numpy's _filter_header) */
    int depth;
    const char *error; /* the first syntax error */
} parser;

static int fail(parser *ps, const char *why)
{
    if (!ps->error)
        ps->error = why;
    return 0;
}

/* Spaces, newlines, comments and backslash-newline continuations: inside
 * the dict's braces Python ignores them all. */
static void skip_space(parser *ps)
{
    while (ps->p < ps->end) {
        char c = *ps->p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')
            ps->p++;
        else if (c == '#')
            while (ps->p < ps->end && *ps->p != '\n')
                ps->p++;
        else if (c == '\\' && ps->p + 1 < ps->end &&
                 (ps->p[1] == '\n' || ps->p[1] == '\r'))
            ps->p += 2;
        else
            break;
    }
}

static int is_digit_of(char c, int base)
{
    if (base == 16)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
               (c >= 'A' && c <= 'F');
    return c >= '0' && c < '0' + base;
}

static int digit_value(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* Digits of `base` with single underscores between them, into v->mag. */
static int digits(parser *ps, int base, pyval *v)
{
    int any = 0;
    while (ps->p < ps->end) {
        if (*ps->p == '_' && any && ps->p + 1 < ps->end &&
            is_digit_of(ps->p[1], base))
            ps->p++;
        if (!is_digit_of(*ps->p, base))
            break;
        uint64_t d = (uint64_t)digit_value(*ps->p++);
        if (v->mag > (UINT64_MAX - d) / (uint64_t)base)
            v->big = 1;
        v->mag = v->mag * (uint64_t)base + d;
        any = 1;
    }
    return any ? 1 : fail(ps, "a number without digits");
}

static int number(parser *ps, pyval *v)
{
    const char *start = ps->p;
    v->kind = K_INT;
    v->hashable = 1;
    if (*ps->p == '0' && ps->p + 1 < ps->end &&
        strchr("xXoObB", ps->p[1]) != NULL) {
        char b = (char)(ps->p[1] | 0x20);
        ps->p += 2;
        if (ps->p < ps->end && *ps->p == '_')
            ps->p++; /* 0x_1f is Python */
        if (!digits(ps, b == 'x' ? 16 : b == 'o' ? 8 : 2, v))
            return 0;
    } else {
        if (!digits(ps, 10, v))
            return 0;
        int fraction = ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' ||
                                           *ps->p == 'E' || *ps->p == 'j' ||
                                           *ps->p == 'J');
        if (fraction) { /* a float or complex: only its type matters */
            v->kind = K_FLOAT;
            while (ps->p < ps->end &&
                   (is_name_char(*ps->p) || *ps->p == '.' ||
                    ((*ps->p == '+' || *ps->p == '-') &&
                     (ps->p[-1] | 0x20) == 'e')))
                ps->p++;
            return 1;
        }
        /* "03" is a syntax error in Python 3; "00" is zero */
        if (*start == '0' && v->mag != 0)
            return fail(ps, "an integer with a leading zero");
    }
    if (ps->old_ints && ps->p < ps->end && *ps->p == 'L')
        ps->p++;
    if (ps->p < ps->end && is_name_char(*ps->p))
        return fail(ps, "a malformed number");
    return 1;
}

/* A string starts with a quote, or with prefix letters and then one. */
static int starts_string(const parser *ps)
{
    const char *q = ps->p;
    while (q < ps->end && q - ps->p < 2 && strchr("rRuUbB", *q) != NULL)
        q++;
    return q < ps->end && (*q == '\'' || *q == '"');
}

/* Appends character c to the string v (its first 31 bytes are kept). */
static void append(pyval *v, char c)
{
    if (v->str_len < sizeof v->str - 1)
        v->str[v->str_len] = c;
    v->str_len++;
}

/* The escape after a backslash, appended to v; 0 on a syntax error. */
static int escape(parser *ps, pyval *v, int bytes)
{
    char e = *ps->p++, c = e;
    const char *simple = strchr("\\'\"abfnrtv", e);
    if (simple) {
        c = "\\'\"\a\b\f\n\r\t\v"[simple - "\\'\"abfnrtv"];
    } else if (e == 'x' && ps->end - ps->p >= 2 &&
               is_digit_of(ps->p[0], 16) && is_digit_of(ps->p[1], 16)) {
        c = (char)(digit_value(ps->p[0]) * 16 + digit_value(ps->p[1]));
        ps->p += 2;
    } else if (e >= '0' && e <= '7') {
        int o = e - '0';
        for (int k = 0; k < 2 && ps->p < ps->end && *ps->p >= '0' &&
                        *ps->p <= '7'; k++)
            o = o * 8 + (*ps->p++ - '0');
        c = (char)o;
    } else if (e == '\n') {
        return 1; /* a continued line */
    } else if (e == 'x') {
        return fail(ps, "a truncated \\x escape");
    } else if (!bytes && (e == 'u' || e == 'U' || e == 'N')) {
        /* \u, \U and \N name characters a dtype never holds */
        c = '\x7f';
        while (ps->p < ps->end && is_name_char(*ps->p))
            ps->p++;
    } else { /* unknown escapes keep their backslash */
        append(v, '\\');
    }
    append(v, c);
    return 1;
}

/* One quoted string, appended to v (adjacent strings concatenate). */
static int string_part(parser *ps, pyval *v, int *is_bytes)
{
    char prefix[3] = "";
    size_t np = 0;
    while (ps->p < ps->end && np < 2 && strchr("rRuUbB", *ps->p) != NULL)
        prefix[np++] = (char)(*ps->p++ | 0x20);
    prefix[np] = '\0';
    /* Python 3's string prefixes: u, r, b, br, rb */
    static const char *const valid[] = {"", "u", "r", "b", "br", "rb"};
    int known = 0;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        known |= strcmp(prefix, valid[i]) == 0;
    if (!known || ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"'))
        return fail(ps, "a name that is not a literal");
    int raw = strchr(prefix, 'r') != NULL, bytes = strchr(prefix, 'b') != NULL;
    char quote = *ps->p++;
    if (ps->p + 1 < ps->end && ps->p[0] == quote && ps->p[1] == quote)
        return fail(ps, "a triple-quoted string");
    *is_bytes = bytes;
    for (;;) {
        if (ps->p >= ps->end || *ps->p == '\n')
            return fail(ps, "an unterminated string");
        char c = *ps->p++;
        if (c == quote)
            return 1;
        if (c == '\\' && !raw && ps->p < ps->end) {
            if (!escape(ps, v, bytes))
                return 0;
        } else {
            append(v, c);
        }
    }
}

static int string(parser *ps, pyval *v)
{
    int first_bytes = -1;
    v->hashable = 1;
    do {
        int is_bytes;
        if (!string_part(ps, v, &is_bytes))
            return 0;
        if (first_bytes >= 0 && is_bytes != first_bytes)
            return fail(ps, "bytes and str concatenated");
        first_bytes = is_bytes;
        skip_space(ps);
    } while (starts_string(ps));
    v->kind = first_bytes ? K_BYTES : K_STR;
    v->str[v->str_len < sizeof v->str ? v->str_len : sizeof v->str - 1] =
        '\0';
    return 1;
}

static int value(parser *ps, pyval *v);

/* Notes `item`, the n-th of the container v. */
static void tally(pyval *v, const pyval *item)
{
    if (item->kind == K_INT && v->n < NPY_MAX_DIMS)
        v->dims[v->n] = item->mag;
    v->n++;
    v->all_ints &= item->kind == K_INT;
    v->any_neg |= item->kind == K_INT && item->neg;
    v->any_big |= item->kind == K_INT && item->big;
    v->hashable &= item->hashable;
}

/* After an item of {...}: a dict's ':' and value, or a set's next item;
 * *dict, -1 until the first item, says which the braces hold. */
static int brace_item(parser *ps, const pyval *item, int *dict)
{
    skip_space(ps);
    int colon = ps->p < ps->end && *ps->p == ':';
    if (*dict >= 0 && *dict != colon)
        return fail(ps, "a dict mixed with a set");
    *dict = colon;
    if (!item->hashable)
        return fail(ps, "an unhashable key");
    if (!colon)
        return 1;
    ps->p++;
    pyval member;
    return value(ps, &member);
}

/* The items of a (tuple), [list] or {set or dict}, after its opener. A
 * parenthesised single value without a comma is that value: *v then
 * receives it. */
static int items(parser *ps, char close, pyval *v)
{
    int dict = -1; /* braces: 1 for a dict, 0 for a set, -1 not yet known */
    int comma_seen = 0;
    pyval first;
    v->hashable = close == ')';
    v->all_ints = 1;
    for (;;) {
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            break;
        }
        pyval item;
        if (!value(ps, &item) ||
            (close == '}' && !brace_item(ps, &item, &dict)))
            return 0;
        if (v->n == 0)
            first = item;
        tally(v, &item);
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            comma_seen = 1;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            break;
        }
        return fail(ps, "items not separated by commas");
    }
    if (close == ')' && v->n == 1 && !comma_seen) {
        *v = first; /* (3) is 3 */
        return 1;
    }
    if (close == ')' && v->n == 0)
        v->all_ints = 1;
    v->kind = close == ')' ? K_TUPLE : close == ']' ? K_LIST
              : dict == 0  ? K_SET
                           : K_DICT;
    if (v->kind != K_TUPLE)
        v->hashable = 0;
    return 1;
}

static int word(parser *ps, pyval *v)
{
    const char *start = ps->p;
    while (ps->p < ps->end && is_name_char(*ps->p))
        ps->p++;
    size_t n = (size_t)(ps->p - start);
    v->hashable = 1;
    if (n == 4 && memcmp(start, "True", 4) == 0) {
        v->kind = K_BOOL;
        v->mag = 1;
    } else if (n == 5 && memcmp(start, "False", 5) == 0) {
        v->kind = K_BOOL;
    } else if (n == 4 && memcmp(start, "None", 4) == 0) {
        v->kind = K_NONE;
    } else {
        return fail(ps, "a name that is not a literal");
    }
    return 1;
}

static int value(parser *ps, pyval *v)
{
    memset(v, 0, sizeof *v);
    skip_space(ps);
    if (ps->p >= ps->end)
        return fail(ps, "an unexpected end");
    if (++ps->depth > 64)
        return fail(ps, "literals nested too deeply");
    int ok;
    char c = *ps->p;
    if (c == '(' || c == '[' || c == '{') {
        ps->p++;
        ok = items(ps, c == '(' ? ')' : c == '[' ? ']' : '}', v);
    } else if (c == '+' || c == '-') {
        ps->p++;
        skip_space(ps);
        ok = ps->p < ps->end && ((*ps->p >= '0' && *ps->p <= '9') ||
                                 *ps->p == '.')
                 ? number(ps, v)
                 : fail(ps, "a sign before something not a number");
        v->neg = c == '-' && v->mag != 0;
    } else if ((c >= '0' && c <= '9') || c == '.') {
        ok = number(ps, v);
    } else if (starts_string(ps)) {
        ok = string(ps, v);
    } else {
        ok = word(ps, v);
    }
    ps->depth--;
    return ok;
}

/* v1 and v2 headers are latin-1, v3 UTF-8: 1 when `len` bytes are UTF-8
 * as Python's strict decoder takes it (numpy's decode raises otherwise);
 * *chars receives the number of characters. */
static int utf8_chars(const unsigned char *s, size_t len, size_t *chars)
{
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        unsigned c = s[i];
        size_t more = c < 0x80 ? 0 : c < 0xc2 ? 9 : c < 0xe0 ? 1
                    : c < 0xf0 ? 2 : c < 0xf5 ? 3 : 9;
        if (more == 9 || more > len - i - 1)
            return 0;
        for (size_t k = 1; k <= more; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        unsigned next = more ? s[i + 1] : 0x80;
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((c == 0xe0 && next < 0xa0) || (c == 0xed && next > 0x9f) ||
            (c == 0xf0 && next < 0x90) || (c == 0xf4 && next > 0x8f))
            return 0;
        i += more + 1;
    }
    *chars = n;
    return 1;
}

/* Python's tokenizer outside the braces: the line of the '{' may not be
 * indented unless it is the first line (literal_eval strips that one's
 * leading spaces), and, unless `old` (version 1 and 2 headers, which
 * numpy's _filter_header rewrites first), a last line of blanks without a
 * newline is an indent too. */
static int indentation_ok(const char *text, size_t len, int old)
{
    const char *p = text, *end = text + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    for (const char *line = p; p < end; line = p) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\f'))
            p++;
        if (p < end && (*p == '\n' || *p == '\r' || *p == '#')) {
            while (p < end && *p != '\n')
                p++;
            p += p < end; /* a blank or comment line */
            continue;
        }
        if (p != line && line != text)
            return 0;
        break;
    }
    const char *last = end;
    while (last > text && last[-1] != '\n')
        last--;
    if (old || last == text || last == end)
        return 1;
    for (p = last; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\f')
            return 1;
    return 0;
}

static int refuse(char *why, size_t cap, const char *text)
{
    snprintf(why, cap, "%s", text);
    return 0;
}

/* The three keys numpy requires, each as its last value in the dict. */
typedef struct entries {
    pyval descr, fortran, shape;
    int seen[3];  /* descr, fortran_order, shape */
    int others;   /* keys besides them */
} entries;

/* One "key: value" of the dict, kept when its key is one of the three. */
static int entry(parser *ps, entries *e)
{
    static const char *const names[3] = {"descr", "fortran_order", "shape"};
    pyval *slots[3] = {&e->descr, &e->fortran, &e->shape};
    pyval key, val;
    if (!value(ps, &key))
        return 0;
    skip_space(ps);
    if (ps->p >= ps->end || *ps->p != ':')
        return fail(ps, "a dict entry without ':'");
    ps->p++;
    if (!value(ps, &val))
        return 0;
    if (!key.hashable)
        return fail(ps, "an unhashable key");
    int known = 0;
    for (int k = 0; k < 3; k++) /* a key given twice keeps its last value */
        if (key.kind == K_STR && strcmp(key.str, names[k]) == 0 &&
            key.str_len == strlen(names[k])) {
            e->seen[k] = known = 1;
            *slots[k] = val;
        }
    e->others += !known;
    return 1;
}

/* The dict's entries, after its '{', up to and past its '}'. */
static void dict(parser *ps, entries *e)
{
    for (;;) {
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            return;
        }
        if (!entry(ps, e))
            return;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            return;
        }
        fail(ps, "dict entries not separated by commas");
        return;
    }
}

/* numpy's checks of the keys, then *h from them; 0 with the reason. */
static int take_entries(const entries *e, npy_header *h, char *why,
                        size_t cap)
{
    const pyval *shape = &e->shape;
    if (e->others || !e->seen[0] || !e->seen[1] || !e->seen[2])
        return refuse(why, cap, "the header does not hold exactly the keys "
                                "'descr', 'fortran_order' and 'shape'");
    if (shape->kind != K_TUPLE || !shape->all_ints)
        return refuse(why, cap, "the header's 'shape' is not a tuple of "
                                "integers");
    if (e->fortran.kind != K_BOOL)
        return refuse(why, cap, "the header's 'fortran_order' is not True "
                                "or False");
    if (shape->any_neg)
        return refuse(why, cap, "the header's 'shape' has a negative size");
    if (e->descr.kind != K_STR)
        return refuse(why, cap, "the header's 'descr' is not a dtype string "
                                "(structured dtypes are not supported)");
    if (shape->n > NPY_MAX_DIMS || shape->any_big)
        return refuse(why, cap, "the header's 'shape' has more than 8 "
                                "dimensions or a size beyond 64 bits");
    snprintf(h->descr, sizeof h->descr, "%s",
             e->descr.str_len < sizeof h->descr ? e->descr.str : "");
    h->fortran = e->fortran.mag != 0;
    h->ndim = shape->n;
    for (size_t i = 0; i < shape->n; i++)
        h->dims[i] = shape->dims[i];
    return 1;
}

int npy_parse_header(const char *text, size_t len, int version,
                     npy_header *h, char *why, size_t cap)
{
    size_t chars = len;
    if (version >= 3 &&
        !utf8_chars((const unsigned char *)text, len, &chars))
        return refuse(why, cap, "the header is not UTF-8");
    if (chars > NPY_MAX_HEADER)
        return refuse(why, cap, "the header is longer than numpy reads "
                                "(10000 characters)");
    if (!indentation_ok(text, len, version <= 2))
        return refuse(why, cap, "numpy cannot parse the header (an "
                                "unexpected indent)");
    parser ps = {text, text + len, version <= 2, 0, NULL};
    /* literal_eval strips leading spaces and tabs; blank lines before the
     * dict are nothing to the tokenizer */
    skip_space(&ps);
    if (ps.p >= ps.end || *ps.p != '{')
        return refuse(why, cap, "the header is not a dictionary");
    ps.p++;
    memset(h, 0, sizeof *h);
    entries e;
    memset(&e, 0, sizeof e);
    dict(&ps, &e);
    skip_space(&ps);
    if (!ps.error && ps.p < ps.end)
        fail(&ps, "text after the dictionary");
    if (ps.error) {
        snprintf(why, cap, "numpy cannot parse the header (%s)", ps.error);
        return 0;
    }
    return take_entries(&e, h, why, cap);
}
