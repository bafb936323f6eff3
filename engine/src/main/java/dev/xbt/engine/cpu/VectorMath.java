package dev.xbt.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 transcendental functions for the vector backend, built from IEEE basic operations only
 * (add, multiply, fma, divide, compare, bit moves). The Vector API's own EXP/LOG/TANH run SVML code
 * once C2 has compiled a loop but {@code Math.exp} per lane before that, which differ in the last
 * bit; these give the same bits in the interpreter, C1 and C2, so kernels stay bitwise deterministic
 * from the first call on. Polynomial coefficients are minimax fits made for this class (Lawson
 * iteration on Chebyshev nodes against 40-digit references).
 *
 * <p>Measured accuracy against float64: exp ≤ 1 ulp (results below about 2^-125.6 flush to 0); log
 * ≤ 0.9 ulp; tanh ≤ 1.5 ulp; sigmoid ≤ 2.7 ulp; erf ≤ 1.0e-7 absolute and 1.8e-7 relative; GELU
 * ≤ 6e-8 absolute for x ≤ 0 (≤ 7.5e-7 relative on [-5, 0)) and under half an ulp above; GELU' ≤
 * 1.7e-7 absolute.
 *
 * <p>Kept small on purpose: C2 stops inlining once a compilation exceeds its IR node budget, and a
 * Vector API call left out-of-line boxes its vectors on the heap (several times slower). Constant
 * vectors instead of per-use broadcasts, one exp per function and no conversions keep each
 * caller's loop within budget.
 */
final class VectorMath {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();

    private VectorMath() {}

    // ---------------------------------------------------------------- horizontal sum

    // Lane rotations by VL/2, VL/4, ..., 1: a fixed tree, so the sum is the same in every JIT tier
    // (reduceLanes(ADD) may reassociate differently once compiled).
    private static final VectorShuffle<Float> ROT1 = VectorShuffle.iota(S, 1, 1, true);
    private static final VectorShuffle<Float> ROT2 = VectorShuffle.iota(S, 2 % VL, 1, true);
    private static final VectorShuffle<Float> ROT4 = VectorShuffle.iota(S, 4 % VL, 1, true);
    private static final VectorShuffle<Float> ROT8 = VectorShuffle.iota(S, 8 % VL, 1, true);
    private static final VectorShuffle<Float> ROT16 = VectorShuffle.iota(S, 16 % VL, 1, true);
    private static final VectorShuffle<Float> ROT32 = VectorShuffle.iota(S, 32 % VL, 1, true);

    /** Sum of the lanes in a fixed order. */
    static float hsum(FloatVector v) {
        if (VL > 64) return seqSum(v);
        if (VL >= 64) v = v.add(v.rearrange(ROT32));
        if (VL >= 32) v = v.add(v.rearrange(ROT16));
        if (VL >= 16) v = v.add(v.rearrange(ROT8));
        if (VL >= 8) v = v.add(v.rearrange(ROT4));
        if (VL >= 4) v = v.add(v.rearrange(ROT2));
        if (VL >= 2) v = v.add(v.rearrange(ROT1));
        return v.lane(0);
    }

    private static float seqSum(FloatVector v) {
        float[] t = v.toArray();
        float s = 0f;
        for (float f : t) s += f;
        return s;
    }

    /** Max of the lanes (order-independent, NaN-propagating). */
    static float hmax(FloatVector v) {
        return v.reduceLanes(VectorOperators.MAX);
    }

    // ---------------------------------------------------------------- exp

    private static FloatVector c(float v) {
        return FloatVector.broadcast(S, v);
    }

    // Polynomial coefficients live in constant vectors: C2 folds them, and they cost far fewer IR
    // nodes than a broadcast per use (the JIT stops inlining when a method's node count grows large,
    // which would leave vectors boxed on the heap).
    private static final float EXP_LO = -87f, EXP_HI = 89f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float ROUND = 12582912f; // 1.5·2^23: adding it rounds to an integer
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float LN2_HI = (float) 0.6931471805599453;
    private static final float LN2_LO = (float) (0.6931471805599453 - (double) LN2_HI);
    // e^r = 1 + r + r²·(E2 + r·(E3 + r·(E4 + r·(E5 + r·E6)))) on |r| ≤ ln2/2, rel. error 3e-9
    private static final float E2 = 0.4999999403953552f, E3 = 0.1666652113199234f, E4 = 0.04166838899254799f,
            E5 = 0.008368710055947304f, E6 = 0.001381461275741458f;
    private static final FloatVector V_LO = c(EXP_LO), V_HI = c(EXP_HI), V_LOG2E = c(LOG2E), V_ROUND = c(ROUND),
            V_NLN2_HI = c(-LN2_HI), V_NLN2_LO = c(-LN2_LO), V_E2 = c(E2), V_E3 = c(E3), V_E4 = c(E4), V_E5 = c(E5),
            V_E6 = c(E6), V_ONE = c(1f), V_HALF = c(0.5f);

    /**
     * e^x: 0 below about -87 (results under 2^-126 flush to zero), +inf above 88.72, NaN for NaN.
     * Range reduction x = n·ln2 + r, a degree-6 polynomial for e^r, then 2p·2^(n−1) so that n = 128
     * (x just below the overflow threshold) still has a normal scale factor.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(V_LO).min(V_HI);
        FloatVector t = xc.fma(V_LOG2E, V_ROUND);
        FloatVector n = t.sub(V_ROUND);
        FloatVector r = n.fma(V_NLN2_HI, xc);
        r = n.fma(V_NLN2_LO, r);
        FloatVector q = r.fma(V_E6, V_E5).fma(r, V_E4).fma(r, V_E3).fma(r, V_E2);
        FloatVector p = q.fma(r.mul(r), r).add(V_ONE);
        FloatVector scale = t.reinterpretAsInts().add(126 - ROUND_BITS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.add(p).mul(scale);
    }

    /** The scalar twin of {@link #exp(FloatVector)}: the same operations, the same bits. */
    static float exp(float x) {
        float xc = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float t = Math.fma(xc, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float q = Math.fma(Math.fma(Math.fma(Math.fma(r, E6, E5), r, E4), r, E3), r, E2);
        float p = Math.fma(q, r * r, r) + 1f;
        float scale = Float.intBitsToFloat((Float.floatToRawIntBits(t) + (126 - ROUND_BITS)) << 23);
        return (p + p) * scale;
    }

    // ---------------------------------------------------------------- log

    private static final float SQRT2 = 1.41421356237309505f;
    // log(1+f) = f − f²/2 + f³·(L3 + f·(L4 + ...)) on [√½−1, √2−1], rel. error 7e-10
    private static final float L3 = 0.3333331346511841f, L4 = -0.25000008940696716f, L5 = 0.2000211924314499f,
            L6 = -0.1666799634695053f, L7 = 0.14219552278518677f, L8 = -0.1240558922290802f,
            L9 = 0.11888162791728973f, L10 = -0.11675651371479034f, L11 = 0.0674663856625557f;
    private static final FloatVector V_L3 = c(L3), V_L4 = c(L4), V_L5 = c(L5), V_L6 = c(L6), V_L7 = c(L7), V_L8 = c(L8),
            V_L9 = c(L9), V_L10 = c(L10), V_L11 = c(L11), V_MHALF = c(-0.5f), V_LN2_HI = c(LN2_HI), V_LN2_LO = c(LN2_LO);

    private static final FloatVector V_2P23 = c(8388608f), V_23 = c(23f), V_EXP_BIAS = c(ROUND + 127f);

    /** Natural logarithm; -inf at ±0, NaN below 0 and for NaN, +inf at +inf. */
    static FloatVector log(FloatVector x) {
        VectorMask<Float> sub = x.lt(Float.MIN_NORMAL);
        IntVector bits = x.blend(x.mul(V_2P23), sub).reinterpretAsInts(); // 2^23 lifts subnormals
        // the biased exponent as a float without a conversion: its bits added under ROUND's exponent
        FloatVector e = bits.lanewise(VectorOperators.LSHR, 23).add(ROUND_BITS).reinterpretAsFloats().sub(V_EXP_BIAS);
        FloatVector m = bits.and(0x007FFFFF).or(0x3F800000).reinterpretAsFloats(); // [1, 2)
        VectorMask<Float> big = m.compare(VectorOperators.GT, SQRT2);
        m = m.blend(m.mul(V_HALF), big);
        e = e.sub(V_23, sub).add(V_ONE, big);
        FloatVector f = m.sub(V_ONE);
        FloatVector q = f.fma(V_L11, V_L10).fma(f, V_L9).fma(f, V_L8).fma(f, V_L7).fma(f, V_L6).fma(f, V_L5)
                .fma(f, V_L4).fma(f, V_L3);
        FloatVector lp = q.fma(f, V_MHALF).fma(f.mul(f), f);
        FloatVector r = e.fma(V_LN2_HI, e.fma(V_LN2_LO, lp));
        r = r.blend(Float.NEGATIVE_INFINITY, x.eq(0f));
        r = r.blend(Float.POSITIVE_INFINITY, x.eq(Float.POSITIVE_INFINITY));
        return r.blend(Float.NaN, x.compare(VectorOperators.GE, 0f).not());
    }

    // ---------------------------------------------------------------- tanh, sigmoid

    // tanh(x) = x + x³·(T0 + x²·(T1 + ...)) on |x| ≤ 0.625, rel. error 2e-10
    private static final float T0 = -0.3333333134651184f, T1 = 0.1333320587873459f, T2 = -0.05394676327705383f,
            T3 = 0.021700702607631683f, T4 = -0.008177397772669792f, T5 = 0.0021429616026580334f;
    private static final FloatVector V_T0 = c(T0), V_T1 = c(T1), V_T2 = c(T2), V_T3 = c(T3), V_T4 = c(T4), V_T5 = c(T5);

    private static FloatVector tanhSmall(FloatVector a, FloatVector u) {
        FloatVector ps = u.fma(V_T5, V_T4).fma(u, V_T3).fma(u, V_T2).fma(u, V_T1).fma(u, V_T0);
        return ps.mul(u).fma(a, a);
    }

    private static FloatVector withSignOf(FloatVector magnitude, FloatVector x) {
        return magnitude.reinterpretAsInts().or(x.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats();
    }

    /** tanh: an odd polynomial below 0.625, else (1 − E)/(1 + E) with E = e^{−2|x|}. */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector e = exp(a.mul(-2f));
        FloatVector big = V_ONE.sub(e).div(e.add(1f));
        return withSignOf(big.blend(tanhSmall(a, a.mul(a)), a.lt(0.625f)), x);
    }

    /** 1 − tanh²(x), without the cancellation of 1 − t² for large |x|: 4E/(1 + E)² there. */
    static FloatVector tanhGrad(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector e = exp(a.mul(-2f));
        FloatVector r = V_ONE.div(e.add(1f));
        FloatVector big = e.mul(4f).mul(r).mul(r);
        FloatVector t = tanhSmall(a, a.mul(a));
        return big.blend(V_ONE.sub(t.mul(t)), a.lt(0.625f));
    }

    /** 1 / (1 + e^−x), from E = e^{−|x|} so that neither side overflows or cancels. */
    static FloatVector sigmoid(FloatVector x) {
        FloatVector e = exp(x.abs().neg());
        FloatVector r = V_ONE.div(e.add(1f));
        return r.mul(e).blend(r, x.compare(VectorOperators.GE, 0f));
    }

    /** σ(x)·(1 − σ(x)) = E/(1 + E)², E = e^{−|x|}. */
    static FloatVector sigmoidGrad(FloatVector x) {
        FloatVector e = exp(x.abs().neg());
        FloatVector r = V_ONE.div(e.add(1f));
        return e.mul(r).mul(r);
    }

    // ---------------------------------------------------------------- erf and the normal CDF

    static final float INV_SQRT2 = 0.70710678118654752f;
    static final float INV_SQRT_2PI = 0.39894228040143268f;
    // erf(z) = z·P(z²) on |z| ≤ 0.75, rel. error 2.5e-11 (used by erf only, for relative accuracy near 0)
    private static final FloatVector V_P0 = c(1.128379225730896f), V_P1 = c(-0.37612637877464294f),
            V_P2 = c(0.1128377839922905f), V_P3 = c(-0.02686474286019802f), V_P4 = c(0.0052166897803545f),
            V_P5 = c(-0.0008355366298928857f), V_P6 = c(9.461260924581438e-05f);
    // erfc(a) = e^{−a²}·R(t), t = 1/(1 + a/2), a ∈ [0, 5.5]: rel. error 1e-8 (2e-7 evaluated in float32)
    private static final FloatVector V_R0 = c(-8.219983283197507e-05f), V_R1 = c(0.28363606333732605f),
            V_R2 = c(0.2697697877883911f), V_R3 = c(0.3011287748813629f), V_R4 = c(0.03615152835845947f),
            V_R5 = c(0.2825411856174469f), V_R6 = c(-0.09350596368312836f), V_R7 = c(-0.2080834060907364f),
            V_R8 = c(0.16549628973007202f), V_R9 = c(-0.03705206513404846f);
    private static final FloatVector V_INV_SQRT2 = c(INV_SQRT2), V_INV_SQRT_2PI = c(INV_SQRT_2PI);
    private static final float ERF_SPLIT = 0.75f;

    /** erfc(a) for a ≥ 0, given e = e^{−a²}. */
    private static FloatVector erfc(FloatVector a, FloatVector e) {
        FloatVector t = V_ONE.div(a.fma(V_HALF, V_ONE));
        FloatVector r = t.fma(V_R9, V_R8).fma(t, V_R7).fma(t, V_R6).fma(t, V_R5).fma(t, V_R4).fma(t, V_R3)
                .fma(t, V_R2).fma(t, V_R1).fma(t, V_R0);
        return e.mul(r);
    }

    /** The error function: an odd polynomial below 0.75, else ±(1 − erfc|z|). */
    static FloatVector erf(FloatVector z) {
        FloatVector u = z.mul(z);
        FloatVector a = z.abs();
        FloatVector big = withSignOf(V_ONE.sub(erfc(a, exp(u.neg()))), z);
        FloatVector small = u.fma(V_P6, V_P5).fma(u, V_P4).fma(u, V_P3).fma(u, V_P2).fma(u, V_P1).fma(u, V_P0).mul(z);
        return big.blend(small, a.lt(ERF_SPLIT));
    }

    /**
     * Φ(x), the standard normal CDF, given e = e^{−x²/2}: ½·erfc(|x|/√2) below 0, 1 − that above,
     * so the lower tail keeps its relative accuracy.
     */
    static FloatVector normalCdf(FloatVector x, FloatVector e) {
        FloatVector half = erfc(x.abs().mul(V_INV_SQRT2), e).mul(V_HALF);
        return half.blend(V_ONE.sub(half), x.compare(VectorOperators.GT, 0f));
    }

    /** e^{−x²/2}. */
    static FloatVector gaussKernel(FloatVector x) {
        return exp(x.mul(x).mul(V_MHALF));
    }

    /** GELU(x) = x·Φ(x). */
    static FloatVector gelu(FloatVector x) {
        return x.mul(normalCdf(x, gaussKernel(x)));
    }

    /** GELU'(x) = Φ(x) + x·φ(x). */
    static FloatVector geluGrad(FloatVector x) {
        FloatVector e = gaussKernel(x);
        return x.mul(e).fma(V_INV_SQRT_2PI, normalCdf(x, e));
    }

    /** Applies {@link #erf(FloatVector)} to x[0, n) into out (for tests and callers outside kernels). */
    static void erf(float[] x, float[] out, int n) {
        for (int i = 0; i < n; i += VL) {
            VectorMask<Float> m = S.indexInRange(i, n);
            erf(FloatVector.fromArray(S, x, i, m)).intoArray(out, i, m);
        }
    }
}
