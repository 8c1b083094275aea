/* SPDX-License-Identifier: MIT */
/*
 * struct nn_net: the one layout of a network, shared by every file of lib/.
 * Parameters and gradients each live in one contiguous buffer (layout in
 * docs/design.md); batch buffers are one block sized by the largest batch
 * seen, so the hot path never allocates once it has run.
 *
 * The rule of lib/'s internal headers: this one holds the handle's layout
 * (struct nn_net, the types it is made of, and inline readers of them) and
 * declares no function that a .c file defines; internal.h holds the error
 * plumbing and declares every nn__ function that one file of lib/ defines
 * for the others, under the name of the file defining it (one-topic
 * headers aside: options.h, format.h, outfile.h, vectorize.h).
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

/* Early stopping's bookkeeping over the epochs since the history was last
 * cleared (nn_history_clear, the start of nn_train / nn_fit). */
typedef struct nn__best {
    double val_loss; /* lowest validation loss; +inf before any */
    uint64_t worse;  /* validated epochs since it */
    float *params;   /* its parameters (n_params), or NULL before the
                        first validated epoch */
} nn__best;

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
    nn__best best;

    nn__buffers buf;
    nn__train_buffers train;

    char err[NN__ERR_LEN]; /* detail of the last failure on this handle */
};

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
