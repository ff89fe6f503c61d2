// Linked instead of kernels/ in a build without nvcc: the CUDA entry points exist and say so.
#include <string>
#include <vector>

#include "gradflow/detail/engine.hpp"
#include "gradflow/devices.hpp"
#include "gradflow/error.hpp"
#include "gradflow/solve.hpp"
#include "least_squares_model.hpp"
#include "neural_ode/neural_ode_model.hpp"

namespace gradflow {

int cuda_device_count() { return 0; }

std::vector<std::string> cuda_devices() { return {}; }

void use_cuda_device(int) {
  throw not_compiled("a CUDA device cannot be chosen: this libgradflow was built without CUDA");
}

namespace detail {

namespace {
[[noreturn]] void no_cuda_build() {
  throw not_compiled(
      "backend cuda requested but this libgradflow was built without CUDA (no nvcc at configure "
      "time)");
}
}  // namespace

template <class Real>
std::unique_ptr<engine<Real>> make_cuda_engine() {
  no_cuda_build();
}

template <class Real>
std::unique_ptr<problem_model<Real>> make_least_squares_cuda_model(
    const least_squares_view<Real>&) {
  no_cuda_build();
}

template <class Real>
std::unique_ptr<problem_model<Real>> make_neural_ode_cuda_model(const neural_ode_arrays<Real>&) {
  no_cuda_build();
}

template std::unique_ptr<engine<float>> make_cuda_engine<float>();
template std::unique_ptr<engine<double>> make_cuda_engine<double>();
template std::unique_ptr<problem_model<float>> make_least_squares_cuda_model(
    const least_squares_view<float>&);
template std::unique_ptr<problem_model<double>> make_least_squares_cuda_model(
    const least_squares_view<double>&);
template std::unique_ptr<problem_model<double>> make_neural_ode_cuda_model(
    const neural_ode_arrays<double>&);

}  // namespace detail
}  // namespace gradflow
