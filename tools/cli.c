/* SPDX-License-Identifier: MIT */
/*
 * Messages, option-value parsing and whole-file output shared by every
 * command. Every diagnostic of the tool goes through cli_fail or cli_usage,
 * so each failure prints exactly one message in one format.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const char *cli_command = NULL;

/* The last message, kept for cli_last_message; muted: kept, not printed. */
static char last_message[1024];
static int muted = 0;

void cli_mute(void)
{
    muted = 1;
}

const char *cli_last_message(void)
{
    return last_message;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    if (!muted) {
        fflush(stdout); /* keep stdout's lines before the message on a tty */
        fprintf(stderr, "nnet: %s\n", last_message);
    }
    return ST_FAIL;
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    if (!muted) {
        const char *cmd = cli_command ? cli_command : "";
        const char *sep = *cmd ? " " : "";
        fprintf(stderr, "nnet%s%s: %s\nTry 'nnet%s%s --help'.\n", sep, cmd,
                last_message, sep, cmd);
    }
    return ST_USAGE;
}

int cli_fail_nn(const char *what, int rc, const nn_net *net)
{
    const char *detail = nn_last_error(net);
    if (!*detail)
        detail = nn_error_string(rc);
    return cli_fail("%s: %s (%s)", what, detail, nn_error_name(rc));
}

int cli_bad_option(int c, char *const *argv)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        return cli_usage("option '%s' needs a value", arg);
    if (optopt && arg[0] == '-' && arg[1] != '-')
        return cli_usage("unknown option '-%c'", optopt);
    return cli_usage("unknown option '%s'", arg);
}

int cli_help(const char *text)
{
    fputs(text, stdout);
    return ST_OK;
}

/* ---- option values ---- */

int cli_parse_size(const char *opt, const char *text, size_t min, size_t max,
                   size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    /* strtoull accepts a sign and wraps "-1" around: reject it here. */
    if (!*text || *end || errno || strchr(text, '-') || v < min || v > max)
        return max >= ((size_t)1 << 31)
                   ? cli_usage("%s: '%s' is not an integer >= %zu", opt, text,
                               min)
                   : cli_usage("%s: '%s' is not an integer in %zu..%zu", opt,
                               text, min, max);
    *out = (size_t)v;
    return ST_OK;
}

int cli_parse_u64(const char *opt, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (!*text || *end || errno || strchr(text, '-'))
        return cli_usage("%s: '%s' is not a non-negative integer", opt, text);
    *out = (uint64_t)v;
    return ST_OK;
}

int cli_parse_double(const char *opt, const char *text, double min,
                     double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || errno || !isfinite(v))
        return cli_usage("%s: '%s' is not a number", opt, text);
    if (v < min || v > max)
        return cli_usage("%s: %s is out of range [%g, %g]", opt, text, min,
                         max);
    *out = v;
    return ST_OK;
}

int cli_parse_choice(const char *opt, const char *text,
                     const char *const *names, int *out)
{
    char list[256] = "";
    for (int i = 0; names[i]; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = i;
            return ST_OK;
        }
        if (strlen(list) + strlen(names[i]) + 3 < sizeof list) {
            strcat(list, i ? ", " : "");
            strcat(list, names[i]);
        }
    }
    return cli_usage("%s: '%s' is not one of: %s", opt, text, list);
}

int cli_parse_sizes(const char *opt, const char *text, size_t **out,
                    size_t *count)
{
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    size_t *v = malloc(n * sizeof *v);
    if (!v)
        return cli_fail("out of memory");
    const char *p = text;
    for (size_t i = 0; i < n; i++, p++) {
        char item[32];
        size_t len = strcspn(p, ",");
        int st = ST_USAGE;
        if (len == 0 || len >= sizeof item)
            cli_usage("%s: '%s' is not a comma-separated list of sizes", opt,
                      text);
        else {
            memcpy(item, p, len);
            item[len] = '\0';
            st = cli_parse_size(opt, item, 1, (size_t)1 << 24, &v[i]);
        }
        if (st != ST_OK) {
            free(v);
            return st;
        }
        p += len;
    }
    *out = v;
    *count = n;
    return ST_OK;
}

/* ---- files ---- */

/* The directory part of `path` ("." when it has none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(len + 1);
    if (dir) {
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    return dir;
}

int cli_check_writable(const char *opt, const char *path)
{
    char *dir = dir_of(path);
    if (!dir)
        return cli_fail("out of memory");
    int ok = access(dir, W_OK | X_OK) == 0;
    int err = errno;
    int st = ok ? ST_OK
                : cli_fail("%s %s: cannot write into directory '%s': %s", opt,
                           path, dir, strerror(err));
    free(dir);
    return st;
}

int cli_out_open(cli_out *out, const char *path)
{
    size_t len = strlen(path);
    out->path = path;
    out->f = NULL;
    out->tmp = malloc(len + sizeof ".tmp.XXXXXX");
    if (!out->tmp)
        return cli_fail("out of memory");
    memcpy(out->tmp, path, len);
    memcpy(out->tmp + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkstemp(out->tmp);
    if (fd < 0 || !(out->f = fdopen(fd, "w"))) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
            remove(out->tmp);
        }
        free(out->tmp);
        out->tmp = NULL;
        return cli_fail("%s: cannot create: %s", path, strerror(err));
    }
    return ST_OK;
}

int cli_out_commit(cli_out *out)
{
    int bad = ferror(out->f);
    int err = errno;
    if (fclose(out->f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    out->f = NULL;
    if (!bad && rename(out->tmp, out->path) != 0) {
        bad = 1;
        err = errno;
    }
    if (bad)
        remove(out->tmp);
    free(out->tmp);
    out->tmp = NULL;
    return bad ? cli_fail("%s: cannot write: %s", out->path, strerror(err))
               : ST_OK;
}

void cli_out_abort(cli_out *out)
{
    if (out->f)
        fclose(out->f);
    if (out->tmp)
        remove(out->tmp);
    free(out->tmp);
    out->f = NULL;
    out->tmp = NULL;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- activations ---- */

/* Indexed by nn_activation; "linear" is accepted as a synonym too. */
static const char *const activation_names[] = {
    "identity", "sigmoid", "tanh", "relu", "softmax", "leaky_relu", NULL};

const char *cli_activation_name(nn_activation act)
{
    if ((int)act < 0 || (size_t)act >= sizeof activation_names /
                                            sizeof activation_names[0] - 1)
        return "unknown";
    return activation_names[act];
}

int cli_parse_activation(const char *opt, const char *text, int allow_softmax,
                         nn_activation *out)
{
    int i;
    if (strcmp(text, "linear") == 0)
        text = "identity";
    else if (strcmp(text, "leaky-relu") == 0)
        text = "leaky_relu";
    int st = cli_parse_choice(opt, text, activation_names, &i);
    if (st != ST_OK)
        return st;
    if (i == NN_SOFTMAX && !allow_softmax)
        return cli_usage("%s: softmax is only for the output layer (it is "
                         "chosen by --task classify)", opt);
    *out = (nn_activation)i;
    return ST_OK;
}
