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
 * <p>A product that is not tiny runs in two phases. First alpha * op(A) is packed into strips of MR rows
 * and op(B) into strips of NR = 2 vectors of columns, both cut into K blocks of KC, k-major inside a
 * block, zero-padded (with AVX-512 the transposing packs go through 8x16 / 16x16 transposes in
 * registers). Then C is cut into tiles on the MR x NR grid (at most MT x NC). A tile accumulates in a
 * private buffer: per K block, per MC-row block of A (kept in L2), per B strip (KC x NR, kept in L1) the
 * register-blocked micro-kernel sweeps the A strips; it holds an MR x NR block of C in 2 * MR vector
 * registers and does one broadcast and two FMAs per row and k. MR = 8 with AVX-512 (16 accumulators of
 * 32 registers), 6 with 8-float vectors and 16 registers. The last K block stores whole register tiles
 * straight into C. Tiny products take a direct loop.
 *
 * <p>Why this shape of kernel: in isolation (one thread, packed data in L1) the 8 x 2-vector kernel
 * runs at about 94% of the FMA peak measured on our AVX-512 Xeon (C2 turns the broadcast of a packed
 * A element into vbroadcastss from memory, a load-port uop that does not compete with the FMAs, and
 * hoists the bounds checks out of the k loop: seen in -XX:CompileCommand=print's code bytes through
 * objdump), and at about 97% of that inside a tile; 6 x 4 vectors was slower (about 85%). Unrolling
 * its k loop by two gained ~1% in L1 but sometimes left vector calls un-inlined (C2's inlining budget),
 * halving the speed, so it stays rolled. What is left to gain lies around the kernel: packing,
 * copying, load balance.
 *
 * <p>Threads take packing jobs (an A strip, a group of B strips) and then C tiles from counters, so a
 * core slowed by other work does less of both; a batch of small products is spread the same way, one
 * product per task. K is never split: every element of C is the same FMA chain over the same K blocks
 * whatever thread computes it and whatever the tiling, so results are bitwise reproducible run after
 * run and across thread counts ({@code VectorGemmBitsTest} pins the rounding to a sequential model).
 *
 * <p>Blocking can be changed with {@code -Dxbt.gemm.kc/mc/mt/nc} for tuning (a different KC gives
 * different rounding).
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
    static final int KC = Math.max(8, Integer.getInteger("xbt.gemm.kc", 256));
    /** Rows of an A block (MC x KC floats), kept in L2 while the kernel sweeps a tile's B strips. */
    static final int MC = roundUp(Math.max(MR, Integer.getInteger("xbt.gemm.mc", 192)), MR);
    /** Most rows of a C tile (it runs in blocks of MC rows). */
    static final int MT = roundUp(Math.max(MR, Integer.getInteger("xbt.gemm.mt", 192)), MR);
    /** Most columns of a C tile: its B block (KC x NC floats) stays in L2. */
    static final int NC = roundUp(Math.max(NR, Integer.getInteger("xbt.gemm.nc", 512)), NR);
    /** Packing transposes in registers (AVX-512, 8-row strips); else scalar copies. */
    static final boolean FAST_TRANSPOSE = VL == 16 && MR == 8 && !Boolean.getBoolean("xbt.gemm.scalarpack");
    /** m*n*k up to which a product takes the direct, unpacked loop. */
    static final long SMALL_WORK = 32 * 1024;
    /** m*n*k from which a single product is split over the threads. */
    static final long PARALLEL_WORK = 1L << 20;
    /** B strips per packing job. */
    static final int GROUP_B = 8;
    /** Most floats packed for one operand at once (16 MiB, 2048 x 2048); larger products run as slabs. */
    static final long PACK_LIMIT = 1L << 22;

    /** Per-thread scratch, grown on demand: packed operands and a C tile. */
    private static final class Work {
        float[] a = new float[0];
        float[] b = new float[0];
        float[] c = new float[0];
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
     *  beta == 0 overwrites C without reading it; alpha == 0 or k == 0 leaves C = beta * C.
     *  Batches whose C blocks overlap (e.g. strideC == 0 with beta == 1 to sum all products) run in order. */
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
        // C blocks that overlap (strideC == 0 accumulates every product into one C) must go in order.
        boolean overlap = batch > 1 && strideC < (long) (m - 1) * ldc + n;
        if (batch == 1 || overlap || (work >= PARALLEL_WORK && batch < 4 * Parallel.THREADS)) {
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
        final int mt, nt, tilesM, tilesN, groupsB;
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
            int tm = ceilDiv(m, MT), tn = ceilDiv(n, NC);
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
            this.groupsB = ceilDiv(stripsB, GROUP_B);
        }

        void run() {
            Work w = WORK.get();
            if (w.a.length < (long) mPad * k) w.a = new float[mPad * k];
            if (w.b.length < (long) nPad * k) w.b = new float[nPad * k];
            ap = w.a;
            bp = w.b;
            int tiles = tilesM * tilesN, packJobs = stripsA + groupsB;
            if (!parallel) {
                for (int j = 0; j < packJobs; j++) packJob(j);
                for (int t = 0; t < tiles; t++) tile(t, w);
                return;
            }
            // One fork: the workers take packing jobs from a counter until all are taken, wait until all
            // are done, then take tiles. Both phases are handed out one job at a time, so a core slowed by
            // other work does less of either. forRange runs chunk 0 on this thread and the others on pool
            // threads (or all chunks here when nested), so a job that is taken is running or done.
            int workers = Math.min(Parallel.THREADS, tiles);
            AtomicInteger nextPack = new AtomicInteger(), packed = new AtomicInteger(), next = new AtomicInteger();
            Parallel.forRange(workers, 1, (s, e) -> {
                for (int j; (j = nextPack.getAndIncrement()) < packJobs; ) {
                    try {
                        packJob(j);
                    } finally {
                        packed.incrementAndGet();
                    }
                }
                for (int spins = 0; packed.get() < packJobs; spins++) {
                    if (spins < 1000) Thread.onSpinWait();
                    else Thread.yield();
                }
                Work mine = WORK.get();
                for (int t; (t = next.getAndIncrement()) < tiles; ) tile(t, mine);
            });
        }

        /** Packing job j: A strip j, or after the A strips a group of B strips. */
        void packJob(int j) {
            if (j < stripsA) {
                packA(j);
                return;
            }
            int s0 = (j - stripsA) * GROUP_B, s1 = Math.min(stripsB, s0 + GROUP_B);
            if (tB) {
                for (int s = s0; s < s1; s++) packB(s);
                return;
            }
            // op(B) rows are contiguous: copy row by row across the group's whole-width strips, which
            // reads B in long runs (strip by strip would touch a new page of B every row).
            int whole = Math.min(s1, n / NR);
            for (int pc = 0; pc < k && s0 < whole; pc += KC) {
                int kc = Math.min(KC, k - pc);
                for (int p = 0; p < kc; p++) {
                    int src = bo + (pc + p) * ldb;
                    for (int s = s0, d = pc * nPad + s0 * NR * kc + p * NR; s < whole; s++, d += NR * kc) {
                        FloatVector.fromArray(S, b, src + s * NR).intoArray(bp, d);
                        FloatVector.fromArray(S, b, src + s * NR + VL).intoArray(bp, d + VL);
                    }
                }
            }
            for (int s = Math.max(s0, whole); s < s1; s++) packB(s);
        }

        /** Strip s of alpha * op(A), all K blocks. */
        void packA(int s) {
            float[] dst = ap;
            int i = s * MR, h = Math.min(MR, m - i);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc), d = pc * mPad + s * MR * kc;
                if (!tA && h == MR && FAST_TRANSPOSE) {
                    transposeA8(a, ao + i * lda + pc, lda, alpha, dst, d, kc);
                } else if (!tA) {
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
                } else if (FAST_TRANSPOSE && w == width) {
                    // op(B)(p, j) = b[j * ldb + p]: 16 x 16 transposes of stored rows.
                    for (int jj = 0; jj < w; jj += 16)
                        transpose16(b, bo + (j + jj) * ldb + pc, ldb, dst, d + jj, width, kc);
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

        /**
         * C tile t (row-major over the tile grid), all K blocks, on the calling thread. It accumulates in
         * a private buffer padded to whole register tiles: no edge cases, a row stride that is no
         * multiple of 4 KiB (C's often is, and its rows then alias in L1 / L2), few pages for the TLB.
         * The last K block stores its whole register tiles straight into C; only the partial ones at
         * the tile's bottom and right edges go through the buffer and are copied out at the end.
         */
        void tile(int t, Work w) {
            int r0 = t / tilesN * mt, r1 = Math.min(m, r0 + mt);
            int c0 = t % tilesN * nt, c1 = Math.min(n, c0 + nt);
            int rows = r1 - r0, cols = c1 - c0, ldt = roundUp(cols, NR) + 16;
            int fullRows = rows / MR * MR, fullCols = cols / NR * NR;
            int size = roundUp(rows, MR) * ldt;
            if (w.c.length < size) w.c = new float[size];
            float[] ct = w.c;
            if (beta != 0f) {
                Arrays.fill(ct, 0, size, 0f);
                for (int i = 0; i < rows; i++) System.arraycopy(c, co + (r0 + i) * ldc + c0, ct, i * ldt, cols);
                scale(beta, ct, 0, ldt, 0, rows, 0, cols);
            }
            float[] ap = this.ap, bp = this.bp, c = this.c;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean load = pc > 0 || beta != 0f, last = pc + kc == k;
                int aBase = pc * mPad, bBase = pc * nPad;
                for (int ic = r0; ic < r1; ic += MC)
                    for (int jr = c0; jr < c1; jr += NR) {
                        boolean narrow = n - jr <= VL, fullCol = jr - c0 < fullCols;
                        int bi = bBase + jr * kc;
                        for (int ir = ic, ie = Math.min(r1, ic + MC); ir < ie; ir += MR) {
                            int ti = (ir - r0) * ldt + (jr - c0);
                            if (last && fullCol && ir - r0 < fullRows)
                                kernel(narrow, kc, ap, aBase + ir * kc, bp, bi, ct, ti, ldt, load, c, co + ir * ldc + jr, ldc);
                            else
                                kernel(narrow, kc, ap, aBase + ir * kc, bp, bi, ct, ti, ldt, load, ct, ti, ldt);
                        }
                    }
            }
            for (int i = 0; i < rows; i++) {
                int from = i < fullRows ? fullCols : 0;
                if (from < cols) System.arraycopy(ct, i * ldt + from, c, co + (r0 + i) * ldc + c0 + from, cols - from);
            }
        }
    }

    // Lane indices for two-vector selectFrom: interleave 1, 2, 4, 8-float units of two vectors (low / high halves).
    private static final float[] I1L = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
    private static final float[] I1H = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    private static final float[] I2L = {0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23};
    private static final float[] I2H = {8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31};
    private static final float[] I3L = {0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23};
    private static final float[] I3H = {8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31};
    private static final float[] I4L = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
    private static final float[] I4H = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};

    /**
     * Packs 8 rows x kc columns (row i at src + i * lda) k-major into dst (column p at d + p * 8), times
     * alpha: 16 columns at a time as an 8 x 16 transpose in registers (3 rounds of two-vector selects).
     * AVX-512 only (VL == 16).
     */
    private static void transposeA8(float[] a, int src, int lda, float alpha, float[] dst, int d, int kc) {
        FloatVector i1l = FloatVector.fromArray(S, I1L, 0), i1h = FloatVector.fromArray(S, I1H, 0);
        FloatVector i2l = FloatVector.fromArray(S, I2L, 0), i2h = FloatVector.fromArray(S, I2H, 0);
        FloatVector i3l = FloatVector.fromArray(S, I3L, 0), i3h = FloatVector.fromArray(S, I3H, 0);
        int p = 0;
        for (; p <= kc - 16; p += 16) {
            FloatVector r0 = FloatVector.fromArray(S, a, src + p);
            FloatVector r1 = FloatVector.fromArray(S, a, src + 1 * lda + p);
            FloatVector r2 = FloatVector.fromArray(S, a, src + 2 * lda + p);
            FloatVector r3 = FloatVector.fromArray(S, a, src + 3 * lda + p);
            FloatVector r4 = FloatVector.fromArray(S, a, src + 4 * lda + p);
            FloatVector r5 = FloatVector.fromArray(S, a, src + 5 * lda + p);
            FloatVector r6 = FloatVector.fromArray(S, a, src + 6 * lda + p);
            FloatVector r7 = FloatVector.fromArray(S, a, src + 7 * lda + p);
            if (alpha != 1f) {
                r0 = r0.mul(alpha); r1 = r1.mul(alpha); r2 = r2.mul(alpha); r3 = r3.mul(alpha); r4 = r4.mul(alpha); r5 = r5.mul(alpha); r6 = r6.mul(alpha); r7 = r7.mul(alpha);
            }
            FloatVector s1_0_0 = i1l.selectFrom(r0, r1);
            FloatVector s1_0_1 = i1h.selectFrom(r0, r1);
            FloatVector s1_1_0 = i1l.selectFrom(r2, r3);
            FloatVector s1_1_1 = i1h.selectFrom(r2, r3);
            FloatVector s1_2_0 = i1l.selectFrom(r4, r5);
            FloatVector s1_2_1 = i1h.selectFrom(r4, r5);
            FloatVector s1_3_0 = i1l.selectFrom(r6, r7);
            FloatVector s1_3_1 = i1h.selectFrom(r6, r7);
            FloatVector s2_0_0 = i2l.selectFrom(s1_0_0, s1_1_0);
            FloatVector s2_0_1 = i2h.selectFrom(s1_0_0, s1_1_0);
            FloatVector s2_0_2 = i2l.selectFrom(s1_0_1, s1_1_1);
            FloatVector s2_0_3 = i2h.selectFrom(s1_0_1, s1_1_1);
            FloatVector s2_1_0 = i2l.selectFrom(s1_2_0, s1_3_0);
            FloatVector s2_1_1 = i2h.selectFrom(s1_2_0, s1_3_0);
            FloatVector s2_1_2 = i2l.selectFrom(s1_2_1, s1_3_1);
            FloatVector s2_1_3 = i2h.selectFrom(s1_2_1, s1_3_1);
            FloatVector s3_0_0 = i3l.selectFrom(s2_0_0, s2_1_0);
            FloatVector s3_0_1 = i3h.selectFrom(s2_0_0, s2_1_0);
            FloatVector s3_0_2 = i3l.selectFrom(s2_0_1, s2_1_1);
            FloatVector s3_0_3 = i3h.selectFrom(s2_0_1, s2_1_1);
            FloatVector s3_0_4 = i3l.selectFrom(s2_0_2, s2_1_2);
            FloatVector s3_0_5 = i3h.selectFrom(s2_0_2, s2_1_2);
            FloatVector s3_0_6 = i3l.selectFrom(s2_0_3, s2_1_3);
            FloatVector s3_0_7 = i3h.selectFrom(s2_0_3, s2_1_3);
            int q = d + p * 8;
            s3_0_0.intoArray(dst, q);
            s3_0_1.intoArray(dst, q + 16);
            s3_0_2.intoArray(dst, q + 32);
            s3_0_3.intoArray(dst, q + 48);
            s3_0_4.intoArray(dst, q + 64);
            s3_0_5.intoArray(dst, q + 80);
            s3_0_6.intoArray(dst, q + 96);
            s3_0_7.intoArray(dst, q + 112);
        }
        for (; p < kc; p++)
            for (int i = 0; i < 8; i++) dst[d + p * 8 + i] = alpha * a[src + i * lda + p];
    }

    /**
     * Packs 16 rows x kc columns (row i at src + i * ld) k-major into dst (column p at d + p * width): 16
     * columns at a time as a 16 x 16 transpose in registers (4 rounds of two-vector selects). AVX-512 only.
     */
    private static void transpose16(float[] b, int src, int ld, float[] dst, int d, int width, int kc) {
        FloatVector i1l = FloatVector.fromArray(S, I1L, 0), i1h = FloatVector.fromArray(S, I1H, 0);
        FloatVector i2l = FloatVector.fromArray(S, I2L, 0), i2h = FloatVector.fromArray(S, I2H, 0);
        FloatVector i3l = FloatVector.fromArray(S, I3L, 0), i3h = FloatVector.fromArray(S, I3H, 0);
        FloatVector i4l = FloatVector.fromArray(S, I4L, 0), i4h = FloatVector.fromArray(S, I4H, 0);
        int p = 0;
        for (; p <= kc - 16; p += 16) {
            FloatVector r0 = FloatVector.fromArray(S, b, src + p);
            FloatVector r1 = FloatVector.fromArray(S, b, src + 1 * ld + p);
            FloatVector r2 = FloatVector.fromArray(S, b, src + 2 * ld + p);
            FloatVector r3 = FloatVector.fromArray(S, b, src + 3 * ld + p);
            FloatVector r4 = FloatVector.fromArray(S, b, src + 4 * ld + p);
            FloatVector r5 = FloatVector.fromArray(S, b, src + 5 * ld + p);
            FloatVector r6 = FloatVector.fromArray(S, b, src + 6 * ld + p);
            FloatVector r7 = FloatVector.fromArray(S, b, src + 7 * ld + p);
            FloatVector r8 = FloatVector.fromArray(S, b, src + 8 * ld + p);
            FloatVector r9 = FloatVector.fromArray(S, b, src + 9 * ld + p);
            FloatVector r10 = FloatVector.fromArray(S, b, src + 10 * ld + p);
            FloatVector r11 = FloatVector.fromArray(S, b, src + 11 * ld + p);
            FloatVector r12 = FloatVector.fromArray(S, b, src + 12 * ld + p);
            FloatVector r13 = FloatVector.fromArray(S, b, src + 13 * ld + p);
            FloatVector r14 = FloatVector.fromArray(S, b, src + 14 * ld + p);
            FloatVector r15 = FloatVector.fromArray(S, b, src + 15 * ld + p);
            FloatVector s1_0_0 = i1l.selectFrom(r0, r1);
            FloatVector s1_0_1 = i1h.selectFrom(r0, r1);
            FloatVector s1_1_0 = i1l.selectFrom(r2, r3);
            FloatVector s1_1_1 = i1h.selectFrom(r2, r3);
            FloatVector s1_2_0 = i1l.selectFrom(r4, r5);
            FloatVector s1_2_1 = i1h.selectFrom(r4, r5);
            FloatVector s1_3_0 = i1l.selectFrom(r6, r7);
            FloatVector s1_3_1 = i1h.selectFrom(r6, r7);
            FloatVector s1_4_0 = i1l.selectFrom(r8, r9);
            FloatVector s1_4_1 = i1h.selectFrom(r8, r9);
            FloatVector s1_5_0 = i1l.selectFrom(r10, r11);
            FloatVector s1_5_1 = i1h.selectFrom(r10, r11);
            FloatVector s1_6_0 = i1l.selectFrom(r12, r13);
            FloatVector s1_6_1 = i1h.selectFrom(r12, r13);
            FloatVector s1_7_0 = i1l.selectFrom(r14, r15);
            FloatVector s1_7_1 = i1h.selectFrom(r14, r15);
            FloatVector s2_0_0 = i2l.selectFrom(s1_0_0, s1_1_0);
            FloatVector s2_0_1 = i2h.selectFrom(s1_0_0, s1_1_0);
            FloatVector s2_0_2 = i2l.selectFrom(s1_0_1, s1_1_1);
            FloatVector s2_0_3 = i2h.selectFrom(s1_0_1, s1_1_1);
            FloatVector s2_1_0 = i2l.selectFrom(s1_2_0, s1_3_0);
            FloatVector s2_1_1 = i2h.selectFrom(s1_2_0, s1_3_0);
            FloatVector s2_1_2 = i2l.selectFrom(s1_2_1, s1_3_1);
            FloatVector s2_1_3 = i2h.selectFrom(s1_2_1, s1_3_1);
            FloatVector s2_2_0 = i2l.selectFrom(s1_4_0, s1_5_0);
            FloatVector s2_2_1 = i2h.selectFrom(s1_4_0, s1_5_0);
            FloatVector s2_2_2 = i2l.selectFrom(s1_4_1, s1_5_1);
            FloatVector s2_2_3 = i2h.selectFrom(s1_4_1, s1_5_1);
            FloatVector s2_3_0 = i2l.selectFrom(s1_6_0, s1_7_0);
            FloatVector s2_3_1 = i2h.selectFrom(s1_6_0, s1_7_0);
            FloatVector s2_3_2 = i2l.selectFrom(s1_6_1, s1_7_1);
            FloatVector s2_3_3 = i2h.selectFrom(s1_6_1, s1_7_1);
            FloatVector s3_0_0 = i3l.selectFrom(s2_0_0, s2_1_0);
            FloatVector s3_0_1 = i3h.selectFrom(s2_0_0, s2_1_0);
            FloatVector s3_0_2 = i3l.selectFrom(s2_0_1, s2_1_1);
            FloatVector s3_0_3 = i3h.selectFrom(s2_0_1, s2_1_1);
            FloatVector s3_0_4 = i3l.selectFrom(s2_0_2, s2_1_2);
            FloatVector s3_0_5 = i3h.selectFrom(s2_0_2, s2_1_2);
            FloatVector s3_0_6 = i3l.selectFrom(s2_0_3, s2_1_3);
            FloatVector s3_0_7 = i3h.selectFrom(s2_0_3, s2_1_3);
            FloatVector s3_1_0 = i3l.selectFrom(s2_2_0, s2_3_0);
            FloatVector s3_1_1 = i3h.selectFrom(s2_2_0, s2_3_0);
            FloatVector s3_1_2 = i3l.selectFrom(s2_2_1, s2_3_1);
            FloatVector s3_1_3 = i3h.selectFrom(s2_2_1, s2_3_1);
            FloatVector s3_1_4 = i3l.selectFrom(s2_2_2, s2_3_2);
            FloatVector s3_1_5 = i3h.selectFrom(s2_2_2, s2_3_2);
            FloatVector s3_1_6 = i3l.selectFrom(s2_2_3, s2_3_3);
            FloatVector s3_1_7 = i3h.selectFrom(s2_2_3, s2_3_3);
            FloatVector s4_0 = i4l.selectFrom(s3_0_0, s3_1_0);
            FloatVector s4_1 = i4h.selectFrom(s3_0_0, s3_1_0);
            FloatVector s4_2 = i4l.selectFrom(s3_0_1, s3_1_1);
            FloatVector s4_3 = i4h.selectFrom(s3_0_1, s3_1_1);
            FloatVector s4_4 = i4l.selectFrom(s3_0_2, s3_1_2);
            FloatVector s4_5 = i4h.selectFrom(s3_0_2, s3_1_2);
            FloatVector s4_6 = i4l.selectFrom(s3_0_3, s3_1_3);
            FloatVector s4_7 = i4h.selectFrom(s3_0_3, s3_1_3);
            FloatVector s4_8 = i4l.selectFrom(s3_0_4, s3_1_4);
            FloatVector s4_9 = i4h.selectFrom(s3_0_4, s3_1_4);
            FloatVector s4_10 = i4l.selectFrom(s3_0_5, s3_1_5);
            FloatVector s4_11 = i4h.selectFrom(s3_0_5, s3_1_5);
            FloatVector s4_12 = i4l.selectFrom(s3_0_6, s3_1_6);
            FloatVector s4_13 = i4h.selectFrom(s3_0_6, s3_1_6);
            FloatVector s4_14 = i4l.selectFrom(s3_0_7, s3_1_7);
            FloatVector s4_15 = i4h.selectFrom(s3_0_7, s3_1_7);
            int q = d + p * width;
            s4_0.intoArray(dst, q);
            s4_1.intoArray(dst, q + 1 * width);
            s4_2.intoArray(dst, q + 2 * width);
            s4_3.intoArray(dst, q + 3 * width);
            s4_4.intoArray(dst, q + 4 * width);
            s4_5.intoArray(dst, q + 5 * width);
            s4_6.intoArray(dst, q + 6 * width);
            s4_7.intoArray(dst, q + 7 * width);
            s4_8.intoArray(dst, q + 8 * width);
            s4_9.intoArray(dst, q + 9 * width);
            s4_10.intoArray(dst, q + 10 * width);
            s4_11.intoArray(dst, q + 11 * width);
            s4_12.intoArray(dst, q + 12 * width);
            s4_13.intoArray(dst, q + 13 * width);
            s4_14.intoArray(dst, q + 14 * width);
            s4_15.intoArray(dst, q + 15 * width);
        }
        for (; p < kc; p++)
            for (int i = 0; i < 16; i++) dst[d + p * width + i] = b[src + i * ld + p];
    }

    /** The register tile for this machine's MR, NR (or VL when narrow) wide: C[ci.., ldc] = packed A strip times
     *  packed B strip over kc (one FMA chain from 0 per element), plus Cs[csi.., ldcs] when load. */
    private static void kernel(boolean narrow, int kc, float[] ap, int ai, float[] bp, int bi,
            float[] cs, int csi, int ldcs, boolean load, float[] c, int ci, int ldc) {
        if (MR == 8) {
            if (narrow) kernel8Narrow(kc, ap, ai, bp, bi, cs, csi, ldcs, load, c, ci, ldc);
            else kernel8(kc, ap, ai, bp, bi, cs, csi, ldcs, load, c, ci, ldc);
        } else {
            if (narrow) kernel6Narrow(kc, ap, ai, bp, bi, cs, csi, ldcs, load, c, ci, ldc);
            else kernel6(kc, ap, ai, bp, bi, cs, csi, ldcs, load, c, ci, ldc);
        }
    }

    /** 8 x NR tile, see {@link #kernel}. */
    private static void kernel8(int kc, float[] ap, int ai, float[] bp, int bi, float[] cs, int csi, int ldcs,
            boolean load, float[] c, int ci, int ldc) {
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
            c00 = c00.add(FloatVector.fromArray(S, cs, csi)); c01 = c01.add(FloatVector.fromArray(S, cs, csi + VL));
            c10 = c10.add(FloatVector.fromArray(S, cs, csi + ldcs)); c11 = c11.add(FloatVector.fromArray(S, cs, csi + ldcs + VL));
            c20 = c20.add(FloatVector.fromArray(S, cs, csi + 2 * ldcs)); c21 = c21.add(FloatVector.fromArray(S, cs, csi + 2 * ldcs + VL));
            c30 = c30.add(FloatVector.fromArray(S, cs, csi + 3 * ldcs)); c31 = c31.add(FloatVector.fromArray(S, cs, csi + 3 * ldcs + VL));
            c40 = c40.add(FloatVector.fromArray(S, cs, csi + 4 * ldcs)); c41 = c41.add(FloatVector.fromArray(S, cs, csi + 4 * ldcs + VL));
            c50 = c50.add(FloatVector.fromArray(S, cs, csi + 5 * ldcs)); c51 = c51.add(FloatVector.fromArray(S, cs, csi + 5 * ldcs + VL));
            c60 = c60.add(FloatVector.fromArray(S, cs, csi + 6 * ldcs)); c61 = c61.add(FloatVector.fromArray(S, cs, csi + 6 * ldcs + VL));
            c70 = c70.add(FloatVector.fromArray(S, cs, csi + 7 * ldcs)); c71 = c71.add(FloatVector.fromArray(S, cs, csi + 7 * ldcs + VL));
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
    private static void kernel8Narrow(int kc, float[] ap, int ai, float[] bp, int bi, float[] cs, int csi, int ldcs,
            boolean load, float[] c, int ci, int ldc) {
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
            c00 = c00.add(FloatVector.fromArray(S, cs, csi));
            c10 = c10.add(FloatVector.fromArray(S, cs, csi + ldcs));
            c20 = c20.add(FloatVector.fromArray(S, cs, csi + 2 * ldcs));
            c30 = c30.add(FloatVector.fromArray(S, cs, csi + 3 * ldcs));
            c40 = c40.add(FloatVector.fromArray(S, cs, csi + 4 * ldcs));
            c50 = c50.add(FloatVector.fromArray(S, cs, csi + 5 * ldcs));
            c60 = c60.add(FloatVector.fromArray(S, cs, csi + 6 * ldcs));
            c70 = c70.add(FloatVector.fromArray(S, cs, csi + 7 * ldcs));
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

    /** 6 x NR tile, see {@link #kernel}. */
    private static void kernel6(int kc, float[] ap, int ai, float[] bp, int bi, float[] cs, int csi, int ldcs,
            boolean load, float[] c, int ci, int ldc) {
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
            c00 = c00.add(FloatVector.fromArray(S, cs, csi)); c01 = c01.add(FloatVector.fromArray(S, cs, csi + VL));
            c10 = c10.add(FloatVector.fromArray(S, cs, csi + ldcs)); c11 = c11.add(FloatVector.fromArray(S, cs, csi + ldcs + VL));
            c20 = c20.add(FloatVector.fromArray(S, cs, csi + 2 * ldcs)); c21 = c21.add(FloatVector.fromArray(S, cs, csi + 2 * ldcs + VL));
            c30 = c30.add(FloatVector.fromArray(S, cs, csi + 3 * ldcs)); c31 = c31.add(FloatVector.fromArray(S, cs, csi + 3 * ldcs + VL));
            c40 = c40.add(FloatVector.fromArray(S, cs, csi + 4 * ldcs)); c41 = c41.add(FloatVector.fromArray(S, cs, csi + 4 * ldcs + VL));
            c50 = c50.add(FloatVector.fromArray(S, cs, csi + 5 * ldcs)); c51 = c51.add(FloatVector.fromArray(S, cs, csi + 5 * ldcs + VL));
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + VL);
        c10.intoArray(c, ci + ldc); c11.intoArray(c, ci + ldc + VL);
        c20.intoArray(c, ci + 2 * ldc); c21.intoArray(c, ci + 2 * ldc + VL);
        c30.intoArray(c, ci + 3 * ldc); c31.intoArray(c, ci + 3 * ldc + VL);
        c40.intoArray(c, ci + 4 * ldc); c41.intoArray(c, ci + 4 * ldc + VL);
        c50.intoArray(c, ci + 5 * ldc); c51.intoArray(c, ci + 5 * ldc + VL);
    }

    /** 6 x VL tile for a last, narrow B strip (packed VL wide). */
    private static void kernel6Narrow(int kc, float[] ap, int ai, float[] bp, int bi, float[] cs, int csi, int ldcs,
            boolean load, float[] c, int ci, int ldc) {
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
            c00 = c00.add(FloatVector.fromArray(S, cs, csi));
            c10 = c10.add(FloatVector.fromArray(S, cs, csi + ldcs));
            c20 = c20.add(FloatVector.fromArray(S, cs, csi + 2 * ldcs));
            c30 = c30.add(FloatVector.fromArray(S, cs, csi + 3 * ldcs));
            c40 = c40.add(FloatVector.fromArray(S, cs, csi + 4 * ldcs));
            c50 = c50.add(FloatVector.fromArray(S, cs, csi + 5 * ldcs));
        }
        c00.intoArray(c, ci);
        c10.intoArray(c, ci + ldc);
        c20.intoArray(c, ci + 2 * ldc);
        c30.intoArray(c, ci + 3 * ldc);
        c40.intoArray(c, ci + 4 * ldc);
        c50.intoArray(c, ci + 5 * ldc);
    }
}
