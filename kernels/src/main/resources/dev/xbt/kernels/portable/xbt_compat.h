/*
 * The names that differ between OpenCL C and CUDA C, so one kernel source compiles as both: OpenCL
 * builds it at run time (dev.xbt.kernels.opencl), nvcc to PTX (scripts/build-portable-ptx checks it).
 * A kernel written against these macros uses only: KERNEL, GLOBAL (a pointer into device memory),
 * LOCAL (work-group / block shared memory), BARRIER(), GLOBAL_ID(d), LOCAL_ID(d), GROUP_ID(d),
 * LOCAL_SIZE(d), DEVICE_FN for helpers, U64 (a 64-bit unsigned integer), and the float/double math functions both languages spell alike
 * (exp, log, sqrt, erf, tanh, fma, fabs, fmax, fmin: overloaded for float in CUDA C++).
 */
#ifndef XBT_COMPAT_H
#define XBT_COMPAT_H

#ifdef __OPENCL_VERSION__
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define KERNEL __kernel
#define GLOBAL __global
#define LOCAL __local
#define DEVICE_FN static inline
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define GLOBAL_ID(d) ((int) get_global_id(d))
#define LOCAL_ID(d) ((int) get_local_id(d))
#define GROUP_ID(d) ((int) get_group_id(d))
#define LOCAL_SIZE(d) ((int) get_local_size(d))
#define U64 ulong
#define NAN_F NAN
#define INF_F INFINITY
#define IS_NAN(x) isnan(x)
#else
#include <math.h>
#define U64 unsigned long long
#define KERNEL extern "C" __global__
#define GLOBAL
#define LOCAL __shared__
#define DEVICE_FN static __device__ __forceinline__
#define BARRIER() __syncthreads()
#define XBT_AXIS(v, d) ((d) == 0 ? v.x : (d) == 1 ? v.y : v.z)
#define GLOBAL_ID(d) ((int) (XBT_AXIS(blockIdx, d) * XBT_AXIS(blockDim, d) + XBT_AXIS(threadIdx, d)))
#define LOCAL_ID(d) ((int) XBT_AXIS(threadIdx, d))
#define GROUP_ID(d) ((int) XBT_AXIS(blockIdx, d))
#define LOCAL_SIZE(d) ((int) XBT_AXIS(blockDim, d))
#define NAN_F __int_as_float(0x7fc00000)
#define INF_F __int_as_float(0x7f800000)
#define IS_NAN(x) isnan(x)
#endif

#endif
