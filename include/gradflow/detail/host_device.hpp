#pragma once
/// GRADFLOW_HD marks per-problem math that both the CPU backend (g++) and the CUDA kernels (nvcc)
/// compile; under a host-only compiler it degrades to plain inline. GRADFLOW_HD_FORCE_INLINE also
/// inlines a function too large for the compiler's own choice, where a loop over lanes must see its
/// body to vectorise it.
#if defined(__CUDACC__)
#define GRADFLOW_HD __host__ __device__ inline
#define GRADFLOW_HD_FORCE_INLINE __host__ __device__ __forceinline__
#else
#define GRADFLOW_HD inline
#define GRADFLOW_HD_FORCE_INLINE [[gnu::always_inline]] inline
#endif

/// GRADFLOW_VECTOR_LOOP before a loop over independent entries has the host compiler vectorise
/// that loop (OpenMP's simd, where the translation unit compiles with OpenMP); nothing in device
/// code. Without it GCC 12 may vectorise an enclosing loop instead, with gathers (add_terms).
#if defined(_OPENMP) && !defined(__CUDA_ARCH__)
#define GRADFLOW_VECTOR_LOOP _Pragma("omp simd")
#else
#define GRADFLOW_VECTOR_LOOP
#endif
