#include "lockstep_driver.hpp"

namespace gradflow {
namespace {

using detail::lockstep_phase;
using detail::operand;

/// Every running problem attempts one step per iteration and stops itself at max_steps, so the
/// loops need no bound beyond that.
template <class Real, class Step>
void repeat_steps(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
                  int check_interval, Step step) {
  for (std::int64_t iteration = 0; iteration < settings.max_steps; ++iteration) {
    if (iteration % check_interval == 0 && !backend.any_running()) return;
    step();
  }
}

template <class Real>
void run_integrator(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
                    int check_interval) {
  backend.apply_gram(operand::state);
  backend.run_phase(settings, lockstep_phase::ode_rhs, 0);
  backend.run_phase(settings, lockstep_phase::ode_start, 0);
  if (settings.adaptive) {
    backend.apply_gram(operand::stage_input);
    backend.run_phase(settings, lockstep_phase::ode_probe_rhs, 0);
    backend.run_phase(settings, lockstep_phase::ode_refine_initial_step, 0);
  }
  repeat_steps(backend, settings, check_interval, [&] {
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
                   int check_interval) {
  if (settings.method == method::cg) backend.apply_gram(operand::state);
  backend.run_phase(settings, lockstep_phase::optimizer_start, 0);
  const operand source = detail::optimizer_operand(settings.method);
  repeat_steps(backend, settings, check_interval, [&] {
    if (source == operand::stage_input)
      backend.run_phase(settings, lockstep_phase::optimizer_prepare, 0);
    backend.apply_gram(source);
    backend.run_phase(settings, lockstep_phase::optimizer_update, 0);
  });
}

}  // namespace

template <class Real>
void integrate(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
               int check_interval) {
  if (settings.needs_factor) backend.factorize();
  backend.run_phase(settings, lockstep_phase::resolve_parameters, 0);
  if (is_integrator(settings.method)) {
    run_integrator(backend, settings, check_interval);
  } else if (settings.method == method::direct) {
    backend.run_phase(settings, lockstep_phase::direct_solve, 0);
  } else {
    run_optimizer(backend, settings, check_interval);
  }
  backend.apply_gram(operand::state);
  backend.run_phase(settings, lockstep_phase::final_gradient, 0);
}

template void integrate(lockstep_backend<float>&, const detail::step_settings<float>&, int);
template void integrate(lockstep_backend<double>&, const detail::step_settings<double>&, int);

}  // namespace gradflow
