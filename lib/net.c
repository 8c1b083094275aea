/* SPDX-License-Identifier: MIT */
/*
 * struct nn_net's life: the architecture's rules (for nn_create and the
 * loader alike), allocation with overflow-checked size arithmetic,
 * the parameter layout (per layer W then b), seeded initialisation, batch
 * buffers grown to the largest batch seen, and freeing; and the
 * finiteness checks of a call's data and outputs.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "internal.h"
#include "options.h"
#include "vectorize.h"

static void default_settings(nn__settings *s, nn_activation last)
{
#define DEFAULT(OPTION, name, field, type, lower, upper, flags, def)         \
    s->field = def;
#define COMPUTED(OPTION, ...)
    NN__OPTIONS(DEFAULT, COMPUTED)
#undef COMPUTED
#undef DEFAULT
    if (last == NN_SOFTMAX)
        s->loss = NN_LOSS_CROSS_ENTROPY;
}

int nn__check_architecture(const char *who, size_t n_sizes, const size_t *sizes,
                           const nn_activation *activations, unsigned flags)
{
    NN__CHECK(NULL, sizes && activations, NN_EINVAL,
              "%s: sizes and activations must not be NULL", who);
    NN__CHECK(NULL, n_sizes >= 2, NN_EINVAL,
              "%s: n_sizes is %zu, at least 2 are needed", who, n_sizes);
    NN__CHECK(NULL, (flags & ~(unsigned)NN_NO_BIAS) == 0, NN_EINVAL,
              "%s: unknown flags 0x%x", who, flags & ~(unsigned)NN_NO_BIAS);
    for (size_t i = 0; i < n_sizes; i++) {
        NN__CHECK(NULL, sizes[i] >= 1, NN_EINVAL, "%s: sizes[%zu] is 0", who,
                  i);
        NN__CHECK(NULL, sizes[i] <= INT_MAX, NN_ENOMEM,
                  "%s: sizes[%zu] = %zu is too large", who, i, sizes[i]);
    }
    for (size_t l = 0; l + 1 < n_sizes; l++) {
        int act = (int)activations[l];
        NN__CHECK(NULL, act >= NN_IDENTITY && act <= NN_LEAKY_RELU, NN_EINVAL,
                  "%s: activations[%zu] = %d is unknown", who, l, act);
        NN__CHECK(NULL, act != NN_SOFTMAX || l + 2 == n_sizes, NN_EINVAL,
                  "%s: softmax is allowed on the last layer only "
                  "(activations[%zu])",
                  who, l);
    }
    return NN_OK;
}

/* Lays the layers out in the parameter buffer; 0 when the count overflows. */
static int layout(nn_net *net, const nn_activation *activations)
{
    size_t offset = 0;
    for (size_t l = 0; l + 1 < net->n_sizes; l++) {
        nn__layer *layer = &net->layers[l];
        size_t weights;
        layer->n_in = net->sizes[l];
        layer->n_out = net->sizes[l + 1];
        layer->act = activations[l];
        if (!nn__mul_ok(layer->n_in, layer->n_out, &weights))
            return 0;
        layer->w_off = offset;
        if (!nn__add_ok(offset, weights, &offset))
            return 0;
        layer->b_off = offset;
        if (nn__has_bias(net) && !nn__add_ok(offset, layer->n_out, &offset))
            return 0;
    }
    net->n_params = offset;
    return 1;
}

int nn__net_alloc(nn_net **out, size_t n_sizes, const size_t *sizes,
                  const nn_activation *activations, unsigned flags)
{
    nn_net *net = calloc(1, sizeof *net);
    if (!net)
        return NN_ENOMEM;
    net->n_sizes = n_sizes;
    net->flags = flags;
    net->sizes = calloc(n_sizes, sizeof *net->sizes);
    net->layers = calloc(n_sizes - 1, sizeof *net->layers);
    net->buf.act = calloc(n_sizes, sizeof *net->buf.act);
    net->buf.mask = calloc(n_sizes, sizeof *net->buf.mask);
    if (!net->sizes || !net->layers || !net->buf.act || !net->buf.mask)
        goto fail;
    memcpy(net->sizes, sizes, n_sizes * sizeof *sizes);
    for (size_t i = 0; i < n_sizes; i++)
        net->max_width = sizes[i] > net->max_width ? sizes[i] : net->max_width;
    if (!layout(net, activations) ||
        net->n_params > SIZE_MAX / 2 / sizeof(float))
        goto fail;
    net->params = calloc(net->n_params, sizeof *net->params);
    net->grads = calloc(net->n_params, sizeof *net->grads);
    if (!net->params || !net->grads)
        goto fail;
    default_settings(&net->set, activations[n_sizes - 2]);
    nn__schedule_restart(net);
    nn__epochs_restart(net);
    *out = net;
    return NN_OK;
fail:
    nn__net_free(net);
    return NN_ENOMEM;
}

void nn__net_init_weights(nn_net *net, uint64_t seed)
{
    nn__rng_seed(net->rng, seed);
    for (size_t l = 0; l + 1 < net->n_sizes; l++) {
        const nn__layer *layer = &net->layers[l];
        int he = layer->act == NN_RELU || layer->act == NN_LEAKY_RELU;
        double fan = he ? (double)layer->n_in
                        : (double)layer->n_in + (double)layer->n_out;
        double a = sqrt(6.0 / fan);
        float *w = net->params + layer->w_off;
        for (size_t i = 0; i < layer->n_in * layer->n_out; i++)
            w[i] = (float)((2.0 * nn__rng_uniform(net->rng) - 1.0) * a);
    }
}

void nn__net_free(nn_net *net)
{
    if (!net)
        return;
    free(net->sizes);
    free(net->layers);
    free(net->buf.act);
    free(net->buf.mask);
    free(net->buf.block);
    free(net->input.shift);
    nn__meta_free(&net->meta);
    free(net->history.block);
    free(net->best.params);
    free(net->params);
    free(net->grads);
    free(net->opt_state);
    free(net->train.order);
    free(net->train.xb);
    free(net->train.yb);
    free(net);
}

int nn__needs_masks(const nn_net *net)
{
    return net->set.dropout > 0.0 && net->n_sizes > 2;
}

/* Floats per batch row: every layer's outputs, the logits, two deltas, and
 * the optional transformed inputs and dropout masks. */
static size_t floats_per_row(const nn_net *net, int with_input,
                             int with_masks)
{
    size_t per_row = 0, widest = 0, last = net->sizes[net->n_sizes - 1];
    for (size_t l = 1; l < net->n_sizes; l++) {
        per_row += net->sizes[l];
        widest = net->sizes[l] > widest ? net->sizes[l] : widest;
    }
    size_t masks = with_masks ? per_row - last : 0;
    return per_row + last + 2 * widest + masks +
           (with_input ? net->sizes[0] : 0);
}

/* Points the buffers into a block of `rows` rows laid out as above. */
static void carve(nn_net *net, float *block, size_t rows)
{
    nn__buffers *b = &net->buf;
    size_t widest = 0, last = net->n_sizes - 1;
    b->act[0] = NULL;
    if (b->with_input) {
        b->act[0] = block;
        block += rows * net->sizes[0];
    }
    for (size_t l = 1; l < net->n_sizes; l++) {
        b->act[l] = block;
        block += rows * net->sizes[l];
        widest = net->sizes[l] > widest ? net->sizes[l] : widest;
    }
    for (size_t l = 1; l < last; l++) {
        b->mask[l] = b->with_masks ? block : NULL;
        block += b->with_masks ? rows * net->sizes[l] : 0;
    }
    b->logits = block;
    block += rows * net->sizes[last];
    b->delta[0] = block;
    b->delta[1] = block + rows * widest;
}

int nn__buffers_reserve(nn_net *net, size_t batch)
{
    nn__buffers *b = &net->buf;
    int with_input = b->with_input || net->input.shift != NULL;
    int with_masks = b->with_masks || nn__needs_masks(net);
    if (batch <= b->cap && with_input == b->with_input &&
        with_masks == b->with_masks)
        return NN_OK;
    size_t rows = batch > b->cap ? batch : b->cap;
    size_t total, bytes;
    if (rows > INT_MAX ||
        !nn__mul_ok(rows, floats_per_row(net, with_input, with_masks),
                    &total) ||
        !nn__mul_ok(total, sizeof(float), &bytes))
        return nn__fail(net, NN_ESHAPE, "batch of %zu rows is too large",
                        rows);
    float *block = malloc(bytes);
    if (!block)
        return nn__fail(net, NN_ENOMEM, "cannot allocate buffers for a "
                        "batch of %zu rows", rows);
    free(b->block);
    b->block = block;
    b->cap = rows;
    b->with_input = with_input;
    b->with_masks = with_masks;
    b->masks_drawn = 0;
    b->rows = 0; /* a new block holds no outputs yet */
    carve(net, block, rows);
    return NN_OK;
}

/* ---- the data of a call ---- */

/* 1 when v[0..n) holds no NaN or infinity. The exponent bits are all
 * ones exactly for NaN and infinities, and then adding one to the
 * exponent carries into the sign bit: an and-add-or reduction, which
 * vectorises even in SSE2. Inlined whole into the two checks below. */
static inline __attribute__((always_inline)) int finite_bits(const float *v,
                                                             size_t n)
{
    uint32_t carry = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        carry |= (bits & 0x7f800000u) + 0x00800000u;
    }
    return !(carry & 0x80000000u);
}

static NN__VECTORIZE int all_finite_range(const float *v, size_t n)
{
    return finite_bits(v, n);
}

/* The same check for a few values, kept scalar: vector loads of values
 * that a product has just stored one at a time stall until the stores
 * retire (store-to-load forwarding fails), which costs a small network's
 * step more than the whole check. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-vectorize")))
#endif
static int all_finite_short(const float *v, size_t n)
{
    return finite_bits(v, n);
}

/* One part of nn__all_finite's array; `ctx` is the whole check. */
typedef struct finite_check {
    const float *v;
    atomic_int finite;
} finite_check;

static void check_range(void *ctx, size_t lo, size_t hi)
{
    finite_check *c = ctx;
    if (!all_finite_range(c->v + lo, hi - lo))
        atomic_store_explicit(&c->finite, 0, memory_order_relaxed);
}

/* Runs over whole training sets and batches, so long arrays are shared
 * among the backend's threads. */
int nn__all_finite(const float *v, size_t n)
{
    /* nn__parallel_for would run a short array on this thread too; going
     * straight there spares the small networks' checks the shared flag. */
    if (n < 16)
        return all_finite_short(v, n);
    if (n < NN__PARALLEL_MIN)
        return all_finite_range(v, n);
    finite_check c = {v, 1};
    nn__parallel_for(n, n, check_range, &c);
    return atomic_load_explicit(&c.finite, memory_order_relaxed);
}

int nn__check_outputs(nn_net *err_net, const char *fn, const float *y_hat,
                      size_t first, size_t rows, size_t n_out)
{
    if (nn__all_finite(y_hat, rows * n_out))
        return NN_OK;
    size_t i = 0;
    while (i + 1 < rows && nn__all_finite(y_hat + i * n_out, n_out))
        i++;
    return nn__fail(err_net, NN_ENUMERIC,
                    "%s: the outputs of row %zu are not finite (NaN or "
                    "infinity): its inputs are too large for the network",
                    fn, first + i);
}
