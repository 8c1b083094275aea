/* SPDX-License-Identifier: MIT */
/*
 * Layer 6 of tools/ (the layers and their rule: cli.h).
 *
 * The subcommands of `nnet`. Each takes the arguments from its own name on
 * (argv[0] is "train", ...) and returns an exit status (cli.h).
 */
#ifndef NN_TOOL_COMMANDS_H
#define NN_TOOL_COMMANDS_H

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

#endif
