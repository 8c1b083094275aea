/* SPDX-License-Identifier: MIT */
/*
 * `nnet info`: what a model file holds, read through libnn (nn_load, nn_get,
 * nn_layer_size, nn_layer_activation, ...): architecture, task, parameter
 * count, input transform, training settings and how many epochs it has
 * been trained.
 * One "key  value" line each, so scripts can grep it.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "model.h"

static const char help[] =
    "Usage: nnet info MODEL [--json]\n"
    "\n"
    "Describe a model file: task, classes, label and feature names, layers,\n"
    "activations, parameter count, input transform, training settings and\n"
    "epochs trained.\n"
    "\n"
    "  --json               print it as one JSON object\n"
    "  -h, --help           this help\n";

enum { OPT_JSON = 1 };

static const struct option long_options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static const char *const loss_names[] = {"mse", "cross-entropy",
                                         "binary cross-entropy", NULL};

/* The name of value `v` among `names` (NULL-terminated). */
static const char *name_of(const char *const *names, double v)
{
    for (size_t i = 0; names[i]; i++)
        if (v == (double)i)
            return names[i];
    return "unknown";
}

static void print_architecture(nn_net *net)
{
    char layers[256];
    model_layers(net, layers, sizeof layers);
    printf("layers           %s\n", layers);
    printf("activations      ");
    for (size_t l = 0; l + 1 < nn_num_layers(net); l++)
        printf("%s%s", l ? ", " : "",
               cli_activation_name(
                   (nn_activation)nn_layer_activation(net, l)));
    float *bias = NULL;
    (void)nn_layer_params(net, 0, NULL, &bias);
    printf("\nbias             %s\n", bias ? "yes" : "no");
    printf("parameters       %zu\n", nn_param_count(net));
    printf("input transform  %s\n",
           nn_get_input_transform(net, NULL, NULL) == 1
               ? "yes (per-input shift and scale, applied before layer 1)"
               : "none");
}

static void print_optimizer(const nn_net *net)
{
    double opt = model_get(net, NN_OPT_OPTIMIZER);
    printf("optimizer        %s", name_of(cli_optimizer_names, opt));
    if (opt == NN_MOMENTUM || opt == NN_NESTEROV)
        printf(" (momentum %g)", model_get(net, NN_OPT_MOMENTUM));
    else if (opt == NN_ADAM || opt == NN_ADAMW)
        printf(" (betas %g, %g; eps %g)", model_get(net, NN_OPT_BETA1),
               model_get(net, NN_OPT_BETA2), model_get(net, NN_OPT_EPSILON));
    else if (opt == NN_RMSPROP)
        printf(" (alpha %g; eps %g)", model_get(net, NN_OPT_RMSPROP_ALPHA),
               model_get(net, NN_OPT_EPSILON));
    printf("\nlearning rate    %g (current %g)\n",
           model_get(net, NN_OPT_LEARNING_RATE),
           model_get(net, NN_OPT_CURRENT_LR));
}

static void print_schedule(const nn_net *net)
{
    double s = model_get(net, NN_OPT_SCHEDULE);
    printf("schedule         %s", name_of(cli_schedule_names, s));
    if (s == NN_SCHEDULE_STEP)
        printf(" (every %g epochs, gamma %g)",
               model_get(net, NN_OPT_STEP_SIZE), model_get(net, NN_OPT_GAMMA));
    else if (s == NN_SCHEDULE_EXPONENTIAL)
        printf(" (gamma %g)", model_get(net, NN_OPT_GAMMA));
    else if (s == NN_SCHEDULE_COSINE)
        printf(" (t_max %g, min lr %g)", model_get(net, NN_OPT_T_MAX),
               model_get(net, NN_OPT_MIN_LR));
    else if (s == NN_SCHEDULE_PLATEAU)
        printf(" (patience %g, gamma %g, min lr %g)",
               model_get(net, NN_OPT_PLATEAU_PATIENCE),
               model_get(net, NN_OPT_GAMMA), model_get(net, NN_OPT_MIN_LR));
    printf("\n");
}

static void print_training(const nn_net *net)
{
    printf("epochs trained   %g\n", model_get(net, NN_OPT_EPOCHS_DONE));
    print_optimizer(net);
    print_schedule(net);
    printf("batch size       %g\n", model_get(net, NN_OPT_BATCH_SIZE));
    printf("loss             %s\n",
           name_of(loss_names, model_get(net, NN_OPT_LOSS)));
    printf("dropout          %g\n", model_get(net, NN_OPT_DROPOUT));
    printf("weight decay     %g\n", model_get(net, NN_OPT_WEIGHT_DECAY));
    double clip = model_get(net, NN_OPT_CLIP_NORM);
    double stop = model_get(net, NN_OPT_EARLY_STOPPING);
    if (clip > 0)
        printf("clip norm        %g\n", clip);
    else
        printf("clip norm        off\n");
    if (stop > 0)
        printf("early stopping   after %g epochs without improvement\n",
               stop);
    else
        printf("early stopping   off\n");
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20)
            return 1;
    return 0;
}

/* "a, b, c", at most ~100 names, then how many more. */
static void print_names(const char *key, const char *const *names, size_t n)
{
    printf("%-17s", key);
    for (size_t i = 0; i < n && i < 100; i++) { /* quoted when ambiguous */
        fputs(i ? ", " : "", stdout);
        if (strpbrk(names[i], ",\"\\") || has_control(names[i]))
            json_string(stdout, names[i]);
        else
            fputs(names[i], stdout);
    }
    if (n > 100)
        printf(", ... (%zu in all)", n);
    printf("\n");
}

static void print_data(const nn_net *net)
{
    const char *const *names;
    size_t k = nn_classes(net, &names);
    if (k)
        print_names("classes", names, k);
    const char *label = nn_label_name(net);
    if (label)
        printf("label            %s\n", label);
    k = nn_feature_names(net, &names);
    if (k)
        print_names("features", names, k);
}

static const char *task_name(const nn_net *net)
{
    return model_is_classifier(net) ? "classification"
           : nn_get_task(net) == NN_TASK_CLASSIFY
               ? "multi-label classification"
               : "regression";
}

static void json_info(const char *path, const nn_net *net, size_t bytes)
{
    const char *const *names;
    printf("{\n  \"file\": ");
    json_string(stdout, path);
    printf(",\n  \"bytes\": %zu,\n  \"task\": \"%s\",\n  \"classes\": ",
           bytes, task_name(net));
    size_t k = nn_classes(net, &names);
    json_strings(stdout, names, k);
    printf(",\n  \"label\": ");
    if (nn_label_name(net))
        json_string(stdout, nn_label_name(net));
    else
        printf("null");
    printf(",\n  \"features\": ");
    k = nn_feature_names(net, &names);
    json_strings(stdout, names, k);
    printf(",\n  \"layers\": [");
    for (size_t i = 0; i < nn_num_layers(net); i++)
        printf("%s%zu", i ? ", " : "", nn_layer_size(net, i));
    printf("],\n  \"activations\": [");
    for (size_t l = 0; l + 1 < nn_num_layers(net); l++)
        printf("%s\"%s\"", l ? ", " : "",
               cli_activation_name(
                   (nn_activation)nn_layer_activation(net, l)));
    printf("],\n  \"parameters\": %zu,\n  \"input_transform\": %s,\n",
           nn_param_count(net),
           nn_get_input_transform(net, NULL, NULL) == 1 ? "true" : "false");
    printf("  \"epochs_trained\": %.0f,\n  \"optimizer\": \"%s\",\n",
           model_get(net, NN_OPT_EPOCHS_DONE),
           name_of(cli_optimizer_names, model_get(net, NN_OPT_OPTIMIZER)));
    printf("  \"learning_rate\": ");
    json_number(stdout, model_get(net, NN_OPT_LEARNING_RATE));
    printf(",\n  \"loss\": \"%s\"\n}\n",
           name_of(loss_names, model_get(net, NN_OPT_LOSS)));
}

int cmd_info(int argc, char **argv)
{
    int c, help_asked = 0, json = 0;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (c == OPT_JSON)
            json = 1;
        else if (c != 'h')
            return cli_bad_option(c, argv);
        else
            help_asked = 1;
    }
    if (help_asked)
        return cli_help(help);
    if (argc - optind != 1)
        return cli_usage(argc == optind ? "MODEL is missing"
                                        : "one MODEL only");
    const char *path = argv[optind];
    nn_net *net;
    int st = model_load(path, &net);
    if (st != ST_OK)
        return st;
    /* the model's own size: a FIFO or device has none to stat, and a
     * file that loads holds exactly the model */
    size_t bytes = 0;
    (void)nn_save_buffer(net, NULL, 0, &bytes);
    if (json) {
        json_info(path, net, bytes);
        nn_free(net);
        return ST_OK;
    }
    printf("file             %s (%zu bytes)\n", path, bytes);
    printf("task             %s\n", task_name(net));
    print_data(net);
    print_architecture(net);
    print_training(net);
    nn_free(net);
    return ST_OK;
}
