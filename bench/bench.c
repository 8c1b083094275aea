/* SPDX-License-Identifier: MIT */
/*
 * nn_bench: libnn against the matrix-multiply floor and against its peers,
 * on its standard workloads (docs/performance.md explains the method):
 *
 *   sgd64    784-256-128-10 ReLU, softmax + cross-entropy, SGD + momentum
 *            0.9, batch 64, one epoch of 60 000 samples (s/epoch)
 *   adam64   the same with Adam (s/epoch)
 *   sgd256   SGD + momentum at batch 256 (s/epoch)
 *   infer    inference in calls of 1000 samples (samples/s)
 *   tutorial the tutorial's 2-3-1 sigmoid network, one full-batch step on
 *            its 3 samples: nn_backprop + nn_step (ns/step)
 *   infer1   inference latency: nn_predict on one sample a call (us/call)
 *
 * Every system measures the same workload in turn, A B A B ..., in one run,
 * so machine noise hits all of them alike; the tables give medians and
 * ratios between medians. Peers are separate processes started once and
 * driven over pipes (bench/peer_torch.py, peer_sklearn.py, peer_fann), so
 * their start-up costs nothing and they stay warm between turns.
 *
 * The ceiling: cblas_sgemm timed alone on the exact products of a step
 * ("sgemm shapes"), and dnnl_sgemm when libnn is built with oneDNN
 * ("oneDNN shapes"), and the peak GFLOP/s of a large square product with
 * the backend libnn uses, which turns the FLOP count of an epoch into its
 * physical floor.
 */
#define _GNU_SOURCE
#include <cblas.h>
#ifdef BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef BENCH_HAVE_ZLIB
#include <zlib.h>
#endif

#include <nn.h>

#ifndef BENCH_SOURCE_DIR
#define BENCH_SOURCE_DIR "bench"
#endif

#define N_IN 784
#define N_OUT 10
#define EPOCH 60000
#define MAX_REPS 64
#define PEER_TURN 4.0 /* longest turn of a peer, seconds (peer_samples) */

static const size_t mlp_sizes[] = {784, 256, 128, 10};
#define MLP_LAYERS 4

/* ---- small utilities ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nn_bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(EXIT_FAILURE);
}

#define CHECK(call)                                                            \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != NN_OK)                                                      \
            die("%s: %s (%s)", #call, nn_error_name(rc_),                      \
                nn_last_error(NULL));                                          \
    } while (0)

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double s[MAX_REPS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static float rng_float(void) /* [0, 1) */
{
    return (float)(rng_next() >> 40) * (1.0f / 16777216.0f);
}

/* ---- data: Fashion-MNIST when present, synthetic otherwise ---- */

typedef struct data {
    size_t n;
    float *x;       /* n x 784, in [0, 1] */
    float *y;       /* n x 10, one-hot */
    uint8_t *label; /* n */
    const char *source;
} data;

#ifdef BENCH_HAVE_ZLIB
static int read_gz(const char *path, size_t skip, void *dst, size_t len)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return 0;
    char header[16];
    int ok = gzread(f, header, (unsigned)skip) == (int)skip &&
             gzread(f, dst, (unsigned)len) == (int)len;
    gzclose(f);
    return ok;
}
#endif

static void load_data(data *d, const char *dir, int synthetic)
{
    d->n = EPOCH;
    d->x = xmalloc(d->n * N_IN * sizeof *d->x);
    d->y = xmalloc(d->n * N_OUT * sizeof *d->y);
    d->label = xmalloc(d->n);
    int loaded = 0;
#ifdef BENCH_HAVE_ZLIB
    if (!synthetic) {
        char ipath[4096], lpath[4096];
        snprintf(ipath, sizeof ipath, "%s/train-images-idx3-ubyte.gz", dir);
        snprintf(lpath, sizeof lpath, "%s/train-labels-idx1-ubyte.gz", dir);
        uint8_t *pix = xmalloc(d->n * N_IN);
        if (read_gz(ipath, 16, pix, d->n * N_IN) &&
            read_gz(lpath, 8, d->label, d->n)) {
            for (size_t i = 0; i < d->n * N_IN; i++)
                d->x[i] = (float)pix[i] / 255.0f;
            loaded = 1;
            d->source = "Fashion-MNIST (train, 60 000)";
        }
        free(pix);
    }
#else
    (void)dir;
#endif
    if (!loaded) {
        for (size_t i = 0; i < d->n * N_IN; i++)
            d->x[i] = rng_float();
        for (size_t i = 0; i < d->n; i++)
            d->label[i] = (uint8_t)(rng_next() % N_OUT);
        d->source = "synthetic (uniform inputs, random labels)";
    }
    memset(d->y, 0, d->n * N_OUT * sizeof *d->y);
    for (size_t i = 0; i < d->n; i++)
        d->y[i * N_OUT + d->label[i]] = 1.0f;
}

/* The file the peers read: uint32 n, n_in, n_out; float32 x; uint8 labels. */
static void write_data_file(const data *d, char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/nn_bench_data_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        die("mkstemp: %s", strerror(errno));
    FILE *f = fdopen(fd, "wb");
    uint32_t head[3] = {(uint32_t)d->n, N_IN, N_OUT};
    if (!f || fwrite(head, sizeof head, 1, f) != 1 ||
        fwrite(d->x, sizeof *d->x * N_IN, d->n, f) != d->n ||
        fwrite(d->label, 1, d->n, f) != d->n || fclose(f) != 0)
        die("cannot write %s", path);
}

/* ---- the tutorial's network ---- */

enum { TUT_N = 3 };

static void tutorial_data(float x[TUT_N * 2], float y[TUT_N])
{
    const float hours[TUT_N][2] = {{3, 5}, {5, 1}, {10, 2}};
    const float score[TUT_N] = {75, 82, 93};
    for (int i = 0; i < TUT_N; i++) {
        x[2 * i] = hours[i][0] / 10;
        x[2 * i + 1] = hours[i][1] / 5;
        y[i] = score[i] / 100;
    }
}

static const float tutorial_w[9] = {0.5f,  -0.25f, 1.0f,  0.75f, 0.1f,
                                    -0.6f, 0.3f,   -1.2f, 0.8f};

static nn_net *tutorial_net(void)
{
    size_t sizes[] = {2, 3, 1};
    nn_activation acts[] = {NN_SIGMOID, NN_SIGMOID};
    nn_net *net;
    CHECK(nn_create(&net, 3, sizes, acts, NN_NO_BIAS, 42));
    memcpy(nn_params(net), tutorial_w, sizeof tutorial_w);
    CHECK(nn_set(net, NN_OPT_LEARNING_RATE, 0.5));
    return net;
}

#include "hand.h"

/* ---- peers: child processes speaking a line protocol on pipes ----
 * bench -> peer: "train <sgd|adam> <batch> <n>", "predict <batch> <n>",
 *                "tutorial <steps>", "quit"
 * peer -> bench: "ok <seconds>" or "na" (workload not supported). */

typedef struct peer {
    const char *name;
    pid_t pid;
    FILE *to, *from;
    int alive;
} peer;

static int peer_start(peer *p, const char *name, char *const argv[],
                      int threads)
{
    int in[2], out[2];
    memset(p, 0, sizeof *p);
    p->name = name;
    if (pipe(in) || pipe(out))
        return 0;
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        if (threads > 0) {
            char t[16];
            snprintf(t, sizeof t, "%d", threads);
            setenv("OMP_NUM_THREADS", t, 1);
            setenv("OPENBLAS_NUM_THREADS", t, 1);
            setenv("MKL_NUM_THREADS", t, 1);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->pid = pid;
    p->to = fdopen(in[1], "w");
    p->from = fdopen(out[0], "r");
    p->alive = p->to && p->from;
    return p->alive;
}

/* Sends one command; returns the seconds reported, -1 for "na", NAN when
 * the peer failed (it is then dropped from the run). */
static double peer_ask(peer *p, const char *fmt, ...)
{
    if (!p->alive)
        return NAN;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->to, fmt, ap);
    va_end(ap);
    fputc('\n', p->to);
    fflush(p->to);
    char line[256];
    double v;
    if (!fgets(line, sizeof line, p->from)) {
        fprintf(stderr, "nn_bench: peer %s stopped answering\n", p->name);
        p->alive = 0;
        return NAN;
    }
    if (strncmp(line, "na", 2) == 0)
        return -1.0;
    if (sscanf(line, "ok %lf", &v) != 1) {
        fprintf(stderr, "nn_bench: peer %s: %s", p->name, line);
        p->alive = 0;
        return NAN;
    }
    return v;
}

static void peer_stop(peer *p)
{
    if (!p->pid)
        return;
    if (p->alive) {
        fprintf(p->to, "quit\n");
        fflush(p->to);
    }
    if (p->to)
        fclose(p->to);
    if (p->from)
        fclose(p->from);
    int status;
    waitpid(p->pid, &status, 0);
    p->pid = 0;
}

/* ---- the sgemm ceiling ---- */

typedef struct gemm_shape {
    int ta, tb, m, n, k;
} gemm_shape;

/* The products of one training step of `sizes` at `batch`, as libnn's
 * forward and backward passes call them (no input-layer delta). */
static int step_shapes(const size_t *sizes, int layers, int batch,
                       int forward_only, gemm_shape *out)
{
    int count = 0;
    for (int l = 0; l + 1 < layers; l++)
        out[count++] =
            (gemm_shape){0, 0, batch, (int)sizes[l + 1], (int)sizes[l]};
    if (forward_only)
        return count;
    for (int l = layers - 2; l >= 0; l--) {
        out[count++] =
            (gemm_shape){1, 0, (int)sizes[l], (int)sizes[l + 1], batch};
        if (l > 0)
            out[count++] =
                (gemm_shape){0, 1, batch, (int)sizes[l], (int)sizes[l + 1]};
    }
    return count;
}

static double shapes_flops(const gemm_shape *s, int count)
{
    double f = 0.0;
    for (int i = 0; i < count; i++)
        f += 2.0 * s[i].m * s[i].n * s[i].k;
    return f;
}

typedef struct gemm_set {
    gemm_shape shape[16];
    float *a[16], *b[16], *c[16];
    int count;
} gemm_set;

static void gemm_set_init(gemm_set *g, int batch, int forward_only)
{
    g->count =
        step_shapes(mlp_sizes, MLP_LAYERS, batch, forward_only, g->shape);
    for (int i = 0; i < g->count; i++) {
        const gemm_shape *s = &g->shape[i];
        size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n,
               nc = (size_t)s->m * s->n;
        g->a[i] = xmalloc(na * sizeof(float));
        g->b[i] = xmalloc(nb * sizeof(float));
        g->c[i] = xmalloc(nc * sizeof(float));
        for (size_t j = 0; j < na; j++)
            g->a[i][j] = rng_float() - 0.5f;
        for (size_t j = 0; j < nb; j++)
            g->b[i][j] = rng_float() - 0.5f;
    }
}

/* The products through oneDNN (dnnl = 1, when built with it) or CBLAS. */
static void gemm_set_run(const gemm_set *g, int dnnl)
{
    for (int i = 0; i < g->count; i++) {
        const gemm_shape *s = &g->shape[i];
#ifdef BENCH_HAVE_DNNL
        if (dnnl) {
            dnnl_sgemm(s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->m, s->n, s->k,
                       1.0f, g->a[i], s->ta ? s->m : s->k, g->b[i],
                       s->tb ? s->k : s->n, 0.0f, g->c[i], s->n);
            continue;
        }
#else
        (void)dnnl;
#endif
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                    s->tb ? CblasTrans : CblasNoTrans, s->m, s->n, s->k, 1.0f,
                    g->a[i], s->ta ? s->m : s->k, g->b[i], s->tb ? s->k : s->n,
                    0.0f, g->c[i], s->n);
    }
}

/* Seconds for the products of `steps` steps. */
static double gemm_set_time(const gemm_set *g, size_t steps, int dnnl)
{
    double t0 = now();
    for (size_t i = 0; i < steps; i++)
        gemm_set_run(g, dnnl);
    return now() - t0;
}

typedef struct series {
    double v[MAX_REPS];
    int n;
} series;

/* The peak: a square product of side PEAK_N, timed once per turn of the
 * alternation (so that a busy spell of the machine does not set it), the
 * best of all turns kept. */
#define PEAK_N 2048
typedef struct peak_set {
    float *a, *b, *c;
    series rates;
} peak_set;

static void peak_init(peak_set *p)
{
    size_t n = (size_t)PEAK_N * PEAK_N;
    p->a = xmalloc(n * sizeof *p->a);
    p->b = xmalloc(n * sizeof *p->b);
    p->c = xmalloc(n * sizeof *p->c);
    for (size_t i = 0; i < n; i++) {
        p->a[i] = rng_float() - 0.5f;
        p->b[i] = rng_float() - 0.5f;
    }
    p->rates.n = 0;
}

/* With the backend libnn uses: oneDNN when built with it. */
static double peak_turn(peak_set *p)
{
    double t0 = now();
#ifdef BENCH_HAVE_DNNL
    dnnl_sgemm('N', 'N', PEAK_N, PEAK_N, PEAK_N, 1.0f, p->a, PEAK_N, p->b,
               PEAK_N, 0.0f, p->c, PEAK_N);
#else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, PEAK_N, PEAK_N,
                PEAK_N, 1.0f, p->a, PEAK_N, p->b, PEAK_N, 0.0f, p->c, PEAK_N);
#endif
    return 2.0 * PEAK_N * (double)PEAK_N * PEAK_N / (now() - t0) * 1e-9;
}

/* ---- results ---- */

enum {
    SYS_LIBNN,
    SYS_LIBNN_1T,
    SYS_SGEMM,
    SYS_DNNL,
    SYS_HAND,
    SYS_TORCH1,
    SYS_TORCH2,
    SYS_FANN,
    SYS_SKLEARN,
    N_SYS
};
#ifdef BENCH_HAVE_DNNL
#define HAVE_DNNL 1
#else
#define HAVE_DNNL 0
#endif

static const char *sys_name[N_SYS] = {
    "libnn",          "libnn (1 thread)",  "sgemm shapes",
    "oneDNN shapes",  "hand-written C", "PyTorch, 1 thread", "PyTorch, 2 threads",
    "FANN",           "scikit-learn"};
static const char *sys_key[N_SYS] = {"libnn",  "libnn_1t", "sgemm", "dnnl",
                                     "hand",
                                     "torch1", "torch2",   "fann",  "sklearn"};

typedef struct workload {
    const char *key, *title, *unit;
    int higher_better; /* samples/s */
    series s[N_SYS];
} workload;

static void add(series *s, double v)
{
    if (isfinite(v) && v > 0.0 && s->n < MAX_REPS)
        s->v[s->n++] = v;
}

static double med(const series *s)
{
    return s->n ? median(s->v, s->n) : NAN;
}

/* sgd64, adam64, sgd256, infer, tutorial, infer1 */
#define N_WORKLOADS 6

/* ---- options ---- */

typedef struct options {
    int quick, reps, peers, sklearn, synthetic, one_thread;
    const char *only; /* run this workload only, or NULL */
    size_t n_train;   /* samples per measured epoch (scaled to 60 000) */
    size_t n_torch;   /* the same for PyTorch */
    size_t n_fann;    /* FANN is ~25x slower: fewer samples */
    size_t n_sklearn;
    const char *data_dir, *tsv, *source_dir, *fann_peer, *python;
    int pause; /* ms between systems, for spinning threads to rest */
} options;

/* OpenBLAS's threads busy-wait for 2^28 cycles (its THREAD_TIMEOUT, about
 * 0.1 s) after a product before they sleep; the system measured next would
 * share the cores with them. */
enum { PAUSE_MS = 200 };

static void usage(void)
{
    printf("usage: nn_bench [--quick] [--reps N] [--no-peers] [--sklearn]\n"
           "                [--synthetic] [--data DIR] [--tsv FILE]\n"
           "                [--source-dir DIR] [--fann-peer PATH]\n"
           "                [--python PATH] [--one-thread] [--only W]\n"
           "  --quick      fewer samples and repetitions (under a minute)\n"
           "  --reps N     alternated repetitions per system (default 5)\n"
           "  --no-peers   libnn and the sgemm ceiling only\n"
           "  --sklearn    also scikit-learn (off in --quick)\n"
           "  --one-thread also libnn with NN_OPT_THREADS = 1\n"
           "  --synthetic  synthetic data even when Fashion-MNIST is there\n"
           "  --only W     run workload W only (sgd64, adam64, sgd256, infer,\n"
           "               tutorial, infer1)\n"
           "  --tsv FILE   also write the results as tab-separated values\n");
}

static void parse_args(options *o, int argc, char **argv)
{
    *o = (options){0,     5,
                   1,     0,
                   0,     0,
                   NULL,  EPOCH,
                   EPOCH, 6000,
                   EPOCH, "/usr/share/datasets/fashion-mnist",
                   NULL,  BENCH_SOURCE_DIR,
                   NULL,  "/usr/bin/python3",
                   PAUSE_MS};
    int reps_given = 0, sklearn_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick"))
            o->quick = 1;
        else if (!strcmp(a, "--no-peers"))
            o->peers = 0;
        else if (!strcmp(a, "--sklearn"))
            sklearn_given = 1;
        else if (!strcmp(a, "--synthetic"))
            o->synthetic = 1;
        else if (!strcmp(a, "--one-thread"))
            o->one_thread = 1;
        else if (!strcmp(a, "--reps") && v) {
            o->reps = atoi(v);
            reps_given = 1;
            i++;
        } else if (!strcmp(a, "--only") && v) {
            o->only = v;
            i++;
        } else if (!strcmp(a, "--data") && v) {
            o->data_dir = v;
            i++;
        } else if (!strcmp(a, "--tsv") && v) {
            o->tsv = v;
            i++;
        } else if (!strcmp(a, "--source-dir") && v) {
            o->source_dir = v;
            i++;
        } else if (!strcmp(a, "--fann-peer") && v) {
            o->fann_peer = v;
            i++;
        } else if (!strcmp(a, "--python") && v) {
            o->python = v;
            i++;
        } else {
            usage();
            exit(strcmp(a, "--help") ? EXIT_FAILURE : EXIT_SUCCESS);
        }
    }
    if (o->quick) {
        o->n_train = 10000;
        o->n_torch = 2000;
        o->n_fann = 1000;
        o->n_sklearn = 2000;
        if (!reps_given)
            o->reps = 3;
    }
    o->sklearn = sklearn_given;
    if (o->reps < 1 || o->reps > MAX_REPS)
        die("--reps must be in [1, %d]", MAX_REPS);
}

/* ---- one run of each workload, for each system ---- */

typedef struct bench {
    options o;
    data d;
    char data_path[64];
    peer torch1, torch2, fann, sklearn;
    nn_net *net[3]; /* sgd64, adam64, sgd256 */
    nn_net *net_1t[3];
    nn_net *infer_net;
    gemm_set gemm64, gemm256, gemm_infer, gemm_infer1;
    workload w[N_WORKLOADS];
    peak_set peak_products;
    double peak, peak_median, flops_epoch64, flops_epoch256, flops_infer;
} bench;

static nn_net *mlp(int optimizer, size_t batch)
{
    nn_activation acts[] = {NN_RELU, NN_RELU, NN_SOFTMAX};
    nn_net *net;
    CHECK(nn_create(&net, MLP_LAYERS, mlp_sizes, acts, 0, 1));
    CHECK(nn_set(net, NN_OPT_OPTIMIZER, optimizer));
    CHECK(
        nn_set(net, NN_OPT_LEARNING_RATE, optimizer == NN_ADAM ? 1e-3 : 1e-2));
    CHECK(nn_set(net, NN_OPT_BATCH_SIZE, (double)batch));
    return net;
}

static double libnn_epoch(nn_net *net, const data *d, size_t n)
{
    double t0 = now();
    CHECK(nn_train(net, d->x, d->y, n, 1, NULL, NULL));
    return (now() - t0) * (double)EPOCH / (double)n;
}

static double libnn_infer(const nn_net *net, const data *d, size_t n,
                          float *out)
{
    double t0 = now();
    for (size_t s = 0; s + 1000 <= n; s += 1000)
        CHECK(nn_predict(net, d->x + s * N_IN, 1000, out));
    return (double)n / (now() - t0);
}

/* Microseconds a call of nn_predict on one sample, over n samples. */
static double libnn_infer1(const nn_net *net, const data *d, size_t n,
                           float *out)
{
    double t0 = now();
    for (size_t s = 0; s < n; s++)
        CHECK(nn_predict(net, d->x + s * N_IN, 1, out));
    return (now() - t0) / (double)n * 1e6;
}

static double libnn_tutorial(nn_net *net, const float *x, const float *y,
                             long steps)
{
    double cost, t0 = now();
    for (long i = 0; i < steps; i++) {
        nn_backprop(net, x, y, TUT_N, &cost);
        nn_step(net);
    }
    return (now() - t0) / (double)steps * 1e9;
}

static double hand_tutorial(const float *x, const float *y, long steps)
{
    hand_net h = {2, 3, 1, {0}, {0}, 0.5f};
    memcpy(h.w1, tutorial_w, sizeof h.w1);
    memcpy(h.w2, tutorial_w + 6, sizeof h.w2);
    volatile float sink = 0.0f;
    double t0 = now();
    for (long i = 0; i < steps; i++)
        sink += hand_step(&h, x, y, TUT_N);
    (void)sink;
    return (now() - t0) / (double)steps * 1e9;
}

/* Asks a peer for one epoch-equivalent; returns s/epoch. */
static double peer_epoch(peer *p, const char *opt, int batch, size_t n)
{
    double t = peer_ask(p, "train %s %d %zu", opt, batch, n);
    return t > 0.0 ? t * (double)EPOCH / (double)n : t;
}

static double peer_infer(peer *p, size_t n)
{
    double t = peer_ask(p, "predict 1000 %zu", n);
    return t > 0.0 ? (double)n / t : t;
}

static double peer_infer1(peer *p, size_t n)
{
    double t = peer_ask(p, "predict 1 %zu", n);
    return t > 0.0 ? t / (double)n * 1e6 : t;
}

static double peer_tutorial(peer *p, long steps)
{
    double t = peer_ask(p, "tutorial %ld", steps);
    return t > 0.0 ? t / (double)steps * 1e9 : t;
}

static void start_peers(bench *b)
{
    char script[4096], data_arg[128];
    snprintf(data_arg, sizeof data_arg, "%s", b->data_path);
    if (access(b->o.python, X_OK) == 0) {
        snprintf(script, sizeof script, "%s/peer_torch.py", b->o.source_dir);
        for (int t = 1; t <= 2; t++) {
            char targ[8];
            snprintf(targ, sizeof targ, "%d", t);
            char *argv[] = {(char *)b->o.python, script, data_arg, targ, NULL};
            peer *p = t == 1 ? &b->torch1 : &b->torch2;
            peer_start(p, sys_name[t == 1 ? SYS_TORCH1 : SYS_TORCH2], argv, t);
            /* the peer answers "ok 0" once loaded, "na" without torch */
            if (peer_ask(p, "hello") < 0.0)
                p->alive = 0;
        }
        if (b->o.sklearn) {
            snprintf(script, sizeof script, "%s/peer_sklearn.py",
                     b->o.source_dir);
            char *argv[] = {(char *)b->o.python, script, data_arg, NULL};
            peer_start(&b->sklearn, sys_name[SYS_SKLEARN], argv, 0);
            if (peer_ask(&b->sklearn, "hello") < 0.0)
                b->sklearn.alive = 0;
        }
    }
    if (b->o.fann_peer && access(b->o.fann_peer, X_OK) == 0) {
        char *argv[] = {(char *)b->o.fann_peer, data_arg, NULL};
        peer_start(&b->fann, sys_name[SYS_FANN], argv, 0);
        if (peer_ask(&b->fann, "hello") < 0.0)
            b->fann.alive = 0;
    }
}

static peer *peer_of(bench *b, int sys)
{
    switch (sys) {
    case SYS_TORCH1:
        return &b->torch1;
    case SYS_TORCH2:
        return &b->torch2;
    case SYS_FANN:
        return &b->fann;
    case SYS_SKLEARN:
        return &b->sklearn;
    default:
        return NULL;
    }
}

/* Samples a peer trains on in one turn: the mode's count, cut down (to no
 * fewer than 1000) for a system so slow that a turn would pass PEER_TURN
 * seconds: its s/epoch is the same, measured on fewer samples. */
static size_t peer_samples(bench *b, int w, int sys)
{
    size_t n = sys == SYS_FANN      ? b->o.n_fann
               : sys == SYS_SKLEARN ? b->o.n_sklearn
                                    : b->o.n_torch;
    const series *s = &b->w[w].s[sys];
    if (s->n) { /* s/epoch of the last turn */
        double per_sample = s->v[s->n - 1] / (double)EPOCH;
        double fit = PEER_TURN / per_sample;
        if (fit < (double)n)
            n = fit < 1000.0 ? 1000 : (size_t)fit;
    }
    return n;
}

/* One measurement of workload `w` by system `sys`; NAN when it does not
 * apply. */
static double measure(bench *b, int w, int sys, float *out)
{
    static const int batch_of[3] = {64, 64, 256};
    static const char *opt_of[3] = {"sgd", "adam", "sgd"};
    size_t n = b->o.n_train;
    float tx[TUT_N * 2], ty[TUT_N];
    tutorial_data(tx, ty);
    long tut_steps = b->o.quick ? 300000 : 2000000;
    peer *p = peer_of(b, sys);
    if (p && !p->alive)
        return NAN;
    if (w < 3) {
        switch (sys) {
        case SYS_LIBNN:
            return libnn_epoch(b->net[w], &b->d, n);
        case SYS_LIBNN_1T:
            if (!b->net_1t[w])
                return NAN;
            nn_set(b->net_1t[w], NN_OPT_THREADS, 1);
            double t = libnn_epoch(b->net_1t[w], &b->d, n);
            nn_set(b->net_1t[w], NN_OPT_THREADS, 0);
            return t;
        case SYS_SGEMM:
        case SYS_DNNL: {
            if (sys == SYS_DNNL && !HAVE_DNNL)
                return NAN;
            const gemm_set *g = batch_of[w] == 64 ? &b->gemm64 : &b->gemm256;
            size_t steps = (n + (size_t)batch_of[w] - 1) / (size_t)batch_of[w];
            return gemm_set_time(g, steps, sys == SYS_DNNL) * (double)EPOCH /
                   (double)n;
        }
        case SYS_HAND:
            return NAN;
        default:
            return peer_epoch(p, opt_of[w], batch_of[w],
                              peer_samples(b, w, sys));
        }
    }
    if (w == 3) {
        size_t ni = b->o.quick ? 20000 : EPOCH;
        switch (sys) {
        case SYS_LIBNN:
            return libnn_infer(b->infer_net, &b->d, ni, out);
        case SYS_SGEMM:
        case SYS_DNNL:
            if (sys == SYS_DNNL && !HAVE_DNNL)
                return NAN;
            return (double)(ni / 1000 * 1000) /
                   gemm_set_time(&b->gemm_infer, ni / 1000, sys == SYS_DNNL);
        case SYS_LIBNN_1T:
        case SYS_HAND:
            return NAN;
        default:
            return peer_infer(p, sys == SYS_FANN ? ni / 10 : ni);
        }
    }
    if (w == 5) {
        size_t ni = b->o.quick ? 2000 : 10000;
        switch (sys) {
        case SYS_LIBNN:
            return libnn_infer1(b->infer_net, &b->d, ni, out);
        case SYS_SGEMM:
        case SYS_DNNL:
            if (sys == SYS_DNNL && !HAVE_DNNL)
                return NAN;
            return gemm_set_time(&b->gemm_infer1, ni, sys == SYS_DNNL) /
                   (double)ni * 1e6;
        case SYS_LIBNN_1T:
        case SYS_HAND:
            return NAN;
        default:
            return peer_infer1(p, sys == SYS_FANN ? ni : ni / 4);
        }
    }
    switch (sys) {
    case SYS_LIBNN: {
        nn_net *net = tutorial_net();
        double ns = libnn_tutorial(net, tx, ty, tut_steps);
        nn_free(net);
        return ns;
    }
    case SYS_HAND:
        return hand_tutorial(tx, ty, tut_steps);
    case SYS_FANN:
        return peer_tutorial(p, tut_steps / 4);
    case SYS_TORCH1:
    case SYS_TORCH2:
        return peer_tutorial(p, b->o.quick ? 500 : 5000);
    default:
        return NAN;
    }
}

/* ---- report ---- */

static void print_header(const bench *b)
{
    time_t t = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&t));
    char cpu[512] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10)) {
                char *c = strchr(line, ':');
                snprintf(cpu, sizeof cpu, "%s", c ? c + 2 : line);
                cpu[strcspn(cpu, "\n")] = 0;
                break;
            }
        fclose(f);
    }
    printf("libnn %s benchmark, %s, %s, %ld CPUs\n", nn_version_string(), date,
           cpu, sysconf(_SC_NPROCESSORS_ONLN));
    printf("OpenBLAS: %s (%d threads)\n", openblas_get_config(),
           openblas_get_num_threads());
    /* libnn's own view: its backend, kernels, threads, inference kernels */
    const char *info = strchr(nn_build_info(), '\n');
    for (const char *line = info ? info + 1 : ""; *line;) {
        const char *end = strchr(line, '\n');
        int len = end ? (int)(end - line) : (int)strlen(line);
        printf("libnn %.*s\n", len, line);
        line += len + (end != NULL);
    }
    printf("data: %s\n%s mode: %d alternated repetitions; epochs measured "
           "on %zu samples (libnn, sgemm), %zu (PyTorch), %zu (FANN), %zu "
           "(scikit-learn; fewer when a turn would take over %.0f s), "
           "scaled to 60 000\n\n",
           b->d.source, b->o.quick ? "quick" : "full", b->o.reps, b->o.n_train,
           b->o.n_torch, b->o.n_fann, b->o.n_sklearn, PEER_TURN);
}

static void report(bench *b)
{
    FILE *tsv = b->o.tsv ? fopen(b->o.tsv, "w") : NULL;
    if (b->o.tsv && !tsv)
        die("cannot write %s", b->o.tsv);
    if (tsv)
        fprintf(tsv, "workload\tsystem\tmedian\tunit\treps\tmin\tmax\n");
    double floor[N_WORKLOADS] = {b->flops_epoch64 / (b->peak * 1e9),
                                 b->flops_epoch64 / (b->peak * 1e9),
                                 b->flops_epoch256 / (b->peak * 1e9),
                                 b->peak * 1e9 / b->flops_infer, NAN,
                                 b->flops_infer / (b->peak * 1e9) * 1e6};
    printf("%s peak: %.1f GFLOP/s (best of %d %d x %d products, one per "
           "turn; median %.1f)\n",
           HAVE_DNNL ? "oneDNN" : "CBLAS", b->peak, b->peak_products.rates.n,
           PEAK_N, PEAK_N, b->peak_median);
    printf("floor: %.1f GFLOP per epoch at batch 64 -> %.3f s/epoch; "
           "inference %.0f samples/s, %.2f us a sample\n\n",
           b->flops_epoch64 * 1e-9, floor[0], floor[3], floor[5]);
    if (tsv) {
        fprintf(tsv, "peak\tsgemm\t%.3f\tGFLOP/s\t%d\t%.3f\t%.3f\n", b->peak,
                b->peak_products.rates.n, b->peak_median, b->peak);
        fprintf(tsv, "floor\tsgd64\t%.4f\ts/epoch\t1\t%.4f\t%.4f\n", floor[0],
                floor[0], floor[0]);
        fprintf(tsv, "floor\tadam64\t%.4f\ts/epoch\t1\t%.4f\t%.4f\n", floor[1],
                floor[1], floor[1]);
        fprintf(tsv, "floor\tsgd256\t%.4f\ts/epoch\t1\t%.4f\t%.4f\n", floor[2],
                floor[2], floor[2]);
        fprintf(tsv, "floor\tinfer\t%.0f\tsamples/s\t1\t%.0f\t%.0f\n", floor[3],
                floor[3], floor[3]);
        fprintf(tsv, "floor\tinfer1\t%.4f\tus/call\t1\t%.4f\t%.4f\n",
                floor[5], floor[5], floor[5]);
    }
    for (int w = 0; w < N_WORKLOADS; w++) {
        workload *wl = &b->w[w];
        if (!wl->s[SYS_LIBNN].n)
            continue;
        double ref = med(&wl->s[SYS_LIBNN]);
        printf("%s (%s)\n", wl->title, wl->unit);
        printf("  %-20s %12s %8s %8s %10s %10s\n", "system", "median", "min",
               "max", "x floor", "x libnn");
        for (int s = 0; s < N_SYS; s++) {
            series *sr = &wl->s[s];
            if (!sr->n)
                continue;
            double m = med(sr), lo = sr->v[0], hi = sr->v[0];
            for (int i = 1; i < sr->n; i++) {
                lo = sr->v[i] < lo ? sr->v[i] : lo;
                hi = sr->v[i] > hi ? sr->v[i] : hi;
            }
            /* "x floor" and "x libnn" as time ratios (>1 = slower) */
            double xf = wl->higher_better ? floor[w] / m : m / floor[w];
            double xl = wl->higher_better ? ref / m : m / ref;
            char fbuf[16] = "", lbuf[16] = "";
            if (isfinite(xf))
                snprintf(fbuf, sizeof fbuf, "%.2f", xf);
            if (isfinite(xl))
                snprintf(lbuf, sizeof lbuf, "%.2f", xl);
            const char *fmt = w == 3 ? "  %-20s %12.0f %8.0f %8.0f %10s %10s\n"
                              : w >= 4
                                  ? "  %-20s %12.1f %8.1f %8.1f %10s %10s\n"
                                  : "  %-20s %12.3f %8.3f %8.3f %10s %10s\n";
            printf(fmt, sys_name[s], m, lo, hi, fbuf, lbuf);
            if (tsv)
                fprintf(tsv, "%s\t%s\t%.6g\t%s\t%d\t%.6g\t%.6g\n", wl->key,
                        sys_key[s], m, wl->unit, sr->n, lo, hi);
        }
        printf("\n");
    }
    if (tsv)
        fclose(tsv);

    /* the speed targets, as ratios within this run */
    double sgd = med(&b->w[0].s[SYS_LIBNN]);
    double t1 = med(&b->w[0].s[SYS_TORCH1]), t2 = med(&b->w[0].s[SYS_TORCH2]);
    double torch = isnan(t1) ? t2 : isnan(t2) ? t1 : fmin(t1, t2);
    double tut = med(&b->w[4].s[SYS_LIBNN]);
    double hand = med(&b->w[4].s[SYS_HAND]);
    double fann = med(&b->w[4].s[SYS_FANN]);
    double inf = med(&b->w[3].s[SYS_LIBNN]);
    double adam = med(&b->w[1].s[SYS_LIBNN]), b256 = med(&b->w[2].s[SYS_LIBNN]);
    double lat = med(&b->w[5].s[SYS_LIBNN]);
    printf("targets\n");
    if (!isnan(sgd))
        printf("  sgd64 <= 1.5x floor      %6.2fx  %s\n", sgd / floor[0],
               sgd / floor[0] <= 1.5 ? "met" : "NOT met");
    if (!isnan(adam))
        printf("  adam64 <= 1.7x floor     %6.2fx  %s\n", adam / floor[1],
               adam / floor[1] <= 1.7 ? "met" : "NOT met");
    if (!isnan(b256))
        printf("  sgd256 <= 1.3x floor     %6.2fx  %s\n", b256 / floor[2],
               b256 / floor[2] <= 1.3 ? "met" : "NOT met");
    if (!isnan(inf))
        printf("  inference >= 0.8x floor  %6.2fx  %s\n", inf / floor[3],
               inf / floor[3] >= 0.8 ? "met" : "NOT met");
    if (!isnan(tut) && !isnan(hand))
        printf("  tutorial <= 1.1x hand    %6.2fx  %s\n", tut / hand,
               tut / hand <= 1.1 ? "met" : "NOT met");
    if (!isnan(lat))
        printf("  (b1 latency / floor      %6.2fx)\n", lat / floor[5]);
    if (!isnan(sgd) && !isnan(torch))
        printf("  (sgd64 / PyTorch         %6.2fx)\n", sgd / torch);
    if (!isnan(tut) && !isnan(fann))
        printf("  (FANN / tutorial         %6.2fx)\n", fann / tut);
}

int main(int argc, char **argv)
{
    static bench b;
    parse_args(&b.o, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    load_data(&b.d, b.o.data_dir, b.o.synthetic);
    print_header(&b);
    fflush(stdout);

    b.w[0] = (workload){"sgd64",
                        "784-256-128-10, SGD + momentum, batch 64",
                        "s/epoch",
                        0,
                        {{{0}, 0}}};
    b.w[1] = (workload){
        "adam64", "784-256-128-10, Adam, batch 64", "s/epoch", 0, {{{0}, 0}}};
    b.w[2] = (workload){"sgd256",
                        "784-256-128-10, SGD + momentum, batch 256",
                        "s/epoch",
                        0,
                        {{{0}, 0}}};
    b.w[3] = (workload){"infer",
                        "inference, calls of 1000 samples",
                        "samples/s",
                        1,
                        {{{0}, 0}}};
    b.w[4] = (workload){"tutorial",
                        "tutorial 2-3-1, one full-batch step",
                        "ns/step",
                        0,
                        {{{0}, 0}}};
    b.w[5] = (workload){"infer1",
                        "inference latency, calls of 1 sample",
                        "us/call",
                        0,
                        {{{0}, 0}}};

    gemm_set_init(&b.gemm64, 64, 0);
    gemm_set_init(&b.gemm256, 256, 0);
    gemm_set_init(&b.gemm_infer, 1000, 1);
    gemm_set_init(&b.gemm_infer1, 1, 1);
    b.flops_epoch64 =
        shapes_flops(b.gemm64.shape, b.gemm64.count) / 64.0 * EPOCH;
    b.flops_epoch256 =
        shapes_flops(b.gemm256.shape, b.gemm256.count) / 256.0 * EPOCH;
    b.flops_infer =
        shapes_flops(b.gemm_infer.shape, b.gemm_infer.count) / 1000.0;
    peak_init(&b.peak_products);
    peak_turn(&b.peak_products); /* warm-up */

    static const int opts[3] = {NN_MOMENTUM, NN_ADAM, NN_MOMENTUM};
    static const size_t batches[3] = {64, 64, 256};
    for (int w = 0; w < 3; w++) {
        b.net[w] = mlp(opts[w], batches[w]);
        /* warm-up: buffers, OpenBLAS threads, caches */
        CHECK(nn_train(b.net[w], b.d.x, b.d.y, 4096, 1, NULL, NULL));
        if (b.o.one_thread) {
            b.net_1t[w] = mlp(opts[w], batches[w]);
            CHECK(nn_train(b.net_1t[w], b.d.x, b.d.y, 4096, 1, NULL, NULL));
        }
    }
    b.infer_net = mlp(NN_SGD, 64);
    float *out = xmalloc(1000 * N_OUT * sizeof *out);

    if (b.o.peers) {
        write_data_file(&b.d, b.data_path, sizeof b.data_path);
        start_peers(&b);
        unlink(b.data_path); /* the peers have loaded it */
        /* warm-up turns, not recorded */
        for (int s = SYS_TORCH1; s < N_SYS; s++) {
            peer *p = peer_of(&b, s);
            if (p->alive) {
                peer_ask(p, "train sgd 64 512");
                peer_ask(p, "train adam 64 512");
                peer_ask(p, "train sgd 256 512");
                peer_ask(p, "predict 1000 1000");
                peer_ask(p, "predict 1 100");
            }
        }
    }

    for (int w = 0; w < N_WORKLOADS; w++) {
        if (b.o.only && strcmp(b.o.only, b.w[w].key))
            continue;
        fprintf(stderr, "%s:", b.w[w].key);
        for (int r = 0; r < b.o.reps; r++) {
            for (int s = 0; s < N_SYS; s++) {
                double v = measure(&b, w, s, out);
                if (isnan(v))
                    continue;
                add(&b.w[w].s[s], v);
                fprintf(stderr, " %s=%.4g", sys_key[s], v);
                pause_ms(b.o.pause);
            }
            double rate = peak_turn(&b.peak_products);
            add(&b.peak_products.rates, rate);
            fprintf(stderr, " peak=%.1f |", rate);
        }
        fprintf(stderr, "\n");
    }
    peer_stop(&b.torch1);
    peer_stop(&b.torch2);
    peer_stop(&b.fann);
    peer_stop(&b.sklearn);
    series *pr = &b.peak_products.rates;
    b.peak = 0.0;
    for (int i = 0; i < pr->n; i++)
        b.peak = pr->v[i] > b.peak ? pr->v[i] : b.peak;
    b.peak_median = med(pr);
    report(&b);
    for (int w = 0; w < 3; w++) {
        nn_free(b.net[w]);
        nn_free(b.net_1t[w]);
    }
    nn_free(b.infer_net);
    free(out);
    return 0;
}
