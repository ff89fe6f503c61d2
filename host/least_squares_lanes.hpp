#pragma once
// The least-squares fused path on the CPU in lanes: W problems at once, their vectors interleaved
// element by element (AoSoA) so that every loop over the lanes is unit-stride vector code, while
// each problem keeps its own step control (detail/ode_step.hpp's and detail/optimizer_step.hpp's
// scalar pieces, once per lane).
#include <cstdint>
#include <functional>

#include "gradflow/detail/engine.hpp"

namespace gradflow::detail {

/// The whole fused run of every problem in `engine` (least squares: its curvature is G, its linear
/// term C) for settings that step_settings::runs_in_lanes, bit for bit what the per-problem fused
/// and the lockstep paths compute. Returns the products G·X computed: every lane of a pass, one
/// without a running problem included.
template <class Real>
std::int64_t run_least_squares_in_lanes(engine<Real>& engine, const step_settings<Real>& settings,
                                        const std::function<bool()>& should_stop);

/// The optimisers' part of it (gd, momentum, nag, adam, FIRE, FIRE 2.0; optimizer_lanes.cpp; cg by
/// run_conjugate_gradient_in_lanes, lbfgs by run_lbfgs_in_lanes).
template <class Real>
std::int64_t run_optimizer_in_lanes(const lockstep_view<Real>& v,
                                    const step_settings<Real>& settings,
                                    const std::function<bool()>& should_stop);

/// L-BFGS's part of it (lbfgs_lanes.cpp).
template <class Real>
std::int64_t run_lbfgs_in_lanes(const lockstep_view<Real>& v, const step_settings<Real>& settings,
                                const std::function<bool()>& should_stop);

/// Conjugate gradients' part of it (conjugate_gradient_lanes.cpp).
template <class Real>
std::int64_t run_conjugate_gradient_in_lanes(const lockstep_view<Real>& v,
                                             const step_settings<Real>& settings,
                                             const std::function<bool()>& should_stop);

}  // namespace gradflow::detail
