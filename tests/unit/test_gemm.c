/* SPDX-License-Identifier: MIT */
/*
 * The products' seam (lib/blas.c): nn__gemm, through the small-layer loops
 * or the backend built in (oneDNN or CBLAS), and nn__gemm_reference, the
 * backend's fallback, against the same product summed in double. Every
 * transposition, and shapes on both sides of the small-layer cut-over.
 * Tolerance: the standard bound of a float32 dot product of length k,
 * k * 2^-24 * sum |a_ip b_pj|.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "testutil.h"

#include "internal.h"

static float next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 40) / (double)(1ull << 24)) - 0.5f;
}

typedef void gemm_fn(int, int, size_t, size_t, size_t, const float *, size_t,
                     const float *, size_t, float *, size_t);

static void check(gemm_fn *gemm, int ta, int tb, size_t m, size_t n,
                  size_t k)
{
    uint64_t seed = m * 1000003u + n * 1009u + k;
    size_t lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 3;
    float *a = malloc((ta ? k : m) * lda * sizeof *a);
    float *b = malloc((tb ? n : k) * ldb * sizeof *b);
    float *c = malloc(m * ldc * sizeof *c);
    float *c0 = malloc(m * ldc * sizeof *c0);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(c0);
    for (size_t i = 0; i < (ta ? k : m) * lda; i++)
        a[i] = next(&seed);
    for (size_t i = 0; i < (tb ? n : k) * ldb; i++)
        b[i] = next(&seed);
    for (size_t i = 0; i < m * ldc; i++)
        c0[i] = c[i] = next(&seed);
    gemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double exact = 0.0, size = 0.0;
            for (size_t p = 0; p < k; p++) {
                double x = ta ? a[p * lda + i] : a[i * lda + p];
                double y = tb ? b[j * ldb + p] : b[p * ldb + j];
                exact += x * y;
                size += fabs(x * y);
            }
            double bound = (double)(k + 2) * 0x1p-24 * size + 1e-30;
            if (fabs(c[i * ldc + j] - exact) > bound)
                fail_msg("ta %d tb %d %zux%zux%zu: c[%zu][%zu] = %.9g, "
                         "exact %.9g", ta, tb, m, n, k, i, j, c[i * ldc + j],
                         exact);
        }
    /* the padding between rows is not written */
    for (size_t i = 0; i < m; i++)
        for (size_t j = n; j < ldc; j++)
            assert_true(c[i * ldc + j] == c0[i * ldc + j]);
    free(a);
    free(b);
    free(c);
    free(c0);
}

static void all_cases(gemm_fn *gemm)
{
    static const size_t shapes[][3] = {
        {3, 1, 2}, {2, 3, 4}, {64, 10, 128}, {128, 10, 64}, {1, 256, 784},
        {64, 256, 784}, {784, 256, 64}, {64, 784, 256}, {37, 23, 301},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int t = 0; t < 4; t++)
            check(gemm, t & 1, t >> 1, shapes[s][0], shapes[s][1],
                  shapes[s][2]);
}

static void test_gemm(void **state)
{
    (void)state;
    all_cases(nn__gemm);
}

static void test_gemm_reference(void **state)
{
    (void)state;
    all_cases(nn__gemm_reference);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_gemm_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
