/* SPDX-License-Identifier: MIT */
/*
 * Public entry points: check the arguments, dispatch to the modules, record
 * failures. Every check happens before anything changes, so a failed call
 * leaves the handle as it was (the contract's failed-call rule).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

/* ---- lifecycle ---- */

static int check_architecture(size_t n_sizes, const size_t *sizes,
                              const nn_activation *activations,
                              unsigned flags)
{
    NN__CHECK(NULL, sizes && activations, NN_EINVAL,
              "nn_create: sizes and activations must not be NULL");
    NN__CHECK(NULL, n_sizes >= 2, NN_EINVAL,
              "nn_create: n_sizes is %zu, at least 2 are needed", n_sizes);
    NN__CHECK(NULL, (flags & ~(unsigned)NN_NO_BIAS) == 0, NN_EINVAL,
              "nn_create: unknown flags 0x%x", flags & ~(unsigned)NN_NO_BIAS);
    for (size_t i = 0; i < n_sizes; i++) {
        NN__CHECK(NULL, sizes[i] >= 1, NN_EINVAL,
                  "nn_create: sizes[%zu] is 0", i);
        NN__CHECK(NULL, sizes[i] <= INT_MAX, NN_ENOMEM,
                  "nn_create: sizes[%zu] = %zu is too large", i, sizes[i]);
    }
    for (size_t l = 0; l + 1 < n_sizes; l++) {
        int act = (int)activations[l];
        NN__CHECK(NULL, act >= NN_IDENTITY && act <= NN_LEAKY_RELU, NN_EINVAL,
                  "nn_create: activations[%zu] = %d is unknown", l, act);
        NN__CHECK(NULL, act != NN_SOFTMAX || l + 2 == n_sizes, NN_EINVAL,
                  "nn_create: softmax is allowed on the last layer only "
                  "(activations[%zu])", l);
    }
    return NN_OK;
}

int nn_create(nn_net **out, size_t n_sizes, const size_t *sizes,
              const nn_activation *activations, unsigned flags, uint64_t seed)
{
    NN__CHECK(NULL, out, NN_EINVAL, "nn_create: out must not be NULL");
    *out = NULL;
    NN__TRY(check_architecture(n_sizes, sizes, activations, flags));
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
    if (!dup_bytes(&copy->opt_state, net->opt_state, state * sizeof(float)) ||
        !dup_bytes(&copy->input.shift, net->input.shift,
                   2 * net->sizes[0] * sizeof(float)) ||
        !dup_bytes(&copy->history.block, net->history.block,
                   history * sizeof(double))) {
        nn__net_free(copy);
        return nn__fail(NULL, NN_ENOMEM, "nn_clone: out of memory");
    }
    if (copy->input.shift)
        copy->input.scale = copy->input.shift + net->sizes[0];
    copy->history.len = net->history.len;
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

/* ---- settings ---- */

static int is_integral(double v)
{
    return isfinite(v) && v == floor(v);
}

static int in_unit_interval(double v) /* [0, 1) */
{
    return v >= 0.0 && v < 1.0;
}

static int is_count(double v, double min) /* integer in [min, INT_MAX] */
{
    return is_integral(v) && v >= min && v <= INT_MAX;
}

/* The options of the training kit (dropout, clipping, schedules, early
 * stopping); see nn.h. */
static int set_training_kit(nn_net *net, int option, double value)
{
    nn__settings *s = &net->set;
    switch (option) {
    case NN_OPT_DROPOUT: {
        NN__CHECK(net, in_unit_interval(value), NN_EINVAL,
                  "nn_set: dropout %g must be in [0, 1)", value);
        double old = s->dropout;
        s->dropout = value;
        /* Grow the batch buffers by the masks now, so that training passes
         * never allocate; undo on failure. */
        if (net->buf.cap > 0 && nn__buffers_reserve(net, net->buf.cap)) {
            s->dropout = old;
            return NN_ENOMEM;
        }
        return NN_OK;
    }
    case NN_OPT_CLIP_NORM:
        NN__CHECK(net, value >= 0.0 && isfinite(value), NN_EINVAL,
                  "nn_set: clip norm %g must be finite and >= 0", value);
        s->clip_norm = value;
        return NN_OK;
    case NN_OPT_SCHEDULE:
        NN__CHECK(net, is_integral(value) && value >= NN_SCHEDULE_CONSTANT &&
                           value <= NN_SCHEDULE_PLATEAU,
                  NN_EINVAL, "nn_set: schedule %g is unknown", value);
        s->schedule = (int)value;
        nn__schedule_restart(net);
        return NN_OK;
    case NN_OPT_STEP_SIZE:
        NN__CHECK(net, is_count(value, 1), NN_EINVAL,
                  "nn_set: step size %g must be an integer >= 1", value);
        s->step_size = (size_t)value;
        return NN_OK;
    case NN_OPT_GAMMA:
        NN__CHECK(net, value > 0.0 && value <= 1.0, NN_EINVAL,
                  "nn_set: gamma %g must be in (0, 1]", value);
        s->gamma = value;
        return NN_OK;
    case NN_OPT_T_MAX:
        NN__CHECK(net, is_count(value, 1), NN_EINVAL,
                  "nn_set: T_max %g must be an integer >= 1", value);
        s->t_max = (size_t)value;
        return NN_OK;
    case NN_OPT_MIN_LR:
        NN__CHECK(net, value >= 0.0 && isfinite(value), NN_EINVAL,
                  "nn_set: minimum learning rate %g must be finite and >= 0",
                  value);
        s->min_lr = value;
        return NN_OK;
    case NN_OPT_PLATEAU_PATIENCE:
        NN__CHECK(net, is_count(value, 0), NN_EINVAL,
                  "nn_set: plateau patience %g must be an integer >= 0",
                  value);
        s->plateau_patience = (size_t)value;
        return NN_OK;
    case NN_OPT_EARLY_STOPPING:
        NN__CHECK(net, is_count(value, 0), NN_EINVAL,
                  "nn_set: early-stopping patience %g must be an integer "
                  ">= 0", value);
        s->early_stopping = (size_t)value;
        return NN_OK;
    case NN_OPT_CURRENT_LR:
    case NN_OPT_EPOCHS_DONE:
        return nn__fail(net, NN_EINVAL, "nn_set: option %d is read-only",
                        option);
    default:
        return nn__fail(net, NN_EINVAL, "nn_set: option %d is unknown",
                        option);
    }
}

int nn_set(nn_net *net, int option, double value)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_set: net must not be NULL");
    nn__settings *s = &net->set;
    switch (option) {
    case NN_OPT_LEARNING_RATE:
        NN__CHECK(net, value > 0.0 && isfinite(value), NN_EINVAL,
                  "nn_set: learning rate %g must be finite and > 0", value);
        s->learning_rate = value;
        return NN_OK;
    case NN_OPT_OPTIMIZER:
        NN__CHECK(net, is_integral(value) && value >= NN_SGD &&
                           value <= NN_RMSPROP,
                  NN_EINVAL, "nn_set: optimizer %g is unknown", value);
        NN__CHECK(net, nn__optimizer_reset(net, (int)value) == NN_OK,
                  NN_ENOMEM, "nn_set: cannot allocate the optimizer state");
        return NN_OK;
    case NN_OPT_MOMENTUM:
        NN__CHECK(net, in_unit_interval(value), NN_EINVAL,
                  "nn_set: momentum %g must be in [0, 1)", value);
        s->momentum = value;
        return NN_OK;
    case NN_OPT_BETA1:
        NN__CHECK(net, in_unit_interval(value), NN_EINVAL,
                  "nn_set: beta1 %g must be in [0, 1)", value);
        s->beta1 = value;
        return NN_OK;
    case NN_OPT_BETA2:
        NN__CHECK(net, in_unit_interval(value), NN_EINVAL,
                  "nn_set: beta2 %g must be in [0, 1)", value);
        s->beta2 = value;
        return NN_OK;
    case NN_OPT_EPSILON:
        NN__CHECK(net, value > 0.0 && isfinite(value), NN_EINVAL,
                  "nn_set: epsilon %g must be finite and > 0", value);
        s->epsilon = value;
        return NN_OK;
    case NN_OPT_WEIGHT_DECAY:
        NN__CHECK(net, value >= 0.0 && isfinite(value), NN_EINVAL,
                  "nn_set: weight decay %g must be finite and >= 0", value);
        s->weight_decay = value;
        return NN_OK;
    case NN_OPT_LOSS:
        NN__CHECK(net, is_integral(value) && value >= NN_LOSS_MSE &&
                           value <= NN_LOSS_BINARY_CROSS_ENTROPY,
                  NN_EINVAL, "nn_set: loss %g is unknown", value);
        NN__CHECK(net, nn__loss_fits((int)value, nn__last_layer(net)->act),
                  NN_EINVAL,
                  "nn_set: loss %g needs a %s last layer", value,
                  value == NN_LOSS_CROSS_ENTROPY ? "softmax" : "sigmoid");
        s->loss = (int)value;
        return NN_OK;
    case NN_OPT_BATCH_SIZE:
        NN__CHECK(net, is_integral(value) && value >= 1.0 && value <= INT_MAX,
                  NN_EINVAL, "nn_set: batch size %g must be an integer in "
                  "[1, %d]", value, INT_MAX);
        s->batch_size = (size_t)value;
        return NN_OK;
    case NN_OPT_SHUFFLE:
        NN__CHECK(net, value == 0.0 || value == 1.0, NN_EINVAL,
                  "nn_set: shuffle %g must be 0 or 1", value);
        s->shuffle = (int)value;
        return NN_OK;
    case NN_OPT_RMSPROP_ALPHA:
        NN__CHECK(net, in_unit_interval(value), NN_EINVAL,
                  "nn_set: RMSprop alpha %g must be in [0, 1)", value);
        s->rmsprop_alpha = value;
        return NN_OK;
    case NN_OPT_THREADS: /* process-wide: the BLAS's, not the handle's */
        NN__CHECK(net, is_count(value, 0) && value <= 1024, NN_EINVAL,
                  "nn_set: threads %g must be an integer in [0, 1024]",
                  value);
        NN__CHECK(net, nn__blas_set_threads((int)value), NN_EINVAL,
                  "nn_set: this BLAS cannot set its thread count");
        return NN_OK;
    default:
        return set_training_kit(net, option, value);
    }
}

int nn_get(const nn_net *net, int option, double *value)
{
    NN__CHECK(NULL, net && value, NN_EINVAL,
              "nn_get: net and value must not be NULL");
    const nn__settings *s = &net->set;
    switch (option) {
    case NN_OPT_LEARNING_RATE: *value = s->learning_rate; break;
    case NN_OPT_OPTIMIZER: *value = s->optimizer; break;
    case NN_OPT_MOMENTUM: *value = s->momentum; break;
    case NN_OPT_BETA1: *value = s->beta1; break;
    case NN_OPT_BETA2: *value = s->beta2; break;
    case NN_OPT_EPSILON: *value = s->epsilon; break;
    case NN_OPT_WEIGHT_DECAY: *value = s->weight_decay; break;
    case NN_OPT_LOSS: *value = s->loss; break;
    case NN_OPT_BATCH_SIZE: *value = (double)s->batch_size; break;
    case NN_OPT_SHUFFLE: *value = s->shuffle; break;
    case NN_OPT_RMSPROP_ALPHA: *value = s->rmsprop_alpha; break;
    case NN_OPT_DROPOUT: *value = s->dropout; break;
    case NN_OPT_CLIP_NORM: *value = s->clip_norm; break;
    case NN_OPT_SCHEDULE: *value = s->schedule; break;
    case NN_OPT_STEP_SIZE: *value = (double)s->step_size; break;
    case NN_OPT_GAMMA: *value = s->gamma; break;
    case NN_OPT_T_MAX: *value = (double)s->t_max; break;
    case NN_OPT_MIN_LR: *value = s->min_lr; break;
    case NN_OPT_PLATEAU_PATIENCE: *value = (double)s->plateau_patience; break;
    case NN_OPT_EARLY_STOPPING: *value = (double)s->early_stopping; break;
    case NN_OPT_CURRENT_LR:
        *value = s->learning_rate * net->sched.lr_factor;
        break;
    case NN_OPT_EPOCHS_DONE: *value = (double)net->sched.epochs_done; break;
    case NN_OPT_THREADS: *value = nn__blas_threads(); break;
    default:
        return nn__fail(NULL, NN_EINVAL, "nn_get: option %d is unknown",
                        option);
    }
    return NN_OK;
}

/* ---- the four verbs ---- */

int nn__check_data(nn_net *err_net, const char *fn, const nn_net *net,
                   const float *x, const float *y, size_t batch)
{
    size_t n_in = net->sizes[0], n_out = net->sizes[net->n_sizes - 1];
    size_t count;
    NN__CHECK(err_net, batch >= 1, NN_EINVAL, "%s: batch is 0", fn);
    NN__CHECK(err_net, nn__mul_ok(batch, net->max_width * sizeof(float),
                                  &count) && batch <= INT_MAX,
              NN_ESHAPE, "%s: batch of %zu rows is too large", fn, batch);
    NN__CHECK(err_net, nn__all_finite(x, batch * n_in), NN_ENUMERIC,
              "%s: x holds NaN or infinity", fn);
    NN__CHECK(err_net, !y || nn__all_finite(y, batch * n_out), NN_ENUMERIC,
              "%s: y holds NaN or infinity", fn);
    return NN_OK;
}

int nn_forward(nn_net *net, const float *x, size_t batch, float *y_hat)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_forward: net must not be NULL");
    NN__CHECK(net, x && y_hat, NN_EINVAL,
              "nn_forward: x and y_hat must not be NULL");
    NN__TRY(nn__check_data(net, "nn_forward", net, x, NULL, batch));
    NN__TRY(nn__buffers_reserve(net, batch));
    nn__forward_train(net, x, batch, 0);
    memcpy(y_hat, net->buf.act[net->n_sizes - 1],
           batch * net->sizes[net->n_sizes - 1] * sizeof *y_hat);
    return NN_OK;
}

int nn_cost(nn_net *net, const float *x, const float *y, size_t batch,
            double *cost)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_cost: net must not be NULL");
    NN__CHECK(net, x && y && cost, NN_EINVAL,
              "nn_cost: x, y and cost must not be NULL");
    NN__TRY(nn__check_data(net, "nn_cost", net, x, y, batch));
    NN__TRY(nn__buffers_reserve(net, batch));
    nn__forward_train(net, x, batch, 0);
    size_t L = net->n_sizes - 1;
    double c = nn__loss_sum(net->set.loss, net->buf.act[L], net->buf.logits,
                            y, batch, net->sizes[L]) /
               (double)batch;
    NN__CHECK(net, isfinite(c), NN_ENUMERIC, "nn_cost: the cost is not finite");
    *cost = c;
    return NN_OK;
}

/* Backprop on data already checked and buffers already reserved. */
int nn__backprop_checked(nn_net *net, const float *x, const float *y,
                         size_t batch, double *cost)
{
    net->grads_valid = 0;
    /* The dropout masks come from the handle's generator: a failed pass
     * must leave it as it was, like everything else. */
    uint64_t rng[4];
    memcpy(rng, net->rng, sizeof rng);
    double c = nn__backprop(net, x, y, batch);
    if (!isfinite(c) || !nn__all_finite(net->grads, net->n_params)) {
        memcpy(net->rng, rng, sizeof rng);
        return nn__fail(net, NN_ENUMERIC, "nn_backprop: %s is not finite",
                        isfinite(c) ? "a gradient" : "the cost");
    }
    net->grads_valid = 1;
    if (cost)
        *cost = c;
    return NN_OK;
}

int nn_backprop(nn_net *net, const float *x, const float *y, size_t batch,
                double *cost)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_backprop: net must not be NULL");
    net->grads_valid = 0;
    NN__CHECK(net, x && y, NN_EINVAL, "nn_backprop: x and y must not be NULL");
    NN__TRY(nn__check_data(net, "nn_backprop", net, x, y, batch));
    NN__TRY(nn__buffers_reserve(net, batch));
    return nn__backprop_checked(net, x, y, batch, cost);
}

int nn_step(nn_net *net)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_step: net must not be NULL");
    NN__CHECK(net, net->grads_valid, NN_ESTATE,
              "nn_step: no gradients: call nn_backprop first (and check it "
              "succeeded)");
    nn__step(net);
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
