/*
 * The portable kernels: one function per kernel of the engine's Backend SPI (see
 * dev.xbt.engine.backend.Backend for each one's contract), written once against xbt_compat.h so the
 * same source builds as OpenCL C (the OpenCL backend) and as CUDA C (nvcc -ptx, checked by
 * scripts/build-portable-ptx). Every buffer comes as a pointer plus an element offset (an OpenCL
 * buffer cannot be offset on the host side); sizes are ints. Launches are 1-D unless a kernel says
 * otherwise, with the global size rounded up, so every kernel checks its index first.
 *
 * Accuracy: no fast-math; sums over a row or an axis accumulate in double (the reference accumulates
 * in float64 too), which PoCL and every GPU of sm_80 and newer run.
 */

/* ---- memory ---- */

KERNEL void xbt_fill(GLOBAL float* out, int oo, int n, float value) {
    int i = GLOBAL_ID(0);
    if (i < n) out[oo + i] = value;
}

KERNEL void xbt_copy(GLOBAL const float* src, int so, GLOBAL float* dst, int dst_o, int n) {
    int i = GLOBAL_ID(0);
    if (i < n) dst[dst_o + i] = src[so + i];
}

/* ---- element-wise ---- */

/* op: 0 add, 1 sub, 2 mul, 3 div (BinaryOp's order). dims: shape[rank], then a's strides, then b's. */
KERNEL void xbt_binary(int op, int rank, GLOBAL const int* dims, GLOBAL const float* a, int ao,
                       GLOBAL const float* b, int bo, GLOBAL float* out, int oo, int n) {
    int i = GLOBAL_ID(0);
    if (i >= n) return;
    int rest = i, ai = ao, bi = bo;
    for (int d = rank - 1; d >= 0; d--) {
        int size = dims[d], idx = rest % size;
        rest /= size;
        ai += idx * dims[rank + d];
        bi += idx * dims[2 * rank + d];
    }
    float x = a[ai], y = b[bi], r;
    if (op == 0) r = x + y;
    else if (op == 1) r = x - y;
    else if (op == 2) r = x * y;
    else r = x / y;
    out[oo + i] = r;
}

DEVICE_FN float xbt_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
    float e = exp(x);
    return e / (1.0f + e);
}

/* op: UnaryOp's order: 0 neg, 1 exp, 2 log, 3 sqrt, 4 rsqrt, 5 square, 6 reciprocal, 7 abs, 8 tanh,
   9 sigmoid, 10 relu, 11 gelu (erf), 12 quick gelu. */
DEVICE_FN float xbt_unary_f(int op, float x) {
    switch (op) {
        case 0: return -x;
        case 1: return exp(x);
        case 2: return log(x);
        case 3: return sqrt(x);
        case 4: return 1.0f / sqrt(x);
        case 5: return x * x;
        case 6: return 1.0f / x;
        case 7: return fabs(x);
        case 8: return tanh(x);
        case 9: return xbt_sigmoid(x);
        case 10: return x > 0.0f ? x : 0.0f;
        case 11: return 0.5f * x * (1.0f + erf(x * 0.70710678118654752f));
        default: return x * xbt_sigmoid(1.702f * x);
    }
}

DEVICE_FN float xbt_unary_df(int op, float x) {
    switch (op) {
        case 0: return -1.0f;
        case 1: return exp(x);
        case 2: return 1.0f / x;
        case 3: return 0.5f / sqrt(x);
        case 4: return -0.5f / (x * sqrt(x));
        case 5: return 2.0f * x;
        case 6: return -1.0f / (x * x);
        case 7: return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f;
        case 8: { float t = tanh(x); return 1.0f - t * t; }
        case 9: { float s = xbt_sigmoid(x); return s * (1.0f - s); }
        case 10: return x > 0.0f ? 1.0f : 0.0f;
        case 11: return 0.5f * (1.0f + erf(x * 0.70710678118654752f))
                        + x * 0.39894228040143268f * exp(-0.5f * x * x);
        default: { float s = xbt_sigmoid(1.702f * x); return s + x * 1.702f * s * (1.0f - s); }
    }
}

KERNEL void xbt_unary(int op, GLOBAL const float* x, int xo, GLOBAL float* out, int oo, int n) {
    int i = GLOBAL_ID(0);
    if (i < n) out[oo + i] = xbt_unary_f(op, x[xo + i]);
}

KERNEL void xbt_unary_backward(int op, GLOBAL const float* x, int xo, GLOBAL const float* g, int go,
                               GLOBAL float* gi, int gio, int n) {
    int i = GLOBAL_ID(0);
    if (i < n) gi[gio + i] = g[go + i] * xbt_unary_df(op, x[xo + i]);
}

KERNEL void xbt_affine(GLOBAL const float* x, int xo, float scale, float shift, GLOBAL float* out, int oo, int n) {
    int i = GLOBAL_ID(0);
    if (i < n) out[oo + i] = x[xo + i] * scale + shift;
}

/* ---- reductions and data movement ---- */

/* One work-item per (o, i) of outer x inner; op 0 sum, 1 max. */
KERNEL void xbt_reduce(int op, GLOBAL const float* x, int xo, int outer, int n, int inner,
                       GLOBAL float* out, int oo) {
    int t = GLOBAL_ID(0);
    if (t >= outer * inner) return;
    int o = t / inner, i = t % inner;
    GLOBAL const float* row = x + xo + (long) o * n * inner + i;
    if (op == 0) {
        double s = 0.0;
        for (int j = 0; j < n; j++) s += row[(long) j * inner];
        out[oo + t] = (float) s;
    } else {
        float m = row[0];
        for (int j = 1; j < n; j++) {
            float v = row[(long) j * inner];
            if (v > m || IS_NAN(v)) m = v;
        }
        out[oo + t] = m;
    }
}

KERNEL void xbt_reduce_max_backward(GLOBAL const float* x, int xo, GLOBAL const float* mx, int mo,
                                    GLOBAL const float* g, int go, int outer, int n, int inner,
                                    GLOBAL float* gi, int gio) {
    int t = GLOBAL_ID(0);
    if (t >= outer * inner) return;
    int o = t / inner, i = t % inner;
    long base = (long) o * n * inner + i;
    float m = mx[mo + t];
    int hit = -1;
    for (int j = 0; j < n; j++) {
        float v = x[xo + base + (long) j * inner];
        if (hit < 0 && (v == m || (IS_NAN(v) && IS_NAN(m)))) hit = j;
        gi[gio + base + (long) j * inner] = 0.0f;
    }
    if (hit >= 0) gi[gio + base + (long) hit * inner] = g[go + t];
}

/* dims: shape[rank], then src strides, then dst strides; one work-item per index vector. */
KERNEL void xbt_strided_copy(int rank, GLOBAL const int* dims, GLOBAL const float* src, int so,
                             GLOBAL float* dst, int dst_o, int accumulate, int n) {
    int i = GLOBAL_ID(0);
    if (i >= n) return;
    int rest = i, si = so, di = dst_o;
    for (int d = rank - 1; d >= 0; d--) {
        int size = dims[d], idx = rest % size;
        rest /= size;
        si += idx * dims[rank + d];
        di += idx * dims[2 * rank + d];
    }
    if (accumulate) dst[di] += src[si];
    else dst[di] = src[si];
}

KERNEL void xbt_gather_rows(GLOBAL const float* table, int to, int row_len, GLOBAL const int* rows, int count,
                            GLOBAL float* out, int oo) {
    int i = GLOBAL_ID(0);
    if (i >= count * row_len) return;
    int r = i / row_len, c = i % row_len;
    out[oo + i] = table[to + (long) rows[r] * row_len + c];
}

/* Scatter-add without atomics, in a fixed order: the host groups the source rows by destination
   (CSR: targets[u] gets sources order[starts[u] .. starts[u+1]) ), one work-item per (u, column). */
KERNEL void xbt_scatter_add_rows(GLOBAL const float* src, int so, int row_len, GLOBAL const int* targets,
                                 GLOBAL const int* starts, GLOBAL const int* order, int unique,
                                 GLOBAL float* table, int to) {
    int i = GLOBAL_ID(0);
    if (i >= unique * row_len) return;
    int u = i / row_len, c = i % row_len;
    float s = table[to + (long) targets[u] * row_len + c];
    for (int k = starts[u]; k < starts[u + 1]; k++) s += src[so + (long) order[k] * row_len + c];
    table[to + (long) targets[u] * row_len + c] = s;
}

/* ---- fused neural-network kernels: one work-item per row (rows x n) ---- */

KERNEL void xbt_layer_norm(GLOBAL const float* x, int xo, GLOBAL const float* gamma, int gmo,
                           GLOBAL const float* beta, int bo, int rows, int n, float eps,
                           GLOBAL float* out, int oo, GLOBAL float* mean, int mno, GLOBAL float* rstd, int ro) {
    int r = GLOBAL_ID(0);
    if (r >= rows) return;
    GLOBAL const float* row = x + xo + (long) r * n;
    double s = 0.0;
    for (int j = 0; j < n; j++) s += row[j];
    double mu = s / n, v = 0.0;
    for (int j = 0; j < n; j++) { double d = row[j] - mu; v += d * d; }
    double rs = 1.0 / sqrt(v / n + eps);
    GLOBAL float* o = out + oo + (long) r * n;
    for (int j = 0; j < n; j++) o[j] = (float) ((row[j] - mu) * rs * gamma[gmo + j] + beta[bo + j]);
    mean[mno + r] = (float) mu;
    rstd[ro + r] = (float) rs;
}

KERNEL void xbt_layer_norm_backward_x(GLOBAL const float* x, int xo, GLOBAL const float* gamma, int gmo,
                                      GLOBAL const float* mean, int mno, GLOBAL const float* rstd, int ro,
                                      GLOBAL const float* g, int go, int rows, int n, GLOBAL float* gx, int gxo) {
    int r = GLOBAL_ID(0);
    if (r >= rows) return;
    long base = (long) r * n;
    double mu = mean[mno + r], rs = rstd[ro + r], sum_d = 0.0, sum_dx = 0.0;
    for (int j = 0; j < n; j++) {
        double xhat = (x[xo + base + j] - mu) * rs;
        double dxhat = (double) g[go + base + j] * gamma[gmo + j];
        sum_d += dxhat;
        sum_dx += dxhat * xhat;
    }
    for (int j = 0; j < n; j++) {
        double xhat = (x[xo + base + j] - mu) * rs;
        double dxhat = (double) g[go + base + j] * gamma[gmo + j];
        gx[gxo + base + j] = (float) (rs * (dxhat - sum_d / n - xhat * sum_dx / n));
    }
}

/* One work-item per column: gradGamma[j] += Σ_r g·x̂, gradBeta[j] += Σ_r g (either may be absent: flag). */
KERNEL void xbt_layer_norm_backward_params(GLOBAL const float* x, int xo, GLOBAL const float* mean, int mno,
                                           GLOBAL const float* rstd, int ro, GLOBAL const float* g, int go,
                                           int rows, int n, int want_gamma, GLOBAL float* gg, int ggo,
                                           int want_beta, GLOBAL float* gb, int gbo) {
    int j = GLOBAL_ID(0);
    if (j >= n) return;
    double sg = 0.0, sb = 0.0;
    for (int r = 0; r < rows; r++) {
        long at = (long) r * n + j;
        double gv = g[go + at];
        sg += gv * ((x[xo + at] - mean[mno + r]) * (double) rstd[ro + r]);
        sb += gv;
    }
    if (want_gamma) gg[ggo + j] += (float) sg;
    if (want_beta) gb[gbo + j] += (float) sb;
}

KERNEL void xbt_softmax(GLOBAL const float* x, int xo, int rows, int n, int log_out, GLOBAL float* out, int oo) {
    int r = GLOBAL_ID(0);
    if (r >= rows) return;
    GLOBAL const float* row = x + xo + (long) r * n;
    float m = -INF_F;
    for (int j = 0; j < n; j++) m = fmax(m, row[j]);
    double s = 0.0;
    for (int j = 0; j < n; j++) s += exp((double) row[j] - m);
    double lse = m + log(s);
    GLOBAL float* o = out + oo + (long) r * n;
    for (int j = 0; j < n; j++) {
        double v = row[j] - lse;
        o[j] = (float) (log_out ? v : exp(v));
    }
}

KERNEL void xbt_softmax_backward(GLOBAL const float* y, int yo, GLOBAL const float* g, int go, int rows, int n,
                                 int log_out, GLOBAL float* gi, int gio) {
    int r = GLOBAL_ID(0);
    if (r >= rows) return;
    long base = (long) r * n;
    double dot = 0.0;
    for (int j = 0; j < n; j++) dot += log_out ? (double) g[go + base + j] : (double) g[go + base + j] * y[yo + base + j];
    for (int j = 0; j < n; j++) {
        double yv = y[yo + base + j], gv = g[go + base + j];
        gi[gio + base + j] = (float) (log_out ? gv - exp(yv) * dot : yv * (gv - dot));
    }
}

/* ---- attention: flash-style, the score matrix is never stored ---- */

#define XBT_MAX_HEAD_DIM 256

/* Score of query i and key j before the softmax, -inf where masked. */
DEVICE_FN float xbt_score(GLOBAL const float* q, GLOBAL const float* k, GLOBAL const float* mask, int has_mask,
                          int mrow, int i, int j, int d, float scale, int causal) {
    if (causal && j > i) return -INF_F;
    float s = 0.0f;
    for (int l = 0; l < d; l++) s = fma(q[l], k[(long) j * d + l], s);
    s *= scale;
    if (has_mask) s += mask[mrow + j];
    return s;
}

/* One work-item per (head, query): one pass over the keys with a running maximum (online softmax);
   the d outputs stay in private memory. */
KERNEL void xbt_attention(int bh, int tq, int tk, int d, float scale, GLOBAL const float* q, int qo,
                          GLOBAL const float* k, int ko, GLOBAL const float* v, int vo,
                          GLOBAL const float* mask, int mo, int has_mask, int mask_group, int causal,
                          GLOBAL float* out, int oo, GLOBAL float* lse, int lo) {
    int t = GLOBAL_ID(0);
    if (t >= bh * tq) return;
    int h = t / tq, i = t % tq;
    GLOBAL const float* qi = q + qo + (long) t * d;
    GLOBAL const float* kh = k + ko + (long) h * tk * d;
    GLOBAL const float* vh = v + vo + (long) h * tk * d;
    int mrow = mo + ((h / mask_group) * tq + i) * tk;
    float acc[XBT_MAX_HEAD_DIM];
    for (int l = 0; l < d; l++) acc[l] = 0.0f;
    float m = -INF_F, sum = 0.0f;
    for (int j = 0; j < tk; j++) {
        float s = xbt_score(qi, kh, mask, has_mask, mrow, i, j, d, scale, causal);
        if (s == -INF_F) continue;
        if (s > m) {
            float c = m == -INF_F ? 0.0f : exp(m - s);
            sum *= c;
            for (int l = 0; l < d; l++) acc[l] *= c;
            m = s;
        }
        float p = exp(s - m);
        sum += p;
        for (int l = 0; l < d; l++) acc[l] = fma(p, vh[(long) j * d + l], acc[l]);
    }
    GLOBAL float* o = out + oo + (long) t * d;
    if (m == -INF_F) {
        for (int l = 0; l < d; l++) o[l] = 0.0f;
        lse[lo + t] = -INF_F;
    } else {
        for (int l = 0; l < d; l++) o[l] = acc[l] / sum;
        lse[lo + t] = m + log(sum);
    }
}

/* gradQ: one work-item per (head, query) over the keys. With P = exp(s - lse), dP = dO·V_j and
   D = dO·O: dS = P (dP - D), gradQ_i = scale Σ_j dS_ij K_j. */
KERNEL void xbt_attention_backward_q(int bh, int tq, int tk, int d, float scale, GLOBAL const float* q, int qo,
                                     GLOBAL const float* k, int ko, GLOBAL const float* v, int vo,
                                     GLOBAL const float* mask, int mo, int has_mask, int mask_group, int causal,
                                     GLOBAL const float* out, int oo, GLOBAL const float* lse, int lo,
                                     GLOBAL const float* g, int go, GLOBAL float* gq, int gqo) {
    int t = GLOBAL_ID(0);
    if (t >= bh * tq) return;
    int h = t / tq, i = t % tq;
    GLOBAL const float* qi = q + qo + (long) t * d;
    GLOBAL const float* gi = g + go + (long) t * d;
    GLOBAL const float* oi = out + oo + (long) t * d;
    GLOBAL const float* kh = k + ko + (long) h * tk * d;
    GLOBAL const float* vh = v + vo + (long) h * tk * d;
    int mrow = mo + ((h / mask_group) * tq + i) * tk;
    float l_i = lse[lo + t];
    float acc[XBT_MAX_HEAD_DIM];
    for (int l = 0; l < d; l++) acc[l] = 0.0f;
    if (l_i != -INF_F) {
        float dsum = 0.0f;
        for (int l = 0; l < d; l++) dsum = fma(gi[l], oi[l], dsum);
        for (int j = 0; j < tk; j++) {
            float s = xbt_score(qi, kh, mask, has_mask, mrow, i, j, d, scale, causal);
            if (s == -INF_F) continue;
            float p = exp(s - l_i), dp = 0.0f;
            for (int l = 0; l < d; l++) dp = fma(gi[l], vh[(long) j * d + l], dp);
            float ds = p * (dp - dsum) * scale;
            for (int l = 0; l < d; l++) acc[l] = fma(ds, kh[(long) j * d + l], acc[l]);
        }
    }
    for (int l = 0; l < d; l++) gq[gqo + (long) t * d + l] = acc[l];
}

/* gradK and gradV: one work-item per (head, key) over the queries; no atomics. */
KERNEL void xbt_attention_backward_kv(int bh, int tq, int tk, int d, float scale, GLOBAL const float* q, int qo,
                                      GLOBAL const float* k, int ko, GLOBAL const float* v, int vo,
                                      GLOBAL const float* mask, int mo, int has_mask, int mask_group, int causal,
                                      GLOBAL const float* out, int oo, GLOBAL const float* lse, int lo,
                                      GLOBAL const float* g, int go, int want_k, GLOBAL float* gk, int gko,
                                      int want_v, GLOBAL float* gv, int gvo) {
    int t = GLOBAL_ID(0);
    if (t >= bh * tk) return;
    int h = t / tk, j = t % tk;
    GLOBAL const float* kh = k + ko + (long) h * tk * d;
    GLOBAL const float* vj = v + vo + (long) t * d;
    float acck[XBT_MAX_HEAD_DIM], accv[XBT_MAX_HEAD_DIM];
    for (int l = 0; l < d; l++) { acck[l] = 0.0f; accv[l] = 0.0f; }
    for (int i = 0; i < tq; i++) {
        int row = h * tq + i;
        float l_i = lse[lo + row];
        if (l_i == -INF_F) continue;
        GLOBAL const float* qi = q + qo + (long) row * d;
        float s = xbt_score(qi, kh, mask, has_mask, mo + ((h / mask_group) * tq + i) * tk, i, j, d, scale, causal);
        if (s == -INF_F) continue;
        GLOBAL const float* gi = g + go + (long) row * d;
        GLOBAL const float* oi = out + oo + (long) row * d;
        float p = exp(s - l_i), dp = 0.0f, dsum = 0.0f;
        for (int l = 0; l < d; l++) { dp = fma(gi[l], vj[l], dp); dsum = fma(gi[l], oi[l], dsum); }
        float ds = p * (dp - dsum) * scale;
        for (int l = 0; l < d; l++) {
            acck[l] = fma(ds, qi[l], acck[l]);
            accv[l] = fma(p, gi[l], accv[l]);
        }
    }
    for (int l = 0; l < d; l++) {
        if (want_k) gk[gko + (long) t * d + l] = acck[l];
        if (want_v) gv[gvo + (long) t * d + l] = accv[l];
    }
}

/* ---- cross-entropy: one work-item per row; targets < 0 are ignored ---- */

KERNEL void xbt_cross_entropy(GLOBAL const float* x, int xo, int rows, int n, GLOBAL const int* targets,
                              GLOBAL float* loss, int lso, GLOBAL float* lse, int lo) {
    int r = GLOBAL_ID(0);
    if (r >= rows) return;
    GLOBAL const float* row = x + xo + (long) r * n;
    float m = -INF_F;
    for (int j = 0; j < n; j++) m = fmax(m, row[j]);
    double s = 0.0;
    for (int j = 0; j < n; j++) s += exp((double) row[j] - m);
    double l = m + log(s);
    lse[lo + r] = (float) l;
    loss[lso + r] = targets[r] < 0 ? 0.0f : (float) (l - row[targets[r]]);
}

KERNEL void xbt_cross_entropy_backward(GLOBAL const float* x, int xo, GLOBAL const float* lse, int lo,
                                       GLOBAL const int* targets, GLOBAL const float* g, int go, int rows, int n,
                                       GLOBAL float* gx, int gxo) {
    int i = GLOBAL_ID(0);
    if (i >= rows * n) return;
    int r = i / n, j = i % n, target = targets[r];
    float gr = target < 0 ? 0.0f : g[go + r];
    float p = exp(x[xo + i] - lse[lo + r]) - (j == target ? 1.0f : 0.0f);
    gx[gxo + i] = gr * p;
}

/* ---- dropout with the engine's counter-based RNG (dev.xbt.engine.Rng.uniform): same masks as the CPU ---- */

DEVICE_FN float xbt_uniform(U64 seed, U64 counter) {
    U64 z = seed + 0x9E3779B97F4A7C15UL * (counter + 1UL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
    z = z ^ (z >> 31);
    return (float) (z >> 40) * 5.9604644775390625e-8f; /* 2^-24 */
}

KERNEL void xbt_dropout(GLOBAL const float* x, int xo, float p, U64 seed, GLOBAL float* out, int oo, int n) {
    int i = GLOBAL_ID(0);
    if (i >= n) return;
    double keep_scale = 1.0 / (1.0 - (double) p);
    out[oo + i] = xbt_uniform(seed, (U64) i) >= p ? (float) (x[xo + i] * keep_scale) : 0.0f;
}

/* ---- read-backs: per-work-item partials, summed on the host in a fixed order ---- */

KERNEL void xbt_sum_of_squares(GLOBAL const float* x, int xo, int n, int parts, GLOBAL double* partial) {
    int t = GLOBAL_ID(0);
    if (t >= parts) return;
    double s = 0.0;
    for (int i = t; i < n; i += parts) { double v = x[xo + i]; s += v * v; }
    partial[t] = s;
}

KERNEL void xbt_count_nan(GLOBAL const float* x, int xo, int n, int parts, GLOBAL int* partial) {
    int t = GLOBAL_ID(0);
    if (t >= parts) return;
    int c = 0;
    for (int i = t; i < n; i += parts) if (IS_NAN(x[xo + i])) c++;
    partial[t] = c;
}

/* ---- optimizer steps over a flat range ---- */

KERNEL void xbt_adamw(GLOBAL float* param, int po, GLOBAL const float* grad, int go, GLOBAL float* m, int mo,
                      GLOBAL float* v, int vo, float lr, float beta1, float beta2, float eps, float weight_decay,
                      float bias1, float bias2, int n) {
    int i = GLOBAL_ID(0);
    if (i >= n) return;
    double g = grad[go + i];
    double mi = (double) beta1 * m[mo + i] + (1.0 - (double) beta1) * g;
    double vi = (double) beta2 * v[vo + i] + (1.0 - (double) beta2) * g * g;
    m[mo + i] = (float) mi;
    v[vo + i] = (float) vi;
    double p = param[po + i];
    param[po + i] = (float) (p - (double) lr * ((mi / bias1) / (sqrt(vi / bias2) + eps) + (double) weight_decay * p));
}

KERNEL void xbt_sgd(GLOBAL float* param, int po, GLOBAL const float* grad, int go, GLOBAL float* buf, int bo,
                    float lr, float mu, float weight_decay, int nesterov, int n) {
    int i = GLOBAL_ID(0);
    if (i >= n) return;
    double p = param[po + i];
    double d = grad[go + i] + (double) weight_decay * p;
    double b = (double) mu * buf[bo + i] + d;
    buf[bo + i] = (float) b;
    param[po + i] = (float) (p - (double) lr * (nesterov ? d + (double) mu * b : b));
}

/* ---- GEMM: C = alpha op(A) op(B) + beta C, batched over dimension 2, TILE x TILE local tiles ---- */

#define XBT_TILE 16

KERNEL void xbt_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                     GLOBAL const float* a, int ao, int stride_a, GLOBAL const float* b, int bo, int stride_b,
                     float beta, GLOBAL float* c, int co, int stride_c) {
    LOCAL float ta[XBT_TILE][XBT_TILE + 1];
    LOCAL float tb[XBT_TILE][XBT_TILE + 1];
    int lx = LOCAL_ID(0), ly = LOCAL_ID(1);
    int col = GROUP_ID(0) * XBT_TILE + lx, row = GROUP_ID(1) * XBT_TILE + ly, batch = GROUP_ID(2);
    GLOBAL const float* A = a + ao + (long) batch * stride_a;
    GLOBAL const float* B = b + bo + (long) batch * stride_b;
    float acc = 0.0f;
    for (int p0 = 0; p0 < k; p0 += XBT_TILE) {
        /* ta[ly][lx] = op(A)[row][p0 + lx]; tb[ly][lx] = op(B)[p0 + ly][col] */
        int ap = p0 + lx, bp = p0 + ly;
        ta[ly][lx] = row < m && ap < k ? (trans_a ? A[(long) ap * m + row] : A[(long) row * k + ap]) : 0.0f;
        tb[ly][lx] = bp < k && col < n ? (trans_b ? B[(long) col * k + bp] : B[(long) bp * n + col]) : 0.0f;
        BARRIER();
        for (int p = 0; p < XBT_TILE; p++) acc = fma(ta[ly][p], tb[p][lx], acc);
        BARRIER();
    }
    if (row < m && col < n) {
        long at = co + (long) batch * stride_c + (long) row * n + col;
        c[at] = beta == 0.0f ? alpha * acc : alpha * acc + beta * c[at];
    }
}
