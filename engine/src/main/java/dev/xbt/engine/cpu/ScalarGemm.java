package dev.xbt.engine.cpu;

/**
 * Plain scalar GEMM, the reference the scalar backend and tests compare against: a triple loop with a
 * double accumulator, one batch after the other, no blocking and no threads. Same contract as
 * {@link VectorGemm#sgemm}.
 */
public final class ScalarGemm {
    private ScalarGemm() {}

    /** C[b] = alpha * op(A[b]) * op(B[b]) + beta * C[b]; see {@link VectorGemm#sgemm} for the layout. */
    public static void sgemmReference(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, long strideA, int lda, float[] b, int bOff, long strideB, int ldb,
            float beta, float[] c, int cOff, long strideC, int ldc) {
        if (batch < 0 || m < 0 || n < 0 || k < 0)
            throw new IllegalArgumentException("negative size: batch=" + batch + " m=" + m + " n=" + n + " k=" + k);
        for (int bb = 0; bb < batch; bb++) {
            long ab = aOff + bb * strideA, bbase = bOff + bb * strideB, cb = cOff + bb * strideC;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    if (alpha != 0f) {
                        for (int p = 0; p < k; p++) {
                            float av = a[Math.toIntExact(ab + (transA ? (long) p * lda + i : (long) i * lda + p))];
                            float bv = b[Math.toIntExact(bbase + (transB ? (long) j * ldb + p : (long) p * ldb + j))];
                            s += (double) av * bv;
                        }
                    }
                    int ci = Math.toIntExact(cb + (long) i * ldc + j);
                    double r = alpha * s;
                    if (beta != 0f) r += (double) beta * c[ci];
                    c[ci] = (float) r;
                }
            }
        }
    }
}
