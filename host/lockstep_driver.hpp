#pragma once
#include "backend.hpp"

namespace gradflow {

/// Advances every loaded problem until each has stopped: the one lockstep loop, written once
/// against lockstep_backend. Per step: for each stage s ≥ 1 form Y_s and evaluate K_s = −∇f(Y_s)
/// (one batched product), then accept/reject and control per problem. The host asks whether any
/// problem still runs only every `check_interval` steps.
template <class Real>
void integrate(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
               int check_interval);

}  // namespace gradflow
