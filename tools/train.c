/* SPDX-License-Identifier: MIT */
/*
 * `nnet train`: read data, build the network the options describe, train it
 * (fit.c), and leave the model, and on request its curves (--plot) and
 * numbers (--log). The model is written once, at the end, by nn_save,
 * which renames a complete file into place: an interrupted or failed run
 * leaves either no model or a whole one. With --mpi every rank runs all of
 * this on its slice of the data, and rank 0 alone prints and writes files.
 */
#define _POSIX_C_SOURCE 200809L

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
#include "outfile.h"
#include "progress.h"
#include "train.h"

/* Hidden activations: one name for all hidden layers, or one per layer. */
static int hidden_activations(const train_opts *o, size_t hidden,
                              nn_activation *acts)
{
    size_t n = 1;
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

/* The network: hidden layers as the options say, the output layer as the
 * task needs (softmax over the classes, a sigmoid for one output of two
 * classes, identity for regression). */
static int build_net(const train_opts *o, const size_t *sizes, size_t n,
                     int classify, nn_net **net)
{
    nn_activation *acts = malloc((n - 1) * sizeof *acts);
    if (!acts)
        return cli_fail("out of memory");
    int st = hidden_activations(o, n - 2, acts);
    int sigmoid = classify && sizes[n - 1] == 1;
    acts[n - 2] = sigmoid ? NN_SIGMOID : classify ? NN_SOFTMAX : NN_IDENTITY;
    if (st == ST_OK) {
        int rc = nn_create(net, n, sizes, acts, 0, o->seed);
        st = rc == NN_OK ? train_apply_settings(*net, o)
                         : cli_fail_nn("cannot create the network", rc, NULL);
    }
    if (st == ST_OK && sigmoid)
        st = train_set(*net, "--task", NN_OPT_LOSS,
                       NN_LOSS_BINARY_CROSS_ENTROPY);
    free(acts);
    return st;
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
        return cli_fail("%s: %zu sample%s cannot be split into training "
                        "and validation by --val-split %g", x->path, n,
                        CLI_S(n), o->val_split);
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
    class_list classes;         /* classify: the labels', or the model's */
    dataset vx, vlabels;        /* --val FILE */
    targets vt;
    size_t *sizes, n_sizes;     /* the layers */
    fit_data data;
    progress prog;
    history hist;
    int rank;                   /* under --mpi; 0 otherwise */
} run;

static void run_free(run *r)
{
    history_free(&r->hist);
    progress_free(&r->prog);
    nn_free(r->net);
    targets_free(&r->t);
    targets_free(&r->vt);
    data_free(&r->vlabels);
    data_free(&r->vx);
    data_free(&r->labels);
    data_free(&r->x);
    classes_free(&r->classes);
    free(r->sizes);
    free(r->o.layers.v);
    free(r->o.hidden.v);
}

/* Under --mpi, the status every rank agrees on after a step that may fail
 * on some ranks only (fit_mpi_agree); `st` itself otherwise. */
static int agree(const run *r, int st)
{
    return r->o.mpi ? fit_mpi_agree(st) : st;
}

/* The task, from --task or the labels; for classification the classes. */
static int decide_task(run *r)
{
    r->classify = r->o.task == TASK_AUTO
                      ? labels_look_like_classes(&r->labels)
                      : r->o.task == TASK_CLASSIFY;
    if (!r->classify)
        return ST_OK;
    return classes_from_labels(&r->labels, &r->classes);
}

/* Whether every class is one of the integers 0..k-1. */
static int integer_classes(const class_list *c, size_t k)
{
    for (size_t j = 0; j < c->k; j++) {
        char *end;
        unsigned long v = strtoul(c->names[j], &end, 10);
        if (*end || c->names[j][0] == '-' || v >= k)
            return 0;
    }
    return 1;
}

/* The layer sizes: --layers, checked against the data and the task, or
 * the inputs, --hidden (100 by default, as scikit-learn's) and the
 * outputs. */
static int decide_layers(run *r)
{
    const train_opts *o = &r->o;
    size_t n_out = r->classify ? r->classes.k : r->labels.cols;
    if (r->classify && n_out < 2 &&
        !(o->layers.v && integer_classes(&r->classes, o->layers.v[o->layers.n - 1])))
        return cli_fail("%s: every label is '%s': classification needs at "
                        "least 2 classes", r->labels.path,
                        r->classes.names[0]);
    if (o->layers.v) {
        size_t last = o->layers.v[o->layers.n - 1];
        if (r->classify && last > n_out && integer_classes(&r->classes, last))
            /* labels all in 0..last-1 need not show every class */
            return classes_numbered(&r->classes, last) == ST_OK
                       ? decide_layers(r)
                       : ST_FAIL;
        if (r->classify && last != n_out && !(last == 1 && n_out == 2)) {
            char list[256];
            classes_list(&r->classes, list, sizeof list);
            return cli_fail("%s: %zu classes (%s), but --layers gives %zu "
                            "output%s", r->labels.path, n_out, list, last,
                            last == 1 ? "" : "s");
        }
        r->n_sizes = o->layers.n;
    } else {
        r->n_sizes = (o->hidden.v ? o->hidden.n : 1) + 2;
    }
    r->sizes = malloc(r->n_sizes * sizeof *r->sizes);
    if (!r->sizes)
        return cli_fail("out of memory");
    if (o->layers.v) {
        memcpy(r->sizes, o->layers.v, r->n_sizes * sizeof *r->sizes);
        return ST_OK;
    }
    r->sizes[0] = r->x.cols;
    for (size_t l = 1; l + 1 < r->n_sizes; l++)
        r->sizes[l] = o->hidden.v ? o->hidden.v[l - 1] : 100;
    r->sizes[r->n_sizes - 1] = n_out;
    return ST_OK;
}

/* What the model keeps about its data: task, classes, feature and label
 * names (the header's, when DATA has one). */
static int describe(run *r)
{
    nn_net *net = r->net;
    int rc = nn_set_task(net, r->classify ? NN_TASK_CLASSIFY
                                          : NN_TASK_REGRESS);
    if (rc == NN_OK && r->classify)
        rc = nn_set_classes(net, r->classes.k,
                            (const char *const *)r->classes.names);
    for (size_t j = 0; rc == NN_OK && r->x.names && j < r->x.cols; j++) {
        size_t col;
        if (data_column_named(&r->x, r->x.names[j], "both inputs", &col) !=
            ST_OK)
            return ST_FAIL;
    }
    if (rc == NN_OK && r->x.names)
        rc = nn_set_feature_names(net, r->x.cols,
                                  (const char *const *)r->x.names);
    if (rc == NN_OK && r->labels.names && r->labels.cols == 1)
        rc = nn_set_label_name(net, r->labels.names[0]);
    return rc == NN_OK ? ST_OK
                       : cli_fail_nn("naming the model's data", rc, net);
}

/* A new network for the data: task, layers, targets, settings, names. */
static int create(run *r)
{
    int st = decide_task(r);
    if (st == ST_OK)
        st = decide_layers(r);
    if (st == ST_OK)
        st = targets_make(&r->labels, r->classify ? &r->classes : NULL,
                          r->sizes[r->n_sizes - 1], &r->t);
    if (st == ST_OK)
        st = build_net(&r->o, r->sizes, r->n_sizes, r->classify, &r->net);
    if (st == ST_OK)
        st = describe(r);
    return st;
}

/* --init: the loaded model's task and classes, the settings given. */
static int resume(run *r)
{
    r->classify = model_is_classifier(r->net);
    int st = r->classify ? classes_from_model(r->net, &r->classes) : ST_OK;
    if (st == ST_OK)
        st = targets_make(&r->labels, r->classify ? &r->classes : NULL,
                          nn_layer_size(r->net, nn_num_layers(r->net) - 1),
                          &r->t);
    if (st == ST_OK)
        st = train_apply_settings(r->net, &r->o);
    return st;
}

/* --val FILE: labelled like DATA, its columns found by the names the
 * network now keeps (or in DATA's layout without a header). */
static int load_validation(run *r)
{
    input_spec spec = r->o.in;
    spec.data = r->o.val;
    spec.ignore_absent = 1;
    if (spec.labels)
        return cli_usage("--val FILE holds its labels: it cannot be used "
                         "with --labels");
    int st = inputs_load(&spec, LABELS_REQUIRED, r->net,
                         nn_layer_size(r->net, 0), "the network takes",
                         &r->vx, &r->vlabels);
    if (st == ST_OK)
        st = targets_make(&r->vlabels, r->classify ? &r->classes : NULL,
                          nn_layer_size(r->net, nn_num_layers(r->net) - 1),
                          &r->vt);
    return st;
}

/* Data, targets, network and split: the same on every rank under --mpi. */
static int load(run *r)
{
    train_opts *o = &r->o;
    int st = o->init ? model_load(o->init, &r->net) : ST_OK;
    if (st == ST_OK)
        st = o->init ? inputs_load(&o->in, LABELS_REQUIRED, r->net,
                                   nn_layer_size(r->net, 0),
                                   "the model given to --init takes", &r->x,
                                   &r->labels)
                     : inputs_load(&o->in, LABELS_REQUIRED, NULL,
                                   o->layers.v ? o->layers.v[0] : 0,
                                   "--layers asks for", &r->x, &r->labels);
    if (st == ST_OK && !o->epochs) /* the training rows, after the split */
        o->epochs = train_default_epochs(
            r->x.rows - (size_t)llround(o->val_split * (double)r->x.rows));
    if (st == ST_OK && !o->t_max)
        o->t_max = o->epochs;
    if (st == ST_OK)
        st = o->init ? resume(r) : create(r);
    if (st == ST_OK && o->val)
        st = load_validation(r);
    if (st == ST_OK)
        st = split(o, &r->x, &r->t, &r->data);
    if (st == ST_OK && o->val) {
        r->data.x_val = r->vx.x;
        r->data.y_val = r->vt.y;
        r->data.n_val = r->vx.rows;
    }
    return st;
}

/* The input transform, from the training rows (of all ranks). */
static int standardize(run *r)
{
    if (r->o.mpi)
        return fit_mpi_standardize(r->net, &r->data);
    int rc = nn_standardize_inputs(r->net, r->data.x, r->data.n);
    return rc == NN_OK ? ST_OK
                       : cli_fail_nn("standardising the inputs", rc, r->net);
}

/* Everything before training. */
static int prepare(run *r)
{
    int st = agree(r, load(r));
    /* a model to continue keeps its transform */
    if (st == ST_OK && !r->o.no_standardize && !r->o.init)
        st = standardize(r);
    return st;
}

/* The first line: what the labels made of the task. */
static void print_task(const run *r)
{
    if (r->classify) {
        char list[512];
        classes_list(&r->classes, list, sizeof list);
        printf("classification, %zu classes: %s\n", r->classes.k, list);
    } else if (r->labels.names && r->labels.cols == 1) {
        printf("regression, 1 target: %s\n", r->labels.names[0]);
    } else {
        printf("regression, %zu target%s\n", r->labels.cols,
               r->labels.cols == 1 ? "" : "s");
    }
}

static void print_start(const run *r)
{
    print_task(r);
    if (r->x.dropped)
        printf("%zu rows with missing values dropped (--na drop)\n",
               r->x.dropped);
    char layers[256];
    model_layers(r->net, layers, sizeof layers);
    size_t params = nn_param_count(r->net);
    printf("training %s (%s, %zu parameter%s) on %zu sample%s of %s",
           layers, r->classify ? "classifier" : "regression", params,
           CLI_S(params), r->data.n, CLI_S(r->data.n), r->o.in.data);
    if (r->data.n_val)
        printf(", validating on %zu%s%s", r->data.n_val,
               r->o.val ? " of " : "", r->o.val ? r->o.val : "");
    if (r->o.init)
        printf(", continuing %s (%g epochs trained)", r->o.init,
               model_get(r->net, NN_OPT_EPOCHS_DONE));
    if (r->o.mpi)
        printf(", over %d MPI ranks", fit_mpi_size());
    printf("\n");
    fflush(stdout);
}

static void print_end(const run *r, double seconds)
{
    size_t best = history_best_epoch(&r->hist);
    size_t ran = r->hist.first + r->hist.n;
    if (progress_interrupted())
        printf("interrupted in epoch %zu, step %zu of %zu\n",
               r->prog.at_epoch + 1, r->prog.at_step + 1,
               r->prog.steps_per_epoch);
    else if (ran < r->o.epochs)
        printf("stopped early: no better validation loss for %zu epochs\n",
               r->o.early_stop);
    char loss[32];
    if (best < r->hist.n)
        printf("best validation loss %s at epoch %zu (weights restored)\n",
               cli_loss(loss, r->hist.val_loss[best]),
               r->hist.first + best + 1);
    printf("trained %zu epoch%s in %.1fs; model written to %s\n", ran,
           ran == 1 ? "" : "s", seconds, r->o.out);
}

/* Reads the model file back and checks that it predicts, bit for bit, what
 * the trained network does on the first samples: a model file that is
 * not the model (a persistence bug) is caught here, not in production. */
static int verify_saved(const nn_net *net, const char *path, const float *x,
                        size_t n)
{
    size_t rows = n < 256 ? n : 256;
    size_t k = nn_layer_size(net, nn_num_layers(net) - 1);
    nn_net *back = NULL;
    float *a = malloc(2 * rows * k * sizeof *a);
    int st = ST_OK;
    int rc = a ? nn_load(&back, path) : NN_ENOMEM;
    if (rc == NN_OK)
        rc = nn_predict(net, x, rows, a);
    if (rc == NN_OK)
        rc = nn_predict(back, x, rows, a + rows * k);
    if (rc != NN_OK)
        st = cli_fail_nn("checking the saved model", rc, NULL);
    else if (memcmp(a, a + rows * k, rows * k * sizeof *a) != 0)
        st = cli_fail("%s: the saved model predicts differently from the "
                      "trained network (a libnn persistence bug)", path);
    nn_free(back);
    free(a);
    return st;
}

/* Trains, leaving the epochs in r->hist: fit.c's nn_fit, or under --mpi
 * fit_mpi.c's nn_mpi_fit. Returns a status, the failure printed. */
static int fit(run *r)
{
    double before = 0.0, after = 0.0;
    (void)nn_get(r->net, NN_OPT_EPOCHS_DONE, &before);
    if (r->o.mpi) {
        int st = fit_mpi_run(r->net, &r->data, r->o.epochs, &r->prog);
        if (st != ST_OK)
            return st;
    } else {
        int rc = fit_run(r->net, &r->data, r->o.epochs, &r->prog);
        progress_clear(&r->prog);
        if (rc != NN_OK)
            return cli_fail_nn("training failed, no model written", rc,
                               r->net);
    }
    (void)nn_get(r->net, NN_OPT_EPOCHS_DONE, &after);
    return history_read(&r->hist, r->net, (size_t)(after - before),
                        r->prog.seconds, r->classify);
}

/* The model, checked, then the extras (plot and log); rank 0's alone under
 * --mpi, where every rank holds the same network. */
static int save(const run *r, double seconds)
{
    const train_opts *o = &r->o;
    int st = model_save(r->net, o->out, "saving the model");
    /* a device or FIFO, written in place, cannot be read back */
    if (st == ST_OK && !nn__outfile_in_place(o->out))
        st = verify_saved(r->net, o->out, r->x.x, r->x.rows);
    if (st == ST_OK && !o->quiet)
        print_end(r, seconds);
    if (st == ST_OK && o->log)
        st = history_write_csv(&r->hist, o->log);
    if (st == ST_OK && o->plot) {
        /* what was trained on what: "flowers.csv: 4-100-3 classifier,
         * 120 training samples, 30 validation" */
        char title[512], layers[256];
        model_layers(r->net, layers, sizeof layers);
        int n = snprintf(title, sizeof title, "%s: %s %s, %zu training "
                         "samples", o->in.data, layers,
                         r->classify ? "classifier" : "regression",
                         r->data.n);
        if (r->data.n_val && n > 0 && (size_t)n < sizeof title)
            snprintf(title + n, sizeof title - (size_t)n, ", %zu validation",
                     r->data.n_val);
        st = plot_write_svg(&r->hist, o->plot, title, o->plot_log);
    }
    return st;
}

/* Training, then saving. */
static int train_and_save(run *r)
{
    const train_opts *o = &r->o;
    /* the display counts the global rows, all ranks' */
    int st = agree(r, progress_init(&r->prog, o->epochs, r->data.n, o->batch,
                                    r->classify, o->quiet));
    if (st != ST_OK)
        return st;
    if (!o->quiet)
        print_start(r);
    progress_catch_interrupt(o->mpi);
    st = fit(r);
    double seconds = cli_now() - r->prog.start;
    if (st == ST_OK && r->rank == 0)
        st = save(r, seconds);
    progress_release_interrupt();
    if (st == ST_OK && progress_interrupted())
        st = ST_INTERRUPTED;
    /* under --mpi all ranks exit alike, whatever rank 0's saving met */
    return agree(r, st);
}

/* Output files are checked before the (possibly long) training: each can
 * be written, and none is an input or another output. */
static int check_outputs(const train_opts *o)
{
    cli_file outs[3] = {{"-o", o->out}}, ins[2] = {{"DATA", o->in.data}};
    size_t n_out = 1, n_in = 1;
    if (o->plot)
        outs[n_out++] = (cli_file){"--plot", o->plot};
    if (o->log)
        outs[n_out++] = (cli_file){"--log", o->log};
    if (o->in.labels)
        ins[n_in++] = (cli_file){"--labels", o->in.labels};
    return cli_check_outputs(outs, n_out, ins, n_in);
}

/* --mpi: joins the MPI job, after which only rank 0 prints. */
static int start_mpi(run *r)
{
    int st = fit_mpi_begin(&r->rank);
    if (st == ST_OK && r->rank != 0)
        r->o.quiet = 1;
    return st;
}

/* Everything after the command line; under --mpi on every rank. */
static int train(run *r)
{
    int st = r->o.mpi ? start_mpi(r) : ST_OK;
    if (st == ST_OK)
        st = agree(r, r->rank == 0 ? check_outputs(&r->o) : ST_OK);
    if (st == ST_OK)
        st = prepare(r);
    if (st == ST_OK)
        st = train_and_save(r);
    return st;
}

int cmd_train(int argc, char **argv)
{
    run r;
    memset(&r, 0, sizeof r);
    int help_asked = 0;
    int st = train_parse_args(argc, argv, &r.o, &help_asked);
    if (st == ST_OK && help_asked)
        for (const char *const *part = train_help; *part; part++)
            st = cli_help(*part);
    else if (st == ST_OK)
        st = train(&r);
    int mpi = r.o.mpi;
    run_free(&r);
    if (mpi)
        fit_mpi_end();
    return st;
}
