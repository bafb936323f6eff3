package dev.xbt.engine.cpu;

import dev.xbt.engine.Rng;
import dev.xbt.engine.backend.BinaryOp;
import dev.xbt.engine.backend.Buffer;
import dev.xbt.engine.backend.ReduceOp;
import dev.xbt.engine.backend.UnaryOp;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The fast CPU backend: Java heap memory, kernels written with the Vector API at the machine's
 * preferred width, split over the cores by {@link Parallel} when the work is large enough.
 *
 * <p>Results are bitwise deterministic: every output element is produced by one chunk, in an order
 * that depends only on the sizes; reductions across chunks (sums of many elements, layer-norm
 * gamma/beta gradients) go through fixed-size blocks combined in block order, so they do not even
 * depend on the thread count. Transcendental functions come from {@link VectorMath}, which gives the
 * same bits in every JIT tier. (Bits can differ between machines whose preferred vector width
 * differs, since lane sums group differently.) Matrix products are {@link VectorGemm}'s; attention
 * is {@link VectorAttention}'s.
 *
 * <p>Layer-norm statistics read each row twice — the sum, then the centred squares — rather than
 * a one-pass Σx, Σx²: the row is in L1 by then, so the second read is nearly free, and it avoids
 * the cancellation of the one-pass variance when the mean is large against the spread.
 */
public final class VectorBackend extends CpuMemory {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int VL = S.length();
    /** Elements per chunk for memory-bound element-wise work. */
    private static final int GRAIN = 1 << 15;
    /** Elements per chunk for work with a transcendental function per element. */
    private static final int GRAIN_MATH = 1 << 12;
    /** Fixed block of a long reduction; partial results are combined in block order. */
    private static final int RED_BLOCK = 1 << 14;
    /** Rows per partial sum of the layer-norm gamma/beta gradients. */
    private static final int LN_BLOCK = 32;

    @Override
    public String name() {
        return "cpu";
    }

    private static FloatVector ld(float[] a, int i) {
        return FloatVector.fromArray(S, a, i);
    }

    private static FloatVector ld(float[] a, int i, VectorMask<Float> m) {
        return FloatVector.fromArray(S, a, i, m);
    }

    private static FloatVector bc(float v) {
        return FloatVector.broadcast(S, v);
    }

    private static int rowGrain(int n, int perElement) {
        return Math.max(1, perElement / Math.max(1, n));
    }

    // ================================================================ linear algebra

    @Override
    public void gemm(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Buffer a, long strideA, Buffer b, long strideB, float beta, Buffer c, long strideC) {
        HeapBuffer A = h(a), B = h(b), C = h(c);
        VectorGemm.sgemm(batch, transA, transB, m, n, k, alpha, A.data, A.off, strideA, transA ? m : k,
                B.data, B.off, strideB, transB ? k : n, beta, C.data, C.off, strideC, n);
    }

    // ================================================================ shape coalescing

    /**
     * Drops axes of size 1 and merges neighbours that are contiguous in both stride sets; fills
     * n/s1/s2 outer to inner and returns the new rank.
     */
    static int coalesce(int[] shape, int[] st1, int[] st2, int[] n, int[] s1, int[] s2) {
        int r = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            int size = shape[d];
            if (size == 1) continue;
            if (r > 0 && (long) st1[d] == (long) s1[r - 1] * n[r - 1] && (long) st2[d] == (long) s2[r - 1] * n[r - 1]) {
                n[r - 1] *= size;
            } else {
                n[r] = size;
                s1[r] = st1[d];
                s2[r] = st2[d];
                r++;
            }
        }
        for (int i = 0, j = r - 1; i < j; i++, j--) {
            int t = n[i]; n[i] = n[j]; n[j] = t;
            t = s1[i]; s1[i] = s1[j]; s1[j] = t;
            t = s2[i]; s2[i] = s2[j]; s2[j] = t;
        }
        return r;
    }

    /** A body called once per line of a coalesced iteration space. */
    @FunctionalInterface
    private interface LineBody {
        void line(int index, int pos1, int pos2);
    }

    /**
     * Walks lines [start, end) of the space formed by the first {@code outer} axes of n (each line
     * being whatever the body does with the remaining axes), passing each line's index and its two
     * operand offsets.
     */
    private static void walk(int outer, int[] n, int[] s1, int[] s2, int base1, int base2, int start, int end,
                             LineBody body) {
        int[] idx = new int[outer];
        int p1 = base1, p2 = base2, rem = start;
        for (int d = outer - 1; d >= 0; d--) {
            idx[d] = rem % n[d];
            rem /= n[d];
            p1 += idx[d] * s1[d];
            p2 += idx[d] * s2[d];
        }
        for (int line = start; line < end; line++) {
            body.line(line, p1, p2);
            for (int d = outer - 1; d >= 0; d--) {
                p1 += s1[d];
                p2 += s2[d];
                if (++idx[d] < n[d]) break;
                p1 -= s1[d] * n[d];
                p2 -= s2[d] * n[d];
                idx[d] = 0;
            }
        }
    }

    // ================================================================ element-wise

    @Override
    public void binary(BinaryOp op, int[] shape, Buffer a, int[] aStrides, Buffer b, int[] bStrides, Buffer out) {
        HeapBuffer A = h(a), B = h(b), O = h(out);
        int total = (int) O.length();
        if (total == 0) return;
        int[] n = new int[shape.length], sa = new int[shape.length], sb = new int[shape.length];
        int r = coalesce(shape, aStrides, bStrides, n, sa, sb);
        float[] ad = A.data, bd = B.data, od = O.data;
        int ao = A.off, bo = B.off, oo = O.off;
        if (r == 0) {
            od[oo] = op.apply(ad[ao], bd[bo]);
            return;
        }
        int last = n[r - 1], la = sa[r - 1], lb = sb[r - 1];
        int lines = total / last;
        if (lines == 1) {
            Parallel.forRange(last, GRAIN, (s, e) -> line(op, ad, ao + s * la, la, bd, bo + s * lb, lb, od, oo + s, e - s));
            return;
        }
        int outer = r - 1;
        Parallel.forRange(lines, rowGrain(last, GRAIN), (s, e) -> walk(outer, n, sa, sb, ao, bo, s, e,
                (row, pa, pb) -> line(op, ad, pa, la, bd, pb, lb, od, oo + row * last, last)));
    }

    /** o[i] = a[ai + i·sa] op b[bi + i·sb] for i < len. */
    private static void line(BinaryOp op, float[] a, int ai, int sa, float[] b, int bi, int sb, float[] o, int oi, int len) {
        if (sa == 1 && sb == 1) lineVV(op, a, ai, b, bi, o, oi, len);
        else if (sa == 1 && sb == 0) lineVS(op, a, ai, b[bi], o, oi, len);
        else if (sa == 0 && sb == 1) lineSV(op, a[ai], b, bi, o, oi, len);
        else lineStrided(op, a, ai, sa, b, bi, sb, o, oi, len);
    }

    private static void lineVV(BinaryOp op, float[] a, int ai, float[] b, int bi, float[] o, int oi, int len) {
        int i = 0, ub = S.loopBound(len);
        switch (op) {
            case ADD -> {
                for (; i < ub; i += VL) ld(a, ai + i).add(ld(b, bi + i)).intoArray(o, oi + i);
                for (; i < len; i++) o[oi + i] = a[ai + i] + b[bi + i];
            }
            case SUB -> {
                for (; i < ub; i += VL) ld(a, ai + i).sub(ld(b, bi + i)).intoArray(o, oi + i);
                for (; i < len; i++) o[oi + i] = a[ai + i] - b[bi + i];
            }
            case MUL -> {
                for (; i < ub; i += VL) ld(a, ai + i).mul(ld(b, bi + i)).intoArray(o, oi + i);
                for (; i < len; i++) o[oi + i] = a[ai + i] * b[bi + i];
            }
            case DIV -> {
                for (; i < ub; i += VL) ld(a, ai + i).div(ld(b, bi + i)).intoArray(o, oi + i);
                for (; i < len; i++) o[oi + i] = a[ai + i] / b[bi + i];
            }
        }
    }

    private static void lineVS(BinaryOp op, float[] a, int ai, float bs, float[] o, int oi, int len) {
        int i = 0, ub = S.loopBound(len);
        FloatVector bv = bc(bs);
        switch (op) {
            case ADD -> {
                for (; i < ub; i += VL) ld(a, ai + i).add(bv).intoArray(o, oi + i);
                for (; i < len; i++) o[oi + i] = a[ai + i] + bs;
            }
            case SUB -> {
                for (; i < ub; i += VL) ld(a, ai + i).sub(bv).intoArray(o, oi + i);
                for (; i < len; i++) o[oi + i] = a[ai + i] - bs;
            }
            case MUL -> {
                for (; i < ub; i += VL) ld(a, ai + i).mul(bv).intoArray(o, oi + i);
                for (; i < len; i++) o[oi + i] = a[ai + i] * bs;
            }
            case DIV -> {
                for (; i < ub; i += VL) ld(a, ai + i).div(bv).intoArray(o, oi + i);
                for (; i < len; i++) o[oi + i] = a[ai + i] / bs;
            }
        }
    }

    private static void lineSV(BinaryOp op, float as, float[] b, int bi, float[] o, int oi, int len) {
        int i = 0, ub = S.loopBound(len);
        FloatVector av = bc(as);
        switch (op) {
            case ADD -> {
                for (; i < ub; i += VL) av.add(ld(b, bi + i)).intoArray(o, oi + i);
                for (; i < len; i++) o[oi + i] = as + b[bi + i];
            }
            case SUB -> {
                for (; i < ub; i += VL) av.sub(ld(b, bi + i)).intoArray(o, oi + i);
                for (; i < len; i++) o[oi + i] = as - b[bi + i];
            }
            case MUL -> {
                for (; i < ub; i += VL) av.mul(ld(b, bi + i)).intoArray(o, oi + i);
                for (; i < len; i++) o[oi + i] = as * b[bi + i];
            }
            case DIV -> {
                for (; i < ub; i += VL) av.div(ld(b, bi + i)).intoArray(o, oi + i);
                for (; i < len; i++) o[oi + i] = as / b[bi + i];
            }
        }
    }

    private static void lineStrided(BinaryOp op, float[] a, int ai, int sa, float[] b, int bi, int sb,
                                    float[] o, int oi, int len) {
        switch (op) {
            case ADD -> { for (int i = 0; i < len; i++) o[oi + i] = a[ai + i * sa] + b[bi + i * sb]; }
            case SUB -> { for (int i = 0; i < len; i++) o[oi + i] = a[ai + i * sa] - b[bi + i * sb]; }
            case MUL -> { for (int i = 0; i < len; i++) o[oi + i] = a[ai + i * sa] * b[bi + i * sb]; }
            case DIV -> { for (int i = 0; i < len; i++) o[oi + i] = a[ai + i * sa] / b[bi + i * sb]; }
        }
    }

    private static boolean transcendental(UnaryOp op) {
        return switch (op) {
            case EXP, LOG, TANH, SIGMOID, GELU, QUICK_GELU -> true;
            default -> false;
        };
    }

    @Override
    public void unary(UnaryOp op, Buffer x, Buffer out) {
        HeapBuffer X = h(x), O = h(out);
        int n = (int) X.length();
        float[] xd = X.data, od = O.data;
        int xo = X.off, oo = O.off;
        Parallel.forRange(n, transcendental(op) ? GRAIN_MATH : GRAIN, (s, e) -> unaryRange(op, xd, xo + s, od, oo + s, e - s));
    }

    private static final float QG = (float) UnaryOp.QUICK_GELU_ALPHA;

    // Each op has its own small loop method, so that C2 compiles it with the whole inlining budget
    // (one method holding every op exceeds the node limits and leaves vectors boxed). Every vector,
    // the last partial one included, runs through the same masked code: one inlined copy of the
    // function per op, and the same bits for an element wherever it sits.

    /** out = f(x) over n elements. */
    private static void unaryRange(UnaryOp op, float[] x, int xo, float[] o, int oo, int n) {
        switch (op) {
            case NEG -> fNeg(x, xo, o, oo, n);
            case EXP -> fExp(x, xo, o, oo, n);
            case LOG -> fLog(x, xo, o, oo, n);
            case SQRT -> fSqrt(x, xo, o, oo, n);
            case RSQRT -> fRsqrt(x, xo, o, oo, n);
            case SQUARE -> fSquare(x, xo, o, oo, n);
            case RECIPROCAL -> fReciprocal(x, xo, o, oo, n);
            case ABS -> fAbs(x, xo, o, oo, n);
            case TANH -> fTanh(x, xo, o, oo, n);
            case SIGMOID -> fSigmoid(x, xo, o, oo, n);
            case RELU -> fRelu(x, xo, o, oo, n);
            case GELU -> fGelu(x, xo, o, oo, n);
            case QUICK_GELU -> fQuickGelu(x, xo, o, oo, n);
        }
    }

    private static void fNeg(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            ld(x, xo + i, m).neg().intoArray(o, oo + i, m);
        }
    }

    private static void fExp(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            VectorMath.exp(ld(x, xo + i, m)).intoArray(o, oo + i, m);
        }
    }

    private static void fLog(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            VectorMath.log(ld(x, xo + i, m)).intoArray(o, oo + i, m);
        }
    }

    private static void fSqrt(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            ld(x, xo + i, m).sqrt().intoArray(o, oo + i, m);
        }
    }

    private static void fRsqrt(float[] x, int xo, float[] o, int oo, int n) {
        FloatVector one = bc(1f);
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            one.div(ld(x, xo + i, m).sqrt()).intoArray(o, oo + i, m);
        }
    }

    private static void fSquare(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = ld(x, xo + i, m);
            v.mul(v).intoArray(o, oo + i, m);
        }
    }

    private static void fReciprocal(float[] x, int xo, float[] o, int oo, int n) {
        FloatVector one = bc(1f);
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            one.div(ld(x, xo + i, m)).intoArray(o, oo + i, m);
        }
    }

    private static void fAbs(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            ld(x, xo + i, m).abs().intoArray(o, oo + i, m);
        }
    }

    private static void fTanh(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            VectorMath.tanh(ld(x, xo + i, m)).intoArray(o, oo + i, m);
        }
    }

    private static void fSigmoid(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            VectorMath.sigmoid(ld(x, xo + i, m)).intoArray(o, oo + i, m);
        }
    }

    private static void fRelu(float[] x, int xo, float[] o, int oo, int n) {
        FloatVector zero = FloatVector.zero(S);
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = ld(x, xo + i, m);
            zero.blend(v, v.compare(VectorOperators.GT, 0f)).intoArray(o, oo + i, m);
        }
    }

    private static void fGelu(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            VectorMath.gelu(ld(x, xo + i, m)).intoArray(o, oo + i, m);
        }
    }

    private static void fQuickGelu(float[] x, int xo, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = ld(x, xo + i, m);
            v.mul(VectorMath.sigmoid(v.mul(QG))).intoArray(o, oo + i, m);
        }
    }

    @Override
    public void unaryBackward(UnaryOp op, Buffer x, Buffer gradOut, Buffer gradIn) {
        HeapBuffer X = h(x), G = h(gradOut), O = h(gradIn);
        int n = (int) X.length();
        float[] xd = X.data, gd = G.data, od = O.data;
        int xo = X.off, go = G.off, oo = O.off;
        Parallel.forRange(n, transcendental(op) ? GRAIN_MATH : GRAIN,
                (s, e) -> unaryBackwardRange(op, xd, xo + s, gd, go + s, od, oo + s, e - s));
    }

    /** gradIn = gradOut · f'(x) over n elements. */
    private static void unaryBackwardRange(UnaryOp op, float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        switch (op) {
            case NEG -> dNeg(g, go, o, oo, n);
            case EXP -> dExp(x, xo, g, go, o, oo, n);
            case LOG -> dLog(x, xo, g, go, o, oo, n);
            case SQRT -> dSqrt(x, xo, g, go, o, oo, n);
            case RSQRT -> dRsqrt(x, xo, g, go, o, oo, n);
            case SQUARE -> dSquare(x, xo, g, go, o, oo, n);
            case RECIPROCAL -> dReciprocal(x, xo, g, go, o, oo, n);
            case ABS -> dAbs(x, xo, g, go, o, oo, n);
            case TANH -> dTanh(x, xo, g, go, o, oo, n);
            case SIGMOID -> dSigmoid(x, xo, g, go, o, oo, n);
            case RELU -> dRelu(x, xo, g, go, o, oo, n);
            case GELU -> dGelu(x, xo, g, go, o, oo, n);
            case QUICK_GELU -> dQuickGelu(x, xo, g, go, o, oo, n);
        }
    }

    private static void dNeg(float[] g, int go, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            ld(g, go + i, m).neg().intoArray(o, oo + i, m);
        }
    }

    private static void dExp(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            ld(g, go + i, m).mul(VectorMath.exp(ld(x, xo + i, m))).intoArray(o, oo + i, m);
        }
    }

    private static void dLog(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            ld(g, go + i, m).div(ld(x, xo + i, m)).intoArray(o, oo + i, m);
        }
    }

    private static void dSqrt(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            ld(g, go + i, m).mul(0.5f).div(ld(x, xo + i, m).sqrt()).intoArray(o, oo + i, m);
        }
    }

    private static void dRsqrt(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector xv = ld(x, xo + i, m);
            ld(g, go + i, m).mul(-0.5f).div(xv.mul(xv.sqrt())).intoArray(o, oo + i, m);
        }
    }

    private static void dSquare(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector xv = ld(x, xo + i, m);
            ld(g, go + i, m).mul(xv.add(xv)).intoArray(o, oo + i, m);
        }
    }

    private static void dReciprocal(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector xv = ld(x, xo + i, m);
            ld(g, go + i, m).neg().div(xv.mul(xv)).intoArray(o, oo + i, m);
        }
    }

    private static void dAbs(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        FloatVector zero = FloatVector.zero(S);
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector xv = ld(x, xo + i, m);
            FloatVector sign = zero.blend(1f, xv.compare(VectorOperators.GT, 0f)).blend(-1f, xv.lt(0f))
                    .blend(Float.NaN, xv.test(VectorOperators.IS_NAN));
            ld(g, go + i, m).mul(sign).intoArray(o, oo + i, m);
        }
    }

    private static void dTanh(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            ld(g, go + i, m).mul(VectorMath.tanhGrad(ld(x, xo + i, m))).intoArray(o, oo + i, m);
        }
    }

    private static void dSigmoid(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            ld(g, go + i, m).mul(VectorMath.sigmoidGrad(ld(x, xo + i, m))).intoArray(o, oo + i, m);
        }
    }

    private static void dRelu(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        FloatVector zero = FloatVector.zero(S);
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector step = zero.blend(1f, ld(x, xo + i, m).compare(VectorOperators.GT, 0f));
            ld(g, go + i, m).mul(step).intoArray(o, oo + i, m);
        }
    }

    private static void dGelu(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            ld(g, go + i, m).mul(VectorMath.geluGrad(ld(x, xo + i, m))).intoArray(o, oo + i, m);
        }
    }

    private static void dQuickGelu(float[] x, int xo, float[] g, int go, float[] o, int oo, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector xv = ld(x, xo + i, m).mul(QG);
            // d/dx x·σ(αx) = σ(αx) + αx·σ(αx)(1 − σ(αx))
            ld(g, go + i, m).mul(xv.fma(VectorMath.sigmoidGrad(xv), VectorMath.sigmoid(xv))).intoArray(o, oo + i, m);
        }
    }

    @Override
    public void affine(Buffer x, float scale, float shift, Buffer out) {
        HeapBuffer X = h(x), O = h(out);
        int n = (int) X.length();
        float[] xd = X.data, od = O.data;
        int xo = X.off, oo = O.off;
        Parallel.forRange(n, GRAIN, (s, e) -> {
            int len = e - s, xi = xo + s, oi = oo + s, i = 0, ub = S.loopBound(len);
            FloatVector sc = bc(scale), sh = bc(shift);
            for (; i < ub; i += VL) ld(xd, xi + i).fma(sc, sh).intoArray(od, oi + i);
            for (; i < len; i++) od[oi + i] = Math.fma(xd[xi + i], scale, shift);
        });
    }

    // ================================================================ reductions

    @Override
    public void reduce(ReduceOp op, Buffer x, int outer, int n, int inner, Buffer out) {
        HeapBuffer X = h(x), O = h(out);
        boolean sum = op == ReduceOp.SUM;
        float[] xd = X.data, od = O.data;
        int xo = X.off, oo = O.off;
        if (outer <= 0 || inner <= 0) return;
        if (n <= 0) {
            Arrays.fill(od, oo, oo + outer * inner, sum ? 0f : Float.NEGATIVE_INFINITY);
            return;
        }
        if (inner == 1) {
            int nb = (n + RED_BLOCK - 1) / RED_BLOCK;
            if (nb == 1) {
                Parallel.forRange(outer, rowGrain(n, GRAIN), (s, e) -> {
                    for (int o = s; o < e; o++) od[oo + o] = sum ? rowSum(xd, xo + o * n, n) : rowMax(xd, xo + o * n, n);
                });
                return;
            }
            float[] part = new float[outer * nb];
            Parallel.forRange(outer * nb, 2, (s, e) -> {
                for (int u = s; u < e; u++) {
                    int o = u / nb, blk = u % nb;
                    int from = blk * RED_BLOCK, len = Math.min(RED_BLOCK, n - from);
                    int at = xo + o * n + from;
                    part[u] = sum ? rowSum(xd, at, len) : rowMax(xd, at, len);
                }
            });
            for (int o = 0; o < outer; o++) {
                float acc = part[o * nb];
                for (int blk = 1; blk < nb; blk++) acc = sum ? acc + part[o * nb + blk] : Math.max(acc, part[o * nb + blk]);
                od[oo + o] = acc;
            }
            return;
        }
        // inner > 1: columns summed down the middle axis, vectorized across the inner axis
        final int cw = 4 * VL;
        int chunks = (inner + cw - 1) / cw;
        int perUnit = (int) Math.min(Integer.MAX_VALUE, (long) n * cw);
        Parallel.forRange(outer * chunks, rowGrain(perUnit, GRAIN), (s, e) -> {
            for (int u = s; u < e; u++) {
                int o = u / chunks, i0 = (u % chunks) * cw;
                int w = Math.min(cw, inner - i0);
                columnReduce(sum, xd, xo + o * n * inner + i0, n, inner, w, od, oo + o * inner + i0);
            }
        });
    }

    static float rowSum(float[] x, int off, int n) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * VL <= n; i += 4 * VL) {
            a0 = a0.add(ld(x, off + i));
            a1 = a1.add(ld(x, off + i + VL));
            a2 = a2.add(ld(x, off + i + 2 * VL));
            a3 = a3.add(ld(x, off + i + 3 * VL));
        }
        for (; i + VL <= n; i += VL) a0 = a0.add(ld(x, off + i));
        float s = VectorMath.hsum(a0.add(a1).add(a2.add(a3)));
        for (; i < n; i++) s += x[off + i];
        return s;
    }

    static float rowMax(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (n >= VL) {
            FloatVector a0 = bc(Float.NEGATIVE_INFINITY), a1 = a0;
            for (; i + 2 * VL <= n; i += 2 * VL) {
                a0 = a0.max(ld(x, off + i));
                a1 = a1.max(ld(x, off + i + VL));
            }
            for (; i + VL <= n; i += VL) a0 = a0.max(ld(x, off + i));
            m = VectorMath.hmax(a0.max(a1));
        }
        for (; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    /** out[c] = reduce over j of x[base + j·inner + c] for c < w (w ≤ 4·VL). */
    /** Rows summed per partial in column sums (see columnReduce). */
    private static final int COLUMN_BLOCK = 16;

    private static void columnReduce(boolean sum, float[] x, int base, int n, int inner, int w, float[] o, int oo) {
        if (w == 4 * VL) {
            FloatVector init = sum ? FloatVector.zero(S) : bc(Float.NEGATIVE_INFINITY);
            FloatVector a0 = init, a1 = init, a2 = init, a3 = init;
            if (sum) {
                // Two-level summation: blocks of COLUMN_BLOCK rows, then the block sums. A single running
                // float sum down hundreds of rows loses ~n·eps; this keeps it near (n/B + B)·eps.
                for (int j0 = 0; j0 < n; j0 += COLUMN_BLOCK) {
                    FloatVector b0 = FloatVector.zero(S), b1 = b0, b2 = b0, b3 = b0;
                    int j1 = Math.min(n, j0 + COLUMN_BLOCK);
                    for (int j = j0, p = base + j0 * inner; j < j1; j++, p += inner) {
                        b0 = b0.add(ld(x, p));
                        b1 = b1.add(ld(x, p + VL));
                        b2 = b2.add(ld(x, p + 2 * VL));
                        b3 = b3.add(ld(x, p + 3 * VL));
                    }
                    a0 = a0.add(b0);
                    a1 = a1.add(b1);
                    a2 = a2.add(b2);
                    a3 = a3.add(b3);
                }
            } else {
                for (int j = 0, p = base; j < n; j++, p += inner) {
                    a0 = a0.max(ld(x, p));
                    a1 = a1.max(ld(x, p + VL));
                    a2 = a2.max(ld(x, p + 2 * VL));
                    a3 = a3.max(ld(x, p + 3 * VL));
                }
            }
            a0.intoArray(o, oo);
            a1.intoArray(o, oo + VL);
            a2.intoArray(o, oo + 2 * VL);
            a3.intoArray(o, oo + 3 * VL);
            return;
        }
        for (int c = 0; c < w; c += VL) {
            VectorMask<Float> m = S.indexInRange(c, w);
            FloatVector a = sum ? FloatVector.zero(S) : bc(Float.NEGATIVE_INFINITY);
            if (sum) {
                for (int j0 = 0; j0 < n; j0 += COLUMN_BLOCK) {
                    FloatVector b = FloatVector.zero(S);
                    int j1 = Math.min(n, j0 + COLUMN_BLOCK);
                    for (int j = j0, p = base + c + j0 * inner; j < j1; j++, p += inner) b = b.add(ld(x, p, m));
                    a = a.add(b);
                }
            } else {
                for (int j = 0, p = base + c; j < n; j++, p += inner) a = a.max(ld(x, p, m));
            }
            a.intoArray(o, oo + c, m);
        }
    }

    @Override
    public void reduceMaxBackward(Buffer x, Buffer max, Buffer gradOut, int outer, int n, int inner, Buffer gradIn) {
        HeapBuffer X = h(x), M = h(max), G = h(gradOut), O = h(gradIn);
        float[] xd = X.data, md = M.data, gd = G.data, od = O.data;
        int xo = X.off, mo = M.off, go = G.off, oo = O.off;
        if (outer <= 0 || inner <= 0 || n <= 0) return;
        if (inner == 1) {
            Parallel.forRange(outer, rowGrain(n, GRAIN), (s, e) -> {
                for (int o = s; o < e; o++) {
                    int row = xo + o * n, orow = oo + o * n;
                    float m = md[mo + o];
                    int hit = -1, j = 0;
                    FloatVector mv = bc(m);
                    for (; j + VL <= n && hit < 0; j += VL) {
                        int f = ld(xd, row + j).eq(mv).firstTrue();
                        if (f < VL) hit = j + f;
                    }
                    for (; j < n && hit < 0; j++) if (xd[row + j] == m) hit = j;
                    Arrays.fill(od, orow, orow + n, 0f);
                    if (hit >= 0) od[orow + hit] = gd[go + o];
                }
            });
            return;
        }
        int chunks = (inner + VL - 1) / VL;
        Parallel.forRange(outer * chunks, rowGrain(n * VL, GRAIN), (s, e) -> {
            for (int u = s; u < e; u++) {
                int o = u / chunks, c = (u % chunks) * VL;
                VectorMask<Float> lanes = S.indexInRange(c, inner);
                FloatVector mv = ld(md, mo + o * inner + c, lanes), gv = ld(gd, go + o * inner + c, lanes);
                VectorMask<Float> given = S.maskAll(false);
                FloatVector zero = FloatVector.zero(S);
                for (int j = 0, p = o * n * inner + c; j < n; j++, p += inner) {
                    VectorMask<Float> hit = ld(xd, xo + p, lanes).eq(mv).andNot(given);
                    zero.blend(gv, hit).intoArray(od, oo + p, lanes);
                    given = given.or(hit);
                }
            }
        });
    }

    // ================================================================ data movement

    @Override
    public void stridedCopy(int[] shape, Buffer src, int[] srcStrides, Buffer dst, int[] dstStrides, boolean accumulate) {
        HeapBuffer Sb = h(src), D = h(dst);
        long totalL = 1;
        for (int d : shape) totalL *= d;
        if (totalL == 0) return;
        int total = (int) totalL;
        int rank = shape.length;
        int[] n = new int[rank], ss = new int[rank], ds = new int[rank];
        int r = coalesce(shape, srcStrides, dstStrides, n, ss, ds);
        float[] sd = Sb.data, dd = D.data;
        int so = Sb.off, doff = D.off;
        if (r == 0) {
            dd[doff] = accumulate ? dd[doff] + sd[so] : sd[so];
            return;
        }
        boolean parallel = true; // only when no destination element is written twice
        for (int d = 0; d < r; d++) parallel &= ds[d] != 0;
        int last = n[r - 1], ls = ss[r - 1], ld = ds[r - 1];
        if (r >= 2 && ld == 1 && ls != 1 && ss[r - 2] == 1 && ds[r - 2] != 0) {
            transposeCopy(r, n, ss, ds, sd, so, dd, doff, accumulate, parallel);
            return;
        }
        int lines = total / last, outer = r - 1;
        Parallel.RangeBody body = (s, e) -> walk(outer, n, ss, ds, so, doff, s, e,
                (row, ps, pd) -> copyLine(sd, ps, ls, dd, pd, ld, last, accumulate));
        if (parallel) {
            if (lines == 1) {
                Parallel.forRange(last, GRAIN, (s, e) -> copyLine(sd, so + s * ls, ls, dd, doff + s * ld, ld, e - s, accumulate));
            } else {
                Parallel.forRange(lines, rowGrain(last, GRAIN), body);
            }
        } else {
            body.run(0, lines);
        }
    }

    private static void copyLine(float[] s, int si, int ss, float[] d, int di, int ds, int len, boolean acc) {
        if (ss == 1 && ds == 1) {
            if (!acc) {
                System.arraycopy(s, si, d, di, len);
                return;
            }
            int i = 0, ub = S.loopBound(len);
            for (; i < ub; i += VL) ld(d, di + i).add(ld(s, si + i)).intoArray(d, di + i);
            for (; i < len; i++) d[di + i] += s[si + i];
        } else if (ss == 0 && ds == 1 && !acc) {
            Arrays.fill(d, di, di + len, s[si]);
        } else if (acc) {
            for (int i = 0; i < len; i++) d[di + i * ds] += s[si + i * ss];
        } else {
            for (int i = 0; i < len; i++) d[di + i * ds] = s[si + i * ss];
        }
    }

    /**
     * The last two axes swap contiguity (source contiguous along axis r-2, destination along r-1):
     * copies rows × cols planes in 16 × 16 tiles, split over outer planes and tile rows.
     */
    private static void transposeCopy(int r, int[] n, int[] ss, int[] ds, float[] sd, int so, float[] dd, int doff,
                                      boolean acc, boolean parallel) {
        final int t = 16;
        int rows = n[r - 2], cols = n[r - 1];
        int sCol = ss[r - 1], dRow = ds[r - 2];
        int planes = 1;
        for (int d = 0; d < r - 2; d++) planes *= n[d];
        int tileRows = (rows + t - 1) / t;
        int units = planes * tileRows;
        int outer = r - 2;
        int[] idx = new int[VL];
        for (int i = 0; i < VL; i++) idx[i] = i * sCol;
        Parallel.RangeBody body = (s, e) -> {
            for (int u = s; u < e; u++) {
                int plane = u / tileRows, i0 = (u % tileRows) * t, i1 = Math.min(rows, i0 + t);
                int ps = so, pd = doff, rem = plane;
                for (int d = outer - 1; d >= 0; d--) {
                    int ix = rem % n[d];
                    rem /= n[d];
                    ps += ix * ss[d];
                    pd += ix * ds[d];
                }
                int j0 = 0;
                for (; j0 + VL <= cols; j0 += VL) {
                    // VL source rows gathered per destination vector; the tile's i reuse their cache lines
                    if (acc) gatherAddColumns(sd, ps + j0 * sCol, idx, dd, pd + j0, dRow, i0, i1);
                    else gatherColumns(sd, ps + j0 * sCol, idx, dd, pd + j0, dRow, i0, i1);
                }
                for (int i = i0; i < i1 && j0 < cols; i++) {
                    int drow = pd + i * dRow, srow = ps + i;
                    if (acc) {
                        for (int j = j0; j < cols; j++) dd[drow + j] += sd[srow + j * sCol];
                    } else {
                        for (int j = j0; j < cols; j++) dd[drow + j] = sd[srow + j * sCol];
                    }
                }
            }
        };
        if (parallel) Parallel.forRange(units, Math.max(1, GRAIN / (t * Math.max(1, cols))), body);
        else body.run(0, units);
    }

    /** d[dOff + i·dRow + (0..VL)] = s[sOff + i + idx[0..VL)] for i in [i0, i1). */
    private static void gatherColumns(float[] s, int sOff, int[] idx, float[] d, int dOff, int dRow, int i0, int i1) {
        for (int i = i0; i < i1; i++) FloatVector.fromArray(S, s, sOff + i, idx, 0).intoArray(d, dOff + i * dRow);
    }

    private static void gatherAddColumns(float[] s, int sOff, int[] idx, float[] d, int dOff, int dRow, int i0, int i1) {
        for (int i = i0; i < i1; i++) {
            int o = dOff + i * dRow;
            ld(d, o).add(FloatVector.fromArray(S, s, sOff + i, idx, 0)).intoArray(d, o);
        }
    }

    @Override
    public void gatherRows(Buffer table, int rowLen, int[] rows, Buffer out) {
        HeapBuffer T = h(table), O = h(out);
        float[] td = T.data, od = O.data;
        int to = T.off, oo = O.off;
        Parallel.forRange(rows.length, rowGrain(rowLen, GRAIN), (s, e) -> {
            for (int r = s; r < e; r++) System.arraycopy(td, to + rows[r] * rowLen, od, oo + r * rowLen, rowLen);
        });
    }

    @Override
    public void scatterAddRows(Buffer src, int rowLen, int[] rows, Buffer table) {
        HeapBuffer Sb = h(src), T = h(table);
        float[] sd = Sb.data, td = T.data;
        int so = Sb.off, to = T.off;
        int nvec = (rowLen + VL - 1) / VL;
        // split over column ranges: every element still adds its rows in row order
        Parallel.forRange(nvec, rowGrain(rows.length * VL, GRAIN), (s, e) -> {
            int c0 = s * VL, c1 = Math.min(rowLen, e * VL);
            for (int r = 0; r < rows.length; r++) {
                int si = so + r * rowLen, ti = to + rows[r] * rowLen;
                int c = c0;
                for (; c + VL <= c1; c += VL) ld(td, ti + c).add(ld(sd, si + c)).intoArray(td, ti + c);
                for (; c < c1; c++) td[ti + c] += sd[si + c];
            }
        });
    }

    // ================================================================ layer norm

    @Override
    public void layerNorm(Buffer x, Buffer gamma, Buffer beta, int rows, int n, float eps,
                          Buffer out, Buffer mean, Buffer rstd) {
        HeapBuffer X = h(x), G = h(gamma), B = h(beta), O = h(out), M = h(mean), R = h(rstd);
        float[] xd = X.data, gd = G.data, bd = B.data, od = O.data, md = M.data, rd = R.data;
        int xo = X.off, go = G.off, bo = B.off, oo = O.off, mo = M.off, ro = R.off;
        Parallel.forRange(rows, rowGrain(n, GRAIN / 2), (s, e) -> {
            for (int r = s; r < e; r++) {
                int xi = xo + r * n, oi = oo + r * n;
                // statistics: the row is in L1 after the first read, so the centred second pass is cheap
                float mu = (float) ((double) rowSum(xd, xi, n) / n);
                FloatVector mv = bc(mu), v0 = FloatVector.zero(S), v1 = v0;
                int j = 0;
                for (; j + 2 * VL <= n; j += 2 * VL) {
                    FloatVector d0 = ld(xd, xi + j).sub(mv), d1 = ld(xd, xi + j + VL).sub(mv);
                    v0 = d0.fma(d0, v0);
                    v1 = d1.fma(d1, v1);
                }
                for (; j + VL <= n; j += VL) {
                    FloatVector d0 = ld(xd, xi + j).sub(mv);
                    v0 = d0.fma(d0, v0);
                }
                float var = VectorMath.hsum(v0.add(v1));
                for (; j < n; j++) {
                    float dlt = xd[xi + j] - mu;
                    var += dlt * dlt;
                }
                float rs = (float) (1.0 / Math.sqrt((double) var / n + eps));
                FloatVector rv = bc(rs);
                j = 0;
                for (; j + VL <= n; j += VL) {
                    ld(xd, xi + j).sub(mv).mul(rv).fma(ld(gd, go + j), ld(bd, bo + j)).intoArray(od, oi + j);
                }
                for (; j < n; j++) od[oi + j] = Math.fma((xd[xi + j] - mu) * rs, gd[go + j], bd[bo + j]);
                md[mo + r] = mu;
                rd[ro + r] = rs;
            }
        });
    }

    @Override
    public void layerNormBackward(Buffer x, Buffer gamma, Buffer mean, Buffer rstd, Buffer gradOut, int rows, int n,
                                  Buffer gradX, Buffer gradGamma, Buffer gradBeta) {
        HeapBuffer X = h(x), G = h(gamma), M = h(mean), R = h(rstd), GO = h(gradOut);
        HeapBuffer DX = gradX == null ? null : h(gradX);
        HeapBuffer DG = gradGamma == null ? null : h(gradGamma), DB = gradBeta == null ? null : h(gradBeta);
        if (rows <= 0 || n <= 0 || DX == null && DG == null && DB == null) return;
        float[] xd = X.data, gd = G.data, md = M.data, rd = R.data, god = GO.data;
        int xo = X.off, go = G.off, mo = M.off, ro = R.off, goo = GO.off;
        int blocks = (rows + LN_BLOCK - 1) / LN_BLOCK;
        float[] pg = DG == null ? null : new float[blocks * n];
        float[] pb = DB == null ? null : new float[blocks * n];
        float[] dxd = DX == null ? null : DX.data;
        int dxo = DX == null ? 0 : DX.off;
        Parallel.forRange(blocks, rowGrain(LN_BLOCK * n, GRAIN / 4), (s, e) -> {
            for (int blk = s; blk < e; blk++) {
                int r1 = Math.min(rows, (blk + 1) * LN_BLOCK);
                for (int r = blk * LN_BLOCK; r < r1; r++) {
                    lnBackwardRow(xd, xo + r * n, gd, go, md[mo + r], rd[ro + r], god, goo + r * n, n,
                            dxd, dxo + r * n, pg, pb, blk * n);
                }
            }
        });
        if (pg == null && pb == null) return;
        // fold the block partials into gamma/beta gradients in block order, split over columns
        Parallel.forRange((n + VL - 1) / VL, rowGrain(blocks * VL, GRAIN), (s, e) -> {
            int c0 = s * VL, c1 = Math.min(n, e * VL);
            if (DG != null) foldBlocks(pg, blocks, n, c0, c1, DG.data, DG.off);
            if (DB != null) foldBlocks(pb, blocks, n, c0, c1, DB.data, DB.off);
        });
    }

    private static void lnBackwardRow(float[] x, int xi, float[] g, int go, float mu, float rs, float[] gy, int gi, int n,
                                      float[] dx, int dxi, float[] pg, float[] pb, int po) {
        FloatVector mv = bc(mu), rv = bc(rs), sd = FloatVector.zero(S), sdx = sd;
        float sumD = 0f, sumDX = 0f;
        int j = 0;
        for (; j + VL <= n; j += VL) {
            FloatVector xhat = ld(x, xi + j).sub(mv).mul(rv), gyv = ld(gy, gi + j);
            if (dx != null) {
                FloatVector dxhat = gyv.mul(ld(g, go + j));
                sd = sd.add(dxhat);
                sdx = dxhat.fma(xhat, sdx);
            }
            if (pg != null) gyv.fma(xhat, ld(pg, po + j)).intoArray(pg, po + j);
            if (pb != null) gyv.add(ld(pb, po + j)).intoArray(pb, po + j);
        }
        int tail = j;
        if (dx != null) {
            sumD = VectorMath.hsum(sd);
            sumDX = VectorMath.hsum(sdx);
        }
        for (; j < n; j++) {
            float xhat = (x[xi + j] - mu) * rs, gyv = gy[gi + j];
            if (dx != null) {
                float dxhat = gyv * g[go + j];
                sumD += dxhat;
                sumDX = Math.fma(dxhat, xhat, sumDX);
            }
            if (pg != null) pg[po + j] = Math.fma(gyv, xhat, pg[po + j]);
            if (pb != null) pb[po + j] += gyv;
        }
        if (dx == null) return;
        float c1 = sumD / n, c2 = sumDX / n;
        FloatVector c1v = bc(c1), c2v = bc(c2);
        j = 0;
        for (; j < tail; j += VL) {
            FloatVector xhat = ld(x, xi + j).sub(mv).mul(rv);
            FloatVector dxhat = ld(gy, gi + j).mul(ld(g, go + j));
            dxhat.sub(c1v).sub(xhat.mul(c2v)).mul(rv).intoArray(dx, dxi + j);
        }
        for (; j < n; j++) {
            float xhat = (x[xi + j] - mu) * rs;
            float dxhat = gy[gi + j] * g[go + j];
            dx[dxi + j] = (dxhat - c1 - xhat * c2) * rs;
        }
    }

    /** out[c] += Σ_b part[b·n + c] for c in [c0, c1), blocks in order. */
    private static void foldBlocks(float[] part, int blocks, int n, int c0, int c1, float[] out, int oo) {
        int c = c0;
        for (; c + VL <= c1; c += VL) {
            FloatVector acc = ld(part, c);
            for (int b = 1; b < blocks; b++) acc = acc.add(ld(part, b * n + c));
            ld(out, oo + c).add(acc).intoArray(out, oo + c);
        }
        for (; c < c1; c++) {
            float acc = part[c];
            for (int b = 1; b < blocks; b++) acc += part[b * n + c];
            out[oo + c] += acc;
        }
    }

    // ================================================================ softmax and cross-entropy

    /** Σ exp(x − m) over a row; if store, also writes the exponentials to o. */
    private static float sumExp(float[] x, int xi, int n, float m, float[] o, int oi, boolean store) {
        FloatVector mv = bc(m), acc = FloatVector.zero(S);
        int j = 0, ub = S.loopBound(n);
        for (; j < ub; j += VL) {
            FloatVector e = VectorMath.exp(ld(x, xi + j).sub(mv));
            if (store) e.intoArray(o, oi + j);
            acc = acc.add(e);
        }
        if (j < n) {
            VectorMask<Float> t = S.indexInRange(j, n);
            FloatVector e = VectorMath.exp(ld(x, xi + j, t).sub(mv));
            if (store) e.intoArray(o, oi + j, t);
            acc = acc.add(e, t);
        }
        return VectorMath.hsum(acc);
    }

    @Override
    public void softmax(Buffer x, int rows, int n, boolean log, Buffer out) {
        HeapBuffer X = h(x), O = h(out);
        float[] xd = X.data, od = O.data;
        int xo = X.off, oo = O.off;
        Parallel.forRange(rows, rowGrain(n, GRAIN_MATH), (s, e) -> {
            for (int r = s; r < e; r++) {
                int xi = xo + r * n, oi = oo + r * n;
                float m = rowMax(xd, xi, n);
                if (log) {
                    float sum = sumExp(xd, xi, n, m, null, 0, false);
                    float lse = (float) (m + Math.log(sum));
                    FloatVector lv = bc(lse);
                    int j = 0;
                    for (; j + VL <= n; j += VL) ld(xd, xi + j).sub(lv).intoArray(od, oi + j);
                    for (; j < n; j++) od[oi + j] = xd[xi + j] - lse;
                } else {
                    float inv = 1f / sumExp(xd, xi, n, m, od, oi, true);
                    FloatVector iv = bc(inv);
                    int j = 0;
                    for (; j + VL <= n; j += VL) ld(od, oi + j).mul(iv).intoArray(od, oi + j);
                    for (; j < n; j++) od[oi + j] *= inv;
                }
            }
        });
    }

    @Override
    public void softmaxBackward(Buffer y, Buffer gradOut, int rows, int n, boolean log, Buffer gradIn) {
        HeapBuffer Y = h(y), G = h(gradOut), O = h(gradIn);
        float[] yd = Y.data, gd = G.data, od = O.data;
        int yo = Y.off, go = G.off, oo = O.off;
        Parallel.forRange(rows, rowGrain(n, log ? GRAIN_MATH : GRAIN), (s, e) -> {
            for (int r = s; r < e; r++) {
                int yi = yo + r * n, gi = go + r * n, oi = oo + r * n;
                float dot;
                if (log) {
                    dot = rowSum(gd, gi, n);
                } else {
                    FloatVector acc = FloatVector.zero(S);
                    int j = 0;
                    for (; j + VL <= n; j += VL) acc = ld(gd, gi + j).fma(ld(yd, yi + j), acc);
                    dot = VectorMath.hsum(acc);
                    for (; j < n; j++) dot = Math.fma(gd[gi + j], yd[yi + j], dot);
                }
                FloatVector dv = bc(dot);
                int ub = S.loopBound(n);
                if (log) {
                    for (int j = 0; j < n; j += VL) {
                        VectorMask<Float> m = S.indexInRange(j, n);
                        if (j < ub) {
                            ld(gd, gi + j).sub(VectorMath.exp(ld(yd, yi + j)).mul(dv)).intoArray(od, oi + j);
                        } else {
                            ld(gd, gi + j, m).sub(VectorMath.exp(ld(yd, yi + j, m)).mul(dv)).intoArray(od, oi + j, m);
                        }
                    }
                } else {
                    int j = 0;
                    for (; j < ub; j += VL) ld(yd, yi + j).mul(ld(gd, gi + j).sub(dv)).intoArray(od, oi + j);
                    for (; j < n; j++) od[oi + j] = yd[yi + j] * (gd[gi + j] - dot);
                }
            }
        });
    }

    @Override
    public void crossEntropy(Buffer logits, int rows, int n, int[] targets, Buffer loss, Buffer lse) {
        HeapBuffer X = h(logits), L = h(loss), E = h(lse);
        float[] xd = X.data, ld = L.data, ed = E.data;
        int xo = X.off, lo = L.off, eo = E.off;
        Parallel.forRange(rows, rowGrain(n, GRAIN_MATH), (s, e) -> {
            for (int r = s; r < e; r++) {
                int xi = xo + r * n;
                float m = rowMax(xd, xi, n);
                double l = m + Math.log(sumExp(xd, xi, n, m, null, 0, false));
                ed[eo + r] = (float) l;
                ld[lo + r] = targets[r] < 0 ? 0f : (float) (l - xd[xi + targets[r]]);
            }
        });
    }

    @Override
    public void crossEntropyBackward(Buffer logits, Buffer lse, int[] targets, Buffer gradLoss, int rows, int n,
                                     Buffer gradLogits) {
        HeapBuffer X = h(logits), E = h(lse), G = h(gradLoss), O = h(gradLogits);
        float[] xd = X.data, ed = E.data, gd = G.data, od = O.data;
        int xo = X.off, eo = E.off, go = G.off, oo = O.off;
        Parallel.forRange(rows, rowGrain(n, GRAIN_MATH), (s, e) -> {
            for (int r = s; r < e; r++) {
                int xi = xo + r * n, oi = oo + r * n, t = targets[r];
                if (t < 0) {
                    Arrays.fill(od, oi, oi + n, 0f);
                    continue;
                }
                float l = ed[eo + r], g = gd[go + r];
                FloatVector lv = bc(l), gv = bc(g);
                int ub = S.loopBound(n);
                for (int j = 0; j < ub; j += VL) VectorMath.exp(ld(xd, xi + j).sub(lv)).mul(gv).intoArray(od, oi + j);
                if (ub < n) {
                    VectorMask<Float> m = S.indexInRange(ub, n);
                    VectorMath.exp(ld(xd, xi + ub, m).sub(lv)).mul(gv).intoArray(od, oi + ub, m);
                }
                od[oi + t] = g * (VectorMath.exp(xd[xi + t] - l) - 1f);
            }
        });
    }

    // ================================================================ dropout

    private static final VectorSpecies<Long> LS = LongVector.SPECIES_PREFERRED;
    private static final int LL = LS.length();
    /** Floats with as many lanes as LS, to apply a mask built from 64-bit hashes. */
    private static final VectorSpecies<Float> FS = VectorSpecies.of(float.class, VectorShape.forBitSize(LL * 32));
    private static final LongVector IOTA1 = LongVector.fromArray(LS, iota1(LL), 0);
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private static long[] iota1(int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) a[i] = i + 1;
        return a;
    }

    @Override
    public void dropout(Buffer x, float p, long seed, Buffer out) {
        HeapBuffer X = h(x), O = h(out);
        int n = (int) X.length();
        float[] xd = X.data, od = O.data;
        int xo = X.off, oo = O.off;
        float scale = 1f / (1f - p);
        // Rng.uniform(seed, i) = k·2^-24 with k the top 24 bits of the hash; k·2^-24 ≥ p ⇔ k ≥ ⌈p·2^24⌉
        long threshold = Float.isNaN(p) ? Long.MAX_VALUE : (long) Math.ceil(p * 16777216.0);
        Parallel.forRange(n, GRAIN_MATH, (s, e) -> {
            int i = s;
            FloatVector zero = FloatVector.zero(FS);
            for (; i + LL <= e; i += LL) {
                LongVector z = IOTA1.add(i).mul(GOLDEN).add(seed);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(0xBF58476D1CE4E5B9L);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(0x94D049BB133111EBL);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
                VectorMask<Float> keep = z.lanewise(VectorOperators.LSHR, 40).compare(VectorOperators.GE, threshold).cast(FS);
                zero.blend(FloatVector.fromArray(FS, xd, xo + i).mul(scale), keep).intoArray(od, oo + i);
            }
            for (; i < e; i++) od[oo + i] = Rng.uniform(seed, i) >= p ? xd[xo + i] * scale : 0f;
        });
    }

    // ================================================================ read-backs

    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;

    @Override
    public double sumOfSquares(Buffer x) {
        HeapBuffer X = h(x);
        int n = (int) X.length();
        float[] xd = X.data;
        int xo = X.off;
        final int blk = 1 << 16;
        int nb = (n + blk - 1) / blk;
        if (nb <= 1) return sumSquares(xd, xo, n);
        double[] part = new double[nb];
        Parallel.forRange(nb, 1, (s, e) -> {
            for (int b = s; b < e; b++) part[b] = sumSquares(xd, xo + b * blk, Math.min(blk, n - b * blk));
        });
        double total = 0;
        for (double v : part) total += v;
        return total;
    }

    private static double sumSquares(float[] x, int off, int n) {
        DoubleVector a0 = DoubleVector.zero(DS), a1 = a0;
        int i = 0;
        for (; i + VL <= n; i += VL) {
            FloatVector v = ld(x, off + i);
            DoubleVector d0 = (DoubleVector) v.convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector d1 = (DoubleVector) v.convertShape(VectorOperators.F2D, DS, 1);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
        }
        double s = 0;
        for (double v : a0.add(a1).toArray()) s += v;
        for (; i < n; i++) s += (double) x[off + i] * x[off + i];
        return s;
    }

    @Override
    public long countNaN(Buffer x) {
        HeapBuffer X = h(x);
        int n = (int) X.length();
        float[] xd = X.data;
        int xo = X.off;
        final int blk = 1 << 16;
        int nb = (n + blk - 1) / blk;
        long[] part = new long[Math.max(1, nb)];
        Parallel.forRange(nb, 1, (s, e) -> {
            for (int b = s; b < e; b++) {
                int from = xo + b * blk, len = Math.min(blk, n - b * blk), i = 0;
                long c = 0;
                for (; i + VL <= len; i += VL) c += ld(xd, from + i).test(VectorOperators.IS_NAN).trueCount();
                for (; i < len; i++) if (Float.isNaN(xd[from + i])) c++;
                part[b] = c;
            }
        });
        long total = 0;
        for (long c : part) total += c;
        return total;
    }

    // ================================================================ optimizer steps

    @Override
    public void adamw(Buffer param, Buffer grad, Buffer m, Buffer v, float lr, float beta1, float beta2, float eps,
                      float weightDecay, float bias1, float bias2) {
        HeapBuffer P = h(param), G = h(grad), Mb = h(m), Vb = h(v);
        int n = (int) P.length();
        float[] pd = P.data, gd = G.data, md = Mb.data, vd = Vb.data;
        int po = P.off, go = G.off, mo = Mb.off, vo = Vb.off;
        float ob1 = 1f - beta1, ob2 = 1f - beta2;
        Parallel.forRange(n, GRAIN / 2, (s, e) -> {
            FloatVector b1 = bc(beta1), b2 = bc(beta2), c1 = bc(ob1), c2 = bc(ob2);
            FloatVector ib1 = bc(1f / bias1), ib2 = bc(1f / bias2), epsv = bc(eps), wd = bc(weightDecay), lrv = bc(lr);
            int len = e - s, ub = S.loopBound(len);
            for (int i = 0; i < len; i += VL) {
                boolean full = i < ub;
                VectorMask<Float> mk = full ? null : S.indexInRange(i, len);
                int pi = po + s + i, gi = go + s + i, mi = mo + s + i, vi = vo + s + i;
                FloatVector g = full ? ld(gd, gi) : ld(gd, gi, mk);
                FloatVector mm = full ? ld(md, mi) : ld(md, mi, mk);
                FloatVector vv = full ? ld(vd, vi) : ld(vd, vi, mk);
                FloatVector pp = full ? ld(pd, pi) : ld(pd, pi, mk);
                mm = g.fma(c1, mm.mul(b1));
                vv = g.mul(g).fma(c2, vv.mul(b2));
                FloatVector upd = mm.mul(ib1).div(vv.mul(ib2).sqrt().add(epsv)).add(pp.mul(wd));
                pp = upd.neg().fma(lrv, pp);
                if (full) {
                    mm.intoArray(md, mi);
                    vv.intoArray(vd, vi);
                    pp.intoArray(pd, pi);
                } else {
                    mm.intoArray(md, mi, mk);
                    vv.intoArray(vd, vi, mk);
                    pp.intoArray(pd, pi, mk);
                }
            }
        });
    }

    @Override
    public void sgd(Buffer param, Buffer grad, Buffer momentum, float lr, float mu, float weightDecay, boolean nesterov) {
        HeapBuffer P = h(param), G = h(grad), B = h(momentum);
        int n = (int) P.length();
        float[] pd = P.data, gd = G.data, bd = B.data;
        int po = P.off, go = G.off, bo = B.off;
        Parallel.forRange(n, GRAIN, (s, e) -> {
            FloatVector muv = bc(mu), wd = bc(weightDecay), lrv = bc(lr);
            int len = e - s, ub = S.loopBound(len);
            for (int i = 0; i < len; i += VL) {
                boolean full = i < ub;
                VectorMask<Float> mk = full ? null : S.indexInRange(i, len);
                int pi = po + s + i, gi = go + s + i, bi = bo + s + i;
                FloatVector g = full ? ld(gd, gi) : ld(gd, gi, mk);
                FloatVector bb = full ? ld(bd, bi) : ld(bd, bi, mk);
                FloatVector pp = full ? ld(pd, pi) : ld(pd, pi, mk);
                FloatVector d = pp.fma(wd, g);
                bb = bb.fma(muv, d);
                FloatVector step = nesterov ? bb.fma(muv, d) : bb;
                pp = step.neg().fma(lrv, pp);
                if (full) {
                    bb.intoArray(bd, bi);
                    pp.intoArray(pd, pi);
                } else {
                    bb.intoArray(bd, bi, mk);
                    pp.intoArray(pd, pi, mk);
                }
            }
        });
    }

    // ================================================================ attention

    @Override
    public void attention(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v,
                          Buffer mask, int maskGroup, boolean causal, Buffer out, Buffer lse) {
        HeapBuffer Q = h(q), K = h(k), V = h(v), O = h(out), L = h(lse), M = mask == null ? null : h(mask);
        VectorAttention.forward(bh, tq, tk, d, scale, Q.data, Q.off, K.data, K.off, V.data, V.off,
                M == null ? null : M.data, M == null ? 0 : M.off, maskGroup, causal, O.data, O.off, L.data, L.off);
    }

    @Override
    public void attentionBackward(int bh, int tq, int tk, int d, float scale, Buffer q, Buffer k, Buffer v,
                                  Buffer mask, int maskGroup, boolean causal, Buffer out, Buffer lse, Buffer gradOut,
                                  Buffer gradQ, Buffer gradK, Buffer gradV) {
        HeapBuffer Q = h(q), K = h(k), V = h(v), O = h(out), L = h(lse), GO = h(gradOut), M = mask == null ? null : h(mask);
        HeapBuffer GQ = gradQ == null ? null : h(gradQ), GK = gradK == null ? null : h(gradK), GV = gradV == null ? null : h(gradV);
        VectorAttention.backward(bh, tq, tk, d, scale, Q.data, Q.off, K.data, K.off, V.data, V.off,
                M == null ? null : M.data, M == null ? 0 : M.off, maskGroup, causal, O.data, O.off, L.data, L.off,
                GO.data, GO.off, GQ == null ? null : GQ.data, GQ == null ? 0 : GQ.off,
                GK == null ? null : GK.data, GK == null ? 0 : GK.off, GV == null ? null : GV.data, GV == null ? 0 : GV.off);
    }
}
