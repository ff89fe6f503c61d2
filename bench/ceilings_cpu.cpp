#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <vector>

#include "ceilings.hpp"

#ifdef GRADFLOW_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace gradflow::bench {
namespace {

/// The fastest of `repetitions` runs after a warm-up: a ceiling is the best the machine does, and
/// on shared cores a median would take a neighbour's load for the machine's limit.
template <class Body>
double fastest_seconds(int repetitions, Body body) {
  body();  // warm-up: first touch, thread start
  double fastest = 0;
  for (int r = 0; r < repetitions; ++r) {
    const auto start = std::chrono::steady_clock::now();
    body();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fastest = r == 0 ? seconds : std::min(fastest, seconds);
  }
  return fastest;
}

#ifdef GRADFLOW_HAVE_OPENBLAS
template <class Real>
double gemm_rate() {
  constexpr int order = 2048;
  std::vector<Real> a(std::size_t(order) * order), b(a.size()), c(a.size());
  std::mt19937_64 engine(5);
  std::uniform_real_distribution<Real> uniform(-1, 1);
  for (auto* matrix : {&a, &b})
    for (Real& value : *matrix) value = uniform(engine);
  const double seconds = fastest_seconds(5, [&] {
    if constexpr (sizeof(Real) == 8) {
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, order, order, order, 1.0, a.data(),
                  order, b.data(), order, 0.0, c.data(), order);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, order, order, order, 1.0f, a.data(),
                  order, b.data(), order, 0.0f, c.data(), order);
    }
  });
  return 2.0 * order * double(order) * order / seconds;
}
#endif

}  // namespace

ceiling measure_cpu_ceiling(bool single_precision) {
  ceiling result;
  const std::size_t bytes = std::size_t(512) << 20;
  std::vector<char> from(bytes, 1), to(bytes, 0);
  const double seconds = fastest_seconds(5, [&] {
#pragma omp parallel
    {
      const std::size_t threads = std::size_t(omp_get_num_threads());
      const std::size_t share = (bytes + threads - 1) / threads;
      const std::size_t begin = std::min(bytes, share * std::size_t(omp_get_thread_num()));
      const std::size_t end = std::min(bytes, begin + share);
      std::memcpy(to.data() + begin, from.data() + begin, end - begin);
    }
  });
  result.bytes_per_s = 2.0 * double(bytes) / seconds;
#ifdef GRADFLOW_HAVE_OPENBLAS
  result.flops_per_s = single_precision ? gemm_rate<float>() : gemm_rate<double>();
#else
  (void)single_precision;
#endif
  return result;
}

}  // namespace gradflow::bench
