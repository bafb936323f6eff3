/*
 * Element-wise kernels: one work-item per element (or per chunk for the read-backs), any
 * one-dimensional launch covering n. Every buffer argument is followed by its element offset.
 */

KERNEL void xbt_fill(int n, GLOBAL float *out, int outOff, float value) {
    int i = GLOBAL_X;
    if (i < n) out[outOff + i] = value;
}

KERNEL void xbt_copy(int n, GLOBAL const float *RESTRICT src, int srcOff, GLOBAL float *RESTRICT dst, int dstOff) {
    int i = GLOBAL_X;
    if (i < n) dst[dstOff + i] = src[srcOff + i];
}

/* out[i] = a[offA(i)] op b[offB(i)] over the shape [n / (n1 n2 n3), n1, n2, n3], each size with its
 * magic divisor (n, magic, shift); out is contiguous and may alias a. XBT_EPT elements per work-item. */
KERNEL void xbt_binary(int op, int n, int n1, int m1, int h1, int n2, int m2, int h2, int n3, int m3, int h3,
                       GLOBAL const float *a, int aOff, int as0, int as1, int as2, int as3,
                       GLOBAL const float *b, int bOff, int bs0, int bs1, int bs2, int bs3,
                       GLOBAL float *out, int outOff) {
    int nd[9] = {n1, m1, h1, n2, m2, h2, n3, m3, h3};
    for (int k = 0, i = GLOBAL_X; k < XBT_EPT && i < n; k++, i = xbt_next_element(i, n)) {
        float x, y;
        if (n3 == n) { /* one axis (same shapes, a residual or a gradient sum): no index arithmetic */
            x = a[aOff + i * as3];
            y = b[bOff + i * bs3];
        } else {
            int idx[4];
            xbt_split(i, 4, nd, idx);
            x = a[aOff + idx[0] * as0 + idx[1] * as1 + idx[2] * as2 + idx[3] * as3];
            y = b[bOff + idx[0] * bs0 + idx[1] * bs1 + idx[2] * bs2 + idx[3] * bs3];
        }
        out[outOff + i] = xbt_binary_op(op, x, y);
    }
}

/* For each of the n index vectors over [?, n1, ..., n5] (each size with its magic divisor) and each
 * l < loop, in order of l: dst[dOff(i) + l*dsl] (+)= src[sOff(i) + l*ssl]. Destination axes of
 * stride 0 go in the loop, so a destination element is only ever written by one work-item. Six
 * axes: a patch embedding's image-to-patches copy ([B, gh, gw, C, ph, pw]) is one launch. XBT_EPT
 * index vectors per work-item. */
KERNEL void xbt_strided_copy(int n, int n1, int m1, int h1, int n2, int m2, int h2, int n3, int m3, int h3,
                             int n4, int m4, int h4, int n5, int m5, int h5, int loop,
                             GLOBAL const float *src, int srcOff, int ss0, int ss1, int ss2, int ss3, int ss4, int ss5, int ssl,
                             GLOBAL float *dst, int dstOff, int ds0, int ds1, int ds2, int ds3, int ds4, int ds5, int dsl,
                             int accumulate) {
    int nd[15] = {n1, m1, h1, n2, m2, h2, n3, m3, h3, n4, m4, h4, n5, m5, h5};
    for (int k = 0, i = GLOBAL_X; k < XBT_EPT && i < n; k++, i = xbt_next_element(i, n)) {
        int idx[6];
        xbt_split(i, 6, nd, idx);
        int s = srcOff + idx[0] * ss0 + idx[1] * ss1 + idx[2] * ss2 + idx[3] * ss3 + idx[4] * ss4 + idx[5] * ss5;
        int d = dstOff + idx[0] * ds0 + idx[1] * ds1 + idx[2] * ds2 + idx[3] * ds3 + idx[4] * ds4 + idx[5] * ds5;
        for (int l = 0; l < loop; l++) {
            float v = src[s + l * ssl];
            int di = d + l * dsl;
            dst[di] = accumulate ? dst[di] + v : v;
        }
    }
}

/* out = f(x); out may alias x. XBT_EPT elements per work-item. */
KERNEL void xbt_unary(int op, int n, GLOBAL const float *x, int xOff, GLOBAL float *out, int outOff) {
    for (int k = 0, i = GLOBAL_X; k < XBT_EPT && i < n; k++, i = xbt_next_element(i, n)) {
        out[outOff + i] = xbt_unary_op(op, x[xOff + i]);
    }
}

/* gradIn = gradOut * f'(x). */
KERNEL void xbt_unary_backward(int op, int n, GLOBAL const float *x, int xOff, GLOBAL const float *gradOut, int gOff,
                               GLOBAL float *gradIn, int giOff) {
    for (int k = 0, i = GLOBAL_X; k < XBT_EPT && i < n; k++, i = xbt_next_element(i, n)) {
        gradIn[giOff + i] = gradOut[gOff + i] * xbt_unary_derivative(op, x[xOff + i]);
    }
}

/* out = x * scale + shift (one rounding); out may alias x. */
KERNEL void xbt_affine(int n, GLOBAL const float *x, int xOff, float scale, float shift, GLOBAL float *out, int outOff) {
    int i = GLOBAL_X;
    if (i < n) out[outOff + i] = fmaf(x[xOff + i], scale, shift);
}

/* out[i] = x[i] * keepScale where uniform(seed, i) >= p, else 0: the engine's mask bit for bit. */
KERNEL void xbt_dropout(int n, GLOBAL const float *x, int xOff, float p, float keepScale, i64 seed,
                        GLOBAL float *out, int outOff) {
    int i = GLOBAL_X;
    if (i >= n) return;
    out[outOff + i] = xbt_uniform((u64) seed, (u64) i) >= p ? x[xOff + i] * keepScale : 0.0f;
}

/* One AdamW step; bias1 = 1 - beta1^t, bias2 = 1 - beta2^t. */
KERNEL void xbt_adamw(int n, GLOBAL float *param, int pOff, GLOBAL const float *grad, int gOff,
                      GLOBAL float *m, int mOff, GLOBAL float *v, int vOff,
                      float lr, float beta1, float beta2, float eps, float weightDecay, float bias1, float bias2) {
    int i = GLOBAL_X;
    if (i >= n) return;
    float g = grad[gOff + i];
    float mi = beta1 * m[mOff + i] + (1.0f - beta1) * g;
    float vi = beta2 * v[vOff + i] + (1.0f - beta2) * g * g;
    m[mOff + i] = mi;
    v[vOff + i] = vi;
    float p = param[pOff + i];
    param[pOff + i] = p - lr * ((mi / bias1) / (sqrtf(vi / bias2) + eps) + weightDecay * p);
}

/* SGD with momentum: buf = mu*buf + g + wd*p; p -= lr*buf (Nesterov: p -= lr*(g + wd*p + mu*buf)). */
KERNEL void xbt_sgd(int n, GLOBAL float *param, int pOff, GLOBAL const float *grad, int gOff,
                    GLOBAL float *momentum, int bOff, float lr, float mu, float weightDecay, int nesterov) {
    int i = GLOBAL_X;
    if (i >= n) return;
    float p = param[pOff + i];
    float d = grad[gOff + i] + weightDecay * p;
    float b = mu * momentum[bOff + i] + d;
    momentum[bOff + i] = b;
    param[pOff + i] = p - lr * (nesterov ? d + mu * b : b);
}

/* Work-item i of `items` sums x[j]^2 for j = i, i + items, ... as an unevaluated pair hi + lo:
 * each square split exactly (fma), summed with Neumaier's compensation; the host adds the pairs
 * in float64, so the total is accurate to about float64 without device float64 support. */
KERNEL void xbt_sum_squares_partial(int n, int items, GLOBAL const float *x, int xOff, GLOBAL float *partial) {
    int i = GLOBAL_X;
    if (i >= items) return;
    float s = 0.0f, c = 0.0f;
    for (int j = i; j < n; j += items) {
        float v = x[xOff + j];
        float sq = XBT_MUL_RN(v, v);
        float err = fmaf(v, v, -sq);
        float t = XBT_ADD_RN(s, sq);
        c += fabsf(s) >= fabsf(sq) ? XBT_ADD_RN(XBT_ADD_RN(s, -t), sq) : XBT_ADD_RN(XBT_ADD_RN(sq, -t), s);
        s = t;
        c += err;
    }
    partial[2 * i] = s;
    partial[2 * i + 1] = c;
}

/* Work-item i of `items` counts the NaNs among x[i], x[i + items], ... */
KERNEL void xbt_count_nan_partial(int n, int items, GLOBAL const float *x, int xOff, GLOBAL int *partial) {
    int i = GLOBAL_X;
    if (i >= items) return;
    int count = 0;
    for (int j = i; j < n; j += items) count += XBT_ISNAN(x[xOff + j]) ? 1 : 0;
    partial[i] = count;
}
