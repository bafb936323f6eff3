package dev.xbt.engine.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Pins VectorGemm's rounding bit for bit against a plain sequential-FMA model of it, so that a faster
 * kernel, another blocking of M and N or another thread split cannot change a single result (trained
 * weights must re-create exactly). The model, per element of C:
 * <ul>
 * <li>tiny products (m*n*k <= SMALL_WORK): s = fma chain over p = 0..k-1 of a(i,p) * b(p,j) from 0;
 *     r = s * alpha; C = beta == 0 ? r : fma(C, beta, r);</li>
 * <li>packed products: a' = alpha == 1 ? a : alpha * a (rounded); acc = beta == 0 ? nothing : beta == 1 ?
 *     C : beta * C; per K block of KC: s = fma chain over the block from 0, then acc = s (first block,
 *     beta == 0) or s + acc; C = acc.</li>
 * </ul>
 */
class VectorGemmBitsTest {

    /** The model above for one product. */
    private static void model(boolean tA, boolean tB, int m, int n, int k, float alpha, float[] a, int ao, int lda,
            float[] b, int bo, int ldb, float beta, float[] c, int co, int ldc) {
        boolean tiny = (long) m * n * k <= VectorGemm.SMALL_WORK;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                int ci = co + i * ldc + j;
                if (tiny) {
                    float s = 0f;
                    for (int p = 0; p < k; p++) s = Math.fma(aAt(tA, a, ao, lda, i, p), bAt(tB, b, bo, ldb, p, j), s);
                    float r = s * alpha;
                    c[ci] = beta == 0f ? r : Math.fma(c[ci], beta, r);
                    continue;
                }
                boolean have = beta != 0f;
                float acc = beta == 1f ? c[ci] : have ? beta * c[ci] : 0f;
                for (int pc = 0; pc < k; pc += VectorGemm.KC) {
                    float s = 0f;
                    for (int p = pc, pe = Math.min(k, pc + VectorGemm.KC); p < pe; p++) {
                        float av = aAt(tA, a, ao, lda, i, p);
                        if (alpha != 1f) av = alpha * av;
                        s = Math.fma(av, bAt(tB, b, bo, ldb, p, j), s);
                    }
                    acc = have ? s + acc : s;
                    have = true;
                }
                c[ci] = acc;
            }
    }

    private static float aAt(boolean tA, float[] a, int ao, int lda, int i, int p) {
        return tA ? a[ao + p * lda + i] : a[ao + i * lda + p];
    }

    private static float bAt(boolean tB, float[] b, int bo, int ldb, int p, int j) {
        return tB ? b[bo + j * ldb + p] : b[bo + p * ldb + j];
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    /** Runs one (batched) case through VectorGemm and the model and compares every float of C bitwise. */
    private static void check(int batch, boolean tA, boolean tB, int m, int n, int k, float alpha, float beta,
            int pad, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int lda = (tA ? m : k) + pad, ldb = (tB ? k : n) + pad, ldc = n + pad;
        int aOff = pad, bOff = 2 * pad, cOff = 3 * pad;
        long strideA = (long) (tA ? k : m) * lda + pad, strideB = (long) (tB ? n : k) * ldb, strideC = (long) m * ldc + pad;
        float[] a = random(r, (int) (aOff + batch * strideA)), b = random(r, (int) (bOff + batch * strideB));
        float[] c = random(r, (int) (cOff + batch * strideC) + 5), want = c.clone();
        VectorGemm.sgemm(batch, tA, tB, m, n, k, alpha, a, aOff, strideA, lda, b, bOff, strideB, ldb, beta,
                c, cOff, strideC, ldc);
        for (int bb = 0; bb < batch; bb++)
            model(tA, tB, m, n, k, alpha, a, (int) (aOff + bb * strideA), lda, b, (int) (bOff + bb * strideB), ldb,
                    beta, want, (int) (cOff + bb * strideC), ldc);
        for (int x = 0; x < c.length; x++)
            if (Float.floatToRawIntBits(c[x]) != Float.floatToRawIntBits(want[x])) {
                int rel = (int) ((x - cOff) % strideC);
                fail("batch=" + batch + " tA=" + tA + " tB=" + tB + " m=" + m + " n=" + n + " k=" + k + " alpha=" + alpha
                        + " beta=" + beta + " pad=" + pad + ": C[" + (x - cOff) / strideC + "][" + rel / ldc + "][" + rel % ldc
                        + "] = " + c[x] + ", model " + want[x]);
            }
    }

    @Test
    void everyPathRoundsLikeTheSequentialFmaModel() {
        long seed = 1;
        int[][] shapes = {
            {5, 7, 9},                                  // tiny: direct loop
            {3, 17, 600},                               // tiny by work but k > KC: one chain over all k
            {13, 19, 257},                              // packed, single thread, K blocks of KC and 1
            {VectorGemm.MR + 1, 2 * VectorGemm.NR + 5, 256}, // exactly one K block, narrow last strip
            {37, VectorGemm.VL - 3, 300},               // only a narrow strip
            {100, 130, 513},                            // threaded, several tiles, 3 K blocks
            {2 * VectorGemm.MT + 11, VectorGemm.NC + 45, 90}, // tiles cut both ways
        };
        for (int[] s : shapes)
            for (int tr = 0; tr < 4; tr++)
                for (float[] ab : new float[][] {{1f, 0f}, {0.75f, 1f}, {-1.5f, -0.5f}})
                    check(1, (tr & 1) != 0, (tr & 2) != 0, s[0], s[1], s[2], ab[0], ab[1], tr == 3 ? 3 : 0, seed++);
    }

    @Test
    void batchesRoundLikeTheModel() {
        // Many small products (one per task) and a few big ones (each split over the threads).
        check(4 * Parallel.THREADS + 1, false, true, 21, 40, 64, 1f, 0f, 1, 7);
        check(4 * Parallel.THREADS + 1, true, false, 9, 77, 130, 0.5f, 1f, 0, 8);
        check(2, false, false, 120, 150, 270, 1f, 0.25f, 2, 9);
    }

    @Test
    void productsLargerThanThePackLimitRunAsSlabsWithTheSameBits() {
        // A of m x k over PACK_LIMIT floats: packed in slabs of rows.
        int k = 2 * VectorGemm.KC + 1, m = (int) (VectorGemm.PACK_LIMIT / k) + 40;
        check(1, false, false, m, 24, k, 1f, 0f, 0, 11);
        check(1, true, true, 24, m, k, 2f, 1f, 0, 12);
    }
}
