#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "gradflow/detail/engine.hpp"
#include "gradflow/solve.hpp"

namespace gradflow {

int cuda_device_count() {
  // Without a driver cudaGetDeviceCount returns an error (35) and leaves the count alone.
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

std::vector<std::string> cuda_devices() {
  std::vector<std::string> names;
  for (int device = 0; device < cuda_device_count(); ++device) {
    cudaDeviceProp properties{};
    if (cudaGetDeviceProperties(&properties, device) == cudaSuccess)
      names.push_back(properties.name);
  }
  return names;
}

}  // namespace gradflow
