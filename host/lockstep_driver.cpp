#include "lockstep_driver.hpp"

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

/// Every running problem attempts one step per iteration and stops itself at max_steps, so the
/// loops need no bound beyond that.
template <class Real, class Step>
void repeat_steps(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
                  const solve_options& options, trace_recorder<Real>& recorder, Step step) {
  const auto started = std::chrono::steady_clock::now();
  recorder.record();
  for (std::int64_t iteration = 0; iteration < settings.max_steps; ++iteration) {
    if (iteration % options.check_interval == 0) {
      const std::int64_t running = backend.running_count();
      if (options.on_progress) {
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
        options.on_progress({running, backend.batch_size() - running, elapsed.count()});
      }
      if (running == 0) break;
    }
    step();
    if (recorder.due(iteration + 1)) recorder.record();
  }
  recorder.record();
}

template <class Real>
void run_integrator(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
                    const solve_options& options, trace_recorder<Real>& recorder) {
  backend.apply_gram(operand::state);
  backend.run_phase(settings, lockstep_phase::ode_rhs, 0);
  backend.run_phase(settings, lockstep_phase::ode_start, 0);
  if (settings.adaptive) {
    backend.apply_gram(operand::stage_input);
    backend.run_phase(settings, lockstep_phase::ode_probe_rhs, 0);
    backend.run_phase(settings, lockstep_phase::ode_refine_initial_step, 0);
  }
  repeat_steps(backend, settings, options, recorder, [&] {
    for (int stage = 1; stage < settings.scheme.stage_count; ++stage) {
      backend.run_phase(settings, lockstep_phase::ode_stage_input, stage);
      backend.apply_gram(operand::stage_input);
      backend.run_phase(settings, lockstep_phase::ode_rhs, stage);
    }
    backend.run_phase(settings, lockstep_phase::ode_finish, 0);
  });
}

template <class Real>
void run_optimizer(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
                   const solve_options& options, trace_recorder<Real>& recorder) {
  if (settings.method == method::cg) backend.apply_gram(operand::state);
  backend.run_phase(settings, lockstep_phase::optimizer_start, 0);
  const operand source = detail::optimizer_operand(settings.method);
  repeat_steps(backend, settings, options, recorder, [&] {
    if (source == operand::stage_input)
      backend.run_phase(settings, lockstep_phase::optimizer_prepare, 0);
    backend.apply_gram(source);
    backend.run_phase(settings, lockstep_phase::optimizer_update, 0);
  });
}

}  // namespace

template <class Real>
void integrate(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
               const solve_options& options, std::vector<trace_point>& trace) {
  trace_recorder<Real> recorder(backend, options.trace_every, trace);
  if (settings.needs_factor) backend.factorize();
  backend.run_phase(settings, lockstep_phase::resolve_parameters, 0);
  if (is_integrator(settings.method)) {
    run_integrator(backend, settings, options, recorder);
  } else if (settings.method == method::direct) {
    backend.run_phase(settings, lockstep_phase::direct_solve, 0);
  } else {
    run_optimizer(backend, settings, options, recorder);
  }
  backend.apply_gram(operand::state);
  backend.run_phase(settings, lockstep_phase::final_gradient, 0);
}

template void integrate(lockstep_backend<float>&, const detail::step_settings<float>&,
                        const solve_options&, std::vector<trace_point>&);
template void integrate(lockstep_backend<double>&, const detail::step_settings<double>&,
                        const solve_options&, std::vector<trace_point>&);

}  // namespace gradflow
