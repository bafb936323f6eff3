/*
 * xbt_util.h: helpers shared by the portable kernels (compiled after xbt_compat.h): the operation
 * codes the host passes, the element-wise functions, work-group reductions, and the engine's
 * counter-based random numbers.
 */
#ifndef XBT_UTIL_H
#define XBT_UTIL_H

/* Largest work-group of the row kernels (their local scratch arrays have this size); launches
 * use a power of two up to it. */
#define XBT_WG_MAX 256

/* Binary operations (dev.xbt.engine.backend.BinaryOp). */
#define XBT_ADD 0
#define XBT_SUB 1
#define XBT_MUL 2
#define XBT_DIV 3

/* Unary functions (dev.xbt.engine.backend.UnaryOp). */
#define XBT_NEG 0
#define XBT_EXP 1
#define XBT_LOG 2
#define XBT_SQRT 3
#define XBT_RSQRT 4
#define XBT_SQUARE 5
#define XBT_RECIPROCAL 6
#define XBT_ABS 7
#define XBT_TANH 8
#define XBT_SIGMOID 9
#define XBT_RELU 10
#define XBT_GELU 11
#define XBT_QUICK_GELU 12

/* Reductions (dev.xbt.engine.backend.ReduceOp). */
#define XBT_SUM 0
#define XBT_MAX 1

#define XBT_QUICK_GELU_ALPHA 1.702f
#define XBT_INV_SQRT2 0.70710678118654752f
#define XBT_INV_SQRT_2PI 0.39894228040143268f

DEVICE float xbt_binary_op(int op, float a, float b) {
    switch (op) {
        case XBT_ADD: return a + b;
        case XBT_SUB: return a - b;
        case XBT_MUL: return a * b;
        default: return a / b;
    }
}

/* Logistic function without overflow for large |x|. */
DEVICE float xbt_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

DEVICE float xbt_unary_op(int op, float x) {
    switch (op) {
        case XBT_NEG: return -x;
        case XBT_EXP: return expf(x);
        case XBT_LOG: return logf(x);
        case XBT_SQRT: return sqrtf(x);
        case XBT_RSQRT: return 1.0f / sqrtf(x);
        case XBT_SQUARE: return x * x;
        case XBT_RECIPROCAL: return 1.0f / x;
        case XBT_ABS: return fabsf(x);
        case XBT_TANH: return tanhf(x);
        case XBT_SIGMOID: return xbt_sigmoid(x);
        case XBT_RELU: return x > 0.0f ? x : 0.0f;
        case XBT_GELU: return 0.5f * x * (1.0f + erff(x * XBT_INV_SQRT2));
        default: return x * xbt_sigmoid(XBT_QUICK_GELU_ALPHA * x);
    }
}

/* d f(x) / dx. */
DEVICE float xbt_unary_derivative(int op, float x) {
    switch (op) {
        case XBT_NEG: return -1.0f;
        case XBT_EXP: return expf(x);
        case XBT_LOG: return 1.0f / x;
        case XBT_SQRT: return 0.5f / sqrtf(x);
        case XBT_RSQRT: return -0.5f / (x * sqrtf(x));
        case XBT_SQUARE: return 2.0f * x;
        case XBT_RECIPROCAL: return -1.0f / (x * x);
        case XBT_ABS: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
        case XBT_TANH: { float t = tanhf(x); return 1.0f - t * t; }
        case XBT_SIGMOID: { float s = xbt_sigmoid(x); return s * (1.0f - s); }
        case XBT_RELU: return x > 0.0f ? 1.0f : 0.0f;
        case XBT_GELU:
            return 0.5f * (1.0f + erff(x * XBT_INV_SQRT2)) + x * XBT_INV_SQRT_2PI * expf(-0.5f * x * x);
        default: {
            float s = xbt_sigmoid(XBT_QUICK_GELU_ALPHA * x);
            return s + x * XBT_QUICK_GELU_ALPHA * s * (1.0f - s);
        }
    }
}

/* The larger of a and b, NaN winning (as the reference's running maximum). */
DEVICE float xbt_max_nan(float a, float b) {
    return (b > a || XBT_ISNAN(b)) ? b : a;
}

/* Neumaier's compensated addition: *sum + *comp carries the running total with about twice float's
 * precision, so long serial sums (column sums over thousands of rows) stay accurate. */
DEVICE void xbt_sum_add(float *sum, float *comp, float v) {
    float s = *sum;
    float t = XBT_ADD_RN(s, v);
    *comp += fabsf(s) >= fabsf(v) ? XBT_ADD_RN(XBT_ADD_RN(s, -t), v) : XBT_ADD_RN(XBT_ADD_RN(v, -t), s);
    *sum = t;
}

/* Sum of v over the work-group (x dimension, a power of two <= XBT_WG_MAX), returned to every
 * work-item. scratch holds LSIZE_X floats; every work-item must call it. */
DEVICE float xbt_group_sum(float v, LOCAL_PTR float *scratch) {
    int t = LID_X;
    scratch[t] = v;
    BARRIER();
    for (int s = LSIZE_X >> 1; s > 0; s >>= 1) {
        if (t < s) scratch[t] += scratch[t + s];
        BARRIER();
    }
    float r = scratch[0];
    BARRIER();
    return r;
}

/* Maximum of v over the work-group, NaN winning; same rules as xbt_group_sum. */
DEVICE float xbt_group_max(float v, LOCAL_PTR float *scratch) {
    int t = LID_X;
    scratch[t] = v;
    BARRIER();
    for (int s = LSIZE_X >> 1; s > 0; s >>= 1) {
        if (t < s) scratch[t] = xbt_max_nan(scratch[t], scratch[t + s]);
        BARRIER();
    }
    float r = scratch[0];
    BARRIER();
    return r;
}

/* Elements per work-item of the busiest element-wise kernels (binary, unary, strided copy): work-item g
 * takes g, g + stride, ... (stride = the launch's work-items), so its loads are independent. */
#define XBT_EPT 4

/* A work-item's element after i in those kernels: i + stride, or n once that would pass n (so that i + stride,
 * which can exceed the int range near n = 2^31, is never formed). */
DEVICE int xbt_next_element(int i, int n) {
    int stride = NGROUPS_X * LSIZE_X;
    return n - i <= stride ? n : i + stride;
}

/* i / n for 0 <= i < 2^31 through n's magic number and shift (computed on the host,
 * PortableLaunch.divisor): a multiply-high, an add and a shift instead of a division. */
DEVICE int xbt_div(int i, int magic, int shift) {
    return (int) ((XBT_UMULHI(i, magic) + (u32) i) >> shift);
}

/* Splits flat index i over [?, n1, ..., nk] (k = axes - 1, innermost last) into idx[0..axes-1];
 * the divisors come as (n, magic, shift) triples in nd[3 * (axis - 1) ..]. */
DEVICE void xbt_split(int i, int axes, const int *nd, int *idx) {
    for (int a = axes - 1; a >= 1; a--) {
        int q = xbt_div(i, nd[3 * (a - 1) + 1], nd[3 * (a - 1) + 2]);
        idx[a] = i - q * nd[3 * (a - 1)];
        i = q;
    }
    idx[0] = i;
}

/* SplitMix64's finaliser, as dev.xbt.engine.Rng.mix. */
DEVICE u64 xbt_mix(u64 z) {
    z = (z ^ (z >> 30)) * U64C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * U64C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* dev.xbt.engine.Rng.uniform(seed, counter): uniform in [0, 1) with 24 bits, bit for bit. */
DEVICE float xbt_uniform(u64 seed, u64 counter) {
    u64 z = xbt_mix(seed + U64C(0x9E3779B97F4A7C15) * (counter + 1));
    return (float) (u32) (z >> 40) * 5.9604644775390625e-8f; /* 2^-24 */
}

#endif
