/* SPDX-License-Identifier: MIT */
/*
 * The command line of `nnet train`: its help text, its options and their
 * defaults, and the checks that need all of them. Values are parsed here
 * only as far as "is this a number"; their ranges are libnn's to judge
 * (train.c passes them to nn_set), so the tool and the library cannot
 * disagree about what is allowed.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "train.h"

/* In parts: C11 promises string literals of 4095 bytes only. */
const char *const train_help[] = {
    "Usage: nnet train DATA [--label COL] [--hidden N,...] -o MODEL [options]\n"
    "\n"
    "Train a multilayer perceptron on DATA (CSV, IDX or .npy, optionally\n"
    "gzipped; - for standard input) and write it to MODEL.\n"
    "\n"
    "Data:\n"
    "  --labels FILE        targets in a file of their own (needed for IDX\n"
    "                       and .npy DATA; with CSV, all DATA columns are\n"
    "                       then inputs)\n"
    "  --label COL          CSV label column, by header name or 0-based\n"
    "                       index (default: the last column)\n"
    CSV_OPTIONS_HELP
    "  --task TASK          classify or regress; by default the labels\n"
    "                       decide: words, or whole numbers with at most 50\n"
    "                       distinct values, are classes (sorted: numbers\n"
    "                       by value, words alphabetically); anything else\n"
    "                       is regression\n"
    "  --val-split F        hold out this fraction for validation [0]\n"
    "  --val FILE           validate on FILE (columns found by name, as\n"
    "                       DATA's; or in DATA's layout)\n"
    "  --no-standardize     feed raw inputs (default: the model standardises\n"
    "                       each input with the training set's mean and std)\n"
    "\n",
    "Network:\n"
    "  --init MODEL         continue training MODEL: its architecture,\n"
    "                       classes, input transform, settings, optimizer\n"
    "                       state and generator go on (so two runs of N\n"
    "                       epochs give what one of 2N does); settings\n"
    "                       given here replace its own (--optimizer and\n"
    "                       --schedule restart their state)\n"
    "  --hidden N,...       hidden layer sizes; the inputs and outputs come\n"
    "                       from the data and the task [100]\n"
    "  --layers N,N,...,N   all layer sizes, inputs first, outputs last\n"
    "                       (checked against the data)\n"
    "  --activation A[,A..] hidden activation(s): relu, leaky_relu, tanh,\n"
    "                       sigmoid, identity [relu]\n"
    "  --seed N             seed of the weights, shuffling, dropout and\n"
    "                       validation split [1]\n"
    "  --threads N          BLAS threads (0: the BLAS's default) [0]\n"
    "  --mpi                data-parallel over the ranks of an MPI job, run\n"
    "                       under mpirun (nnet-mpi only, not nnet); rank 0\n"
    "                       prints and writes\n"
    "\n",
    "Training:\n"
    "  --epochs N           epochs [1 000 000 / training samples, within\n"
    "                       10..200: 200 for up to 5000 samples, as\n"
    "                       scikit-learn's max_iter, 16 for 60 000]\n"
    "  --batch N            minibatch size [64]\n"
    "  --optimizer O        sgd, momentum, nesterov, adam, adamw, rmsprop\n"
    "                       [adam]\n"
    "  --lr X               learning rate [0.001]\n"
    "  --momentum X         momentum of momentum and nesterov [0.9]\n"
    "  --weight-decay X     L2 penalty (decoupled for adamw) [0]\n"
    "  --dropout P          dropout on hidden layers, in [0, 1) [0]\n"
    "  --clip X             clip the gradient's L2 norm to X [off]\n"
    "  --schedule S         constant, step, exponential, cosine, plateau\n"
    "                       [constant]\n"
    "  --step-size N        epochs between step decays [10]\n"
    "  --gamma X            decay factor of step, exponential, plateau [0.1]\n"
    "  --t-max N            cosine half period in epochs [--epochs]\n"
    "  --min-lr X           floor of cosine and plateau [0]\n"
    "  --patience N         plateau: epochs without improvement [10]\n"
    "  --early-stop N       stop after N epochs without a better validation\n"
    "                       loss (needs --val-split) [off]\n"
    "\n",
    "Output:\n"
    "  -o, --output MODEL   the model file (written whole, or not at all)\n"
    "  --plot FILE.svg      loss and accuracy curves (the loss on a log\n"
    "                       scale when it falls tenfold or more)\n"
    "  --plot-log           the loss on a log scale in any case\n"
    "  --log FILE.csv       the per-epoch numbers\n"
    "  -q, --quiet          print nothing but errors\n"
    "  -h, --help           this help\n"
    "\n"
    "With validation data, the weights of the epoch with the lowest\n"
    "validation loss are the ones saved. Ctrl-C stops after the current\n"
    "step, saves the model and exits with status 130 (under mpirun, send\n"
    "SIGUSR1 to mpirun instead: it forwards that to every rank).\n",
    NULL};


enum {
    OPT_TASK = OPT_FIRST_FREE, OPT_LAYERS, OPT_ACTIVATION, OPT_EPOCHS,
    OPT_BATCH, OPT_OPTIMIZER, OPT_LR, OPT_MOMENTUM, OPT_SEED, OPT_SCHEDULE,
    OPT_STEP_SIZE, OPT_GAMMA, OPT_T_MAX, OPT_MIN_LR, OPT_PATIENCE,
    OPT_DROPOUT, OPT_WEIGHT_DECAY, OPT_CLIP, OPT_VAL_SPLIT, OPT_EARLY_STOP,
    OPT_NO_STANDARDIZE, OPT_PLOT, OPT_LOG, OPT_THREADS, OPT_MPI, OPT_HIDDEN,
    OPT_INIT, OPT_VAL, OPT_PLOT_LOG
};

static const struct option long_options[] = {
    INPUT_LONG_OPTIONS,
    {"task", required_argument, NULL, OPT_TASK},
    {"layers", required_argument, NULL, OPT_LAYERS},
    {"hidden", required_argument, NULL, OPT_HIDDEN},
    {"init", required_argument, NULL, OPT_INIT},
    {"val", required_argument, NULL, OPT_VAL},
    {"activation", required_argument, NULL, OPT_ACTIVATION},
    {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"optimizer", required_argument, NULL, OPT_OPTIMIZER},
    {"lr", required_argument, NULL, OPT_LR},
    {"momentum", required_argument, NULL, OPT_MOMENTUM},
    {"seed", required_argument, NULL, OPT_SEED},
    {"schedule", required_argument, NULL, OPT_SCHEDULE},
    {"step-size", required_argument, NULL, OPT_STEP_SIZE},
    {"gamma", required_argument, NULL, OPT_GAMMA},
    {"t-max", required_argument, NULL, OPT_T_MAX},
    {"min-lr", required_argument, NULL, OPT_MIN_LR},
    {"patience", required_argument, NULL, OPT_PATIENCE},
    {"dropout", required_argument, NULL, OPT_DROPOUT},
    {"weight-decay", required_argument, NULL, OPT_WEIGHT_DECAY},
    {"clip", required_argument, NULL, OPT_CLIP},
    {"val-split", required_argument, NULL, OPT_VAL_SPLIT},
    {"early-stop", required_argument, NULL, OPT_EARLY_STOP},
    {"no-standardize", no_argument, NULL, OPT_NO_STANDARDIZE},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"plot-log", no_argument, NULL, OPT_PLOT_LOG},
    {"log", required_argument, NULL, OPT_LOG},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"mpi", no_argument, NULL, OPT_MPI},
    {"output", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static const char *const task_names[] = {"auto", "classify", "regress", NULL};
static const char *const optimizer_names[] = {
    "sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", NULL};
static const char *const schedule_names[] = {
    "constant", "step", "exponential", "cosine", "plateau", NULL};

int train_option_given(const train_opts *o, const char *option)
{
    for (const struct option *lo = long_options; lo->name; lo++)
        if (strcmp(option, lo->name) == 0 && lo->val >= OPT_FIRST_FREE &&
            lo->val - OPT_FIRST_FREE < 64)
            return (int)(o->given >> (lo->val - OPT_FIRST_FREE) & 1);
    return 0;
}

static void set_defaults(train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->activation = "relu";
    o->task = TASK_AUTO;
    o->optimizer = NN_ADAM;
    o->schedule = NN_SCHEDULE_CONSTANT;
    o->standardize = 1;
    o->batch = 64;
    o->step_size = 10;
    o->patience = 10;
    o->lr = 1e-3;
    o->momentum = 0.9;
    o->gamma = 0.1;
    o->seed = 1;
}

/* The options with numeric values; range checks beyond "a number" are
 * libnn's (nn_set), so the tool and the library cannot disagree. */
static int numeric_option(train_opts *o, int c, const char *name,
                          const char *arg)
{
    const double inf = HUGE_VAL;
    const size_t big = (size_t)1 << 31;
    switch (c) {
    case OPT_EPOCHS:
        return cli_parse_size(name, arg, 1, big, &o->epochs);
    case OPT_BATCH:
        return cli_parse_size(name, arg, 1, big, &o->batch);
    case OPT_STEP_SIZE:
        return cli_parse_size(name, arg, 1, big, &o->step_size);
    case OPT_T_MAX:
        return cli_parse_size(name, arg, 1, big, &o->t_max);
    case OPT_PATIENCE:
        return cli_parse_size(name, arg, 0, big, &o->patience);
    case OPT_EARLY_STOP:
        return cli_parse_size(name, arg, 0, big, &o->early_stop);
    case OPT_THREADS:
        return cli_parse_size(name, arg, 0, big, &o->threads);
    case OPT_SEED:
        return cli_parse_u64(name, arg, &o->seed);
    case OPT_LR:
        return cli_parse_double(name, arg, -inf, inf, &o->lr);
    case OPT_MOMENTUM:
        return cli_parse_double(name, arg, -inf, inf, &o->momentum);
    case OPT_GAMMA:
        return cli_parse_double(name, arg, -inf, inf, &o->gamma);
    case OPT_MIN_LR:
        return cli_parse_double(name, arg, -inf, inf, &o->min_lr);
    case OPT_DROPOUT:
        return cli_parse_double(name, arg, -inf, inf, &o->dropout);
    case OPT_WEIGHT_DECAY:
        return cli_parse_double(name, arg, -inf, inf, &o->weight_decay);
    case OPT_CLIP:
        return cli_parse_double(name, arg, -inf, inf, &o->clip);
    default: /* OPT_VAL_SPLIT: the tool's own, so checked here */
        return cli_parse_double(name, arg, 0, 0.99, &o->val_split);
    }
}

static int one_option(train_opts *o, int c, const char *arg)
{
    char name[32];
    for (const struct option *lo = long_options; lo->name; lo++)
        if (lo->val == c)
            snprintf(name, sizeof name, "--%s", lo->name);
    int st;
    if (inputs_option(&o->in, c, arg, &st))
        return st;
    if (c >= OPT_FIRST_FREE && c - OPT_FIRST_FREE < 64)
        o->given |= 1ull << (c - OPT_FIRST_FREE);
    switch (c) {
    case OPT_INIT:
        o->init = arg;
        return ST_OK;
    case OPT_VAL:
        o->val = arg;
        return ST_OK;
    case 'o':
        o->out = arg;
        return ST_OK;
    case 'q':
        o->quiet = 1;
        return ST_OK;
    case OPT_PLOT:
        o->plot = arg;
        return ST_OK;
    case OPT_PLOT_LOG:
        o->plot_log = 1;
        return ST_OK;
    case OPT_LOG:
        o->log = arg;
        return ST_OK;
    case OPT_ACTIVATION:
        o->activation = arg;
        return ST_OK;
    case OPT_NO_STANDARDIZE:
        o->standardize = 0;
        return ST_OK;
    case OPT_MPI:
        o->mpi = 1;
        return ST_OK;
    case OPT_TASK:
        return cli_parse_choice(name, arg, task_names, &o->task);
    case OPT_OPTIMIZER:
        return cli_parse_choice(name, arg, optimizer_names, &o->optimizer);
    case OPT_SCHEDULE:
        return cli_parse_choice(name, arg, schedule_names, &o->schedule);
    case OPT_LAYERS:
        free(o->layers);
        o->layers = NULL;
        return cli_parse_sizes(name, arg, &o->layers, &o->n_layers);
    case OPT_HIDDEN:
        free(o->hidden);
        o->hidden = NULL;
        return cli_parse_sizes(name, arg, &o->hidden, &o->n_hidden);
    default:
        return numeric_option(o, c, name, arg);
    }
}

/* Checks that need all options. */
static int check_options(train_opts *o)
{
    if (o->layers && o->hidden)
        return cli_usage("--layers gives every layer, --hidden the hidden "
                         "ones: give one of them");
    if (o->layers && o->n_layers < 2)
        return cli_usage("--layers needs at least 2 sizes (inputs and "
                         "outputs)");
    if (!o->out)
        return cli_usage("-o MODEL is required: where to write the model");
    if (o->early_stop && o->val_split == 0 && !o->val)
        return cli_usage("--early-stop needs validation data: add "
                         "--val-split, e.g. --val-split 0.1, or --val FILE");
    if (o->val && o->val_split > 0)
        return cli_usage("--val FILE and --val-split: give one of them");
    if (o->init && (o->layers || o->hidden))
        return cli_usage("--init MODEL keeps the model's layers: leave out "
                         "--layers and --hidden");
    if (o->init && (o->task != TASK_AUTO || !o->standardize))
        return cli_usage("--init MODEL keeps the model's task and input "
                         "transform: leave out --task and --no-standardize");
    return ST_OK;
}

int train_parse_args(int argc, char **argv, train_opts *o, int *help_asked)
{
    set_defaults(o);
    int c, st = ST_OK;
    while (st == ST_OK &&
           (c = getopt_long(argc, argv, ":o:qh", long_options, NULL)) != -1) {
        if (c == 'h')
            *help_asked = 1;
        else if (c == '?' || c == ':')
            st = cli_bad_option(c, argv);
        else
            st = one_option(o, c, optarg);
    }
    if (st != ST_OK || *help_asked)
        return st;
    if (optind == argc)
        return cli_usage("DATA is missing");
    if (optind + 1 < argc)
        return cli_usage("one DATA file only, got '%s' too",
                         argv[optind + 1]);
    o->in.data = argv[optind];
    return check_options(o);
}
