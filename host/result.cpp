#include "gradflow/result.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace gradflow {

std::string describe(const run_summary& summary) {
  std::string text = "status:";
  for (int s = 0; s < status_count; ++s) {
    if (summary.status_counts[s] == 0) continue;
    text += " " + std::string(to_string(static_cast<status>(s))) + " " +
            std::to_string(summary.status_counts[s]);
  }
  char line[256];
  const double rate = summary.wall_seconds > 0 ? summary.batch_size / summary.wall_seconds : 0.0;
  const std::string surrogate =
      summary.surrogate_evaluations > 0
          ? ", " + std::to_string(summary.surrogate_evaluations) + " surrogate evaluations"
          : std::string();
  std::snprintf(line, sizeof line,
                "\nbackend: %s on %s\nbatch: %lld problem%s, %lld gradient evaluations%s\n"
                "wall time: %.6f s (%.4g problems/s)",
                std::string(to_string(summary.backend)).c_str(), summary.device.c_str(),
                static_cast<long long>(summary.batch_size), summary.batch_size == 1 ? "" : "s",
                static_cast<long long>(summary.gradient_evaluations), surrogate.c_str(),
                summary.wall_seconds, rate);
  text += line;
  if (summary.count(status::stalled) > 0) text += std::string("\n") + stall_advice;
  return text;
}

template <class Real>
void finish_outcomes(solve_result<Real>& result) {
  for (std::size_t i = 0; i < result.outcome.size(); ++i) {
    if (result.outcome[i] == status::converged && !std::isfinite(result.objective[i]))
      result.outcome[i] = status::diverged;
    ++result.summary.status_counts[static_cast<int>(result.outcome[i])];
  }
  for (std::int64_t evaluations : result.gradient_evaluations)
    result.summary.gradient_evaluations += evaluations;
  for (std::int64_t evaluations : result.surrogate_evaluations)
    result.summary.surrogate_evaluations += evaluations;
}

template void finish_outcomes(solve_result<float>&);
template void finish_outcomes(solve_result<double>&);

}  // namespace gradflow
