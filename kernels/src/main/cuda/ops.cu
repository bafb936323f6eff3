// The CUDA backend's kernels other than matrix products (see gemm.cu): one extern "C" function per
// Backend SPI kernel, named xbt_<op>. Compiled ahead to PTX for sm_80 (scripts/build-cuda-ptx) and
// loaded by CudaModule; the Java side (CudaBackend) passes every buffer as a raw 64-bit device
// address, every size as int, and broadcast shapes as an XbtDims struct by value.
//
// Accuracy: no fast-math. Row statistics (layer norm, softmax, cross-entropy, attention) accumulate
// in float; sums over long axes, sum of squares and the AdamW moments use double where float32
// accumulation alone would exceed the contract's tolerances.

#include <stdint.h>

#define XBT_MAX_RANK 8

struct XbtDims {
    int rank;
    int shape[XBT_MAX_RANK];
    int a[XBT_MAX_RANK];  // first operand's (or source's) element strides
    int b[XBT_MAX_RANK];  // second operand's (or destination's) element strides
};

__device__ __forceinline__ size_t gid() { return (size_t)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ size_t gstride() { return (size_t)gridDim.x * blockDim.x; }

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ double warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide sum (any blockDim that is a multiple of 32, up to 1024); every thread gets the result.
__device__ float block_sum(float v) {
    __shared__ float part[32];
    __shared__ float total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum(v);
    __syncthreads();  // part[] may still be read by a previous call
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < (int)(blockDim.x >> 5) ? part[lane] : 0.f;
        s = warp_sum(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    return total;
}
__device__ double block_sum_d(double v) {
    __shared__ double part[32];
    __shared__ double total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum_d(v);
    __syncthreads();
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        double s = lane < (int)(blockDim.x >> 5) ? part[lane] : 0.0;
        s = warp_sum_d(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    return total;
}
__device__ float block_max(float v) {
    __shared__ float part[32];
    __shared__ float total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < (int)(blockDim.x >> 5) ? part[lane] : -INFINITY;
        s = warp_max(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    return total;
}

// ------------------------------------------------------------------------------- element-wise

// BinaryOp ordinals: ADD, SUB, MUL, DIV.
__device__ __forceinline__ float binop(int op, float x, float y) {
    switch (op) {
        case 0: return x + y;
        case 1: return x - y;
        case 2: return x * y;
        default: return x / y;
    }
}

extern "C" __global__ void xbt_binary(int op, XbtDims d, const float* a, const float* b, float* out, long long n) {
    for (size_t e = gid(); e < (size_t)n; e += gstride()) {
        long long rest = (long long)e, ai = 0, bi = 0;
        for (int k = d.rank - 1; k >= 0; k--) {
            int s = d.shape[k];
            long long idx = rest % s;
            rest /= s;
            ai += idx * d.a[k];
            bi += idx * d.b[k];
        }
        out[e] = binop(op, a[ai], b[bi]);
    }
}

// Same-shape contiguous operands (the common case): no index arithmetic.
extern "C" __global__ void xbt_binary_flat(int op, const float* a, const float* b, float* out, long long n) {
    for (size_t e = gid(); e < (size_t)n; e += gstride()) out[e] = binop(op, a[e], b[e]);
}

__device__ __forceinline__ float sigmoidf_(float x) {
    return x >= 0.f ? 1.f / (1.f + expf(-x)) : expf(x) / (1.f + expf(x));
}

#define QUICK_GELU_ALPHA 1.702f
#define INV_SQRT2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

// UnaryOp ordinals: NEG, EXP, LOG, SQRT, RSQRT, SQUARE, RECIPROCAL, ABS, TANH, SIGMOID, RELU, GELU, QUICK_GELU.
__device__ float unop(int op, float x) {
    switch (op) {
        case 0: return -x;
        case 1: return expf(x);
        case 2: return logf(x);
        case 3: return sqrtf(x);
        case 4: return 1.f / sqrtf(x);
        case 5: return x * x;
        case 6: return 1.f / x;
        case 7: return fabsf(x);
        case 8: return tanhf(x);
        case 9: return sigmoidf_(x);
        case 10: return x > 0.f ? x : 0.f;
        case 11: return 0.5f * x * (1.f + erff(x * INV_SQRT2));
        default: return x * sigmoidf_(QUICK_GELU_ALPHA * x);
    }
}

__device__ float unop_derivative(int op, float x) {
    switch (op) {
        case 0: return -1.f;
        case 1: return expf(x);
        case 2: return 1.f / x;
        case 3: return 0.5f / sqrtf(x);
        case 4: return -0.5f / (x * sqrtf(x));
        case 5: return 2.f * x;
        case 6: return -1.f / (x * x);
        case 7: return x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f);
        case 8: { float t = tanhf(x); return 1.f - t * t; }
        case 9: { float s = sigmoidf_(x); return s * (1.f - s); }
        case 10: return x > 0.f ? 1.f : 0.f;
        case 11: return 0.5f * (1.f + erff(x * INV_SQRT2)) + x * INV_SQRT_2PI * expf(-0.5f * x * x);
        default: {
            float s = sigmoidf_(QUICK_GELU_ALPHA * x);
            return s + x * QUICK_GELU_ALPHA * s * (1.f - s);
        }
    }
}

extern "C" __global__ void xbt_unary(int op, const float* x, float* out, long long n) {
    for (size_t e = gid(); e < (size_t)n; e += gstride()) out[e] = unop(op, x[e]);
}

extern "C" __global__ void xbt_unary_backward(int op, const float* x, const float* gout, float* gin, long long n) {
    for (size_t e = gid(); e < (size_t)n; e += gstride()) gin[e] = gout[e] * unop_derivative(op, x[e]);
}

extern "C" __global__ void xbt_affine(const float* x, float scale, float shift, float* out, long long n) {
    for (size_t e = gid(); e < (size_t)n; e += gstride()) out[e] = fmaf(x[e], scale, shift);
}

// ------------------------------------------------------------------------------- reductions

// max with the reference's rule: a NaN wins, otherwise the larger value.
__device__ __forceinline__ float max_nan(float acc, float v) { return (v > acc || v != v) ? v : acc; }

// One block per output row (inner == 1): x viewed as outer × n.
extern "C" __global__ void xbt_reduce_rows(int op, const float* x, int outer, int n, float* out) {
    int o = blockIdx.x;
    if (o >= outer) return;
    const float* row = x + (size_t)o * n;
    if (op == 0) {
        double s = 0;
        for (int j = threadIdx.x; j < n; j += blockDim.x) s += row[j];
        s = block_sum_d(s);
        if (threadIdx.x == 0) out[o] = (float)s;
    } else {
        // A first-maximum scan per thread, then combined: the value is what matters (ties are equal).
        float m = -INFINITY;
        bool nan = false;
        for (int j = threadIdx.x; j < n; j += blockDim.x) {
            float v = row[j];
            nan |= v != v;
            m = fmaxf(m, v);
        }
        m = block_max(m);
        int anyNan = __syncthreads_or(nan);
        if (threadIdx.x == 0) out[o] = anyNan ? __int_as_float(0x7fc00000) : m;
    }
}

// One thread per output (o, i), walking j: coalesced over i.
extern "C" __global__ void xbt_reduce_strided(int op, const float* x, int outer, int n, int inner, float* out) {
    size_t total = (size_t)outer * inner;
    for (size_t e = gid(); e < total; e += gstride()) {
        size_t o = e / inner, i = e % inner;
        const float* p = x + o * (size_t)n * inner + i;
        if (op == 0) {
            double s = 0;
            for (int j = 0; j < n; j++) s += p[(size_t)j * inner];
            out[e] = (float)s;
        } else {
            float m = -INFINITY;
            for (int j = 0; j < n; j++) m = max_nan(m, p[(size_t)j * inner]);
            out[e] = m;
        }
    }
}

// Long axes with few outputs (a bias gradient: outer 1, n = rows, inner = width): chunk blockIdx.y
// reduces j in [y·chunk, (y+1)·chunk) into partial[y, o·inner + i]; xbt_reduce_strided then reduces
// the chunks (outer 1, n = chunks, inner = outer·inner).
extern "C" __global__ void xbt_reduce_strided_chunk(int op, const float* x, int outer, int n, int inner, int chunk,
                                                    float* partial) {
    size_t total = (size_t)outer * inner;
    int j0 = blockIdx.y * chunk, j1 = min(n, j0 + chunk);
    float* part = partial + (size_t)blockIdx.y * total;
    for (size_t e = gid(); e < total; e += gstride()) {
        size_t o = e / inner, i = e % inner;
        const float* p = x + o * (size_t)n * inner + i;
        if (op == 0) {
            double s = 0;
            for (int j = j0; j < j1; j++) s += p[(size_t)j * inner];
            part[e] = (float)s;
        } else {
            float m = -INFINITY;
            for (int j = j0; j < j1; j++) m = max_nan(m, p[(size_t)j * inner]);
            part[e] = m;
        }
    }
}

extern "C" __global__ void xbt_reduce_max_backward(const float* x, const float* max, const float* gout, int outer,
                                                   int n, int inner, float* gin) {
    size_t total = (size_t)outer * inner;
    for (size_t e = gid(); e < total; e += gstride()) {
        size_t o = e / inner, i = e % inner;
        size_t base = o * (size_t)n * inner + i;
        float m = max[e], g = gout[e];
        bool given = false;
        for (int j = 0; j < n; j++) {
            float v = x[base + (size_t)j * inner];
            bool hit = !given && (v == m || (v != v && m != m));
            gin[base + (size_t)j * inner] = hit ? g : 0.f;
            given |= hit;
        }
    }
}

// ------------------------------------------------------------------------------- data movement

// dst[Σ idx·d.b] (+)= src[Σ idx·d.a]. atomic: several indices land on one destination element.
extern "C" __global__ void xbt_strided_copy(XbtDims d, const float* src, float* dst, long long n, int accumulate,
                                            int atomic) {
    for (size_t e = gid(); e < (size_t)n; e += gstride()) {
        long long rest = (long long)e, si = 0, di = 0;
        for (int k = d.rank - 1; k >= 0; k--) {
            int s = d.shape[k];
            long long idx = rest % s;
            rest /= s;
            si += idx * d.a[k];
            di += idx * d.b[k];
        }
        float v = src[si];
        if (!accumulate) dst[di] = v;
        else if (atomic) atomicAdd(dst + di, v);
        else dst[di] += v;
    }
}

extern "C" __global__ void xbt_gather_rows(const float* table, int rowLen, const int* rows, int nrows, float* out) {
    size_t total = (size_t)nrows * rowLen;
    for (size_t e = gid(); e < total; e += gstride()) {
        size_t r = e / rowLen, j = e % rowLen;
        out[e] = table[(size_t)rows[r] * rowLen + j];
    }
}

extern "C" __global__ void xbt_scatter_add_rows(const float* src, int rowLen, const int* rows, int nrows, float* table) {
    size_t total = (size_t)nrows * rowLen;
    for (size_t e = gid(); e < total; e += gstride()) {
        size_t r = e / rowLen, j = e % rowLen;
        atomicAdd(table + (size_t)rows[r] * rowLen + j, src[e]);
    }
}

// ------------------------------------------------------------------------------- layer norm

// One block per row. mean and rstd may be null (0).
extern "C" __global__ void xbt_layer_norm(const float* x, const float* gamma, const float* beta, int rows, int n,
                                          float eps, float* out, float* mean, float* rstd) {
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* xr = x + (size_t)r * n;
    float s = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += xr[j];
    float mu = block_sum(s) / n;
    float v = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        float dv = xr[j] - mu;
        v = fmaf(dv, dv, v);
    }
    float rs = rsqrtf(block_sum(v) / n + eps);
    float* o = out + (size_t)r * n;
    for (int j = threadIdx.x; j < n; j += blockDim.x) o[j] = (xr[j] - mu) * rs * gamma[j] + beta[j];
    if (threadIdx.x == 0) {
        if (mean) mean[r] = mu;
        if (rstd) rstd[r] = rs;
    }
}

// gradX per row (one block per row).
extern "C" __global__ void xbt_layer_norm_backward_x(const float* x, const float* gamma, const float* mean,
                                                     const float* rstd, const float* gout, int rows, int n,
                                                     float* gx) {
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* xr = x + (size_t)r * n;
    const float* gr = gout + (size_t)r * n;
    float mu = mean[r], rs = rstd[r];
    float sd = 0.f, sdx = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        float xhat = (xr[j] - mu) * rs, dxhat = gr[j] * gamma[j];
        sd += dxhat;
        sdx = fmaf(dxhat, xhat, sdx);
    }
    sd = block_sum(sd) / n;
    sdx = block_sum(sdx) / n;
    float* o = gx + (size_t)r * n;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        float xhat = (xr[j] - mu) * rs, dxhat = gr[j] * gamma[j];
        o[j] = rs * (dxhat - sd - xhat * sdx);
    }
}

// Column partial sums of g·xhat and g over a chunk of rows: partial[chunk, 2, n] (gamma part, beta part).
extern "C" __global__ void xbt_layer_norm_backward_params(const float* x, const float* mean, const float* rstd,
                                                          const float* gout, int rows, int n, int rowsPerChunk,
                                                          float* partial) {
    int chunk = blockIdx.y;
    int r0 = chunk * rowsPerChunk, r1 = min(rows, r0 + rowsPerChunk);
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += gridDim.x * blockDim.x) {
        float sg = 0.f, sb = 0.f;
        for (int r = r0; r < r1; r++) {
            float g = gout[(size_t)r * n + j];
            float xhat = (x[(size_t)r * n + j] - mean[r]) * rstd[r];
            sg = fmaf(g, xhat, sg);
            sb += g;
        }
        partial[((size_t)chunk * 2) * n + j] = sg;
        partial[((size_t)chunk * 2 + 1) * n + j] = sb;
    }
}

// gradGamma[j] += Σ chunks, gradBeta[j] += Σ chunks (either may be null).
extern "C" __global__ void xbt_layer_norm_backward_params_sum(const float* partial, int chunks, int n, float* gg,
                                                              float* gb) {
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += gridDim.x * blockDim.x) {
        float sg = 0.f, sb = 0.f;
        for (int c = 0; c < chunks; c++) {
            sg += partial[((size_t)c * 2) * n + j];
            sb += partial[((size_t)c * 2 + 1) * n + j];
        }
        if (gg) gg[j] += sg;
        if (gb) gb[j] += sb;
    }
}

// ------------------------------------------------------------------------------- softmax

extern "C" __global__ void xbt_softmax(const float* x, int rows, int n, int log, float* out) {
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* xr = x + (size_t)r * n;
    float m = -INFINITY;
    for (int j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, xr[j]);
    m = block_max(m);
    float s = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += expf(xr[j] - m);
    float lse = m + logf(block_sum(s));
    float* o = out + (size_t)r * n;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        float v = xr[j] - lse;
        o[j] = log ? v : expf(v);
    }
}

extern "C" __global__ void xbt_softmax_backward(const float* y, const float* gout, int rows, int n, int log,
                                                float* gin) {
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* yr = y + (size_t)r * n;
    const float* gr = gout + (size_t)r * n;
    float dot = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) dot += log ? gr[j] : gr[j] * yr[j];
    dot = block_sum(dot);
    float* o = gin + (size_t)r * n;
    for (int j = threadIdx.x; j < n; j += blockDim.x) o[j] = log ? gr[j] - expf(yr[j]) * dot : yr[j] * (gr[j] - dot);
}

// ------------------------------------------------------------------------------- attention
//
// One warp per query row (forward, gradQ) or per key row (gradK/gradV); the lanes split the head
// dimension (at most ATT_MAXD), dot products reduce across the warp by shuffles, and the softmax runs
// online over the keys, so no score matrix is ever stored.

#define ATT_MAXD 256
#define ATT_PER_LANE (ATT_MAXD / 32)

__device__ __forceinline__ float att_score(const float* qrow, const float* krow, int d, float scale, int lane) {
    float s = 0.f;
    for (int l = lane; l < d; l += 32) s = fmaf(qrow[l], krow[l], s);
    return warp_sum(s) * scale;
}

__device__ __forceinline__ float att_bias(const float* mask, size_t mo, int i, int j, int tk, int causal) {
    if (causal && j > i) return -INFINITY;
    return mask ? mask[mo + (size_t)i * tk + j] : 0.f;
}

extern "C" __global__ void xbt_attention(int bh, int tq, int tk, int d, float scale, const float* q, const float* k,
                                         const float* v, const float* mask, int maskGroup, int causal, float* out,
                                         float* lse) {
    int lane = threadIdx.x & 31;
    long long row = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;  // (head, query)
    if (row >= (long long)bh * tq) return;
    int h = (int)(row / tq), i = (int)(row % tq);
    const float* qrow = q + (size_t)row * d;
    const float* kh = k + (size_t)h * tk * d;
    const float* vh = v + (size_t)h * tk * d;
    size_t mo = mask ? (size_t)(h / maskGroup) * tq * tk : 0;
    float acc[ATT_PER_LANE];
#pragma unroll
    for (int u = 0; u < ATT_PER_LANE; u++) acc[u] = 0.f;
    float m = -INFINITY, sum = 0.f;
    for (int j = 0; j < tk; j++) {
        float bias = att_bias(mask, mo, i, j, tk, causal);
        if (bias == -INFINITY) continue;  // warp-uniform
        float s = att_score(qrow, kh + (size_t)j * d, d, scale, lane) + bias;
        float mNew = fmaxf(m, s);
        float c = expf(m - mNew), p = expf(s - mNew);  // m = -inf at first: c = 0
        sum = sum * c + p;
        const float* vrow = vh + (size_t)j * d;
#pragma unroll
        for (int u = 0; u < ATT_PER_LANE; u++) {
            int l = lane + 32 * u;
            if (l < d) acc[u] = acc[u] * c + p * vrow[l];
        }
        m = mNew;
    }
    float* orow = out + (size_t)row * d;
    bool empty = m == -INFINITY;
    float inv = empty ? 0.f : 1.f / sum;
#pragma unroll
    for (int u = 0; u < ATT_PER_LANE; u++) {
        int l = lane + 32 * u;
        if (l < d) orow[l] = acc[u] * inv;
    }
    if (lane == 0) lse[row] = empty ? -INFINITY : m + logf(sum);
}

// delta[row] = Σ_l gout[row, l] · out[row, l] (one warp per row).
extern "C" __global__ void xbt_attention_delta(long long rows, int d, const float* out, const float* gout,
                                               float* delta) {
    int lane = threadIdx.x & 31;
    long long row = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    if (row >= rows) return;
    float s = 0.f;
    for (int l = lane; l < d; l += 32) s = fmaf(gout[(size_t)row * d + l], out[(size_t)row * d + l], s);
    s = warp_sum(s);
    if (lane == 0) delta[row] = s;
}

// gradQ: one warp per (head, query).
extern "C" __global__ void xbt_attention_backward_q(int bh, int tq, int tk, int d, float scale, const float* q,
                                                    const float* k, const float* v, const float* mask,
                                                    int maskGroup, int causal, const float* lse,
                                                    const float* delta, const float* gout, float* gq) {
    int lane = threadIdx.x & 31;
    long long row = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    if (row >= (long long)bh * tq) return;
    int h = (int)(row / tq), i = (int)(row % tq);
    const float* qrow = q + (size_t)row * d;
    const float* grow = gout + (size_t)row * d;
    const float* kh = k + (size_t)h * tk * d;
    const float* vh = v + (size_t)h * tk * d;
    size_t mo = mask ? (size_t)(h / maskGroup) * tq * tk : 0;
    float L = lse[row], D = delta[row];
    float acc[ATT_PER_LANE];
#pragma unroll
    for (int u = 0; u < ATT_PER_LANE; u++) acc[u] = 0.f;
    if (L != -INFINITY) {
        for (int j = 0; j < tk; j++) {
            float bias = att_bias(mask, mo, i, j, tk, causal);
            if (bias == -INFINITY) continue;
            const float* krow = kh + (size_t)j * d;
            float p = expf(att_score(qrow, krow, d, scale, lane) + bias - L);
            float dp = att_score(grow, vh + (size_t)j * d, d, 1.f, lane);
            float ds = p * (dp - D) * scale;
#pragma unroll
            for (int u = 0; u < ATT_PER_LANE; u++) {
                int l = lane + 32 * u;
                if (l < d) acc[u] = fmaf(ds, krow[l], acc[u]);
            }
        }
    }
#pragma unroll
    for (int u = 0; u < ATT_PER_LANE; u++) {
        int l = lane + 32 * u;
        if (l < d) gq[(size_t)row * d + l] = acc[u];
    }
}

// gradK and gradV (either may be null): one warp per (head, key).
extern "C" __global__ void xbt_attention_backward_kv(int bh, int tq, int tk, int d, float scale, const float* q,
                                                     const float* k, const float* v, const float* mask,
                                                     int maskGroup, int causal, const float* lse,
                                                     const float* delta, const float* gout, float* gk, float* gv) {
    int lane = threadIdx.x & 31;
    long long row = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    if (row >= (long long)bh * tk) return;
    int h = (int)(row / tk), j = (int)(row % tk);
    const float* krow = k + (size_t)row * d;
    const float* vrow = v + (size_t)row * d;
    const float* qh = q + (size_t)h * tq * d;
    const float* gh = gout + (size_t)h * tq * d;
    size_t mo = mask ? (size_t)(h / maskGroup) * tq * tk : 0;
    float ak[ATT_PER_LANE], av[ATT_PER_LANE];
#pragma unroll
    for (int u = 0; u < ATT_PER_LANE; u++) ak[u] = av[u] = 0.f;
    for (int i = 0; i < tq; i++) {
        float L = lse[(size_t)h * tq + i];
        float bias = att_bias(mask, mo, i, j, tk, causal);
        if (L == -INFINITY || bias == -INFINITY) continue;
        const float* qrow = qh + (size_t)i * d;
        const float* grow = gh + (size_t)i * d;
        float p = expf(att_score(qrow, krow, d, scale, lane) + bias - L);
        float dp = att_score(grow, vrow, d, 1.f, lane);
        float ds = p * (dp - delta[(size_t)h * tq + i]) * scale;
#pragma unroll
        for (int u = 0; u < ATT_PER_LANE; u++) {
            int l = lane + 32 * u;
            if (l < d) {
                ak[u] = fmaf(ds, qrow[l], ak[u]);
                av[u] = fmaf(p, grow[l], av[u]);
            }
        }
    }
#pragma unroll
    for (int u = 0; u < ATT_PER_LANE; u++) {
        int l = lane + 32 * u;
        if (l < d) {
            if (gk) gk[(size_t)row * d + l] = ak[u];
            if (gv) gv[(size_t)row * d + l] = av[u];
        }
    }
}

// ------------------------------------------------------------------------------- cross-entropy

extern "C" __global__ void xbt_cross_entropy(const float* logits, int rows, int n, const int* targets, float* loss,
                                             float* lse) {
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* xr = logits + (size_t)r * n;
    float m = -INFINITY;
    for (int j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, xr[j]);
    m = block_max(m);
    float s = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += expf(xr[j] - m);
    float l = m + logf(block_sum(s));
    if (threadIdx.x == 0) {
        lse[r] = l;
        int t = targets[r];
        loss[r] = t < 0 ? 0.f : l - xr[t];
    }
}

extern "C" __global__ void xbt_cross_entropy_backward(const float* logits, const float* lse, const int* targets,
                                                      const float* gloss, int rows, int n, float* glogits) {
    size_t total = (size_t)rows * n;
    for (size_t e = gid(); e < total; e += gstride()) {
        int r = (int)(e / n), j = (int)(e % n);
        int t = targets[r];
        float g = t < 0 ? 0.f : gloss[r];
        glogits[e] = g * (expf(logits[e] - lse[r]) - (j == t ? 1.f : 0.f));
    }
}

// ------------------------------------------------------------------------------- dropout

// Rng.uniform(seed, counter) of the engine: SplitMix64's finaliser of seed + golden·(counter + 1).
__device__ __forceinline__ float rng_uniform(unsigned long long seed, unsigned long long counter) {
    unsigned long long z = seed + 0x9E3779B97F4A7C15ull * (counter + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z = z ^ (z >> 31);
    return (float)(z >> 40) * 0x1.0p-24f;
}

extern "C" __global__ void xbt_dropout(const float* x, float p, unsigned long long seed, float* out, long long n) {
    double keep = 1.0 / (1.0 - (double)p);
    for (size_t e = gid(); e < (size_t)n; e += gstride()) {
        out[e] = rng_uniform(seed, e) >= p ? (float)((double)x[e] * keep) : 0.f;
    }
}

// ------------------------------------------------------------------------------- read-backs

// result[0] += Σ x² over this block's share (double).
extern "C" __global__ void xbt_sum_of_squares(const float* x, long long n, double* result) {
    double s = 0;
    for (size_t e = gid(); e < (size_t)n; e += gstride()) s += (double)x[e] * x[e];
    s = block_sum_d(s);
    if (threadIdx.x == 0) atomicAdd(result, s);
}

extern "C" __global__ void xbt_count_nan(const float* x, long long n, unsigned long long* result) {
    unsigned int c = 0;
    for (size_t e = gid(); e < (size_t)n; e += gstride()) c += x[e] != x[e];
    for (int o = 16; o > 0; o >>= 1) c += __shfl_xor_sync(0xffffffffu, c, o);
    if ((threadIdx.x & 31) == 0 && c) atomicAdd(result, (unsigned long long)c);
}

// ------------------------------------------------------------------------------- optimizers

extern "C" __global__ void xbt_adamw(float* param, const float* grad, float* m, float* v, float lr, float beta1,
                                     float beta2, float eps, float wd, float bias1, float bias2, long long n) {
    for (size_t e = gid(); e < (size_t)n; e += gstride()) {
        double g = grad[e];
        double mi = (double)beta1 * m[e] + (1.0 - (double)beta1) * g;
        double vi = (double)beta2 * v[e] + (1.0 - (double)beta2) * g * g;
        m[e] = (float)mi;
        v[e] = (float)vi;
        double p = param[e];
        param[e] = (float)(p - (double)lr * ((mi / bias1) / (sqrt(vi / bias2) + (double)eps) + (double)wd * p));
    }
}

extern "C" __global__ void xbt_sgd(float* param, const float* grad, float* mom, float lr, float mu, float wd,
                                   int nesterov, long long n) {
    for (size_t e = gid(); e < (size_t)n; e += gstride()) {
        double p = param[e];
        double d = grad[e] + (double)wd * p;
        double b = (double)mu * mom[e] + d;
        mom[e] = (float)b;
        param[e] = (float)(p - (double)lr * (nesterov ? d + (double)mu * b : b));
    }
}
