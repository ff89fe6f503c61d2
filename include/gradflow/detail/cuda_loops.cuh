#pragma once
// The CUDA side of cpu_loops.hpp: one thread per active problem runs a model's per-problem
// evaluator, on the engine's stream. Included by models compiled by nvcc (least squares' fused
// path, objectives).
#include <cuda_runtime.h>

#include <cstdint>
#include <cub/block/block_reduce.cuh>
#include <functional>
#include <optional>
#include <vector>

#include "gradflow/detail/cuda_check.cuh"
#include "gradflow/detail/device_buffer.cuh"
#include "gradflow/detail/engine.hpp"
#include "gradflow/detail/resident_problem.hpp"
#include "gradflow/detail/sequence.hpp"
#include "gradflow/error.hpp"

namespace gradflow::detail {

inline constexpr int loop_threads_per_block = 128;

inline unsigned blocks_for_problems(std::int64_t count) {
  return unsigned((count + loop_threads_per_block - 1) / loop_threads_per_block);
}

template <class Real>
cudaStream_t stream_of(const engine<Real>& engine) {
  return static_cast<cudaStream_t>(engine.stream());
}

template <class Real, class Evaluator>
__global__ void evaluate_kernel(lockstep_view<Real> view, active_set active, Evaluator evaluator,
                                operand source) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (position >= active.count) return;
  const std::int64_t i = active[position];
  if (view.running(i) || source == operand::state) evaluator.gradient(view, source, i);
}

template <class Real, class Evaluator>
__global__ void curvature_product_kernel(lockstep_view<Real> view, active_set active,
                                         Evaluator evaluator, operand source) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (position >= active.count) return;
  const std::int64_t i = active[position];
  if (view.running(i)) evaluator.curvature_product(view, source, i);
}

template <class Real, class Evaluator>
__global__ void prepare_curvature_kernel(lockstep_view<Real> view, active_set active,
                                         Evaluator evaluator, factor_shift shift) {
  const std::int64_t position = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (position < active.count)
    prepare_curvature_once_per_point(evaluator, view, shift, active[position]);
}

/// The fused path: one thread runs one problem's whole solve, in place in the batch's arrays or
/// (Resident) in a resident_problem copy, then its block adds its evaluations (one atomic per
/// block). Compiled per method scope (sequence.hpp: a kernel's local memory is that of every
/// phase it holds).
template <class Real, class Evaluator, bool Resident, method_scope Scope>
__global__ void fused_kernel(lockstep_view<Real> view, step_settings<Real> settings,
                             Evaluator evaluator, unsigned long long* evaluations) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  unsigned long long evaluated = 0;
  if (i < view.batch_size) {
    if constexpr (Resident) {
      resident_problem<Real> problem;
      fused_executor<Real, Evaluator, Scope> executor{problem.load(view, i, settings.work_count()),
                                                      settings, 0, evaluator.resident_at(i)};
      run_sequence(executor, settings);
      problem.store(view, i);
      evaluated = executor.evaluations;
    } else {
      fused_executor<Real, Evaluator, Scope> executor{view, settings, i, evaluator};
      run_sequence(executor, settings);
      evaluated = executor.evaluations;
    }
  }
  using block_sum = cub::BlockReduce<unsigned long long, loop_threads_per_block>;
  __shared__ typename block_sum::TempStorage scratch;
  const unsigned long long block_total = block_sum(scratch).Sum(evaluated);
  if (threadIdx.x == 0 && block_total > 0) atomicAdd(evaluations, block_total);
}

/// Evaluations issued: every active problem's thread (stopped ones return at once).
template <class Real, class Evaluator>
std::int64_t evaluate_on_cuda(engine<Real>& engine, const Evaluator& evaluator, operand source) {
  const active_set active = engine.active();
  if (active.count == 0) return 0;
  evaluate_kernel<<<blocks_for_problems(active.count), loop_threads_per_block, 0,
                    stream_of(engine)>>>(engine.view(), active, evaluator, source);
  GRADFLOW_CUDA_CHECK(cudaGetLastError());
  return active.count;
}

template <class Real, class Evaluator>
std::int64_t curvature_product_on_cuda(engine<Real>& engine, const Evaluator& evaluator,
                                       operand source) {
  const active_set active = engine.active();
  if (active.count == 0) return 0;
  curvature_product_kernel<<<blocks_for_problems(active.count), loop_threads_per_block, 0,
                             stream_of(engine)>>>(engine.view(), active, evaluator, source);
  GRADFLOW_CUDA_CHECK(cudaGetLastError());
  return active.count;
}

template <class Real, class Evaluator>
void prepare_curvature_on_cuda(engine<Real>& engine, const Evaluator& evaluator,
                               factor_shift shift) {
  const active_set active = engine.active();
  if (active.count == 0) return;
  prepare_curvature_kernel<<<blocks_for_problems(active.count), loop_threads_per_block, 0,
                             stream_of(engine)>>>(engine.view(), active, evaluator, shift);
  GRADFLOW_CUDA_CHECK(cudaGetLastError());
}

/// Where a fused thread keeps its problem while it runs it.
enum class fused_storage {
  batch,   ///< in place, in the batch's arrays (any evaluator)
  thread,  ///< a resident_problem copy where it fits (an evaluator with resident_at)
};

/// One kernel runs the whole batch, so `should_stop` is asked once, before it starts. The kernel is
/// the one compiled for the narrowest scope of `Compiled` (gradflow/fused_kernels.hpp) that holds
/// the settings' methods (and, with fused_storage::thread, for a problem that fits a
/// resident_problem); only the kernels of `Compiled` are compiled.
template <fused_storage Storage = fused_storage::batch, unsigned Compiled = fused_kernels::all,
          class Real, class Evaluator>
std::int64_t run_fused_on_cuda(engine<Real>& engine, const Evaluator& evaluator,
                               const step_settings<Real>& settings,
                               const std::function<bool()>& should_stop) {
  const std::optional<method_scope> kernel = covering_scope(scope_of(settings), Compiled);
  if (!kernel)  // plan_run refuses such a run before it gets here
    throw invalid_argument("no fused GPU kernel compiled for this method (gpu_fused_kernels)");
  if (should_stop && should_stop()) throw interrupted("the solve was interrupted");
  const cudaStream_t stream = stream_of(engine);
  const lockstep_view<Real> view = engine.view();
  device_buffer<unsigned long long> evaluations;
  evaluations.allocate(1, "the evaluation count");
  GRADFLOW_CUDA_CHECK(cudaMemsetAsync(evaluations.data(), 0, sizeof(unsigned long long), stream));
  const unsigned blocks = blocks_for_problems(view.batch_size);
  const bool resident =
      Storage == fused_storage::thread && resident_problem<Real>::fits(view, settings.work_count());
  with_method_scope(*kernel, [&](auto scope) {
    constexpr method_scope Scope = decltype(scope)::value;
    if constexpr ((Compiled & kernel_bit(Scope)) != 0) {  // covering_scope chose a compiled one
      // Learned flow (scope all) runs in place: its windows rarely fit a resident_problem, and
      // its kernel, the largest to compile, is then compiled once.
      if constexpr (Storage == fused_storage::thread && Scope != method_scope::all)
        if (resident) {
          fused_kernel<Real, Evaluator, true, Scope><<<blocks, loop_threads_per_block, 0, stream>>>(
              view, settings, evaluator, evaluations.data());
          return;
        }
      fused_kernel<Real, Evaluator, false, Scope><<<blocks, loop_threads_per_block, 0, stream>>>(
          view, settings, evaluator, evaluations.data());
    }
  });
  GRADFLOW_CUDA_CHECK(cudaGetLastError());
  std::vector<unsigned long long> count;
  evaluations.download(count, stream);
  GRADFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));
  return std::int64_t(count[0]);
}

}  // namespace gradflow::detail
