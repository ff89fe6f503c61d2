#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gradflow/detail/lockstep_arrays.hpp"
#include "gradflow/detail/phases.hpp"
#include "gradflow/detail/sequence.hpp"
#include "gradflow/least_squares.hpp"
#include "gradflow/result.hpp"

namespace gradflow {

/// The operations of a lockstep run, declared once and implemented by the CPU backend
/// (host/cpu_backend.cpp) and the CUDA backend (kernels/cuda_backend.cu). Per-problem math lives in
/// detail::run_phase, which both call; the backends differ only in memory, loops and the batched
/// linear algebra (products G·U and Cholesky factorisation).
template <class Real>
class lockstep_backend {
public:
  virtual ~lockstep_backend() = default;
  virtual backend_kind kind() const = 0;
  virtual std::string device_name() const = 0;
  /// Copies the batch in, forms G_i = A_iᵀA_i + λ_i I and C_i = A_iᵀB_i, sets U = U0 (V = 0),
  /// stores the per-problem hyperparameters (parameter_count per problem), and sizes every buffer
  /// once (nothing is allocated inside the step loop). Every problem starts `running`.
  virtual void load(const least_squares_batch<Real>& batch, const lockstep_layout& layout,
                    const std::vector<Real>& parameters) = 0;
  /// Cholesky-factors G_i (+ I/h_i, see detail::factor_shift) of every active problem; one that is
  /// not positive definite becomes invalid_input.
  virtual void factorize(detail::factor_shift shift) = 0;
  /// product_i = G_i·X_i for the U-part X of `source`, for every active problem.
  virtual void apply_gram(detail::operand source) = 0;
  /// detail::run_phase for every active problem.
  virtual void run_phase(const detail::step_settings<Real>& settings, detail::lockstep_phase phase,
                         int stage) = 0;
  /// rkcd, rkc: the largest stage count of a running problem (a host synchronisation on CUDA).
  virtual int most_stages() = 0;
  /// Problems loaded.
  virtual std::int64_t batch_size() const = 0;
  /// The fused path: every problem's whole detail::run_sequence in one thread of its own. Between
  /// blocks of problems it asks `should_stop` (when set) and throws interrupted when it says so.
  virtual void run_fused(const detail::step_settings<Real>& settings,
                         const std::function<bool()>& should_stop) = 0;
  /// How many active problems are still running (a host synchronisation on the CUDA backend).
  virtual std::int64_t running_count() = 0;
  /// Active-set compaction: later products and phases visit only the problems still running,
  /// `running` of them (what running_count just returned); every problem's data stays in place.
  virtual void compact(std::int64_t running) = 0;
  /// Every problem is active again (for the final product and ‖∇f‖).
  virtual void activate_all() = 0;
  virtual std::int64_t active_count() const = 0;
  /// Per-problem products G·X computed so far, those of finished problems included.
  virtual std::int64_t products_issued() const = 0;
  /// The compute clock: from start_clock to stop_clock's return, the device's own time (CUDA
  /// events on the GPU); uploads and downloads lie outside it.
  virtual void start_clock() = 0;
  virtual double stop_clock() = 0;
  /// Status, accepted steps, t and ‖∇f‖ of every problem, for a trace (a synchronisation on CUDA).
  virtual void read_progress(std::vector<std::int32_t>& outcome,
                             std::vector<std::int64_t>& accepted, std::vector<Real>& time,
                             std::vector<Real>& gradient_norm) = 0;
  /// f at the final U and every per-problem field, copied into `result`.
  virtual void collect(solve_result<Real>& result) = 0;
};

template <class Real>
std::unique_ptr<lockstep_backend<Real>> make_cpu_backend();

/// Throws not_compiled in a build without CUDA and no_device when no device answers.
template <class Real>
std::unique_ptr<lockstep_backend<Real>> make_cuda_backend();

/// Number of CUDA devices that answer; 0 without CUDA, driver or device (never throws).
int cuda_device_count();

}  // namespace gradflow
