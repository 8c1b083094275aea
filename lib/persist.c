/* SPDX-License-Identifier: MIT */
/*
 * Model files and buffers: nn_save, nn_load, nn_save_buffer, nn_load_buffer.
 * The format is specified byte by byte in docs/format.md: a fixed header
 * (magic, version, total length), the architecture, the settings, the
 * parameters, the optimizer state, the shuffling generator, since version
 * 2 what the model knows about its data (task and names), and a CRC-32
 * over everything before it. Every multi-byte value is written and read one
 * byte at a time, little-endian, so files are the same on every host.
 *
 * Loading trusts nothing: the header's length must match the bytes present,
 * the checksum must match, and every count is checked against the bytes
 * left and against overflow before anything is allocated, so a hostile
 * input costs at most a few allocations no larger than itself. Settings are
 * applied through nn_set(), so a file is held to exactly the rules a caller
 * is.
 *
 * nn_save writes a temporary file beside the target, syncs it and renames
 * it over the target: the path holds the old model or the new one, never
 * part of one, and a failed save removes its temporary file. Devices and
 * FIFOs are written in place, and links are followed (outfile.h).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "internal.h"
#include "outfile.h"
#include "persist.h"

_Static_assert(sizeof(float) == 4, "the format stores IEEE-754 binary32");
_Static_assert(sizeof(double) == 8, "the format stores IEEE-754 binary64");

/* The settings a model file holds, as (nn_option, value) pairs: every
 * option with NN_OPTION_SAVED in lib/options.h, in nn.h's order (a new
 * one goes in docs/format.md too; test_persist fails until it is). Files
 * that lack one load with its default. */
static int is_saved(int option)
{
    unsigned flags = 0;
    return nn_option_bounds(option, NULL, NULL, &flags) == NN_OK &&
           (flags & NN_OPTION_SAVED);
}

static size_t saved_count(void)
{
    size_t n = 0;
    for (int option = 0; option < NN_OPT_COUNT; option++)
        n += is_saved(option);
    return n;
}

/* Sizes of the fixed-width parts of the body (docs/format.md). */
enum {
    SETTING_LEN = 4 + 8,          /* u32 option, f64 value */
    SCHEDULE_LEN = 8 + 8 + 8 + 8, /* epochs, factor, best, bad epochs */
    RNG_LEN = 4 * 8,
    /* The smallest model: 2 layers of 1 unit, no bias, no settings, no
     * transform, no optimizer state. */
    MIN_MODEL_LEN = NN__MODEL_HEADER_LEN + 8 + 2 * 8 + 4 + 4 + 4 + 4 + 8 + 4 +
                    8 + 4 + SCHEDULE_LEN + RNG_LEN + NN__MODEL_CRC_LEN
};

/* ---- CRC-32 ------------------------------------------------------------ */

uint32_t nn__crc32(const void *data, size_t len)
{
    /* Half-byte table of the reflected polynomial 0xEDB88320: small enough
     * to read, and fast enough that saving stays bound by the disk. */
    static const uint32_t table[16] = {
        0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
        0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
        0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};
    const unsigned char *p = data;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ table[crc & 15];
        crc = (crc >> 4) ^ table[crc & 15];
    }
    return crc ^ 0xffffffffu;
}

/* ---- Little-endian encoding -------------------------------------------- */

static unsigned char *put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 4;
}

static unsigned char *put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 8;
}

static unsigned char *put_f32(unsigned char *p, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return put_u32(p, bits);
}

static unsigned char *put_f64(unsigned char *p, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return put_u64(p, bits);
}

static uint32_t load_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t load_u64(const unsigned char *p)
{
    return (uint64_t)load_u32(p) | (uint64_t)load_u32(p + 4) << 32;
}

static float load_f32(const unsigned char *p)
{
    uint32_t bits = load_u32(p);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static double load_f64(const unsigned char *p)
{
    uint64_t bits = load_u64(p);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* ---- Writing ------------------------------------------------------------ */

/* Optimizer state arrays actually held (0 before any is allocated). */
static size_t state_slots(const nn_net *net)
{
    return net->opt_state != NULL && net->opt_slots > 0 ? (size_t)net->opt_slots
                                                        : 0;
}

/* n += count * width, with overflow checks. */
static int grow(size_t *n, size_t count, size_t width)
{
    size_t t;
    return nn__mul_ok(count, width, &t) && nn__add_ok(*n, t, n);
}

/* Bytes of a counted string: u32 length, then its bytes. */
static int grow_string(size_t *n, const char *s)
{
    return grow(n, 1, 4) && grow(n, s ? strlen(s) : 0, 1);
}

/* n += the bytes of a u32 count and its counted strings. */
static int grow_names(size_t *n, const nn__names *names)
{
    int ok = grow(n, 1, 4);
    for (size_t i = 0; ok && i < names->n; i++)
        ok = grow_string(n, names->s[i]);
    return ok;
}

/* n += the bytes of the metadata (version 2). */
static int grow_meta(size_t *n, const nn__meta *meta)
{
    return grow(n, 1, 4) && grow_string(n, meta->label) &&
           grow_names(n, &meta->classes) && grow_names(n, &meta->features);
}

/* Bytes of the serialised model of `net`; NN_ENOMEM when that overflows. */
static int model_size(const nn_net *net, size_t *size, const char *who)
{
    *size = 0; /* defined on failure too */
    size_t n = NN__MODEL_HEADER_LEN, state;
    size_t transform = net->input.shift != NULL ? 2 * net->sizes[0] : 0;
    int ok = grow(&n, 1, 8) && grow(&n, net->n_sizes, 8) &&
             grow(&n, net->n_sizes - 1, 4) && grow(&n, 1, 4) &&
             grow(&n, 1, 4) && grow(&n, saved_count(), SETTING_LEN) &&
             grow(&n, 1, 4) && grow(&n, transform, 4) && grow(&n, 1, 8) &&
             grow(&n, net->n_params, 4) && grow(&n, 1, 8 + 4) &&
             nn__mul_ok(state_slots(net), net->n_params, &state) &&
             grow(&n, state, 4) && grow(&n, 1, SCHEDULE_LEN + RNG_LEN) &&
             grow_meta(&n, &net->meta) && grow(&n, 1, NN__MODEL_CRC_LEN);
    if (!ok)
        return nn__fail(
            NULL, NN_ENOMEM,
            "%s: the model is too large to serialise in this address space",
            who);
    *size = n;
    return NN_OK;
}

static unsigned char *put_string(unsigned char *p, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    p = put_u32(p, (uint32_t)len);
    memcpy(p, s ? s : "", len);
    return p + len;
}

static unsigned char *put_names(unsigned char *p, const nn__names *names)
{
    p = put_u32(p, (uint32_t)names->n);
    for (size_t i = 0; i < names->n; i++)
        p = put_string(p, names->s[i]);
    return p;
}

/* Serialises `net` into exactly `size` bytes (from model_size). */
static void model_write(const nn_net *net, unsigned char *buf, size_t size)
{
    size_t slots = state_slots(net);
    unsigned char *p = buf;

    memcpy(p, NN__MODEL_MAGIC, NN__MODEL_MAGIC_LEN);
    p += NN__MODEL_MAGIC_LEN;
    p = put_u32(p, NN__MODEL_VERSION);
    p = put_u32(p, 0);
    p = put_u64(p, size);

    p = put_u64(p, net->n_sizes);
    for (size_t i = 0; i < net->n_sizes; i++)
        p = put_u64(p, net->sizes[i]);
    for (size_t l = 0; l + 1 < net->n_sizes; l++)
        p = put_u32(p, (uint32_t)net->layers[l].act);
    p = put_u32(p, net->flags);

    p = put_u32(p, (uint32_t)saved_count());
    for (int option = 0; option < NN_OPT_COUNT; option++) {
        double value = 0.0;
        if (!is_saved(option))
            continue;
        (void)nn_get(net, option, &value);
        p = put_u32(p, (uint32_t)option);
        p = put_f64(p, value);
    }

    size_t n_in = net->sizes[0];
    p = put_u32(p, net->input.shift != NULL);
    for (size_t j = 0; net->input.shift != NULL && j < n_in; j++)
        p = put_f32(p, net->input.shift[j]);
    for (size_t j = 0; net->input.shift != NULL && j < n_in; j++)
        p = put_f32(p, net->input.scale[j]);

    p = put_u64(p, net->n_params);
    for (size_t i = 0; i < net->n_params; i++)
        p = put_f32(p, net->params[i]);

    p = put_u64(p, net->opt_steps);
    p = put_u32(p, (uint32_t)slots);
    for (size_t i = 0; i < slots * net->n_params; i++)
        p = put_f32(p, net->opt_state[i]);

    p = put_u64(p, net->sched.epochs_done);
    p = put_f64(p, net->sched.lr_factor);
    p = put_f64(p, net->sched.plateau_best);
    p = put_u64(p, net->sched.plateau_bad);

    for (int i = 0; i < 4; i++)
        p = put_u64(p, net->rng[i]);

    p = put_u32(p, (uint32_t)net->meta.task);
    p = put_string(p, net->meta.label);
    p = put_names(p, &net->meta.classes);
    p = put_names(p, &net->meta.features);

    p = put_u32(p, nn__crc32(buf, (size_t)(p - buf)));
    (void)size;
}

/* ---- Reading ------------------------------------------------------------ */

/* A cursor over the body: the bytes between the header and the checksum. */
typedef struct reader {
    const unsigned char *base; /* start of the model, for offsets */
    const unsigned char *p;
    const unsigned char *end;
    const char *what; /* the path, or "model buffer", for messages */
    uint32_t version; /* of the format, from the header */
} reader;

static size_t left(const reader *r)
{
    return (size_t)(r->end - r->p);
}

static int short_field(const reader *r, const char *field, size_t need)
{
    return nn__fail(NULL, NN_EFORMAT,
                    "%s: field '%s' at byte %zu needs %zu bytes but only %zu "
                    "remain before the checksum",
                    r->what, field, (size_t)(r->p - r->base), need, left(r));
}

static int get_u32(reader *r, const char *field, uint32_t *v)
{
    *v = 0; /* defined on failure too */
    if (left(r) < 4)
        return short_field(r, field, 4);
    *v = load_u32(r->p);
    r->p += 4;
    return NN_OK;
}

static int get_u64(reader *r, const char *field, uint64_t *v)
{
    *v = 0; /* defined on failure too */
    if (left(r) < 8)
        return short_field(r, field, 8);
    *v = load_u64(r->p);
    r->p += 8;
    return NN_OK;
}

static int get_f64(reader *r, const char *field, double *v)
{
    *v = 0; /* defined on failure too */
    if (left(r) < 8)
        return short_field(r, field, 8);
    *v = load_f64(r->p);
    r->p += 8;
    return NN_OK;
}

/* Skips `count` floats, returning where they start. */
static int get_floats(reader *r, const char *field, uint64_t count,
                      const unsigned char **at)
{
    if (count > left(r) / 4)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: field '%s' at byte %zu holds %" PRIu64
                        " floats but only %zu bytes remain before the checksum",
                        r->what, field, (size_t)(r->p - r->base), count,
                        left(r));
    *at = r->p;
    r->p += (size_t)count * 4;
    return NN_OK;
}

/* Checks magic and version without recording anything: 1 when the header
 * is one this library reads, with its declared length in *total. */
static int header_ok(const unsigned char *b, size_t len, uint64_t *total)
{
    if (len < NN__MODEL_HEADER_LEN ||
        memcmp(b, NN__MODEL_MAGIC, NN__MODEL_MAGIC_LEN) != 0)
        return 0;
    uint32_t version = load_u32(b + NN__MODEL_OFF_VERSION);
    if (version == 0 || version > NN__MODEL_VERSION)
        return 0;
    *total = load_u64(b + NN__MODEL_OFF_LENGTH);
    return 1;
}

/* Validates the header, the declared length against `len`, and the
 * checksum. */
static int check_envelope(const unsigned char *b, size_t len, const char *what)
{
    if (len == 0)
        return nn__fail(NULL, NN_EFORMAT, "%s: empty, no model data", what);
    size_t m = len < NN__MODEL_MAGIC_LEN ? len : NN__MODEL_MAGIC_LEN;
    if (memcmp(b, NN__MODEL_MAGIC, m) != 0)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: not a libnn model (bad magic bytes)", what);
    if (len < NN__MODEL_HEADER_LEN)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: truncated: %zu bytes, the header alone is %u",
                        what, len, (unsigned)NN__MODEL_HEADER_LEN);

    uint32_t version = load_u32(b + NN__MODEL_OFF_VERSION);
    if (version == 0 || version > NN__MODEL_VERSION)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: unsupported format version %" PRIu32
                        " (this library reads versions 1 to %u)",
                        what, version, (unsigned)NN__MODEL_VERSION);
    uint32_t reserved = load_u32(b + NN__MODEL_OFF_RESERVED);
    if (reserved != 0)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: reserved header field is 0x%08" PRIx32
                        ", must be 0",
                        what, reserved);

    uint64_t total = load_u64(b + NN__MODEL_OFF_LENGTH);
    if (total < MIN_MODEL_LEN)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: header declares %" PRIu64
                        " bytes, less than the smallest model (%u)",
                        what, total, (unsigned)MIN_MODEL_LEN);
    if (total > len)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: truncated: %zu of the %" PRIu64
                        " bytes the header declares",
                        what, len, total);
    if (total < len)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: %zu bytes of trailing data after the %" PRIu64
                        "-byte model",
                        what, len - (size_t)total, total);

    uint32_t stored = load_u32(b + len - NN__MODEL_CRC_LEN);
    uint32_t computed = nn__crc32(b, len - NN__MODEL_CRC_LEN);
    if (stored != computed)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: checksum mismatch (stored 0x%08" PRIx32
                        ", computed 0x%08" PRIx32 "): the data is corrupt",
                        what, stored, computed);
    return NN_OK;
}

/* Everything the body declares, validated as far as it can be without a
 * network; values not yet applied point into the data. */
typedef struct parsed {
    size_t n_sizes;
    size_t *sizes;
    nn_activation *acts;
    unsigned flags;
    uint32_t n_settings;
    const unsigned char *settings; /* n_settings (u32 option, f64 value) */
    uint32_t has_transform;
    const unsigned char *transform; /* shift then scale, sizes[0] each */
    size_t n_params;
    const unsigned char *params;
    uint64_t opt_steps;
    uint32_t slots;
    const unsigned char *state;
    nn__schedule_state sched;
    uint64_t rng[4];
    uint32_t task;
    const unsigned char *meta; /* version 2: label, classes, features */
} parsed;

static int is_saved_option(uint32_t option)
{
    return option < NN_OPT_COUNT && is_saved((int)option);
}

/* Reads the architecture and checks it as nn_create() would, plus the
 * parameter count against overflow. Allocates q->sizes and q->acts, both
 * bounded by the bytes present. */
static int parse_architecture(reader *r, parsed *q)
{
    uint64_t n_sizes;
    NN__TRY(get_u64(r, "n_sizes", &n_sizes));
    if (n_sizes < 2)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: n_sizes is %" PRIu64
                        ", a network has at least 2 layers",
                        r->what, n_sizes);
    /* Each layer takes 8 bytes of size and all but one 4 of activation. */
    if (n_sizes > left(r) / 12)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: n_sizes is %" PRIu64
                        " but only %zu bytes remain to describe the layers",
                        r->what, n_sizes, left(r));
    q->n_sizes = (size_t)n_sizes;
    q->sizes = malloc(q->n_sizes * sizeof *q->sizes);
    q->acts = malloc((q->n_sizes - 1) * sizeof *q->acts);
    if (q->sizes == NULL || q->acts == NULL)
        return nn__fail(NULL, NN_ENOMEM,
                        "%s: out of memory for %zu layer sizes", r->what,
                        q->n_sizes);

    for (size_t i = 0; i < q->n_sizes; i++) {
        uint64_t s;
        NN__TRY(get_u64(r, "sizes", &s));
        /* nn_create() refuses layers wider than INT_MAX. */
        if (s == 0 || s > INT_MAX)
            return nn__fail(NULL, NN_EFORMAT,
                            "%s: sizes[%zu] is %" PRIu64 ", must be in 1..%d",
                            r->what, i, s, INT_MAX);
        q->sizes[i] = (size_t)s;
    }
    for (size_t l = 0; l + 1 < q->n_sizes; l++) {
        uint32_t a;
        NN__TRY(get_u32(r, "activations", &a));
        if (a > NN_LEAKY_RELU)
            return nn__fail(NULL, NN_EFORMAT,
                            "%s: activations[%zu] is %" PRIu32
                            ", not a known activation",
                            r->what, l, a);
        if (a == NN_SOFTMAX && l + 2 < q->n_sizes)
            return nn__fail(NULL, NN_EFORMAT,
                            "%s: activations[%zu] is softmax, allowed on the "
                            "last layer only",
                            r->what, l);
        q->acts[l] = (nn_activation)a;
    }
    uint32_t flags;
    NN__TRY(get_u32(r, "flags", &flags));
    if (flags & ~(uint32_t)NN_NO_BIAS)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: flags 0x%08" PRIx32 " has unknown bits", r->what,
                        flags);
    q->flags = flags;

    size_t n = 0;
    for (size_t l = 0; l + 1 < q->n_sizes; l++) {
        size_t w;
        int ok = nn__mul_ok(q->sizes[l], q->sizes[l + 1], &w) &&
                 nn__add_ok(n, w, &n) &&
                 ((flags & NN_NO_BIAS) || nn__add_ok(n, q->sizes[l + 1], &n));
        if (!ok)
            return nn__fail(NULL, NN_EFORMAT,
                            "%s: the layer sizes give more parameters than "
                            "size_t can count",
                            r->what);
    }
    q->n_params = n;
    return NN_OK;
}

/* Reads the (option, value) pairs: known options nn_set() accepts, in
 * strictly increasing order. Their values are checked when applied. */
static int parse_settings(reader *r, parsed *q)
{
    NN__TRY(get_u32(r, "n_settings", &q->n_settings));
    if (q->n_settings > left(r) / SETTING_LEN)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: n_settings is %" PRIu32
                        " but only %zu bytes remain before the checksum",
                        r->what, q->n_settings, left(r));
    q->settings = r->p;
    uint32_t previous = 0;
    for (uint32_t i = 0; i < q->n_settings; i++) {
        uint32_t option;
        double value;
        NN__TRY(get_u32(r, "settings.option", &option));
        NN__TRY(get_f64(r, "settings.value", &value));
        if (!is_saved_option(option))
            return nn__fail(NULL, NN_EFORMAT,
                            "%s: settings[%" PRIu32 "] is option %" PRIu32
                            ", which this library does not know or cannot set",
                            r->what, i, option);
        if (i > 0 && option <= previous)
            return nn__fail(NULL, NN_EFORMAT,
                            "%s: settings[%" PRIu32 "] (option %" PRIu32
                            ") is out of order or repeated",
                            r->what, i, option);
        previous = option;
    }
    return NN_OK;
}

/* Skips a counted string, checking that it fits and holds no NUL byte
 * (names are C strings); *s and *len receive its bytes. */
static int get_string(reader *r, const char *field, const unsigned char **s,
                      uint32_t *len)
{
    NN__TRY(get_u32(r, field, len));
    if (*len > left(r))
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: field '%s' at byte %zu holds %" PRIu32
                        " bytes but only %zu remain before the checksum",
                        r->what, field, (size_t)(r->p - r->base), *len,
                        left(r));
    if (memchr(r->p, '\0', *len))
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: field '%s' at byte %zu holds a NUL byte",
                        r->what, field, (size_t)(r->p - r->base));
    *s = r->p;
    r->p += *len;
    return NN_OK;
}

/* Skips a u32 count of counted strings (at least 4 bytes each). */
static int skip_names(reader *r, const char *field)
{
    uint32_t n, len;
    const unsigned char *s;
    NN__TRY(get_u32(r, field, &n));
    if (n > left(r) / 4)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: %" PRIu32 " %s but only %zu bytes remain before "
                        "the checksum",
                        r->what, n, field, left(r));
    for (uint32_t i = 0; i < n; i++)
        NN__TRY(get_string(r, field, &s, &len));
    return NN_OK;
}

/* Version 2's metadata: the task, then the label name, the class names and
 * the feature names as counted strings. Their rules (counts, distinct
 * names) are the setters', applied in build(). */
static int parse_meta(reader *r, parsed *q)
{
    NN__TRY(get_u32(r, "task", &q->task));
    if (q->task > NN_TASK_REGRESS)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: task is %" PRIu32 ", not a known task", r->what,
                        q->task);
    q->meta = r->p;
    uint32_t len;
    const unsigned char *s;
    NN__TRY(get_string(r, "label", &s, &len));
    NN__TRY(skip_names(r, "classes"));
    return skip_names(r, "features");
}

static int parse_body(reader *r, parsed *q)
{
    NN__TRY(parse_architecture(r, q));
    NN__TRY(parse_settings(r, q));

    NN__TRY(get_u32(r, "has_transform", &q->has_transform));
    if (q->has_transform > 1)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: has_transform is %" PRIu32 ", must be 0 or 1",
                        r->what, q->has_transform);
    q->transform = r->p;
    if (q->has_transform)
        NN__TRY(get_floats(r, "transform", 2 * (uint64_t)q->sizes[0],
                           &q->transform));

    uint64_t n_params;
    NN__TRY(get_u64(r, "n_params", &n_params));
    if (n_params != q->n_params)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: n_params is %" PRIu64
                        " but the architecture has %zu parameters",
                        r->what, n_params, q->n_params);
    NN__TRY(get_floats(r, "params", n_params, &q->params));

    NN__TRY(get_u64(r, "opt_steps", &q->opt_steps));
    NN__TRY(get_u32(r, "opt_slots", &q->slots));
    if (q->slots > 0 && n_params > UINT64_MAX / q->slots)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: opt_slots %" PRIu32 " x n_params overflows",
                        r->what, q->slots);
    NN__TRY(
        get_floats(r, "opt_state", (uint64_t)q->slots * n_params, &q->state));

    nn__schedule_state *s = &q->sched;
    NN__TRY(get_u64(r, "epochs_done", &s->epochs_done));
    NN__TRY(get_f64(r, "lr_factor", &s->lr_factor));
    NN__TRY(get_f64(r, "plateau_best", &s->plateau_best));
    NN__TRY(get_u64(r, "plateau_bad", &s->plateau_bad));
    /* +inf is possible: a cosine or plateau schedule whose floor min_lr
     * is huge next to a tiny base rate (both valid settings). */
    if (!(s->lr_factor >= 0.0))
        return nn__fail(NULL, NN_EFORMAT, "%s: lr_factor %g is not >= 0",
                        r->what, s->lr_factor);
    if (isnan(s->plateau_best))
        return nn__fail(NULL, NN_EFORMAT, "%s: plateau_best is NaN", r->what);

    for (int i = 0; i < 4; i++)
        NN__TRY(get_u64(r, "rng", &q->rng[i]));
    if ((q->rng[0] | q->rng[1] | q->rng[2] | q->rng[3]) == 0)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: the generator state is all zero, which "
                        "xoshiro256** never reaches",
                        r->what);
    if (r->version >= 2)
        NN__TRY(parse_meta(r, q));

    if (left(r) != 0)
        return nn__fail(NULL, NN_EFORMAT,
                        "%s: %zu bytes left over before the checksum: the "
                        "header's length disagrees with the contents",
                        r->what, left(r));
    return NN_OK;
}

/* Turns the failure of a setter run on the loaded network into the
 * loader's: refusals (bad values) become NN_EFORMAT, NN_ENOMEM stays. */
static int setter_failed(int rc, const char *what, const char *field)
{
    char detail[NN__ERR_LEN];
    snprintf(detail, sizeof detail, "%s", nn_last_error(NULL));
    if (rc == NN_ENOMEM)
        return nn__fail(NULL, NN_ENOMEM, "%s: %s", what, detail);
    return nn__fail(NULL, NN_EFORMAT, "%s: %s is invalid (%s)", what, field,
                    detail);
}

/* Applies the settings through nn_set(), so that a file is held to the
 * rules a caller is, then restores the input transform. */
static int apply_settings(nn_net *net, const parsed *q, const char *what)
{
    for (uint32_t i = 0; i < q->n_settings; i++) {
        const unsigned char *p = q->settings + (size_t)i * SETTING_LEN;
        uint32_t option = load_u32(p);
        double value = load_f64(p + 4);
        int rc = nn_set(net, (int)option, value);
        if (rc != NN_OK) {
            char field[64];
            snprintf(field, sizeof field, "setting %" PRIu32 " = %.17g", option,
                     value);
            return setter_failed(rc, what, field);
        }
    }
    if (!q->has_transform)
        return NN_OK;

    size_t n_in = q->sizes[0];
    float *t = malloc(2 * n_in * sizeof *t);
    if (t == NULL)
        return nn__fail(NULL, NN_ENOMEM,
                        "%s: out of memory for the input transform", what);
    for (size_t j = 0; j < 2 * n_in; j++)
        t[j] = load_f32(q->transform + 4 * j);
    int rc = nn_set_input_transform(net, t, t + n_in);
    free(t);
    if (rc != NN_OK)
        return setter_failed(rc, what, "the input transform");
    return NN_OK;
}

/* A counted string at *p as a malloc'd C string; advances *p. */
static char *take_string(const unsigned char **p)
{
    uint32_t len = load_u32(*p);
    char *s = malloc((size_t)len + 1);
    if (s) {
        memcpy(s, *p + 4, len);
        s[len] = '\0';
    }
    *p += 4 + (size_t)len;
    return s;
}

/* The names parse_meta checked at *p, through `set` (nn_set_classes or
 * nn_set_feature_names); advances *p. */
static int apply_names(nn_net *net, const unsigned char **p,
                       int (*set)(nn_net *, size_t, const char *const *),
                       const char *what, const char *field)
{
    uint32_t n = load_u32(*p);
    *p += 4;
    char **names = calloc(n ? n : 1, sizeof *names);
    int rc = names ? NN_OK : NN_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        if (names && !(names[i] = take_string(p)))
            rc = NN_ENOMEM;
    if (rc == NN_OK)
        rc = set(net, n, (const char *const *)names);
    else
        rc = nn__fail(NULL, NN_ENOMEM, "%s: out of memory for the %s", what,
                      field);
    for (uint32_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    return rc == NN_OK || rc == NN_ENOMEM ? rc
                                          : setter_failed(rc, what, field);
}

/* Applies version 2's metadata through the public setters. */
static int apply_meta(nn_net *net, const parsed *q, const char *what)
{
    if (!q->meta)
        return NN_OK;
    const unsigned char *p = q->meta;
    char *label = take_string(&p);
    if (!label)
        return nn__fail(NULL, NN_ENOMEM, "%s: out of memory", what);
    int rc = nn_set_label_name(net, label);
    free(label);
    if (rc == NN_OK)
        rc = nn_set_task(net, (int)q->task);
    if (rc == NN_OK)
        rc = apply_names(net, &p, nn_set_classes, what, "class names");
    if (rc == NN_OK)
        rc = apply_names(net, &p, nn_set_feature_names, what,
                         "feature names");
    return rc;
}

/* Builds the network from a validated body. */
static int build(nn_net **out, const parsed *q, const char *what)
{
    nn_net *net = NULL;
    int rc = nn__net_alloc(&net, q->n_sizes, q->sizes, q->acts, q->flags);
    if (rc != NN_OK)
        return nn__fail(NULL, rc,
                        "%s: cannot allocate a network of %zu parameters", what,
                        q->n_params);

    /* The settings first: setting the optimizer resets its state, and
     * setting the schedule restarts it. */
    rc = apply_settings(net, q, what);
    if (rc == NN_OK)
        rc = apply_meta(net, q, what);
    if (rc == NN_OK && state_slots(net) != q->slots)
        rc = nn__fail(NULL, NN_EFORMAT,
                      "%s: opt_slots is %" PRIu32
                      " but optimizer %d keeps %zu state arrays",
                      what, q->slots, net->set.optimizer, state_slots(net));
    if (rc != NN_OK) {
        nn__net_free(net);
        return rc;
    }

    for (size_t i = 0; i < q->n_params; i++)
        net->params[i] = load_f32(q->params + 4 * i);
    for (size_t i = 0; i < (size_t)q->slots * q->n_params; i++)
        net->opt_state[i] = load_f32(q->state + 4 * i);
    net->opt_steps = q->opt_steps;
    net->sched = q->sched;
    for (int i = 0; i < 4; i++)
        net->rng[i] = q->rng[i];
    *out = net;
    return NN_OK;
}

/* Parses a whole model held in memory. */
static int model_read(nn_net **out, const unsigned char *b, size_t len,
                      const char *what)
{
    NN__TRY(check_envelope(b, len, what));
    reader r = {b, b + NN__MODEL_HEADER_LEN, b + len - NN__MODEL_CRC_LEN, what,
                load_u32(b + NN__MODEL_OFF_VERSION)};
    parsed q = {0};
    int rc = parse_body(&r, &q);
    if (rc == NN_OK)
        rc = build(out, &q, what);
    free(q.sizes);
    free(q.acts);
    return rc;
}

/* ---- Files -------------------------------------------------------------- */

static int io_fail(int err, const char *fmt_what, const char *path)
{
    char msg[128];
    if (strerror_r(err, msg, sizeof msg) != 0)
        msg[0] = '\0';
    return nn__fail(NULL, NN_EIO, "%s: %s: %s", path, fmt_what, msg);
}

/* Writes the model to `path` by outfile.c's rules: a regular file (or the
 * file a link points to) is replaced whole through a temporary file beside
 * it, keeping its permissions; a device or FIFO is written in place. On
 * failure the temporary file is removed and the file is untouched. */
static int write_model_file(const char *path, const unsigned char *data,
                            size_t size)
{
    nn__outfile o;
    const char *step = "";
    int err = nn__outfile_open(&o, path, &step);
    if (err == 0) {
        err = nn__outfile_write(&o, data, size, &step);
        if (err == 0)
            err = nn__outfile_commit(&o, &step);
        else
            nn__outfile_abort(&o);
    }
    if (err == ENOMEM)
        return nn__fail(NULL, NN_ENOMEM, "%s: out of memory", path);
    return err == 0 ? NN_OK : io_fail(err, step, path);
}

/* Reads the whole stream, but never more than a valid header declares plus
 * one byte (enough to see trailing data), and never allocates much more
 * than the bytes actually read. *over is set when the stream holds more
 * than the header declares. */
static int read_model_file(int fd, const char *path, unsigned char **out,
                           size_t *out_len, int *over)
{
    *out = NULL; /* defined on failure too */
    *out_len = 0;
    struct stat st;
    size_t hint = 0; /* the file's size + 1, when it is a regular file */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
        (uintmax_t)st.st_size < SIZE_MAX)
        hint = (size_t)st.st_size + 1;

    size_t cap = 4096, got = 0, limit = SIZE_MAX;
    uint64_t total = 0;
    int header_seen = 0, valid = 0;
    unsigned char *buf = malloc(cap);
    if (buf == NULL)
        return nn__fail(NULL, NN_ENOMEM, "%s: out of memory", path);

    for (;;) {
        if (!header_seen && got >= NN__MODEL_HEADER_LEN) {
            header_seen = 1;
            valid = header_ok(buf, got, &total);
            if (valid)
                limit = total < SIZE_MAX ? (size_t)total + 1 : SIZE_MAX;
            else
                limit = got; /* model_read reports what is wrong */
        }
        if (got >= limit)
            break;
        if (got == cap) {
            size_t want = cap > limit / 2 ? limit : cap * 2;
            if (hint > cap)
                want = hint < limit ? hint : limit;
            unsigned char *bigger = realloc(buf, want);
            if (bigger == NULL) {
                free(buf);
                return nn__fail(NULL, NN_ENOMEM,
                                "%s: out of memory for %zu bytes", path, want);
            }
            buf = bigger;
            cap = want;
        }
        size_t room = cap - got;
        if (room > (size_t)SSIZE_MAX)
            room = (size_t)SSIZE_MAX;
        ssize_t k = read(fd, buf + got, room);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            int rc = io_fail(errno, "cannot read", path);
            free(buf);
            return rc;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    *over = valid && got > total;
    *out = buf;
    *out_len = got;
    return NN_OK;
}

/* ---- Entry points ------------------------------------------------------- */

int nn_save_buffer(const nn_net *net, void *buf, size_t cap, size_t *len)
{
    NN__CHECK(NULL, net != NULL, NN_EINVAL, "nn_save_buffer: net is NULL");
    NN__CHECK(NULL, len != NULL, NN_EINVAL, "nn_save_buffer: len is NULL");
    size_t size;
    NN__TRY(model_size(net, &size, "nn_save_buffer"));
    *len = size;
    if (buf == NULL)
        return NN_OK;
    NN__CHECK(NULL, cap >= size, NN_ESHAPE,
              "nn_save_buffer: the model needs %zu bytes, the buffer holds %zu",
              size, cap);
    model_write(net, buf, size);
    return NN_OK;
}

int nn_load_buffer(nn_net **out, const void *buf, size_t len)
{
    NN__CHECK(NULL, out != NULL, NN_EINVAL, "nn_load_buffer: out is NULL");
    *out = NULL;
    NN__CHECK(NULL, buf != NULL, NN_EINVAL, "nn_load_buffer: buf is NULL");
    return model_read(out, buf, len, "model buffer");
}

int nn_save(const nn_net *net, const char *path)
{
    NN__CHECK(NULL, net != NULL, NN_EINVAL, "nn_save: net is NULL");
    NN__CHECK(NULL, path != NULL && path[0] != '\0', NN_EINVAL,
              "nn_save: path is NULL or empty");
    size_t size;
    NN__TRY(model_size(net, &size, "nn_save"));
    unsigned char *data = malloc(size);
    NN__CHECK(NULL, data != NULL, NN_ENOMEM,
              "nn_save: out of memory for a %zu-byte model", size);
    model_write(net, data, size);
    int rc = write_model_file(path, data, size);
    free(data);
    return rc;
}

int nn_load(nn_net **out, const char *path)
{
    NN__CHECK(NULL, out != NULL, NN_EINVAL, "nn_load: out is NULL");
    *out = NULL;
    NN__CHECK(NULL, path != NULL && path[0] != '\0', NN_EINVAL,
              "nn_load: path is NULL or empty");

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(errno, "cannot open", path);
    unsigned char *data;
    size_t len;
    int over = 0;
    int rc = read_model_file(fd, path, &data, &len, &over);
    close(fd);
    if (rc != NN_OK)
        return rc;
    if (over)
        rc = nn__fail(
            NULL, NN_EFORMAT,
            "%s: trailing data after the %zu bytes the header declares", path,
            len - 1);
    else
        rc = model_read(out, data, len, path);
    free(data);
    return rc;
}
