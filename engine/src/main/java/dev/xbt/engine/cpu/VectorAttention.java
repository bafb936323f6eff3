package dev.xbt.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Fused scaled dot-product attention for the vector backend, flash-attention style: per (head,
 * block of BQ queries) the keys are visited in tiles of at most BK with an online softmax, so the
 * working set is a few rows of one tile's scores, never a tq × tk matrix.
 *
 * <p>Layout: K (and V for the backward) are transposed once per head into d × tkp panels, so a row of
 * scores is Σ_l q[i, l] · Kᵀ[l, tile] — broadcast-FMAs along the keys, no lane reductions — and
 * probabilities × V, dS × K, Qᵀ × dS and dOᵀ × P are the same broadcast-FMA shape along d or the
 * keys. All of them go through one register-blocked micro-kernel, {@link #mac4}: four rows at once
 * (an incomplete last group repeats its last row into spare slots), up to four vectors per pass,
 * 16 accumulators in registers.
 *
 * <p>Determinism: the forward splits work over (head, query block) units and every output row is
 * computed by one unit in a fixed order. The backward splits over heads only: gradK and gradV sum
 * over all queries of a head in query order, on one thread.
 */
final class VectorAttention {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int VL = S.length();
    /** Query rows per work unit (a multiple of 4). */
    static final int BQ = 32;
    /** Keys per tile: forward and backward (the backward keeps P and dS of a whole block × tile). */
    static final int BK = 16 * VL, BKB = 8 * VL;
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;
    /** About this many flops per parallel chunk at least. */
    private static final long MIN_FLOPS_PER_CHUNK = 200_000;

    private VectorAttention() {}

    private static int roundUp(int n, int m) {
        return (n + m - 1) / m * m;
    }

    private static FloatVector ld(float[] a, int i) {
        return FloatVector.fromArray(S, a, i);
    }

    // ================================================================ forward

    static void forward(int bh, int tq, int tk, int d, float scale,
                        float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                        float[] mask, int mOff, int maskGroup, boolean causal,
                        float[] out, int oOff, float[] lse, int lOff) {
        if (bh <= 0 || tq <= 0) return;
        int nqb = (tq + BQ - 1) / BQ;
        int units = bh * nqb;
        long flops = 4L * Math.min(BQ, tq) * Math.max(1, tk) * Math.max(1, d);
        int grain = (int) Math.max(1, MIN_FLOPS_PER_CHUNK / flops);
        Parallel.forRange(units, grain, (u0, u1) -> {
            Forward w = new Forward(tk, d);
            int head = -1;
            for (int u = u0; u < u1; u++) {
                int hh = u / nqb, qb = u % nqb;
                if (hh != head) {
                    w.loadHead(k, kOff + hh * tk * d, v, vOff + hh * tk * d);
                    head = hh;
                }
                int mrow = mask == null ? -1 : mOff + (hh / maskGroup) * tq * tk;
                w.block(q, qOff + hh * tq * d, mask, mrow, causal, scale, qb * BQ, Math.min(tq, qb * BQ + BQ),
                        out, oOff + hh * tq * d, lse, lOff + hh * tq);
            }
        });
    }

    /** One thread's working set for the forward pass. */
    private static final class Forward {
        final int tk, d, tkp, dp;
        final float[] kt;          // d × tkp: Kᵀ of the current head, zero-padded
        final float[] vpad;        // tk × dp copy of V when d is not a multiple of VL, else null
        float[] vArr;
        int vOff, vStride;
        final float[] acc;         // BQ × dp output accumulators (slots past the block's rows are spares)
        final float[] m = new float[BQ], l = new float[BQ];
        final float[] sc = new float[4 * BK]; // scores → probabilities of the current 4 rows
        final int[] slot = new int[4], row = new int[4], lim = new int[4];
        final float[] mNew = new float[4], shift = new float[4];

        Forward(int tk, int d) {
            this.tk = tk;
            this.d = d;
            this.tkp = roundUp(tk, VL);
            this.dp = roundUp(d, VL);
            this.kt = new float[d * tkp];
            this.vpad = d % VL == 0 ? null : new float[tk * dp];
            this.acc = new float[BQ * dp];
        }

        void loadHead(float[] k, int ko, float[] v, int vo) {
            transpose(k, ko, tk, d, kt, tkp);
            if (vpad == null) {
                vArr = v;
                vOff = vo;
                vStride = d;
            } else {
                for (int j = 0; j < tk; j++) System.arraycopy(v, vo + j * d, vpad, j * dp, d);
                vArr = vpad;
                vOff = 0;
                vStride = dp;
            }
        }

        void block(float[] q, int qo, float[] mask, int mrow, boolean causal, float scale, int i0, int i1,
                   float[] out, int oo, float[] lse, int lo) {
            int nr = i1 - i0, nv = dp / VL;
            Arrays.fill(m, NEG_INF);
            Arrays.fill(l, 0f);
            Arrays.fill(acc, 0f);
            int keyLimit = causal ? Math.min(tk, i1) : tk; // keys no row of the block sees are skipped
            for (int j0 = 0; j0 < keyLimit; j0 += BK) {
                int jEnd = Math.min(keyLimit, j0 + BK);
                int w = (jEnd - j0 + VL - 1) / VL;
                for (int g = 0; g < nr; g += 4) {
                    int jMax = j0;
                    for (int r = 0; r < 4; r++) {
                        slot[r] = g + r; // rows past the block are spare slots computing a copy of its last row
                        row[r] = i0 + Math.min(g + r, nr - 1);
                        lim[r] = causal ? Math.min(jEnd, row[r] + 1) : jEnd;
                        jMax = Math.max(jMax, lim[r]);
                    }
                    mac4(w, q, qo + row[0] * d, qo + row[1] * d, qo + row[2] * d, qo + row[3] * d, 1, d,
                            kt, j0, tkp, sc, 0, BK, 2 * BK, 3 * BK, true);
                    for (int r = 0; r < 4; r++) {
                        float mx = finishScores(sc, r * BK, w, scale, mask, mrow < 0 ? -1 : mrow + row[r] * tk, j0, jEnd, lim[r]);
                        mNew[r] = Math.max(m[slot[r]], mx);
                        shift[r] = mNew[r] == NEG_INF ? Float.POSITIVE_INFINITY : mNew[r]; // all -inf → p = 0
                    }
                    expQuad(sc, BK, w, shift);
                    for (int r = 0; r < 4; r++) rescale(r * BK, w, slot[r], mNew[r]);
                    if (jMax > j0) {
                        mac4(nv, sc, 0, BK, 2 * BK, 3 * BK, 1, jMax - j0, vArr, vOff + j0 * vStride, vStride,
                                acc, slot[0] * dp, slot[1] * dp, slot[2] * dp, slot[3] * dp, false);
                    }
                }
            }
            for (int r = 0; r < nr; r++) {
                int orow = oo + (i0 + r) * d;
                if (m[r] == NEG_INF) {
                    Arrays.fill(out, orow, orow + d, 0f);
                    lse[lo + i0 + r] = NEG_INF;
                    continue;
                }
                divideRow(acc, r * dp, l[r], out, orow, d);
                lse[lo + i0 + r] = (float) (m[r] + Math.log(l[r]));
            }
        }

        /** Folds a row's probabilities (relative to mNew) into its running max, sum and output. */
        private void rescale(int so, int w, int slot, float mNew) {
            if (mNew == NEG_INF) return; // nothing visible yet: the probabilities are all 0
            float mOld = m[slot];
            if (mNew != mOld) {
                float alpha = VectorMath.exp(mOld - mNew);
                l[slot] *= alpha;
                scaleRow(acc, slot * dp, alpha, acc, slot * dp, dp);
            }
            l[slot] += sumRow(sc, so, w);
            m[slot] = mNew;
        }
    }

    /**
     * Raw dot products → scores: s · scale + mask, and -inf for keys at or past {@code lim} (causal
     * limit or the end of the keys). Returns the largest score.
     */
    private static float finishScores(float[] s, int so, int w, float scale, float[] mask, int mrow, int j0, int jEnd,
                                      int lim) {
        FloatVector mx = FloatVector.broadcast(S, NEG_INF);
        for (int c = 0; c < w; c++) {
            int jb = j0 + c * VL;
            FloatVector sv = ld(s, so + c * VL).mul(scale);
            if (mrow >= 0) {
                FloatVector mv = jb + VL <= jEnd ? ld(mask, mrow + jb)
                        : FloatVector.fromArray(S, mask, mrow + jb, S.indexInRange(jb, jEnd));
                sv = sv.add(mv);
            }
            if (jb + VL > lim) sv = sv.blend(NEG_INF, S.indexInRange(jb, lim).not());
            sv.intoArray(s, so + c * VL);
            mx = mx.max(sv);
        }
        return VectorMath.hmax(mx);
    }

    /**
     * s = exp(s − shift_r) over w vectors of four rows (row r at r · stride): the four rows interleave,
     * giving the out-of-order core independent exponentials to overlap.
     */
    private static void expQuad(float[] s, int stride, int w, float[] shift) {
        expQuadAt(s, 0, stride, w, shift);
    }

    private static void expQuadAt(float[] s, int off, int stride, int w, float[] shift) {
        for (int c = 0; c < w; c++) {
            for (int r = 0; r < 4; r++) {
                int i = off + r * stride + c * VL;
                VectorMath.exp(ld(s, i).sub(shift[r])).intoArray(s, i);
            }
        }
    }

    /** Σ of w vectors starting at so. */
    private static float sumRow(float[] s, int so, int w) {
        FloatVector acc = ld(s, so);
        for (int c = 1; c < w; c++) acc = acc.add(ld(s, so + c * VL));
        return VectorMath.hsum(acc);
    }

    // ================================================================ backward

    static void backward(int bh, int tq, int tk, int d, float scale,
                         float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
                         float[] mask, int mOff, int maskGroup, boolean causal,
                         float[] out, int oOff, float[] lse, int lOff, float[] gOut, int gOff,
                         float[] gq, int gqOff, float[] gk, int gkOff, float[] gv, int gvOff) {
        if (bh <= 0 || gq == null && gk == null && gv == null) return;
        long flops = 10L * Math.max(1, tq) * Math.max(1, tk) * Math.max(1, d);
        int grain = (int) Math.max(1, MIN_FLOPS_PER_CHUNK / flops);
        Parallel.forRange(bh, grain, (h0, h1) -> {
            Backward w = new Backward(tq, tk, d, gq != null, gk != null, gv != null);
            for (int hh = h0; hh < h1; hh++) {
                int mrow = mask == null ? -1 : mOff + (hh / maskGroup) * tq * tk;
                w.head(scale, q, qOff + hh * tq * d, k, kOff + hh * tk * d, v, vOff + hh * tk * d, mask, mrow, causal,
                        out, oOff + hh * tq * d, lse, lOff + hh * tq, gOut, gOff + hh * tq * d,
                        gq, gqOff + hh * tq * d, gk, gkOff + hh * tk * d, gv, gvOff + hh * tk * d);
            }
        });
    }

    /** One thread's working set for the backward pass. */
    private static final class Backward {
        final int tq, tk, d, tkp, dp;
        final boolean needDs;
        final float[] kt, vt;      // d × tkp transposes of K and V
        final float[] kpad;        // tk × dp copy of K when d is not a multiple of VL
        final float[] dkt, dvt;    // (d + 3) × tkp accumulators of dKᵀ/scale and dVᵀ; the last 3 rows are spares
        final float[] pb, dsb;     // BQ × BKB probabilities and dS of one (block, tile)
        final float[] dq;          // BQ × dp accumulators of dQ/scale
        final float[] dd = new float[BQ]; // D_i = Σ dO·O
        final int[] row = new int[4], lim = new int[4];
        final float[] shift = new float[4];

        Backward(int tq, int tk, int d, boolean wantQ, boolean wantK, boolean wantV) {
            this.tq = tq;
            this.tk = tk;
            this.d = d;
            this.tkp = roundUp(tk, VL);
            this.dp = roundUp(d, VL);
            this.needDs = wantQ || wantK;
            kt = new float[d * tkp];
            vt = needDs ? new float[d * tkp] : null;
            kpad = wantQ && d % VL != 0 ? new float[tk * dp] : null;
            dkt = wantK ? new float[(d + 3) * tkp] : null;
            dvt = wantV ? new float[(d + 3) * tkp] : null;
            pb = new float[BQ * BKB];
            dsb = needDs ? new float[BQ * BKB] : null;
            dq = wantQ ? new float[BQ * dp] : null;
        }

        void head(float scale, float[] q, int qo, float[] k, int ko, float[] v, int vo, float[] mask, int mrow,
                  boolean causal, float[] out, int oo, float[] lse, int lo, float[] g, int go,
                  float[] gq, int gqo, float[] gk, int gko, float[] gv, int gvo) {
            transpose(k, ko, tk, d, kt, tkp);
            if (needDs) transpose(v, vo, tk, d, vt, tkp);
            float[] kArr = k;
            int kBase = ko, kStride = d;
            if (kpad != null) {
                for (int j = 0; j < tk; j++) System.arraycopy(k, ko + j * d, kpad, j * dp, d);
                kArr = kpad;
                kBase = 0;
                kStride = dp;
            }
            if (dkt != null) Arrays.fill(dkt, 0f);
            if (dvt != null) Arrays.fill(dvt, 0f);
            int nv = dp / VL;
            for (int i0 = 0; i0 < tq; i0 += BQ) {
                int i1 = Math.min(tq, i0 + BQ), nr = i1 - i0;
                if (needDs) {
                    for (int r = 0; r < nr; r++) dd[r] = dot(g, go + (i0 + r) * d, out, oo + (i0 + r) * d, d);
                }
                if (dq != null) Arrays.fill(dq, 0f);
                int keyLimit = causal ? Math.min(tk, i1) : tk;
                for (int j0 = 0; j0 < keyLimit; j0 += BKB) {
                    int jEnd = Math.min(keyLimit, j0 + BKB);
                    int w = (jEnd - j0 + VL - 1) / VL;
                    for (int gr = 0; gr < nr; gr += 4) {
                        int jMax = j0;
                        for (int r = 0; r < 4; r++) {
                            row[r] = i0 + Math.min(gr + r, nr - 1);
                            lim[r] = causal ? Math.min(jEnd, row[r] + 1) : jEnd;
                            jMax = Math.max(jMax, lim[r]);
                        }
                        int p0 = gr * BKB; // rows past the block land in spare rows of pb/dsb and dq
                        mac4(w, q, qo + row[0] * d, qo + row[1] * d, qo + row[2] * d, qo + row[3] * d, 1, d,
                                kt, j0, tkp, pb, p0, p0 + BKB, p0 + 2 * BKB, p0 + 3 * BKB, true);
                        for (int r = 0; r < 4; r++) {
                            finishScores(pb, p0 + r * BKB, w, scale, mask, mrow < 0 ? -1 : mrow + row[r] * tk, j0, jEnd, lim[r]);
                            float l = lse[lo + row[r]];
                            shift[r] = l == NEG_INF ? Float.POSITIVE_INFINITY : l; // fully masked row: p = 0
                        }
                        expQuadAt(pb, p0, BKB, w, shift);
                        if (!needDs) continue;
                        mac4(w, g, go + row[0] * d, go + row[1] * d, go + row[2] * d, go + row[3] * d, 1, d,
                                vt, j0, tkp, dsb, p0, p0 + BKB, p0 + 2 * BKB, p0 + 3 * BKB, true);
                        for (int r = 0; r < 4; r++) dscores(pb, dsb, p0 + r * BKB, w, dd[Math.min(gr + r, nr - 1)]);
                        if (dq != null && jMax > j0) {
                            mac4(nv, dsb, p0, p0 + BKB, p0 + 2 * BKB, p0 + 3 * BKB, 1, jMax - j0, kArr, kBase + j0 * kStride,
                                    kStride, dq, gr * dp, (gr + 1) * dp, (gr + 2) * dp, (gr + 3) * dp, false);
                        }
                    }
                    // dVᵀ[l, tile] += Σ_r dO[r, l]·P[r, tile]; dKᵀ[l, tile] += Σ_r Q[r, l]·dS[r, tile]
                    if (dvt != null) outer(g, go + i0 * d, d, nr, pb, w, dvt, j0, tkp);
                    if (dkt != null) outer(q, qo + i0 * d, d, nr, dsb, w, dkt, j0, tkp);
                }
                if (dq != null) {
                    for (int r = 0; r < nr; r++) {
                        scaleRow(dq, r * dp, scale, gq, gqo + (i0 + r) * d, d);
                    }
                }
            }
            if (dkt != null) untranspose(dkt, tkp, tk, d, scale, gk, gko);
            if (dvt != null) untranspose(dvt, tkp, tk, d, 1f, gv, gvo);
        }
    }

    /** acc[l·ts + j0 + ...] += Σ_{r < nr} x[xo + r·d + l]·p[r·BKB + ...] for all l < d, four l at a time. */
    private static void outer(float[] x, int xo, int d, int nr, float[] p, int w, float[] acc, int j0, int ts) {
        for (int l = 0; l < d; l += 4) {
            // an incomplete group reads column l again and writes the spare rows d, d+1, d+2
            int l1 = l + 1 < d ? l + 1 : l, l2 = l + 2 < d ? l + 2 : l, l3 = l + 3 < d ? l + 3 : l;
            int t1 = l + 1 < d ? l + 1 : d, t2 = l + 2 < d ? l + 2 : d + 1, t3 = l + 3 < d ? l + 3 : d + 2;
            mac4(w, x, xo + l, xo + l1, xo + l2, xo + l3, d, nr, p, 0, BKB,
                    acc, l * ts + j0, t1 * ts + j0, t2 * ts + j0, t3 * ts + j0, false);
        }
    }

    // Vector code lives in small leaf methods like these: the drivers above are large, and C2 stops
    // inlining once a compilation grows past its node budget, which would leave vectors boxed.

    /** out[oo + c] = a[ao + c] / div for c < n. */
    private static void divideRow(float[] a, int ao, float div, float[] out, int oo, int n) {
        FloatVector dv = FloatVector.broadcast(S, div);
        int c = 0;
        for (; c + VL <= n; c += VL) ld(a, ao + c).div(dv).intoArray(out, oo + c);
        for (; c < n; c++) out[oo + c] = a[ao + c] / div;
    }

    /** out[oo + c] = a[ao + c] · f for c < n. */
    private static void scaleRow(float[] a, int ao, float f, float[] out, int oo, int n) {
        FloatVector fv = FloatVector.broadcast(S, f);
        int c = 0;
        for (; c + VL <= n; c += VL) ld(a, ao + c).mul(fv).intoArray(out, oo + c);
        for (; c < n; c++) out[oo + c] = a[ao + c] * f;
    }

    /** dS = P ⊙ (dP − D) in place over dP. */
    private static void dscores(float[] p, float[] ds, int off, int w, float dRow) {
        FloatVector dv = FloatVector.broadcast(S, dRow);
        for (int c = 0; c < w; c++) {
            int i = off + c * VL;
            ld(p, i).mul(ld(ds, i).sub(dv)).intoArray(ds, i);
        }
    }

    private static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i + VL <= n; i += VL) acc = ld(a, ao + i).fma(ld(b, bo + i), acc);
        float s = VectorMath.hsum(acc);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    // ================================================================ layout helpers

    /** dst[l · ld + j] = src[so + j · d + l] for j < rows, zero padding up to ld. */
    private static void transpose(float[] src, int so, int rows, int d, float[] dst, int ld) {
        if (ld > rows) {
            for (int l = 0; l < d; l++) Arrays.fill(dst, l * ld + rows, (l + 1) * ld, 0f);
        }
        int[] idx = new int[VL];
        for (int i = 0; i < VL; i++) idx[i] = i * d;
        int j0 = 0;
        for (; j0 + VL <= rows; j0 += VL) { // gather a column strip of VL rows for each l
            int base = so + j0 * d;
            for (int l = 0; l < d; l++) FloatVector.fromArray(S, src, base + l, idx, 0).intoArray(dst, l * ld + j0);
        }
        for (int j = j0; j < rows; j++) {
            int sr = so + j * d;
            for (int l = 0; l < d; l++) dst[l * ld + j] = src[sr + l];
        }
    }

    /** dst[o + j · d + l] = scale · src[l · ld + j] for j < rows. */
    private static void untranspose(float[] src, int ld, int rows, int d, float scale, float[] dst, int o) {
        int[] idx = new int[VL];
        for (int i = 0; i < VL; i++) idx[i] = i * ld;
        int l0 = 0;
        for (; l0 + VL <= d; l0 += VL) { // gather VL panel rows for each key
            int base = l0 * ld;
            for (int j = 0; j < rows; j++) {
                FloatVector.fromArray(S, src, base + j, idx, 0).mul(scale).intoArray(dst, o + j * d + l0);
            }
        }
        for (int j = 0; j < rows && l0 < d; j++) {
            int dr = o + j * d;
            for (int l = l0; l < d; l++) dst[dr + l] = scale * src[l * ld + j];
        }
    }

    // ================================================================ the micro-kernel

    /**
     * Four rows of multiply-accumulate along n: out_r[c] (+)= Σ_{j < n} s[s_r + j·ss] · m[mo + j·ms + c]
     * for c over nvec vectors (starting from zero when init). Split into passes of at most four
     * vectors, as even as possible, so that every pass keeps 4 × (3 or 4) independent FMA chains.
     */
    private static void mac4(int nvec, float[] s, int s0, int s1, int s2, int s3, int ss, int n, float[] m, int mo, int ms,
                             float[] out, int o0, int o1, int o2, int o3, boolean init) {
        if (nvec <= 0) return;
        int passes = (nvec + 3) / 4, base = nvec / passes, extra = nvec % passes;
        int c = 0;
        for (int p = 0; p < passes; p++) {
            int wv = base + (p < extra ? 1 : 0), co = c * VL;
            switch (wv) {
                case 4 -> mac4x4(s, s0, s1, s2, s3, ss, n, m, mo + co, ms, out, o0 + co, o1 + co, o2 + co, o3 + co, init);
                case 3 -> mac4x3(s, s0, s1, s2, s3, ss, n, m, mo + co, ms, out, o0 + co, o1 + co, o2 + co, o3 + co, init);
                case 2 -> mac4x2(s, s0, s1, s2, s3, ss, n, m, mo + co, ms, out, o0 + co, o1 + co, o2 + co, o3 + co, init);
                default -> mac4x1(s, s0, s1, s2, s3, ss, n, m, mo + co, ms, out, o0 + co, o1 + co, o2 + co, o3 + co, init);
            }
            c += wv;
        }
    }

    private static void mac4x4(float[] s, int s0, int s1, int s2, int s3, int ss, int n, float[] m, int mo, int ms,
                               float[] out, int o0, int o1, int o2, int o3, boolean init) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = init ? z : ld(out, o0), a01 = init ? z : ld(out, o0 + VL), a02 = init ? z : ld(out, o0 + 2 * VL), a03 = init ? z : ld(out, o0 + 3 * VL);
        FloatVector a10 = init ? z : ld(out, o1), a11 = init ? z : ld(out, o1 + VL), a12 = init ? z : ld(out, o1 + 2 * VL), a13 = init ? z : ld(out, o1 + 3 * VL);
        FloatVector a20 = init ? z : ld(out, o2), a21 = init ? z : ld(out, o2 + VL), a22 = init ? z : ld(out, o2 + 2 * VL), a23 = init ? z : ld(out, o2 + 3 * VL);
        FloatVector a30 = init ? z : ld(out, o3), a31 = init ? z : ld(out, o3 + VL), a32 = init ? z : ld(out, o3 + 2 * VL), a33 = init ? z : ld(out, o3 + 3 * VL);
        for (int j = 0; j < n; j++) {
            int p = mo + j * ms, q = j * ss;
            FloatVector m0 = ld(m, p), m1 = ld(m, p + VL), m2 = ld(m, p + 2 * VL), m3 = ld(m, p + 3 * VL);
            FloatVector b0 = FloatVector.broadcast(S, s[s0 + q]);
            a00 = b0.fma(m0, a00); a01 = b0.fma(m1, a01); a02 = b0.fma(m2, a02); a03 = b0.fma(m3, a03);
            FloatVector b1 = FloatVector.broadcast(S, s[s1 + q]);
            a10 = b1.fma(m0, a10); a11 = b1.fma(m1, a11); a12 = b1.fma(m2, a12); a13 = b1.fma(m3, a13);
            FloatVector b2 = FloatVector.broadcast(S, s[s2 + q]);
            a20 = b2.fma(m0, a20); a21 = b2.fma(m1, a21); a22 = b2.fma(m2, a22); a23 = b2.fma(m3, a23);
            FloatVector b3 = FloatVector.broadcast(S, s[s3 + q]);
            a30 = b3.fma(m0, a30); a31 = b3.fma(m1, a31); a32 = b3.fma(m2, a32); a33 = b3.fma(m3, a33);
        }
        a00.intoArray(out, o0); a01.intoArray(out, o0 + VL); a02.intoArray(out, o0 + 2 * VL); a03.intoArray(out, o0 + 3 * VL);
        a10.intoArray(out, o1); a11.intoArray(out, o1 + VL); a12.intoArray(out, o1 + 2 * VL); a13.intoArray(out, o1 + 3 * VL);
        a20.intoArray(out, o2); a21.intoArray(out, o2 + VL); a22.intoArray(out, o2 + 2 * VL); a23.intoArray(out, o2 + 3 * VL);
        a30.intoArray(out, o3); a31.intoArray(out, o3 + VL); a32.intoArray(out, o3 + 2 * VL); a33.intoArray(out, o3 + 3 * VL);
    }

    private static void mac4x3(float[] s, int s0, int s1, int s2, int s3, int ss, int n, float[] m, int mo, int ms,
                               float[] out, int o0, int o1, int o2, int o3, boolean init) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = init ? z : ld(out, o0), a01 = init ? z : ld(out, o0 + VL), a02 = init ? z : ld(out, o0 + 2 * VL);
        FloatVector a10 = init ? z : ld(out, o1), a11 = init ? z : ld(out, o1 + VL), a12 = init ? z : ld(out, o1 + 2 * VL);
        FloatVector a20 = init ? z : ld(out, o2), a21 = init ? z : ld(out, o2 + VL), a22 = init ? z : ld(out, o2 + 2 * VL);
        FloatVector a30 = init ? z : ld(out, o3), a31 = init ? z : ld(out, o3 + VL), a32 = init ? z : ld(out, o3 + 2 * VL);
        for (int j = 0; j < n; j++) {
            int p = mo + j * ms, q = j * ss;
            FloatVector m0 = ld(m, p), m1 = ld(m, p + VL), m2 = ld(m, p + 2 * VL);
            FloatVector b0 = FloatVector.broadcast(S, s[s0 + q]);
            a00 = b0.fma(m0, a00); a01 = b0.fma(m1, a01); a02 = b0.fma(m2, a02);
            FloatVector b1 = FloatVector.broadcast(S, s[s1 + q]);
            a10 = b1.fma(m0, a10); a11 = b1.fma(m1, a11); a12 = b1.fma(m2, a12);
            FloatVector b2 = FloatVector.broadcast(S, s[s2 + q]);
            a20 = b2.fma(m0, a20); a21 = b2.fma(m1, a21); a22 = b2.fma(m2, a22);
            FloatVector b3 = FloatVector.broadcast(S, s[s3 + q]);
            a30 = b3.fma(m0, a30); a31 = b3.fma(m1, a31); a32 = b3.fma(m2, a32);
        }
        a00.intoArray(out, o0); a01.intoArray(out, o0 + VL); a02.intoArray(out, o0 + 2 * VL);
        a10.intoArray(out, o1); a11.intoArray(out, o1 + VL); a12.intoArray(out, o1 + 2 * VL);
        a20.intoArray(out, o2); a21.intoArray(out, o2 + VL); a22.intoArray(out, o2 + 2 * VL);
        a30.intoArray(out, o3); a31.intoArray(out, o3 + VL); a32.intoArray(out, o3 + 2 * VL);
    }

    private static void mac4x2(float[] s, int s0, int s1, int s2, int s3, int ss, int n, float[] m, int mo, int ms,
                               float[] out, int o0, int o1, int o2, int o3, boolean init) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = init ? z : ld(out, o0), a01 = init ? z : ld(out, o0 + VL);
        FloatVector a10 = init ? z : ld(out, o1), a11 = init ? z : ld(out, o1 + VL);
        FloatVector a20 = init ? z : ld(out, o2), a21 = init ? z : ld(out, o2 + VL);
        FloatVector a30 = init ? z : ld(out, o3), a31 = init ? z : ld(out, o3 + VL);
        for (int j = 0; j < n; j++) {
            int p = mo + j * ms, q = j * ss;
            FloatVector m0 = ld(m, p), m1 = ld(m, p + VL);
            FloatVector b0 = FloatVector.broadcast(S, s[s0 + q]);
            a00 = b0.fma(m0, a00); a01 = b0.fma(m1, a01);
            FloatVector b1 = FloatVector.broadcast(S, s[s1 + q]);
            a10 = b1.fma(m0, a10); a11 = b1.fma(m1, a11);
            FloatVector b2 = FloatVector.broadcast(S, s[s2 + q]);
            a20 = b2.fma(m0, a20); a21 = b2.fma(m1, a21);
            FloatVector b3 = FloatVector.broadcast(S, s[s3 + q]);
            a30 = b3.fma(m0, a30); a31 = b3.fma(m1, a31);
        }
        a00.intoArray(out, o0); a01.intoArray(out, o0 + VL);
        a10.intoArray(out, o1); a11.intoArray(out, o1 + VL);
        a20.intoArray(out, o2); a21.intoArray(out, o2 + VL);
        a30.intoArray(out, o3); a31.intoArray(out, o3 + VL);
    }

    private static void mac4x1(float[] s, int s0, int s1, int s2, int s3, int ss, int n, float[] m, int mo, int ms,
                               float[] out, int o0, int o1, int o2, int o3, boolean init) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = init ? z : ld(out, o0);
        FloatVector a10 = init ? z : ld(out, o1);
        FloatVector a20 = init ? z : ld(out, o2);
        FloatVector a30 = init ? z : ld(out, o3);
        for (int j = 0; j < n; j++) {
            int p = mo + j * ms, q = j * ss;
            FloatVector m0 = ld(m, p);
            FloatVector b0 = FloatVector.broadcast(S, s[s0 + q]);
            a00 = b0.fma(m0, a00);
            FloatVector b1 = FloatVector.broadcast(S, s[s1 + q]);
            a10 = b1.fma(m0, a10);
            FloatVector b2 = FloatVector.broadcast(S, s[s2 + q]);
            a20 = b2.fma(m0, a20);
            FloatVector b3 = FloatVector.broadcast(S, s[s3 + q]);
            a30 = b3.fma(m0, a30);
        }
        a00.intoArray(out, o0);
        a10.intoArray(out, o1);
        a20.intoArray(out, o2);
        a30.intoArray(out, o3);
    }
}
