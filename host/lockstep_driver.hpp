#pragma once
#include <vector>

#include "backend.hpp"

namespace gradflow {

/// Advances every loaded problem until each has stopped, then records ‖∇f‖ at each returned U: the
/// one lockstep loop, written once against lockstep_backend. Integrators, per step: for each stage
/// s ≥ 1 form Y_s, one batched product G·Y_s, K_s = F(Y_s); then accept/reject and control per
/// problem. Optimisers, per iteration: [look-ahead,] one batched product, update. The host asks
/// how many problems still run only every options.check_interval steps (and reports it to
/// options.on_progress); when at most options.compaction_threshold of the active problems still
/// run, it compacts the active set. With options.trace_every > 0 the history of every running
/// problem is appended to `trace` every that many steps. Returns the number of compactions.
template <class Real>
std::int64_t integrate(lockstep_backend<Real>& backend, const detail::step_settings<Real>& settings,
                       const solve_options& options, std::vector<trace_point>& trace);

}  // namespace gradflow
