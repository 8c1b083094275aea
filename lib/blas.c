/* SPDX-License-Identifier: MIT */
/*
 * The seam to the matrix-product backend. Products of small layers run in
 * the plain loops below, the others in the backend chosen at build time
 * (the option 'dnnl'): backend_dnnl.c (oneDNN) or backend_cblas.c (CBLAS),
 * the only files that include their library's headers.
 *
 * The loops exist because a library's fixed cost a call (argument checks,
 * workspace, kernel dispatch, packing) is more than the whole arithmetic of a product of the tutorial's 2-3-1 network.
 * The path is chosen by the size of the layer's weight matrix, never by the
 * batch, so that a sample's outputs do not depend on the batch it is
 * computed in (nn_predict's chunks give the bits of nn_forward). The
 * cut-over, SMALL_LAYER weights, was measured with bench/small_gemm.c
 * (docs/performance.md, "Small products").
 */
#include "internal.h"

/* Largest weight matrix (n_in x n_out entries) done by the loops below. */
#define SMALL_LAYER 8
/* Largest batch whose weight gradient (a sum over the batch) they do. */
#define SMALL_BATCH 32

/* The three products of libnn's passes (A B, A^T B and A B^T; A^T B^T
 * goes to the backend): C[i][j] = sum_p A(i, p) B(p, j), one dot product per entry,
 * summed from p = 0 up, written out for the depths 1 to 4 of tiny layers
 * (and tiny batches, for the weight gradients) so that no loop runs for
 * two or three terms. Scalar on purpose: at these sizes vector code spends
 * more on its set-up than on the arithmetic. */
#define SMALL_NEST(dot)                                                        \
    for (size_t j = 0; j < n; j++)                                             \
        for (size_t i = 0; i < m; i++)                                         \
            c[i * ldc + j] = (dot)

#define SMALL_GEMM(A, B)                                                       \
    switch (k) {                                                               \
    case 1:                                                                    \
        SMALL_NEST(A(0) * B(0));                                               \
        break;                                                                 \
    case 2:                                                                    \
        SMALL_NEST(A(0) * B(0) + A(1) * B(1));                                 \
        break;                                                                 \
    case 3:                                                                    \
        SMALL_NEST(A(0) * B(0) + A(1) * B(1) + A(2) * B(2));                   \
        break;                                                                 \
    case 4:                                                                    \
        SMALL_NEST(A(0) * B(0) + A(1) * B(1) + A(2) * B(2) + A(3) * B(3));     \
        break;                                                                 \
    default:                                                                   \
        for (size_t i = 0; i < m; i++)                                         \
            for (size_t j = 0; j < n; j++) {                                   \
                float s = 0.0f;                                                \
                for (size_t p = 0; p < k; p++)                                 \
                    s += A(p) * B(p);                                          \
                c[i * ldc + j] = s;                                            \
            }                                                                  \
        break;                                                                 \
    }

static void small_nn(size_t m, size_t n, size_t k, const float *restrict a,
                     size_t lda, const float *restrict b, size_t ldb,
                     float *restrict c, size_t ldc)
{
#define A_NN(p) a[i * lda + (p)]
#define B_NN(p) b[(p) * ldb + j]
    SMALL_GEMM(A_NN, B_NN)
}

static void small_tn(size_t m, size_t n, size_t k, const float *restrict a,
                     size_t lda, const float *restrict b, size_t ldb,
                     float *restrict c, size_t ldc)
{
#define A_TN(p) a[(p) * lda + i]
    SMALL_GEMM(A_TN, B_NN)
}

static void small_nt(size_t m, size_t n, size_t k, const float *restrict a,
                     size_t lda, const float *restrict b, size_t ldb,
                     float *restrict c, size_t ldc)
{
#define B_NT(p) b[j * ldb + (p)]
    SMALL_GEMM(A_NN, B_NT)
}
#undef A_NN
#undef B_NN
#undef A_TN
#undef B_NT

/* GCC would vectorise the loops above across i or j (the small_* functions
 * inline here); keep them scalar. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-vectorize")))
#endif
void nn__gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
              const float *a, size_t lda, const float *b, size_t ldb,
              float *c, size_t ldc)
{
    /* libnn's products have the batch as m when A is not transposed
     * (z = a W, delta W^T: the weights are B, k x n or n x k) and as k when
     * it is (dW = a^T delta: the weights are C, m x n). */
    size_t weights = trans_a ? m * n : n * k;
    /* The weight gradient sums over the batch: its path may depend on it. */
    int small = weights <= SMALL_LAYER && (!trans_a || k <= SMALL_BATCH);
    if (small && !(trans_a && trans_b)) {
        if (trans_a)
            small_tn(m, n, k, a, lda, b, ldb, c, ldc);
        else if (trans_b)
            small_nt(m, n, k, a, lda, b, ldb, c, ldc);
        else
            small_nn(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    nn__backend_gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
}

/* The plain product, for a backend that could not run one (oneDNN when its
 * workspace cannot be allocated): slow, but never a wrong result. */
void nn__gemm_reference(int trans_a, int trans_b, size_t m, size_t n,
                        size_t k, const float *a, size_t lda, const float *b,
                        size_t ldb, float *c, size_t ldc)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float s = 0.0f;
            for (size_t p = 0; p < k; p++)
                s += (trans_a ? a[p * lda + i] : a[i * lda + p]) *
                     (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
            c[i * ldc + j] = s;
        }
}
