/* SPDX-License-Identifier: MIT */
/*
 * nn_step's updates, one flat loop per optimizer over the contiguous
 * parameter, gradient and state buffers. Each follows torch.optim's
 * definition of the same name (formulas in docs/design.md, "Optimizers").
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

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

static void sgd(float *restrict p, const float *restrict g, size_t n,
                float lr, float wd)
{
    for (size_t i = 0; i < n; i++)
        p[i] -= lr * (g[i] + wd * p[i]);
}

/* The momentum buffer starts as the first gradient (dampening 0). */
static void momentum(float *restrict p, const float *restrict g,
                     float *restrict buf, size_t n, float lr, float wd,
                     float mu, int first, int nesterov)
{
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        buf[i] = first ? d : mu * buf[i] + d;
        p[i] -= lr * (nesterov ? d + mu * buf[i] : buf[i]);
    }
}

/* Adam and AdamW; AdamW decays the weights before and outside the moments. */
static void adam(float *restrict p, const float *restrict g, float *restrict m,
                 float *restrict v, size_t n, const nn__settings *s,
                 uint64_t t, int decoupled)
{
    float lr = (float)s->learning_rate, wd = (float)s->weight_decay;
    float b1 = (float)s->beta1, b2 = (float)s->beta2, eps = (float)s->epsilon;
    double bc1 = 1.0 - pow(s->beta1, (double)t);
    double bc2 = 1.0 - pow(s->beta2, (double)t);
    float step = (float)(s->learning_rate / bc1);
    float inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    float decay = decoupled ? 1.0f - lr * wd : 1.0f;
    float l2 = decoupled ? 0.0f : wd;
    for (size_t i = 0; i < n; i++) {
        p[i] *= decay;
        float d = g[i] + l2 * p[i];
        m[i] = b1 * m[i] + (1.0f - b1) * d;
        v[i] = b2 * v[i] + (1.0f - b2) * d * d;
        p[i] -= step * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + eps);
    }
}

static void rmsprop(float *restrict p, const float *restrict g,
                    float *restrict v, size_t n, const nn__settings *s)
{
    float lr = (float)s->learning_rate, wd = (float)s->weight_decay;
    float alpha = (float)s->rmsprop_alpha, eps = (float)s->epsilon;
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        v[i] = alpha * v[i] + (1.0f - alpha) * d * d;
        p[i] -= lr * d / (sqrtf(v[i]) + eps);
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

void nn__step(nn_net *net)
{
    nn__settings s = net->set;
    float *p = net->params, *state = net->opt_state, *g = net->grads;
    size_t n = net->n_params;
    if (s.clip_norm > 0.0)
        clip_gradient(g, n, s.clip_norm);
    /* The schedule scales the base rate; the optimizers see the result. */
    s.learning_rate *= net->sched.lr_factor;
    float lr = (float)s.learning_rate, wd = (float)s.weight_decay;
    float mu = (float)s.momentum;
    uint64_t t = ++net->opt_steps;

    switch (s.optimizer) {
    case NN_SGD:
        sgd(p, g, n, lr, wd);
        break;
    case NN_MOMENTUM:
    case NN_NESTEROV:
        momentum(p, g, state, n, lr, wd, mu, t == 1,
                 s.optimizer == NN_NESTEROV);
        break;
    case NN_ADAM:
    case NN_ADAMW:
        adam(p, g, state, state + n, n, &s, t, s.optimizer == NN_ADAMW);
        break;
    case NN_RMSPROP:
        rmsprop(p, g, state, n, &s);
        break;
    }
}
