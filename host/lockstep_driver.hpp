#pragma once
#include <vector>

#include "backend.hpp"

namespace gradflow {

/// Advances every loaded problem until each has stopped, then records ‖∇f‖ at each returned U: the
/// one lockstep loop, written once against lockstep_backend. Integrators, per step: for each stage
/// s ≥ 1 form Y_s, one batched product G·Y_s, K_s = F(Y_s); then accept/reject and control per
/// problem. Optimisers, per iteration: [look-ahead,] one batched product, update. The host asks
/// whether any problem still runs only every `check_interval` steps. With `trace_every` > 0 the
/// history of every running problem is appended to `trace` every that many steps.
template <class Real>
void integrate(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
               int check_interval, int trace_every, std::vector<trace_point>& trace);

}  // namespace gradflow
