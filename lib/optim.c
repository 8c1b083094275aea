/* SPDX-License-Identifier: MIT */
/*
 * nn_step's updates, one flat loop per optimizer over the contiguous
 * parameter, gradient and state buffers. Each follows torch.optim's
 * definition of the same name (formulas in docs/design.md, "Optimizers").
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "vectorize.h"

int nn__optimizer_slots(int optimizer)
{
    switch (optimizer) {
    case NN_MOMENTUM:
    case NN_NESTEROV:
    case NN_RMSPROP:
        return 1;
    case NN_ADAM:
    case NN_ADAMW:
        return 2;
    default:
        return 0;
    }
}

int nn__optimizer_reset(nn_net *net, int optimizer)
{
    int slots = nn__optimizer_slots(optimizer);
    float *state = NULL;
    if (slots > 0) {
        size_t count;
        if (!nn__mul_ok(net->n_params, (size_t)slots, &count) ||
            !(state = calloc(count, sizeof *state)))
            return NN_ENOMEM;
    }
    free(net->opt_state);
    net->opt_state = state;
    net->opt_slots = slots;
    net->opt_steps = 0;
    net->set.optimizer = optimizer;
    return NN_OK;
}

/* The update loops. Each is one pass over the contiguous buffers with the
 * per-element arithmetic of torch.optim in the order written (no
 * contraction into FMAs, see vectorize.h), branch-free so that it runs in
 * vector registers; the variants (first momentum step, Nesterov, AdamW)
 * are separate loops rather than tests inside one. */

static NN__VECTORIZE void sgd(float *restrict p, const float *restrict g,
                              size_t n, float lr, float wd)
{
    for (size_t i = 0; i < n; i++)
        p[i] -= lr * (g[i] + wd * p[i]);
}

/* SGD with momentum, dampening 0: the buffer starts as the first
 * gradient, then buf = mu buf + d; Nesterov steps along d + mu buf. */
static inline void momentum_loop(float *restrict p, const float *restrict g,
                                 float *restrict buf, size_t n, float lr,
                                 float wd, float mu, int first, int nesterov)
{
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        float b = first ? d : mu * buf[i] + d;
        buf[i] = b;
        p[i] -= lr * (nesterov ? d + mu * b : b);
    }
}

static NN__VECTORIZE void momentum(float *restrict p, const float *restrict g,
                                   float *restrict buf, size_t n, float lr,
                                   float wd, float mu, int first,
                                   int nesterov)
{
    if (nesterov && first)
        momentum_loop(p, g, buf, n, lr, wd, mu, 1, 1);
    else if (nesterov)
        momentum_loop(p, g, buf, n, lr, wd, mu, 0, 1);
    else if (first)
        momentum_loop(p, g, buf, n, lr, wd, mu, 1, 0);
    else
        momentum_loop(p, g, buf, n, lr, wd, mu, 0, 0);
}

/* Adam's per-step constants, computed once a step (not once a thread):
 * the bias corrections' powers are the costly part. AdamW decays the
 * weights before and outside the moments (decay = 1 - lr wd, l2 = 0),
 * Adam adds the decay to the gradient (decay = 1, l2 = wd). */
typedef struct adam_coefs {
    float b1, b2, one_b1, one_b2, eps, step, inv_sqrt_bc2, decay, l2;
} adam_coefs;

static adam_coefs adam_coefs_of(const nn__settings *s, double lr, uint64_t t,
                                int decoupled)
{
    float wd = (float)s->weight_decay;
    float b1 = (float)s->beta1, b2 = (float)s->beta2;
    double bc1 = 1.0 - pow(s->beta1, (double)t);
    double bc2 = 1.0 - pow(s->beta2, (double)t);
    return (adam_coefs){
        .b1 = b1,
        .b2 = b2,
        .one_b1 = 1.0f - b1,
        .one_b2 = 1.0f - b2,
        .eps = (float)s->epsilon,
        .step = (float)(lr / bc1),
        .inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2)),
        .decay = decoupled ? 1.0f - (float)lr * wd : 1.0f,
        .l2 = decoupled ? 0.0f : wd,
    };
}

static NN__VECTORIZE void adam(float *restrict p, const float *restrict g,
                               float *restrict m, float *restrict v, size_t n,
                               const adam_coefs *c)
{
    float b1 = c->b1, b2 = c->b2, one_b1 = c->one_b1, one_b2 = c->one_b2;
    float eps = c->eps, step = c->step, inv_sqrt_bc2 = c->inv_sqrt_bc2;
    float decay = c->decay, l2 = c->l2;
    for (size_t i = 0; i < n; i++) {
        float pi = p[i] * decay;
        float d = g[i] + l2 * pi;
        float mi = b1 * m[i] + one_b1 * d;
        float vi = b2 * v[i] + one_b2 * d * d;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}

static NN__VECTORIZE void rmsprop(float *restrict p, const float *restrict g,
                                  float *restrict v, size_t n, float lr,
                                  float wd, float alpha, float eps)
{
    float one_alpha = 1.0f - alpha;
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        float vi = alpha * v[i] + one_alpha * d * d;
        v[i] = vi;
        p[i] -= lr * d / (sqrtf(vi) + eps);
    }
}

/* torch.nn.utils.clip_grad_norm_: scale the whole gradient by
 * max_norm / (norm + 1e-6) when that is below one. */
static void clip_gradient(float *g, size_t n, double max_norm)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (double)g[i] * (double)g[i];
    double coef = max_norm / (sqrt(sum) + 1e-6);
    if (coef >= 1.0)
        return;
    float c = (float)coef;
    for (size_t i = 0; i < n; i++)
        g[i] *= c;
}

/* What every part of one step's update shares. */
typedef struct update {
    nn_net *net;
    float lr, wd, mu;
    int first;
    adam_coefs adam;
} update;

/* Elements [lo, hi) of every buffer: one part of the update. */
static inline void update_range(void *ctx, size_t lo, size_t hi)
{
    const update *u = ctx;
    nn_net *net = u->net;
    const nn__settings *s = &net->set;
    size_t n = net->n_params, len = hi - lo;
    float *p = net->params + lo, *g = net->grads + lo;
    float *state = net->opt_state ? net->opt_state + lo : NULL;
    switch (s->optimizer) {
    case NN_SGD:
        sgd(p, g, len, u->lr, u->wd);
        break;
    case NN_MOMENTUM:
    case NN_NESTEROV:
        momentum(p, g, state, len, u->lr, u->wd, u->mu, u->first,
                 s->optimizer == NN_NESTEROV);
        break;
    case NN_ADAM:
    case NN_ADAMW:
        adam(p, g, state, state + n, len, &u->adam);
        break;
    case NN_RMSPROP:
        rmsprop(p, g, state, len, u->lr, u->wd, (float)s->rmsprop_alpha,
                (float)s->epsilon);
        break;
    }
}

void nn__step(nn_net *net)
{
    const nn__settings *s = &net->set;
    size_t n = net->n_params;
    if (s->clip_norm > 0.0)
        clip_gradient(net->grads, n, s->clip_norm);
    /* The schedule scales the base rate; the optimizers see the result. */
    double lr = s->learning_rate * net->sched.lr_factor;
    uint64_t t = ++net->opt_steps;
    update u = {.net = net,
                .lr = (float)lr,
                .wd = (float)s->weight_decay,
                .mu = (float)s->momentum,
                .first = t == 1};
    if (s->optimizer == NN_ADAM || s->optimizer == NN_ADAMW)
        u.adam = adam_coefs_of(s, lr, t, s->optimizer == NN_ADAMW);
    /* Element-wise, so any split gives the same bits. */
    nn__parallel_for(n, n, update_range, &u);
}
