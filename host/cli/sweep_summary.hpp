#pragma once
#include <string>

#include "gradflow/sweep.hpp"

namespace gradflow::cli {

/// A few readable lines about a finished sweep: size, backend and time, statuses, each method's
/// best grid point (the most problems converged, then the fewest gradient evaluations, median over
/// the problems), and — when ζ is an axis — the fewest steps at the grid values nearest ζ = 1,
/// 0.25 and 4.
std::string summarize_sweep(const sweep_result& result, const std::string& dynamics,
                            const std::string& precision);

}  // namespace gradflow::cli
