#include "openblas_kernels.hpp"

#include <cblas.h>

#include <algorithm>
#include <cctype>

namespace gradflow::bench {

std::string openblas_kernels() { return openblas_get_corename(); }

namespace {

/// OpenBLAS's x86 targets with AVX-512 kernels (a DYNAMIC_ARCH build names them in mixed case, a
/// build for one target in capitals).
bool has_avx512_kernels(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return name == "skylakex" || name == "cooperlake" || name == "sapphirerapids";
}

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}

}  // namespace

bool openblas_passes_over_avx512() {
  return !has_avx512_kernels(openblas_kernels()) && cpu_has_avx512();
}

}  // namespace gradflow::bench
