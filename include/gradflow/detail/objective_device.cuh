#pragma once
// The fused GPU path for objectives (included by gradflow/objective.hpp under nvcc only): one CUDA
// thread runs one problem's whole solve with the user's functor, as an OpenMP thread does on the
// CPU.
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "gradflow/detail/cuda_check.cuh"
#include "gradflow/detail/device_buffer.cuh"

namespace gradflow::detail {

inline constexpr int objective_threads_per_block = 128;

inline bool device_present() {
  // Without a driver cudaGetDeviceCount returns an error (35) and leaves the count alone.
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return count > 0;
}

template <class Real, class Objective>
__global__ void objective_fused_kernel(lockstep_view<Real> view, step_settings<Real> settings,
                                       objective_gradient<Objective, Real> gradient,
                                       unsigned long long* products) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= view.batch_size) return;
  fused_executor<Real, objective_gradient<Objective, Real>> executor{view, settings, i, gradient};
  run_sequence(executor, settings);
  atomicAdd(products, static_cast<unsigned long long>(executor.products));
}

/// Uploads the prepared run, solves every problem on the current device and brings back what the
/// result reports (state, statuses, per-problem fields) into run.arrays; fills the summary's
/// backend, device, products and compute time (CUDA events around the kernel).
template <class Real, class Objective>
void run_objectives_on_device(const objective_batch<Objective, Real>& batch,
                              objective_run<Real>& run, run_summary& summary) {
  if (!device_present())
    throw no_device("backend = cuda for an objective, but no CUDA device answers");
  const std::int64_t count = batch.batch_size();
  const int n = batch.unknowns;
  lockstep_arrays<device_buffer, Real> device;
  device.size_for(count, n, 1, run.plan.layout);
  device_buffer<Real> trial_values;
  resize_array(trial_values, count, "trial values of f");
  device_buffer<unsigned long long> products;
  resize_array(products, 1, "the product count");
  GRADFLOW_CUDA_CHECK(cudaDeviceSynchronize());  // the zeroing ran on the legacy stream
  device.parameters.upload(run.arrays.parameters, 0, "hyperparameters");
  device.state.upload(run.arrays.state, 0, "the state");
  device_buffer<Objective> problems;
  problems.upload(batch.problems, 0, "the objectives");

  lockstep_view<Real> view = device.view(count, n, 1, run.plan.layout.state_factor);
  view.trial_value = trial_values.data();
  const objective_gradient<Objective, Real> gradient{
      problems.data(), device.gram.data(), run.plan.settings.dynamics == dynamics::newton};
  cudaEvent_t started, finished;
  GRADFLOW_CUDA_CHECK(cudaEventCreate(&started));
  GRADFLOW_CUDA_CHECK(cudaEventCreate(&finished));
  GRADFLOW_CUDA_CHECK(cudaEventRecord(started, 0));
  const int blocks = int((count + objective_threads_per_block - 1) / objective_threads_per_block);
  objective_fused_kernel<<<blocks, objective_threads_per_block>>>(view, run.plan.settings, gradient,
                                                                  products.data());
  GRADFLOW_CUDA_CHECK(cudaGetLastError());
  GRADFLOW_CUDA_CHECK(cudaEventRecord(finished, 0));

  device.state.download(run.arrays.state, 0);
  device.outcome.download(run.arrays.outcome, 0);
  device.time.download(run.arrays.time, 0);
  device.gradient_norm.download(run.arrays.gradient_norm, 0);
  device.accepted.download(run.arrays.accepted, 0);
  device.rejected.download(run.arrays.rejected, 0);
  device.gradient_evaluations.download(run.arrays.gradient_evaluations, 0);
  std::vector<unsigned long long> product_count;
  products.download(product_count, 0);
  GRADFLOW_CUDA_CHECK(cudaDeviceSynchronize());
  float milliseconds = 0;
  GRADFLOW_CUDA_CHECK(cudaEventElapsedTime(&milliseconds, started, finished));
  cudaEventDestroy(started);
  cudaEventDestroy(finished);

  int ordinal = 0;
  cudaDeviceProp properties{};
  GRADFLOW_CUDA_CHECK(cudaGetDevice(&ordinal));
  GRADFLOW_CUDA_CHECK(cudaGetDeviceProperties(&properties, ordinal));
  summary.backend = backend_kind::cuda;
  summary.device = properties.name;
  summary.products_issued = std::int64_t(product_count[0]);
  summary.compute_seconds = milliseconds / 1e3;
}

}  // namespace gradflow::detail
