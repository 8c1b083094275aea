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
#include "options.h"

#define NN__ERR_LEN 256

/* One weight layer: a view into the network's parameter buffer. */
typedef struct nn__layer {
    size_t n_in, n_out;
    nn_activation act;
    size_t w_off; /* offset of W (n_in x n_out) in params/grads */
    size_t b_off; /* offset of b (n_out); meaningful only with bias */
} nn__layer;

/* Settings, kept in their validated form: a member per row of options.h. */
typedef struct nn__settings {
#define FIELD(OPTION, name, field, type, ...) type field;
#define COMPUTED(OPTION, ...)
    NN__OPTIONS(FIELD, COMPUTED)
#undef COMPUTED
#undef FIELD
} nn__settings;

/* Where the learning-rate schedule stands; saved with the model. */
typedef struct nn__schedule_state {
    uint64_t epochs_done; /* the schedule's clock */
    double lr_factor;     /* effective rate = learning_rate * lr_factor */
    double plateau_best;  /* best monitored loss (plateau), +inf at start */
    uint64_t plateau_bad; /* epochs since plateau_best improved */
} nn__schedule_state;

/* Per-epoch series of the last nn_train / nn_fit call, NN_HIST_* order:
 * a ring of the last NN__HIST_CAP epochs, allocated by the first call. */
#define NN__HIST_SERIES 5
#define NN__HIST_CAP NN_HISTORY_CAPACITY
typedef struct nn__history {
    size_t len;    /* epochs recorded by the last call (may exceed the cap) */
    double *block; /* NN__HIST_SERIES x NN__HIST_CAP, or NULL */
} nn__history;

/* Per-feature input transform x' = (x - shift) * scale. */
typedef struct nn__input_transform {
    float *shift, *scale; /* sizes[0] each, one allocation; NULL = none */
} nn__input_transform;

/* A list of distinct names, each a malloc'd string; none when n is 0. */
typedef struct nn__names {
    size_t n;
    char **s;
} nn__names;

/* What the model knows about its data (nn_set_task, nn_set_classes, ...):
 * metadata only, never read by training or inference. */
typedef struct nn__meta {
    int task;           /* nn_task; NN_TASK_AUTO: from the loss */
    char *label;        /* the label column's name, or NULL */
    nn__names classes;  /* one per output, or 2 for one sigmoid output */
    nn__names features; /* one per input */
} nn__meta;

/* Batch buffers owned by the handle, carved from one allocation. */
typedef struct nn__buffers {
    size_t cap;     /* largest batch the buffers hold */
    float *block;   /* the allocation */
    float **act;    /* act[l], l = 1..L: batch x sizes[l] layer outputs;
                       act[0]: batch x sizes[0] transformed inputs, only
                       with_input */
    float **mask;   /* mask[l], l = 1..L-1: dropout multipliers, 0 or
                       1/(1-p), batch x sizes[l], only with_masks */
    int with_input, with_masks; /* which optional buffers the block has */
    int masks_drawn; /* the last training pass applied the masks */
    size_t rows;     /* rows of the last forward pass, whose outputs are in
                        act[L] (nn_outputs); 0 before any */
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

    nn__input_transform input;
    nn__meta meta;
    nn__schedule_state sched;
    nn__history history;
    float *best_params; /* nn_fit's copy of the best weights, or NULL */

    nn__buffers buf;
    nn__train_buffers train;

    char err[NN__ERR_LEN]; /* detail of the last failure on this handle */
};

/* The rules of an architecture, the one check for nn_create and for the
 * loader (format.c): 2 or more layers of 1 .. INT_MAX units, known
 * activations, softmax on the last layer only, known flags. NN_OK, else
 * NN_EINVAL (NN_ENOMEM for a layer wider than INT_MAX) recorded on the
 * thread's slot with `who` (the function, the file) in front. */
int nn__check_architecture(const char *who, size_t n_sizes,
                           const size_t *sizes,
                           const nn_activation *activations, unsigned flags);

/* Allocates a network with the given architecture: parameters zeroed,
 * settings at their defaults, no optimizer state, no batch buffers.
 * The caller has validated the arguments (nn__check_architecture).
 * Returns NN_OK or NN_ENOMEM. */
int nn__net_alloc(nn_net **out, size_t n_sizes, const size_t *sizes,
                  const nn_activation *activations, unsigned flags);

/* Draws the weights from `seed` (Glorot or He uniform per layer) and seeds
 * the handle's generator with it; biases stay as they are (zero). */
void nn__net_init_weights(nn_net *net, uint64_t seed);

/* Restarts the learning-rate schedule: clock 0, factor 1, plateau reset. */
void nn__schedule_restart(nn_net *net);

/* Frees everything the handle owns, then the handle. */
void nn__net_free(nn_net *net);

/* Frees the metadata's strings and empties it. */
void nn__meta_free(nn__meta *meta);

/* *dst = a deep copy of *src; NN_OK or NN_ENOMEM (then *dst is empty). */
int nn__meta_copy(nn__meta *dst, const nn__meta *src);

/* Makes the batch buffers hold at least `batch` rows, with the optional
 * buffers the current settings need (transformed inputs, dropout masks).
 * Keeps the old ones on failure. Returns NN_OK, NN_ESHAPE (batch too large)
 * or NN_ENOMEM, recorded on `net`. */
int nn__buffers_reserve(nn_net *net, size_t batch);

/* 1 when the settings need the dropout masks / transformed-input buffers. */
int nn__needs_masks(const nn_net *net);

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
