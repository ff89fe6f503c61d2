// Plain C++ against the CUDA runtime and cuBLAS (no kernels of its own).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "ceilings.hpp"

namespace gradflow::bench {
namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + ": " + cublasGetStatusString(status));
}

/// Device memory freed on scope exit.
struct device_bytes {
  void* data = nullptr;
  explicit device_bytes(std::size_t bytes) { check(cudaMalloc(&data, bytes), "cudaMalloc"); }
  ~device_bytes() { cudaFree(data); }
  device_bytes(const device_bytes&) = delete;
  device_bytes& operator=(const device_bytes&) = delete;
};

/// The fastest of five timed calls of `body` (CUDA events on the default stream), after one
/// warm-up: a ceiling is the best the device does.
template <class Body>
double fastest_seconds(Body body) {
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  body();
  double fastest = 0;
  for (int r = 0; r < 5; ++r) {
    check(cudaEventRecord(start), "cudaEventRecord");
    body();
    check(cudaEventRecord(stop), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float milliseconds = 0;
    check(cudaEventElapsedTime(&milliseconds, start, stop), "cudaEventElapsedTime");
    fastest = r == 0 ? milliseconds * 1e-3 : std::min(fastest, milliseconds * 1e-3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return fastest;
}

template <class Real>
double gemm_rate() {
  constexpr int order = 8192;
  const std::size_t count = std::size_t(order) * order;
  std::vector<Real> host(count);
  std::mt19937_64 engine(5);
  std::uniform_real_distribution<Real> uniform(-1, 1);
  for (Real& value : host) value = uniform(engine);  // never time on zeros
  device_bytes a(count * sizeof(Real)), b(count * sizeof(Real)), c(count * sizeof(Real));
  check(cudaMemcpy(a.data, host.data(), count * sizeof(Real), cudaMemcpyHostToDevice), "upload");
  check(cudaMemcpy(b.data, host.data(), count * sizeof(Real), cudaMemcpyHostToDevice), "upload");
  cublasHandle_t handle;
  check(cublasCreate(&handle), "cublasCreate");
  const Real one = 1, zero = 0;
  const double seconds = fastest_seconds([&] {
    if constexpr (sizeof(Real) == 8) {
      check(
          cublasDgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, order, order, order, &one,
                      static_cast<const double*>(a.data), order, static_cast<const double*>(b.data),
                      order, &zero, static_cast<double*>(c.data), order),
          "cublasDgemm");
    } else {
      check(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, order, order, order, &one,
                        static_cast<const float*>(a.data), order, static_cast<const float*>(b.data),
                        order, &zero, static_cast<float*>(c.data), order),
            "cublasSgemm");
    }
  });
  cublasDestroy(handle);
  return 2.0 * order * double(order) * order / seconds;
}

}  // namespace

ceiling measure_cuda_ceiling(bool single_precision) {
  ceiling result;
  const std::size_t bytes = std::size_t(1) << 30;
  device_bytes from(bytes), to(bytes);
  check(cudaMemset(from.data, 1, bytes), "cudaMemset");
  const double seconds = fastest_seconds(
      [&] { check(cudaMemcpyAsync(to.data, from.data, bytes, cudaMemcpyDeviceToDevice), "copy"); });
  result.bytes_per_s = 2.0 * double(bytes) / seconds;
  result.flops_per_s = single_precision ? gemm_rate<float>() : gemm_rate<double>();
  return result;
}

}  // namespace gradflow::bench
