/* SPDX-License-Identifier: MIT */
/*
 * Model files and buffers (docs/format.md): a test-side codec written from
 * the format document decodes and re-encodes what nn_save_buffer writes
 * (so the document and the code agree byte for byte) and crafts hostile
 * files with valid checksums; round trips keep every setting and all
 * state, and training resumed from a file is bit-identical; every
 * truncation, every bit flip, trailing data, unknown versions and absurd
 * counts are NN_EFORMAT with a precise message; nn_save is atomic, keeps
 * permissions and leaves no temporary file behind when it fails; and the
 * committed v1 model still loads and predicts what it did.
 */
#define _POSIX_C_SOURCE 200809L

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "format.h"

/* ---------------------------------------------------------------------
 * A model, field by field, as docs/format.md describes it
 * --------------------------------------------------------------------- */

#define MAX_LAYERS 8
#define MAX_SETTINGS 64

typedef struct model {
    unsigned char magic[8];
    uint32_t version, reserved;
    uint64_t length; /* encode: 0 = the real length */
    uint64_t n_sizes;
    uint64_t sizes[MAX_LAYERS];
    uint32_t acts[MAX_LAYERS];
    uint32_t flags;
    uint32_t n_settings;
    uint32_t keys[MAX_SETTINGS];
    double values[MAX_SETTINGS];
    uint32_t has_transform;
    size_t transform_len; /* floats written (2 * sizes[0] when valid) */
    float *transform;
    uint64_t n_params;
    size_t params_len;
    float *params;
    uint64_t opt_steps;
    uint32_t slots;
    size_t state_len;
    float *state;
    uint64_t epochs_done;
    double lr_factor, plateau_best;
    uint64_t plateau_bad;
    uint64_t rng[4];
    size_t meta_len; /* version 2: the metadata's bytes, as they are */
    unsigned char *meta;
    /* encode: how many entries of sizes/acts/settings to write; by default
     * what the counts say */
    size_t sizes_written, acts_written, settings_written;
} model;

typedef struct bytes {
    unsigned char *p;
    size_t len, cap;
} bytes;

static void b_put(bytes *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void b_u32(bytes *b, uint32_t v)
{
    unsigned char c[4];
    for (int i = 0; i < 4; i++)
        c[i] = (unsigned char)(v >> (8 * i));
    b_put(b, c, 4);
}

static void b_u64(bytes *b, uint64_t v)
{
    b_u32(b, (uint32_t)v);
    b_u32(b, (uint32_t)(v >> 32));
}

static void b_f32(bytes *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    b_u32(b, u);
}

static void b_f64(bytes *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    b_u64(b, u);
}

static uint32_t rd_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t rd_u64(const unsigned char *p)
{
    return rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
}

static void wr_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void wr_u64(unsigned char *p, uint64_t v)
{
    wr_u32(p, (uint32_t)v);
    wr_u32(p + 4, (uint32_t)(v >> 32));
}

/* Independent bitwise CRC-32 (zlib's), to cross-check nn__crc32. */
static uint32_t crc32_bitwise(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* Rewrites the checksum of a whole model in place. */
static void fix_crc(unsigned char *p, size_t len)
{
    wr_u32(p + len - 4, crc32_bitwise(p, len - 4));
}

static unsigned char *encode(const model *m, size_t *len)
{
    bytes b = {0};
    b_put(&b, m->magic, 8);
    b_u32(&b, m->version);
    b_u32(&b, m->reserved);
    b_u64(&b, 0); /* length, patched below */
    b_u64(&b, m->n_sizes);
    for (size_t i = 0; i < m->sizes_written; i++)
        b_u64(&b, m->sizes[i]);
    for (size_t i = 0; i < m->acts_written; i++)
        b_u32(&b, m->acts[i]);
    b_u32(&b, m->flags);
    b_u32(&b, m->n_settings);
    for (size_t i = 0; i < m->settings_written; i++) {
        b_u32(&b, m->keys[i]);
        b_f64(&b, m->values[i]);
    }
    b_u32(&b, m->has_transform);
    for (size_t i = 0; i < m->transform_len; i++)
        b_f32(&b, m->transform[i]);
    b_u64(&b, m->n_params);
    for (size_t i = 0; i < m->params_len; i++)
        b_f32(&b, m->params[i]);
    b_u64(&b, m->opt_steps);
    b_u32(&b, m->slots);
    for (size_t i = 0; i < m->state_len; i++)
        b_f32(&b, m->state[i]);
    b_u64(&b, m->epochs_done);
    b_f64(&b, m->lr_factor);
    b_f64(&b, m->plateau_best);
    b_u64(&b, m->plateau_bad);
    for (int i = 0; i < 4; i++)
        b_u64(&b, m->rng[i]);
    if (m->meta_len)
        b_put(&b, m->meta, m->meta_len);
    b_u32(&b, 0); /* checksum */
    wr_u64(b.p + 16, m->length ? m->length : b.len);
    fix_crc(b.p, b.len);
    *len = b.len;
    return b.p;
}

/* Decodes a valid model; asserts its structure. Arrays are malloc'd. */
static void decode(const unsigned char *p, size_t len, model *m)
{
    memset(m, 0, sizeof *m);
    size_t o = 0;
#define NEED(n) assert_true(o + (n) <= len)
    NEED(24);
    memcpy(m->magic, p, 8);
    m->version = rd_u32(p + 8);
    m->reserved = rd_u32(p + 12);
    m->length = rd_u64(p + 16);
    o = 24;
    NEED(8);
    m->n_sizes = rd_u64(p + o);
    o += 8;
    assert_true(m->n_sizes >= 2 && m->n_sizes <= MAX_LAYERS);
    for (size_t i = 0; i < m->n_sizes; i++, o += 8) {
        NEED(8);
        m->sizes[i] = rd_u64(p + o);
    }
    for (size_t i = 0; i + 1 < m->n_sizes; i++, o += 4) {
        NEED(4);
        m->acts[i] = rd_u32(p + o);
    }
    NEED(8);
    m->flags = rd_u32(p + o);
    m->n_settings = rd_u32(p + o + 4);
    o += 8;
    assert_true(m->n_settings <= MAX_SETTINGS);
    for (size_t i = 0; i < m->n_settings; i++, o += 12) {
        NEED(12);
        m->keys[i] = rd_u32(p + o);
        uint64_t u = rd_u64(p + o + 4);
        memcpy(&m->values[i], &u, 8);
    }
    NEED(4);
    m->has_transform = rd_u32(p + o);
    o += 4;
    m->transform_len = m->has_transform ? 2 * (size_t)m->sizes[0] : 0;
    m->transform = tu_floats(m->transform_len + 1);
    for (size_t i = 0; i < m->transform_len; i++, o += 4) {
        NEED(4);
        uint32_t u = rd_u32(p + o);
        memcpy(&m->transform[i], &u, 4);
    }
    NEED(8);
    m->n_params = rd_u64(p + o);
    o += 8;
    m->params_len = (size_t)m->n_params;
    m->params = tu_floats(m->params_len + 1);
    for (size_t i = 0; i < m->params_len; i++, o += 4) {
        NEED(4);
        uint32_t u = rd_u32(p + o);
        memcpy(&m->params[i], &u, 4);
    }
    NEED(12);
    m->opt_steps = rd_u64(p + o);
    m->slots = rd_u32(p + o + 8);
    o += 12;
    m->state_len = (size_t)m->slots * m->params_len;
    m->state = tu_floats(m->state_len + 1);
    for (size_t i = 0; i < m->state_len; i++, o += 4) {
        NEED(4);
        uint32_t u = rd_u32(p + o);
        memcpy(&m->state[i], &u, 4);
    }
    NEED(32 + 32 + 4);
    m->epochs_done = rd_u64(p + o);
    uint64_t u = rd_u64(p + o + 8);
    memcpy(&m->lr_factor, &u, 8);
    u = rd_u64(p + o + 16);
    memcpy(&m->plateau_best, &u, 8);
    m->plateau_bad = rd_u64(p + o + 24);
    o += 32;
    for (int i = 0; i < 4; i++, o += 8)
        m->rng[i] = rd_u64(p + o);
    if (m->version >= 2) { /* the metadata: task and three name fields */
        NEED(4 + 4 + 4 + 4 + 4);
        m->meta_len = len - 4 - o;
        m->meta = malloc(m->meta_len);
        assert_non_null(m->meta);
        memcpy(m->meta, p + o, m->meta_len);
        o += m->meta_len;
    }
    o += 4;
    assert_int_equal(o, len);
#undef NEED
    m->length = 0;
    m->sizes_written = (size_t)m->n_sizes;
    m->acts_written = (size_t)m->n_sizes - 1;
    m->settings_written = m->n_settings;
}

static void model_free(model *m)
{
    free(m->transform);
    free(m->params);
    free(m->state);
    free(m->meta);
}

/* ---------------------------------------------------------------------
 * Networks and their whole state
 * --------------------------------------------------------------------- */

/* Every option nn_set() accepts, with a value other than its default.
 * A new option makes test_every_option_is_saved fail until it is added
 * here (lib/options.h's NN_OPTION_SAVED puts it in the file). */
static const struct {
    int option;
    double value;
} kit[] = {
    {NN_OPT_LEARNING_RATE, 0.03},
    {NN_OPT_MOMENTUM, 0.8},
    {NN_OPT_BETA1, 0.85},
    {NN_OPT_BETA2, 0.995},
    {NN_OPT_EPSILON, 1e-7},
    {NN_OPT_WEIGHT_DECAY, 1e-3},
    {NN_OPT_BATCH_SIZE, 5},
    {NN_OPT_SHUFFLE, 1},
    {NN_OPT_RMSPROP_ALPHA, 0.95},
    {NN_OPT_DROPOUT, 0.1},
    {NN_OPT_CLIP_NORM, 5.0},
    {NN_OPT_SCHEDULE, NN_SCHEDULE_STEP},
    {NN_OPT_STEP_SIZE, 2},
    {NN_OPT_GAMMA, 0.5},
    {NN_OPT_T_MAX, 7},
    {NN_OPT_MIN_LR, 1e-3},
    {NN_OPT_PLATEAU_PATIENCE, 3},
    {NN_OPT_EARLY_STOPPING, 4},
};
/* Options the kit sets elsewhere (per network), that are read-only, or
 * that belong to the process (the BLAS thread count). */
static const int kit_elsewhere[] = {NN_OPT_OPTIMIZER, NN_OPT_LOSS,
                                    NN_OPT_CURRENT_LR, NN_OPT_EPOCHS_DONE,
                                    NN_OPT_THREADS};
#define MAX_OPTION 64

static const size_t sz_small[] = {3, 4, 2};
static const nn_activation act_small[] = {NN_TANH, NN_SIGMOID};
static const size_t sz_soft[] = {4, 6, 5, 3};
static const nn_activation act_soft[] = {NN_RELU, NN_LEAKY_RELU, NN_SOFTMAX};
static const size_t sz_id[] = {2, 1};
static const nn_activation act_id[] = {NN_IDENTITY};

#define N_DATA 37

typedef struct data {
    float *x, *y;
    size_t n;
} data;

static data make_data(const nn_net *net, uint64_t seed)
{
    size_t n_in = nn_layer_size(net, 0), n_out = tu_n_out(net);
    data d = {tu_floats(N_DATA * n_in), tu_floats(N_DATA * n_out), N_DATA};
    tu_fill(d.x, N_DATA * n_in, seed, -2.0, 2.0);
    tu_fill_probs(d.y, N_DATA, n_out, seed + 1);
    return d;
}

static void data_free(data *d)
{
    free(d->x);
    free(d->y);
}

/* The serialised state of a network. */
static unsigned char *save(const nn_net *net, size_t *len)
{
    ASSERT_OK(nn_save_buffer(net, NULL, 0, len));
    unsigned char *b = tu_alloc(*len);
    size_t len2 = 0;
    ASSERT_OK(nn_save_buffer(net, b, *len, &len2));
    assert_int_equal(len2, *len);
    return b;
}

static nn_net *load(const unsigned char *b, size_t len)
{
    nn_net *net = (nn_net *)1;
    int rc = nn_load_buffer(&net, b, len);
    if (rc != NN_OK)
        TU_FAIL("nn_load_buffer: %s: %s", nn_error_name(rc),
                nn_last_error(NULL));
    assert_non_null(net);
    return net;
}

/* A network of the given shape with every setting off its default, the
 * given optimizer, an input transform, and some training behind it (so
 * that moments, step count, schedule and generator have all moved). */
static nn_net *trained(size_t n_sizes, const size_t *sizes,
                       const nn_activation *acts, unsigned flags, int optimizer,
                       int schedule)
{
    nn_net *net = tu_create(n_sizes, sizes, acts, flags, 1234);
    for (size_t i = 0; i < TU_ARRAY_LEN(kit); i++)
        ASSERT_OK(nn_set(net, kit[i].option, kit[i].value));
    ASSERT_OK(nn_set(net, NN_OPT_OPTIMIZER, optimizer));
    ASSERT_OK(nn_set(net, NN_OPT_SCHEDULE, schedule));
    size_t n_in = sizes[0];
    float *shift = tu_floats(n_in), *scale = tu_floats(n_in);
    tu_fill(shift, n_in, 5, -1.0, 1.0);
    tu_fill(scale, n_in, 6, 0.5, 2.0);
    ASSERT_OK(nn_set_input_transform(net, shift, scale));
    free(shift);
    free(scale);
    data d = make_data(net, 77);
    ASSERT_OK(nn_train(net, d.x, d.y, d.n, 3, NULL, NULL));
    data_free(&d);
    return net;
}

/* Asserts two networks hold the same state, as far as the API shows it. */
static void assert_same_state(const nn_net *a, const nn_net *b)
{
    assert_int_equal(nn_num_layers(a), nn_num_layers(b));
    for (size_t i = 0; i < nn_num_layers(a); i++)
        assert_int_equal(nn_layer_size(a, i), nn_layer_size(b, i));
    assert_int_equal(nn_param_count(a), nn_param_count(b));
    assert_memory_equal(nn_params((nn_net *)a), nn_params((nn_net *)b),
                        nn_param_count(a) * sizeof(float));
    for (int o = 0; o < MAX_OPTION; o++) {
        double va, vb;
        if (nn_get(a, o, &va) != NN_OK)
            continue;
        ASSERT_OK(nn_get(b, o, &vb));
        if (memcmp(&va, &vb, sizeof va) != 0)
            TU_FAIL("option %d: %.17g != %.17g", o, va, vb);
    }
    size_t n_in = nn_layer_size(a, 0);
    float *sa = tu_floats(2 * n_in), *sb = tu_floats(2 * n_in);
    assert_int_equal(nn_get_input_transform(a, sa, sa + n_in),
                     nn_get_input_transform(b, sb, sb + n_in));
    assert_memory_equal(sa, sb, 2 * n_in * sizeof(float));
    free(sa);
    free(sb);
    /* The serialisation covers what the API cannot show: optimizer state,
     * step count, schedule state and generator. */
    size_t la, lb;
    unsigned char *ba = save(a, &la), *bb = save(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    free(ba);
    free(bb);
}

/* ---------------------------------------------------------------------
 * The format
 * --------------------------------------------------------------------- */

static void test_crc32_known_answer(void **state)
{
    (void)state;
    assert_int_equal(nn__crc32("123456789", 9), 0xCBF43926u);
    assert_int_equal(nn__crc32("", 0), 0);
    unsigned char buf[1000];
    tu_fill((float *)buf, sizeof buf / 4, 3, -1e3, 1e3);
    assert_int_equal(nn__crc32(buf, sizeof buf),
                     crc32_bitwise(buf, sizeof buf));
}

/* nn_save_buffer writes exactly what docs/format.md describes: the
 * test-side codec decodes it, finds the network's values in it, and
 * re-encodes the same bytes. */
static void test_layout_matches_document(void **state)
{
    (void)state;
    nn_net *net =
        trained(4, sz_soft, act_soft, 0, NN_ADAM, NN_SCHEDULE_PLATEAU);
    size_t len;
    unsigned char *b = save(net, &len);
    model m;
    decode(b, len, &m);

    assert_memory_equal(m.magic, "\x89LNN\r\n\x1a\n", 8);
    assert_int_equal(m.version, 2);
    assert_int_equal(m.reserved, 0);
    assert_int_equal(rd_u64(b + 16), len);
    assert_int_equal(m.n_sizes, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(m.sizes[i], sz_soft[i]);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(m.acts[i], act_soft[i]);
    assert_int_equal(m.flags, 0);
    for (uint32_t i = 0; i < m.n_settings; i++) {
        double v;
        ASSERT_OK(nn_get(net, (int)m.keys[i], &v));
        assert_memory_equal(&v, &m.values[i], sizeof v);
        if (i > 0)
            assert_true(m.keys[i] > m.keys[i - 1]);
    }
    assert_int_equal(m.has_transform, 1);
    float *t = tu_floats(8);
    assert_int_equal(nn_get_input_transform(net, t, t + 4), 1);
    assert_memory_equal(t, m.transform, 8 * sizeof(float));
    free(t);
    assert_int_equal(m.n_params, nn_param_count(net));
    assert_memory_equal(m.params, nn_params(net), m.params_len * sizeof(float));
    assert_int_equal(m.slots, 2); /* Adam: first and second moments */
    assert_true(m.opt_steps > 0);
    double epochs;
    ASSERT_OK(nn_get(net, NN_OPT_EPOCHS_DONE, &epochs));
    assert_int_equal(m.epochs_done, (uint64_t)epochs);
    assert_int_equal(rd_u32(b + len - 4), crc32_bitwise(b, len - 4));

    size_t len2;
    unsigned char *b2 = encode(&m, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(b2, b, len);
    free(b2);
    model_free(&m);
    free(b);
    nn_free(net);
}

/* Every option nn_set() accepts is saved: a new one must have
 * NN_OPTION_SAVED in lib/options.h (and be in this test's kit). */
static void test_every_option_is_saved(void **state)
{
    (void)state;
    nn_net *net = tu_create(3, sz_small, act_small, 0, 1);
    size_t len;
    unsigned char *b = save(net, &len);
    model m;
    decode(b, len, &m);
    for (int o = 0; o < MAX_OPTION; o++) {
        double v;
        if (nn_get(net, o, &v) != NN_OK)
            continue;
        int in_file = 0, in_kit = 0;
        for (uint32_t i = 0; i < m.n_settings; i++)
            in_file |= m.keys[i] == (uint32_t)o;
        for (size_t i = 0; i < TU_ARRAY_LEN(kit); i++)
            in_kit |= kit[i].option == o;
        for (size_t i = 0; i < TU_ARRAY_LEN(kit_elsewhere); i++)
            in_kit |= kit_elsewhere[i] == o;
        if (!in_kit)
            TU_FAIL("option %d is new: add it to this test's kit, with "
                    "NN_OPTION_SAVED in lib/options.h",
                    o);
        /* read-only and process-wide options are not the model's */
        int read_only = o == NN_OPT_CURRENT_LR || o == NN_OPT_EPOCHS_DONE ||
                        o == NN_OPT_THREADS;
        if (in_file == read_only)
            TU_FAIL("option %d is %s the file", o,
                    in_file ? "read-only but in" : "settable but not in");
    }
    model_free(&m);
    free(b);
    nn_free(net);
}

/* ---------------------------------------------------------------------
 * Round trips and resumed training
 * --------------------------------------------------------------------- */

static void test_roundtrip_keeps_everything(void **state)
{
    (void)state;
    for (int opt = NN_SGD; opt <= NN_RMSPROP; opt++) {
        for (unsigned flags = 0; flags <= NN_NO_BIAS; flags++) {
            TU_CONTEXT("optimizer %d, flags %u", opt, flags);
            nn_net *net =
                trained(4, sz_soft, act_soft, flags, opt, NN_SCHEDULE_COSINE);
            size_t len;
            unsigned char *b = save(net, &len);
            nn_net *copy = load(b, len);
            assert_same_state(net, copy);
            nn_free(copy);
            free(b);
            nn_free(net);
        }
    }
    /* The smallest network, default settings, no transform, no training. */
    nn_net *net = tu_create(2, sz_id, act_id, NN_NO_BIAS, 9);
    size_t len;
    unsigned char *b = save(net, &len);
    nn_net *copy = load(b, len);
    assert_same_state(net, copy);
    assert_int_equal(nn_get_input_transform(copy, NULL, NULL), 0);
    nn_free(copy);
    free(b);
    nn_free(net);
    TU_CONTEXT_CLEAR();
}

/* Train, save, load, train both on: the same bits, through nn_train and
 * through nn_backprop + nn_step, for every optimizer and schedule. */
static void test_resumed_training_is_bit_identical(void **state)
{
    (void)state;
    for (int opt = NN_SGD; opt <= NN_RMSPROP; opt++) {
        for (int sched = NN_SCHEDULE_CONSTANT; sched <= NN_SCHEDULE_PLATEAU;
             sched++) {
            TU_CONTEXT("optimizer %d, schedule %d", opt, sched);
            nn_net *a = trained(3, sz_small, act_small, 0, opt, sched);
            size_t len;
            unsigned char *b = save(a, &len);
            nn_net *c = load(b, len);
            free(b);
            data d = make_data(a, 99);

            ASSERT_OK(nn_train(a, d.x, d.y, d.n, 4, NULL, NULL));
            ASSERT_OK(nn_train(c, d.x, d.y, d.n, 4, NULL, NULL));
            assert_memory_equal(nn_params(a), nn_params(c),
                                nn_param_count(a) * sizeof(float));
            for (int k = 0; k < 5; k++) {
                double ca, cc;
                ASSERT_OK(nn_backprop(a, d.x + k, d.y + k, 7, &ca));
                ASSERT_OK(nn_backprop(c, d.x + k, d.y + k, 7, &cc));
                assert_memory_equal(&ca, &cc, sizeof ca);
                assert_memory_equal(nn_grads(a), nn_grads(c),
                                    nn_param_count(a) * sizeof(float));
                ASSERT_OK(nn_step(a));
                ASSERT_OK(nn_step(c));
            }
            assert_memory_equal(nn_params(a), nn_params(c),
                                nn_param_count(a) * sizeof(float));
            assert_same_state(a, c);
            data_free(&d);
            nn_free(a);
            nn_free(c);
        }
    }
    TU_CONTEXT_CLEAR();
}

/* ---------------------------------------------------------------------
 * nn_save_buffer and nn_load_buffer arguments
 * --------------------------------------------------------------------- */

static void test_save_buffer_sizes(void **state)
{
    (void)state;
    nn_net *net = tu_create(3, sz_small, act_small, 0, 3);
    size_t need = 0, len = 0;
    ASSERT_OK(nn_save_buffer(net, NULL, 0, &need));
    assert_true(need > 24);
    ASSERT_OK(nn_save_buffer(net, NULL, 12345, &len)); /* cap ignored */
    assert_int_equal(len, need);

    unsigned char *b = tu_alloc(need + 8);
    memset(b, 0xAB, need + 8);
    len = 0;
    ASSERT_RC(nn_save_buffer(net, b, need - 1, &len), NN_ESHAPE);
    assert_int_equal(len, need);
    assert_non_null(strstr(nn_last_error(NULL), "bytes"));
    assert_string_equal(nn_last_error(net), ""); /* const: thread slot only */
    assert_int_equal(b[0], 0xAB);                /* nothing written */
    ASSERT_RC(nn_save_buffer(net, b, 0, &len), NN_ESHAPE);
    assert_int_equal(len, need);

    len = 0;
    ASSERT_OK(nn_save_buffer(net, b, need + 8, &len));
    assert_int_equal(len, need);
    assert_int_equal(b[need], 0xAB); /* not a byte more */
    len = 0;
    ASSERT_OK(nn_save_buffer(net, b, need, &len));
    assert_int_equal(len, need);

    ASSERT_RC(nn_save_buffer(NULL, b, need, &len), NN_EINVAL);
    ASSERT_RC(nn_save_buffer(net, b, need, NULL), NN_EINVAL);
    assert_string_equal(nn_last_error(net), "");
    free(b);
    nn_free(net);
}

static void test_load_buffer_arguments(void **state)
{
    (void)state;
    nn_net *net = tu_create(3, sz_small, act_small, 0, 3);
    size_t len;
    unsigned char *b = save(net, &len);
    nn_net *out = (nn_net *)1;
    ASSERT_RC(nn_load_buffer(NULL, b, len), NN_EINVAL);
    ASSERT_RC(nn_load_buffer(&out, NULL, len), NN_EINVAL);
    assert_null(out);
    out = (nn_net *)1;
    ASSERT_RC(nn_load_buffer(&out, b, 0), NN_EFORMAT);
    assert_null(out);
    assert_non_null(strstr(nn_last_error(NULL), "empty"));
    free(b);
    nn_free(net);
}

/* ---------------------------------------------------------------------
 * Damaged data
 * --------------------------------------------------------------------- */

/* Loads bad data: NN_EFORMAT, *out NULL, and a message containing `want`
 * (when not NULL). */
static void expect_eformat(const unsigned char *b, size_t len, const char *want)
{
    nn_net *out = (nn_net *)1;
    int rc = nn_load_buffer(&out, b, len);
    if (rc != NN_EFORMAT) {
        nn_free(rc == NN_OK ? out : NULL);
        TU_FAIL("nn_load_buffer returned %s, want NN_EFORMAT (%s)",
                nn_error_name(rc), nn_last_error(NULL));
    }
    assert_null(out);
    const char *msg = nn_last_error(NULL);
    assert_true(strlen(msg) > 10);
    if (want != NULL && strstr(msg, want) == NULL)
        TU_FAIL("message \"%s\" does not mention \"%s\"", msg, want);
}

static void test_truncation_at_every_offset(void **state)
{
    (void)state;
    nn_net *net = trained(3, sz_small, act_small, 0, NN_ADAM, NN_SCHEDULE_STEP);
    size_t len;
    unsigned char *b = save(net, &len);
    for (size_t n = 0; n < len; n++) {
        TU_CONTEXT("first %zu of %zu bytes", n, len);
        /* A copy of exactly n bytes, so that ASan sees any over-read. */
        unsigned char *t = malloc(n ? n : 1);
        memcpy(t, b, n);
        expect_eformat(t, n,
                       n == 0   ? "empty"
                       : n < 24 ? "truncated"
                                : "truncated");
        free(t);
    }
    TU_CONTEXT_CLEAR();
    free(b);
    nn_free(net);
}

static void test_every_bit_flip(void **state)
{
    (void)state;
    nn_net *net =
        trained(3, sz_small, act_small, 0, NN_MOMENTUM, NN_SCHEDULE_CONSTANT);
    size_t len;
    unsigned char *b = save(net, &len);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            TU_CONTEXT("byte %zu bit %d of %zu bytes", i, bit, len);
            b[i] ^= (unsigned char)(1u << bit);
            expect_eformat(b, len, NULL);
            b[i] ^= (unsigned char)(1u << bit);
        }
    }
    TU_CONTEXT_CLEAR();
    nn_free(load(b, len));
    free(b);
    nn_free(net);
}

static void test_trailing_data(void **state)
{
    (void)state;
    nn_net *net = tu_create(3, sz_small, act_small, 0, 3);
    size_t len;
    unsigned char *b = save(net, &len);
    unsigned char *t = tu_alloc(2 * len);
    memcpy(t, b, len);
    expect_eformat(t, len + 1, "1 bytes of trailing data");
    memcpy(t + len, b, len); /* a second model after the first */
    expect_eformat(t, 2 * len, "trailing");
    free(t);
    free(b);
    nn_free(net);
}

static void test_header_errors(void **state)
{
    (void)state;
    nn_net *net = tu_create(3, sz_small, act_small, 0, 3);
    size_t len;
    unsigned char *b = save(net, &len);

    b[0] = 'X';
    expect_eformat(b, len, "magic");
    expect_eformat(b, 3, "magic");
    b[0] = 0x89;

    for (uint32_t v = 0; v < 4; v++) {
        if (v == 1 || v == 2)
            continue;
        wr_u32(b + 8, v);
        fix_crc(b, len);
        expect_eformat(b, len, "version");
    }
    wr_u32(b + 8, 0xffffffffu);
    fix_crc(b, len);
    expect_eformat(b, len, "unsupported format version 4294967295");
    /* a version-1 header on a version-2 body: the metadata is left over */
    wr_u32(b + 8, 1);
    fix_crc(b, len);
    expect_eformat(b, len, "left over");
    wr_u32(b + 8, 2);

    wr_u32(b + 12, 7);
    fix_crc(b, len);
    expect_eformat(b, len, "reserved");
    wr_u32(b + 12, 0);

    wr_u64(b + 16, UINT64_MAX);
    fix_crc(b, len);
    expect_eformat(b, len, "truncated");
    wr_u64(b + 16, 10);
    fix_crc(b, len);
    expect_eformat(b, len, "smallest");
    wr_u64(b + 16, len - 4);
    fix_crc(b, len);
    expect_eformat(b, len, "trailing");
    wr_u64(b + 16, len);

    b[len - 1] ^= 0x80;
    expect_eformat(b, len, "checksum mismatch");
    fix_crc(b, len);
    nn_free(load(b, len));
    free(b);
    nn_free(net);
}

/* Hostile files with valid lengths and checksums: each field out of its
 * range, and counts that would need far more bytes (or memory) than the
 * file has. */
static void test_crafted_fields(void **state)
{
    (void)state;
    nn_net *net = trained(3, sz_small, act_small, 0, NN_ADAM, NN_SCHEDULE_STEP);
    size_t len;
    unsigned char *b = save(net, &len);
    model good;
    decode(b, len, &good);
    free(b);
    /* This network's loss is MSE on a sigmoid output; find entries. */
    int i_lr = -1, i_loss = -1, i_opt = -1, i_batch = -1, i_shuffle = -1;
    for (uint32_t i = 0; i < good.n_settings; i++) {
        switch (good.keys[i]) {
        case NN_OPT_LEARNING_RATE:
            i_lr = (int)i;
            break;
        case NN_OPT_LOSS:
            i_loss = (int)i;
            break;
        case NN_OPT_OPTIMIZER:
            i_opt = (int)i;
            break;
        case NN_OPT_BATCH_SIZE:
            i_batch = (int)i;
            break;
        case NN_OPT_SHUFFLE:
            i_shuffle = (int)i;
            break;
        }
    }
    assert_true(i_lr >= 0 && i_loss >= 0 && i_opt >= 0 && i_batch >= 0 &&
                i_shuffle >= 0);

    static const uint64_t absurd[] = {
        0, 1, 1u << 20, UINT32_MAX, (uint64_t)1 << 62, UINT64_MAX};
    for (size_t k = 0; k < TU_ARRAY_LEN(absurd); k++) {
        model m = good;
        m.n_sizes = absurd[k];
        size_t n;
        unsigned char *t = encode(&m, &n);
        expect_eformat(t, n, "n_sizes");
        free(t);
    }

    {
        model m = good; /* more layers than declared bytes make sense of */
        m.n_sizes = 9;
        size_t n;
        unsigned char *t = encode(&m, &n);
        expect_eformat(t, n, NULL);
        free(t);
    }

#define CASE(mutation, want)                                                   \
    do {                                                                       \
        model m = good;                                                        \
        mutation;                                                              \
        size_t n;                                                              \
        TU_CONTEXT("%s", #mutation);                                           \
        unsigned char *t = encode(&m, &n);                                     \
        expect_eformat(t, n, want);                                            \
        free(t);                                                               \
    } while (0)

    CASE(m.sizes[0] = 0, "sizes[0] is 0");
    CASE(m.sizes[1] = (uint64_t)1 << 31, "sizes[1]");
    CASE(m.sizes[1] = UINT64_MAX, "sizes[1]");
    /* Billions of parameters declared, a few hundred bytes present. */
    CASE((m.has_transform = 0, m.transform_len = 0, m.sizes[0] = 46340,
          m.sizes[1] = 46340, m.sizes[2] = 46340),
         "n_params is 26 but the architecture has 4294883880");
    CASE((m.has_transform = 0, m.transform_len = 0, m.n_params = 1ull << 61,
          m.sizes[0] = INT32_MAX, m.sizes[1] = INT32_MAX,
          m.sizes[2] = INT32_MAX, m.flags = NN_NO_BIAS),
         "n_params is 2305843009213693952 but");
    CASE((m.has_transform = 0, m.transform_len = 0,
          m.n_params = 2 * (uint64_t)INT32_MAX * INT32_MAX,
          m.sizes[0] = INT32_MAX, m.sizes[1] = INT32_MAX,
          m.sizes[2] = INT32_MAX, m.flags = NN_NO_BIAS),
         "'params' at byte");
    CASE(m.sizes[0] = 1000000, "'transform' at byte");
    CASE(m.acts[0] = 6, "activations[0]");
    CASE(m.acts[1] = 0xffffffffu, "activations[1]");
    CASE(m.acts[0] = NN_SOFTMAX, "softmax");
    CASE(m.flags = 2, "flags");
    CASE(m.flags = 0x80000000u, "flags");
    CASE(m.n_settings = UINT32_MAX, "n_settings");
    CASE(m.n_settings = m.n_settings + 1, NULL);
    CASE(m.keys[0] = 99, "option 99");
    CASE(m.keys[0] = NN_OPT_CURRENT_LR, "option 20");
    CASE(m.keys[1] = m.keys[0], "out of order");
    CASE(m.values[i_lr] = -1.0, "learning_rate");
    CASE(m.values[i_lr] = NAN, "learning_rate");
    CASE(m.values[i_lr] = INFINITY, "learning_rate");
    CASE(m.values[i_opt] = 6, "optimizer");
    CASE(m.values[i_opt] = 1.5, "optimizer");
    CASE(m.values[i_loss] = NN_LOSS_CROSS_ENTROPY, "softmax");
    CASE(m.values[i_loss] = 3, "loss");
    CASE(m.values[i_batch] = 0, "batch");
    CASE(m.values[i_batch] = 1e300, "batch");
    CASE(m.values[i_shuffle] = 2, "shuffle");
    CASE(m.has_transform = 2, "has_transform");
    CASE((m.has_transform = 1, m.transform_len = 2 * 3,
          m.transform = (float[6]){0, 0, 0, 1, NAN, 1}),
         "transform");
    CASE((m.has_transform = 1, m.transform_len = 2),
         NULL); /* transform shorter than 2 x sizes[0]: structure off */
    CASE(m.n_params = m.n_params + 1, "n_params");
    CASE(m.n_params = UINT64_MAX, "n_params");
    CASE(m.params_len = m.params_len - 1, NULL);
    CASE(m.slots = 1, NULL);
    CASE((m.slots = 1, m.state_len = m.params_len), "opt_slots is 1");
    CASE(m.slots = UINT32_MAX, "opt_");
    CASE(m.lr_factor = NAN, "lr_factor");
    CASE(m.lr_factor = -1.0, "lr_factor");
    CASE(m.plateau_best = NAN, "plateau_best");
    CASE(memset(m.rng, 0, sizeof m.rng), "generator");
    CASE(m.sizes_written = 2, NULL);
    CASE(m.settings_written = 0, NULL);
#undef CASE
    TU_CONTEXT_CLEAR();

    /* Values the library itself could have written load fine. */
    model m = good;
    m.plateau_best = INFINITY;
    m.lr_factor = INFINITY; /* found by fuzz_verbs: min_lr 1e300, lr 1e-300 */
    m.opt_steps = UINT64_MAX;
    m.epochs_done = UINT64_MAX;
    size_t n;
    unsigned char *t = encode(&m, &n);
    nn_free(load(t, n));
    free(t);
    /* A file without settings loads with the defaults (what a v1 file
     * written before an option existed gives a later library). */
    m = good;
    m.n_settings = 1;
    m.settings_written = 1;
    m.keys[0] = NN_OPT_OPTIMIZER;
    m.values[0] = NN_ADAM;
    t = encode(&m, &n);
    nn_net *c = load(t, n);
    double v;
    ASSERT_OK(nn_get(c, NN_OPT_LEARNING_RATE, &v));
    assert_true(v == 0.01);
    nn_free(c);
    free(t);
    model_free(&good);
    nn_free(net);
}

/* ---------------------------------------------------------------------
 * Files
 * --------------------------------------------------------------------- */

static char tmpdir[256];

static int setup_tmpdir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/libnn-persist-XXXXXX",
             base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            chmod(path, 0700);
            remove_tree(path);
        } else {
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

static int teardown_tmpdir(void **state)
{
    (void)state;
    remove_tree(tmpdir);
    return 0;
}

static const char *tmp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

/* Names in a directory, sorted into one comma-separated string. */
static void dir_listing(const char *dir, char *out, size_t cap)
{
    char names[32][256];
    size_t n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 32)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(names[n++], 256, "%s", e->d_name);
    closedir(d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char t[256];
                memcpy(t, names[i], 256);
                memcpy(names[i], names[j], 256);
                memcpy(names[j], t, 256);
            }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strncat(out, names[i], cap - strlen(out) - 1);
        if (i + 1 < n)
            strncat(out, ",", cap - strlen(out) - 1);
    }
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    bytes b = {0};
    unsigned char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        b_put(&b, chunk, k);
    fclose(f);
    *n = b.len;
    return b.p ? b.p : tu_alloc(1);
}

static void test_file_roundtrip(void **state)
{
    (void)state;
    char listing[1024];
    nn_net *net =
        trained(4, sz_soft, act_soft, 0, NN_RMSPROP, NN_SCHEDULE_EXPONENTIAL);
    const char *path = tmp_path("model.nnm");
    mode_t old_mask = umask(027);
    ASSERT_OK(nn_save(net, path));
    umask(old_mask);
    dir_listing(tmpdir, listing, sizeof listing);
    assert_string_equal(listing, "model.nnm");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640); /* 0666 & ~umask */

    size_t n, len;
    unsigned char *file = read_file(path, &n);
    unsigned char *b = save(net, &len);
    assert_int_equal(n, len);
    assert_memory_equal(file, b, len); /* the file is the buffer */
    free(file);
    free(b);

    nn_net *copy = (nn_net *)1;
    ASSERT_OK(nn_load(&copy, path));
    assert_same_state(net, copy);

    /* Replacing keeps the old file's permissions. */
    assert_int_equal(chmod(path, 0604), 0);
    data d = make_data(net, 5);
    ASSERT_OK(nn_train(copy, d.x, d.y, d.n, 1, NULL, NULL));
    data_free(&d);
    ASSERT_OK(nn_save(copy, path));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0604);
    dir_listing(tmpdir, listing, sizeof listing);
    assert_string_equal(listing, "model.nnm");
    nn_net *again = NULL;
    ASSERT_OK(nn_load(&again, path));
    assert_same_state(copy, again);
    nn_free(again);
    nn_free(copy);
    nn_free(net);
    unlink(path);
}

static void test_file_errors(void **state)
{
    (void)state;
    char listing[1024];
    nn_net *net = tu_create(3, sz_small, act_small, 0, 3);
    nn_net *out = (nn_net *)1;

    ASSERT_RC(nn_load(&out, tmp_path("missing.nnm")), NN_EIO);
    assert_null(out);
    assert_non_null(strstr(nn_last_error(NULL), "missing.nnm"));
    ASSERT_RC(nn_load(NULL, tmp_path("missing.nnm")), NN_EINVAL);
    ASSERT_RC(nn_load(&out, NULL), NN_EINVAL);
    ASSERT_RC(nn_load(&out, ""), NN_EINVAL);

    write_file(tmp_path("empty.nnm"), "", 0);
    out = (nn_net *)1;
    ASSERT_RC(nn_load(&out, tmp_path("empty.nnm")), NN_EFORMAT);
    assert_null(out);
    assert_non_null(strstr(nn_last_error(NULL), "empty"));

    out = (nn_net *)1;
    ASSERT_RC(nn_load(&out, tmpdir), NN_EIO); /* a directory */
    assert_null(out);

    size_t len;
    unsigned char *b = save(net, &len);
    write_file(tmp_path("short.nnm"), b, len - 1);
    ASSERT_RC(nn_load(&out, tmp_path("short.nnm")), NN_EFORMAT);
    assert_non_null(strstr(nn_last_error(NULL), "truncated"));
    unsigned char *longer = tu_alloc(len + 100);
    memcpy(longer, b, len);
    write_file(tmp_path("long.nnm"), longer, len + 100);
    ASSERT_RC(nn_load(&out, tmp_path("long.nnm")), NN_EFORMAT);
    assert_non_null(strstr(nn_last_error(NULL), "trailing"));
    free(longer);
    write_file(tmp_path("text.nnm"), "hello, world\n", 13);
    ASSERT_RC(nn_load(&out, tmp_path("text.nnm")), NN_EFORMAT);
    assert_non_null(strstr(nn_last_error(NULL), "magic"));
    unlink(tmp_path("empty.nnm"));
    unlink(tmp_path("short.nnm"));
    unlink(tmp_path("long.nnm"));
    unlink(tmp_path("text.nnm"));

    ASSERT_RC(nn_save(NULL, tmp_path("x.nnm")), NN_EINVAL);
    ASSERT_RC(nn_save(net, NULL), NN_EINVAL);
    ASSERT_RC(nn_save(net, ""), NN_EINVAL);

    /* A directory that does not exist: nothing is created anywhere. */
    ASSERT_RC(nn_save(net, tmp_path("no/such/dir/model.nnm")), NN_EIO);
    assert_non_null(strstr(nn_last_error(NULL), "model.nnm"));
    assert_string_equal(nn_last_error(net), ""); /* const: thread only */
    dir_listing(tmpdir, listing, sizeof listing);
    assert_string_equal(listing, "");

    /* The target is a directory: refused before anything is written. */
    assert_int_equal(mkdir(tmp_path("taken"), 0700), 0);
    ASSERT_RC(nn_save(net, tmp_path("taken")), NN_EIO);
    assert_non_null(strstr(nn_last_error(NULL), "directory"));
    dir_listing(tmpdir, listing, sizeof listing);
    assert_string_equal(listing, "taken");
    rmdir(tmp_path("taken"));

    /* An unwritable directory (root may write anyway: then the save must
     * simply succeed). */
    assert_int_equal(mkdir(tmp_path("ro"), 0500), 0);
    int rc = nn_save(net, tmp_path("ro/model.nnm"));
    if (geteuid() != 0) {
        ASSERT_RC(rc, NN_EIO);
        dir_listing(tmp_path("ro"), listing, sizeof listing);
        assert_string_equal(listing, "");
    } else {
        ASSERT_OK(rc);
    }
    chmod(tmp_path("ro"), 0700);
    unlink(tmp_path("ro/model.nnm"));
    rmdir(tmp_path("ro"));
    free(b);
    nn_free(net);
}

/* A write that fails half-way (the disk is full, here the file-size
 * limit): NN_EIO, the old model intact at the path, no temporary file. */
static void test_failed_write_keeps_old_file(void **state)
{
    (void)state;
    char listing[1024];
    nn_net *small = tu_create(2, sz_id, act_id, NN_NO_BIAS, 1);
    static const size_t wide[] = {64, 64, 10};
    static const nn_activation wide_acts[] = {NN_RELU, NN_SOFTMAX};
    nn_net *big = tu_create(3, wide, wide_acts, 0, 1);
    const char *path = tmp_path("model.nnm");
    ASSERT_OK(nn_save(small, path));
    size_t old_len;
    unsigned char *old = read_file(path, &old_len);
    assert_true(old_len < 4096);

    struct rlimit saved;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    struct rlimit lim = saved;
    lim.rlim_cur = 4096;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = nn_save(big, path);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, old_handler);

    ASSERT_RC(rc, NN_EIO);
    assert_non_null(strstr(nn_last_error(NULL), "write"));
    dir_listing(tmpdir, listing, sizeof listing);
    assert_string_equal(listing, "model.nnm");
    size_t now_len;
    unsigned char *now = read_file(path, &now_len);
    assert_int_equal(now_len, old_len);
    assert_memory_equal(now, old, old_len);
    free(now);
    free(old);
    unlink(path);
    nn_free(small);
    nn_free(big);
}

typedef struct pipe_job {
    const char *path;
    const unsigned char *p;
    size_t n;
} pipe_job;

static void *feed_fifo(void *arg)
{
    pipe_job *job = arg;
    int fd = open(job->path, O_WRONLY);
    if (fd >= 0) {
        /* In small pieces, so that the reader sees short reads. */
        for (size_t o = 0; o < job->n; o += 100) {
            size_t k = job->n - o < 100 ? job->n - o : 100;
            if (write(fd, job->p + o, k) != (ssize_t)k)
                break;
        }
        close(fd);
    }
    return NULL;
}

typedef struct pipe_read {
    const char *path;
    unsigned char *p;
    size_t n;
} pipe_read;

/* Reads a FIFO to its end into job->p (malloc'd). */
static void *drain_fifo(void *arg)
{
    pipe_read *job = arg;
    int fd = open(job->path, O_RDONLY);
    size_t cap = 0;
    unsigned char chunk[4096];
    ssize_t k;
    while (fd >= 0 && (k = read(fd, chunk, sizeof chunk)) > 0) {
        if (job->n + (size_t)k > cap) {
            cap = 2 * (job->n + (size_t)k);
            job->p = realloc(job->p, cap);
            if (job->p == NULL)
                break;
        }
        memcpy(job->p + job->n, chunk, (size_t)k);
        job->n += (size_t)k;
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* nn_load reads streams too (a FIFO: no size known in advance). */
static void test_load_from_fifo(void **state)
{
    (void)state;
    nn_net *net = trained(4, sz_soft, act_soft, 0, NN_ADAMW, NN_SCHEDULE_STEP);
    size_t len;
    unsigned char *b = save(net, &len);
    const char *path = tmp_path("fifo");
    assert_int_equal(mkfifo(path, 0600), 0);

    void (*old_handler)(int) = signal(SIGPIPE, SIG_IGN);
    pipe_job job = {path, b, len};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, feed_fifo, &job), 0);
    nn_net *copy = NULL;
    ASSERT_OK(nn_load(&copy, path));
    pthread_join(t, NULL);
    assert_same_state(net, copy);
    nn_free(copy);

    unsigned char *twice = tu_alloc(2 * len);
    memcpy(twice, b, len);
    memcpy(twice + len, b, len);
    job.p = twice;
    job.n = 2 * len;
    assert_int_equal(pthread_create(&t, NULL, feed_fifo, &job), 0);
    copy = (nn_net *)1;
    ASSERT_RC(nn_load(&copy, path), NN_EFORMAT);
    assert_null(copy);
    assert_non_null(strstr(nn_last_error(NULL), "trailing"));
    pthread_join(t, NULL); /* nn_load stopped early: EPIPE, not SIGPIPE */
    signal(SIGPIPE, old_handler);
    free(twice);
    unlink(path);
    free(b);
    nn_free(net);
}

/* What nn_save writes over: a device or FIFO is written in place (never
 * replaced by a regular file), a symbolic link keeps being a link to the
 * file that now holds the model, and a dangling link gets its target. */
static void test_save_special_targets(void **state)
{
    (void)state;
    char listing[1024];
    nn_net *net = trained(4, sz_soft, act_soft, 0, NN_ADAM, NN_SCHEDULE_STEP);
    size_t len;
    unsigned char *b = save(net, &len);
    struct stat before, after;

    /* a character device */
    assert_int_equal(stat("/dev/null", &before), 0);
    ASSERT_OK(nn_save(net, "/dev/null"));
    assert_int_equal(stat("/dev/null", &after), 0);
    assert_true(S_ISCHR(after.st_mode));
    assert_true(after.st_rdev == before.st_rdev &&
                after.st_ino == before.st_ino);

    /* a FIFO: the reader gets the model's bytes, the FIFO stays */
    const char *fifo = tmp_path("fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pipe_read job = {fifo, NULL, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, drain_fifo, &job), 0);
    ASSERT_OK(nn_save(net, fifo));
    pthread_join(t, NULL);
    assert_int_equal(job.n, len);
    assert_memory_equal(job.p, b, len);
    free(job.p);
    assert_int_equal(lstat(fifo, &after), 0);
    assert_true(S_ISFIFO(after.st_mode));
    unlink(fifo);

    /* a link to an existing model: the model is replaced, the link stays */
    nn_net *other = tu_create(3, sz_small, act_small, 0, 3);
    ASSERT_OK(nn_save(other, tmp_path("run1.nnm")));
    assert_int_equal(symlink("run1.nnm", tmp_path("latest.nnm")), 0);
    assert_int_equal(chmod(tmp_path("run1.nnm"), 0604), 0);
    ASSERT_OK(nn_save(net, tmp_path("latest.nnm")));
    assert_int_equal(lstat(tmp_path("latest.nnm"), &after), 0);
    assert_true(S_ISLNK(after.st_mode));
    size_t n;
    unsigned char *file = read_file(tmp_path("run1.nnm"), &n);
    assert_int_equal(n, len);
    assert_memory_equal(file, b, len);
    free(file);
    assert_int_equal(stat(tmp_path("run1.nnm"), &after), 0);
    assert_int_equal(after.st_mode & 0777, 0604);

    /* a dangling link: its target is created */
    assert_int_equal(symlink("new.nnm", tmp_path("next.nnm")), 0);
    ASSERT_OK(nn_save(net, tmp_path("next.nnm")));
    assert_int_equal(lstat(tmp_path("next.nnm"), &after), 0);
    assert_true(S_ISLNK(after.st_mode));
    file = read_file(tmp_path("new.nnm"), &n);
    assert_int_equal(n, len);
    free(file);
    dir_listing(tmpdir, listing, sizeof listing);
    assert_string_equal(listing, "latest.nnm,new.nnm,next.nnm,run1.nnm");

    /* a loop of links: an error, nothing written */
    assert_int_equal(symlink("loop2.nnm", tmp_path("loop1.nnm")), 0);
    assert_int_equal(symlink("loop1.nnm", tmp_path("loop2.nnm")), 0);
    ASSERT_RC(nn_save(net, tmp_path("loop1.nnm")), NN_EIO);
    dir_listing(tmpdir, listing, sizeof listing);
    assert_string_equal(listing, "latest.nnm,loop1.nnm,loop2.nnm,new.nnm,"
                                 "next.nnm,run1.nnm");
    static const char *const names[] = {"latest.nnm", "loop1.nnm",
                                        "loop2.nnm",  "new.nnm",
                                        "next.nnm",   "run1.nnm"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(tmp_path(names[i]));
    nn_free(other);
    free(b);
    nn_free(net);
}

/* ---------------------------------------------------------------------
 * What the model knows about its data (format version 2)
 * --------------------------------------------------------------------- */

static const char *const class_names[] = {"setosa", "versicolor", "virginica"};

static void assert_names(const nn_net *net, size_t (*get)(const nn_net *,
                                                          const char *const **),
                         size_t n, const char *const *want)
{
    const char *const *got = NULL;
    assert_int_equal(get(net, &got), n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(got[i], want[i]);
    if (n == 0)
        assert_null(got);
}

/* Names and task survive a buffer, a file and nn_clone; the setters keep
 * copies and check counts and duplicates, and a failed call changes
 * nothing. */
static void test_metadata_roundtrip(void **state)
{
    (void)state;
    static const size_t sz[] = {2, 4, 3};
    static const nn_activation act[] = {NN_RELU, NN_SOFTMAX};
    static const char *const features[] = {"length, cm", "width"};
    nn_net *net = tu_create(3, sz, act, 0, 5);
    assert_int_equal(nn_get_task(net), NN_TASK_CLASSIFY); /* from the loss */
    assert_int_equal(nn_classes(net, NULL), 0);
    assert_null(nn_label_name(net));

    char name[] = "species";
    ASSERT_OK(nn_set_label_name(net, name));
    name[0] = 'X'; /* copied, not kept */
    ASSERT_OK(nn_set_classes(net, 3, class_names));
    ASSERT_OK(nn_set_feature_names(net, 2, features));
    ASSERT_OK(nn_set_task(net, NN_TASK_CLASSIFY));

    static const char *const dup[] = {"a", "b", "a"};
    static const char *const empty[] = {"a", "", "c"};
    ASSERT_RC(nn_set_classes(net, 3, dup), NN_EINVAL);
    assert_non_null(strstr(nn_last_error(net), "'a'"));
    ASSERT_RC(nn_set_classes(net, 3, empty), NN_EINVAL);
    ASSERT_RC(nn_set_classes(net, 2, class_names), NN_ESHAPE);
    ASSERT_RC(nn_set_classes(net, 3, NULL), NN_EINVAL);
    ASSERT_RC(nn_set_feature_names(net, 3, class_names), NN_ESHAPE);
    ASSERT_RC(nn_set_task(net, 3), NN_EINVAL);
    ASSERT_RC(nn_set_task(NULL, 1), NN_EINVAL);
    assert_int_equal(nn_get_task(NULL), NN_EINVAL);
    assert_int_equal(nn_classes(NULL, NULL), 0);
    assert_names(net, nn_classes, 3, class_names);

    size_t len;
    unsigned char *b = save(net, &len);
    nn_net *back = NULL, *copy = NULL;
    ASSERT_OK(nn_load_buffer(&back, b, len));
    ASSERT_OK(nn_clone(net, &copy));
    nn_net *each[] = {net, back, copy};
    for (int i = 0; i < 3; i++) {
        assert_string_equal(nn_label_name(each[i]), "species");
        assert_int_equal(nn_get_task(each[i]), NN_TASK_CLASSIFY);
        assert_names(each[i], nn_classes, 3, class_names);
        assert_names(each[i], nn_feature_names, 2, features);
    }
    /* removing them */
    ASSERT_OK(nn_set_classes(copy, 0, NULL));
    ASSERT_OK(nn_set_feature_names(copy, 0, NULL));
    ASSERT_OK(nn_set_label_name(copy, NULL));
    ASSERT_OK(nn_set_task(copy, NN_TASK_REGRESS));
    assert_names(copy, nn_classes, 0, NULL);
    assert_names(copy, nn_feature_names, 0, NULL);
    assert_null(nn_label_name(copy));
    assert_int_equal(nn_get_task(copy), NN_TASK_REGRESS);
    free(b);
    nn_free(copy);
    nn_free(back);
    nn_free(net);
}

/* A sigmoid output trained with binary cross-entropy is a classifier, and
 * takes two class names for its one unit. */
static void test_binary_classifier(void **state)
{
    (void)state;
    static const size_t sz[] = {2, 3, 1};
    static const nn_activation act[] = {NN_TANH, NN_SIGMOID};
    static const char *const two[] = {"no", "yes"};
    nn_net *net = tu_create(3, sz, act, 0, 5);
    assert_int_equal(nn_get_task(net), NN_TASK_REGRESS); /* MSE */
    ASSERT_OK(nn_set(net, NN_OPT_LOSS, NN_LOSS_BINARY_CROSS_ENTROPY));
    assert_int_equal(nn_get_task(net), NN_TASK_CLASSIFY);
    ASSERT_OK(nn_set_classes(net, 2, two));
    ASSERT_RC(nn_set_classes(net, 3, class_names), NN_ESHAPE);
    assert_names(net, nn_classes, 2, two);
    nn_free(net);
}

/* Crafted metadata: strings past the end, NUL bytes, an unknown task and
 * names the setters refuse are NN_EFORMAT. */
static void test_crafted_metadata(void **state)
{
    (void)state;
    static const size_t sz[] = {2, 4, 3};
    static const nn_activation act[] = {NN_RELU, NN_SOFTMAX};
    static const char *const abc[] = {"ab", "cd", "ef"};
    nn_net *net = tu_create(3, sz, act, 0, 5);
    ASSERT_OK(nn_set_label_name(net, "y"));
    ASSERT_OK(nn_set_classes(net, 3, abc));
    size_t len;
    unsigned char *b = save(net, &len);
    model m;
    decode(b, len, &m);
    /* meta: task, label "y" (4 + 1), classes count, "ab" (4 + 2), ... */
    unsigned char *meta = m.meta;
    unsigned char *c;
    size_t n;

    wr_u32(meta, 9);
    c = encode(&m, &n);
    expect_eformat(c, n, "task");
    free(c);
    wr_u32(meta, NN_TASK_CLASSIFY);

    wr_u32(meta + 4, 0xffffffu);
    c = encode(&m, &n);
    expect_eformat(c, n, "label");
    free(c);
    wr_u32(meta + 4, 1);

    meta[8] = '\0';
    c = encode(&m, &n);
    expect_eformat(c, n, "NUL");
    free(c);
    meta[8] = 'y';

    wr_u32(meta + 9, 0x40000000u);
    c = encode(&m, &n);
    expect_eformat(c, n, "classes");
    free(c);
    wr_u32(meta + 9, 3);

    memcpy(meta + 17, "cd", 2); /* "ab" becomes a second "cd" */
    c = encode(&m, &n);
    expect_eformat(c, n, "class names");
    free(c);
    memcpy(meta + 17, "ab", 2);

    c = encode(&m, &n); /* unchanged: loads */
    nn_net *back = NULL;
    ASSERT_OK(nn_load_buffer(&back, c, n));
    assert_names(back, nn_classes, 3, abc);
    nn_free(back);
    free(c);
    model_free(&m);
    free(b);
    nn_free(net);
}

/* ---------------------------------------------------------------------
 * Compatibility: the committed version-1 model
 * --------------------------------------------------------------------- */

/* tests/data/model-v1.nnm: sizes {3, 5, 2}, tanh then softmax, Adam,
 * an input transform, three epochs of training by tests/data/
 * make-model.c. Its predictions on these inputs were recorded when it
 * was written; the file and these numbers are frozen. */
static const float compat_x[4 * 3] = {
    0.5f, -1.0f, 2.0f, -0.25f, 0.0f,  1.5f,
    1.0f, 1.0f,  1.0f, -2.0f,  0.75f, -0.5f,
};
static const double compat_y[4 * 2] = {
    0x1.24a8b4p-2, 0x1.6daba4p-1, /* 0.285799801, 0.714200139 */
    0x1.bdd6f4p-4, 0x1.c8452p-1,  /* 0.108847573, 0.891152382 */
    0x1.c264c2p-1, 0x1.ecd9fp-4,  /* 0.879674971, 0.120325029 */
    0x1.4e4cc2p-3, 0x1.ac6ccep-1, /* 0.163232341, 0.836767614 */
};

/* Loads the frozen file `name` of tests/data (its path left in `path`). */
static nn_net *load_frozen(const char *name, char path[1024])
{
    const char *dir = getenv("NN_TEST_DATA");
    snprintf(path, 1024, "%s/%s", dir && *dir ? dir : "../tests/data", name);
    nn_net *net = NULL;
    int rc = nn_load(&net, path);
    if (rc != NN_OK)
        TU_FAIL("nn_load(%s): %s: %s", path, nn_error_name(rc),
                nn_last_error(NULL));
    return net;
}

/* The predictions on compat_x recorded when the file was written. */
static void assert_recorded_predictions(const nn_net *net,
                                        const double recorded[4 * 2])
{
    float y[4 * 2];
    ASSERT_OK(nn_predict(net, compat_x, 4, y));
    for (size_t i = 0; i < 8; i++)
        ASSERT_CLOSE(y[i], recorded[i], 1e-5, 1e-6);
}

static void test_compat_v1_model(void **state)
{
    (void)state;
    char path[1024];
    nn_net *net = load_frozen("model-v1.nnm", path);
    assert_int_equal(nn_num_layers(net), 3);
    assert_int_equal(nn_layer_size(net, 0), 3);
    assert_int_equal(nn_layer_size(net, 1), 5);
    assert_int_equal(nn_layer_size(net, 2), 2);
    double v;
    ASSERT_OK(nn_get(net, NN_OPT_OPTIMIZER, &v));
    assert_true(v == NN_ADAM);
    ASSERT_OK(nn_get(net, NN_OPT_LEARNING_RATE, &v));
    assert_true(v == 0.05);
    ASSERT_OK(nn_get(net, NN_OPT_BATCH_SIZE, &v));
    assert_true(v == 4);
    assert_int_equal(nn_get_input_transform(net, NULL, NULL), 1);
    assert_recorded_predictions(net, compat_y);
    /* Its parameters are those the file holds (as docs/format.md reads
     * them), bit for bit. */
    size_t n;
    unsigned char *file = read_file(path, &n);
    model m;
    decode(file, n, &m);
    assert_int_equal(m.version, 1);
    assert_memory_equal(m.params, nn_params(net),
                        nn_param_count(net) * sizeof(float));
    model_free(&m);
    free(file);
    /* And it trains on. */
    float t[4 * 2] = {1, 0, 0, 1, 1, 0, 0, 1};
    double before, after;
    ASSERT_OK(nn_evaluate(net, compat_x, t, 4, &before, NULL));
    ASSERT_OK(nn_train(net, compat_x, t, 4, 20, NULL, NULL));
    ASSERT_OK(nn_evaluate(net, compat_x, t, 4, &after, NULL));
    assert_true(after < before);
    nn_free(net);
}


/* tests/data/model-v2.nnm: the same network written by `make-model
 * --names`, with a task, class names, feature names and a label name;
 * frozen like the version-1 file. */
static const double compat_v2_y[4 * 2] = {
    0x1.7f94d4p-2, 0x1.403594p-1, /* 0.374591172, 0.625408769 */
    0x1.df43c8p-4, 0x1.c41788p-1, /* 0.117008001, 0.882992029 */
    0x1.d09b8ep-1, 0x1.7b2392p-4, /* 0.907436788, 0.0925632194 */
    0x1.b81fap-4,  0x1.c8fc0ap-1, /* 0.107452035, 0.892547905 */
};

static void test_compat_v2_model(void **state)
{
    (void)state;
    char path[1024];
    nn_net *net = load_frozen("model-v2.nnm", path);
    static const char *const classes[] = {"above", "below"};
    static const char *const features[] = {"x0", "x1", "x2"};
    assert_int_equal(nn_get_task(net), NN_TASK_CLASSIFY);
    assert_names(net, nn_classes, 2, classes);
    assert_names(net, nn_feature_names, 3, features);
    assert_string_equal(nn_label_name(net), "side");
    assert_recorded_predictions(net, compat_v2_y);
    /* saved again, it is the same file byte for byte */
    size_t n, len;
    unsigned char *file = read_file(path, &n);
    unsigned char *again = save(net, &len);
    assert_int_equal(len, n);
    assert_memory_equal(file, again, n);
    free(again);
    free(file);
    nn_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_known_answer),
        cmocka_unit_test(test_layout_matches_document),
        cmocka_unit_test(test_every_option_is_saved),
        cmocka_unit_test(test_roundtrip_keeps_everything),
        cmocka_unit_test(test_resumed_training_is_bit_identical),
        cmocka_unit_test(test_save_buffer_sizes),
        cmocka_unit_test(test_load_buffer_arguments),
        cmocka_unit_test(test_truncation_at_every_offset),
        cmocka_unit_test(test_every_bit_flip),
        cmocka_unit_test(test_trailing_data),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_crafted_fields),
        cmocka_unit_test_setup_teardown(test_file_roundtrip, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_file_errors, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_failed_write_keeps_old_file,
                                        setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_load_from_fifo, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_save_special_targets,
                                        setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test(test_compat_v1_model),
        cmocka_unit_test(test_metadata_roundtrip),
        cmocka_unit_test(test_binary_classifier),
        cmocka_unit_test(test_crafted_metadata),
        cmocka_unit_test(test_compat_v2_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
