/* SPDX-License-Identifier: MIT */
/*
 * Messages, option-value parsing and whole-file output shared by every
 * command. Every diagnostic of the tool goes through cli_fail or cli_usage,
 * so each failure prints exactly one message in one format.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "outfile.h"

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
        fprintf(stderr, CLI_PROGRAM ": %s\n", last_message);
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
        fprintf(stderr, CLI_PROGRAM "%s%s: %s\nTry '" CLI_PROGRAM
                "%s%s --help'.\n", sep, cmd, last_message, sep, cmd);
    }
    return ST_USAGE;
}

int cli_fail_nn(const char *what, int rc, const nn_net *net)
{
    const char *detail = nn_last_error(net);
    size_t n = strlen(what);
    if (!*detail)
        detail = nn_error_string(rc);
    else if (strncmp(detail, what, n) == 0 && strncmp(detail + n, ": ", 2) == 0)
        detail += n + 2; /* "nn_history: nn_history: ..." says it twice */
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

/* `text` without the blanks around it, into buf; 0 when it does not fit.
 * Leading and trailing blanks are treated alike ("--layers ' 4, 8 ,3'"). */
static int trim(const char *text, char *buf, size_t cap)
{
    while (*text == ' ' || *text == '\t')
        text++;
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
        n--;
    if (n >= cap)
        return 0;
    memcpy(buf, text, n);
    buf[n] = '\0';
    return 1;
}

static int all_digits(const char *t)
{
    if (!*t)
        return 0;
    for (; *t; t++)
        if (*t < '0' || *t > '9')
            return 0;
    return 1;
}

int cli_parse_size(const char *opt, const char *text, size_t min, size_t max,
                   size_t *out)
{
    char t[64];
    int big = max >= ((size_t)1 << 31);
    if (!trim(text, t, sizeof t) || !all_digits(t))
        return big ? cli_usage("%s: '%s' is not an integer >= %zu", opt, text,
                               min)
                   : cli_usage("%s: '%s' is not an integer in %zu..%zu", opt,
                               text, min, max);
    errno = 0;
    unsigned long long v = strtoull(t, NULL, 10);
    if (errno == ERANGE || v < min || v > max)
        return cli_usage("%s: %s is out of range %zu..%zu", opt, t, min, max);
    *out = (size_t)v;
    return ST_OK;
}

int cli_parse_u64(const char *opt, const char *text, uint64_t *out)
{
    char t[64], *end;
    errno = 0;
    int ok = trim(text, t, sizeof t) && *t && !strchr(t, '-') && *t != '+';
    unsigned long long v = ok ? strtoull(t, &end, 0) : 0;
    if (!ok || *end)
        return cli_usage("%s: '%s' is not a non-negative integer", opt, text);
    if (errno == ERANGE)
        return cli_usage("%s: %s is out of range 0..%" PRIu64, opt, t,
                         UINT64_MAX);
    *out = (uint64_t)v;
    return ST_OK;
}

int cli_parse_double(const char *opt, const char *text, double min,
                     double max, double *out)
{
    char t[128], *end = NULL;
    errno = 0;
    int ok = trim(text, t, sizeof t) && *t;
    double v = ok ? strtod(t, &end) : 0;
    if (!ok || *end)
        return cli_usage("%s: '%s' is not a number", opt, text);
    if (isnan(v) || (isinf(v) && errno != ERANGE))
        return cli_usage("%s: %s is not finite", opt, t);
    if (errno == ERANGE && fabs(v) > 1)
        return cli_usage("%s: %s is out of range (its magnitude is beyond "
                         "%g)", opt, t, DBL_MAX);
    if (errno == ERANGE && (v == 0 || fabs(v) < DBL_MIN))
        return cli_usage("%s: %s is out of range (nearer to 0 than %g)", opt,
                         t, DBL_MIN);
    if (v < min || v > max)
        return cli_usage("%s: %s is out of range [%g, %g]", opt, t, min, max);
    *out = v;
    return ST_OK;
}

/* `names` as "a, b, c", leaving out index `skip` (-1: none). */
static void choice_list(const char *const *names, int skip, char *list,
                        size_t cap)
{
    list[0] = '\0';
    for (int i = 0; names[i]; i++) {
        if (i == skip || strlen(list) + strlen(names[i]) + 3 >= cap)
            continue;
        strcat(list, *list ? ", " : "");
        strcat(list, names[i]);
    }
}

static int find_choice(const char *text, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(text, names[i]) == 0)
            return i;
    return -1;
}

int cli_parse_choice(const char *opt, const char *text,
                     const char *const *names, int *out)
{
    int i = find_choice(text, names);
    if (i >= 0) {
        *out = i;
        return ST_OK;
    }
    char list[256];
    choice_list(names, -1, list, sizeof list);
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
        char item[32], t[32];
        size_t len = strcspn(p, ",");
        int st = ST_USAGE;
        if (len < sizeof item) {
            memcpy(item, p, len);
            item[len] = '\0';
        }
        if (len >= sizeof item || !trim(item, t, sizeof t) || !*t)
            cli_usage("%s: '%s' is not a comma-separated list of sizes", opt,
                      text);
        else
            st = cli_parse_size(opt, t, 1, (size_t)1 << 24, &v[i]);
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

/* The termination signals held back while a temporary file exists, so
 * that no signal can leave one behind; SIGUSR1 is the stop request under
 * --mpi (progress.c). */
static const int held_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};
#define N_HELD (sizeof held_signals / sizeof held_signals[0])
static struct sigaction held_saved[N_HELD];
static volatile sig_atomic_t held_pending = 0;

static void hold_signal(int sig)
{
    held_pending = sig;
}

void cli_signals_hold(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = hold_signal;
    sigemptyset(&sa.sa_mask);
    held_pending = 0;
    for (size_t i = 0; i < N_HELD; i++)
        sigaction(held_signals[i], &sa, &held_saved[i]);
}

void cli_signals_release(void)
{
    for (size_t i = 0; i < N_HELD; i++)
        sigaction(held_signals[i], &held_saved[i], NULL);
    int sig = held_pending;
    held_pending = 0;
    if (sig)
        raise(sig); /* now with the disposition it would have met */
}

/* Checks one output path; `*id` receives its identity for comparisons. */
typedef struct file_id {
    int known;    /* 0: a device, a FIFO, or not reachable: not compared */
    dev_t dev;
    ino_t ino;
    char *name;   /* a file not there yet: its name in directory dev:ino */
} file_id;

static void id_of(const char *path, file_id *id)
{
    struct stat st;
    memset(id, 0, sizeof *id);
    if (nn__outfile_in_place(path))
        return;
    if (stat(path, &st) == 0) {
        /* devices and FIFOs may well be shared: -o /dev/null --log
         * /dev/null */
        if (S_ISREG(st.st_mode))
            *id = (file_id){1, st.st_dev, st.st_ino, NULL};
        return;
    }
    char *target = nn__outfile_target(path);
    if (!target)
        return;
    char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    char *name = strdup(base);
    if (slash)
        slash[slash == target] = '\0'; /* "/" stays "/" */
    if (name && stat(slash ? target : ".", &st) == 0)
        *id = (file_id){1, st.st_dev, st.st_ino, name};
    else
        free(name);
    free(target);
}

static int same_file(const file_id *a, const file_id *b)
{
    return a->known && b->known && a->dev == b->dev && a->ino == b->ino &&
           (a->name == NULL) == (b->name == NULL) &&
           (!a->name || strcmp(a->name, b->name) == 0);
}

static int check_writable(const cli_file *out)
{
    char *where = NULL;
    int err = nn__outfile_check(out->path, &where);
    int st = ST_OK;
    if (err == EISDIR)
        st = cli_fail("%s %s: is a directory (name a file in it)", out->what,
                      out->path);
    else if (err && where)
        st = cli_fail("%s %s: cannot write into directory '%s': %s",
                      out->what, out->path, where, strerror(err));
    else if (err)
        st = cli_fail("%s %s: %s", out->what, out->path, strerror(err));
    free(where);
    return st;
}

int cli_check_outputs(const cli_file *outs, size_t n_out, const cli_file *ins,
                      size_t n_in)
{
    size_t n = n_out + n_in;
    file_id *ids = calloc(n ? n : 1, sizeof *ids);
    if (!ids)
        return cli_fail("out of memory");
    int st = ST_OK;
    for (size_t i = 0; i < n; i++)
        id_of(i < n_out ? outs[i].path : ins[i - n_out].path, &ids[i]);
    for (size_t i = 0; i < n_out && st == ST_OK; i++) {
        st = check_writable(&outs[i]);
        /* each pair once: outputs after i, and every input */
        for (size_t j = i + 1; j < n && st == ST_OK; j++) {
            if (!same_file(&ids[i], &ids[j]))
                continue;
            const cli_file *other = j < n_out ? &outs[j] : &ins[j - n_out];
            st = cli_usage("%s %s is the same file as %s %s: an output "
                           "never replaces an input or another output",
                           outs[i].what, outs[i].path, other->what,
                           other->path);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i].name);
    free(ids);
    return st;
}

int cli_write_file(const char *path, const void *data, size_t len)
{
    const char *step = "";
    /* in place (a device, a FIFO) there is no temporary file to protect,
     * and Ctrl-C must still end a wait for a FIFO's reader */
    int hold = !nn__outfile_in_place(path);
    fflush(stdout); /* --log /dev/stdout: after the lines printed so far */
    if (hold)
        cli_signals_hold();
    int err = nn__outfile_write_whole(path, data, len, &step);
    if (hold)
        cli_signals_release();
    return err ? cli_fail("%s: %s: %s", path, step, strerror(err)) : ST_OK;
}

int cli_out_open(cli_out *out, const char *path)
{
    out->path = path;
    out->buf = NULL;
    out->len = 0;
    out->f = open_memstream(&out->buf, &out->len);
    return out->f ? ST_OK : cli_fail("out of memory");
}

int cli_out_commit(cli_out *out)
{
    int bad = ferror(out->f);
    if (fclose(out->f) != 0)
        bad = 1;
    out->f = NULL;
    int st = bad ? cli_fail("%s: out of memory", out->path)
                 : cli_write_file(out->path, out->buf, out->len);
    free(out->buf);
    out->buf = NULL;
    return st;
}

void cli_out_abort(cli_out *out)
{
    if (out->f)
        fclose(out->f);
    free(out->buf);
    out->f = NULL;
    out->buf = NULL;
}

const char *cli_loss(char *buf, double loss)
{
    snprintf(buf, 32, fabs(loss) < 1e6 ? "%.4f" : "%.4g", loss);
    return buf;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- names of libnn's values ---- */

const char *const cli_optimizer_names[] = {
    "sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", NULL};
const char *const cli_schedule_names[] = {
    "constant", "step", "exponential", "cosine", "plateau", NULL};

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
    if (strcmp(text, "linear") == 0)
        text = "identity";
    else if (strcmp(text, "leaky-relu") == 0)
        text = "leaky_relu";
    int i = find_choice(text, activation_names);
    if (i == NN_SOFTMAX && !allow_softmax)
        return cli_usage("%s: softmax is only for the output layer (it is "
                         "chosen by --task classify)", opt);
    if (i < 0) {
        char list[256];
        choice_list(activation_names, allow_softmax ? -1 : NN_SOFTMAX, list,
                    sizeof list);
        return cli_usage("%s: '%s' is not one of: %s", opt, text, list);
    }
    *out = (nn_activation)i;
    return ST_OK;
}
