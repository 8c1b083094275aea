/* SPDX-License-Identifier: MIT */
/*
 * Heap allocations, counted and made to fail.
 *
 * Built twice (tests/hardening/meson.build):
 * - test_alloc links the library's objects statically with
 *   -Wl,--wrap=malloc,... so that every allocation libnn itself makes goes
 *   through the wrappers below; this works under ASan, UBSan and valgrind.
 *   It counts allocations, tracks each block (leaks, frees of older
 *   blocks), and makes the k-th allocation fail for k = 1, 2, ... until a
 *   call succeeds: every failure must be NN_ENOMEM, leak nothing, free
 *   nothing the handle had, and leave the handle as it was and usable.
 * - test_alloc_process (-DNN_ALLOC_INTERPOSE, built only without
 *   sanitizers) defines malloc & co. in the executable on top of glibc's
 *   __libc_malloc & co., so it sees every allocation of the process in any
 *   thread, OpenBLAS's included, and checks the "no allocation once the
 *   largest batch has been seen" promises against all of them.
 */
#ifdef NN_ALLOC_INTERPOSE
#define _GNU_SOURCE /* dl_iterate_phdr */
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nn.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------
 * The counting allocator
 * --------------------------------------------------------------------- */

typedef struct alloc_stats {
    long calls;       /* allocations attempted in the window */
    long failed;      /* of which made to fail */
    size_t bytes;     /* bytes requested by the successful ones */
    size_t max_block; /* largest single request */
    long leaked;      /* blocks allocated in the window and not freed */
    long freed_old;   /* blocks from before the window freed in it */
    long blas_calls;  /* (process mode) allocations made by the BLAS */
} alloc_stats;

/* 0: closed; 1: counting (and tracking blocks); 2: paused: no counting,
 * but frees of the window's blocks are still seen, so that blocks a
 * failed call left in the handle are found freed by nn_free. */
static volatile int window_open;
static volatile long fail_at; /* 1-based allocation to fail; 0: none */
static alloc_stats stats;

#ifdef NN_ALLOC_INTERPOSE
#include <execinfo.h>
#include <link.h>

/* Every thread, no tracking of blocks: only calls and bytes, atomically. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

/* The products' backend's code (OpenBLAS or another BLAS, or oneDNN),
 * found by dl_iterate_phdr before any window: its own allocations are told
 * apart, by a frame of the backend on the allocating call's stack (oneDNN
 * allocates through the C++ and OpenMP runtimes too). libnn cannot change
 * them: OpenBLAS 0.3.21's small-matrix sgemm kernels for AVX-512 malloc on
 * every call (its Haswell kernels, OPENBLAS_CORETYPE=Haswell, do not);
 * oneDNN's dnnl_sgemm takes a workspace a thread per call, and sets itself
 * up on its first call in the process (CPU features, generated kernels,
 * its OpenMP team). */
#define MAX_RANGES 32
static uintptr_t blas_lo[MAX_RANGES], blas_hi[MAX_RANGES];
static int n_blas_ranges;

static int is_backend(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strstr(base, "blas") != NULL || strncmp(base, "libdnnl", 7) == 0;
}

static int find_blas(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    if (info->dlpi_name == NULL || !is_backend(info->dlpi_name))
        return 0;
    for (int i = 0; i < info->dlpi_phnum && n_blas_ranges < MAX_RANGES; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD) {
            blas_lo[n_blas_ranges] =
                info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            blas_hi[n_blas_ranges] =
                blas_lo[n_blas_ranges] + info->dlpi_phdr[i].p_memsz;
            n_blas_ranges++;
        }
    return 0;
}

static int in_blas(const void *address)
{
    for (int i = 0; i < n_blas_ranges; i++)
        if ((uintptr_t)address >= blas_lo[i] && (uintptr_t)address < blas_hi[i])
            return 1;
    return 0;
}

/* backtrace() unwinds without allocating once it has run once (main). */
static int from_blas(void)
{
    void *frames[32];
    int n = backtrace(frames, 32);
    for (int i = 0; i < n; i++)
        if (in_blas(frames[i]))
            return 1;
    return 0;
}

/* NN_ALLOC_TRAP=1 in the environment stops (SIGTRAP) at the first counted
 * allocation, for a debugger's backtrace. */
static int trap;

static void note(size_t n)
{
    if (window_open != 1)
        return;
    if (from_blas()) {
        __atomic_add_fetch(&stats.blas_calls, 1, __ATOMIC_RELAXED);
        return;
    }
    if (trap)
        __builtin_trap();
    __atomic_add_fetch(&stats.calls, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&stats.bytes, n, __ATOMIC_RELAXED);
}

void *malloc(size_t n)
{
    note(n);
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    note(a * b);
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    note(n);
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}

void *memalign(size_t align, size_t n)
{
    note(n);
    return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    note(n);
    return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    note(n);
    void *p = __libc_memalign(align, n);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

#define CAN_INJECT 0
#define TRACKS_BLOCKS 0

#else /* -Wl,--wrap: libnn's own allocations, in the calling thread */

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void __real_free(void *);
void *__real_aligned_alloc(size_t, size_t);
int __real_posix_memalign(void **, size_t, size_t);

/* Blocks allocated in the window: open addressing, tombstones. */
#define TABLE 8192
static void *table[TABLE];
static void *const tombstone = (void *)&table;

static size_t slot_of(void *p)
{
    return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull) % TABLE;
}

static void track(void *p)
{
    for (size_t i = slot_of(p), k = 0; k < TABLE; k++, i = (i + 1) % TABLE)
        if (table[i] == NULL || table[i] == tombstone) {
            table[i] = p;
            stats.leaked++;
            return;
        }
    abort(); /* more live blocks than a test ever makes */
}

/* Forgets p; 1 if it was allocated in the window. */
static int untrack(void *p)
{
    for (size_t i = slot_of(p), k = 0; k < TABLE; k++, i = (i + 1) % TABLE) {
        if (table[i] == NULL)
            return 0;
        if (table[i] == p) {
            table[i] = tombstone;
            stats.leaked--;
            return 1;
        }
    }
    return 0;
}

/* Counts an attempt; 1 when it must fail. */
static int attempt(size_t n)
{
    if (window_open != 1)
        return 0;
    stats.calls++;
    if (fail_at != 0 && stats.calls == fail_at) {
        stats.failed++;
        return 1;
    }
    stats.bytes += n;
    stats.max_block = n > stats.max_block ? n : stats.max_block;
    return 0;
}

static void *made(void *p)
{
    if (window_open == 1 && p != NULL)
        track(p);
    return p;
}

static void released(void *p)
{
    if (window_open && p != NULL && !untrack(p))
        stats.freed_old++;
}

void *__wrap_malloc(size_t n)
{
    return attempt(n) ? NULL : made(__real_malloc(n));
}

void *__wrap_calloc(size_t a, size_t b)
{
    return attempt(a * b) ? NULL : made(__real_calloc(a, b));
}

void *__wrap_realloc(void *p, size_t n)
{
    if (attempt(n))
        return NULL;
    void *q = __real_realloc(p, n);
    if (q != NULL || n == 0) {
        released(p);
        made(q);
    }
    return q;
}

void __wrap_free(void *p)
{
    released(p);
    __real_free(p);
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    return attempt(n) ? NULL : made(__real_aligned_alloc(align, n));
}

int __wrap_posix_memalign(void **out, size_t align, size_t n)
{
    if (attempt(n))
        return ENOMEM;
    int rc = __real_posix_memalign(out, align, n);
    if (rc == 0)
        made(*out);
    return rc;
}

#define CAN_INJECT 1
#define TRACKS_BLOCKS 1
#endif

static void window_begin(long fail)
{
    memset(&stats, 0, sizeof stats);
#if TRACKS_BLOCKS
    memset(table, 0, sizeof table);
#endif
    fail_at = fail;
    __atomic_store_n(&window_open, 1, __ATOMIC_SEQ_CST);
}

static long total_blas_calls;

static alloc_stats window_end(void)
{
    __atomic_store_n(&window_open, 0, __ATOMIC_SEQ_CST);
    fail_at = 0;
    total_blas_calls += stats.blas_calls;
    return stats;
}

#if CAN_INJECT
/* Stops counting but keeps watching the window's blocks being freed. */
static alloc_stats window_pause(void)
{
    __atomic_store_n(&window_open, 2, __ATOMIC_SEQ_CST);
    fail_at = 0;
    return stats;
}
#endif

/* ---------------------------------------------------------------------
 * Networks and data
 * --------------------------------------------------------------------- */

#define N 40
#define N_VAL 9

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void fill(float *v, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((double)(splitmix(&seed) >> 11) * 0x1.0p-53 * 2 - 1);
}

/* Rows of k probabilities (targets every loss accepts). */
static void fill_targets(float *v, size_t rows, size_t k, uint64_t seed)
{
    fill(v, rows * k, seed);
    for (size_t r = 0; r < rows; r++) {
        float sum = 0;
        for (size_t j = 0; j < k; j++)
            sum += v[r * k + j] = v[r * k + j] * 0.4f + 0.5f;
        for (size_t j = 0; j < k; j++)
            v[r * k + j] /= sum;
    }
}

typedef struct arch {
    const char *name;
    size_t n_sizes;
    size_t sizes[4];
    nn_activation acts[3];
    unsigned flags;
    double dropout;
    int transform;
} arch;

static const arch archs[] = {
    {"tutorial", 3, {2, 3, 1}, {NN_SIGMOID, NN_SIGMOID}, NN_NO_BIAS, 0, 0},
    {"softmax+dropout+transform",
     4,
     {5, 16, 8, 3},
     {NN_RELU, NN_TANH, NN_SOFTMAX},
     0,
     0.25,
     1},
    {"wide identity", 2, {300, 2}, {NN_IDENTITY}, 0, 0, 1},
    {"widest output", 3, {4, 6, 6}, {NN_TANH, NN_SOFTMAX}, 0, 0, 1},
};

static float X[N * 300], Y[N * 6], XV[N_VAL * 300], YV[N_VAL * 6];

static void make_data(const arch *a)
{
    size_t n_in = a->sizes[0], n_out = a->sizes[a->n_sizes - 1];
    fill(X, N * n_in, 1);
    fill_targets(Y, N, n_out, 2);
    fill(XV, N_VAL * n_in, 3);
    fill_targets(YV, N_VAL, n_out, 4);
}

static nn_net *make_net(const arch *a, int optimizer)
{
    nn_net *net = NULL;
    assert_int_equal(
        nn_create(&net, a->n_sizes, a->sizes, a->acts, a->flags, 11), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_OPTIMIZER, optimizer), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_BATCH_SIZE, 8), NN_OK);
    assert_int_equal(nn_set(net, NN_OPT_DROPOUT, a->dropout), NN_OK);
    if (a->transform) {
        make_data(a);
        assert_int_equal(nn_standardize_inputs(net, X, N), NN_OK);
    }
    return net;
}

#define OK(call)                                                               \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != NN_OK)                                                      \
            fail_msg("%s: %s (%s)", #call, nn_error_name(rc_),                 \
                     nn_last_error(NULL));                                     \
    } while (0)

/* Runs `call` in a window and asserts it allocated nothing. */
#define NO_ALLOC(call)                                                         \
    do {                                                                       \
        window_begin(0);                                                       \
        int rc_ = (call);                                                      \
        alloc_stats s_ = window_end();                                         \
        if (rc_ != NN_OK)                                                      \
            fail_msg("%s: %s (%s)", #call, nn_error_name(rc_),                 \
                     nn_last_error(NULL));                                     \
        if (s_.calls != 0)                                                     \
            fail_msg("%s made %ld allocations (%zu bytes) [%s]", #call,        \
                     s_.calls, s_.bytes, context);                             \
    } while (0)

static char context[128];

/* ---------------------------------------------------------------------
 * Counting
 * --------------------------------------------------------------------- */

/* Once the largest batch has been seen, the four verbs allocate nothing;
 * nn_step never does. */
static void test_verbs_allocate_nothing_once_warm(void **state)
{
    (void)state;
    float y_hat[N * 6];
    double cost;
    for (size_t k = 0; k < ARRAY_LEN(archs); k++) {
        const arch *a = &archs[k];
        make_data(a);
        for (int opt = NN_SGD; opt <= NN_RMSPROP; opt++) {
            snprintf(context, sizeof context, "%s, optimizer %d", a->name, opt);
            nn_net *net = make_net(a, opt);
            /* nn_step never allocates, even before any buffers exist. */
            OK(nn_backprop(net, X, Y, 3, NULL));
            NO_ALLOC(nn_step(net));
            OK(nn_forward(net, X, N, y_hat)); /* the largest batch */
            for (int rep = 0; rep < 3; rep++) {
                NO_ALLOC(nn_forward(net, X, N, y_hat));
                NO_ALLOC(nn_forward(net, X, 1, y_hat));
                NO_ALLOC(nn_cost(net, X, Y, N, &cost));
                NO_ALLOC(nn_cost(net, X, Y, 7, &cost));
                NO_ALLOC(nn_backprop(net, X, Y, N, &cost));
                NO_ALLOC(nn_step(net));
                NO_ALLOC(nn_backprop(net, X, Y, 5, NULL));
                NO_ALLOC(nn_step(net));
            }
            nn_free(net);
        }
    }
}

/* nn_train and nn_fit allocate before their first step; a later call with
 * no more samples (and epochs) and no larger batch allocates nothing. */
static void test_training_allocates_nothing_the_second_time(void **state)
{
    (void)state;
    for (size_t k = 0; k < ARRAY_LEN(archs); k++) {
        const arch *a = &archs[k];
        make_data(a);
        for (int shuffle = 0; shuffle <= 1; shuffle++) {
            snprintf(context, sizeof context, "%s, shuffle %d", a->name,
                     shuffle);
            nn_net *net = make_net(a, NN_ADAM);
            OK(nn_set(net, NN_OPT_SHUFFLE, shuffle));
            OK(nn_train(net, X, Y, N, 2, NULL, NULL));
            NO_ALLOC(nn_train(net, X, Y, N, 2, NULL, NULL));
            NO_ALLOC(nn_train(net, X, Y, N - 3, 1, NULL, NULL));
            OK(nn_set(net, NN_OPT_BATCH_SIZE, 4)); /* smaller batches */
            NO_ALLOC(nn_train(net, X, Y, N, 2, NULL, NULL));
            NO_ALLOC(nn_fit(net, X, Y, N, NULL, NULL, 0, 2, NULL, NULL, NULL));
            /* With validation data: the best-weights copy and history are
             * kept; only the validation scratch (as nn_evaluate) is per
             * call. Count them after a first call. */
            OK(nn_fit(net, X, Y, N, XV, YV, N_VAL, 2, NULL, NULL, NULL));
            window_begin(0);
            int rc = nn_fit(net, X, Y, N, XV, YV, N_VAL, 2, NULL, NULL, NULL);
            alloc_stats s = window_end();
            OK(rc);
            if (TRACKS_BLOCKS)
                assert_int_equal(s.leaked, 0);
            /* At most one evaluation scratch per epoch. */
            if (s.calls > 2)
                fail_msg("nn_fit with validation made %ld allocations [%s]",
                         s.calls, context);
            nn_free(net);
        }
    }
}

/* nn_predict and nn_evaluate allocate what their documentation says:
 * two scratch buffers of min(batch, 256) x max(sizes) floats, and for
 * nn_evaluate two more of min(batch, 256) x sizes[last], freed before they
 * return. */
static void test_predict_and_evaluate_allocate_what_they_promise(void **st)
{
    (void)st;
    static float x[600 * 300], y[600 * 6], out[600 * 6];
    for (size_t k = 0; k < ARRAY_LEN(archs); k++) {
        const arch *a = &archs[k];
        size_t n_in = a->sizes[0], n_out = a->sizes[a->n_sizes - 1];
        size_t widest = 0;
        for (size_t i = 0; i < a->n_sizes; i++)
            widest = a->sizes[i] > widest ? a->sizes[i] : widest;
        fill(x, 600 * n_in, 5);
        fill_targets(y, 600, n_out, 6);
        nn_net *net = make_net(a, NN_SGD);
        static const size_t batches[] = {1, 7, 256, 257, 600};
        for (size_t b = 0; b < ARRAY_LEN(batches); b++) {
            size_t batch = batches[b], chunk = batch < 256 ? batch : 256;
            size_t pointers = 16 * sizeof(void *) + 64;
            snprintf(context, sizeof context, "%s, batch %zu", a->name, batch);

            window_begin(0);
            OK(nn_predict(net, x, batch, out));
            alloc_stats s = window_end();
            size_t promised = 2 * chunk * widest * sizeof(float);
            if (s.calls < 1 || s.calls > 2 || s.bytes < promised ||
                s.bytes > promised + pointers)
                fail_msg(
                    "nn_predict: %ld allocations of %zu bytes, documented: two "
                    "buffers of %zu x %zu floats (%zu bytes) [%s]",
                    s.calls, s.bytes, chunk, widest, promised, context);
            if (TRACKS_BLOCKS)
                assert_int_equal(s.leaked, 0);

            window_begin(0);
            OK(nn_evaluate(net, x, y, batch, NULL, NULL));
            s = window_end();
            promised = 2 * chunk * (widest + n_out) * sizeof(float);
            if (s.calls < 1 || s.calls > 4 || s.bytes > promised + pointers)
                fail_msg(
                    "nn_evaluate: %ld allocations of %zu bytes, documented: "
                    "two buffers of %zu x %zu floats and two of %zu x %zu "
                    "(%zu bytes) [%s]",
                    s.calls, s.bytes, chunk, widest, chunk, n_out, promised,
                    context);
            if (TRACKS_BLOCKS)
                assert_int_equal(s.leaked, 0);
        }
        nn_free(net);
    }
}

/* ---------------------------------------------------------------------
 * Failure injection
 * --------------------------------------------------------------------- */

#if CAN_INJECT

static char tmpdir[256];

/* The whole saved state: parameters, settings, optimizer state, schedule,
 * generator, input transform. nn_save_buffer allocates nothing. */
static unsigned char *digest(const nn_net *net, size_t *len)
{
    assert_int_equal(nn_save_buffer(net, NULL, 0, len), NN_OK);
    unsigned char *b = malloc(*len);
    assert_non_null(b);
    assert_int_equal(nn_save_buffer(net, b, *len, len), NN_OK);
    return b;
}

static int dir_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

typedef struct scenario {
    const char *name;
    /* Brings a fresh network to the state the call starts from. */
    void (*prepare)(nn_net *net);
    /* The call; *out receives a new handle when it makes one. */
    int (*call)(nn_net *net, nn_net **out);
    int absorbs; /* may succeed although an allocation failed */
    int makes;   /* returns a new handle in *out (NULL on failure) */
} scenario;

static unsigned char *saved_model;
static size_t saved_model_len;

static void prep_none(nn_net *net)
{
    (void)net;
}
static void prep_warm(nn_net *net)
{
    float y_hat[N * 6];
    OK(nn_forward(net, X, 5, y_hat));
}
static void prep_no_dropout_warm(nn_net *net)
{
    OK(nn_set(net, NN_OPT_DROPOUT, 0.0));
    prep_warm(net);
}
static void prep_no_transform_warm(nn_net *net)
{
    OK(nn_set_input_transform(net, NULL, NULL));
    prep_warm(net);
}
/* The names a model keeps (archs[1]: 5 inputs, 3 classes), so that
 * cloning, saving and loading copy them too. */
static const char *const class_names[] = {"a", "bb", "ccc"};
static const char *const feature_names[] = {"f0", "f1", "f2", "f3", "f4"};

static void name(nn_net *net)
{
    OK(nn_set_classes(net, 3, class_names));
    OK(nn_set_feature_names(net, 5, feature_names));
    OK(nn_set_label_name(net, "kind"));
}

static void prep_trained(nn_net *net)
{
    OK(nn_train(net, X, Y, 12, 1, NULL, NULL));
    name(net);
}

static int call_create(nn_net *net, nn_net **out)
{
    (void)net;
    const arch *a = &archs[1];
    return nn_create(out, a->n_sizes, a->sizes, a->acts, a->flags, 3);
}
static int call_clone(nn_net *net, nn_net **out)
{
    return nn_clone(net, out);
}
static int call_set_classes(nn_net *net, nn_net **out)
{
    (void)out;
    static const char *const other[] = {"x", "y", "z"};
    return nn_set_classes(net, 3, other);
}
static int call_set_feature_names(nn_net *net, nn_net **out)
{
    (void)out;
    static const char *const other[] = {"v", "w", "x", "y", "z"};
    return nn_set_feature_names(net, 5, other);
}
static int call_set_label_name(nn_net *net, nn_net **out)
{
    (void)out;
    return nn_set_label_name(net, "other");
}
static int call_load_buffer(nn_net *net, nn_net **out)
{
    (void)net;
    return nn_load_buffer(out, saved_model, saved_model_len);
}
static int call_load_file(nn_net *net, nn_net **out)
{
    (void)net;
    char path[512];
    snprintf(path, sizeof path, "%s/saved.nnm", tmpdir);
    return nn_load(out, path);
}
static int call_save_file(nn_net *net, nn_net **out)
{
    (void)out;
    char path[512];
    snprintf(path, sizeof path, "%s/out.nnm", tmpdir);
    return nn_save(net, path);
}
static int call_save_buffer(nn_net *net, nn_net **out)
{
    (void)out;
    static unsigned char buf[1 << 16];
    size_t len;
    return nn_save_buffer(net, buf, sizeof buf, &len);
}
static int call_set_optimizer(nn_net *net, nn_net **out)
{
    (void)out;
    return nn_set(net, NN_OPT_OPTIMIZER, NN_ADAMW);
}
static int call_set_dropout(nn_net *net, nn_net **out)
{
    (void)out;
    return nn_set(net, NN_OPT_DROPOUT, 0.3);
}
static int call_set_transform(nn_net *net, nn_net **out)
{
    (void)out;
    static const float shift[5] = {1, 2, 3, 4, 5}, scale[5] = {1, 1, 2, 2, 3};
    return nn_set_input_transform(net, shift, scale);
}
static int call_standardize(nn_net *net, nn_net **out)
{
    (void)out;
    return nn_standardize_inputs(net, X, N);
}
static int call_forward(nn_net *net, nn_net **out)
{
    (void)out;
    static float y_hat[N * 6];
    return nn_forward(net, X, N, y_hat);
}
static int call_cost(nn_net *net, nn_net **out)
{
    (void)out;
    double cost;
    return nn_cost(net, X, Y, N, &cost);
}
static int call_backprop(nn_net *net, nn_net **out)
{
    (void)out;
    return nn_backprop(net, X, Y, N, NULL);
}
static int call_train(nn_net *net, nn_net **out)
{
    (void)out;
    return nn_train(net, X, Y, N, 2, NULL, NULL);
}
static int call_fit(nn_net *net, nn_net **out)
{
    (void)out;
    return nn_fit(net, X, Y, N, XV, YV, N_VAL, 3, NULL, NULL, NULL);
}
static int call_predict(nn_net *net, nn_net **out)
{
    (void)out;
    static float y_hat[N * 6];
    return nn_predict(net, X, N, y_hat);
}
static int call_evaluate(nn_net *net, nn_net **out)
{
    (void)out;
    double cost, acc;
    return nn_evaluate(net, X, Y, N, &cost, &acc);
}
static int call_gradcheck(nn_net *net, nn_net **out)
{
    (void)out;
    double err;
    return nn_gradcheck(net, X, Y, 3, &err);
}

static const scenario scenarios[] = {
    {"nn_create", prep_none, call_create, 0, 1},
    {"nn_clone", prep_trained, call_clone, 0, 1},
    {"nn_load_buffer", prep_none, call_load_buffer, 0, 1},
    {"nn_load", prep_none, call_load_file, 0, 1},
    /* nn_save's directory fsync is best effort: its allocation may fail
     * without failing the save. */
    {"nn_save", prep_trained, call_save_file, 1, 0},
    {"nn_save_buffer", prep_trained, call_save_buffer, 0, 0},
    {"nn_set_classes", prep_trained, call_set_classes, 0, 0},
    {"nn_set_feature_names", prep_trained, call_set_feature_names, 0, 0},
    {"nn_set_label_name", prep_trained, call_set_label_name, 0, 0},
    {"nn_set(OPTIMIZER)", prep_trained, call_set_optimizer, 0, 0},
    {"nn_set(DROPOUT) after buffers", prep_no_dropout_warm, call_set_dropout, 0,
     0},
    {"nn_set_input_transform after buffers", prep_no_transform_warm,
     call_set_transform, 0, 0},
    {"nn_standardize_inputs", prep_warm, call_standardize, 0, 0},
    {"nn_forward (first)", prep_none, call_forward, 0, 0},
    {"nn_forward (larger batch)", prep_warm, call_forward, 0, 0},
    {"nn_cost (first)", prep_none, call_cost, 0, 0},
    {"nn_backprop (first)", prep_none, call_backprop, 0, 0},
    {"nn_backprop (larger batch)", prep_warm, call_backprop, 0, 0},
    {"nn_train (first)", prep_none, call_train, 0, 0},
    {"nn_train (more samples)", prep_trained, call_train, 0, 0},
    {"nn_fit (first)", prep_none, call_fit, 0, 0},
    {"nn_predict", prep_trained, call_predict, 0, 0},
    {"nn_evaluate", prep_trained, call_evaluate, 0, 0},
    {"nn_gradcheck", prep_trained, call_gradcheck, 0, 0},
};

/* Fails the k-th allocation of each call for k = 1, 2, ... until the call
 * succeeds. */
static void test_every_allocation_failure(void **state)
{
    (void)state;
    const arch *a = &archs[1];
    make_data(a);
    snprintf(tmpdir, sizeof tmpdir, "%s/libnn-alloc-XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(tmpdir));
    nn_net *model = make_net(a, NN_ADAM);
    prep_trained(model);
    saved_model = digest(model, &saved_model_len);
    char path[512];
    snprintf(path, sizeof path, "%s/saved.nnm", tmpdir);
    OK(nn_save(model, path));
    nn_free(model);

    for (size_t i = 0; i < ARRAY_LEN(scenarios); i++) {
        const scenario *sc = &scenarios[i];
        long failures = 0;
        for (long k = 1;; k++) {
            snprintf(context, sizeof context, "%s, allocation %ld", sc->name,
                     k);
            if (k > 10000)
                fail_msg("%s never succeeds", sc->name);
            nn_net *net = make_net(a, NN_ADAM);
            sc->prepare(net);
            size_t before_len, after_len;
            unsigned char *before = digest(net, &before_len);
            int files = dir_entries(tmpdir);
            nn_net *out = (nn_net *)&out;

            window_begin(k);
            int rc = sc->call(net, &out);
            alloc_stats s = window_pause();

            if (rc == NN_OK) {
                window_end();
                if (s.failed && !sc->absorbs)
                    fail_msg("%s: allocation %ld failed, yet the call returned "
                             "NN_OK",
                             sc->name, k);
                if (out != (nn_net *)&out)
                    nn_free(out);
                free(before);
                nn_free(net);
                if (s.failed == 0)
                    break; /* every allocation has had its turn */
                continue;
            }
            failures++;
            if (rc != NN_ENOMEM)
                fail_msg("%s returned %s (%s), want NN_ENOMEM [%s]", sc->name,
                         nn_error_name(rc), nn_last_error(NULL), context);
            if (s.failed != 1)
                fail_msg("%s failed with NN_ENOMEM but no allocation was made "
                         "to fail [%s]",
                         sc->name, context);
            if (sc->makes ? out != NULL : out != (nn_net *)&out)
                fail_msg("%s failed but left *out = %p [%s]", sc->name,
                         (void *)out, context);
            if (strlen(nn_last_error(NULL)) == 0)
                fail_msg("%s failed without a message [%s]", sc->name, context);
            unsigned char *after = digest(net, &after_len);
            if (after_len != before_len ||
                memcmp(before, after, before_len) != 0)
                fail_msg("%s failed but changed the handle [%s]", sc->name,
                         context);
            assert_int_equal(dir_entries(tmpdir), files);
            if (sc->call == call_backprop)
                assert_int_equal(nn_step(net), NN_ESTATE);
            /* Usable: the same call now succeeds. */
            nn_net *again = (nn_net *)&again;
            OK(sc->call(net, &again));
            if (again != (nn_net *)&again)
                nn_free(again);
            free(before);
            free(after);
            /* Whatever the failed call allocated and kept (grown buffers
             * are fine) the handle frees: nothing leaked. */
            nn_free(net);
            s = window_end();
            if (s.leaked != 0)
                fail_msg("%s leaked %ld blocks [%s]", sc->name, s.leaked,
                         context);
        }
        print_message("    %-40s %ld allocation failures checked\n", sc->name,
                      failures);
        snprintf(path, sizeof path, "%s/out.nnm", tmpdir);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/saved.nnm", tmpdir);
    unlink(path);
    rmdir(tmpdir);
    free(saved_model);
}

/* Loading hostile data allocates no more than the data's own size
 * suggests: every truncation and a few absurd headers. */
static void test_loading_allocates_in_proportion(void **state)
{
    (void)state;
    const arch *a = &archs[1];
    nn_net *net = make_net(a, NN_ADAM);
    size_t len;
    unsigned char *b = digest(net, &len);
    nn_free(net);
    for (size_t n = 0; n <= len; n++) {
        nn_net *out = NULL;
        window_begin(0);
        int rc = nn_load_buffer(&out, b, n);
        alloc_stats s = window_end();
        nn_free(out);
        assert_int_equal(rc, n == len ? NN_OK : NN_EFORMAT);
        if (rc != NN_OK)
            assert_int_equal(s.leaked, 0);
        /* The network itself: its parameters and gradients, the optimizer
         * state and a few small arrays, all bounded by the input. */
        if (s.bytes > 4 * n + 4096)
            fail_msg("loading %zu bytes allocated %zu", n, s.bytes);
    }
    free(b);
}
#endif

int main(void)
{
#ifdef NN_ALLOC_INTERPOSE
    trap = getenv("NN_ALLOC_TRAP") != NULL;
    dl_iterate_phdr(find_blas, NULL);
    void *frame[1];
    backtrace(frame, 1); /* loads the unwinder before any window */
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verbs_allocate_nothing_once_warm),
        cmocka_unit_test(test_training_allocates_nothing_the_second_time),
        cmocka_unit_test(test_predict_and_evaluate_allocate_what_they_promise),
#if CAN_INJECT
        cmocka_unit_test(test_every_allocation_failure),
        cmocka_unit_test(test_loading_allocates_in_proportion),
#endif
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
#ifdef NN_ALLOC_INTERPOSE
    printf("note: the backend library itself allocated %ld times inside the "
           "counted calls (not counted against libnn)\n",
           total_blas_calls);
#endif
    return failed;
}
