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
