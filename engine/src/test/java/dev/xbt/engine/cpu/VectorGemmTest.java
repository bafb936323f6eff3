package dev.xbt.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

/** VectorGemm against EJML (double precision) as an independent oracle. */
class VectorGemmTest {
    private static final int[] SIZES = {1, 3, 17, 50, 77, 129, 255, 513};

    /** One problem: layout, scalars and data; {@link #check} runs it and compares every batch with EJML. */
    private record Case(int batch, boolean tA, boolean tB, int m, int n, int k, float alpha, float beta,
            int aOff, long strideA, int lda, int bOff, long strideB, int ldb, int cOff, long strideC, int ldc) {
        static Case plain(int batch, boolean tA, boolean tB, int m, int n, int k, float alpha, float beta) {
            int lda = tA ? m : k, ldb = tB ? k : n;
            return new Case(batch, tA, tB, m, n, k, alpha, beta, 0, (long) m * k, lda, 0, (long) k * n, ldb,
                    0, (long) m * n, n);
        }

        int aRows() { return tA ? k : m; }
        int aCols() { return tA ? m : k; }
        int bRows() { return tB ? n : k; }
        int bCols() { return tB ? k : n; }

        static int length(int off, long stride, int batch, int rows, int ld) {
            return (int) (off + (batch - 1) * stride + (long) rows * ld) + 3;
        }

        @Override
        public String toString() {
            return "batch=" + batch + " tA=" + tA + " tB=" + tB + " m=" + m + " n=" + n + " k=" + k + " alpha=" + alpha
                    + " beta=" + beta + " offs=" + aOff + "/" + bOff + "/" + cOff + " strides=" + strideA + "/"
                    + strideB + "/" + strideC + " ld=" + lda + "/" + ldb + "/" + ldc;
        }
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    private static DMatrixRMaj stored(float[] x, int off, int rows, int cols, int ld, boolean abs) {
        DMatrixRMaj d = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) {
                double v = x[off + i * ld + j];
                d.unsafe_set(i, j, abs ? Math.abs(v) : v);
            }
        return d;
    }

    /** out = op(A) * op(B) through EJML's own transpose variants. */
    private static void ejmlMult(boolean tA, boolean tB, DMatrixRMaj a, DMatrixRMaj b, DMatrixRMaj out) {
        if (!tA && !tB) CommonOps_DDRM.mult(a, b, out);
        else if (tA && !tB) CommonOps_DDRM.multTransA(a, b, out);
        else if (!tA) CommonOps_DDRM.multTransB(a, b, out);
        else CommonOps_DDRM.multTransAB(a, b, out);
    }

    /** Runs the case on random data (C pre-filled with NaN when beta == 0) and checks it against EJML. */
    private static float[] check(Case t, long seed) {
        return check(t, seed, true);
    }

    private static float[] check(Case t, long seed, boolean verify) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = random(r, Case.length(t.aOff, t.strideA, t.batch, t.aRows(), t.lda));
        float[] b = random(r, Case.length(t.bOff, t.strideB, t.batch, t.bRows(), t.ldb));
        float[] c = random(r, Case.length(t.cOff, t.strideC, t.batch, t.m, t.ldc));
        if (t.beta == 0f) Arrays.fill(c, Float.NaN);
        float[] c0 = c.clone();
        VectorGemm.sgemm(t.batch, t.tA, t.tB, t.m, t.n, t.k, t.alpha, a, t.aOff, t.strideA, t.lda,
                b, t.bOff, t.strideB, t.ldb, t.beta, c, t.cOff, t.strideC, t.ldc);
        if (!verify) return c;

        boolean[] written = new boolean[c.length];
        DMatrixRMaj prod = new DMatrixRMaj(t.m, t.n), mag = new DMatrixRMaj(t.m, t.n);
        for (int bb = 0; bb < t.batch; bb++) {
            int ao = (int) (t.aOff + bb * t.strideA), bo = (int) (t.bOff + bb * t.strideB);
            int co = (int) (t.cOff + bb * t.strideC);
            if (t.k > 0) {
                ejmlMult(t.tA, t.tB, stored(a, ao, t.aRows(), t.aCols(), t.lda, false),
                        stored(b, bo, t.bRows(), t.bCols(), t.ldb, false), prod);
                ejmlMult(t.tA, t.tB, stored(a, ao, t.aRows(), t.aCols(), t.lda, true),
                        stored(b, bo, t.bRows(), t.bCols(), t.ldb, true), mag);
            } else {
                prod.zero();
                mag.zero();
            }
            for (int i = 0; i < t.m; i++)
                for (int j = 0; j < t.n; j++) {
                    int ci = co + i * t.ldc + j;
                    double old = t.beta == 0f ? 0 : c0[ci];
                    double want = t.alpha * prod.get(i, j) + t.beta * old;
                    double tol = 1e-5 * (Math.abs(t.alpha) * mag.get(i, j) + Math.abs(t.beta * old)) + 1e-30;
                    double got = c[ci];
                    if (!(Math.abs(got - want) <= tol))
                        fail(t + ": C[" + bb + "](" + i + "," + j + ") = " + got + ", want " + want + " +- " + tol);
                    written[ci] = true;
                }
        }
        for (int i = 0; i < c.length; i++)
            if (!written[i] && Float.floatToRawIntBits(c[i]) != Float.floatToRawIntBits(c0[i]))
                fail(t + ": wrote outside C at index " + i);
        return c;
    }

    @Test
    void allTransposesOverAwkwardShapes() {
        SplittableRandom r = new SplittableRandom(42);
        List<int[]> shapes = new ArrayList<>(List.of(
                new int[] {1, 1, 1}, new int[] {1, 17, 3}, new int[] {3, 1, 17}, new int[] {17, 3, 1},
                new int[] {50, 50, 64}, new int[] {77, 77, 64}, new int[] {77, 64, 77}, new int[] {129, 255, 17},
                new int[] {255, 129, 513}, new int[] {513, 77, 129}, new int[] {1, 513, 255}, new int[] {513, 1, 255},
                new int[] {255, 513, 1}, new int[] {8, 32, 256}, new int[] {16, 33, 300}, new int[] {17, 50, 129},
                new int[] {200, 3100, 20}, new int[] {9, 48, 77}, new int[] {513, 513, 50},
                // Packed operands over VectorGemm.PACK_LIMIT: row slabs, column slabs.
                new int[] {8200, 3, 513}, new int[] {3, 8200, 513}));
        for (int i = 0; i < 12; i++) // random picks among the awkward sizes, capped in work
            while (true) {
                int m = SIZES[r.nextInt(SIZES.length)], n = SIZES[r.nextInt(SIZES.length)],
                        k = SIZES[r.nextInt(SIZES.length)];
                if ((long) m * n * k <= 20_000_000L) {
                    shapes.add(new int[] {m, n, k});
                    break;
                }
            }
        long seed = 1;
        for (int[] s : shapes)
            for (int tr = 0; tr < 4; tr++)
                check(Case.plain(1, (tr & 1) != 0, (tr & 2) != 0, s[0], s[1], s[2], 1f, 0f), seed++);
    }

    @Test
    void alphaAndBeta() {
        float[][] ab = {{1f, 1f}, {0.5f, 0f}, {-1.5f, 0.25f}, {2f, -1f}, {1f, 3f}};
        int[][] shapes = {{17, 50, 3}, {77, 77, 64}, {129, 255, 300}, {255, 50, 513}};
        long seed = 100;
        for (float[] x : ab)
            for (int[] s : shapes)
                for (int tr = 0; tr < 4; tr++)
                    check(Case.plain(1, (tr & 1) != 0, (tr & 2) != 0, s[0], s[1], s[2], x[0], x[1]), seed++);
    }

    @Test
    void zeroAlphaOrEmptyKScalesC() {
        for (int[] s : new int[][] {{3, 5, 0}, {77, 129, 0}, {17, 17, 17}}) {
            check(Case.plain(2, false, false, s[0], s[1], s[2], 0f, 0.5f), 7);
            check(Case.plain(2, true, true, s[0], s[1], s[2], s[2] == 0 ? 1f : 0f, 0f), 8);
        }
        // k == 0 with beta == 0 writes zeros over NaN; A and B may be empty arrays.
        float[] c = new float[6];
        Arrays.fill(c, Float.NaN);
        VectorGemm.sgemm(1, false, false, 2, 3, 0, 1f, new float[0], 0, 0, 1, new float[0], 0, 0, 3, 0f, c, 0, 0, 3);
        assertArrayEquals(new float[6], c);
    }

    @Test
    void batchedSharedOperandsOffsetsAndPaddedStrides() {
        long seed = 200;
        int[][] shapes = {{50, 50, 64}, {77, 77, 64}, {77, 64, 77}, {3, 17, 5}, {129, 255, 129}, {17, 513, 33}};
        for (int[] s : shapes)
            for (int tr = 0; tr < 4; tr++) {
                boolean tA = (tr & 1) != 0, tB = (tr & 2) != 0;
                int m = s[0], n = s[1], k = s[2];
                int lda = (tA ? m : k) + 5, ldb = (tB ? k : n) + 3, ldc = n + 7;
                int aRows = tA ? k : m, bRows = tB ? n : k;
                // A shared by every batch (stride 0), B and C with gaps between batches.
                check(new Case(5, tA, tB, m, n, k, 1.25f, 0.5f, 11, 0, lda, 6, (long) bRows * ldb + 9, ldb,
                        13, (long) m * ldc + 2, ldc), seed++);
                // B shared, beta == 0 over NaN, unit-stride-free offsets.
                check(new Case(3, tA, tB, m, n, k, 1f, 0f, 4, (long) aRows * lda + 1, lda, 2, 0, ldb,
                        1, (long) m * ldc, ldc), seed++);
            }
        // The attention shapes: many heads, parallel over the batch.
        for (int tr = 0; tr < 4; tr++)
            check(Case.plain(96, (tr & 1) != 0, (tr & 2) != 0, 77, 77, 64, 0.125f, 0f), seed++);
        check(Case.plain(96, false, false, 50, 64, 50, 1f, 1f), seed++);
        // Small enough per product to run one product per thread, wide enough to cross the NC block.
        for (int tr = 0; tr < 4; tr++)
            check(Case.plain(2, (tr & 1) != 0, (tr & 2) != 0, 9, VectorGemm.NC + 77, 20, 1f, 0.5f), seed++);
    }

    @Test
    void deterministicBitsAndIndependentOfThreadSplit() {
        for (int tr = 0; tr < 4; tr++) {
            boolean tA = (tr & 1) != 0, tB = (tr & 2) != 0;
            int m = 300, n = 270, k = 530;
            Case one = Case.plain(1, tA, tB, m, n, k, 1f, 0f);
            float[] c1 = check(one, 99), c2 = check(one, 99, false);
            assertArrayEquals(c1, c2, "same bits twice");
            // Same matrices in a batch large enough to be split over the batch (one thread per product):
            // every element must come out bit-identical to the product split over the threads.
            int batch = 4 * Parallel.THREADS;
            SplittableRandom r = new SplittableRandom(99);
            float[] a = random(r, Case.length(0, (long) m * k, 1, tA ? k : m, tA ? m : k));
            float[] b = random(r, Case.length(0, (long) k * n, 1, tB ? n : k, tB ? k : n));
            float[] c = new float[batch * m * n];
            VectorGemm.sgemm(batch, tA, tB, m, n, k, 1f, a, 0, 0, tA ? m : k, b, 0, 0, tB ? k : n, 0f, c, 0,
                    (long) m * n, n);
            for (int bb = 0; bb < batch; bb++)
                assertArrayEquals(Arrays.copyOf(c1, m * n), Arrays.copyOfRange(c, bb * m * n, (bb + 1) * m * n),
                        "batch " + bb + " differs from the unbatched product");
        }
    }

    @Test
    void sharedOutputAccumulatesEveryProductInOrder() {
        // strideC == 0, beta == 1: C += sum over the batch, e.g. a weight gradient summed over examples.
        SplittableRandom r = new SplittableRandom(11);
        for (int[] s : new int[][] {{17, 50, 33}, {129, 77, 300}}) {
            int m = s[0], n = s[1], k = s[2], batch = 9;
            float[] a = random(r, batch * m * k), b = random(r, batch * k * n), c = random(r, m * n), want = c.clone();
            VectorGemm.sgemm(batch, true, false, m, n, k, 1f, a, 0, (long) m * k, m, b, 0, (long) k * n, n, 1f, c, 0, 0, n);
            ScalarGemm.sgemmReference(batch, true, false, m, n, k, 1f, a, 0, (long) m * k, m, b, 0, (long) k * n, n, 1f,
                    want, 0, 0, n);
            for (int i = 0; i < c.length; i++) assertEquals(want[i], c[i], 1e-3f * (1 + Math.abs(want[i])), "at " + i);
        }
    }

    @Test
    void scalarReferenceAgreesWithEjmlToo() {
        SplittableRandom r = new SplittableRandom(5);
        int m = 17, n = 50, k = 33;
        for (int tr = 0; tr < 4; tr++) {
            boolean tA = (tr & 1) != 0, tB = (tr & 2) != 0;
            float[] a = random(r, m * k), b = random(r, k * n), c = random(r, m * n), v = c.clone();
            ScalarGemm.sgemmReference(1, tA, tB, m, n, k, 0.75f, a, 0, 0, tA ? m : k, b, 0, 0, tB ? k : n, -0.5f,
                    c, 0, 0, n);
            VectorGemm.sgemm(1, tA, tB, m, n, k, 0.75f, a, 0, 0, tA ? m : k, b, 0, 0, tB ? k : n, -0.5f, v, 0, 0, n);
            for (int i = 0; i < c.length; i++) assertEquals(c[i], v[i], 1e-4f);
        }
    }

    @Test
    void rejectsBadArguments() {
        float[] x = new float[16];
        assertThrows(IndexOutOfBoundsException.class,
                () -> VectorGemm.sgemm(1, false, false, 4, 4, 4, 1f, x, 1, 0, 4, x, 0, 0, 4, 0f, x, 0, 0, 4));
        assertThrows(IllegalArgumentException.class,
                () -> VectorGemm.sgemm(1, false, false, 4, 4, 4, 1f, x, 0, 0, 3, x, 0, 0, 4, 0f, x, 0, 0, 4));
        assertThrows(IndexOutOfBoundsException.class,
                () -> VectorGemm.sgemm(2, false, false, 4, 4, 4, 1f, x, 0, 0, 4, x, 0, 0, 4, 0f, x, 0, 16, 4));
    }
}
