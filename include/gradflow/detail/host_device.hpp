#pragma once
/// GRADFLOW_HD marks per-problem math that both the CPU backend (g++) and the CUDA kernels (nvcc)
/// compile; under a host-only compiler it degrades to plain inline.
#if defined(__CUDACC__)
#define GRADFLOW_HD __host__ __device__ inline
#else
#define GRADFLOW_HD inline
#endif
