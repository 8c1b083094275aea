/* SPDX-License-Identifier: MIT */
/*
 * `nnet export`: a model as an ONNX file (libnn_onnx, loaded when asked
 * for: onnx_lib.h) and/or as a C99 source file and header for firmware
 * (export_c.c). Each file appears whole or not at all.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "export.h"
#include "model.h"
#include "onnx_lib.h"

static const char help[] =
    "Usage: nnet export MODEL [--onnx OUT.onnx] [--c OUT.c [--name NAME]]\n"
    "\n"
    "Write MODEL in another form, computing what `nnet predict` computes\n"
    "(input transform, every layer and activation):\n"
    "\n"
    "  --onnx FILE          an ONNX model (opset 13), for OpenCV, ONNX\n"
    "                       Runtime, ...\n"
    "  --c FILE.c           one C99 file, and FILE.h beside it, with the\n"
    "                       weights as const float arrays and the function\n"
    "                       int NAME_predict(const float *x, float *y):\n"
    "                       no libnn, no malloc, only expf and tanhf of libm\n"
    "  --name NAME          prefix of the C names (default: FILE's base\n"
    "                       name)\n"
    "  -h, --help           this help\n";

enum { OPT_ONNX = 256, OPT_C, OPT_NAME };

static const struct option long_options[] = {
    {"onnx", required_argument, NULL, OPT_ONNX},
    {"c", required_argument, NULL, OPT_C},
    {"name", required_argument, NULL, OPT_NAME},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* FILE.c's base name without ".c", as the default C prefix. */
static int default_name(const char *c_path, char *buf, size_t cap)
{
    const char *slash = strrchr(c_path, '/');
    const char *base = slash ? slash + 1 : c_path;
    size_t len = strlen(base);
    if (len > 2 && !strcmp(base + len - 2, ".c"))
        len -= 2;
    if (len >= cap)
        return 0;
    memcpy(buf, base, len);
    buf[len] = '\0';
    return export_c_name_ok(buf);
}

static int export_onnx(const onnx_lib *lib, const nn_net *net,
                       const char *path)
{
    int rc = lib->save(net, path);
    return rc == NN_OK
               ? ST_OK
               : cli_fail("%s (%s)", lib->last_error(), nn_error_name(rc));
}

/* What the command line asks for. */
typedef struct export_opts {
    const char *model, *onnx, *c_file, *name;
    char name_buf[64]; /* the default --name */
} export_opts;

static int parse_args(int argc, char **argv, export_opts *o, int *help_asked)
{
    int c;
    memset(o, 0, sizeof *o);
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (c == 'h')
            *help_asked = 1;
        else if (c == OPT_ONNX)
            o->onnx = optarg;
        else if (c == OPT_C)
            o->c_file = optarg;
        else if (c == OPT_NAME)
            o->name = optarg;
        else
            return cli_bad_option(c, argv);
    }
    if (*help_asked)
        return ST_OK;
    if (argc - optind != 1)
        return cli_usage(argc == optind ? "MODEL is missing"
                                        : "one MODEL only");
    o->model = argv[optind];
    return ST_OK;
}

/* The outputs asked for, and the C file's name and prefix. */
static int check_outputs(export_opts *o)
{
    if (!o->onnx && !o->c_file)
        return cli_usage("nothing to do: give --onnx FILE and/or --c FILE.c");
    if (o->name && !o->c_file)
        return cli_usage("--name goes with --c");
    size_t c_len = o->c_file ? strlen(o->c_file) : 0;
    if (o->c_file && (c_len < 3 || strcmp(o->c_file + c_len - 2, ".c")))
        return cli_usage("--c %s: the file name must end in .c (its header "
                         "goes beside it, ending in .h)",
                         o->c_file);
    if (o->c_file && !o->name) {
        if (!default_name(o->c_file, o->name_buf, sizeof o->name_buf))
            return cli_usage("--c %s: its base name is not a C identifier; "
                             "give --name",
                             o->c_file);
        o->name = o->name_buf;
    }
    if (o->name && !export_c_name_ok(o->name))
        return cli_usage("--name %s: not a C identifier of at most 40 "
                         "characters",
                         o->name);
    return ST_OK;
}

int cmd_export(int argc, char **argv)
{
    export_opts o;
    int help_asked = 0;
    int st = parse_args(argc, argv, &o, &help_asked);
    if (st == ST_OK && help_asked)
        return cli_help(help);
    if (st == ST_OK)
        st = check_outputs(&o);
    onnx_lib lib;
    if (st == ST_OK && o.onnx)
        st = onnx_lib_open(&lib, o.onnx); /* said before any work */
    nn_net *net = NULL;
    if (st == ST_OK)
        st = model_load(o.model, &net);
    if (st == ST_OK && o.onnx)
        st = export_onnx(&lib, net, o.onnx);
    if (st == ST_OK && o.c_file)
        st = export_c(net, o.c_file, o.name);
    nn_free(net);
    return st;
}
