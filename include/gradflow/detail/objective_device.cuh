#pragma once
// The objective model's data on the CUDA engine (included by gradflow/objective.hpp under nvcc
// only): the functors and the Hessians' room in device memory; every kernel runs on the engine's
// stream (detail/cuda_loops.cuh).
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "gradflow/detail/cuda_check.cuh"
#include "gradflow/detail/cuda_loops.cuh"
#include "gradflow/detail/device_buffer.cuh"

namespace gradflow::detail {

template <class Real, class Objective>
__global__ void objective_value_kernel(lockstep_view<Real> view, const Objective* problems,
                                       Real* values) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < view.batch_size) values[i] = problems[i].value(view.state_of(i));
}

template <class Objective, class Real>
class objective_device_data {
public:
  template <class Batch>
  void load(const Batch& batch, std::size_t hessian_values, engine<Real>& engine) {
    const cudaStream_t stream = stream_of(engine);
    problems_.upload(batch.problems, stream, "the objectives");
    hessians_.allocate(hessian_values, "the Hessians");
    engine.view().curvature = hessians_.data();
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));  // the host functors may go after this
  }

  const Objective* problems() const { return problems_.data(); }

  void objective(engine<Real>& engine, std::vector<Real>& values) const {
    const cudaStream_t stream = stream_of(engine);
    const lockstep_view<Real> view = engine.view();
    device_buffer<Real> device_values;
    device_values.allocate(view.batch_size, "f");
    objective_value_kernel<<<blocks_for_problems(view.batch_size), loop_threads_per_block, 0,
                             stream>>>(view, problems_.data(), device_values.data());
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
    device_values.download(values, stream);
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

private:
  device_buffer<Objective> problems_;
  device_buffer<Real> hessians_;
};

}  // namespace gradflow::detail
