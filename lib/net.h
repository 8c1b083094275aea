/* SPDX-License-Identifier: MIT */
/*
 * struct nn_net: the one layout of a network, shared by every file of lib/.
 * Parameters and gradients each live in one contiguous buffer (layout in
 * docs/design.md); batch buffers are one block sized by the largest batch
 * seen, so the hot path never allocates once it has run.
 */
#ifndef LIBNN_NET_H
#define LIBNN_NET_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"

#define NN__ERR_LEN 256

/* One weight layer: a view into the network's parameter buffer. */
typedef struct nn__layer {
    size_t n_in, n_out;
    nn_activation act;
    size_t w_off; /* offset of W (n_in x n_out) in params/grads */
    size_t b_off; /* offset of b (n_out); meaningful only with bias */
} nn__layer;

/* Settings, kept in their validated form. */
typedef struct nn__settings {
    double learning_rate, momentum, beta1, beta2, epsilon, weight_decay;
    double rmsprop_alpha;
    int optimizer; /* nn_optimizer */
    int loss;      /* nn_loss */
    size_t batch_size;
    int shuffle;
} nn__settings;

/* Batch buffers owned by the handle, carved from one allocation. */
typedef struct nn__buffers {
    size_t cap;     /* largest batch the buffers hold */
    float *block;   /* the allocation */
    float **act;    /* act[l], l = 1..L: batch x sizes[l] layer outputs */
    float *logits;  /* batch x sizes[L]: last layer before its activation */
    float *delta[2];/* batch x max(sizes[1..L]) each, ping-pong */
} nn__buffers;

/* What nn_train keeps between calls so that it need not allocate again. */
typedef struct nn__train_buffers {
    size_t n_cap;     /* samples the order array holds */
    size_t *order;    /* shuffle order of the samples */
    size_t batch_cap; /* rows the gather buffers hold */
    float *xb, *yb;   /* gathered minibatch */
} nn__train_buffers;

struct nn_net {
    size_t n_sizes;
    size_t *sizes;
    nn__layer *layers; /* n_sizes - 1 */
    unsigned flags;
    size_t max_width; /* max(sizes[0..L]) */

    size_t n_params;
    float *params;
    float *grads;
    int grads_valid; /* set by a successful nn_backprop */

    nn__settings set;
    float *opt_state; /* opt_slots x n_params floats, or NULL */
    int opt_slots;
    uint64_t opt_steps; /* optimizer steps taken since the state was reset */

    uint64_t rng[4]; /* xoshiro256** state, for shuffling */

    nn__buffers buf;
    nn__train_buffers train;

    char err[NN__ERR_LEN]; /* detail of the last failure on this handle */
};

/* Allocates a network with the given architecture: parameters zeroed,
 * settings at their defaults, no optimizer state, no batch buffers.
 * The caller has validated the arguments. Returns NN_OK or NN_ENOMEM. */
int nn__net_alloc(nn_net **out, size_t n_sizes, const size_t *sizes,
                  const nn_activation *activations, unsigned flags);

/* Draws the weights from `seed` (Glorot or He uniform per layer) and seeds
 * the handle's generator with it; biases stay as they are (zero). */
void nn__net_init_weights(nn_net *net, uint64_t seed);

/* Frees everything the handle owns, then the handle. */
void nn__net_free(nn_net *net);

/* Makes the batch buffers hold at least `batch` rows. Keeps the old ones on
 * failure. Returns NN_OK, NN_ESHAPE (batch too large) or NN_ENOMEM. */
int nn__buffers_reserve(nn_net *net, size_t batch);

/* Number of optimizer state slots (arrays of n_params floats) for `opt`. */
int nn__optimizer_slots(int optimizer);

/* Replaces the optimizer state with a zeroed one for `optimizer`.
 * Keeps the old state on failure. Returns NN_OK or NN_ENOMEM. */
int nn__optimizer_reset(nn_net *net, int optimizer);

/* Last weight layer. */
static inline const nn__layer *nn__last_layer(const nn_net *net)
{
    return &net->layers[net->n_sizes - 2];
}

static inline int nn__has_bias(const nn_net *net)
{
    return !(net->flags & NN_NO_BIAS);
}


#endif /* LIBNN_NET_H */
