package dev.xbt.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Fused scaled dot-product attention for the vector backend, flash-attention style: per (head,
 * block of BQ queries) the keys are visited in tiles of BK with an online softmax, so the working
 * set is one block's scores, never a whole tq × tk matrix.
 *
 * <p>Layout tricks: K (and V for the backward) are transposed once per head into d × tkp panels, so
 * a row of scores is a sum over l of q[i, l] · Kᵀ[l, tile] — broadcast-FMAs along the keys, no lane
 * reductions. Probability × V and dS × K accumulate along d with the rows of V and K. Query rows go
 * in pairs so each loaded panel vector feeds two FMA chains; an odd last row is paired with a copy
 * of itself whose results land in a spare slot.
 *
 * <p>Determinism: the forward splits work over (head, query block) units and every output row is
 * computed by one unit in a fixed order. The backward splits over heads only: gradK and gradV sum
 * over all queries of a head in query order, on one thread.
 */
final class VectorAttention {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int VL = S.length();
    /** Query rows per work unit. */
    static final int BQ = 32;
    /** Keys per tile: four vectors. */
    static final int BK = 4 * VL;
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
        final float[] acc;         // (BQ + 1) × dp output accumulators; row BQ is the spare slot
        final float[] m = new float[BQ + 1], l = new float[BQ + 1];
        final float[] s0 = new float[BK], s1 = new float[BK];

        Forward(int tk, int d) {
            this.tk = tk;
            this.d = d;
            this.tkp = roundUp(tk, VL);
            this.dp = roundUp(d, VL);
            this.kt = new float[d * tkp];
            this.vpad = d % VL == 0 ? null : new float[tk * dp];
            this.acc = new float[(BQ + 1) * dp];
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
                int jEnd = Math.min(tk, j0 + BK);
                int w = (jEnd - j0 + VL - 1) / VL;
                for (int r = 0; r < nr; r += 2) {
                    int ia = i0 + r;
                    boolean pair = r + 1 < nr;
                    int ib = pair ? ia + 1 : ia, slotB = pair ? r + 1 : BQ;
                    dots2(q, qo + ia * d, qo + ib * d, kt, j0, tkp, d, w, s0, s1);
                    int limA = causal ? Math.min(jEnd, ia + 1) : jEnd;
                    int limB = causal ? Math.min(jEnd, ib + 1) : jEnd;
                    finishScores(s0, w, scale, mask, mrow < 0 ? -1 : mrow + ia * tk, j0, jEnd, limA);
                    finishScores(s1, w, scale, mask, mrow < 0 ? -1 : mrow + ib * tk, j0, jEnd, limB);
                    online(s0, w, r);
                    online(s1, w, slotB);
                    int jMax = Math.max(limA, limB);
                    if (jMax > j0) axpy2(s0, s1, jMax - j0, vArr, vOff + j0 * vStride, vStride, nv, acc, r * dp, slotB * dp);
                }
            }
            for (int r = 0; r < nr; r++) {
                int orow = oo + (i0 + r) * d;
                if (m[r] == NEG_INF) {
                    Arrays.fill(out, orow, orow + d, 0f);
                    lse[lo + i0 + r] = NEG_INF;
                    continue;
                }
                float sum = l[r];
                FloatVector inv = FloatVector.broadcast(S, sum);
                int c = 0;
                for (; c + VL <= d; c += VL) ld(acc, r * dp + c).div(inv).intoArray(out, orow + c);
                if (c < d) {
                    VectorMask<Float> mk = S.indexInRange(c, d);
                    ld(acc, r * dp + c).div(inv).intoArray(out, orow + c, mk);
                }
                lse[lo + i0 + r] = (float) (m[r] + Math.log(sum));
            }
        }

        /** Turns a row of scores into probabilities relative to the running max; rescales its state. */
        private void online(float[] s, int w, int slot) {
            FloatVector mx = ld(s, 0);
            for (int c = 1; c < w; c++) mx = mx.max(ld(s, c * VL));
            float mOld = m[slot];
            float mNew = Math.max(mOld, VectorMath.hmax(mx));
            if (mNew == NEG_INF) { // nothing visible yet
                Arrays.fill(s, 0, w * VL, 0f);
                return;
            }
            FloatVector mv = FloatVector.broadcast(S, mNew);
            FloatVector sum = FloatVector.zero(S);
            for (int c = 0; c < w; c++) {
                FloatVector p = VectorMath.exp(ld(s, c * VL).sub(mv));
                p.intoArray(s, c * VL);
                sum = sum.add(p);
            }
            if (mNew != mOld) {
                float alpha = VectorMath.exp(mOld - mNew);
                l[slot] *= alpha;
                int base = slot * dp;
                for (int c = 0; c < dp; c += VL) ld(acc, base + c).mul(alpha).intoArray(acc, base + c);
            }
            l[slot] += VectorMath.hsum(sum);
            m[slot] = mNew;
        }
    }

    /**
     * Raw dot products → scores: s · scale + mask, and -inf for keys at or past {@code lim} (causal
     * limit or the end of the keys).
     */
    private static void finishScores(float[] s, int w, float scale, float[] mask, int mrow, int j0, int jEnd, int lim) {
        for (int c = 0; c < w; c++) {
            int jb = j0 + c * VL;
            FloatVector sv = ld(s, c * VL).mul(scale);
            if (mrow >= 0) {
                FloatVector mv = jb + VL <= jEnd ? ld(mask, mrow + jb)
                        : FloatVector.fromArray(S, mask, mrow + jb, S.indexInRange(jb, jEnd));
                sv = sv.add(mv);
            }
            if (jb + VL > lim) sv = sv.blend(NEG_INF, S.indexInRange(jb, lim).not());
            sv.intoArray(s, c * VL);
        }
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
        final boolean wantQ, wantK, wantV, needDs;
        final float[] kt, vt;      // d × tkp transposes of K and V
        final float[] kpad;        // tk × dp copy of K when d is not a multiple of VL
        final float[] dkt, dvt;    // (d + 1) × tkp accumulators of dKᵀ/scale and dVᵀ; row d is a spare
        final float[] pb, dsb;     // (BQ + 1) × BK probabilities and dS of one (block, tile)
        final float[] dq;          // (BQ + 1) × dp accumulators of dQ/scale
        final float[] dd = new float[BQ + 1]; // D_i = Σ dO·O

        Backward(int tq, int tk, int d, boolean wantQ, boolean wantK, boolean wantV) {
            this.tq = tq;
            this.tk = tk;
            this.d = d;
            this.tkp = roundUp(tk, VL);
            this.dp = roundUp(d, VL);
            this.wantQ = wantQ;
            this.wantK = wantK;
            this.wantV = wantV;
            this.needDs = wantQ || wantK;
            kt = new float[d * tkp];
            vt = needDs ? new float[d * tkp] : null;
            kpad = wantQ && d % VL != 0 ? new float[tk * dp] : null;
            dkt = wantK ? new float[(d + 1) * tkp] : null;
            dvt = wantV ? new float[(d + 1) * tkp] : null;
            pb = new float[(BQ + 1) * BK];
            dsb = needDs ? new float[(BQ + 1) * BK] : null;
            dq = wantQ ? new float[(BQ + 1) * dp] : null;
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
                for (int j0 = 0; j0 < keyLimit; j0 += BK) {
                    int jEnd = Math.min(tk, j0 + BK);
                    int w = (jEnd - j0 + VL - 1) / VL;
                    for (int r = 0; r < nr; r += 2) {
                        int ia = i0 + r;
                        boolean pair = r + 1 < nr;
                        int ib = pair ? ia + 1 : ia, slotB = pair ? r + 1 : BQ;
                        int pa = r * BK, pbo = slotB * BK;
                        dots2(q, qo + ia * d, qo + ib * d, kt, j0, tkp, d, w, pb, pa, pb, pbo);
                        int limA = causal ? Math.min(jEnd, ia + 1) : jEnd;
                        int limB = causal ? Math.min(jEnd, ib + 1) : jEnd;
                        probs(pb, pa, w, scale, mask, mrow < 0 ? -1 : mrow + ia * tk, j0, jEnd, limA, lse[lo + ia]);
                        probs(pb, pbo, w, scale, mask, mrow < 0 ? -1 : mrow + ib * tk, j0, jEnd, limB, lse[lo + ib]);
                        if (!needDs) continue;
                        dots2(g, go + ia * d, go + ib * d, vt, j0, tkp, d, w, dsb, pa, dsb, pbo);
                        dscores(pb, dsb, pa, w, dd[r]);
                        dscores(pb, dsb, pbo, w, pair ? dd[r + 1] : dd[r]);
                        int jMax = Math.max(limA, limB);
                        if (dq != null && jMax > j0) {
                            axpy2(dsb, pa, dsb, pbo, jMax - j0, kArr, kBase + j0 * kStride, kStride, nv, dq, r * dp, slotB * dp);
                        }
                    }
                    if (dvt != null) outer(g, go + i0 * d, d, nr, pb, w, dvt, j0, tkp);
                    if (dkt != null) outer(q, qo + i0 * d, d, nr, dsb, w, dkt, j0, tkp);
                }
                if (dq != null) {
                    for (int r = 0; r < nr; r++) {
                        int row = gqo + (i0 + r) * d;
                        int c = 0;
                        for (; c + VL <= d; c += VL) ld(dq, r * dp + c).mul(scale).intoArray(gq, row + c);
                        if (c < d) ld(dq, r * dp + c).mul(scale).intoArray(gq, row + c, S.indexInRange(c, d));
                    }
                }
            }
            if (dkt != null) untranspose(dkt, tkp, tk, d, scale, gk, gko);
            if (dvt != null) untranspose(dvt, tkp, tk, d, 1f, gv, gvo);
        }
    }

    /** Dot products → p = exp(s · scale + mask − lse), 0 for hidden keys and fully masked rows. */
    private static void probs(float[] s, int so, int w, float scale, float[] mask, int mrow, int j0, int jEnd, int lim,
                              float lse) {
        if (lse == NEG_INF || lim <= j0) {
            Arrays.fill(s, so, so + w * VL, 0f);
            return;
        }
        FloatVector lv = FloatVector.broadcast(S, lse);
        for (int c = 0; c < w; c++) {
            int jb = j0 + c * VL;
            FloatVector sv = ld(s, so + c * VL).mul(scale);
            if (mrow >= 0) {
                FloatVector mv = jb + VL <= jEnd ? ld(mask, mrow + jb)
                        : FloatVector.fromArray(S, mask, mrow + jb, S.indexInRange(jb, jEnd));
                sv = sv.add(mv);
            }
            if (jb + VL > lim) sv = sv.blend(NEG_INF, S.indexInRange(jb, lim).not());
            VectorMath.exp(sv.sub(lv)).intoArray(s, so + c * VL);
        }
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
        final int t = 16;
        for (int j0 = 0; j0 < rows; j0 += t) {
            int j1 = Math.min(rows, j0 + t);
            for (int l0 = 0; l0 < d; l0 += t) {
                int l1 = Math.min(d, l0 + t);
                for (int j = j0; j < j1; j++) {
                    int s = so + j * d;
                    for (int l = l0; l < l1; l++) dst[l * ld + j] = src[s + l];
                }
            }
        }
    }

    /** dst[o + j · d + l] = scale · src[l · ld + j] for j < rows. */
    private static void untranspose(float[] src, int ld, int rows, int d, float scale, float[] dst, int o) {
        final int t = 16;
        for (int j0 = 0; j0 < rows; j0 += t) {
            int j1 = Math.min(rows, j0 + t);
            for (int l0 = 0; l0 < d; l0 += t) {
                int l1 = Math.min(d, l0 + t);
                for (int j = j0; j < j1; j++) {
                    int dr = o + j * d;
                    for (int l = l0; l < l1; l++) dst[dr + l] = scale * src[l * ld + j];
                }
            }
        }
    }

    // ================================================================ micro-kernels

    /**
     * Two rows of dot products against a transposed panel:
     * outA[c] = Σ_l x[xa + l] · t[tOff + l · ts + c], c over w vectors (likewise row b).
     */
    private static void dots2(float[] x, int xa, int xb, float[] t, int tOff, int ts, int d, int w,
                              float[] outA, float[] outB) {
        dots2(x, xa, xb, t, tOff, ts, d, w, outA, 0, outB, 0);
    }

    private static void dots2(float[] x, int xa, int xb, float[] t, int tOff, int ts, int d, int w,
                              float[] outA, int oa, float[] outB, int ob) {
        int c = 0;
        for (; c + 4 <= w; c += 4) dots2x4(x, xa, xb, t, tOff + c * VL, ts, d, outA, oa + c * VL, outB, ob + c * VL);
        if (c + 2 <= w) {
            dots2x2(x, xa, xb, t, tOff + c * VL, ts, d, outA, oa + c * VL, outB, ob + c * VL);
            c += 2;
        }
        if (c < w) dots2x1(x, xa, xb, t, tOff + c * VL, ts, d, outA, oa + c * VL, outB, ob + c * VL);
    }

    private static void dots2x4(float[] x, int xa, int xb, float[] t, int to, int ts, int d,
                                float[] outA, int oa, float[] outB, int ob) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int l = 0; l < d; l++) {
            int r = to + l * ts;
            FloatVector t0 = ld(t, r), t1 = ld(t, r + VL), t2 = ld(t, r + 2 * VL), t3 = ld(t, r + 3 * VL);
            FloatVector xa_ = FloatVector.broadcast(S, x[xa + l]), xb_ = FloatVector.broadcast(S, x[xb + l]);
            a0 = xa_.fma(t0, a0);
            a1 = xa_.fma(t1, a1);
            a2 = xa_.fma(t2, a2);
            a3 = xa_.fma(t3, a3);
            b0 = xb_.fma(t0, b0);
            b1 = xb_.fma(t1, b1);
            b2 = xb_.fma(t2, b2);
            b3 = xb_.fma(t3, b3);
        }
        a0.intoArray(outA, oa);
        a1.intoArray(outA, oa + VL);
        a2.intoArray(outA, oa + 2 * VL);
        a3.intoArray(outA, oa + 3 * VL);
        b0.intoArray(outB, ob);
        b1.intoArray(outB, ob + VL);
        b2.intoArray(outB, ob + 2 * VL);
        b3.intoArray(outB, ob + 3 * VL);
    }

    private static void dots2x2(float[] x, int xa, int xb, float[] t, int to, int ts, int d,
                                float[] outA, int oa, float[] outB, int ob) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, b0 = a0, b1 = a0;
        for (int l = 0; l < d; l++) {
            int r = to + l * ts;
            FloatVector t0 = ld(t, r), t1 = ld(t, r + VL);
            FloatVector xa_ = FloatVector.broadcast(S, x[xa + l]), xb_ = FloatVector.broadcast(S, x[xb + l]);
            a0 = xa_.fma(t0, a0);
            a1 = xa_.fma(t1, a1);
            b0 = xb_.fma(t0, b0);
            b1 = xb_.fma(t1, b1);
        }
        a0.intoArray(outA, oa);
        a1.intoArray(outA, oa + VL);
        b0.intoArray(outB, ob);
        b1.intoArray(outB, ob + VL);
    }

    private static void dots2x1(float[] x, int xa, int xb, float[] t, int to, int ts, int d,
                                float[] outA, int oa, float[] outB, int ob) {
        FloatVector a0 = FloatVector.zero(S), b0 = a0;
        for (int l = 0; l < d; l++) {
            FloatVector t0 = ld(t, to + l * ts);
            a0 = FloatVector.broadcast(S, x[xa + l]).fma(t0, a0);
            b0 = FloatVector.broadcast(S, x[xb + l]).fma(t0, b0);
        }
        a0.intoArray(outA, oa);
        b0.intoArray(outB, ob);
    }

    /** Two rows: accA[c] += Σ_{j < n} pA[j] · m[mo + j · ms + c], c over nv vectors (likewise B). */
    private static void axpy2(float[] pA, float[] pB, int n, float[] m, int mo, int ms, int nv,
                              float[] acc, int aa, int ab) {
        axpy2(pA, 0, pB, 0, n, m, mo, ms, nv, acc, aa, ab);
    }

    private static void axpy2(float[] pA, int pa, float[] pB, int pbo, int n, float[] m, int mo, int ms, int nv,
                              float[] acc, int aa, int ab) {
        int c = 0;
        for (; c + 4 <= nv; c += 4) axpy2x4(pA, pa, pB, pbo, n, m, mo + c * VL, ms, acc, aa + c * VL, ab + c * VL);
        if (c + 2 <= nv) {
            axpy2x2(pA, pa, pB, pbo, n, m, mo + c * VL, ms, acc, aa + c * VL, ab + c * VL);
            c += 2;
        }
        if (c < nv) axpy2x1(pA, pa, pB, pbo, n, m, mo + c * VL, ms, acc, aa + c * VL, ab + c * VL);
    }

    private static void axpy2x4(float[] pA, int pa, float[] pB, int pbo, int n, float[] m, int mo, int ms,
                                float[] acc, int aa, int ab) {
        FloatVector a0 = ld(acc, aa), a1 = ld(acc, aa + VL), a2 = ld(acc, aa + 2 * VL), a3 = ld(acc, aa + 3 * VL);
        FloatVector b0 = ld(acc, ab), b1 = ld(acc, ab + VL), b2 = ld(acc, ab + 2 * VL), b3 = ld(acc, ab + 3 * VL);
        for (int j = 0; j < n; j++) {
            int r = mo + j * ms;
            FloatVector m0 = ld(m, r), m1 = ld(m, r + VL), m2 = ld(m, r + 2 * VL), m3 = ld(m, r + 3 * VL);
            FloatVector x = FloatVector.broadcast(S, pA[pa + j]), y = FloatVector.broadcast(S, pB[pbo + j]);
            a0 = x.fma(m0, a0);
            a1 = x.fma(m1, a1);
            a2 = x.fma(m2, a2);
            a3 = x.fma(m3, a3);
            b0 = y.fma(m0, b0);
            b1 = y.fma(m1, b1);
            b2 = y.fma(m2, b2);
            b3 = y.fma(m3, b3);
        }
        a0.intoArray(acc, aa);
        a1.intoArray(acc, aa + VL);
        a2.intoArray(acc, aa + 2 * VL);
        a3.intoArray(acc, aa + 3 * VL);
        b0.intoArray(acc, ab);
        b1.intoArray(acc, ab + VL);
        b2.intoArray(acc, ab + 2 * VL);
        b3.intoArray(acc, ab + 3 * VL);
    }

    private static void axpy2x2(float[] pA, int pa, float[] pB, int pbo, int n, float[] m, int mo, int ms,
                                float[] acc, int aa, int ab) {
        FloatVector a0 = ld(acc, aa), a1 = ld(acc, aa + VL), b0 = ld(acc, ab), b1 = ld(acc, ab + VL);
        for (int j = 0; j < n; j++) {
            int r = mo + j * ms;
            FloatVector m0 = ld(m, r), m1 = ld(m, r + VL);
            FloatVector x = FloatVector.broadcast(S, pA[pa + j]), y = FloatVector.broadcast(S, pB[pbo + j]);
            a0 = x.fma(m0, a0);
            a1 = x.fma(m1, a1);
            b0 = y.fma(m0, b0);
            b1 = y.fma(m1, b1);
        }
        a0.intoArray(acc, aa);
        a1.intoArray(acc, aa + VL);
        b0.intoArray(acc, ab);
        b1.intoArray(acc, ab + VL);
    }

    private static void axpy2x1(float[] pA, int pa, float[] pB, int pbo, int n, float[] m, int mo, int ms,
                                float[] acc, int aa, int ab) {
        FloatVector a0 = ld(acc, aa), b0 = ld(acc, ab);
        for (int j = 0; j < n; j++) {
            FloatVector m0 = ld(m, mo + j * ms);
            a0 = FloatVector.broadcast(S, pA[pa + j]).fma(m0, a0);
            b0 = FloatVector.broadcast(S, pB[pbo + j]).fma(m0, b0);
        }
        a0.intoArray(acc, aa);
        b0.intoArray(acc, ab);
    }

    /**
     * acc[l · ts + j0 + c] += Σ_{r < nr} x[xo + r · d + l] · p[r · BK + c] for every l < d and c over w
     * vectors: the transposed outer-product sums that give dKᵀ and dVᵀ. Two l rows at a time; an odd
     * last l writes its twin into the spare row d of acc.
     */
    private static void outer(float[] x, int xo, int d, int nr, float[] p, int w, float[] acc, int j0, int ts) {
        for (int l = 0; l < d; l += 2) {
            boolean pair = l + 1 < d;
            int la = l, lb = pair ? l + 1 : l;
            int ta = l * ts + j0, tb = (pair ? l + 1 : d) * ts + j0;
            int c = 0;
            for (; c + 4 <= w; c += 4) outer2x4(x, xo + la, xo + lb, d, nr, p, c * VL, acc, ta + c * VL, tb + c * VL);
            if (c + 2 <= w) {
                outer2x2(x, xo + la, xo + lb, d, nr, p, c * VL, acc, ta + c * VL, tb + c * VL);
                c += 2;
            }
            if (c < w) outer2x1(x, xo + la, xo + lb, d, nr, p, c * VL, acc, ta + c * VL, tb + c * VL);
        }
    }

    private static void outer2x4(float[] x, int xa, int xb, int d, int nr, float[] p, int po,
                                 float[] acc, int ta, int tb) {
        FloatVector a0 = ld(acc, ta), a1 = ld(acc, ta + VL), a2 = ld(acc, ta + 2 * VL), a3 = ld(acc, ta + 3 * VL);
        FloatVector b0 = ld(acc, tb), b1 = ld(acc, tb + VL), b2 = ld(acc, tb + 2 * VL), b3 = ld(acc, tb + 3 * VL);
        for (int r = 0; r < nr; r++) {
            int pr = r * BK + po;
            FloatVector p0 = ld(p, pr), p1 = ld(p, pr + VL), p2 = ld(p, pr + 2 * VL), p3 = ld(p, pr + 3 * VL);
            FloatVector u = FloatVector.broadcast(S, x[xa + r * d]), v = FloatVector.broadcast(S, x[xb + r * d]);
            a0 = u.fma(p0, a0);
            a1 = u.fma(p1, a1);
            a2 = u.fma(p2, a2);
            a3 = u.fma(p3, a3);
            b0 = v.fma(p0, b0);
            b1 = v.fma(p1, b1);
            b2 = v.fma(p2, b2);
            b3 = v.fma(p3, b3);
        }
        a0.intoArray(acc, ta);
        a1.intoArray(acc, ta + VL);
        a2.intoArray(acc, ta + 2 * VL);
        a3.intoArray(acc, ta + 3 * VL);
        b0.intoArray(acc, tb);
        b1.intoArray(acc, tb + VL);
        b2.intoArray(acc, tb + 2 * VL);
        b3.intoArray(acc, tb + 3 * VL);
    }

    private static void outer2x2(float[] x, int xa, int xb, int d, int nr, float[] p, int po,
                                 float[] acc, int ta, int tb) {
        FloatVector a0 = ld(acc, ta), a1 = ld(acc, ta + VL), b0 = ld(acc, tb), b1 = ld(acc, tb + VL);
        for (int r = 0; r < nr; r++) {
            int pr = r * BK + po;
            FloatVector p0 = ld(p, pr), p1 = ld(p, pr + VL);
            FloatVector u = FloatVector.broadcast(S, x[xa + r * d]), v = FloatVector.broadcast(S, x[xb + r * d]);
            a0 = u.fma(p0, a0);
            a1 = u.fma(p1, a1);
            b0 = v.fma(p0, b0);
            b1 = v.fma(p1, b1);
        }
        a0.intoArray(acc, ta);
        a1.intoArray(acc, ta + VL);
        b0.intoArray(acc, tb);
        b1.intoArray(acc, tb + VL);
    }

    private static void outer2x1(float[] x, int xa, int xb, int d, int nr, float[] p, int po,
                                 float[] acc, int ta, int tb) {
        FloatVector a0 = ld(acc, ta), b0 = ld(acc, tb);
        for (int r = 0; r < nr; r++) {
            FloatVector p0 = ld(p, r * BK + po);
            a0 = FloatVector.broadcast(S, x[xa + r * d]).fma(p0, a0);
            b0 = FloatVector.broadcast(S, x[xb + r * d]).fma(p0, b0);
        }
        a0.intoArray(acc, ta);
        b0.intoArray(acc, tb);
    }
}
