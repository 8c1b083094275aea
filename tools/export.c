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

int cmd_export(int argc, char **argv)
{
    const char *onnx = NULL, *c_file = NULL, *name = NULL;
    int c, help_asked = 0;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (c == 'h')
            help_asked = 1;
        else if (c == OPT_ONNX)
            onnx = optarg;
        else if (c == OPT_C)
            c_file = optarg;
        else if (c == OPT_NAME)
            name = optarg;
        else
            return cli_bad_option(c, argv);
    }
    if (help_asked)
        return cli_help(help);
    if (argc - optind != 1)
        return cli_usage(argc == optind ? "MODEL is missing"
                                        : "one MODEL only");
    if (!onnx && !c_file)
        return cli_usage("nothing to do: give --onnx FILE and/or --c FILE.c");
    if (name && !c_file)
        return cli_usage("--name goes with --c");
    size_t c_len = c_file ? strlen(c_file) : 0;
    if (c_file && (c_len < 3 || strcmp(c_file + c_len - 2, ".c")))
        return cli_usage("--c %s: the file name must end in .c (its header "
                         "goes beside it, ending in .h)",
                         c_file);
    char name_buf[64];
    if (c_file && !name) {
        if (!default_name(c_file, name_buf, sizeof name_buf))
            return cli_usage("--c %s: its base name is not a C identifier; "
                             "give --name",
                             c_file);
        name = name_buf;
    }
    if (name && !export_c_name_ok(name))
        return cli_usage("--name %s: not a C identifier of at most 40 "
                         "characters",
                         name);
    onnx_lib lib;
    int st;
    if (onnx && (st = onnx_lib_open(&lib, onnx)) != ST_OK)
        return st; /* said before any work */
    nn_net *net;
    st = model_load(argv[optind], &net);
    if (st != ST_OK)
        return st;
    if (onnx)
        st = export_onnx(&lib, net, onnx);
    if (st == ST_OK && c_file)
        st = export_c(net, c_file, name);
    nn_free(net);
    return st;
}
