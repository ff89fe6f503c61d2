// The least-squares model on the CUDA engine: G and C formed by cuBLAS strided-batched GEMMs, every
// lockstep evaluation one batched GEMM (pointer arrays once the active set is compacted), the
// fused path the same per-problem evaluator the CPU runs.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "cuda_check.cuh"
#include "cuda_engine.cuh"
#include "gradflow/detail/cuda_loops.cuh"
#include "gradflow/detail/device_buffer.cuh"
#include "least_squares_model.hpp"

namespace gradflow::detail {
namespace {

template <class Real>
__global__ void ridge_kernel(lockstep_view<Real> view, const Real* lambda) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= view.batch_size) return;
  add_ridge(view.curvature_of(i), lambda[i], view.unknowns);
  reject_overflowed_normal_equations(view, i);
}

/// Member i's G (before λ) and C: copies of its problem's, at position[i] among the formed ones.
template <class Real>
__global__ void spread_kernel(lockstep_view<Real> view, const Real* problem_gram,
                              const Real* problem_cross, const std::int64_t* position,
                              Real* cross) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= view.batch_size) return;
  const std::int64_t square = std::int64_t(view.unknowns) * view.unknowns, len = view.len();
  const Real* gram_from = problem_gram + position[i] * square;
  const Real* cross_from = problem_cross + position[i] * len;
  Real* gram_to = view.curvature_of(i);
  for (std::int64_t e = 0; e < square; ++e) gram_to[e] = gram_from[e];
  for (std::int64_t e = 0; e < len; ++e) cross[i * len + e] = cross_from[e];
}

template <class Real>
__global__ void objective_kernel(const Real* const* matrix, const Real* const* rhs,
                                 const Real* lambda, lockstep_view<Real> view, int rows,
                                 Real* objective) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= view.batch_size) return;
  objective[i] = least_squares_objective(matrix[i], rhs[i], lambda[i], view.state_of(i), rows,
                                         view.unknowns, view.rhs_count);
}

/// Where the batched GEMMs of the compacted active set read and write, position by position: X
/// for each operand, G, and the gradient and curvature-product slots.
template <class Real>
struct gemm_pointers {
  const Real** operand[3];
  const Real** curvature;
  Real** gradient;
  Real** curvature_product;
};

template <class Real>
__global__ void gemm_pointers_kernel(lockstep_view<Real> view, active_set active,
                                     gemm_pointers<Real> pointers) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (position >= active.count) return;
  const std::int64_t i = active[position];
  for (int source = 0; source < 3; ++source)
    pointers.operand[source][position] = view.operand_of(operand(source), i);
  pointers.curvature[position] = view.curvature_of(i);
  pointers.gradient[position] = view.gradient_of(i);
  pointers.curvature_product[position] =
      view.curvature_product ? view.curvature_product_of(i) : nullptr;
}

/// C_i = A_i·B_i + β·C_i over strided batches (no transposes: see least_squares_on_cuda).
cublasStatus_t gemm_strided_batched(cublasHandle_t handle, int m, int n, int k, const double* a,
                                    int lda, long long stride_a, const double* b, int ldb,
                                    long long stride_b, double beta, double* c, int ldc,
                                    long long stride_c, int count) {
  const double one = 1;
  return cublasDgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, a, lda,
                                   stride_a, b, ldb, stride_b, &beta, c, ldc, stride_c, count);
}

cublasStatus_t gemm_strided_batched(cublasHandle_t handle, int m, int n, int k, const float* a,
                                    int lda, long long stride_a, const float* b, int ldb,
                                    long long stride_b, float beta, float* c, int ldc,
                                    long long stride_c, int count) {
  const float one = 1;
  return cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, a, lda,
                                   stride_a, b, ldb, stride_b, &beta, c, ldc, stride_c, count);
}

cublasStatus_t gemm_batched(cublasHandle_t handle, cublasOperation_t op_b, int m, int n, int k,
                            const double* const* a, int lda, const double* const* b, int ldb,
                            double beta, double* const* c, int ldc, int count) {
  const double one = 1;
  return cublasDgemmBatched(handle, CUBLAS_OP_N, op_b, m, n, k, &one, a, lda, b, ldb, &beta, c, ldc,
                            count);
}

cublasStatus_t gemm_batched(cublasHandle_t handle, cublasOperation_t op_b, int m, int n, int k,
                            const float* const* a, int lda, const float* const* b, int ldb,
                            float beta, float* const* c, int ldc, int count) {
  const float one = 1;
  return cublasSgemmBatched(handle, CUBLAS_OP_N, op_b, m, n, k, &one, a, lda, b, ldb, &beta, c, ldc,
                            count);
}

/// Host pointers `base + offset(j)` for j < count, uploaded.
template <class T, class Offset>
void upload_pointers(device_buffer<T*>& pointers, T* base, std::int64_t count, Offset offset,
                     cudaStream_t stream, const char* purpose) {
  std::vector<T*> host(count);
  for (std::int64_t j = 0; j < count; ++j) host[j] = base + offset(j);
  pointers.upload(host, stream, purpose);
  GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));  // the host array goes out of scope
}

/// All arrays stay row-major per problem; cuBLAS (column-major) sees a row-major n×k U as a
/// column-major k×n Uᵀ, so G·U is computed as Uᵀ·G (G symmetric) with no transposes. The gradient
/// G·X − C is one GEMM with β = −1 over a copy of C.
template <class Real>
class least_squares_on_cuda final : public least_squares_model<Real> {
public:
  using least_squares_model<Real>::least_squares_model;

  /// A and B once per problem of the view; G and C per member by pointer-array GEMMs (member j
  /// reads its problem's A and B wherever the view's index points).
  void load(engine<Real>& engine, bool) override {
    const cudaStream_t stream = stream_of(engine);
    const cublasHandle_t handle = cublas_handle_of(engine);
    const std::int64_t count = batch_.batch_size;
    const int m = batch_.rows, n = batch_.unknowns, k = batch_.rhs_count;
    const std::int64_t len = batch_.unknowns_per_problem();
    gram_.allocate(count * n * n, "G = AᵀA + λI");
    cross_.allocate(count * len, "C = AᵀB");
    matrix_.allocate(batch_.matrix_values(), "A");
    rhs_.allocate(batch_.rhs_values(), "B");
    GRADFLOW_CUDA_CHECK(cudaMemcpyAsync(matrix_.data(), batch_.matrix,
                                        matrix_.size() * sizeof(Real), cudaMemcpyHostToDevice,
                                        stream));
    GRADFLOW_CUDA_CHECK(cudaMemcpyAsync(rhs_.data(), batch_.rhs, rhs_.size() * sizeof(Real),
                                        cudaMemcpyHostToDevice, stream));
    size_pointers(count);
    std::vector<Real> lambda(count);
    for (std::int64_t i = 0; i < count; ++i) lambda[i] = batch_.lambda_of(i);
    lambda_.upload(lambda, stream, "lambda");
    const auto& view = batch_;
    upload_pointers(
        member_matrix_, static_cast<const Real*>(matrix_.data()), count,
        [&](std::int64_t j) { return view.problem_of(j) * view.matrix_stride; }, stream,
        "the members' A");
    upload_pointers(
        member_rhs_, static_cast<const Real*>(rhs_.data()), count,
        [&](std::int64_t j) { return view.problem_of(j) * view.rhs_stride; }, stream,
        "the members' B");
    lockstep_view<Real>& v = engine.view();
    v.curvature = gram_.data();
    v.linear_term = cross_.data();
    if (batch_.initial) engine.upload_initial(batch_.initial);
    // AᵀA and AᵀB once per problem: into the members' slots, or for an indexed view once per
    // distinct problem, then copied to its members.
    const distinct_problems distinct = distinct_problems_of(batch_);
    const bool indexed = batch_.problem_index != nullptr;
    const std::int64_t formed = indexed ? std::int64_t(distinct.problems.size()) : count;
    const auto problem_at = [&](std::int64_t d) { return indexed ? distinct.problems[d] : d; };
    device_buffer<Real> problem_gram, problem_cross;
    if (indexed) {
      problem_gram.allocate(formed * n * n, "AᵀA per problem");
      problem_cross.allocate(formed * len, "AᵀB per problem");
    }
    Real* gram_target = indexed ? problem_gram.data() : gram_.data();
    Real* cross_target = indexed ? problem_cross.data() : cross_.data();
    device_buffer<const Real*> formed_matrix, formed_rhs;
    device_buffer<Real*> grams, crosses;
    upload_pointers(
        formed_matrix, static_cast<const Real*>(matrix_.data()), formed,
        [&](std::int64_t d) { return problem_at(d) * view.matrix_stride; }, stream,
        "the problems' A");
    upload_pointers(
        formed_rhs, static_cast<const Real*>(rhs_.data()), formed,
        [&](std::int64_t d) { return problem_at(d) * view.rhs_stride; }, stream, "the problems' B");
    upload_pointers(
        grams, gram_target, formed, [&](std::int64_t d) { return d * n * n; }, stream,
        "the problems' G");
    upload_pointers(
        crosses, cross_target, formed, [&](std::int64_t d) { return d * len; }, stream,
        "the problems' C");
    // Row-major A_i (m×n) is column-major X_i = A_iᵀ (n×m): G_i = X_i X_iᵀ.
    GRADFLOW_CUBLAS_CHECK(gemm_batched(handle, CUBLAS_OP_T, n, n, m, formed_matrix.data(), n,
                                       formed_matrix.data(), n, Real(0), grams.data(), n,
                                       int(formed)));
    // Row-major B_i (m×k) is column-major Y_i = B_iᵀ (k×m): C_iᵀ = Y_i X_iᵀ (k×n) = row-major C_i.
    GRADFLOW_CUBLAS_CHECK(gemm_batched(handle, CUBLAS_OP_T, k, n, m, formed_rhs.data(), k,
                                       formed_matrix.data(), n, Real(0), crosses.data(), k,
                                       int(formed)));
    device_buffer<std::int64_t> positions;
    if (indexed) {
      positions.upload(distinct.position_of_member, stream, "the members' problems");
      spread_kernel<<<blocks_for_problems(count), loop_threads_per_block, 0, stream>>>(
          v, problem_gram.data(), problem_cross.data(), positions.data(), cross_.data());
      GRADFLOW_CUDA_CHECK(cudaGetLastError());
    }
    ridge_kernel<<<blocks_for_problems(count), loop_threads_per_block, 0, stream>>>(v,
                                                                                    lambda_.data());
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
    // The pointer arrays and the per-problem G and C go out of scope.
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

  /// P = G·X − C, as Pᵀ = Xᵀ·G − Cᵀ on cuBLAS's column-major k×n views.
  std::int64_t evaluate(engine<Real>& engine, operand source) override {
    const lockstep_view<Real>& v = engine.view();
    GRADFLOW_CUDA_CHECK(cudaMemcpyAsync(v.gradient, v.linear_term,
                                        v.batch_size * v.len() * sizeof(Real),
                                        cudaMemcpyDeviceToDevice, stream_of(engine)));
    return multiply(engine, source, Real(-1), v.gradient, false);
  }

  std::int64_t curvature_product(engine<Real>& engine, operand source) override {
    return multiply(engine, source, Real(0), engine.view().curvature_product, true);
  }

  std::int64_t run_fused(engine<Real>& engine, const step_settings<Real>& settings,
                         const std::function<bool()>& should_stop) override {
    return run_fused_on_cuda<fused_storage::thread>(engine, least_squares_evaluator{}, settings,
                                                    should_stop);
  }

  void objective(engine<Real>& engine, std::vector<Real>& values) override {
    const cudaStream_t stream = stream_of(engine);
    const std::int64_t count = batch_.batch_size;
    device_buffer<Real> objective;
    objective.allocate(count, "f");
    objective_kernel<<<blocks_for_problems(count), loop_threads_per_block, 0, stream>>>(
        member_matrix_.data(), member_rhs_.data(), lambda_.data(), engine.view(), batch_.rows,
        objective.data());
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
    objective.download(values, stream);
    GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

private:
  /// out = G·X + β·out over the active problems: one strided-batched GEMM over the whole batch, or
  /// after compaction one pointer-array GEMM over the listed problems.
  std::int64_t multiply(engine<Real>& engine, operand source, Real beta, Real* out,
                        bool into_curvature_product) {
    const lockstep_view<Real>& v = engine.view();
    const active_set active = engine.active();
    const cublasHandle_t handle = cublas_handle_of(engine);
    const int n = v.unknowns, k = v.rhs_count;
    if (active.count == 0) return 0;
    if (active.list) {
      point_at(engine, active);
      GRADFLOW_CUBLAS_CHECK(
          gemm_batched(handle, CUBLAS_OP_N, k, n, n, pointers_.operand[static_cast<int>(source)], k,
                       pointers_.curvature, n, beta,
                       into_curvature_product ? pointers_.curvature_product : pointers_.gradient, k,
                       int(active.count)));
      return active.count;
    }
    const Real* x = v.operand_of(source, 0);  // problem i's X is x + i·state_len()
    GRADFLOW_CUBLAS_CHECK(gemm_strided_batched(handle, k, n, n, x, k, v.state_len(), v.curvature, n,
                                               std::int64_t(n) * n, beta, out, k, v.len(),
                                               int(v.batch_size)));
    return active.count;
  }

  /// The pointer arrays of the compacted GEMMs, sized once per load: not while a step is being
  /// captured (no allocation there, model_traits::step_capture).
  void size_pointers(std::int64_t count) {
    for (auto& operand : operand_pointers_) operand.allocate(count, "the GEMMs' pointers");
    curvature_pointers_.allocate(count, "the GEMMs' pointers");
    gradient_pointers_.allocate(count, "the GEMMs' pointers");
    curvature_product_pointers_.allocate(count, "the GEMMs' pointers");
    pointers_ = {
        {operand_pointers_[0].data(), operand_pointers_[1].data(), operand_pointers_[2].data()},
        curvature_pointers_.data(),
        gradient_pointers_.data(),
        curvature_product_pointers_.data()};
    pointed_list_ = nullptr;
    pointed_count_ = 0;
  }

  /// Rebuilds the pointer arrays when the active set has changed (each compaction leaves fewer
  /// problems, so the list and its count name one set).
  void point_at(engine<Real>& engine, active_set active) {
    if (active.list == pointed_list_ && active.count == pointed_count_) return;
    gemm_pointers_kernel<<<blocks_for_problems(active.count), loop_threads_per_block, 0,
                           stream_of(engine)>>>(engine.view(), active, pointers_);
    GRADFLOW_CUDA_CHECK(cudaGetLastError());
    pointed_list_ = active.list;
    pointed_count_ = active.count;
  }

  using least_squares_model<Real>::batch_;
  device_buffer<Real> matrix_, rhs_, lambda_, gram_, cross_;
  device_buffer<const Real*> member_matrix_, member_rhs_;
  device_buffer<const Real*> operand_pointers_[3], curvature_pointers_;
  device_buffer<Real*> gradient_pointers_, curvature_product_pointers_;
  gemm_pointers<Real> pointers_{};
  const std::int64_t* pointed_list_ = nullptr;
  std::int64_t pointed_count_ = 0;
};

}  // namespace

template <class Real>
std::unique_ptr<problem_model<Real>> make_least_squares_cuda_model(
    const least_squares_view<Real>& batch) {
  return std::make_unique<least_squares_on_cuda<Real>>(batch);
}

template std::unique_ptr<problem_model<float>> make_least_squares_cuda_model(
    const least_squares_view<float>&);
template std::unique_ptr<problem_model<double>> make_least_squares_cuda_model(
    const least_squares_view<double>&);

}  // namespace gradflow::detail
