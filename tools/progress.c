/* SPDX-License-Identifier: MIT */
/*
 * Progress display and interruption. libnn calls progress_step after every
 * minibatch and progress_epoch after every epoch; both are cheap unless
 * they draw, and the bar is redrawn at most ten times a second so a fast
 * network is not slowed by its terminal. Epoch lines go to stdout (they are
 * the run's record), the bar to stderr (it is transient).
 */
/* TIOCGWINSZ and struct winsize are not POSIX */
#define _DEFAULT_SOURCE

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "history.h"
#include "progress.h"

static volatile sig_atomic_t interrupted = 0;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

void progress_catch_interrupt(int mpi)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* one-shot: a second Ctrl-C gets the default action and kills */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* mpirun ends the job on Ctrl-C and SIGTERM but forwards SIGUSR1 to
     * every rank: under --mpi that is the way to ask for a stop */
    if (mpi)
        sigaction(SIGUSR1, &sa, NULL);
    /* Ctrl-C on `nnet train | tee log` also kills tee: printing to the
     * closed pipe must not kill us before the model is saved */
    signal(SIGPIPE, SIG_IGN);
}

void progress_release_interrupt(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
}

int progress_interrupted(void)
{
    return interrupted != 0;
}

int progress_init(progress *p, size_t epochs, size_t n_train, size_t batch,
                  int classify, int quiet)
{
    memset(p, 0, sizeof *p);
    p->quiet = quiet;
    p->live = !quiet && isatty(STDERR_FILENO);
    p->classify = classify;
    p->epochs = epochs;
    p->n_train = n_train;
    p->batch = batch < n_train ? batch : n_train;
    p->seconds = calloc(epochs, sizeof *p->seconds);
    p->scratch = calloc(epochs, sizeof *p->scratch);
    p->start = p->last_draw = cli_now();
    if (!p->seconds || !p->scratch) {
        progress_free(p);
        return cli_fail("out of memory");
    }
    return ST_OK;
}

void progress_free(progress *p)
{
    free(p->seconds);
    free(p->scratch);
    p->seconds = p->scratch = NULL;
}

/* "1:05" or "1:02:05". */
static void clock_text(double seconds, char *buf, size_t cap)
{
    long s = seconds > 0 && seconds < 1e7 ? (long)(seconds + 0.5) : 0;
    if (s >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, cap, "%ld:%02ld", s / 60, s % 60);
}

static void draw_bar(progress *p, double now)
{
    enum { WIDTH = 20 };
    size_t done = p->at_epoch * p->n_train + (p->at_step + 1) * p->batch;
    size_t total = p->epochs * p->n_train;
    done = done < total ? done : total;
    double elapsed = now - p->start;
    double rate = (double)done / (elapsed > 0 ? elapsed : 1);
    char eta[32];
    clock_text((double)(total - done) / (rate > 0 ? rate : 1), eta,
               sizeof eta);
    size_t fill = WIDTH * (p->at_step + 1) / p->steps_per_epoch;
    char bar[WIDTH + 1];
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    char line[256];
    char loss[32];
    snprintf(line, sizeof line, "epoch %zu/%zu [%s] %zu/%zu loss %s %.0f "
             "samples/s ETA %s", p->at_epoch + 1, p->epochs, bar,
             p->at_step + 1, p->steps_per_epoch,
             cli_loss(loss, p->epoch_loss / (double)p->epoch_steps), rate,
             eta);
    /* a line longer than the terminal wraps, and "\r" would then redraw
     * only its last part */
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
        ws.ws_col <= sizeof line)
        line[ws.ws_col - 1] = '\0';
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    p->last_draw = now;
}

void progress_clear(progress *p)
{
    if (p->live) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

int progress_step(void *user, size_t epoch, size_t step, size_t steps,
                  double cost)
{
    progress *p = user;
    if (step == 0) {
        p->epoch_loss = 0.0;
        p->epoch_steps = 0;
    }
    p->epoch_loss += cost;
    p->epoch_steps++;
    p->at_epoch = epoch;
    p->at_step = step;
    p->steps_per_epoch = steps;
    if (p->live) {
        double now = cli_now();
        if (now - p->last_draw >= 0.1 || step + 1 == steps)
            draw_bar(p, now);
    }
    return progress_interrupted();
}

/* The last value of one history series; NaN when absent. */
static double last(progress *p, const nn_net *net, nn_metric m)
{
    size_t n = nn_history_len(net);
    if (n == 0 || n > p->epochs ||
        nn_history(net, m, p->scratch, p->epochs) != NN_OK)
        return NAN;
    return p->scratch[n - 1];
}

static void print_epoch(const progress *p, size_t epoch, const double *m)
{
    int digits = snprintf(NULL, 0, "%zu", p->epochs);
    char loss[32];
    printf("epoch %*zu/%zu  loss %s", digits, epoch + 1, p->epochs,
           cli_loss(loss, m[NN_HIST_TRAIN_LOSS]));
    /* NaN under --mpi: nn_mpi_fit does not measure it */
    if (p->classify && !isnan(m[NN_HIST_TRAIN_ACCURACY]))
        printf("  acc %.4f", m[NN_HIST_TRAIN_ACCURACY]);
    if (!isnan(m[NN_HIST_VAL_LOSS])) {
        printf("  val_loss %s", cli_loss(loss, m[NN_HIST_VAL_LOSS]));
        if (p->classify)
            printf("  val_acc %.4f", m[NN_HIST_VAL_ACCURACY]);
    }
    printf("  lr %.3g  %.1fs\n", m[NN_HIST_LEARNING_RATE],
           p->seconds[epoch]);
    fflush(stdout);
}

int progress_epoch_done(progress *p, size_t epoch, const double *metrics)
{
    if (epoch < p->epochs)
        p->seconds[epoch] = cli_now() - p->start;
    if (!p->quiet) {
        progress_clear(p);
        print_epoch(p, epoch, metrics);
    }
    return progress_interrupted();
}

int progress_epoch(void *user, const nn_net *net, size_t epoch)
{
    progress *p = user;
    double metrics[HISTORY_METRICS];
    for (int m = 0; m < HISTORY_METRICS; m++)
        metrics[m] = last(p, net, (nn_metric)m);
    return progress_epoch_done(p, epoch, metrics);
}
