package dev.xbt.engine.cpu;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM on the Vector API: C = alpha * op(A) * op(B) + beta * C, row-major, batched.
 *
 * <p>A product that is not tiny runs in two phases. First op(A) (times alpha) is packed into strips of
 * MR = 8 rows and op(B) into strips of NR = 2 vectors of columns, both cut into K blocks of KC, k-major
 * inside a block, padding zero. Then C is cut into tiles on the MR x NR grid, and each tile walks the K
 * blocks: for each B micro-panel (KC x NR, kept in L1) it sweeps the tile's A strips (kept in L2) with a
 * register-blocked micro-kernel that holds an MR x NR block of C in 16 vector registers and does one
 * broadcast and two FMAs per row and k. Tiny products take a direct loop without packing.
 *
 * <p>Threads share the packing and then take C tiles from a counter, so a core slowed by other work gets
 * fewer tiles; a batch of small products is spread the same way, one product per task. K is never split:
 * every element of C is the same FMA chain over the same K blocks whatever thread computes it and
 * whatever the tiling, so results are bitwise reproducible run after run and across thread counts.
 */
public final class VectorGemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector (16 with AVX-512, 8 with AVX2). */
    static final int VL = S.length();
    /** Rows of the register tile: 8 x 2 vectors = 16 accumulators fit 32 AVX-512 registers; 6 x 2 for 16. */
    static final int MR = VL >= 16 ? 8 : 6;
    /** Columns of the register tile: two vectors. */
    static final int NR = 2 * VL;
    /** K block: a B micro-panel (KC x NR floats) stays in L1 while the kernel sweeps a tile's A strips. */
    static int KC = Math.max(8, Integer.getInteger("xbt.gemm.kc", 256));
    /** Most rows of a C tile: its A strips (MC x KC floats) stay in L2. */
    static int MC = roundUp(Math.max(MR, Integer.getInteger("xbt.gemm.mc", 192)), MR);
    /** Most columns of a C tile. */
    static int NC = roundUp(Math.max(NR, Integer.getInteger("xbt.gemm.nc", 1024)), NR);
    /** m*n*k up to which a product takes the direct, unpacked loop. */
    static final long SMALL_WORK = 32 * 1024;
    /** m*n*k from which a single product is split over the threads. */
    static final long PARALLEL_WORK = 1L << 20;
    /** Most floats packed for one operand at once; larger products run as row / column slabs. */
    static final long PACK_LIMIT = 1L << 24;

    /** Per-thread scratch: packed operands (grown on demand) and an edge tile. */
    private static final class Work {
        float[] a = new float[0];
        float[] b = new float[0];
        final float[] t = new float[MR * NR];
    }

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    private VectorGemm() {}

    private static int roundUp(int x, int q) {
        return (x + q - 1) / q * q;
    }

    private static int ceilDiv(int x, int q) {
        return (x + q - 1) / q;
    }

    /** C[b] = alpha * op(A[b]) * op(B[b]) + beta * C[b] for b in [0, batch). op(X) = X or X^T.
     *  A[b] starts at aOff + b*strideA (strideA may be 0: A shared by all batches), likewise B, C.
     *  lda/ldb/ldc are row strides (elements) of A, B, C as stored (A stored m x k, or k x m when transA).
     *  beta == 0 overwrites C without reading it; alpha == 0 or k == 0 leaves C = beta * C. */
    public static void sgemm(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, long strideA, int lda, float[] b, int bOff, long strideB, int ldb,
            float beta, float[] c, int cOff, long strideC, int ldc) {
        if (batch < 0 || m < 0 || n < 0 || k < 0)
            throw new IllegalArgumentException("negative size: batch=" + batch + " m=" + m + " n=" + n + " k=" + k);
        if (batch == 0 || m == 0 || n == 0) return;
        check("C", c, cOff, strideC, batch, m, n, ldc);
        if (k == 0 || alpha == 0f) {
            for (int bb = 0; bb < batch; bb++) scale(beta, c, (int) (cOff + bb * strideC), ldc, 0, m, 0, n);
            return;
        }
        check("A", a, aOff, strideA, batch, transA ? k : m, transA ? m : k, lda);
        check("B", b, bOff, strideB, batch, transB ? n : k, transB ? k : n, ldb);
        long work = (long) m * n * k;
        if (batch == 1 || (work >= PARALLEL_WORK && batch < 4 * Parallel.THREADS)) {
            // One product at a time, each split over the threads if big enough.
            for (int bb = 0; bb < batch; bb++)
                one(transA, transB, m, n, k, alpha, a, (int) (aOff + bb * strideA), lda,
                        b, (int) (bOff + bb * strideB), ldb, beta, c, (int) (cOff + bb * strideC), ldc, true);
            return;
        }
        // Many products: whole products are the tasks, handed out one by one.
        AtomicInteger next = new AtomicInteger();
        int workers = (int) Math.min(Parallel.THREADS, Math.max(1, work * batch / PARALLEL_WORK));
        Parallel.forRange(Math.min(workers, batch), 1, (s, e) -> {
            for (int bb; (bb = next.getAndIncrement()) < batch; )
                one(transA, transB, m, n, k, alpha, a, (int) (aOff + bb * strideA), lda,
                        b, (int) (bOff + bb * strideB), ldb, beta, c, (int) (cOff + bb * strideC), ldc, false);
        });
    }

    private static void check(String name, float[] x, int off, long stride, int batch, int rows, int cols, int ld) {
        Objects.requireNonNull(x, name);
        if (off < 0 || stride < 0)
            throw new IllegalArgumentException(name + ": negative offset " + off + " or stride " + stride);
        if (rows > 1 && ld < cols)
            throw new IllegalArgumentException(name + ": row stride " + ld + " < row length " + cols);
        long last = off + (batch - 1) * stride + (long) (rows - 1) * ld + cols - 1;
        if (last >= x.length)
            throw new IndexOutOfBoundsException(name + ": needs index " + last + ", array length " + x.length);
    }

    /** One product (k > 0, alpha != 0); splits it over the threads when allowed and worth it. */
    private static void one(boolean tA, boolean tB, int m, int n, int k, float alpha, float[] a, int ao, int lda,
            float[] b, int bo, int ldb, float beta, float[] c, int co, int ldc, boolean mayParallel) {
        long work = (long) m * n * k;
        if (work <= SMALL_WORK) {
            small(tA, tB, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc);
            return;
        }
        boolean parallel = mayParallel && work >= PARALLEL_WORK && Parallel.THREADS > 1;
        // Keep each packed operand under PACK_LIMIT floats: slabs of rows and columns on the MR / NR grid.
        int slabM = (int) Math.min(roundUp(m, MR), Math.max(MR, PACK_LIMIT / k / MR * MR));
        int slabN = (int) Math.min(roundUp(n, NR), Math.max(NR, PACK_LIMIT / k / NR * NR));
        for (int j0 = 0; j0 < n; j0 += slabN)
            for (int i0 = 0; i0 < m; i0 += slabM) {
                Product p = new Product(tA, tB, Math.min(slabM, m - i0), Math.min(slabN, n - j0), k, alpha,
                        a, ao + (tA ? i0 : i0 * lda), lda, b, bo + (tB ? j0 * ldb : j0), ldb, beta,
                        c, co + i0 * ldc + j0, ldc, parallel);
                p.run();
            }
    }

    /** C = beta * C on rows [i0, i1) x columns [j0, j1); beta == 0 writes zeros (NaN in C is dropped). */
    private static void scale(float beta, float[] c, int co, int ldc, int i0, int i1, int j0, int j1) {
        if (beta == 1f) return;
        for (int i = i0; i < i1; i++) {
            int r = co + i * ldc;
            if (beta == 0f) {
                Arrays.fill(c, r + j0, r + j1, 0f);
                continue;
            }
            int j = j0;
            for (; j <= j1 - VL; j += VL)
                FloatVector.fromArray(S, c, r + j).mul(beta).intoArray(c, r + j);
            for (; j < j1; j++) c[r + j] *= beta;
        }
    }

    /** Direct loop for tiny products: no packing, no threads. */
    private static void small(boolean tA, boolean tB, int m, int n, int k, float alpha, float[] a, int ao, int lda,
            float[] b, int bo, int ldb, float beta, float[] c, int co, int ldc) {
        FloatVector vbeta = FloatVector.broadcast(S, beta);
        for (int i = 0; i < m; i++) {
            int cr = co + i * ldc;
            if (!tB) {
                for (int j = 0; j < n; j += VL) {
                    VectorMask<Float> mask = S.indexInRange(j, n);
                    FloatVector acc = FloatVector.zero(S);
                    for (int p = 0; p < k; p++) {
                        float av = tA ? a[ao + p * lda + i] : a[ao + i * lda + p];
                        acc = FloatVector.broadcast(S, av).fma(FloatVector.fromArray(S, b, bo + p * ldb + j, mask), acc);
                    }
                    FloatVector r = acc.mul(alpha);
                    if (beta != 0f) r = FloatVector.fromArray(S, c, cr + j, mask).fma(vbeta, r);
                    r.intoArray(c, cr + j, mask);
                }
            } else {
                for (int j = 0; j < n; j++) {
                    int br = bo + j * ldb;
                    float s = 0f;
                    if (tA) {
                        for (int p = 0; p < k; p++) s = Math.fma(a[ao + p * lda + i], b[br + p], s);
                    } else {
                        int ar = ao + i * lda;
                        for (int p = 0; p < k; p++) s = Math.fma(a[ar + p], b[br + p], s);
                    }
                    float r = alpha * s;
                    c[cr + j] = beta == 0f ? r : Math.fma(c[cr + j], beta, r);
                }
            }
        }
    }

    /**
     * One packed product (or slab of one). Packed A: K block pc (size kc) at pc * mPad, its strip s of MR
     * rows at + s * MR * kc, column p of the strip at + p * MR. Packed B likewise with nPad and NR, except
     * that a last strip of at most VL columns is packed VL wide.
     */
    private static final class Product {
        final boolean tA, tB, parallel;
        final int m, n, k, lda, ldb, ldc, ao, bo, co, mPad, nPad, stripsA, stripsB;
        final float alpha, beta;
        final float[] a, b, c;
        final int mt, nt, tilesM, tilesN;
        float[] ap, bp;

        Product(boolean tA, boolean tB, int m, int n, int k, float alpha, float[] a, int ao, int lda,
                float[] b, int bo, int ldb, float beta, float[] c, int co, int ldc, boolean parallel) {
            this.tA = tA;
            this.tB = tB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.a = a;
            this.ao = ao;
            this.lda = lda;
            this.b = b;
            this.bo = bo;
            this.ldb = ldb;
            this.beta = beta;
            this.c = c;
            this.co = co;
            this.ldc = ldc;
            this.mPad = roundUp(m, MR);
            this.nPad = roundUp(n, NR);
            this.stripsA = mPad / MR;
            this.stripsB = nPad / NR;
            // Tiles: at most MC x NC; when threaded, cut finer until there are a few tiles per thread.
            int tm = ceilDiv(m, MC), tn = ceilDiv(n, NC);
            if (parallel) {
                int want = 4 * Parallel.THREADS;
                while (tm * tn < want) {
                    int rows = ceilDiv(m, tm), cols = ceilDiv(n, tn);
                    boolean cutM = rows >= 4 * MR, cutN = cols >= 4 * NR;
                    if (cutN && (cols >= 4 * rows || !cutM)) tn++;
                    else if (cutM) tm++;
                    else break;
                }
            }
            this.mt = roundUp(ceilDiv(m, tm), MR);
            this.nt = roundUp(ceilDiv(n, tn), NR);
            this.tilesM = ceilDiv(m, mt);
            this.tilesN = ceilDiv(n, nt);
            this.parallel = parallel && tilesM * tilesN > 1;
        }

        void run() {
            Work w = WORK.get();
            if (w.a.length < (long) mPad * k) w.a = new float[mPad * k];
            if (w.b.length < (long) nPad * k) w.b = new float[nPad * k];
            ap = w.a;
            bp = w.b;
            int tiles = tilesM * tilesN;
            if (!parallel) {
                pack(0, 1);
                for (int t = 0; t < tiles; t++) tile(t, w);
                return;
            }
            int workers = Math.min(Parallel.THREADS, tiles);
            Parallel.forRange(workers, 1, (s, e) -> {
                for (int t = s; t < e; t++) pack(t, workers);
            });
            AtomicInteger next = new AtomicInteger();
            Parallel.forRange(workers, 1, (s, e) -> {
                Work mine = WORK.get();
                for (int t; (t = next.getAndIncrement()) < tiles; ) tile(t, mine);
            });
        }

        /** Packs share `part` of `parts` of the A strips and of the B strips. */
        void pack(int part, int parts) {
            for (int s = (int) ((long) stripsA * part / parts), e = (int) ((long) stripsA * (part + 1) / parts); s < e; s++)
                packA(s);
            for (int s = (int) ((long) stripsB * part / parts), e = (int) ((long) stripsB * (part + 1) / parts); s < e; s++)
                packB(s);
        }

        /** Strip s of alpha * op(A), all K blocks. */
        void packA(int s) {
            float[] dst = ap;
            int i = s * MR, h = Math.min(MR, m - i);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc), d = pc * mPad + s * MR * kc;
                if (!tA) {
                    // op(A)(i, p) = a[i * lda + p]: read rows, write columns of the strip.
                    for (int ii = 0; ii < h; ii++) {
                        int src = ao + (i + ii) * lda + pc;
                        if (alpha == 1f) for (int p = 0, q = d + ii; p < kc; p++, q += MR) dst[q] = a[src + p];
                        else for (int p = 0, q = d + ii; p < kc; p++, q += MR) dst[q] = alpha * a[src + p];
                    }
                    for (int ii = h; ii < MR; ii++)
                        for (int p = 0, q = d + ii; p < kc; p++, q += MR) dst[q] = 0f;
                } else {
                    // op(A)(i, p) = a[p * lda + i]: rows of the strip are contiguous in memory.
                    for (int p = 0, q = d; p < kc; p++, q += MR) {
                        int src = ao + (pc + p) * lda + i;
                        if (alpha == 1f) for (int ii = 0; ii < h; ii++) dst[q + ii] = a[src + ii];
                        else for (int ii = 0; ii < h; ii++) dst[q + ii] = alpha * a[src + ii];
                        for (int ii = h; ii < MR; ii++) dst[q + ii] = 0f;
                    }
                }
            }
        }

        /** Strip s of op(B), all K blocks. */
        void packB(int s) {
            float[] dst = bp;
            int j = s * NR, w = Math.min(NR, n - j), width = w <= VL ? VL : NR;
            VectorMask<Float> tail = S.indexInRange(w <= VL ? 0 : VL, w);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc), d = pc * nPad + s * NR * kc;
                if (!tB) {
                    // op(B)(p, j) = b[p * ldb + j]: rows of the strip are contiguous in memory.
                    int src = bo + pc * ldb + j;
                    if (w == NR) {
                        for (int p = 0; p < kc; p++, src += ldb, d += NR) {
                            FloatVector.fromArray(S, b, src).intoArray(dst, d);
                            FloatVector.fromArray(S, b, src + VL).intoArray(dst, d + VL);
                        }
                    } else if (width == VL) {
                        for (int p = 0; p < kc; p++, src += ldb, d += VL)
                            FloatVector.fromArray(S, b, src, tail).intoArray(dst, d);
                    } else {
                        for (int p = 0; p < kc; p++, src += ldb, d += NR) {
                            FloatVector.fromArray(S, b, src).intoArray(dst, d);
                            FloatVector.fromArray(S, b, src + VL, tail).intoArray(dst, d + VL);
                        }
                    }
                } else {
                    // op(B)(p, j) = b[j * ldb + p]: read stored rows, write columns of the strip.
                    for (int jj = 0; jj < w; jj++) {
                        int src = bo + (j + jj) * ldb + pc;
                        for (int p = 0, q = d + jj; p < kc; p++, q += width) dst[q] = b[src + p];
                    }
                    for (int jj = w; jj < width; jj++)
                        for (int p = 0, q = d + jj; p < kc; p++, q += width) dst[q] = 0f;
                }
            }
        }

        /** C tile t (row-major over the tile grid), all K blocks, on the calling thread. */
        void tile(int t, Work w) {
            int r0 = t / tilesN * mt, r1 = Math.min(m, r0 + mt);
            int c0 = t % tilesN * nt, c1 = Math.min(n, c0 + nt);
            if (beta != 0f) scale(beta, c, co, ldc, r0, r1, c0, c1);
            float[] ap = this.ap, bp = this.bp, tmp = w.t;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean load = pc > 0 || beta != 0f;
                int aBase = pc * mPad, bBase = pc * nPad;
                for (int jr = c0; jr < c1; jr += NR) {
                    int nr = Math.min(NR, n - jr);
                    boolean narrow = nr <= VL;
                    int width = narrow ? VL : NR;
                    int bi = bBase + jr * kc;
                    for (int ir = r0; ir < r1; ir += MR) {
                        int mr = Math.min(MR, m - ir);
                        int ai = aBase + ir * kc;
                        int ci = co + ir * ldc + jr;
                        if (mr == MR && nr == width) {
                            kernel(narrow, kc, ap, ai, bp, bi, c, ci, ldc, load);
                        } else {
                            // Edge: the same kernel on a padded copy, so the arithmetic matches full tiles.
                            if (load)
                                for (int i = 0; i < mr; i++) System.arraycopy(c, ci + i * ldc, tmp, i * width, nr);
                            kernel(narrow, kc, ap, ai, bp, bi, tmp, 0, width, load);
                            for (int i = 0; i < mr; i++) System.arraycopy(tmp, i * width, c, ci + i * ldc, nr);
                        }
                    }
                }
            }
        }
    }

    /** The register tile for this machine's MR, NR (or VL when narrow) wide. */
    private static void kernel(boolean narrow, int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci,
            int ldc, boolean load) {
        if (MR == 8) {
            if (narrow) kernel8Narrow(kc, ap, ai, bp, bi, c, ci, ldc, load);
            else kernel8(kc, ap, ai, bp, bi, c, ci, ldc, load);
        } else {
            if (narrow) kernel6Narrow(kc, ap, ai, bp, bi, c, ci, ldc, load);
            else kernel6(kc, ap, ai, bp, bi, c, ci, ldc, load);
        }
    }

    /** 8 x NR tile: C[ci.., ldc] = (load ? C : 0) + packed A strip (8 rows) times packed B strip (NR wide) over kc. */
    private static void kernel8(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc, boolean load) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z;
        FloatVector c50 = z, c51 = z;
        FloatVector c60 = z, c61 = z;
        FloatVector c70 = z, c71 = z;
        for (int p = 0; p < kc; p++) {
            int bq = bi + p * NR, aq = ai + p * 8;
            FloatVector b0 = FloatVector.fromArray(S, bp, bq), b1 = FloatVector.fromArray(S, bp, bq + VL);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[aq]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[aq + 1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[aq + 2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[aq + 3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[aq + 4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[aq + 5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, ap[aq + 6]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, ap[aq + 7]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        if (load) {
            c00 = c00.add(FloatVector.fromArray(S, c, ci)); c01 = c01.add(FloatVector.fromArray(S, c, ci + VL));
            c10 = c10.add(FloatVector.fromArray(S, c, ci + ldc)); c11 = c11.add(FloatVector.fromArray(S, c, ci + ldc + VL));
            c20 = c20.add(FloatVector.fromArray(S, c, ci + 2 * ldc)); c21 = c21.add(FloatVector.fromArray(S, c, ci + 2 * ldc + VL));
            c30 = c30.add(FloatVector.fromArray(S, c, ci + 3 * ldc)); c31 = c31.add(FloatVector.fromArray(S, c, ci + 3 * ldc + VL));
            c40 = c40.add(FloatVector.fromArray(S, c, ci + 4 * ldc)); c41 = c41.add(FloatVector.fromArray(S, c, ci + 4 * ldc + VL));
            c50 = c50.add(FloatVector.fromArray(S, c, ci + 5 * ldc)); c51 = c51.add(FloatVector.fromArray(S, c, ci + 5 * ldc + VL));
            c60 = c60.add(FloatVector.fromArray(S, c, ci + 6 * ldc)); c61 = c61.add(FloatVector.fromArray(S, c, ci + 6 * ldc + VL));
            c70 = c70.add(FloatVector.fromArray(S, c, ci + 7 * ldc)); c71 = c71.add(FloatVector.fromArray(S, c, ci + 7 * ldc + VL));
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + VL);
        c10.intoArray(c, ci + ldc); c11.intoArray(c, ci + ldc + VL);
        c20.intoArray(c, ci + 2 * ldc); c21.intoArray(c, ci + 2 * ldc + VL);
        c30.intoArray(c, ci + 3 * ldc); c31.intoArray(c, ci + 3 * ldc + VL);
        c40.intoArray(c, ci + 4 * ldc); c41.intoArray(c, ci + 4 * ldc + VL);
        c50.intoArray(c, ci + 5 * ldc); c51.intoArray(c, ci + 5 * ldc + VL);
        c60.intoArray(c, ci + 6 * ldc); c61.intoArray(c, ci + 6 * ldc + VL);
        c70.intoArray(c, ci + 7 * ldc); c71.intoArray(c, ci + 7 * ldc + VL);
    }

    /** 8 x VL tile for a last, narrow B strip (packed VL wide). */
    private static void kernel8Narrow(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc, boolean load) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z;
        FloatVector c10 = z;
        FloatVector c20 = z;
        FloatVector c30 = z;
        FloatVector c40 = z;
        FloatVector c50 = z;
        FloatVector c60 = z;
        FloatVector c70 = z;
        for (int p = 0; p < kc; p++) {
            int bq = bi + p * VL, aq = ai + p * 8;
            FloatVector b0 = FloatVector.fromArray(S, bp, bq);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[aq]); c00 = x.fma(b0, c00);
            x = FloatVector.broadcast(S, ap[aq + 1]); c10 = x.fma(b0, c10);
            x = FloatVector.broadcast(S, ap[aq + 2]); c20 = x.fma(b0, c20);
            x = FloatVector.broadcast(S, ap[aq + 3]); c30 = x.fma(b0, c30);
            x = FloatVector.broadcast(S, ap[aq + 4]); c40 = x.fma(b0, c40);
            x = FloatVector.broadcast(S, ap[aq + 5]); c50 = x.fma(b0, c50);
            x = FloatVector.broadcast(S, ap[aq + 6]); c60 = x.fma(b0, c60);
            x = FloatVector.broadcast(S, ap[aq + 7]); c70 = x.fma(b0, c70);
        }
        if (load) {
            c00 = c00.add(FloatVector.fromArray(S, c, ci));
            c10 = c10.add(FloatVector.fromArray(S, c, ci + ldc));
            c20 = c20.add(FloatVector.fromArray(S, c, ci + 2 * ldc));
            c30 = c30.add(FloatVector.fromArray(S, c, ci + 3 * ldc));
            c40 = c40.add(FloatVector.fromArray(S, c, ci + 4 * ldc));
            c50 = c50.add(FloatVector.fromArray(S, c, ci + 5 * ldc));
            c60 = c60.add(FloatVector.fromArray(S, c, ci + 6 * ldc));
            c70 = c70.add(FloatVector.fromArray(S, c, ci + 7 * ldc));
        }
        c00.intoArray(c, ci);
        c10.intoArray(c, ci + ldc);
        c20.intoArray(c, ci + 2 * ldc);
        c30.intoArray(c, ci + 3 * ldc);
        c40.intoArray(c, ci + 4 * ldc);
        c50.intoArray(c, ci + 5 * ldc);
        c60.intoArray(c, ci + 6 * ldc);
        c70.intoArray(c, ci + 7 * ldc);
    }

    /** 6 x NR tile: C[ci.., ldc] = (load ? C : 0) + packed A strip (6 rows) times packed B strip (NR wide) over kc. */
    private static void kernel6(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc, boolean load) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z;
        FloatVector c10 = z, c11 = z;
        FloatVector c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z;
        FloatVector c50 = z, c51 = z;
        for (int p = 0; p < kc; p++) {
            int bq = bi + p * NR, aq = ai + p * 6;
            FloatVector b0 = FloatVector.fromArray(S, bp, bq), b1 = FloatVector.fromArray(S, bp, bq + VL);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[aq]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[aq + 1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[aq + 2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[aq + 3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[aq + 4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[aq + 5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        if (load) {
            c00 = c00.add(FloatVector.fromArray(S, c, ci)); c01 = c01.add(FloatVector.fromArray(S, c, ci + VL));
            c10 = c10.add(FloatVector.fromArray(S, c, ci + ldc)); c11 = c11.add(FloatVector.fromArray(S, c, ci + ldc + VL));
            c20 = c20.add(FloatVector.fromArray(S, c, ci + 2 * ldc)); c21 = c21.add(FloatVector.fromArray(S, c, ci + 2 * ldc + VL));
            c30 = c30.add(FloatVector.fromArray(S, c, ci + 3 * ldc)); c31 = c31.add(FloatVector.fromArray(S, c, ci + 3 * ldc + VL));
            c40 = c40.add(FloatVector.fromArray(S, c, ci + 4 * ldc)); c41 = c41.add(FloatVector.fromArray(S, c, ci + 4 * ldc + VL));
            c50 = c50.add(FloatVector.fromArray(S, c, ci + 5 * ldc)); c51 = c51.add(FloatVector.fromArray(S, c, ci + 5 * ldc + VL));
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + VL);
        c10.intoArray(c, ci + ldc); c11.intoArray(c, ci + ldc + VL);
        c20.intoArray(c, ci + 2 * ldc); c21.intoArray(c, ci + 2 * ldc + VL);
        c30.intoArray(c, ci + 3 * ldc); c31.intoArray(c, ci + 3 * ldc + VL);
        c40.intoArray(c, ci + 4 * ldc); c41.intoArray(c, ci + 4 * ldc + VL);
        c50.intoArray(c, ci + 5 * ldc); c51.intoArray(c, ci + 5 * ldc + VL);
    }

    /** 6 x VL tile for a last, narrow B strip (packed VL wide). */
    private static void kernel6Narrow(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc, boolean load) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z;
        FloatVector c10 = z;
        FloatVector c20 = z;
        FloatVector c30 = z;
        FloatVector c40 = z;
        FloatVector c50 = z;
        for (int p = 0; p < kc; p++) {
            int bq = bi + p * VL, aq = ai + p * 6;
            FloatVector b0 = FloatVector.fromArray(S, bp, bq);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[aq]); c00 = x.fma(b0, c00);
            x = FloatVector.broadcast(S, ap[aq + 1]); c10 = x.fma(b0, c10);
            x = FloatVector.broadcast(S, ap[aq + 2]); c20 = x.fma(b0, c20);
            x = FloatVector.broadcast(S, ap[aq + 3]); c30 = x.fma(b0, c30);
            x = FloatVector.broadcast(S, ap[aq + 4]); c40 = x.fma(b0, c40);
            x = FloatVector.broadcast(S, ap[aq + 5]); c50 = x.fma(b0, c50);
        }
        if (load) {
            c00 = c00.add(FloatVector.fromArray(S, c, ci));
            c10 = c10.add(FloatVector.fromArray(S, c, ci + ldc));
            c20 = c20.add(FloatVector.fromArray(S, c, ci + 2 * ldc));
            c30 = c30.add(FloatVector.fromArray(S, c, ci + 3 * ldc));
            c40 = c40.add(FloatVector.fromArray(S, c, ci + 4 * ldc));
            c50 = c50.add(FloatVector.fromArray(S, c, ci + 5 * ldc));
        }
        c00.intoArray(c, ci);
        c10.intoArray(c, ci + ldc);
        c20.intoArray(c, ci + 2 * ldc);
        c30.intoArray(c, ci + 3 * ldc);
        c40.intoArray(c, ci + 4 * ldc);
        c50.intoArray(c, ci + 5 * ldc);
    }
}
