/* SPDX-License-Identifier: MIT */
/*
 * `nn train`: read data, build the network the options describe, train it
 * (fit.c), and leave the model, and on request its curves (--plot) and
 * numbers (--log). The model is written once, at the end, by nn_save,
 * which renames a complete file into place: an interrupted or failed run
 * leaves either no model or a whole one.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "fit.h"
#include "history.h"
#include "inputs.h"
#include "model.h"
#include "progress.h"

static const char help[] =
    "Usage: nn train DATA [--labels FILE] [--label COL] --layers N,N,...,N\n"
    "                -o MODEL [options]\n"
    "\n"
    "Train a multilayer perceptron on DATA (CSV, IDX or .npy, optionally\n"
    "gzipped) and write it to MODEL.\n"
    "\n"
    "Data:\n"
    "  --labels FILE        targets in a file of their own (needed for IDX\n"
    "                       and .npy DATA; with CSV, all DATA columns are\n"
    "                       then inputs)\n"
    "  --label COL          CSV label column, by header name or 0-based\n"
    "                       index (default: the last column)\n"
    "  --header, --no-header  CSV first line is / is not a header\n"
    "                       (default: a header when a cell is not a number)\n"
    "  --task TASK          classify (integer classes 0..K-1, softmax\n"
    "                       output) or regress (identity output); default:\n"
    "                       classify when the output layer has >= 2 units\n"
    "                       and there is one label per sample\n"
    "  --val-split F        hold out this fraction for validation [0]\n"
    "  --no-standardize     feed raw inputs (default: the model standardises\n"
    "                       each input with the training set's mean and std)\n"
    "\n"
    "Network:\n"
    "  --layers N,N,...,N   units per layer, inputs first, outputs last\n"
    "  --activation A[,A..] hidden activation(s): relu, leaky_relu, tanh,\n"
    "                       sigmoid, identity [relu]\n"
    "  --seed N             seed of the weights, shuffling, dropout and\n"
    "                       validation split [1]\n"
    "\n"
    "Training:\n"
    "  --epochs N           epochs [10]\n"
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
    "\n"
    "Output:\n"
    "  -o, --output MODEL   the model file (written whole, or not at all)\n"
    "  --plot FILE.svg      loss and accuracy curves\n"
    "  --log FILE.csv       the per-epoch numbers\n"
    "  -q, --quiet          print nothing but errors\n"
    "  -h, --help           this help\n"
    "\n"
    "With validation data, the weights of the epoch with the lowest\n"
    "validation loss are the ones saved. Ctrl-C stops after the current\n"
    "step, saves the model and exits with status 130.\n";

enum task { TASK_AUTO, TASK_CLASSIFY, TASK_REGRESS };

typedef struct train_opts {
    input_spec in;
    const char *out, *plot, *log, *activation;
    int task, optimizer, schedule, standardize, quiet;
    size_t *layers, n_layers;
    size_t epochs, batch, step_size, t_max, patience, early_stop;
    double lr, momentum, weight_decay, dropout, clip, gamma, min_lr;
    double val_split;
    uint64_t seed;
} train_opts;

enum {
    OPT_TASK = OPT_FIRST_FREE, OPT_LAYERS, OPT_ACTIVATION, OPT_EPOCHS,
    OPT_BATCH, OPT_OPTIMIZER, OPT_LR, OPT_MOMENTUM, OPT_SEED, OPT_SCHEDULE,
    OPT_STEP_SIZE, OPT_GAMMA, OPT_T_MAX, OPT_MIN_LR, OPT_PATIENCE,
    OPT_DROPOUT, OPT_WEIGHT_DECAY, OPT_CLIP, OPT_VAL_SPLIT, OPT_EARLY_STOP,
    OPT_NO_STANDARDIZE, OPT_PLOT, OPT_LOG
};

static const struct option long_options[] = {
    INPUT_LONG_OPTIONS,
    {"task", required_argument, NULL, OPT_TASK},
    {"layers", required_argument, NULL, OPT_LAYERS},
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
    {"log", required_argument, NULL, OPT_LOG},
    {"output", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static const char *const task_names[] = {"auto", "classify", "regress", NULL};
static const char *const optimizer_names[] = {
    "sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", NULL};
static const char *const schedule_names[] = {
    "constant", "step", "exponential", "cosine", "plateau", NULL};

static void set_defaults(train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->activation = "relu";
    o->task = TASK_AUTO;
    o->optimizer = NN_ADAM;
    o->schedule = NN_SCHEDULE_CONSTANT;
    o->standardize = 1;
    o->epochs = 10;
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
    if (inputs_option(&o->in, c, arg))
        return ST_OK;
    switch (c) {
    case 'o':
        o->out = arg;
        return ST_OK;
    case 'q':
        o->quiet = 1;
        return ST_OK;
    case OPT_PLOT:
        o->plot = arg;
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
    default:
        return numeric_option(o, c, name, arg);
    }
}

/* Checks that need all options. */
static int check_options(train_opts *o)
{
    if (!o->layers)
        return cli_usage("--layers is required, e.g. --layers 784,128,10");
    if (o->n_layers < 2)
        return cli_usage("--layers needs at least 2 sizes (inputs and "
                         "outputs)");
    if (!o->out)
        return cli_usage("-o MODEL is required: where to write the model");
    if (o->early_stop && o->val_split == 0)
        return cli_usage("--early-stop needs validation data: add "
                         "--val-split, e.g. --val-split 0.1");
    if (o->task == TASK_CLASSIFY && o->layers[o->n_layers - 1] < 2)
        return cli_usage("--task classify needs an output layer of at least "
                         "2 units, one per class");
    if (o->t_max == 0)
        o->t_max = o->epochs;
    return ST_OK;
}

static int parse_args(int argc, char **argv, train_opts *o, int *help_asked)
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

/* Hidden activations: one name for all hidden layers, or one per layer. */
static int hidden_activations(const train_opts *o, nn_activation *acts)
{
    size_t hidden = o->n_layers - 2, n = 1;
    for (const char *p = o->activation; *p; p++)
        n += *p == ',';
    if (n != 1 && n != hidden)
        return cli_usage("--activation %s: give one activation, or one per "
                         "hidden layer (%zu)", o->activation, hidden);
    const char *p = o->activation;
    for (size_t l = 0; l < n; l++) {
        char name[32];
        size_t len = strcspn(p, ",");
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        int st = cli_parse_activation("--activation", name, 0, &acts[l]);
        if (st != ST_OK)
            return st;
        p += len + (p[len] == ',');
    }
    for (size_t l = n; l < hidden; l++)
        acts[l] = acts[0];
    return ST_OK;
}

/* nn_set with the option's name in the message: a value libnn rejects is
 * a bad command line. */
static int set(nn_net *net, const char *option, int key, double value)
{
    int rc = nn_set(net, key, value);
    if (rc == NN_OK)
        return ST_OK;
    const char *detail = nn_last_error(net);
    if (strncmp(detail, "nn_set: ", 8) == 0)
        detail += 8;
    return cli_usage("%s: %s", option, detail);
}

static int configure(nn_net *net, const train_opts *o)
{
    const struct {
        const char *option;
        int key;
        double value;
    } settings[] = {
        {"--optimizer", NN_OPT_OPTIMIZER, o->optimizer},
        {"--lr", NN_OPT_LEARNING_RATE, o->lr},
        {"--momentum", NN_OPT_MOMENTUM, o->momentum},
        {"--batch", NN_OPT_BATCH_SIZE, (double)o->batch},
        {"--weight-decay", NN_OPT_WEIGHT_DECAY, o->weight_decay},
        {"--dropout", NN_OPT_DROPOUT, o->dropout},
        {"--clip", NN_OPT_CLIP_NORM, o->clip},
        {"--step-size", NN_OPT_STEP_SIZE, (double)o->step_size},
        {"--gamma", NN_OPT_GAMMA, o->gamma},
        {"--t-max", NN_OPT_T_MAX, (double)o->t_max},
        {"--min-lr", NN_OPT_MIN_LR, o->min_lr},
        {"--patience", NN_OPT_PLATEAU_PATIENCE, (double)o->patience},
        {"--early-stop", NN_OPT_EARLY_STOPPING, (double)o->early_stop},
        {"--schedule", NN_OPT_SCHEDULE, o->schedule},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        int st = set(net, settings[i].option, settings[i].key,
                     settings[i].value);
        if (st != ST_OK)
            return st;
    }
    return ST_OK;
}

static int build_net(const train_opts *o, int classify, nn_net **net)
{
    nn_activation *acts = malloc((o->n_layers - 1) * sizeof *acts);
    if (!acts)
        return cli_fail("out of memory");
    int st = hidden_activations(o, acts);
    acts[o->n_layers - 2] = classify ? NN_SOFTMAX : NN_IDENTITY;
    if (st == ST_OK) {
        int rc = nn_create(net, o->n_layers, o->layers, acts, 0, o->seed);
        st = rc == NN_OK ? configure(*net, o)
                         : cli_fail_nn("cannot create the network", rc, NULL);
    }
    free(acts);
    return st;
}

/* Decides the task: explicit, or classify when there are >= 2 outputs and
 * one label per sample. */
static int is_classify(const train_opts *o, const dataset *labels)
{
    if (o->task != TASK_AUTO)
        return o->task == TASK_CLASSIFY;
    return o->layers[o->n_layers - 1] >= 2 && labels->cols == 1;
}

/* A seeded shuffle of the samples before the validation split, so the
 * held-out part is not just the file's tail (files are often sorted). */
static int shuffle_rows(float *x, size_t nx, float *y, size_t ny, size_t n,
                        uint64_t seed)
{
    float *tmp = malloc((nx > ny ? nx : ny) * sizeof *tmp);
    if (!tmp)
        return cli_fail("out of memory");
    uint64_t s = seed ^ 0x9e3779b97f4a7c15u;
    for (size_t i = n - 1; i > 0; i--) {
        /* splitmix64: a fine stream for a permutation */
        uint64_t z = (s += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        size_t j = (size_t)((z ^ (z >> 31)) % (i + 1));
        float *rows[2][2] = {{x + i * nx, x + j * nx}, {y + i * ny, y + j * ny}};
        size_t width[2] = {nx, ny};
        for (int k = 0; k < 2; k++) {
            memcpy(tmp, rows[k][0], width[k] * sizeof *tmp);
            memcpy(rows[k][0], rows[k][1], width[k] * sizeof *tmp);
            memcpy(rows[k][1], tmp, width[k] * sizeof *tmp);
        }
    }
    free(tmp);
    return ST_OK;
}

/* Splits off the validation part (the last rows after a shuffle). */
static int split(const train_opts *o, dataset *x, targets *t, fit_data *d)
{
    size_t n = x->rows, n_val = (size_t)llround(o->val_split * (double)n);
    if (o->val_split > 0 && (n_val == 0 || n_val == n))
        return cli_fail("%s: %zu samples cannot be split into training and "
                        "validation by --val-split %g", x->path, n,
                        o->val_split);
    if (n_val > 0) {
        int st = shuffle_rows(x->x, x->cols, t->y, t->k, n, o->seed);
        if (st != ST_OK)
            return st;
    }
    size_t n_train = n - n_val;
    *d = (fit_data){x->x, t->y, n_train, x->x + n_train * x->cols,
                    t->y + n_train * t->k, n_val};
    return ST_OK;
}

/* Everything one run holds, freed in one place. */
typedef struct run {
    train_opts o;
    dataset x, labels;
    targets t;
    nn_net *net;
    int classify;
    fit_data data;
    progress prog;
    history hist;
} run;

static void run_free(run *r)
{
    history_free(&r->hist);
    progress_free(&r->prog);
    nn_free(r->net);
    targets_free(&r->t);
    data_free(&r->labels);
    data_free(&r->x);
    free(r->o.layers);
}

/* Data, targets, network, split and transform: all before training. */
static int prepare(run *r)
{
    const train_opts *o = &r->o;
    int st = inputs_load(&o->in, LABELS_REQUIRED, o->layers[0],
                         "--layers asks for", &r->x, &r->labels);
    if (st != ST_OK)
        return st;
    r->classify = is_classify(o, &r->labels);
    st = targets_make(&r->labels, r->classify, o->layers[o->n_layers - 1],
                      &r->t);
    if (st == ST_OK)
        st = build_net(o, r->classify, &r->net);
    if (st == ST_OK)
        st = split(o, &r->x, &r->t, &r->data);
    if (st == ST_OK && o->standardize) {
        int rc = nn_standardize_inputs(r->net, r->data.x, r->data.n);
        if (rc != NN_OK)
            st = cli_fail_nn("standardising the inputs", rc, r->net);
    }
    return st;
}

static void print_start(const run *r)
{
    char layers[256];
    model_layers(r->net, layers, sizeof layers);
    printf("training %s (%s, %zu parameters) on %zu samples of %s",
           layers, r->classify ? "classifier" : "regression",
           nn_param_count(r->net), r->data.n, r->o.in.data);
    if (r->data.n_val)
        printf(", validating on %zu", r->data.n_val);
    printf("\n");
    fflush(stdout);
}

static void print_end(const run *r, double seconds)
{
    size_t best = history_best_epoch(&r->hist);
    if (progress_interrupted())
        printf("interrupted in epoch %zu, step %zu of %zu\n",
               r->prog.at_epoch + 1, r->prog.at_step + 1,
               r->prog.steps_per_epoch);
    else if (r->hist.n < r->o.epochs)
        printf("stopped early: no better validation loss for %zu epochs\n",
               r->o.early_stop);
    if (best < r->hist.n)
        printf("best validation loss %.4f at epoch %zu (weights restored)\n",
               r->hist.val_loss[best], best + 1);
    printf("trained %zu epoch%s in %.1fs; model written to %s\n", r->hist.n,
           r->hist.n == 1 ? "" : "s", seconds, r->o.out);
}

/* Training, then the model, then the extras (plot and log). */
static int train_and_save(run *r)
{
    const train_opts *o = &r->o;
    int st = progress_init(&r->prog, o->epochs, r->data.n, o->batch,
                           r->classify, o->quiet);
    if (st != ST_OK)
        return st;
    if (!o->quiet)
        print_start(r);
    progress_catch_interrupt();
    int rc = fit_run(r->net, &r->data, o->epochs, &r->prog);
    double seconds = cli_now() - r->prog.start;
    progress_clear(&r->prog);
    if (rc != NN_OK)
        return cli_fail_nn("training failed, no model written", rc, r->net);
    st = history_read(&r->hist, r->net, r->prog.seconds, r->classify);
    if (st == ST_OK) {
        rc = nn_save(r->net, o->out);
        st = rc == NN_OK ? ST_OK : cli_fail_nn("saving the model", rc, NULL);
    }
    if (st == ST_OK && !o->quiet)
        print_end(r, seconds);
    if (st == ST_OK && o->log)
        st = history_write_csv(&r->hist, o->log);
    if (st == ST_OK && o->plot) {
        char title[512];
        snprintf(title, sizeof title, "nn train %s", o->in.data);
        st = plot_write_svg(&r->hist, o->plot, title);
    }
    progress_release_interrupt();
    return st == ST_OK && progress_interrupted() ? ST_INTERRUPTED : st;
}

/* Output files are checked before the (possibly long) training. */
static int check_outputs(const train_opts *o)
{
    int st = cli_check_writable("-o", o->out);
    if (st == ST_OK && o->plot)
        st = cli_check_writable("--plot", o->plot);
    if (st == ST_OK && o->log)
        st = cli_check_writable("--log", o->log);
    return st;
}

int cmd_train(int argc, char **argv)
{
    run r;
    memset(&r, 0, sizeof r);
    int help_asked = 0;
    int st = parse_args(argc, argv, &r.o, &help_asked);
    if (st == ST_OK && help_asked)
        st = cli_help(help);
    else if (st == ST_OK && (st = check_outputs(&r.o)) == ST_OK &&
             (st = prepare(&r)) == ST_OK)
        st = train_and_save(&r);
    run_free(&r);
    return st;
}
