/* SPDX-License-Identifier: MIT */
/*
 * The product of the inference passes, z = a W (row-major, W of k x n),
 * computed so that a row's outputs do not depend on the other rows of the
 * call: every output is one accumulator summed over p = 0, 1, ..., k-1, in
 * that order, with a separate multiply and add (no contraction; see
 * vectorize.h). Blocking over rows and columns only decides which outputs
 * are computed together, never how one is computed, so a sample gets the
 * same bits alone, in any batch and at any position, whatever the BLAS
 * (nn.h, "Batch invariance"). A BLAS gives no such promise: it picks its
 * kernels, blocking and threads from the shape of the whole product.
 *
 * On a CPU with AVX-512 (chosen at run time), blocks of 12 rows x 32
 * columns keep 24 of its 32 vector registers as accumulators, so that a
 * row of W loaded once serves 12 samples (a part's last rows take blocks
 * of 8, then of 4), and the columns past the last such block (all of a
 * thin output layer's) take one 16-lane vector a row with the lanes past
 * the matrix masked off; the sums are the same, so the bits do not depend
 * on the CPU either. With AVX2 alone, blocks of 6 rows x 16 columns keep
 * 12 of its 16 registers as accumulators. Otherwise, or for what is left,
 * blocks of 4 rows x 16 columns keep 8 vector accumulators in registers
 * while a row of W is loaded once for 4 samples; columns past the last
 * whole block take the same sums one lane at a time, and rows past the
 * last whole block (a call of one sample) stream W row by row.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(NN_HAVE_TARGET_CLONES)
#include <immintrin.h>
#endif

#include "internal.h"
#include "vectorize.h"

/* The widest of these kernels this process runs: the CPU's best, or less
 * when the environment variable NN_MAX_ISA names a narrower one
 * ("avx2", "baseline"), so that every tier can be tested and timed on
 * one machine. Decided once: every call of a process takes the same
 * kernels (the bits do not depend on them, but the speed does). */
enum { TIER_BASELINE, TIER_AVX2, TIER_AVX512, TIER_UNKNOWN = -1 };

static int best_tier(void)
{
#if defined(NN_HAVE_TARGET_CLONES)
    if (__builtin_cpu_supports("avx512f"))
        return TIER_AVX512;
    if (__builtin_cpu_supports("avx2"))
        return TIER_AVX2;
#endif
    return TIER_BASELINE;
}

static int tier(void)
{
    static atomic_int chosen = TIER_UNKNOWN;
    int t = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (t != TIER_UNKNOWN)
        return t;
    t = best_tier();
    const char *cap = getenv("NN_MAX_ISA");
    if (cap && strcmp(cap, "avx2") == 0 && t > TIER_AVX2)
        t = TIER_AVX2;
    else if (cap && strcmp(cap, "baseline") == 0)
        t = TIER_BASELINE;
    atomic_store_explicit(&chosen, t, memory_order_relaxed);
    return t;
}

const char *nn__inference_kernels(void)
{
    static const char *const names[] = {"baseline (4 x 16 blocks)",
                                        "avx2 (6 x 16 blocks)",
                                        "avx512 (12 x 32 blocks)"};
    return names[tier()];
}

#define BLOCK_ROWS 4
#define BLOCK_COLS 16
/* Rows of the AVX2 blocks: 12 accumulators of AVX2's 16 registers. */
#define AVX2_ROWS 6

typedef float vec8 __attribute__((vector_size(32)));

/* rows (<= AVX2_ROWS) x BLOCK_COLS outputs. Inlined with `rows`
 * constant, so that the accumulators live in registers. */
__attribute__((always_inline)) static inline void
block(size_t rows, size_t k, const float *a, size_t lda, const float *w,
      size_t ldw, float *z, size_t ldz)
{
    vec8 acc[AVX2_ROWS][2] = {{{0}}};
    for (size_t p = 0; p < k; p++) {
        vec8 w0, w1;
        memcpy(&w0, w + p * ldw, sizeof w0); /* unaligned loads */
        memcpy(&w1, w + p * ldw + 8, sizeof w1);
        for (size_t r = 0; r < rows; r++) {
            float ar = a[r * lda + p];
            acc[r][0] += ar * w0;
            acc[r][1] += ar * w1;
        }
    }
    for (size_t r = 0; r < rows; r++) {
        memcpy(z + r * ldz, &acc[r][0], sizeof acc[r][0]);
        memcpy(z + r * ldz + 8, &acc[r][1], sizeof acc[r][1]);
    }
}

/* rows (<= AVX2_ROWS) x cols (< BLOCK_COLS) outputs, the same sums. */
__attribute__((always_inline)) static inline void
narrow_block(size_t rows, size_t cols, size_t k, const float *a, size_t lda,
             const float *w, size_t ldw, float *z, size_t ldz)
{
    float acc[AVX2_ROWS][BLOCK_COLS] = {{0}};
    for (size_t p = 0; p < k; p++)
        for (size_t r = 0; r < rows; r++) {
            float ar = a[r * lda + p];
            for (size_t c = 0; c < cols; c++)
                acc[r][c] += ar * w[p * ldw + c];
        }
    for (size_t r = 0; r < rows; r++)
        memcpy(z + r * ldz, acc[r], cols * sizeof(float));
}

/* One row alone (the rows past the last whole block; a call of one
 * sample): its outputs accumulate in z, W streamed a row at a time, in
 * order, instead of a strip of W a block of columns, which a lone row
 * would fetch from cache for one multiply each. The same sums: each output
 * starts at 0 and adds a[p] w[p][j] for p = 0, 1, ..., k-1. */
static inline void lone_row(size_t n, size_t k, const float *restrict a,
                            const float *restrict w, size_t ldw,
                            float *restrict z)
{
    for (size_t j = 0; j < n; j++)
        z[j] = 0.0f;
    for (size_t p = 0; p < k; p++) {
        float ap = a[p];
        const float *wp = w + p * ldw;
        for (size_t j = 0; j < n; j++)
            z[j] += ap * wp[j];
    }
}

#if defined(NN_HAVE_TARGET_CLONES)
#define WIDE_ROWS 12
#define WIDE_COLS 32
typedef float vec16 __attribute__((vector_size(64)));

/* rows x WIDE_COLS outputs, rows <= WIDE_ROWS, with AVX-512's 32
 * registers: 2 accumulators a row, each row of W loaded once for all the
 * rows. Inlined with `rows` constant, so that the accumulators live in
 * registers. The same sums. */
__attribute__((target("avx512f"), always_inline)) static inline void
wide_block_of(size_t rows, size_t k, const float *a, size_t lda,
              const float *w, size_t ldw, float *z, size_t ldz)
{
    vec16 acc[WIDE_ROWS][2] = {{{0}}};
    for (size_t p = 0; p < k; p++) {
        vec16 w0, w1;
        memcpy(&w0, w + p * ldw, sizeof w0);
        memcpy(&w1, w + p * ldw + 16, sizeof w1);
        for (size_t r = 0; r < rows; r++) {
            float ar = a[r * lda + p];
            acc[r][0] += ar * w0;
            acc[r][1] += ar * w1;
        }
    }
    for (size_t r = 0; r < rows; r++) {
        memcpy(z + r * ldz, &acc[r][0], sizeof acc[r][0]);
        memcpy(z + r * ldz + 16, &acc[r][1], sizeof acc[r][1]);
    }
}

/* rows x cols outputs, rows <= WIDE_ROWS, cols <= WIDE_COLS / 2 (the
 * columns past the last whole block; a thin output layer is all of them):
 * one vector a row, its lanes past `cols` masked off, so that the loads
 * read nothing past a row of W. Inlined with `rows` constant, like
 * wide_block_of. The same sums. */
__attribute__((target("avx512f"), always_inline)) static inline void
wide_narrow_block(size_t rows, size_t cols, size_t k, const float *a,
                  size_t lda, const float *w, size_t ldw, float *z,
                  size_t ldz)
{
    __mmask16 lanes = (__mmask16)((1u << cols) - 1u);
    __m512 acc[WIDE_ROWS];
    for (size_t r = 0; r < rows; r++)
        acc[r] = _mm512_setzero_ps();
    for (size_t p = 0; p < k; p++) {
        __m512 wp = _mm512_maskz_loadu_ps(lanes, w + p * ldw);
        for (size_t r = 0; r < rows; r++)
            acc[r] = _mm512_add_ps(
                acc[r], _mm512_mul_ps(_mm512_set1_ps(a[r * lda + p]), wp));
    }
    for (size_t r = 0; r < rows; r++)
        _mm512_mask_storeu_ps(z + r * ldz, lanes, acc[r]);
}

/* One block of `rows` rows, all its columns: whole WIDE_COLS-column
 * blocks, then what is left 16 columns at a time, the last of them
 * masked. */
__attribute__((target("avx512f"), always_inline)) static inline void
wide_row_block(size_t rows, size_t n, size_t k, const float *a, size_t lda,
               const float *w, size_t ldw, float *z, size_t ldz)
{
    size_t j = 0;
    for (; j + WIDE_COLS <= n; j += WIDE_COLS)
        wide_block_of(rows, k, a, lda, w + j, ldw, z + j, ldz);
    for (; j < n; j += WIDE_COLS / 2) {
        size_t cols = n - j < WIDE_COLS / 2 ? n - j : WIDE_COLS / 2;
        wide_narrow_block(rows, cols, k, a, lda, w + j, ldw, z + j, ldz);
    }
}

/* Blocks of 12 rows keep 24 accumulators and load W once for 12 samples:
 * on a core with separate multiply and add pipes, near its peak, where 8
 * rows (16 accumulators) reach about 90% of it. A part's last rows take
 * blocks of 8, then of 4. */
__attribute__((target("avx512f"))) static void
wide_row_block_12(size_t n, size_t k, const float *a, size_t lda,
                  const float *w, size_t ldw, float *z, size_t ldz)
{
    wide_row_block(WIDE_ROWS, n, k, a, lda, w, ldw, z, ldz);
}

__attribute__((target("avx512f"))) static void
wide_row_block_8(size_t n, size_t k, const float *a, size_t lda,
                 const float *w, size_t ldw, float *z, size_t ldz)
{
    wide_row_block(8, n, k, a, lda, w, ldw, z, ldz);
}

__attribute__((target("avx512f"))) static void
wide_row_block_4(size_t n, size_t k, const float *a, size_t lda,
                 const float *w, size_t ldw, float *z, size_t ldz)
{
    wide_row_block(4, n, k, a, lda, w, ldw, z, ldz);
}

/* The rows of the product in blocks of WIDE_ROWS, then of 8 and of 4
 * while that many are left, when the CPU has AVX-512; returns the rows
 * done (all their columns). Fewer than 4 rows (a call of one sample) are
 * left to lone_row. */
static size_t wide_rows(size_t m, size_t n, size_t k, const float *a,
                        size_t lda, const float *w, size_t ldw, float *z,
                        size_t ldz)
{
    if (m < 4 || tier() < TIER_AVX512)
        return 0;
    size_t i = 0;
    for (; m - i >= WIDE_ROWS; i += WIDE_ROWS)
        wide_row_block_12(n, k, a + i * lda, lda, w, ldw, z + i * ldz, ldz);
    if (m - i >= 8) {
        wide_row_block_8(n, k, a + i * lda, lda, w, ldw, z + i * ldz, ldz);
        i += 8;
    }
    if (m - i >= 4) {
        wide_row_block_4(n, k, a + i * lda, lda, w, ldw, z + i * ldz, ldz);
        i += 4;
    }
    return i;
}

/* With AVX2 (chosen at run time), blocks of AVX2_ROWS rows: each row of W
 * loaded once for 6 samples instead of 4. Not in the baseline clone,
 * whose 16 SSE registers would hold only half of the accumulators. */
__attribute__((target("avx2"))) static void
avx2_block(size_t k, const float *a, size_t lda, const float *w, size_t ldw,
           float *z, size_t ldz)
{
    block(AVX2_ROWS, k, a, lda, w, ldw, z, ldz);
}

__attribute__((target("avx2"))) static void
avx2_narrow_block(size_t cols, size_t k, const float *a, size_t lda,
                  const float *w, size_t ldw, float *z, size_t ldz)
{
    narrow_block(AVX2_ROWS, cols, k, a, lda, w, ldw, z, ldz);
}

/* The rows of the product in blocks of AVX2_ROWS, when the CPU has AVX2;
 * returns the rows done (all their columns). */
static size_t avx2_rows(size_t m, size_t n, size_t k, const float *a,
                        size_t lda, const float *w, size_t ldw, float *z,
                        size_t ldz)
{
    if (m < AVX2_ROWS || tier() < TIER_AVX2)
        return 0;
    size_t i = 0;
    for (; i + AVX2_ROWS <= m; i += AVX2_ROWS) {
        const float *ai = a + i * lda;
        float *zi = z + i * ldz;
        size_t j = 0;
        for (; j + BLOCK_COLS <= n; j += BLOCK_COLS)
            avx2_block(k, ai, lda, w + j, ldw, zi + j, ldz);
        if (j < n)
            avx2_narrow_block(n - j, k, ai, lda, w + j, ldw, zi + j, ldz);
    }
    return i;
}

/* The rows the widest kernels the process may run take (all their
 * columns): AVX-512 blocks, then AVX2 ones for what is left; returns how
 * many, the first ones. */
static size_t vector_rows(size_t m, size_t n, size_t k, const float *a,
                          size_t lda, const float *w, size_t ldw, float *z,
                          size_t ldz)
{
    size_t done = wide_rows(m, n, k, a, lda, w, ldw, z, ldz);
    return done + avx2_rows(m - done, n, k, a + done * lda, lda, w, ldw,
                            z + done * ldz, ldz);
}
#else
static size_t vector_rows(size_t m, size_t n, size_t k, const float *a,
                          size_t lda, const float *w, size_t ldw, float *z,
                          size_t ldz)
{
    (void)m, (void)n, (void)k, (void)a, (void)lda, (void)w, (void)ldw;
    (void)z, (void)ldz;
    return 0;
}
#endif

/* On the calling thread: nn__infer splits a pass between the threads by
 * rows, each part taking its rows through every layer. */
NN__VECTORIZE void nn__gemm_rows(size_t m, size_t n, size_t k,
                                 const float *a, size_t lda, const float *w,
                                 size_t ldw, float *z, size_t ldz)
{
    size_t done = vector_rows(m, n, k, a, lda, w, ldw, z, ldz);
    for (size_t i = done; i < m; i += BLOCK_ROWS) {
        size_t rows = m - i < BLOCK_ROWS ? m - i : BLOCK_ROWS;
        const float *ai = a + i * lda;
        float *zi = z + i * ldz;
        if (rows < BLOCK_ROWS) {
            for (size_t r = 0; r < rows; r++)
                lone_row(n, k, ai + r * lda, w, ldw, zi + r * ldz);
            break;
        }
        size_t j = 0;
        for (; j + BLOCK_COLS <= n; j += BLOCK_COLS)
            block(BLOCK_ROWS, k, ai, lda, w + j, ldw, zi + j, ldz);
        if (j < n)
            narrow_block(BLOCK_ROWS, n - j, k, ai, lda, w + j, ldw, zi + j, ldz);
    }
}
