#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <cub/device/device_select.cuh>

#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cuda_check.cuh"
#include "cuda_engine.cuh"
#include "gradflow/detail/cuda_loops.cuh"
#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/device_buffer.cuh"
#include "gradflow/detail/lockstep_arrays.hpp"

namespace gradflow::detail {
namespace {

constexpr int threads_per_block = loop_threads_per_block;

// Thin kernels: one thread per active problem, the math is detail::'s. A kernel per phase: one
// kernel for every phase would hold the registers and local memory of the largest (learned flow's
// surrogate fit: 52 KB a thread in f64) at every phase's launch.
template <class Real, lockstep_phase Phase>
__global__ void phase_kernel(lockstep_view<Real> view, active_set active,
                             step_settings<Real> settings, int stage) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (position < active.count) run_phase<Phase>(view, settings, stage, active[position]);
}

__global__ void iota_kernel(std::int64_t* values, std::int64_t count) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < count) values[i] = i;
}

/// CUB's selection predicate: problem i still runs.
struct still_running {
  const std::int32_t* outcome;
  __device__ bool operator()(std::int64_t i) const {
    return outcome[i] == static_cast<std::int32_t>(status::running);
  }
};

/// Before cuSOLVER's batched potrf (which takes an array of matrix pointers): factor ← H (+ I/h for
/// a running problem with factor_shift::inverse_step) and its pointer, per active problem.
template <class Real>
__global__ void prepare_factors_kernel(lockstep_view<Real> view, active_set active,
                                       factor_shift shift, Real** pointers) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (position >= active.count) return;
  const std::int64_t i = active[position];
  const int n = view.unknowns;
  const Real* curvature = view.curvature_of(i);
  Real* factor = view.factor_of(i);
  for (int e = 0; e < n * n; ++e) factor[e] = curvature[e];
  if (shift == factor_shift::inverse_step && view.running(i))
    for (int d = 0; d < n; ++d) factor[d * n + d] += 1 / view.dt_step[i];
  pointers[position] = factor;
}

/// A problem cuSOLVER could not factor (info ≠ 0) goes through factor_problem, as on the CPU: H
/// itself not positive definite makes it invalid_input; H + I/h that is not halves h and retries.
template <class Real>
__global__ void refactor_kernel(lockstep_view<Real> view, active_set active, factor_shift shift,
                                const int* info) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (position >= active.count || info[position] == 0) return;
  factor_problem(view, active[position], shift);
}

/// Adds the number of running active problems to *count: one atomic per block
/// (__syncthreads_count).
__global__ void running_count_kernel(const std::int32_t* outcome, active_set active,
                                     unsigned long long* count) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int running =
      __syncthreads_count(position < active.count &&
                          outcome[active[position]] == static_cast<std::int32_t>(status::running));
  if (threadIdx.x == 0 && running > 0) atomicAdd(count, static_cast<unsigned long long>(running));
}

cusolverStatus_t potrf_batched(cusolverDnHandle_t handle, int n, double** matrices, int* info,
                               int count) {
  return cusolverDnDpotrfBatched(handle, CUBLAS_FILL_MODE_LOWER, n, matrices, n, info, count);
}

cusolverStatus_t potrf_batched(cusolverDnHandle_t handle, int n, float** matrices, int* info,
                               int count) {
  return cusolverDnSpotrfBatched(handle, CUBLAS_FILL_MODE_LOWER, n, matrices, n, info, count);
}

/// The CUDA engine: one non-blocking stream for everything a solve does (models launch on it too),
/// its cuBLAS and cuSOLVER handles, CUDA events for the compute clock. Stopped problems are masked
/// in every kernel until the active set is compacted (CUB DeviceSelect); from then on kernels visit
/// the listed problems, data staying in place.
template <class Real>
class cuda_engine final : public engine<Real> {
public:
  cuda_engine() {
    GRADFLOW_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    GRADFLOW_CUBLAS_CHECK(cublasCreate(&handle_));
    GRADFLOW_CUBLAS_CHECK(cublasSetStream(handle_, stream_));
    GRADFLOW_CUDA_CHECK(cudaMallocHost(&count_host_, sizeof(unsigned long long)));
    running_count_.allocate(1, "the running count");
    GRADFLOW_CUDA_CHECK(cudaEventCreate(&clock_start_));
    GRADFLOW_CUDA_CHECK(cudaEventCreate(&clock_stop_));
  }
  ~cuda_engine() override {
    drop_step_graph();
    cudaEventDestroy(clock_stop_);
    cudaEventDestroy(clock_start_);
    if (solver_) cusolverDnDestroy(solver_);
    cudaFreeHost(count_host_);
    cublasDestroy(handle_);
    cudaStreamDestroy(stream_);
  }

  backend_kind kind() const override { return backend_kind::cuda; }

  std::string device_name() const override {
    int device = 0;
    cudaDeviceProp properties{};
    GRADFLOW_CUDA_CHECK(cudaGetDevice(&device));
    GRADFLOW_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
    return properties.name;
  }

  void allocate(std::int64_t count, int unknowns, int rhs_count, const lockstep_layout& layout,
                const std::vector<Real>& parameters, std::int64_t) override {
    if (count > INT_MAX)
      throw invalid_argument("batch_size = " + std::to_string(count) +
                             " exceeds the CUDA backend's limit of " + std::to_string(INT_MAX));
    abandon_capture();
    drop_step_graph();  // it names the last solve's arrays
    arrays_.size_for(count, unknowns, rhs_count, layout);
    GRADFLOW_CUDA_CHECK(cudaDeviceSynchronize());  // the zeroing above ran on the legacy stream
    view_ = arrays_.view(count, unknowns, rhs_count, layout.state_factor);
    activate_all();
    if (layout.compaction) size_compaction(count);
    if (layout.needs_factor) size_factorization(count);
    GRADFLOW_CUDA_CHECK(cudaMemcpyAsync(view_.parameters, parameters.data(),
                                        parameters.size() * sizeof(Real), cudaMemcpyHostToDevice,
                                        stream_));
  }

  lockstep_view<Real>& view() override { return view_; }

  void upload_initial(const Real* initial) override {
    const std::int64_t len = view_.len();
    GRADFLOW_CUDA_CHECK(cudaMemcpy2DAsync(view_.state, view_.state_len() * sizeof(Real), initial,
                                          len * sizeof(Real), len * sizeof(Real), view_.batch_size,
                                          cudaMemcpyHostToDevice, stream_));
    // The host vector may go before the copy runs: finish it here (once per solve).
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  void factorize(factor_shift shift) override {
    const std::int64_t count = active_.count;
    if (count == 0 || shift == factor_shift::curvature_only) return;
    prepare_factors_kernel<<<blocks_for_problems(count), threads_per_block, 0, stream_>>>(
        view_, active_, shift, factor_pointers_.data());
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
    const cusolverStatus_t status = potrf_batched(solver_, view_.unknowns, factor_pointers_.data(),
                                                  factor_info_.data(), int(count));
    if (status != CUSOLVER_STATUS_SUCCESS)
      throw device_error("cusolverDn<t>potrfBatched failed with status " + std::to_string(status));
    refactor_kernel<<<blocks_for_problems(count), threads_per_block, 0, stream_>>>(
        view_, active_, shift, factor_info_.data());
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
  }

  void run_phase(const step_settings<Real>& settings, lockstep_phase phase, int stage) override {
    if (active_.count == 0) return;
    visit_phase(phase, [&](auto constant) {
      phase_kernel<Real, decltype(constant)::value>
          <<<blocks_for_problems(active_.count), threads_per_block, 0, stream_>>>(view_, active_,
                                                                                  settings, stage);
    });
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
  }

  int most_stages() override {
    std::vector<Real> parameters;
    std::vector<std::int32_t> outcome;
    arrays_.parameters.download(parameters, stream_);
    arrays_.outcome.download(outcome, stream_);
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream_));
    int most = 0;
    for (std::size_t i = 0; i < outcome.size(); ++i) {
      const int count = int(parameters[i * parameter_count + stages]);
      if (outcome[i] == static_cast<std::int32_t>(status::running) && count > most) most = count;
    }
    return most;
  }

  std::int64_t running_count() override {
    GRADFLOW_CUDA_CHECK(
        cudaMemsetAsync(running_count_.data(), 0, sizeof(unsigned long long), stream_));
    if (active_.count > 0) {
      running_count_kernel<<<blocks_for_problems(active_.count), threads_per_block, 0, stream_>>>(
          view_.outcome, active_, running_count_.data());
      GRADFLOW_CUDA_CHECK(cudaGetLastError());
    }
    GRADFLOW_CUDA_CHECK(cudaMemcpyAsync(count_host_, running_count_.data(),
                                        sizeof(unsigned long long), cudaMemcpyDeviceToHost,
                                        stream_));
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return std::int64_t(*count_host_);
  }

  /// CUB selects the running problems of the active list (filled 0, 1, … when every problem was
  /// active) into the other list. No host synchronisation: the new count is `running`, counted on
  /// the same state.
  void compact(std::int64_t running) override {
    const std::int64_t count = active_.count;
    if (!active_.list) {
      iota_kernel<<<blocks_for_problems(count), threads_per_block, 0, stream_>>>(
          active_lists_[current_list_].data(), count);
      GRADFLOW_CUDA_CHECK(cudaGetLastError());
    }
    std::int64_t* from = active_lists_[current_list_].data();
    std::int64_t* to = active_lists_[1 - current_list_].data();
    std::size_t scratch_bytes = select_scratch_.size();
    GRADFLOW_CUDA_CHECK(cub::DeviceSelect::If(select_scratch_.data(), scratch_bytes, from, to,
                                              selected_count_.data(), count,
                                              still_running{view_.outcome}, stream_));
    current_list_ = 1 - current_list_;
    active_ = {to, running};
  }

  void activate_all() override { active_ = {nullptr, view_.batch_size}; }
  active_set active() const override { return active_; }
  bool parallel() const override { return true; }

  void start_clock() override { GRADFLOW_CUDA_CHECK(cudaEventRecord(clock_start_, stream_)); }
  double stop_clock() override {
    GRADFLOW_CUDA_CHECK(cudaEventRecord(clock_stop_, stream_));
    GRADFLOW_CUDA_CHECK(cudaEventSynchronize(clock_stop_));
    float milliseconds = 0;
    GRADFLOW_CUDA_CHECK(cudaEventElapsedTime(&milliseconds, clock_start_, clock_stop_));
    return milliseconds * 1e-3;
  }

  void read_progress(std::vector<std::int32_t>& outcome, std::vector<std::int64_t>& accepted,
                     std::vector<Real>& time, std::vector<Real>& gradient_norm) override {
    arrays_.outcome.download(outcome, stream_);
    arrays_.accepted.download(accepted, stream_);
    arrays_.time.download(time, stream_);
    arrays_.gradient_norm.download(gradient_norm, stream_);
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  void download(solve_result<Real>& result) override {
    const std::int64_t count = view_.batch_size;
    const std::int64_t len = view_.len();
    result.solution.resize(count * len);
    GRADFLOW_CUDA_CHECK(cudaMemcpy2DAsync(result.solution.data(), len * sizeof(Real), view_.state,
                                          view_.state_len() * sizeof(Real), len * sizeof(Real),
                                          count, cudaMemcpyDeviceToHost, stream_));
    std::vector<std::int32_t> outcome;
    arrays_.outcome.download(outcome, stream_);
    arrays_.gradient_norm.download(result.gradient_norm, stream_);
    arrays_.time.download(result.time, stream_);
    arrays_.accepted.download(result.accepted_steps, stream_);
    arrays_.rejected.download(result.rejected_steps, stream_);
    arrays_.gradient_evaluations.download(result.gradient_evaluations, stream_);
    arrays_.surrogate_evaluations.download(result.surrogate_evaluations, stream_);
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream_));
    result.outcome.resize(count);
    for (std::int64_t i = 0; i < count; ++i) result.outcome[i] = static_cast<status>(outcome[i]);
  }

  void* stream() const override { return stream_; }

  bool begin_step_capture() override {
    drop_step_graph();
    GRADFLOW_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    return true;
  }
  void end_step_capture() override {
    cudaGraph_t graph = nullptr;
    GRADFLOW_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
    const cudaError_t instantiated = cudaGraphInstantiate(&step_graph_, graph, 0);
    cudaGraphDestroy(graph);
    GRADFLOW_CUDA_CHECK(instantiated);
  }
  void replay_step() override { GRADFLOW_CUDA_CHECK(cudaGraphLaunch(step_graph_, stream_)); }
  cublasHandle_t cublas() const { return handle_; }

private:
  /// cuSOLVER's handle and the pointer and info arrays of batched potrf, sized once.
  void size_factorization(std::int64_t count) {
    if (!solver_) {
      if (cusolverDnCreate(&solver_) != CUSOLVER_STATUS_SUCCESS)
        throw device_error("cusolverDnCreate failed");
      if (cusolverDnSetStream(solver_, stream_) != CUSOLVER_STATUS_SUCCESS)
        throw device_error("cusolverDnSetStream failed");
    }
    factor_pointers_.allocate(count, "Cholesky pointers");
    factor_info_.allocate(count, "Cholesky info");
  }

  void drop_step_graph() {
    if (step_graph_) cudaGraphExecDestroy(step_graph_);
    step_graph_ = nullptr;
  }

  /// A solve that failed while its step was being captured left the stream capturing: end that.
  void abandon_capture() {
    cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
    GRADFLOW_CUDA_CHECK(cudaStreamIsCapturing(stream_, &capturing));
    if (capturing == cudaStreamCaptureStatusNone) return;
    cudaGraph_t graph = nullptr;
    cudaStreamEndCapture(stream_, &graph);
    if (graph) cudaGraphDestroy(graph);
    cudaGetLastError();  // the failed capture's error is the failed solve's, already reported
  }

  /// Everything compaction needs, sized for the whole batch once.
  void size_compaction(std::int64_t count) {
    for (auto& list : active_lists_) list.allocate(count, "the active problems");
    selected_count_.allocate(1, "the selected count");
    std::size_t scratch_bytes = 0;
    GRADFLOW_CUDA_CHECK(cub::DeviceSelect::If(nullptr, scratch_bytes, active_lists_[0].data(),
                                              active_lists_[1].data(), selected_count_.data(),
                                              count, still_running{view_.outcome}, stream_));
    select_scratch_.allocate(scratch_bytes, "CUB's selection scratch");
  }

  cudaStream_t stream_ = nullptr;
  cublasHandle_t handle_ = nullptr;
  cusolverDnHandle_t solver_ = nullptr;
  unsigned long long* count_host_ = nullptr;  // pinned: the count's asynchronous copy
  device_buffer<unsigned long long> running_count_;
  cudaEvent_t clock_start_ = nullptr, clock_stop_ = nullptr;
  cudaGraphExec_t step_graph_ = nullptr;  ///< the lockstep step last captured
  active_set active_;
  device_buffer<std::int64_t> active_lists_[2];  ///< the active list and the one CUB writes next
  int current_list_ = 0;
  device_buffer<std::int64_t> selected_count_;
  device_buffer<unsigned char> select_scratch_;
  device_buffer<Real*> factor_pointers_;
  device_buffer<int> factor_info_;
  lockstep_arrays<device_buffer, Real> arrays_;
  lockstep_view<Real> view_;
};

}  // namespace

template <class Real>
std::unique_ptr<engine<Real>> make_cuda_engine() {
  if (cuda_device_count() == 0)
    throw no_device("backend cuda requested but no CUDA device answers (no driver or no GPU)");
  return std::make_unique<cuda_engine<Real>>();
}

template <class Real>
cublasHandle_t cublas_handle_of(engine<Real>& engine) {
  return dynamic_cast<cuda_engine<Real>&>(engine).cublas();
}

template std::unique_ptr<engine<float>> make_cuda_engine<float>();
template std::unique_ptr<engine<double>> make_cuda_engine<double>();
template cublasHandle_t cublas_handle_of(engine<float>&);
template cublasHandle_t cublas_handle_of(engine<double>&);

}  // namespace gradflow::detail
