#pragma once
// The ceilings a run's achieved figures are measured against, measured in the same run: a large
// copy (memory bandwidth, bytes read + written) and a large GEMM (arithmetic rate).
#include <string>

namespace gradflow::bench {

struct ceiling {
  double bytes_per_s = 0;  ///< copy: bytes read + written per second
  double flops_per_s = 0;  ///< GEMM: 2·N³ per product, per second (0: no BLAS to measure with)
};

/// All cores: a 512 MiB memcpy split across OpenMP threads; an OpenBLAS GEMM of order 2048 when
/// the benchmark was built with OpenBLAS; each the fastest of five after a warm-up.
ceiling measure_cpu_ceiling(bool single_precision);

/// The current device: a 1 GiB device-to-device copy and a cuBLAS GEMM of order 8192 on random
/// data, each the fastest of five after a warm-up. Throws when built without CUDA.
ceiling measure_cuda_ceiling(bool single_precision);

}  // namespace gradflow::bench
