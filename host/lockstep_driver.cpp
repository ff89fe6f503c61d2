#include "lockstep_driver.hpp"

#include "gradflow/detail/sequence.hpp"
#include "gradflow/error.hpp"

#include <chrono>

namespace gradflow {
namespace {

using detail::lockstep_phase;
using detail::operand;

/// Appends a point for every problem that ran since the last record (so a finished problem's last
/// point appears once).
template <class Real>
class trace_recorder {
public:
  trace_recorder(lockstep_backend<Real>& backend, int every, std::vector<trace_point>& trace)
      : backend_(backend), every_(every), trace_(trace) {}

  bool due(std::int64_t iteration) const { return every_ > 0 && iteration % every_ == 0; }

  void record() {
    if (every_ <= 0) return;
    backend_.read_progress(outcome_, accepted_, time_, gradient_norm_);
    if (was_running_.empty()) was_running_.assign(outcome_.size(), true);
    for (std::size_t i = 0; i < outcome_.size(); ++i) {
      if (!was_running_[i]) continue;
      trace_.push_back(
          {std::int64_t(i), accepted_[i], double(time_[i]), double(gradient_norm_[i])});
      was_running_[i] = outcome_[i] == static_cast<std::int32_t>(status::running);
    }
  }

private:
  lockstep_backend<Real>& backend_;
  int every_;
  std::vector<trace_point>& trace_;
  std::vector<std::int32_t> outcome_;
  std::vector<std::int64_t> accepted_;
  std::vector<Real> time_, gradient_norm_;
  std::vector<bool> was_running_;
};

/// Applies each step of detail::run_sequence to the active problems through the backend, checking
/// how many still run every options.check_interval steps (reporting it to on_progress, compacting
/// the active set when few still run) and recording the trace.
template <class Real>
class lockstep_executor {
public:
  lockstep_executor(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
                    const solve_options& options, trace_recorder<Real>& recorder)
      : backend_(backend),
        settings_(settings),
        options_(options),
        recorder_(recorder),
        started_(std::chrono::steady_clock::now()) {}

  void factorize(detail::factor_shift shift) { backend_.factorize(shift); }
  void gram(operand source) { backend_.apply_gram(source); }
  void phase(lockstep_phase p, int stage) { backend_.run_phase(settings_, p, stage); }
  bool keep_going(std::int64_t iteration) {
    if (iteration == 0) recorder_.record();
    if (iteration % options_.check_interval != 0) return true;
    if (options_.should_stop && options_.should_stop())
      throw interrupted("the solve was interrupted");
    const std::int64_t running = backend_.running_count();
    if (running > 0 && running < backend_.active_count() &&
        double(running) <= options_.compaction_threshold * double(backend_.active_count())) {
      backend_.compact(running);
      ++compactions_;
    }
    if (options_.on_progress) {
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
      options_.on_progress({running, backend_.batch_size() - running, elapsed.count()});
    }
    return running > 0;
  }
  void after_step(std::int64_t iteration) {
    if (recorder_.due(iteration + 1)) recorder_.record();
  }
  void end_iterations() { backend_.activate_all(); }
  int stage_limit() { return backend_.most_stages(); }
  std::int64_t compactions() const { return compactions_; }

private:
  lockstep_backend<Real>& backend_;
  const detail::step_settings<Real>& settings_;
  const solve_options& options_;
  trace_recorder<Real>& recorder_;
  std::chrono::steady_clock::time_point started_;
  std::int64_t compactions_ = 0;
};

}  // namespace

template <class Real>
std::int64_t integrate(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
                       const solve_options& options, std::vector<trace_point>& trace) {
  trace_recorder<Real> recorder(backend, options.trace_every, trace);
  lockstep_executor<Real> executor(backend, settings, options, recorder);
  detail::run_sequence(executor, settings);
  recorder.record();
  return executor.compactions();
}

template std::int64_t integrate(lockstep_backend<float>&, const detail::step_settings<float>&,
                                const solve_options&, std::vector<trace_point>&);
template std::int64_t integrate(lockstep_backend<double>&, const detail::step_settings<double>&,
                                const solve_options&, std::vector<trace_point>&);

}  // namespace gradflow
