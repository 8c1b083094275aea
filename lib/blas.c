/* SPDX-License-Identifier: MIT */
/*
 * The seam to CBLAS: the only file that includes <cblas.h>, so that another
 * GEMM (or a hand-written kernel for small shapes) can be swapped in here.
 */
#include <cblas.h>

#include "internal.h"

void nn__gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k,
              float alpha, const float *a, size_t lda, const float *b,
              size_t ldb, float beta, float *c, size_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}
