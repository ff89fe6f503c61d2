#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <cub/device/device_select.cuh>

#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "cuda_check.cuh"
#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/device_buffer.cuh"
#include "gradflow/detail/lockstep_arrays.hpp"

namespace gradflow {
namespace {

constexpr int threads_per_block = 128;

int blocks_for(std::int64_t count) {
  return int((count + threads_per_block - 1) / threads_per_block);
}

// Thin kernels: one thread per active problem, the math is detail::'s.
template <class Real>
__global__ void phase_kernel(detail::lockstep_view<Real> view, detail::active_set active,
                             detail::step_settings<Real> settings, detail::lockstep_phase phase,
                             int stage) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (position < active.count) detail::run_phase(view, settings, phase, stage, active[position]);
}

/// The fused path: one thread runs one problem's whole solve, then adds its products to *products.
template <class Real>
__global__ void fused_kernel(detail::lockstep_view<Real> view, detail::step_settings<Real> settings,
                             unsigned long long* products) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= view.batch_size) return;
  detail::fused_executor<Real> executor{view, settings, i};
  detail::run_sequence(executor, settings);
  atomicAdd(products, static_cast<unsigned long long>(executor.products));
}

/// Where the batched product of the compacted active set reads and writes, position by position:
/// X for each operand, G and P.
template <class Real>
struct product_pointers {
  const Real** operand[3];
  const Real** gram;
  Real** product;
};

template <class Real>
__global__ void product_pointers_kernel(detail::lockstep_view<Real> view, detail::active_set active,
                                        product_pointers<Real> pointers) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (position >= active.count) return;
  const std::int64_t i = active[position];
  for (int source = 0; source < 3; ++source)
    pointers.operand[source][position] = view.operand_of(detail::operand(source), i);
  pointers.gram[position] = view.gram_of(i);
  pointers.product[position] = view.product_of(i);
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

template <class Real>
__global__ void ridge_kernel(Real* gram, const Real* lambda, std::int64_t batch_size,
                             int unknowns) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < batch_size) detail::add_ridge(gram + i * unknowns * unknowns, lambda[i], unknowns);
}

template <class Real>
__global__ void objective_kernel(const Real* matrix, std::int64_t matrix_stride, const Real* rhs,
                                 std::int64_t rhs_stride, const Real* lambda,
                                 detail::lockstep_view<Real> view, int rows, Real* objective) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= view.batch_size) return;
  objective[i] =
      detail::least_squares_objective(matrix + i * matrix_stride, rhs + i * rhs_stride, lambda[i],
                                      view.state_of(i), rows, view.unknowns, view.rhs_count);
}

/// Before cuSOLVER's batched potrf (which takes an array of matrix pointers): factor ← G (+ I/h for
/// a running problem with factor_shift::inverse_step) and its pointer, per active problem.
template <class Real>
__global__ void prepare_factors_kernel(detail::lockstep_view<Real> view, detail::active_set active,
                                       detail::factor_shift shift, Real** pointers) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (position >= active.count) return;
  const std::int64_t i = active[position];
  const int n = view.unknowns;
  const Real* gram = view.gram_of(i);
  Real* factor = view.factor_of(i);
  for (int e = 0; e < n * n; ++e) factor[e] = gram[e];
  if (shift == detail::factor_shift::inverse_step && view.running(i))
    for (int d = 0; d < n; ++d) factor[d * n + d] += 1 / view.dt_step[i];
  pointers[position] = factor;
}

/// A problem that needed its factor and has none (info ≠ 0) becomes invalid_input.
template <class Real>
__global__ void mark_not_factored_kernel(detail::lockstep_view<Real> view,
                                         detail::active_set active, detail::factor_shift shift,
                                         const int* info) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (position >= active.count || info[position] == 0) return;
  const std::int64_t i = active[position];
  if (shift == detail::factor_shift::none || view.running(i))
    detail::set_outcome(view, i, status::invalid_input);
}

/// Adds the number of running active problems to *count: one atomic per block
/// (__syncthreads_count).
__global__ void running_count_kernel(const std::int32_t* outcome, detail::active_set active,
                                     unsigned long long* count) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int running =
      __syncthreads_count(position < active.count &&
                          outcome[active[position]] == static_cast<std::int32_t>(status::running));
  if (threadIdx.x == 0 && running > 0) atomicAdd(count, static_cast<unsigned long long>(running));
}

cublasStatus_t gemm_strided_batched(cublasHandle_t handle, cublasOperation_t op_a,
                                    cublasOperation_t op_b, int m, int n, int k, double alpha,
                                    const double* a, int lda, long long stride_a, const double* b,
                                    int ldb, long long stride_b, double beta, double* c, int ldc,
                                    long long stride_c, int count) {
  return cublasDgemmStridedBatched(handle, op_a, op_b, m, n, k, &alpha, a, lda, stride_a, b, ldb,
                                   stride_b, &beta, c, ldc, stride_c, count);
}

cublasStatus_t gemm_strided_batched(cublasHandle_t handle, cublasOperation_t op_a,
                                    cublasOperation_t op_b, int m, int n, int k, float alpha,
                                    const float* a, int lda, long long stride_a, const float* b,
                                    int ldb, long long stride_b, float beta, float* c, int ldc,
                                    long long stride_c, int count) {
  return cublasSgemmStridedBatched(handle, op_a, op_b, m, n, k, &alpha, a, lda, stride_a, b, ldb,
                                   stride_b, &beta, c, ldc, stride_c, count);
}

cublasStatus_t gemm_batched(cublasHandle_t handle, int m, int n, int k, const double* const* a,
                            int lda, const double* const* b, int ldb, double* const* c, int ldc,
                            int count) {
  const double one = 1, zero = 0;
  return cublasDgemmBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, a, lda, b, ldb, &zero,
                            c, ldc, count);
}

cublasStatus_t gemm_batched(cublasHandle_t handle, int m, int n, int k, const float* const* a,
                            int lda, const float* const* b, int ldb, float* const* c, int ldc,
                            int count) {
  const float one = 1, zero = 0;
  return cublasSgemmBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, a, lda, b, ldb, &zero,
                            c, ldc, count);
}

cusolverStatus_t potrf_batched(cusolverDnHandle_t handle, int n, double** matrices, int* info,
                               int count) {
  return cusolverDnDpotrfBatched(handle, CUBLAS_FILL_MODE_LOWER, n, matrices, n, info, count);
}

cusolverStatus_t potrf_batched(cusolverDnHandle_t handle, int n, float** matrices, int* info,
                               int count) {
  return cusolverDnSpotrfBatched(handle, CUBLAS_FILL_MODE_LOWER, n, matrices, n, info, count);
}

/// The CUDA backend. All arrays stay row-major per problem; cuBLAS (column-major) sees a row-major
/// n×k U as a column-major k×n Uᵀ, so G·U is computed as Uᵀ·G (G symmetric) with no transposes.
/// Stopped problems are masked in every kernel and included in the strided-batched products until
/// the active set is compacted (CUB DeviceSelect): from then on kernels visit the listed problems
/// and the products go through pointer arrays (cublas<t>gemmBatched), data staying in place.
template <class Real>
class cuda_backend final : public lockstep_backend<Real> {
public:
  cuda_backend() {
    GRADFLOW_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    GRADFLOW_CUBLAS_CHECK(cublasCreate(&handle_));
    GRADFLOW_CUBLAS_CHECK(cublasSetStream(handle_, stream_));
    GRADFLOW_CUDA_CHECK(cudaMallocHost(&running_count_host_, sizeof(unsigned long long)));
    running_count_.allocate(1, "the running count");
    products_device_.allocate(1, "the product count");
    GRADFLOW_CUDA_CHECK(cudaEventCreate(&clock_start_));
    GRADFLOW_CUDA_CHECK(cudaEventCreate(&clock_stop_));
  }
  ~cuda_backend() override {
    cudaEventDestroy(clock_stop_);
    cudaEventDestroy(clock_start_);
    if (solver_) cusolverDnDestroy(solver_);
    cudaFreeHost(running_count_host_);
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

  void load(const least_squares_batch<Real>& batch, const lockstep_layout& layout,
            const std::vector<Real>& parameters) override {
    batch_ = &batch;
    if (batch.batch_size > INT_MAX)
      throw invalid_argument("batch_size = " + std::to_string(batch.batch_size) +
                             " exceeds the CUDA backend's limit of " + std::to_string(INT_MAX));
    const std::int64_t count = batch.batch_size;
    const int m = batch.rows, n = batch.unknowns, k = batch.rhs_count;
    const std::int64_t len = batch.unknowns_per_problem();

    arrays_.size_for(count, n, k, layout);
    GRADFLOW_CUDA_CHECK(cudaDeviceSynchronize());  // the zeroing above ran on the legacy stream
    view_ = arrays_.view(count, n, k, layout.state_factor);
    activate_all();
    products_issued_ = 0;
    if (layout.compaction) size_compaction(count);
    if (layout.needs_factor) size_factorization(count);
    std::vector<Real> lambda(count);
    for (std::int64_t i = 0; i < count; ++i) lambda[i] = batch.lambda_of(i);
    matrix_.upload(batch.matrix, stream_, "A");
    rhs_.upload(batch.rhs, stream_, "B");
    lambda_.upload(lambda, stream_, "lambda");
    GRADFLOW_CUDA_CHECK(cudaMemcpyAsync(view_.parameters, parameters.data(),
                                        parameters.size() * sizeof(Real), cudaMemcpyHostToDevice,
                                        stream_));
    if (!batch.initial.empty()) {  // U0 into the first n·k values of each state
      GRADFLOW_CUDA_CHECK(cudaMemcpy2DAsync(
          view_.state, view_.state_len() * sizeof(Real), batch.initial.data(), len * sizeof(Real),
          len * sizeof(Real), count, cudaMemcpyHostToDevice, stream_));
    }

    // Row-major A_i (m×n) is column-major X_i = A_iᵀ (n×m): G_i = X_i X_iᵀ.
    GRADFLOW_CUBLAS_CHECK(
        gemm_strided_batched(handle_, CUBLAS_OP_N, CUBLAS_OP_T, n, n, m, Real(1), matrix_.data(), n,
                             batch.matrix_stride(), matrix_.data(), n, batch.matrix_stride(),
                             Real(0), arrays_.gram.data(), n, std::int64_t(n) * n, int(count)));
    ridge_kernel<<<blocks_for(count), threads_per_block, 0, stream_>>>(arrays_.gram.data(),
                                                                       lambda_.data(), count, n);
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
    // Row-major B_i (m×k) is column-major Y_i = B_iᵀ (k×m): C_iᵀ = Y_i X_iᵀ (k×n) = row-major C_i.
    GRADFLOW_CUBLAS_CHECK(gemm_strided_batched(handle_, CUBLAS_OP_N, CUBLAS_OP_T, k, n, m, Real(1),
                                               rhs_.data(), k, batch.rhs_stride(), matrix_.data(),
                                               n, batch.matrix_stride(), Real(0),
                                               arrays_.cross.data(), k, len, int(count)));
  }

  void factorize(detail::factor_shift shift) override {
    const std::int64_t count = active_.count;
    prepare_factors_kernel<<<blocks_for(count), threads_per_block, 0, stream_>>>(
        view_, active_, shift, factor_pointers_.data());
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
    const cusolverStatus_t status = potrf_batched(solver_, view_.unknowns, factor_pointers_.data(),
                                                  factor_info_.data(), int(count));
    if (status != CUSOLVER_STATUS_SUCCESS)
      throw device_error("cusolverDn<t>potrfBatched failed with status " + std::to_string(status));
    mark_not_factored_kernel<<<blocks_for(count), threads_per_block, 0, stream_>>>(
        view_, active_, shift, factor_info_.data());
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
  }

  /// P = G·X, as Pᵀ = Xᵀ·G on cuBLAS's column-major k×n views.
  void apply_gram(detail::operand source) override {
    const auto& v = view_;
    const int n = v.unknowns, k = v.rhs_count;
    products_issued_ += active_.count;
    if (active_.list) {
      GRADFLOW_CUBLAS_CHECK(
          gemm_batched(handle_, k, n, n, pointers_.operand[static_cast<int>(source)], k,
                       pointers_.gram, n, pointers_.product, k, int(active_.count)));
      return;
    }
    const Real* x = v.operand_of(source, 0);  // problem i's X is x + i·state_len()
    GRADFLOW_CUBLAS_CHECK(gemm_strided_batched(handle_, CUBLAS_OP_N, CUBLAS_OP_N, k, n, n, Real(1),
                                               x, k, v.state_len(), v.gram, n, std::int64_t(n) * n,
                                               Real(0), v.product, k, v.len(), int(v.batch_size)));
  }

  void run_phase(const detail::step_settings<Real>& settings, detail::lockstep_phase phase,
                 int stage) override {
    phase_kernel<<<blocks_for(active_.count), threads_per_block, 0, stream_>>>(
        view_, active_, settings, phase, stage);
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
      const int count = int(parameters[i * detail::parameter_count + detail::stages]);
      if (outcome[i] == static_cast<std::int32_t>(status::running) && count > most) most = count;
    }
    return most;
  }

  std::int64_t batch_size() const override { return view_.batch_size; }

  /// One kernel runs the whole batch, so `should_stop` is asked once, before it starts.
  void run_fused(const detail::step_settings<Real>& settings,
                 const std::function<bool()>& should_stop) override {
    if (should_stop && should_stop()) throw interrupted("the solve was interrupted");
    GRADFLOW_CUDA_CHECK(
        cudaMemsetAsync(products_device_.data(), 0, sizeof(unsigned long long), stream_));
    fused_kernel<<<blocks_for(view_.batch_size), threads_per_block, 0, stream_>>>(
        view_, settings, products_device_.data());
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
    products_issued_ += read_count(products_device_.data());
  }

  std::int64_t running_count() override {
    GRADFLOW_CUDA_CHECK(
        cudaMemsetAsync(running_count_.data(), 0, sizeof(unsigned long long), stream_));
    running_count_kernel<<<blocks_for(active_.count), threads_per_block, 0, stream_>>>(
        view_.outcome, active_, running_count_.data());
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
    return read_count(running_count_.data());
  }

  /// CUB selects the running problems of the active list (filled 0, 1, … when every problem was
  /// active) into the other list; then the products' pointer arrays are rebuilt for them. No host
  /// synchronisation: the new count is `running`, counted on the same state.
  void compact(std::int64_t running) override {
    const std::int64_t count = active_.count;
    if (!active_.list) {
      iota_kernel<<<blocks_for(count), threads_per_block, 0, stream_>>>(
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
    product_pointers_kernel<<<blocks_for(running), threads_per_block, 0, stream_>>>(view_, active_,
                                                                                    pointers_);
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
  }

  void activate_all() override { active_ = {nullptr, view_.batch_size}; }
  std::int64_t active_count() const override { return active_.count; }
  std::int64_t products_issued() const override { return products_issued_; }

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

  void collect(solve_result<Real>& result) override {
    const auto& batch = *batch_;
    const std::int64_t count = batch.batch_size;
    const std::int64_t len = batch.unknowns_per_problem();
    device_buffer<Real> objective;
    objective.allocate(count, "f");
    objective_kernel<<<blocks_for(count), threads_per_block, 0, stream_>>>(
        matrix_.data(), batch.matrix_stride(), rhs_.data(), batch.rhs_stride(), lambda_.data(),
        view_, batch.rows, objective.data());
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
    std::vector<std::int32_t> outcome;
    objective.download(result.objective, stream_);
    result.solution.resize(count * len);
    GRADFLOW_CUDA_CHECK(cudaMemcpy2DAsync(result.solution.data(), len * sizeof(Real), view_.state,
                                          view_.state_len() * sizeof(Real), len * sizeof(Real),
                                          count, cudaMemcpyDeviceToHost, stream_));
    arrays_.outcome.download(outcome, stream_);
    arrays_.gradient_norm.download(result.gradient_norm, stream_);
    arrays_.time.download(result.time, stream_);
    arrays_.accepted.download(result.accepted_steps, stream_);
    arrays_.rejected.download(result.rejected_steps, stream_);
    arrays_.gradient_evaluations.download(result.gradient_evaluations, stream_);
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream_));
    result.outcome.resize(count);
    for (std::int64_t i = 0; i < count; ++i) result.outcome[i] = static_cast<status>(outcome[i]);
  }

private:
  /// A device counter's value, through the pinned word (a host synchronisation).
  std::int64_t read_count(const unsigned long long* counter) {
    GRADFLOW_CUDA_CHECK(cudaMemcpyAsync(running_count_host_, counter, sizeof(unsigned long long),
                                        cudaMemcpyDeviceToHost, stream_));
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return std::int64_t(*running_count_host_);
  }

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

  /// Everything compaction needs, sized for the whole batch once.
  void size_compaction(std::int64_t count) {
    for (auto& list : active_lists_) list.allocate(count, "the active problems");
    selected_count_.allocate(1, "the selected count");
    for (auto& operand : operand_pointers_) operand.allocate(count, "the products' pointers");
    gram_pointers_.allocate(count, "the products' pointers");
    product_pointers_.allocate(count, "the products' pointers");
    pointers_ = {
        {operand_pointers_[0].data(), operand_pointers_[1].data(), operand_pointers_[2].data()},
        gram_pointers_.data(),
        product_pointers_.data()};
    std::size_t scratch_bytes = 0;
    GRADFLOW_CUDA_CHECK(cub::DeviceSelect::If(nullptr, scratch_bytes, active_lists_[0].data(),
                                              active_lists_[1].data(), selected_count_.data(),
                                              count, still_running{view_.outcome}, stream_));
    select_scratch_.allocate(scratch_bytes, "CUB's selection scratch");
  }

  cudaStream_t stream_ = nullptr;
  cublasHandle_t handle_ = nullptr;
  cusolverDnHandle_t solver_ = nullptr;
  unsigned long long* running_count_host_ = nullptr;  // pinned: the count's asynchronous copy
  device_buffer<unsigned long long> running_count_, products_device_;
  cudaEvent_t clock_start_ = nullptr, clock_stop_ = nullptr;
  std::int64_t products_issued_ = 0;
  detail::active_set active_;
  device_buffer<std::int64_t> active_lists_[2];  ///< the active list and the one CUB writes next
  int current_list_ = 0;
  device_buffer<std::int64_t> selected_count_;
  device_buffer<unsigned char> select_scratch_;
  device_buffer<const Real*> operand_pointers_[3], gram_pointers_;
  device_buffer<Real*> product_pointers_, factor_pointers_;
  device_buffer<int> factor_info_;
  product_pointers<Real> pointers_{};
  const least_squares_batch<Real>* batch_ = nullptr;
  device_buffer<Real> matrix_, rhs_, lambda_;
  lockstep_arrays<device_buffer, Real> arrays_;
  detail::lockstep_view<Real> view_;
};

}  // namespace

template <class Real>
std::unique_ptr<lockstep_backend<Real>> make_cuda_backend() {
  if (cuda_device_count() == 0)
    throw no_device("backend cuda requested but no CUDA device answers (no driver or no GPU)");
  return std::make_unique<cuda_backend<Real>>();
}

template std::unique_ptr<lockstep_backend<float>> make_cuda_backend<float>();
template std::unique_ptr<lockstep_backend<double>> make_cuda_backend<double>();

}  // namespace gradflow
