/*
 * xbt_compat.h: the few names that differ between OpenCL C and CUDA C, so that each portable
 * kernel is written once. Every portable source is compiled with this header in front of it:
 * the OpenCL backend prepends it (and xbt_util.h) to the program text at run time; scripts/build-cuda-ptx
 * passes it to nvcc with -include. Kernel files therefore never #include it themselves.
 *
 * Kernel code uses the CUDA spellings of the float math functions (expf, logf, fmaf, ...);
 * on OpenCL they are mapped to the overloaded built-ins below.
 */
#ifndef XBT_COMPAT_H
#define XBT_COMPAT_H

#ifdef __OPENCL_VERSION__
/* ------------------------------------------------------------------ OpenCL C */
/* Predictable rounding: no silent a*b+c contraction (the CPU reference rounds each operation). */
#pragma OPENCL FP_CONTRACT OFF

#define KERNEL __kernel
#define GLOBAL __global
#define LOCAL __local              /* a work-group-shared array declared in a kernel */
#define LOCAL_PTR __local          /* a parameter pointing at such an array */
#define DEVICE static inline       /* a helper function */
#define RESTRICT restrict
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)

#define LID_X ((int) get_local_id(0))
#define LID_Y ((int) get_local_id(1))
#define LSIZE_X ((int) get_local_size(0))
#define LSIZE_Y ((int) get_local_size(1))
#define GROUP_X ((int) get_group_id(0))
#define GROUP_Y ((int) get_group_id(1))
#define GROUP_Z ((int) get_group_id(2))
#define NGROUPS_X ((int) get_num_groups(0))

typedef long i64;
typedef ulong u64;
typedef uint u32;
#define U64C(x) x##UL

#define expf exp
#define logf log
#define sqrtf sqrt
#define rsqrtf rsqrt
#define erff erf
#define tanhf tanh
#define fabsf fabs
#define fmaf fma
#define fmaxf fmax
#define fminf fmin
#define XBT_INF INFINITY
#define XBT_NAN NAN
#define XBT_ISNAN(x) isnan(x)
#define XBT_ADD_RN(a, b) ((a) + (b))
#define XBT_MUL_RN(a, b) ((a) * (b))
#define XBT_UMULHI(a, b) mul_hi((uint) (a), (uint) (b))
/* Four floats at p + 4 i of local memory (p 16-byte aligned), as a float4 (.x .y .z .w). */
#define XBT_LOAD4(p, i) vload4((i), (p))
/* A work-group-shared float array aligned for XBT_LOAD4. */
#define LOCAL_FLOATS_ALIGNED(name, n) __local float name[n] __attribute__((aligned(16)))

#else
/* ------------------------------------------------------------------ CUDA C++ */
#define KERNEL extern "C" __global__
#define GLOBAL
#define LOCAL __shared__
#define LOCAL_PTR
#define DEVICE static __device__ __forceinline__
#define RESTRICT __restrict__
#define BARRIER() __syncthreads()

#define LID_X ((int) threadIdx.x)
#define LID_Y ((int) threadIdx.y)
#define LSIZE_X ((int) blockDim.x)
#define LSIZE_Y ((int) blockDim.y)
#define GROUP_X ((int) blockIdx.x)
#define GROUP_Y ((int) blockIdx.y)
#define GROUP_Z ((int) blockIdx.z)
#define NGROUPS_X ((int) gridDim.x)

typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;
#define U64C(x) x##ULL

#define XBT_INF __int_as_float(0x7f800000)
#define XBT_NAN __int_as_float(0x7fc00000)
#define XBT_ISNAN(x) isnan(x)
/* Round-to-nearest operations nvcc never contracts into an fma (compensated sums rely on them). */
#define XBT_ADD_RN(a, b) __fadd_rn((a), (b))
#define XBT_MUL_RN(a, b) __fmul_rn((a), (b))
#define XBT_UMULHI(a, b) __umulhi((unsigned int) (a), (unsigned int) (b))
#define XBT_LOAD4(p, i) (reinterpret_cast<const float4 *>(p)[i])
#define LOCAL_FLOATS_ALIGNED(name, n) __shared__ __align__(16) float name[n]
#endif

/* Unrolls the loop that follows (its trip count a constant): keeps small per-work-item arrays in registers. */
#define UNROLL _Pragma("unroll")

/* A work-item's index in a one-dimensional launch. */
#define GLOBAL_X (GROUP_X * LSIZE_X + LID_X)

#endif
