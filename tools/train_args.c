/* SPDX-License-Identifier: MIT */
/*
 * The command line of `nnet train`: its help text, its options and their
 * defaults, the checks that need all of them, and the settings they give
 * a network. Values are parsed here only as far as "is this a number";
 * their ranges are libnn's to judge (nn_option_bounds, nn_set), so the
 * tool and the library cannot disagree about what is allowed.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <math.h>
#include <stddef.h>
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
    "  --threads N          threads of the products and passes (0: the\n"
    "                       backend's default) [0]\n"
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

static const char *const task_names[] = {"auto", "classify", "regress", NULL};

/* How an option's value is read into its field of train_opts. */
enum kind {
    FLAG,   /* no value: the int becomes 1 */
    TEXT,   /* const char *: the value as given */
    SIZE,   /* size_t: from the option's lower bound (1 without one) */
    REAL,   /* double: its range is libnn's to judge */
    SEED,   /* uint64_t */
    CHOICE, /* int: the index of the value among `choices` */
    SIZES,  /* size_list: comma-separated sizes */
    SPLIT   /* double: --val-split, the tool's own, in [0, 0.99] */
};

#define FIELD(name) offsetof(train_opts, name)

/* The options of `nnet train` but the data options (inputs.h) and --help.
 * Those that give an nn_option come first, in the order
 * train_apply_settings sets them. */
static const struct train_option {
    const char *name;
    char letter;     /* its short form, or 0 */
    enum kind kind;
    size_t field;    /* offset in train_opts */
    int key;         /* the nn_option it sets, or -1 */
    const char *const *choices;
} options[] = {
    {"optimizer", 0, CHOICE, FIELD(optimizer), NN_OPT_OPTIMIZER,
     cli_optimizer_names},
    {"lr", 0, REAL, FIELD(lr), NN_OPT_LEARNING_RATE, NULL},
    {"momentum", 0, REAL, FIELD(momentum), NN_OPT_MOMENTUM, NULL},
    {"batch", 0, SIZE, FIELD(batch), NN_OPT_BATCH_SIZE, NULL},
    {"weight-decay", 0, REAL, FIELD(weight_decay), NN_OPT_WEIGHT_DECAY, NULL},
    {"dropout", 0, REAL, FIELD(dropout), NN_OPT_DROPOUT, NULL},
    {"clip", 0, REAL, FIELD(clip), NN_OPT_CLIP_NORM, NULL},
    {"step-size", 0, SIZE, FIELD(step_size), NN_OPT_STEP_SIZE, NULL},
    {"gamma", 0, REAL, FIELD(gamma), NN_OPT_GAMMA, NULL},
    {"t-max", 0, SIZE, FIELD(t_max), NN_OPT_T_MAX, NULL},
    {"min-lr", 0, REAL, FIELD(min_lr), NN_OPT_MIN_LR, NULL},
    {"patience", 0, SIZE, FIELD(patience), NN_OPT_PLATEAU_PATIENCE, NULL},
    {"early-stop", 0, SIZE, FIELD(early_stop), NN_OPT_EARLY_STOPPING, NULL},
    {"schedule", 0, CHOICE, FIELD(schedule), NN_OPT_SCHEDULE,
     cli_schedule_names},
    {"threads", 0, SIZE, FIELD(threads), NN_OPT_THREADS, NULL},
    {"task", 0, CHOICE, FIELD(task), -1, task_names},
    {"layers", 0, SIZES, FIELD(layers), -1, NULL},
    {"hidden", 0, SIZES, FIELD(hidden), -1, NULL},
    {"init", 0, TEXT, FIELD(init), -1, NULL},
    {"val", 0, TEXT, FIELD(val), -1, NULL},
    {"activation", 0, TEXT, FIELD(activation), -1, NULL},
    {"epochs", 0, SIZE, FIELD(epochs), -1, NULL},
    {"seed", 0, SEED, FIELD(seed), -1, NULL},
    {"val-split", 0, SPLIT, FIELD(val_split), -1, NULL},
    {"no-standardize", 0, FLAG, FIELD(no_standardize), -1, NULL},
    {"plot", 0, TEXT, FIELD(plot), -1, NULL},
    {"plot-log", 0, FLAG, FIELD(plot_log), -1, NULL},
    {"log", 0, TEXT, FIELD(log), -1, NULL},
    {"mpi", 0, FLAG, FIELD(mpi), -1, NULL},
    {"output", 'o', TEXT, FIELD(out), -1, NULL},
    {"quiet", 'q', FLAG, FIELD(quiet), -1, NULL},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

static const struct option input_options[] = {INPUT_LONG_OPTIONS};
#define N_INPUT_OPTIONS (sizeof input_options / sizeof input_options[0])

size_t train_default_epochs(size_t n)
{
    size_t epochs = 1000000 / (n ? n : 1);
    return epochs < 10 ? 10 : epochs > 200 ? 200 : epochs;
}

static void set_defaults(train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->activation = "relu";
    o->task = TASK_AUTO;
    o->optimizer = NN_ADAM;
    o->schedule = NN_SCHEDULE_CONSTANT;
    o->batch = 64;
    o->step_size = 10;
    o->patience = 10;
    o->lr = 1e-3;
    o->momentum = 0.9;
    o->gamma = 0.1;
    o->seed = 1;
}

/* getopt_long's table: the data options, then `options` (each returning
 * its letter or OPT_FIRST_FREE + its index), then --help. */
static void make_long_options(struct option *longs)
{
    size_t n = N_INPUT_OPTIONS;
    memcpy(longs, input_options, sizeof input_options);
    for (size_t i = 0; i < N_OPTIONS; i++)
        longs[n++] = (struct option){
            options[i].name, options[i].kind == FLAG ? no_argument
                                                     : required_argument,
            NULL, options[i].letter ? options[i].letter
                                    : OPT_FIRST_FREE + (int)i};
    longs[n++] = (struct option){"help", no_argument, NULL, 'h'};
    longs[n] = (struct option){NULL, 0, NULL, 0};
}

/* The index in `options` of getopt_long's return `c`. */
static size_t option_of(int c)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (options[i].letter == c)
            return i;
    return (size_t)(c - OPT_FIRST_FREE);
}

/* The least value of an nn_option (as libnn says), or 1 for the tool's own
 * options (--epochs). */
static size_t lower_bound(int key)
{
    double lower = 1;
    if (key >= 0)
        (void)nn_option_bounds(key, &lower, NULL, NULL);
    return (size_t)lower;
}

/* Reads the value of options[i] into its field, noting it was given. */
static int read_option(train_opts *o, size_t i, const char *arg)
{
    const struct train_option *t = &options[i];
    void *field = (char *)o + t->field;
    char name[32];
    snprintf(name, sizeof name, "--%s", t->name);
    o->given |= 1ull << i;
    switch (t->kind) {
    case FLAG:
        *(int *)field = 1;
        return ST_OK;
    case TEXT:
        *(const char **)field = arg;
        return ST_OK;
    case SIZE:
        return cli_parse_size(name, arg, lower_bound(t->key), (size_t)1 << 31,
                              field);
    case REAL:
        return cli_parse_double(name, arg, -HUGE_VAL, HUGE_VAL, field);
    case SEED:
        return cli_parse_u64(name, arg, field);
    case CHOICE:
        return cli_parse_choice(name, arg, t->choices, field);
    case SIZES: {
        size_list *list = field;
        free(list->v);
        list->v = NULL;
        return cli_parse_sizes(name, arg, &list->v, &list->n);
    }
    default: /* SPLIT */
        return cli_parse_double(name, arg, 0, 0.99, field);
    }
}

/* Checks that need all options. */
static int check_options(train_opts *o)
{
    if (o->layers.v && o->hidden.v)
        return cli_usage("--layers gives every layer, --hidden the hidden "
                         "ones: give one of them");
    if (o->layers.v && o->layers.n < 2)
        return cli_usage("--layers needs at least 2 sizes (inputs and "
                         "outputs)");
    if (!o->out)
        return cli_usage("-o MODEL is required: where to write the model");
    if (o->early_stop && o->val_split == 0 && !o->val)
        return cli_usage("--early-stop needs validation data: add "
                         "--val-split, e.g. --val-split 0.1, or --val FILE");
    if (o->val && o->val_split > 0)
        return cli_usage("--val FILE and --val-split: give one of them");
    if (o->init && (o->layers.v || o->hidden.v))
        return cli_usage("--init MODEL keeps the model's layers: leave out "
                         "--layers and --hidden");
    if (o->init && (o->task != TASK_AUTO || o->no_standardize))
        return cli_usage("--init MODEL keeps the model's task and input "
                         "transform: leave out --task and --no-standardize");
    return ST_OK;
}

int train_parse_args(int argc, char **argv, train_opts *o, int *help_asked)
{
    set_defaults(o);
    struct option longs[N_INPUT_OPTIONS + N_OPTIONS + 2];
    make_long_options(longs);
    int c, st = ST_OK;
    while (st == ST_OK &&
           (c = getopt_long(argc, argv, ":o:qh", longs, NULL)) != -1) {
        if (c == 'h')
            *help_asked = 1;
        else if (c == '?' || c == ':')
            st = cli_bad_option(c, argv);
        else if (!inputs_option(&o->in, c, optarg, &st))
            st = read_option(o, option_of(c), optarg);
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

int train_set(nn_net *net, const char *option, int key, double value)
{
    int rc = nn_set(net, key, value);
    if (rc == NN_OK)
        return ST_OK;
    const char *detail = nn_last_error(net);
    if (strncmp(detail, "nn_set: ", 8) == 0)
        detail += 8;
    return cli_usage("%s: %s", option, detail);
}

/* The value of options[i], which sets an nn_option. */
static double setting(const train_opts *o, size_t i)
{
    const void *field = (const char *)o + options[i].field;
    switch (options[i].kind) {
    case SIZE:
        return (double)*(const size_t *)field;
    case CHOICE:
        return *(const int *)field;
    default: /* REAL */
        return *(const double *)field;
    }
}

int train_apply_settings(nn_net *net, const train_opts *o)
{
    for (size_t i = 0; i < N_OPTIONS && options[i].key >= 0; i++) {
        char name[32];
        snprintf(name, sizeof name, "--%s", options[i].name);
        double value = setting(o, i);
        /* threads are process-wide, so set only when asked for; a model
         * to continue keeps its settings but for those given */
        int given = o->given >> i & 1;
        if (options[i].key == NN_OPT_THREADS ? value == 0 : o->init && !given)
            continue;
        int st = train_set(net, name, options[i].key, value);
        if (st != ST_OK)
            return st;
    }
    return ST_OK;
}
