/* SPDX-License-Identifier: MIT */
/*
 * Layer 5 of tools/ (the layers and their rule: cli.h).
 *
 * What `nnet train` shows while it trains: a live one-line bar on a terminal
 * (epoch, step, loss, samples/s, ETA), one plain line per epoch, nothing
 * with --quiet; and Ctrl-C, which asks training to stop after the current
 * step.
 */
#ifndef NN_TOOL_PROGRESS_H
#define NN_TOOL_PROGRESS_H

#include <stddef.h>

#include <nn.h>

typedef struct progress {
    int quiet;           /* print nothing */
    int live;            /* redraw a bar on stderr (a terminal) */
    int classify;        /* accuracies mean something */
    size_t epochs, n_train, batch;
    double start;        /* cli_now() when training began */
    double last_draw;
    double epoch_loss;   /* sum of this epoch's minibatch losses */
    size_t epoch_steps;
    size_t at_epoch, at_step, steps_per_epoch; /* last step seen */
    double *seconds;     /* elapsed time at the end of each epoch */
    double *scratch;     /* one history series */
} progress;

/* Sets up the display; ST_OK or ST_FAIL (out of memory). */
int progress_init(progress *p, size_t epochs, size_t n_train, size_t batch,
                  int classify, int quiet);
void progress_free(progress *p);

/* nn_progress_fn and nn_epoch_fn: draw, and return non-zero once Ctrl-C
 * was pressed. `user` is the progress. */
int progress_step(void *user, size_t epoch, size_t step, size_t steps,
                  double cost);
int progress_epoch(void *user, const nn_net *net, size_t epoch);

/* The end of an epoch, given its HISTORY_METRICS values (indexed by
 * nn_metric; NaN for what was not measured): notes the time and prints the
 * epoch's line. progress_epoch reads them from nn_history; under --mpi
 * they come from nn_mpi_fit. Non-zero once Ctrl-C was pressed. */
int progress_epoch_done(progress *p, size_t epoch, const double *metrics);

/* Erases the bar, if one is drawn. */
void progress_clear(progress *p);

/* Ctrl-C (SIGINT) and SIGTERM, and with `mpi` SIGUSR1 (what mpirun
 * forwards to the ranks), set a flag that the callbacks above turn into
 * "stop"; a second Ctrl-C kills the process as usual. */
void progress_catch_interrupt(int mpi);
void progress_release_interrupt(void);
int progress_interrupted(void);

#endif
