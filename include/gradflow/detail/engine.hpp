#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gradflow/detail/lockstep_arrays.hpp"
#include "gradflow/detail/phases.hpp"
#include "gradflow/result.hpp"

namespace gradflow::detail {

/// Where a batch runs, whatever its problem family: the per-problem arrays of step control in the
/// engine's kind of memory, the per-problem phases (detail::run_phase) over the active problems,
/// the Cholesky factorisations, active-set compaction, the compute clock, progress reads and the
/// download of results. Implemented by the CPU engine (host/cpu_engine.cpp) and the CUDA engine
/// (kernels/cuda_engine.cu); a problem model (gradflow/model.hpp) adds its evaluations.
template <class Real>
class engine {
public:
  virtual ~engine() = default;
  virtual backend_kind kind() const = 0;
  virtual std::string device_name() const = 0;
  /// Sizes (and zeroes) every per-problem array once for `count` problems of n×k unknowns, every
  /// problem `running`, and stores the hyperparameter table (parameter_count per problem).
  /// `evaluation_work` (multiply-adds of one problem's ∇f) tells the CPU engine when a pass over
  /// the batch is worth its threads.
  virtual void allocate(std::int64_t count, int unknowns, int rhs_count,
                        const lockstep_layout& layout, const std::vector<Real>& parameters,
                        std::int64_t evaluation_work) = 0;
  /// The view of those arrays, to which the model adds its own (curvature, linear term, value).
  virtual lockstep_view<Real>& view() = 0;
  /// U0, n·k values per problem back to back, into the first n·k values of each state.
  virtual void upload_initial(const Real* initial) = 0;
  /// Cholesky-factors H_i (+ I/h_i, see factor_shift) of every active problem into the factor
  /// slot, as factor_problem does (an H that is not positive definite: invalid_input; H + I/h that
  /// is not: h halved).
  virtual void factorize(factor_shift shift) = 0;
  virtual void run_phase(const step_settings<Real>& settings, lockstep_phase phase, int stage) = 0;
  /// rkcd, rkc: the largest stage count of a running problem (a host synchronisation on CUDA).
  virtual int most_stages() = 0;
  /// How many active problems are still running (a host synchronisation on CUDA).
  virtual std::int64_t running_count() = 0;
  /// Active-set compaction: later evaluations and phases visit only the problems still running,
  /// `running` of them (what running_count just returned); every problem's data stays in place.
  virtual void compact(std::int64_t running) = 0;
  /// Every problem is active again (for the final evaluation and ‖∇f‖).
  virtual void activate_all() = 0;
  /// The problems an evaluation or a phase visits now.
  virtual active_set active() const = 0;
  /// The CPU engine: whether a pass over the active problems is worth its threads.
  virtual bool parallel() const = 0;
  /// The compute clock: from start_clock to stop_clock's return, the device's own time (CUDA
  /// events on the GPU); uploads and downloads lie outside it.
  virtual void start_clock() = 0;
  virtual double stop_clock() = 0;
  /// Status, accepted steps, t and ‖∇f‖ of every problem, for a trace (a synchronisation on CUDA).
  virtual void read_progress(std::vector<std::int32_t>& outcome,
                             std::vector<std::int64_t>& accepted, std::vector<Real>& time,
                             std::vector<Real>& gradient_norm) = 0;
  /// A lockstep step's calls as one replayable unit: begin_step_capture starts recording the
  /// engine's work instead of running it (false: this engine does not capture, the CPU's: the calls
  /// run as issued), end_step_capture keeps it, replay_step runs what was kept (CUDA: a graph
  /// launch, one instead of a Tsit5 step's ~19).
  virtual bool begin_step_capture() = 0;
  virtual void end_step_capture() = 0;
  virtual void replay_step() = 0;
  /// The U-part of every state and every per-problem field, copied into `result`.
  virtual void download(solve_result<Real>& result) = 0;
  /// The CUDA engine's stream (a cudaStream_t) on which models launch their work; nullptr on the
  /// CPU.
  virtual void* stream() const = 0;
};

template <class Real>
std::unique_ptr<engine<Real>> make_cpu_engine();

/// Throws not_compiled in a build without CUDA and no_device when no device answers.
template <class Real>
std::unique_ptr<engine<Real>> make_cuda_engine();

}  // namespace gradflow::detail

namespace gradflow {

/// Number of CUDA devices that answer; 0 without CUDA, driver or device (never throws).
int cuda_device_count();

}  // namespace gradflow
