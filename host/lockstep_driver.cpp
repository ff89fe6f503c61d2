#include "lockstep_driver.hpp"

namespace gradflow {

template <class Real>
void integrate(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
               int check_interval) {
  using detail::lockstep_phase;
  backend.evaluate_flow(flow_point::solution, 0);
  backend.run_phase(settings, lockstep_phase::start, 0);
  if (settings.adaptive && settings.initial_dt <= 0) {
    backend.evaluate_flow(flow_point::stage_input, 1);
    backend.run_phase(settings, lockstep_phase::refine_initial_step, 0);
  }
  // Every running problem attempts one step per iteration and stops itself at max_steps, so the
  // loop needs no bound beyond that.
  for (std::int64_t step = 0; step < settings.max_steps; ++step) {
    if (step % check_interval == 0 && !backend.any_running()) return;
    for (int stage = 1; stage < settings.method.stage_count; ++stage) {
      backend.run_phase(settings, lockstep_phase::stage_input, stage);
      backend.evaluate_flow(flow_point::stage_input, stage);
    }
    backend.run_phase(settings, lockstep_phase::finish, 0);
  }
}

template void integrate(lockstep_backend<float>&, const detail::step_settings<float>&, int);
template void integrate(lockstep_backend<double>&, const detail::step_settings<double>&, int);

}  // namespace gradflow
