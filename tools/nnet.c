/* SPDX-License-Identifier: MIT */
/*
 * `nnet`: train, evaluate and use multilayer perceptrons from the command
 * line with libnn. This file only dispatches to the subcommands; each
 * lives in its own file (train.c, eval.c, predict.c, info.c, export.c,
 * import.c).
 */
#define _POSIX_C_SOURCE 200809L /* setenv */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nn.h>

#include "cli.h"
#include "commands.h"

/* Set by tools/meson.build from project(version:); the header's version
 * otherwise. */
#ifndef NN_TOOL_VERSION
#define NN_TOOL_STR_(x) #x
#define NN_TOOL_STR(x) NN_TOOL_STR_(x)
#define NN_TOOL_VERSION                                                        \
    NN_TOOL_STR(LIBNN_VERSION_MAJOR)                                           \
    "." NN_TOOL_STR(LIBNN_VERSION_MINOR) "." NN_TOOL_STR(LIBNN_VERSION_PATCH)
#endif

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"train", cmd_train, "train a network on data and save the model"},
    {"eval", cmd_eval, "loss, accuracy, per-class metrics on labelled data"},
    {"predict", cmd_predict, "a model's predictions for data, as CSV"},
    {"info", cmd_info, "what a model file holds"},
    {"export", cmd_export, "a model as ONNX, or as C source for firmware"},
    {"import", cmd_import, "an ONNX multilayer perceptron as a model"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static int usage(FILE *f)
{
    fputs("Usage: nnet COMMAND [options]   (nnet COMMAND --help for its "
          "options)\n\nCommands:\n", f);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fputs("\nData files: CSV (any delimiter, header optional, labels may be\n"
          "words), IDX (MNIST) and NumPy .npy, each optionally gzipped.\n"
          "\nOptions:\n  -h, --help     this help\n"
          "  --version      versions of nnet and libnn, libnn's backend\n"
          "\nExample (the species column holds words; sizes come from the "
          "data):\n"
          "  nnet train iris.csv --label species -o iris.nn\n"
          "  nnet eval iris.nn iris-test.csv\n"
          "  nnet predict iris.nn new.csv\n"
          "\nSee nnet(1) and docs/cli.md.\n", f);
    return ST_OK;
}

/* The versions, then libnn's build information (backend, kernels,
 * threads) as nn_build_info gives it. */
static int version(void)
{
    printf("nnet %s (libnn %s)\n%s", NN_TOOL_VERSION, nn_version_string(),
           nn_build_info());
    return ST_OK;
}

/* Puts the setting "NAME=VALUE" (up to a newline) in the environment
 * unless NAME is set there; returns 1 when it did. */
static int set_default(const char *setting)
{
    char name[64];
    size_t n = strcspn(setting, "=\n");
    if (setting[n] != '=' || n >= sizeof name)
        return 0;
    memcpy(name, setting, n);
    name[n] = '\0';
    char value[64];
    size_t v = strcspn(setting + n + 1, "\n");
    if (v >= sizeof value)
        return 0;
    memcpy(value, setting + n + 1, v);
    value[v] = '\0';
    return getenv(name) == NULL && setenv(name, value, 0) == 0;
}

/* Settings that the products' libraries read only as they load, so the
 * tool runs itself again with them, once (the new process finds them set
 * and goes on); a setting the user made is left alone:
 * - OpenBLAS on a CPU newer than itself runs old kernels, 2-5x slower;
 *   nn_build_info's "better-kernels" line names the setting that makes it
 *   take the CPU's own.
 * - oneDNN's OpenMP threads spin between products by default; when the
 *   machine has more runnable threads than cores, the spinning takes the
 *   cores from the work (a training epoch 10-40x slower on a loaded 2-core
 *   machine, docs/performance.md "Threads"). Passive waiting costs a
 *   wake-up per product instead. */
static void use_fast_settings(char **argv)
{
    static const char key[] = "better-kernels: ";
    const char *info = nn_build_info();
    const char *line = strstr(info, key);
    int changed = 0;
    if (line != NULL)
        changed |= set_default(line + strlen(key));
    if (strstr(info, "\nbackend: oneDNN") != NULL)
        changed |= set_default("OMP_WAIT_POLICY=passive");
    if (changed) {
        execv("/proc/self/exe", argv);
        fprintf(stderr, CLI_PROGRAM ": note: could not restart with faster "
                "settings (%s); see docs/performance.md\n", strerror(errno));
    }
}

/* Runs the command argv[0] with its arguments. */
static int dispatch(int argc, char **argv)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[0], commands[i].name) == 0) {
            cli_command = commands[i].name;
            return commands[i].run(argc, argv);
        }
    return cli_usage("'%s' is not a command (train, eval, predict, info, "
                     "export, import)",
                     argv[0]);
}

int main(int argc, char **argv)
{
    use_fast_settings(argv);
    if (argc < 2) {
        usage(stderr);
        return ST_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 && argc > 2) {
        /* "nnet help train" is "nnet train --help" */
        static char help_flag[] = "--help";
        char *help_argv[] = {argv[2], help_flag, NULL};
        return dispatch(2, help_argv);
    }
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "help") == 0)
        return usage(stdout);
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)
        return version();
    return dispatch(argc - 1, argv + 1);
}
