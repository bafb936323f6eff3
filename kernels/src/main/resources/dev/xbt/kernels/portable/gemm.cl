/*
 * Batched GEMM with work-group tiles in local memory, the portable path of every backend:
 * C[p] = alpha * op(A[p]) * op(B[p]) + beta * C[p] for p = batchBase + GROUP_Z, op(X) = X or X^T,
 * A[p] at aOff + p * strideA (stride 0 shares one matrix). beta == 0 overwrites C (NaN included).
 *
 * Launch: local size (XBT_GEMM_WG, XBT_GEMM_WG), groups (ceil(n / XBT_GEMM_TN), ceil(m / XBT_GEMM_TM),
 * batches). Each work-item computes a 4 x 4 block of C, strided by XBT_GEMM_WG so that
 * neighbouring work-items touch neighbouring columns.
 */
#define XBT_GEMM_WG 16
#define XBT_GEMM_R 4
#define XBT_GEMM_TM (XBT_GEMM_WG * XBT_GEMM_R)
#define XBT_GEMM_TN (XBT_GEMM_WG * XBT_GEMM_R)
#define XBT_GEMM_TK 16
#define XBT_GEMM_PAD 4

KERNEL void xbt_gemm(int transA, int transB, int m, int n, int k, float alpha,
                     GLOBAL const float *a, int aOff, int strideA, GLOBAL const float *b, int bOff, int strideB,
                     float beta, GLOBAL float *c, int cOff, int strideC, int batchBase) {
    /* Rows padded by XBT_GEMM_PAD: the tile loads of a non-transposed A write down a column, which
     * would otherwise hit one local-memory bank (CUDA shared memory) 16 times. */
    LOCAL float as[XBT_GEMM_TK][XBT_GEMM_TM + XBT_GEMM_PAD];
    LOCAL float bs[XBT_GEMM_TK][XBT_GEMM_TN + XBT_GEMM_PAD];
    int p = batchBase + GROUP_Z;
    GLOBAL const float *ap = a + aOff + p * strideA;
    GLOBAL const float *bp = b + bOff + p * strideB;
    int tx = LID_X, ty = LID_Y, tid = ty * XBT_GEMM_WG + tx;
    int row0 = GROUP_Y * XBT_GEMM_TM, col0 = GROUP_X * XBT_GEMM_TN;
    float acc[XBT_GEMM_R][XBT_GEMM_R];
    for (int r = 0; r < XBT_GEMM_R; r++)
        for (int q = 0; q < XBT_GEMM_R; q++) acc[r][q] = 0.0f;

    for (int l0 = 0; l0 < k; l0 += XBT_GEMM_TK) {
        /* Tile loads, zero outside the matrices; consecutive work-items read consecutive addresses. */
        for (int e = tid; e < XBT_GEMM_TM * XBT_GEMM_TK; e += XBT_GEMM_WG * XBT_GEMM_WG) {
            int ii, ll;
            if (transA) { ii = e % XBT_GEMM_TM; ll = e / XBT_GEMM_TM; }
            else { ll = e % XBT_GEMM_TK; ii = e / XBT_GEMM_TK; }
            int gi = row0 + ii, gl = l0 + ll;
            as[ll][ii] = gi < m && gl < k ? ap[transA ? gl * m + gi : gi * k + gl] : 0.0f;
        }
        for (int e = tid; e < XBT_GEMM_TN * XBT_GEMM_TK; e += XBT_GEMM_WG * XBT_GEMM_WG) {
            int jj, ll;
            if (transB) { ll = e % XBT_GEMM_TK; jj = e / XBT_GEMM_TK; }
            else { jj = e % XBT_GEMM_TN; ll = e / XBT_GEMM_TN; }
            int gj = col0 + jj, gl = l0 + ll;
            bs[ll][jj] = gj < n && gl < k ? bp[transB ? gj * k + gl : gl * n + gj] : 0.0f;
        }
        BARRIER();
        for (int ll = 0; ll < XBT_GEMM_TK; ll++) {
            float av[XBT_GEMM_R], bv[XBT_GEMM_R];
            for (int r = 0; r < XBT_GEMM_R; r++) av[r] = as[ll][ty + r * XBT_GEMM_WG];
            for (int q = 0; q < XBT_GEMM_R; q++) bv[q] = bs[ll][tx + q * XBT_GEMM_WG];
            for (int r = 0; r < XBT_GEMM_R; r++)
                for (int q = 0; q < XBT_GEMM_R; q++) acc[r][q] += av[r] * bv[q];
        }
        BARRIER();
    }

    GLOBAL float *cp = c + cOff + p * strideC;
    for (int r = 0; r < XBT_GEMM_R; r++) {
        int i = row0 + ty + r * XBT_GEMM_WG;
        if (i >= m) continue;
        for (int q = 0; q < XBT_GEMM_R; q++) {
            int j = col0 + tx + q * XBT_GEMM_WG;
            if (j >= n) continue;
            float v = alpha * acc[r][q];
            cp[i * n + j] = beta == 0.0f ? v : v + beta * cp[i * n + j];
        }
    }
}
