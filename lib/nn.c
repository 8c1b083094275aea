/* SPDX-License-Identifier: MIT */
/*
 * The handle's public entry points: versions, lifecycle (create, free,
 * clone), settings (nn_set / nn_get over the table of options.h) and the
 * accessors of its layers, parameters and outputs. Training (train.c,
 * epoch.c), inference (infer.c), model files (persist.c) and gradcheck
 * (gradcheck.c) own theirs. Every check happens before anything changes,
 * so a failed call leaves the handle as it was (the contract's failed-call
 * rule).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "options.h"

#define STR2(x) #x
#define STR(x) STR2(x)

unsigned nn_version(void)
{
    return LIBNN_VERSION_MAJOR * 10000u + LIBNN_VERSION_MINOR * 100u +
           LIBNN_VERSION_PATCH;
}

const char *nn_version_string(void)
{
    return STR(LIBNN_VERSION_MAJOR) "." STR(LIBNN_VERSION_MINOR) "." STR(
        LIBNN_VERSION_PATCH);
}

const char *nn_build_info(void)
{
    /* Per thread: the thread count in it can change between calls. */
    static _Thread_local char text[1024];
    int n = snprintf(text, sizeof text, "libnn: %s\n", nn_version_string());
    n += nn__backend_info(text + n, sizeof text - (size_t)n);
    if ((size_t)n < sizeof text)
        snprintf(text + n, sizeof text - (size_t)n, "inference-kernels: %s\n",
                 nn__inference_kernels());
    return text;
}

/* ---- lifecycle ---- */

int nn_create(nn_net **out, size_t n_sizes, const size_t *sizes,
              const nn_activation *activations, unsigned flags, uint64_t seed)
{
    NN__CHECK(NULL, out, NN_EINVAL, "nn_create: out must not be NULL");
    *out = NULL;
    NN__TRY(nn__check_architecture("nn_create", n_sizes, sizes, activations,
                                   flags));
    nn_net *net;
    NN__CHECK(NULL, nn__net_alloc(&net, n_sizes, sizes, activations, flags) ==
                        NN_OK,
              NN_ENOMEM, "nn_create: cannot allocate the network");
    nn__net_init_weights(net, seed);
    *out = net;
    return NN_OK;
}

void nn_free(nn_net *net)
{
    nn__net_free(net);
}

/* *dst = a copy of n bytes of src (NULL stays NULL); 0 when out of memory. */
static int dup_bytes(void *dst, const void *src, size_t n)
{
    void *copy = NULL;
    if (src && !(copy = malloc(n)))
        return 0;
    if (src)
        memcpy(copy, src, n);
    memcpy(dst, &copy, sizeof copy);
    return 1;
}

int nn_clone(const nn_net *net, nn_net **out)
{
    NN__CHECK(NULL, out, NN_EINVAL, "nn_clone: out must not be NULL");
    *out = NULL;
    NN__CHECK(NULL, net, NN_EINVAL, "nn_clone: net must not be NULL");
    nn_activation *acts = malloc((net->n_sizes - 1) * sizeof *acts);
    NN__CHECK(NULL, acts, NN_ENOMEM, "nn_clone: out of memory");
    for (size_t l = 0; l + 1 < net->n_sizes; l++)
        acts[l] = net->layers[l].act;
    nn_net *copy;
    int rc = nn__net_alloc(&copy, net->n_sizes, net->sizes, acts, net->flags);
    free(acts);
    NN__CHECK(NULL, rc == NN_OK, NN_ENOMEM, "nn_clone: out of memory");
    size_t state = (size_t)net->opt_slots * net->n_params;
    size_t history = NN__HIST_SERIES * NN__HIST_CAP;
    /* Early stopping's copy of the parameters, when it holds a best. */
    const float *best = net->best.val_loss < HUGE_VAL ? net->best.params
                                                      : NULL;
    if (!dup_bytes(&copy->opt_state, net->opt_state, state * sizeof(float)) ||
        !dup_bytes(&copy->input.shift, net->input.shift,
                   2 * net->sizes[0] * sizeof(float)) ||
        !dup_bytes(&copy->history.block, net->history.block,
                   history * sizeof(double)) ||
        !dup_bytes(&copy->best.params, best, net->n_params * sizeof(float)) ||
        nn__meta_copy(&copy->meta, &net->meta) != NN_OK) {
        nn__net_free(copy);
        return nn__fail(NULL, NN_ENOMEM, "nn_clone: out of memory");
    }
    if (copy->input.shift)
        copy->input.scale = copy->input.shift + net->sizes[0];
    copy->history.len = net->history.len;
    copy->best.val_loss = net->best.val_loss;
    copy->best.worse = net->best.worse;
    copy->sched = net->sched;
    memcpy(copy->params, net->params, net->n_params * sizeof(float));
    memcpy(copy->grads, net->grads, net->n_params * sizeof(float));
    copy->grads_valid = net->grads_valid;
    copy->set = net->set;
    copy->opt_slots = net->opt_slots;
    copy->opt_steps = net->opt_steps;
    memcpy(copy->rng, net->rng, sizeof copy->rng);
    *out = copy;
    return NN_OK;
}

/* ---- settings: the table of options.h ---- */

typedef struct option_row {
    const char *name;
    double lower, upper;
    unsigned flags;
} option_row;

static const option_row option_rows[NN_OPT_COUNT] = {
#define ROW(OPTION, name, lower, upper, flags) [OPTION] = {name, lower, upper, flags},
#define STORED_ROW(OPTION, name, field, type, lower, upper, flags, def)              \
    ROW(OPTION, name, lower, upper, flags)
    NN__OPTIONS(STORED_ROW, ROW)
#undef STORED_ROW
#undef ROW
};

/* Every option has its row, in nn.h's numbering. */
#define COUNT(OPTION, ...) +1
_Static_assert(0 NN__OPTIONS(COUNT, COUNT) == NN_OPT_COUNT,
               "options.h has one row per nn_option");
#undef COUNT

static const option_row *find_option(int option)
{
    return option >= 0 && option < NN_OPT_COUNT ? &option_rows[option] : NULL;
}

const char *nn_option_name(int option)
{
    const option_row *row = find_option(option);
    return row ? row->name : NULL;
}

int nn_option_bounds(int option, double *lower, double *upper,
                     unsigned *flags)
{
    const option_row *row = find_option(option);
    NN__CHECK(NULL, row, NN_EINVAL, "nn_option_bounds: option %d is unknown",
              option);
    if (lower)
        *lower = row->lower;
    if (upper)
        *upper = row->upper;
    if (flags)
        *flags = row->flags;
    return NN_OK;
}

static int within(const option_row *row, double v)
{
    unsigned f = row->flags;
    if (f & NN_OPTION_INTEGER && !(isfinite(v) && v == floor(v)))
        return 0;
    int above = f & NN_OPTION_LOWER_OPEN ? v > row->lower : v >= row->lower;
    int below = f & NN_OPTION_UPPER_OPEN ? v < row->upper : v <= row->upper;
    return above && below; /* false for NaN */
}

/* "must be in [0, 1)", "must be an integer in [1, 2147483647]" */
static int fail_bounds(nn_net *net, const option_row *row, double v)
{
    unsigned f = row->flags;
    return nn__fail(net, NN_EINVAL, "nn_set: %s %g must be %sin %c%.15g, %.15g%c",
                    row->name, v, f & NN_OPTION_INTEGER ? "an integer " : "",
                    f & NN_OPTION_LOWER_OPEN ? '(' : '[', row->lower,
                    row->upper, f & NN_OPTION_UPPER_OPEN ? ')' : ']');
}

/* Stores a checked value in its field. */
static void store(nn__settings *s, int option, double value)
{
    switch (option) {
#define STORE(OPTION, name, field, type, lower, upper, flags, def)                   \
    case OPTION:                                                               \
        s->field = value;                                                      \
        break;
#define COMPUTED(OPTION, ...) /* set_with_side_effect or read-only */
        NN__OPTIONS(STORE, COMPUTED)
#undef COMPUTED
#undef STORE
    default:
        break;
    }
}

/* Setting these does more than store the value; the rest only store. A
 * failure leaves everything as it was. */
static int set_with_side_effect(nn_net *net, int option, double value)
{
    nn__settings *s = &net->set;
    switch (option) {
    case NN_OPT_OPTIMIZER: /* resets and allocates the optimizer state */
        NN__CHECK(net, nn__optimizer_reset(net, (int)value) == NN_OK,
                  NN_ENOMEM, "nn_set: cannot allocate the optimizer state");
        return NN_OK;
    case NN_OPT_LOSS:
        NN__CHECK(net, nn__loss_fits((int)value, nn__last_layer(net)->act),
                  NN_EINVAL, "nn_set: loss %g needs a %s last layer", value,
                  value == NN_LOSS_CROSS_ENTROPY ? "softmax" : "sigmoid");
        break;
    case NN_OPT_DROPOUT: {
        /* Grow the batch buffers by the masks now, so that training passes
         * never allocate; undo on failure. */
        double old = s->dropout;
        s->dropout = value;
        if (net->buf.cap > 0 && nn__buffers_reserve(net, net->buf.cap)) {
            s->dropout = old;
            return NN_ENOMEM;
        }
        return NN_OK;
    }
    case NN_OPT_SCHEDULE:
        s->schedule = (int)value;
        nn__schedule_restart(net);
        return NN_OK;
    case NN_OPT_THREADS: /* process-wide: the BLAS's, not the handle's */
        NN__CHECK(net, nn__backend_set_threads((int)value), NN_EINVAL,
                  "nn_set: this backend cannot set its thread count");
        return NN_OK;
    default:
        break;
    }
    store(s, option, value);
    return NN_OK;
}

int nn_set(nn_net *net, int option, double value)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_set: net must not be NULL");
    const option_row *row = find_option(option);
    NN__CHECK(net, row, NN_EINVAL, "nn_set: option %d is unknown", option);
    NN__CHECK(net, !(row->flags & NN_OPTION_READ_ONLY), NN_EINVAL,
              "nn_set: %s is read-only", row->name);
    if (!within(row, value))
        return fail_bounds(net, row, value);
    return set_with_side_effect(net, option, value);
}

static double computed_option(const nn_net *net, int option)
{
    switch (option) {
    case NN_OPT_CURRENT_LR:
        return net->set.learning_rate * net->sched.lr_factor;
    case NN_OPT_EPOCHS_DONE:
        return (double)net->sched.epochs_done;
    default: /* NN_OPT_THREADS */
        return nn__backend_threads();
    }
}

int nn_get(const nn_net *net, int option, double *value)
{
    NN__CHECK(NULL, net && value, NN_EINVAL,
              "nn_get: net and value must not be NULL");
    const nn__settings *s = &net->set;
    switch (option) {
#define LOAD(OPTION, name, field, type, lower, upper, flags, def)                    \
    case OPTION:                                                               \
        *value = (double)s->field;                                             \
        break;
#define COMPUTED(OPTION, ...)                                                  \
    case OPTION:                                                               \
        *value = computed_option(net, OPTION);                                 \
        break;
        NN__OPTIONS(LOAD, COMPUTED)
#undef COMPUTED
#undef LOAD
    default:
        return nn__fail(NULL, NN_EINVAL, "nn_get: option %d is unknown",
                        option);
    }
    return NN_OK;
}

/* ---- parameters and gradients ---- */

size_t nn_num_layers(const nn_net *net)
{
    return net ? net->n_sizes : 0;
}

size_t nn_layer_size(const nn_net *net, size_t i)
{
    return net && i < net->n_sizes ? net->sizes[i] : 0;
}

int nn_layer_activation(const nn_net *net, size_t layer)
{
    NN__CHECK(NULL, net, NN_EINVAL,
              "nn_layer_activation: net must not be NULL");
    NN__CHECK(NULL, layer < net->n_sizes - 1, NN_EINVAL,
              "nn_layer_activation: layer %zu is out of range (%zu weight "
              "layers)", layer, net->n_sizes - 1);
    return (int)net->layers[layer].act;
}

size_t nn_param_count(const nn_net *net)
{
    return net ? net->n_params : 0;
}

float *nn_params(nn_net *net)
{
    if (!net) {
        nn__fail(NULL, NN_EINVAL, "nn_params: net must not be NULL");
        return NULL;
    }
    return net->params;
}

float *nn_grads(nn_net *net)
{
    if (!net) {
        nn__fail(NULL, NN_EINVAL, "nn_grads: net must not be NULL");
        return NULL;
    }
    return net->grads;
}

const float *nn_outputs(const nn_net *net, size_t *rows)
{
    if (rows)
        *rows = net ? net->buf.rows : 0;
    if (!net) {
        nn__fail(NULL, NN_EINVAL, "nn_outputs: net must not be NULL");
        return NULL;
    }
    return net->buf.rows ? net->buf.act[net->n_sizes - 1] : NULL;
}

int nn_layer_params(nn_net *net, size_t layer, float **weights, float **bias)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_layer_params: net must not be NULL");
    NN__CHECK(net, weights || bias, NN_EINVAL,
              "nn_layer_params: weights and bias are both NULL");
    NN__CHECK(net, layer < net->n_sizes - 1, NN_EINVAL,
              "nn_layer_params: layer %zu is out of range (%zu weight "
              "layers)", layer, net->n_sizes - 1);
    const nn__layer *l = &net->layers[layer];
    if (weights)
        *weights = net->params + l->w_off;
    if (bias)
        *bias = nn__has_bias(net) ? net->params + l->b_off : NULL;
    return NN_OK;
}
