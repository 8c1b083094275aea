/* SPDX-License-Identifier: MIT */
/*
 * The model format, bytes <-> model: nn_save_buffer, nn_load_buffer, and
 * the encoder and decoder that nn_save and nn_load (persist.c) put in
 * files. The format is specified byte by byte in docs/format.md: a fixed
 * header (magic, version, total length), the architecture, the settings,
 * the parameters, the optimizer state, the shuffling generator, since
 * version 2 what the model knows about its data (task and names, meta.c),
 * and a CRC-32 over everything before it. Every multi-byte value is
 * written and read one byte at a time, little-endian, so files are the
 * same on every host.
 *
 * Decoding trusts nothing: the header's length must match the bytes
 * present, the checksum must match, and every count is checked against the
 * bytes left and against overflow before anything is allocated, so a
 * hostile input costs at most a few allocations no larger than itself.
 * The rules a caller is held to hold a file too, from the same code: the
 * architecture goes through nn__check_architecture (nn_create's check),
 * the settings through nn_set(), the transform and names through their
 * setters. A file that breaks one is NN_EFORMAT, with the rule's message.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "internal.h"

_Static_assert(sizeof(float) == 4, "the format stores IEEE-754 binary32");
_Static_assert(sizeof(double) == 8, "the format stores IEEE-754 binary64");

/* The settings a model file holds, as (nn_option, value) pairs: every
 * option with NN_OPTION_SAVED in lib/options.h, in nn.h's order (a new
 * one goes in docs/format.md too; test_persist fails until it is). Files
 * that lack one load with its default. */
static int is_saved(uint32_t option)
{
    unsigned flags = 0;
    return option < NN_OPT_COUNT &&
           nn_option_bounds((int)option, NULL, NULL, &flags) == NN_OK &&
           (flags & NN_OPTION_SAVED);
}

static size_t saved_count(void)
{
    size_t n = 0;
    for (uint32_t option = 0; option < NN_OPT_COUNT; option++)
        if (is_saved(option))
            n++;
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

/* ---- Size --------------------------------------------------------------- */

/* Optimizer state arrays actually held (0 before any is allocated). */
static size_t state_slots(const nn_net *net)
{
    return net->opt_state && net->opt_slots > 0 ? (size_t)net->opt_slots : 0;
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

int nn__model_size(const nn_net *net, size_t *size, const char *who)
{
    *size = 0; /* defined on failure too */
    size_t n = NN__MODEL_HEADER_LEN, state;
    size_t transform = net->input.shift ? 2 * net->sizes[0] : 0;
    int ok = grow(&n, 1, 8) && grow(&n, net->n_sizes, 8) &&
             grow(&n, net->n_sizes - 1, 4) && grow(&n, 1, 4) &&
             grow(&n, 1, 4) && grow(&n, saved_count(), SETTING_LEN) &&
             grow(&n, 1, 4) && grow(&n, transform, 4) && grow(&n, 1, 8) &&
             grow(&n, net->n_params, 4) && grow(&n, 1, 8 + 4) &&
             nn__mul_ok(state_slots(net), net->n_params, &state) &&
             grow(&n, state, 4) && grow(&n, 1, SCHEDULE_LEN + RNG_LEN) &&
             grow_meta(&n, &net->meta) && grow(&n, 1, NN__MODEL_CRC_LEN);
    NN__CHECK(NULL, ok, NN_ENOMEM,
              "%s: the model is too large to serialise in this address space",
              who);
    *size = n;
    return NN_OK;
}

/* ---- Encoding ----------------------------------------------------------- */

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

static unsigned char *put_header(unsigned char *p, size_t size)
{
    memcpy(p, NN__MODEL_MAGIC, NN__MODEL_MAGIC_LEN);
    p += NN__MODEL_MAGIC_LEN;
    p = put_u32(p, NN__MODEL_VERSION);
    p = put_u32(p, 0);
    return put_u64(p, size);
}

/* Layer sizes, activations, flags. */
static unsigned char *put_architecture(unsigned char *p, const nn_net *net)
{
    p = put_u64(p, net->n_sizes);
    for (size_t i = 0; i < net->n_sizes; i++)
        p = put_u64(p, net->sizes[i]);
    for (size_t l = 0; l + 1 < net->n_sizes; l++)
        p = put_u32(p, (uint32_t)net->layers[l].act);
    return put_u32(p, net->flags);
}

/* The saved options as nn_get() gives them, then the input transform. */
static unsigned char *put_settings(unsigned char *p, const nn_net *net)
{
    p = put_u32(p, (uint32_t)saved_count());
    for (uint32_t option = 0; option < NN_OPT_COUNT; option++) {
        double value = 0.0;
        if (!is_saved(option))
            continue;
        (void)nn_get(net, (int)option, &value);
        p = put_u32(p, option);
        p = put_f64(p, value);
    }

    const nn__input_transform *t = &net->input;
    size_t n_in = net->sizes[0];
    p = put_u32(p, t->shift != NULL);
    for (size_t j = 0; t->shift && j < n_in; j++)
        p = put_f32(p, t->shift[j]);
    for (size_t j = 0; t->shift && j < n_in; j++)
        p = put_f32(p, t->scale[j]);
    return p;
}

/* Parameters, optimizer state, schedule, generator: all that bit-identical
 * resumption needs. */
static unsigned char *put_training_state(unsigned char *p, const nn_net *net)
{
    size_t slots = state_slots(net);
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
    return p;
}

/* Version 2's metadata. */
static unsigned char *put_meta(unsigned char *p, const nn__meta *meta)
{
    p = put_u32(p, (uint32_t)meta->task);
    p = put_string(p, meta->label);
    p = put_names(p, &meta->classes);
    return put_names(p, &meta->features);
}

void nn__model_encode(const nn_net *net, unsigned char *buf, size_t size)
{
    unsigned char *p = put_header(buf, size);
    p = put_architecture(p, net);
    p = put_settings(p, net);
    p = put_training_state(p, net);
    p = put_meta(p, &net->meta);
    put_u32(p, nn__crc32(buf, (size_t)(p - buf)));
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

static size_t offset(const reader *r)
{
    return (size_t)(r->p - r->base);
}

/* Fails unless `need` more bytes are there for `field`. */
static int need_bytes(const reader *r, const char *field, size_t need)
{
    NN__CHECK(NULL, left(r) >= need, NN_EFORMAT,
              "%s: field '%s' at byte %zu needs %zu bytes but only %zu "
              "remain before the checksum",
              r->what, field, offset(r), need, left(r));
    return NN_OK;
}

static int get_u32(reader *r, const char *field, uint32_t *v)
{
    *v = 0; /* defined on failure too */
    NN__TRY(need_bytes(r, field, 4));
    *v = load_u32(r->p);
    r->p += 4;
    return NN_OK;
}

static int get_u64(reader *r, const char *field, uint64_t *v)
{
    *v = 0; /* defined on failure too */
    NN__TRY(need_bytes(r, field, 8));
    *v = load_u64(r->p);
    r->p += 8;
    return NN_OK;
}

static int get_f64(reader *r, const char *field, double *v)
{
    *v = 0; /* defined on failure too */
    NN__TRY(need_bytes(r, field, 8));
    *v = load_f64(r->p);
    r->p += 8;
    return NN_OK;
}

/* Skips `count` floats, returning where they start. */
static int get_floats(reader *r, const char *field, uint64_t count,
                      const unsigned char **at)
{
    NN__CHECK(NULL, count <= left(r) / 4, NN_EFORMAT,
              "%s: field '%s' at byte %zu holds %" PRIu64
              " floats but only %zu bytes remain before the checksum",
              r->what, field, offset(r), count, left(r));
    *at = r->p;
    r->p += (size_t)count * 4;
    return NN_OK;
}

/* Skips a counted string, checking that it fits and holds no NUL byte
 * (names are C strings). */
static int skip_string(reader *r, const char *field)
{
    uint32_t len;
    NN__TRY(get_u32(r, field, &len));
    NN__CHECK(NULL, len <= left(r), NN_EFORMAT,
              "%s: field '%s' at byte %zu holds %" PRIu32
              " bytes but only %zu remain before the checksum",
              r->what, field, offset(r), len, left(r));
    NN__CHECK(NULL, !memchr(r->p, '\0', len), NN_EFORMAT,
              "%s: field '%s' at byte %zu holds a NUL byte", r->what, field,
              offset(r));
    r->p += len;
    return NN_OK;
}

/* Skips a u32 count of counted strings (at least 4 bytes each). */
static int skip_names(reader *r, const char *field)
{
    uint32_t n;
    NN__TRY(get_u32(r, field, &n));
    NN__CHECK(NULL, n <= left(r) / 4, NN_EFORMAT,
              "%s: %" PRIu32 " %s but only %zu bytes remain before the "
              "checksum",
              r->what, n, field, left(r));
    for (uint32_t i = 0; i < n; i++)
        NN__TRY(skip_string(r, field));
    return NN_OK;
}

/* ---- The envelope: header, length, checksum ---------------------------- */

int nn__model_declared_length(const unsigned char *b, size_t len,
                              uint64_t *total)
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

/* Magic, a whole header, a version this library reads, reserved 0. */
static int check_header(const unsigned char *b, size_t len, const char *what)
{
    NN__CHECK(NULL, len > 0, NN_EFORMAT, "%s: empty, no model data", what);
    size_t m = len < NN__MODEL_MAGIC_LEN ? len : NN__MODEL_MAGIC_LEN;
    NN__CHECK(NULL, memcmp(b, NN__MODEL_MAGIC, m) == 0, NN_EFORMAT,
              "%s: not a libnn model (bad magic bytes)", what);
    NN__CHECK(NULL, len >= NN__MODEL_HEADER_LEN, NN_EFORMAT,
              "%s: truncated: %zu bytes, the header alone is %u", what, len,
              (unsigned)NN__MODEL_HEADER_LEN);
    uint32_t version = load_u32(b + NN__MODEL_OFF_VERSION);
    NN__CHECK(NULL, version >= 1 && version <= NN__MODEL_VERSION, NN_EFORMAT,
              "%s: unsupported format version %" PRIu32
              " (this library reads versions 1 to %u)",
              what, version, (unsigned)NN__MODEL_VERSION);
    uint32_t reserved = load_u32(b + NN__MODEL_OFF_RESERVED);
    NN__CHECK(NULL, reserved == 0, NN_EFORMAT,
              "%s: reserved header field is 0x%08" PRIx32 ", must be 0", what,
              reserved);
    return NN_OK;
}

/* The header, the declared length against `len`, and the checksum. */
static int check_envelope(const unsigned char *b, size_t len, const char *what)
{
    NN__TRY(check_header(b, len, what));
    uint64_t total = load_u64(b + NN__MODEL_OFF_LENGTH);
    NN__CHECK(NULL, total >= MIN_MODEL_LEN, NN_EFORMAT,
              "%s: header declares %" PRIu64
              " bytes, less than the smallest model (%u)",
              what, total, (unsigned)MIN_MODEL_LEN);
    NN__CHECK(NULL, total <= len, NN_EFORMAT,
              "%s: truncated: %zu of the %" PRIu64 " bytes the header declares",
              what, len, total);
    NN__CHECK(NULL, total == len, NN_EFORMAT,
              "%s: %zu bytes of trailing data after the %" PRIu64 "-byte model",
              what, len - (size_t)total, total);
    uint32_t stored = load_u32(b + len - NN__MODEL_CRC_LEN);
    uint32_t computed = nn__crc32(b, len - NN__MODEL_CRC_LEN);
    NN__CHECK(NULL, stored == computed, NN_EFORMAT,
              "%s: checksum mismatch (stored 0x%08" PRIx32
              ", computed 0x%08" PRIx32 "): the data is corrupt",
              what, stored, computed);
    return NN_OK;
}

/* ---- The body ----------------------------------------------------------- */

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

/* Turns the failure of a rule the library shares with its callers
 * (nn_create's, a setter's) into the loader's: the file is malformed,
 * NN_EFORMAT, unless memory ran out. The rule's message is kept, after
 * `what` and, when not NULL, the field it was about. */
static int refused(int rc, const char *what, const char *field)
{
    char detail[NN__ERR_LEN];
    snprintf(detail, sizeof detail, "%s", nn_last_error(NULL));
    if (rc == NN_ENOMEM)
        return nn__fail(NULL, NN_ENOMEM, "%s: %s", what, detail);
    if (!field)
        return nn__fail(NULL, NN_EFORMAT, "%s", detail);
    return nn__fail(NULL, NN_EFORMAT, "%s: %s is invalid (%s)", what, field,
                    detail);
}

/* q->n_params from the architecture, refusing counts size_t cannot hold. */
static int count_params(const reader *r, parsed *q)
{
    size_t n = 0;
    for (size_t l = 0; l + 1 < q->n_sizes; l++) {
        size_t w;
        int ok =
            nn__mul_ok(q->sizes[l], q->sizes[l + 1], &w) &&
            nn__add_ok(n, w, &n) &&
            ((q->flags & NN_NO_BIAS) || nn__add_ok(n, q->sizes[l + 1], &n));
        NN__CHECK(NULL, ok, NN_EFORMAT,
                  "%s: the layer sizes give more parameters than size_t can "
                  "count",
                  r->what);
    }
    q->n_params = n;
    return NN_OK;
}

/* Reads the architecture, holds it to nn_create()'s rules and counts its
 * parameters. Allocates q->sizes and q->acts, both bounded by the bytes
 * present. */
static int parse_architecture(reader *r, parsed *q)
{
    uint64_t n_sizes;
    NN__TRY(get_u64(r, "n_sizes", &n_sizes));
    /* Needed before the layers can be read at all: they hold n_sizes
     * sizes of 8 bytes, n_sizes - 1 activations of 4 and 4 of flags. */
    NN__CHECK(NULL, n_sizes >= 2, NN_EFORMAT,
              "%s: n_sizes is %" PRIu64 ", a network has at least 2 layers",
              r->what, n_sizes);
    NN__CHECK(NULL, n_sizes <= left(r) / 12, NN_EFORMAT,
              "%s: n_sizes is %" PRIu64
              " but only %zu bytes remain to describe the layers",
              r->what, n_sizes, left(r));
    q->n_sizes = (size_t)n_sizes;
    q->sizes = malloc(q->n_sizes * sizeof *q->sizes);
    q->acts = malloc((q->n_sizes - 1) * sizeof *q->acts);
    NN__CHECK(NULL, q->sizes && q->acts, NN_ENOMEM,
              "%s: out of memory for %zu layer sizes", r->what, q->n_sizes);

    for (size_t i = 0; i < q->n_sizes; i++) {
        uint64_t s;
        NN__TRY(get_u64(r, "sizes", &s));
        q->sizes[i] = s < SIZE_MAX ? (size_t)s : SIZE_MAX; /* too large */
    }
    for (size_t l = 0; l + 1 < q->n_sizes; l++) {
        uint32_t a;
        NN__TRY(get_u32(r, "activations", &a));
        q->acts[l] = (nn_activation)a;
    }
    uint32_t flags;
    NN__TRY(get_u32(r, "flags", &flags));
    q->flags = flags;
    /* nn_create's NN_ENOMEM for a layer wider than INT_MAX is, in a file,
     * a malformed file like any other broken rule */
    if (nn__check_architecture(r->what, q->n_sizes, q->sizes, q->acts,
                               q->flags) != NN_OK)
        return refused(NN_EFORMAT, r->what, NULL);
    return count_params(r, q);
}

/* Reads the (option, value) pairs: known options nn_set() accepts, in
 * strictly increasing order. Their values are checked when applied. */
static int parse_settings(reader *r, parsed *q)
{
    NN__TRY(get_u32(r, "n_settings", &q->n_settings));
    NN__CHECK(NULL, q->n_settings <= left(r) / SETTING_LEN, NN_EFORMAT,
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
        NN__CHECK(NULL, is_saved(option), NN_EFORMAT,
                  "%s: settings[%" PRIu32 "] is option %" PRIu32
                  ", which this library does not know or cannot set",
                  r->what, i, option);
        NN__CHECK(NULL, i == 0 || option > previous, NN_EFORMAT,
                  "%s: settings[%" PRIu32 "] (option %" PRIu32
                  ") is out of order or repeated",
                  r->what, i, option);
        previous = option;
    }
    return NN_OK;
}

static int parse_transform(reader *r, parsed *q)
{
    NN__TRY(get_u32(r, "has_transform", &q->has_transform));
    NN__CHECK(NULL, q->has_transform <= 1, NN_EFORMAT,
              "%s: has_transform is %" PRIu32 ", must be 0 or 1", r->what,
              q->has_transform);
    q->transform = r->p;
    if (q->has_transform)
        NN__TRY(get_floats(r, "transform", 2 * (uint64_t)q->sizes[0],
                           &q->transform));
    return NN_OK;
}

/* The parameters and the optimizer state (its slot count is checked
 * against the optimizer when the settings are applied). */
static int parse_params(reader *r, parsed *q)
{
    uint64_t n_params;
    NN__TRY(get_u64(r, "n_params", &n_params));
    NN__CHECK(NULL, n_params == q->n_params, NN_EFORMAT,
              "%s: n_params is %" PRIu64
              " but the architecture has %zu parameters",
              r->what, n_params, q->n_params);
    NN__TRY(get_floats(r, "params", n_params, &q->params));

    NN__TRY(get_u64(r, "opt_steps", &q->opt_steps));
    NN__TRY(get_u32(r, "opt_slots", &q->slots));
    NN__CHECK(NULL, q->slots == 0 || n_params <= UINT64_MAX / q->slots,
              NN_EFORMAT, "%s: opt_slots %" PRIu32 " x n_params overflows",
              r->what, q->slots);
    return get_floats(r, "opt_state", (uint64_t)q->slots * n_params, &q->state);
}

/* The learning-rate schedule's state and the generator. */
static int parse_clocks(reader *r, parsed *q)
{
    nn__schedule_state *s = &q->sched;
    NN__TRY(get_u64(r, "epochs_done", &s->epochs_done));
    NN__TRY(get_f64(r, "lr_factor", &s->lr_factor));
    NN__TRY(get_f64(r, "plateau_best", &s->plateau_best));
    NN__TRY(get_u64(r, "plateau_bad", &s->plateau_bad));
    /* +inf is possible: a cosine or plateau schedule whose floor min_lr
     * is huge next to a tiny base rate (both valid settings). */
    NN__CHECK(NULL, s->lr_factor >= 0.0, NN_EFORMAT,
              "%s: lr_factor %g is not >= 0", r->what, s->lr_factor);
    NN__CHECK(NULL, !isnan(s->plateau_best), NN_EFORMAT,
              "%s: plateau_best is NaN", r->what);

    for (int i = 0; i < 4; i++)
        NN__TRY(get_u64(r, "rng", &q->rng[i]));
    NN__CHECK(NULL, (q->rng[0] | q->rng[1] | q->rng[2] | q->rng[3]) != 0,
              NN_EFORMAT,
              "%s: the generator state is all zero, which xoshiro256** "
              "never reaches",
              r->what);
    return NN_OK;
}

/* Version 2's metadata: the task, then the label name, the class names and
 * the feature names as counted strings. Their rules (counts, distinct
 * names) are the setters', applied in build(). */
static int parse_meta(reader *r, parsed *q)
{
    NN__TRY(get_u32(r, "task", &q->task));
    NN__CHECK(NULL, q->task <= NN_TASK_REGRESS, NN_EFORMAT,
              "%s: task is %" PRIu32 ", not a known task", r->what, q->task);
    q->meta = r->p;
    NN__TRY(skip_string(r, "label"));
    NN__TRY(skip_names(r, "classes"));
    return skip_names(r, "features");
}

static int parse_body(reader *r, parsed *q)
{
    NN__TRY(parse_architecture(r, q));
    NN__TRY(parse_settings(r, q));
    NN__TRY(parse_transform(r, q));
    NN__TRY(parse_params(r, q));
    NN__TRY(parse_clocks(r, q));
    if (r->version >= 2)
        NN__TRY(parse_meta(r, q));
    NN__CHECK(NULL, left(r) == 0, NN_EFORMAT,
              "%s: %zu bytes left over before the checksum: the header's "
              "length disagrees with the contents",
              r->what, left(r));
    return NN_OK;
}

/* ---- The network -------------------------------------------------------- */

/* Applies the settings through nn_set(), so that a file is held to the
 * rules a caller is. */
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
            return refused(rc, what, field);
        }
    }
    return NN_OK;
}

/* Restores the input transform through nn_set_input_transform(). */
static int apply_transform(nn_net *net, const parsed *q, const char *what)
{
    if (!q->has_transform)
        return NN_OK;
    size_t n_in = q->sizes[0];
    float *t = malloc(2 * n_in * sizeof *t);
    NN__CHECK(NULL, t, NN_ENOMEM, "%s: out of memory for the input transform",
              what);
    for (size_t j = 0; j < 2 * n_in; j++)
        t[j] = load_f32(q->transform + 4 * j);
    int rc = nn_set_input_transform(net, t, t + n_in);
    free(t);
    return rc == NN_OK ? NN_OK : refused(rc, what, "the input transform");
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
    return rc == NN_OK || rc == NN_ENOMEM ? rc : refused(rc, what, field);
}

/* Applies version 2's metadata through the public setters. */
static int apply_meta(nn_net *net, const parsed *q, const char *what)
{
    if (!q->meta)
        return NN_OK;
    const unsigned char *p = q->meta;
    char *label = take_string(&p);
    NN__CHECK(NULL, label, NN_ENOMEM, "%s: out of memory", what);
    int rc = nn_set_label_name(net, label);
    free(label);
    if (rc == NN_OK)
        rc = nn_set_task(net, (int)q->task);
    if (rc == NN_OK)
        rc = apply_names(net, &p, nn_set_classes, what, "class names");
    if (rc == NN_OK)
        rc = apply_names(net, &p, nn_set_feature_names, what, "feature names");
    return rc;
}

/* Everything but the architecture, onto a network built from it. The
 * settings first: setting the optimizer resets its state, and setting the
 * schedule restarts it. */
static int apply_body(nn_net *net, const parsed *q, const char *what)
{
    NN__TRY(apply_settings(net, q, what));
    NN__TRY(apply_transform(net, q, what));
    NN__TRY(apply_meta(net, q, what));
    NN__CHECK(NULL, state_slots(net) == q->slots, NN_EFORMAT,
              "%s: opt_slots is %" PRIu32
              " but optimizer %d keeps %zu state arrays",
              what, q->slots, net->set.optimizer, state_slots(net));

    for (size_t i = 0; i < q->n_params; i++)
        net->params[i] = load_f32(q->params + 4 * i);
    for (size_t i = 0; i < (size_t)q->slots * q->n_params; i++)
        net->opt_state[i] = load_f32(q->state + 4 * i);
    net->opt_steps = q->opt_steps;
    net->sched = q->sched;
    for (int i = 0; i < 4; i++)
        net->rng[i] = q->rng[i];
    return NN_OK;
}

/* Builds the network from a validated body. */
static int build(nn_net **out, const parsed *q, const char *what)
{
    nn_net *net = NULL;
    int rc = nn__net_alloc(&net, q->n_sizes, q->sizes, q->acts, q->flags);
    NN__CHECK(NULL, rc == NN_OK, rc,
              "%s: cannot allocate a network of %zu parameters", what,
              q->n_params);
    rc = apply_body(net, q, what);
    if (rc != NN_OK) {
        nn__net_free(net);
        return rc;
    }
    *out = net;
    return NN_OK;
}

int nn__model_decode(nn_net **out, const unsigned char *b, size_t len,
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

/* ---- Entry points ------------------------------------------------------- */

int nn_save_buffer(const nn_net *net, void *buf, size_t cap, size_t *len)
{
    NN__CHECK(NULL, net && len, NN_EINVAL,
              "nn_save_buffer: net and len must not be NULL");
    size_t size;
    NN__TRY(nn__model_size(net, &size, "nn_save_buffer"));
    *len = size;
    if (!buf)
        return NN_OK;
    NN__CHECK(NULL, cap >= size, NN_ESHAPE,
              "nn_save_buffer: the model needs %zu bytes, the buffer holds %zu",
              size, cap);
    nn__model_encode(net, buf, size);
    return NN_OK;
}

int nn_load_buffer(nn_net **out, const void *buf, size_t len)
{
    NN__CHECK(NULL, out, NN_EINVAL, "nn_load_buffer: out must not be NULL");
    *out = NULL;
    NN__CHECK(NULL, buf, NN_EINVAL, "nn_load_buffer: buf must not be NULL");
    return nn__model_decode(out, buf, len, "model buffer");
}
