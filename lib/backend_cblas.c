/* SPDX-License-Identifier: MIT */
/*
 * The CBLAS backend (meson -Ddnnl=disabled, or no oneDNN): the only file
 * that includes <cblas.h>.
 *
 * With OpenBLAS, NN_OPT_THREADS sets OpenBLAS's thread count, a property
 * of the process, not of a handle; libnn starts no threads of its own (a
 * second pool beside OpenBLAS's would fight it for the cores).
 *
 * OpenBLAS picks its kernels at load time from a table of CPU models it
 * knows; on a CPU newer than the OpenBLAS, it falls back to old kernels
 * (Debian 12's 0.3.21 runs SSE3 "Prescott" kernels on some AVX-512 CPUs,
 * 2-5x slower). The CPU's feature bits say which kernels it can run, and
 * OPENBLAS_CORETYPE makes a DYNAMIC_ARCH OpenBLAS take them: nn_build_info
 * says so (its "better-kernels" line), and the nnet tool applies it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "internal.h"

void nn__backend_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
                      const float *a, size_t lda, const float *b, size_t ldb,
                      float *c, size_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                1.0f, a, (int)lda, b, (int)ldb, 0.0f, c, (int)ldc);
}

/* OpenBLAS's pool is its own: libnn's passes stay on the calling thread
 * rather than start a second pool that would fight it for the cores. */
void nn__backend_parallel_for(size_t n, nn__range_fn fn, void *ctx)
{
    fn(ctx, 0, n);
}

#ifdef NN_HAVE_OPENBLAS

/* ---- NN_OPT_THREADS ---- */

/* OpenBLAS's own choice at start-up: OPENBLAS_NUM_THREADS, else
 * GOTO_NUM_THREADS, else OMP_NUM_THREADS, else one thread per core. */
static int default_threads(void)
{
    static const char *const vars[] = {"OPENBLAS_NUM_THREADS",
                                       "GOTO_NUM_THREADS", "OMP_NUM_THREADS"};
    int cores = openblas_get_num_procs();
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        int n = v ? atoi(v) : 0;
        if (n > 0)
            return n < cores ? n : cores;
    }
    return cores;
}

int nn__backend_threads(void)
{
    return openblas_get_num_threads();
}

int nn__backend_set_threads(int n)
{
    openblas_set_num_threads(n > 0 ? n : default_threads());
    return 1;
}

/* ---- kernels ---- */

/* The instruction-set level of OpenBLAS's x86-64 kernel families, by the
 * names openblas_get_corename() gives (in any case: 0.3.21 says "Haswell");
 * ISA_UNKNOWN for names not listed. */
enum isa_level { ISA_UNKNOWN, ISA_SSE, ISA_AVX, ISA_AVX2, ISA_AVX512,
                 ISA_AVX512_BF16 };

static const struct {
    const char *core;
    enum isa_level level;
} known_cores[] = {
    {"katmai", ISA_SSE},        {"coppermine", ISA_SSE},
    {"northwood", ISA_SSE},     {"prescott", ISA_SSE},
    {"banias", ISA_SSE},        {"core2", ISA_SSE},
    {"penryn", ISA_SSE},        {"dunnington", ISA_SSE},
    {"nehalem", ISA_SSE},       {"atom", ISA_SSE},
    {"athlon", ISA_SSE},        {"opteron", ISA_SSE},
    {"opteron_sse3", ISA_SSE},  {"barcelona", ISA_SSE},
    {"bobcat", ISA_SSE},        {"nano", ISA_SSE},
    {"sandybridge", ISA_AVX},   {"bulldozer", ISA_AVX},
    {"piledriver", ISA_AVX},    {"steamroller", ISA_AVX},
    {"excavator", ISA_AVX},     {"haswell", ISA_AVX2},
    {"zen", ISA_AVX2},          {"skylakex", ISA_AVX512},
    {"cooperlake", ISA_AVX512_BF16},
    {"sapphirerapids", ISA_AVX512_BF16},
};

static int same_name(const char *a, const char *lower)
{
    for (; *a && *lower; a++, lower++)
        if (tolower((unsigned char)*a) != *lower)
            return 0;
    return *a == *lower;
}

static enum isa_level core_level(const char *core)
{
    for (size_t i = 0; i < sizeof known_cores / sizeof *known_cores; i++)
        if (same_name(core, known_cores[i].core))
            return known_cores[i].level;
    return ISA_UNKNOWN;
}

/* The best level this CPU runs, and OpenBLAS's name for its kernels. */
static enum isa_level cpu_level(const char **core)
{
    *core = NULL;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    static const struct {
        enum isa_level level;
        const char *core;
    } best[] = {
        {ISA_AVX512_BF16, "Cooperlake"},
        {ISA_AVX512, "SkylakeX"},
        {ISA_AVX2, "Haswell"},
        {ISA_AVX, "Sandybridge"},
    };
    int has[] = {
        __builtin_cpu_supports("avx512bf16") &&
            __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512dq"),
        __builtin_cpu_supports("avx512f") &&
            __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512dq"),
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"),
        __builtin_cpu_supports("avx"),
    };
    for (size_t i = 0; i < sizeof best / sizeof *best; i++)
        if (has[i]) {
            *core = best[i].core;
            return best[i].level;
        }
    return ISA_SSE;
#else
    return ISA_UNKNOWN;
#endif
}

/* The OPENBLAS_CORETYPE that would run better kernels than those OpenBLAS
 * picked, or NULL: none, the user chose them (the variable is set), or
 * this OpenBLAS cannot switch (not built with DYNAMIC_ARCH). */
static const char *better_core(void)
{
    const char *config = openblas_get_config();
    if (getenv("OPENBLAS_CORETYPE") != NULL || config == NULL ||
        strstr(config, "DYNAMIC_ARCH") == NULL)
        return NULL;
    const char *core;
    enum isa_level cpu = cpu_level(&core);
    enum isa_level picked = core_level(openblas_get_corename());
    return picked != ISA_UNKNOWN && cpu > picked ? core : NULL;
}

int nn__backend_info(char *buf, size_t size)
{
    const char *better = better_core();
    return snprintf(buf, size,
                    "backend: CBLAS (%s)\n"
                    "kernels: %s\n"
                    "threads: %d\n"
                    "%s%s%s",
                    openblas_get_config(), openblas_get_corename(),
                    openblas_get_num_threads(),
                    better ? "better-kernels: OPENBLAS_CORETYPE=" : "",
                    better ? better : "", better ? "\n" : "");
}

#else /* another CBLAS: no thread count, no kernel names */

int nn__backend_threads(void)
{
    return 0;
}

int nn__backend_set_threads(int n)
{
    return n == 0;
}

int nn__backend_info(char *buf, size_t size)
{
    return snprintf(buf, size, "backend: CBLAS\nthreads: 0\n");
}

#endif
