#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "gradflow/detail/engine.hpp"
#include "gradflow/devices.hpp"
#include "gradflow/error.hpp"
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

void use_cuda_device(int device) {
  const int count = cuda_device_count();
  if (device < 0 || device >= count)
    throw no_device("invalid device = " + std::to_string(device) + ": " +
                    (count == 0 ? std::string("no CUDA device answers")
                                : std::to_string(count) + " CUDA device(s) answer, 0 to " +
                                      std::to_string(count - 1)));
  if (cudaSetDevice(device) != cudaSuccess) {
    cudaGetLastError();
    throw no_device("CUDA device " + std::to_string(device) + " cannot be used");
  }
}

}  // namespace gradflow
