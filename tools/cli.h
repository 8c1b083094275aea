/* SPDX-License-Identifier: MIT */
/*
 * Layer 1 of tools/. The layers, bottom up; a file includes headers of
 * its own layer or lower ones only, and the includes between modules (a
 * header and the files that define what it declares) never run in a
 * circle (tests/build/check-tool-layers.py checks both):
 *   1. cli.h, json.h: messages, exit statuses, option values, output files;
 *   2. dataset.h: the table the readers fill, and the stream they read;
 *   3. formats.h, npy_header.h: the format readers (CSV, IDX, .npy), which
 *      know nothing of how data.c picks one;
 *   4. data.h: loading a file of any format, column bookkeeping;
 *   5. model.h, inputs.h, history.h, progress.h, fit.h, export.h,
 *      onnx_lib.h: what the commands share (models, inputs and targets,
 *      the record of training and its display, output formats);
 *   6. commands.h, train.h: the commands;
 *   7. nnet.c: the dispatcher.
 *
 * What every command of the `nnet` tool shares: exit statuses, the one way a
 * message reaches stderr, parsing of option values, and files that appear
 * whole or not at all.
 */
#ifndef NN_TOOL_CLI_H
#define NN_TOOL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <nn.h>

#if defined(__GNUC__)
#define CLI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CLI_PRINTF(fmt, args)
#endif

/* Exit statuses (docs/nnet.1, EXIT STATUS). Functions of the tool return one
 * of these; a failing one has printed its single message already, so its
 * callers only pass the status up. */
enum cli_status {
    ST_OK = 0,
    ST_FAIL = 1,            /* bad data, I/O, a failed libnn call */
    ST_USAGE = 2,           /* bad command line */
    ST_INTERRUPTED = 130    /* Ctrl-C: stopped early, model still saved */
};

/* The program, as its messages name it: nnet-mpi is nnet built with
 * fit_mpi.c (tools/meson.build). */
#ifdef NN_TOOL_MPI
#define CLI_PROGRAM "nnet-mpi"
#else
#define CLI_PROGRAM "nnet"
#endif

/* The running subcommand ("train", ...), for messages and --help hints. */
extern const char *cli_command;

/* "s" unless n is 1: "%zu sample%s", n, CLI_S(n). */
#define CLI_S(n) ((n) == 1 ? "" : "s")

/* "nnet: <message>" on stderr (CLI_PROGRAM); returns ST_FAIL. */
int cli_fail(const char *fmt, ...) CLI_PRINTF(1, 2);

/* "nnet CMD: <message>" and a pointer to --help on stderr; returns
 * ST_USAGE. */
int cli_usage(const char *fmt, ...) CLI_PRINTF(1, 2);

/* Under `nnet train --mpi` only rank 0 prints: the other ranks call
 * cli_mute, after which cli_fail and cli_usage keep their message (for
 * rank 0 to print, see fit_mpi_agree) instead of printing it. */
void cli_mute(void);

/* The message of the last cli_fail or cli_usage, without "nnet: "; "" before
 * any (at most 1023 bytes). */
const char *cli_last_message(void);

/* Reports a failed libnn call `what` with nn_last_error(net) (NULL: the
 * thread's detail); returns ST_FAIL. */
int cli_fail_nn(const char *what, int rc, const nn_net *net);

/* The usage error for getopt_long's '?' (unknown option) or ':' (missing
 * value) return `c`. */
int cli_bad_option(int c, char *const *argv);

/* Prints a command's help text to stdout; returns ST_OK. */
int cli_help(const char *text);

/* Parsers of option values; each reports a bad value as a usage error
 * naming the option, and returns ST_OK or ST_USAGE. */
int cli_parse_size(const char *opt, const char *text, size_t min, size_t max,
                   size_t *out);
int cli_parse_u64(const char *opt, const char *text, uint64_t *out);
int cli_parse_double(const char *opt, const char *text, double min,
                     double max, double *out);
/* One of `names` (NULL-terminated); *out receives its index. */
int cli_parse_choice(const char *opt, const char *text,
                     const char *const *names, int *out);
/* Comma-separated sizes, each >= 1, into a malloc'd array. */
int cli_parse_sizes(const char *opt, const char *text, size_t **out,
                    size_t *count);

/* An output or input file with the option or operand that names it, for
 * messages ("-o", "DATA"). */
typedef struct cli_file {
    const char *what;
    const char *path;
} cli_file;

/* Checks, before any work, that every output can be written (its directory
 * exists and is writable, it is not a directory) and that no output is one
 * of the inputs or another output (same device and inode, links followed;
 * devices and FIFOs are not compared). ST_OK, ST_FAIL or ST_USAGE. */
int cli_check_outputs(const cli_file *outs, size_t n_out, const cli_file *ins,
                      size_t n_in);

/* Holds back SIGINT, SIGTERM, SIGHUP and SIGUSR1 until
 * cli_signals_release, which then delivers the last one held with the
 * disposition it would have met: for the life of a temporary file, so
 * that no signal leaves one behind. Not nested. */
void cli_signals_hold(void);
void cli_signals_release(void);

/* Writes `len` bytes as the file `path` by lib/outfile.h's rules: a regular
 * file is replaced whole (temporary file, rename; links followed; its mode
 * kept, or 0666 minus the umask for a new file), with signals held
 * meanwhile; a device or FIFO is written in place. ST_OK or ST_FAIL. */
int cli_write_file(const char *path, const void *data, size_t len);

/* A text output, collected in memory and written by cli_write_file on
 * commit, so it appears whole or not at all. */
typedef struct cli_out {
    FILE *f;
    char *buf;
    size_t len;
    const char *path;
} cli_out;

int cli_out_open(cli_out *out, const char *path);
/* Writes the file; ST_OK or ST_FAIL (reported). */
int cli_out_commit(cli_out *out);
/* Abandons the file: nothing is written. */
void cli_out_abort(cli_out *out);

/* A loss for a line of output: 4 decimals ("0.1234"), but "%g"-style
 * once it is large ("3.403e+38", not a 39-digit number). Returns buf,
 * which holds at least 32 bytes. */
const char *cli_loss(char *buf, double loss);

/* Seconds on a monotonic clock. */
double cli_now(void);

/* The names of nn_optimizer and nn_schedule values, indexed by them
 * (NULL-terminated). */
extern const char *const cli_optimizer_names[];
extern const char *const cli_schedule_names[];

/* Activation names as the command line spells them. */
const char *cli_activation_name(nn_activation act);
int cli_parse_activation(const char *opt, const char *text, int allow_softmax,
                         nn_activation *out);

#endif
