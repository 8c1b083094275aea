/* SPDX-License-Identifier: MIT */
/*
 * `nnet import`: an ONNX file (a PyTorch nn.Sequential of Linear layers
 * and activations, or libnn's own export) as a model file, through
 * libnn_onnx. What libnn cannot compute exactly is refused with the node
 * and op at fault, and no model is written.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "model.h"
#include "onnx_lib.h"

static const char help[] =
    "Usage: nnet import IN.onnx -o MODEL\n"
    "\n"
    "Read an ONNX multilayer perceptron (Gemm, or MatMul and Add, with\n"
    "Relu, LeakyRelu (alpha 0.01), Tanh, Sigmoid, Softmax or Identity, and\n"
    "an optional Sub/Add then Mul input transform; weights as initializers)\n"
    "and save it as a libnn model. Anything else is refused, naming the\n"
    "node and its op, and MODEL is not written.\n"
    "\n"
    "  -o, --output MODEL   the model file to write\n"
    "  -h, --help           this help\n";

static const struct option long_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

int cmd_import(int argc, char **argv)
{
    const char *out = NULL;
    int c, help_asked = 0;
    while ((c = getopt_long(argc, argv, ":o:h", long_options, NULL)) != -1) {
        if (c == 'h')
            help_asked = 1;
        else if (c == 'o')
            out = optarg;
        else
            return cli_bad_option(c, argv);
    }
    if (help_asked)
        return cli_help(help);
    if (argc - optind != 1)
        return cli_usage(argc == optind ? "IN.onnx is missing"
                                        : "one IN.onnx only");
    if (!out)
        return cli_usage("-o MODEL is missing");
    onnx_lib lib;
    int st = onnx_lib_open(&lib, argv[optind]);
    if (st != ST_OK)
        return st;
    nn_net *net;
    int rc = lib.load(&net, argv[optind]);
    if (rc != NN_OK)
        return cli_fail("%s (%s)", lib.last_error(), nn_error_name(rc));
    st = model_save(net, out, "nn_save");
    nn_free(net);
    return st;
}
