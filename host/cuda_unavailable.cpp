// Linked instead of kernels/ in a build without nvcc: the CUDA entry points exist and say so.
#include <string>
#include <vector>

#include "backend.hpp"
#include "gradflow/error.hpp"
#include "gradflow/solve.hpp"

namespace gradflow {

int cuda_device_count() { return 0; }

std::vector<std::string> cuda_devices() { return {}; }

template <class Real>
std::unique_ptr<lockstep_backend<Real>> make_cuda_backend() {
  throw not_compiled(
      "backend cuda requested but this libgradflow was built without CUDA (no nvcc at configure "
      "time)");
}

template std::unique_ptr<lockstep_backend<float>> make_cuda_backend<float>();
template std::unique_ptr<lockstep_backend<double>> make_cuda_backend<double>();

}  // namespace gradflow
