/* SPDX-License-Identifier: MIT */
/*
 * The oneDNN backend (meson option 'dnnl', the default when oneDNN is
 * found): the only file that includes oneDNN's headers, so that moving to
 * another oneDNN API (3.x dropped much of 2.x's C API) touches nothing
 * else.
 *
 * The products go through dnnl_sgemm: oneDNN picks its kernels from the
 * CPU's feature bits (not from a table of known models, so a CPU newer
 * than the library still gets its best instruction set), generates them
 * on first use of a shape class (once, part of warm-up) and
 * keeps them for the life of the process. dnnl_sgemm is row-major, like
 * libnn's matrices. Its workspace is oneDNN's own business, as OpenBLAS's
 * buffers are in the CBLAS backend.
 *
 * Threads: oneDNN runs its products on an OpenMP team of
 * omp_get_max_threads() threads of the calling thread. NN_OPT_THREADS is
 * process-wide, so it is kept here and applied to whichever thread calls a
 * product, restoring that thread's own count when it goes back to 0.
 * OpenBLAS is not linked in this backend: its pthreads and an OpenMP team
 * spinning in one process fight for the cores and make every step several
 * times slower. libnn's own long passes (nn__parallel_for) run on the same
 * team, with the same count.
 */
#include <stdatomic.h>
#include <stdio.h>

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include "internal.h"

/* NN_OPT_THREADS; 0: OpenMP's default (OMP_NUM_THREADS, else one a core). */
static atomic_int wanted_threads;
/* The calling thread's own OpenMP count, saved when libnn changed it;
 * 0 when libnn has not. */
static _Thread_local int own_threads;

static void apply_threads(void)
{
    int n = atomic_load_explicit(&wanted_threads, memory_order_relaxed);
    if (n == 0) {
        if (own_threads > 0) {
            omp_set_num_threads(own_threads);
            own_threads = 0;
        }
        return;
    }
    int current = omp_get_max_threads();
    if (current != n) {
        if (own_threads == 0)
            own_threads = current;
        omp_set_num_threads(n);
    }
}

void nn__backend_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
                      const float *a, size_t lda, const float *b, size_t ldb,
                      float *c, size_t ldc)
{
    apply_threads();
    dnnl_status_t status = dnnl_sgemm(
        trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', (dnnl_dim_t)m,
        (dnnl_dim_t)n, (dnnl_dim_t)k, 1.0f, a, (dnnl_dim_t)lda, b,
        (dnnl_dim_t)ldb, 0.0f, c, (dnnl_dim_t)ldc);
    /* Only when its workspace could not be allocated: slow but right. */
    if (status != dnnl_success)
        nn__gemm_reference(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
}

int nn__backend_threads(void)
{
    int n = atomic_load_explicit(&wanted_threads, memory_order_relaxed);
    return n > 0 ? n : (own_threads > 0 ? own_threads : omp_get_max_threads());
}

int nn__backend_set_threads(int n)
{
    atomic_store_explicit(&wanted_threads, n, memory_order_relaxed);
    apply_threads();
    return 1;
}

/* Part `id` of `count` of n items, in whole blocks but for the last. */
static void share(size_t n, size_t id, size_t count, size_t *lo, size_t *hi)
{
    size_t blocks = (n + NN__PARALLEL_BLOCK - 1) / NN__PARALLEL_BLOCK;
    size_t first = blocks * id / count, last = blocks * (id + 1) / count;
    *lo = first * NN__PARALLEL_BLOCK < n ? first * NN__PARALLEL_BLOCK : n;
    *hi = last * NN__PARALLEL_BLOCK < n ? last * NN__PARALLEL_BLOCK : n;
}

void nn__backend_parallel_for(size_t n, nn__range_fn fn, void *ctx)
{
    /* Already a part of a pass (a part's own check, say): it runs whole on
     * its thread, as a product called there does in oneDNN. */
    if (omp_in_parallel()) {
        fn(ctx, 0, n);
        return;
    }
    apply_threads();
    int threads = omp_get_max_threads();
    if (threads <= 1) {
        fn(ctx, 0, n);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        size_t lo, hi;
        share(n, (size_t)omp_get_thread_num(), (size_t)omp_get_num_threads(),
              &lo, &hi);
        if (hi > lo)
            fn(ctx, lo, hi);
    }
}

static const char *isa_name(dnnl_cpu_isa_t isa)
{
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

int nn__backend_info(char *buf, size_t size)
{
    const dnnl_version_t *v = dnnl_version();
    return snprintf(buf, size,
                    "backend: oneDNN %d.%d.%d (OpenMP)\n"
                    "kernels: %s\n"
                    "threads: %d\n",
                    v->major, v->minor, v->patch,
                    isa_name(dnnl_get_effective_cpu_isa()),
                    nn__backend_threads());
}
