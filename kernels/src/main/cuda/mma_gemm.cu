// The CUDA backend's only kernels of its own: tensor-core matrix products, for when cuBLAS is absent
// or not wanted and -Dxbt.cuda.precision asks for tensor-core arithmetic:
//   xbt_gemm_tf32  mma.sync m16n8k8 TF32 inputs, FP32 accumulation
//   xbt_gemm_bf16  mma.sync m16n8k16 BF16 inputs, FP32 accumulation
// They stay CUDA-only because mma.sync (inline PTX, warp-level fragments) and the TF32/BF16
// conversions have no OpenCL C spelling. Every other kernel, the FP32 GEMM (gemm.cl) included, is a
// portable source under src/main/resources/dev/xbt/kernels/portable, compiled to PTX by the same
// script (scripts/build-cuda-ptx). Both compute, row-major, for every batch p:
//   C[p] = alpha · op(A[p]) · op(B[p]) + beta · C[p]   (beta == 0: C is not read, NaN in C vanishes)
// with op(A) m×k (stored k×m when transA), op(B) k×n (stored n×k when transB) and element strides
// between batches (0 shares one matrix). Batches run over gridDim.z, looping when there are more.

#include <cuda_bf16.h>
#include <stdint.h>

// Element (i, l) of op(A) and (l, j) of op(B), zero outside the matrix.
__device__ __forceinline__ float load_a(const float* a, int transA, int m, int k, int i, int l) {
    if (i >= m || l >= k) return 0.f;
    return transA ? a[(size_t)l * m + i] : a[(size_t)i * k + l];
}
__device__ __forceinline__ float load_b(const float* b, int transB, int k, int n, int l, int j) {
    if (l >= k || j >= n) return 0.f;
    return transB ? b[(size_t)j * k + l] : b[(size_t)l * n + j];
}

__device__ __forceinline__ void store_c(float* c, int m, int n, int i, int j, float alpha, float acc, float beta) {
    if (i >= m || j >= n) return;
    size_t e = (size_t)i * n + j;
    c[e] = beta == 0.f ? alpha * acc : fmaf(alpha, acc, beta * c[e]);
}

// ------------------------------------------------------------------------------- tensor cores
//
// 128 threads = 4 warps in a 2×2 grid over a 64×64 block tile; each warp owns 32×32 = 2 (m16) × 4 (n8)
// accumulator fragments. Tiles of op(A) (64×32) and op(B) (32×64) are staged in shared memory as
// float; the inputs are rounded to TF32 or BF16 as the fragments are built. Row pitches 36 and 72
// make the fragment reads bank-conflict free (TF32).

#define T_TILE 64
#define T_BK 32
#define T_LDA (T_BK + 4)
#define T_LDB (T_TILE + 8)

__device__ __forceinline__ uint32_t to_tf32(float x) {
    uint32_t u;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(u) : "f"(x));
    return u;
}

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);  // .x (lo) in the low half
    return *reinterpret_cast<uint32_t*>(&v);
}

__device__ __forceinline__ void mma_tf32(float* d, const uint32_t* a, const uint32_t* b) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ void mma_bf16(float* d, const uint32_t* a, const uint32_t* b) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

template <bool BF16>
__device__ void gemm_tc(int batch, int transA, int transB, int m, int n, int k, float alpha, const float* a,
                        long long strideA, const float* b, long long strideB, float beta, float* c,
                        long long strideC) {
    __shared__ float As[T_TILE][T_LDA];  // As[i][l]
    __shared__ float Bs[T_BK][T_LDB];    // Bs[l][j]
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int g = lane >> 2, t = lane & 3;           // fragment group and thread-in-group
    int wm = (warp >> 1) * 32, wn = (warp & 1) * 32;
    int i0 = blockIdx.y * T_TILE, j0 = blockIdx.x * T_TILE;
    for (int p = blockIdx.z; p < batch; p += gridDim.z) {
        const float* A = a + p * strideA;
        const float* B = b + p * strideB;
        float* C = c + p * strideC;
        float acc[2][4][4] = {};
        for (int l0 = 0; l0 < k; l0 += T_BK) {
#pragma unroll
            for (int r = 0; r < 16; r++) {
                int e = tid + 128 * r;
                int ii, ll;
                if (transA) { ll = e / T_TILE; ii = e % T_TILE; } else { ii = e / T_BK; ll = e % T_BK; }
                As[ii][ll] = load_a(A, transA, m, k, i0 + ii, l0 + ll);
                int jj, lb;
                if (transB) { jj = e / T_BK; lb = e % T_BK; } else { lb = e / T_TILE; jj = e % T_TILE; }
                Bs[lb][jj] = load_b(B, transB, k, n, l0 + lb, j0 + jj);
            }
            __syncthreads();
            if (BF16) {
#pragma unroll
                for (int kk = 0; kk < T_BK; kk += 16) {
                    uint32_t af[2][4], bf[4][2];
#pragma unroll
                    for (int mi = 0; mi < 2; mi++) {
                        int r0 = wm + mi * 16 + g;
                        af[mi][0] = pack_bf16(As[r0][kk + 2 * t], As[r0][kk + 2 * t + 1]);
                        af[mi][1] = pack_bf16(As[r0 + 8][kk + 2 * t], As[r0 + 8][kk + 2 * t + 1]);
                        af[mi][2] = pack_bf16(As[r0][kk + 2 * t + 8], As[r0][kk + 2 * t + 9]);
                        af[mi][3] = pack_bf16(As[r0 + 8][kk + 2 * t + 8], As[r0 + 8][kk + 2 * t + 9]);
                    }
#pragma unroll
                    for (int ni = 0; ni < 4; ni++) {
                        int c0 = wn + ni * 8 + g;
                        bf[ni][0] = pack_bf16(Bs[kk + 2 * t][c0], Bs[kk + 2 * t + 1][c0]);
                        bf[ni][1] = pack_bf16(Bs[kk + 2 * t + 8][c0], Bs[kk + 2 * t + 9][c0]);
                    }
#pragma unroll
                    for (int mi = 0; mi < 2; mi++)
#pragma unroll
                        for (int ni = 0; ni < 4; ni++) mma_bf16(acc[mi][ni], af[mi], bf[ni]);
                }
            } else {
#pragma unroll
                for (int kk = 0; kk < T_BK; kk += 8) {
                    uint32_t af[2][4], bf[4][2];
#pragma unroll
                    for (int mi = 0; mi < 2; mi++) {
                        int r0 = wm + mi * 16 + g;
                        af[mi][0] = to_tf32(As[r0][kk + t]);
                        af[mi][1] = to_tf32(As[r0 + 8][kk + t]);
                        af[mi][2] = to_tf32(As[r0][kk + t + 4]);
                        af[mi][3] = to_tf32(As[r0 + 8][kk + t + 4]);
                    }
#pragma unroll
                    for (int ni = 0; ni < 4; ni++) {
                        int c0 = wn + ni * 8 + g;
                        bf[ni][0] = to_tf32(Bs[kk + t][c0]);
                        bf[ni][1] = to_tf32(Bs[kk + t + 4][c0]);
                    }
#pragma unroll
                    for (int mi = 0; mi < 2; mi++)
#pragma unroll
                        for (int ni = 0; ni < 4; ni++) mma_tf32(acc[mi][ni], af[mi], bf[ni]);
                }
            }
            __syncthreads();
        }
#pragma unroll
        for (int mi = 0; mi < 2; mi++) {
#pragma unroll
            for (int ni = 0; ni < 4; ni++) {
                int r = i0 + wm + mi * 16 + g, col = j0 + wn + ni * 8 + 2 * t;
                store_c(C, m, n, r, col, alpha, acc[mi][ni][0], beta);
                store_c(C, m, n, r, col + 1, alpha, acc[mi][ni][1], beta);
                store_c(C, m, n, r + 8, col, alpha, acc[mi][ni][2], beta);
                store_c(C, m, n, r + 8, col + 1, alpha, acc[mi][ni][3], beta);
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(128) xbt_gemm_tf32(int batch, int transA, int transB, int m, int n,
                                                                int k, float alpha, const float* a,
                                                                long long strideA, const float* b,
                                                                long long strideB, float beta, float* c,
                                                                long long strideC) {
    gemm_tc<false>(batch, transA, transB, m, n, k, alpha, a, strideA, b, strideB, beta, c, strideC);
}

extern "C" __global__ void __launch_bounds__(128) xbt_gemm_bf16(int batch, int transA, int transB, int m, int n,
                                                                int k, float alpha, const float* a,
                                                                long long strideA, const float* b,
                                                                long long strideB, float beta, float* c,
                                                                long long strideC) {
    gemm_tc<true>(batch, transA, transB, m, n, k, alpha, a, strideA, b, strideB, beta, c, strideC);
}
