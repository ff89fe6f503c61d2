// The neural-ODE family on the CUDA engine: the series, the members' weights and multipliers and
// their scratch in device memory. Collocation's lockstep evaluations go layer by layer, each
// product of every member one cuBLAS strided-batched GEMM (detail/collocation_layers.hpp); the
// rest (sequential training, the Gauss–Newton matrices, the fused path) is one thread per member
// running the same per-member math as the CPU (detail/neural_ode_objective.hpp).
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <climits>
#include <type_traits>
#include <vector>

#include "../host/neural_ode/neural_ode_model.hpp"
#include "cuda_check.cuh"
#include "cuda_engine.cuh"
#include "gradflow/detail/collocation_layers.hpp"
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

/// collocation_layer_pass's backend on the engine's stream. cuBLAS is column-major, where a
/// row-major matrix reads as its transpose: row-major C = op(A)·op(B) is column-major
/// Cᵀ = op(B)ᵀ·op(A)ᵀ, so the operands swap places and keep their transpose flags.
template <class Real>
struct cublas_layers {
  cublasHandle_t handle;
  cudaStream_t stream;

  void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, Real alpha, const Real* a,
            int lda, std::int64_t stride_a, const Real* b, int ldb, std::int64_t stride_b,
            Real beta, Real* c, int ldc, std::int64_t stride_c, std::int64_t batch) {
    const cublasOperation_t op_a = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_b = transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    if constexpr (std::is_same_v<Real, double>)
      GRADFLOW_CUBLAS_CHECK(cublasDgemmStridedBatched(handle, op_b, op_a, n, m, k, &alpha, b, ldb,
                                                      stride_b, a, lda, stride_a, &beta, c, ldc,
                                                      stride_c, int(batch)));
    else
      GRADFLOW_CUBLAS_CHECK(cublasSgemmStridedBatched(handle, op_b, op_a, n, m, k, &alpha, b, ldb,
                                                      stride_b, a, lda, stride_a, &beta, c, ldc,
                                                      stride_c, int(batch)));
  }

  template <class Function>
  void for_each(std::int64_t count, const Function& function) {
    thrust::for_each_n(thrust::cuda::par_nosync.on(stream), thrust::counting_iterator<std::int64_t>(0),
                       count, function);
  }
};

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
    layered_ = arrays_.form == formulation::collocation && arrays_.shares_times() &&
               batch_size() <= INT_MAX;  // cuBLAS counts a batch in int
    if (layered_) {
      observation_offset_.upload(arrays_.observation_offsets(), stream, "the members' series");
      weight_decay_.upload(arrays_.weight_decay, stream, "λ");
      rho_.upload(arrays_.rho, stream, "ρ");
      workspace_.allocate(std::size_t(batch_size() * layer_batch().workspace_per_member()),
                          "the collocation layers' workspace");
    }
    engine.upload_initial(arrays_.initial.data());
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));  // the host member table goes
  }

  /// Collocation: every member's layers at once, then the visited members' slots; else one
  /// thread per member.
  std::int64_t evaluate(engine<Real>& engine, operand source) override {
    if (!layered_) return evaluate_on_cuda(engine, evaluator(), source);
    const active_set active = engine.active();
    if (active.count == 0) return 0;
    const lockstep_view<Real> view = engine.view();
    collocation_layer_batch<Real> batch = layer_batch();
    batch.operand = view.operand_of(source, 0);
    batch.operand_stride = view.state_len();
    cublas_layers<Real> layers{cublas_handle_of(engine), stream_of(engine)};
    collocation_layer_pass(layers, batch);
    layers.for_each(active.count * batch.unknowns(),
                    commit_collocation_gradients<Real>{batch, view, active, source});
    return active.count;
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
  /// The layer pass's batch but its operand (the series share the times, so the first D serves).
  collocation_layer_batch<Real> layer_batch() const {
    collocation_layer_batch<Real> batch{batch_size(), arrays_.nodes.front(), arrays_.dimension,
                                        arrays_.hidden};
    batch.differentiation = differentiation_.data();
    batch.observations = observations_.data();
    batch.observation_offset = observation_offset_.data();
    batch.weight_decay = weight_decay_.data();
    batch.rho = rho_.data();
    batch.multipliers = arrays_.multipliers.empty() ? nullptr : multipliers_.data();
    batch.workspace = workspace_.data();
    return batch;
  }

  const neural_ode_arrays<Real>& arrays_;
  bool layered_ = false;
  device_buffer<Real> curvature_, times_, observations_, differentiation_, gram_, multipliers_,
      scratch_, weight_decay_, rho_, workspace_;
  device_buffer<std::int64_t> observation_offset_;
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
