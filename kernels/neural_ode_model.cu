// The neural-ODE family on the CUDA engine: the series, the members' weights and multipliers and
// their scratch in device memory, one thread per member running the same per-member math as the
// CPU (detail/neural_ode_objective.hpp).
#include <cuda_runtime.h>

#include <vector>

#include "../host/neural_ode/neural_ode_model.hpp"
#include "gradflow/detail/cuda_check.cuh"
#include "gradflow/detail/cuda_loops.cuh"
#include "gradflow/detail/device_buffer.cuh"

namespace gradflow::detail {
namespace {

template <class Real>
__global__ void neural_ode_value_kernel(lockstep_view<Real> view,
                                        neural_ode_evaluator<Real> evaluator, Real* values) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < view.batch_size) values[i] = evaluator.value(view.state_of(i), nullptr, i);
}

template <class Real>
class neural_ode_on_cuda final : public problem_model<Real> {
public:
  explicit neural_ode_on_cuda(const neural_ode_arrays<Real>& arrays) : arrays_(arrays) {}

  model_traits traits() const override { return neural_ode_traits(arrays_.form); }
  std::int64_t batch_size() const override { return arrays_.batch_size(); }
  int unknowns() const override { return arrays_.unknowns; }
  int rhs_count() const override { return 1; }
  std::int64_t evaluation_work() const override { return neural_ode_work(arrays_); }

  void load(engine<Real>& engine, bool needs_curvature) override {
    const cudaStream_t stream = stream_of(engine);
    const std::int64_t n = arrays_.unknowns;
    curvature_.allocate(needs_curvature ? std::size_t(batch_size() * n * n) : 0,
                        "the Gauss–Newton matrices");
    engine.view().curvature = curvature_.data();
    times_.upload(arrays_.times, stream, "the series' times");
    observations_.upload(arrays_.observations, stream, "the series' values");
    differentiation_.upload(arrays_.differentiation, stream, "the differentiation matrices");
    gram_.upload(arrays_.gram, stream, "DᵀD");
    multipliers_.upload(arrays_.multipliers, stream, "the multipliers");
    scratch_.allocate(std::size_t(arrays_.scratch_total), "the members' scratch");
    members_.upload(arrays_.members_at(times_.data(), observations_.data(),
                                       differentiation_.data(), gram_.data(),
                                       multipliers_.data(), scratch_.data()),
                    stream, "the members");
    engine.upload_initial(arrays_.initial.data());
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));  // the host member table goes
  }

  std::int64_t evaluate(engine<Real>& engine, operand source) override {
    return evaluate_on_cuda(engine, evaluator(), source);
  }
  std::int64_t curvature_product(engine<Real>&, operand) override {
    throw invalid_argument("a neural-ODE batch has no fixed curvature to multiply by");
  }
  void prepare_curvature(engine<Real>& engine, factor_shift shift) override {
    prepare_curvature_on_cuda(engine, evaluator(), shift);
  }
  std::int64_t run_fused(engine<Real>& engine, const step_settings<Real>& settings,
                         const std::function<bool()>& should_stop) override {
    return run_fused_on_cuda(engine, evaluator(), settings, should_stop);
  }
  void objective(engine<Real>& engine, std::vector<Real>& values) override {
    const cudaStream_t stream = stream_of(engine);
    device_buffer<Real> device_values;
    device_values.allocate(batch_size(), "f");
    neural_ode_value_kernel<<<blocks_for_problems(batch_size()), loop_threads_per_block, 0,
                              stream>>>(engine.view(), evaluator(), device_values.data());
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
    device_values.download(values, stream);
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

private:
  neural_ode_evaluator<Real> evaluator() const {
    return {members_.data(), arrays_.form, arrays_.dimension, arrays_.hidden};
  }

  const neural_ode_arrays<Real>& arrays_;
  device_buffer<Real> curvature_, times_, observations_, differentiation_, gram_, multipliers_,
      scratch_;
  device_buffer<neural_ode_member<Real>> members_;
};

}  // namespace

template <class Real>
std::unique_ptr<problem_model<Real>> make_neural_ode_cuda_model(
    const neural_ode_arrays<Real>& arrays) {
  return std::make_unique<neural_ode_on_cuda<Real>>(arrays);
}

template std::unique_ptr<problem_model<double>> make_neural_ode_cuda_model(
    const neural_ode_arrays<double>&);

}  // namespace gradflow::detail
