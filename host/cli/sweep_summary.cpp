#include "sweep_summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

namespace gradflow::cli {
namespace {

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

/// Fewest accepted steps among converged rows whose axis `a` equals `value`; -1 if none.
std::int64_t fewest_steps_at(const sweep_result& result, std::size_t a, double value) {
  std::int64_t fewest = -1;
  for (const auto& row : result.rows) {
    if (row.axis_values[a] != value || row.outcome != status::converged) continue;
    if (fewest < 0 || row.accepted_steps < fewest) fewest = row.accepted_steps;
  }
  return fewest;
}

}  // namespace

std::string summarize_sweep(const sweep_result& result, const std::string& dynamics,
                            const std::string& precision) {
  std::string text = "sweep: " + std::to_string(result.rows.size()) + " members =";
  std::int64_t problems = 0;
  for (const auto& row : result.rows) problems = std::max(problems, row.problem + 1);
  text += " " + std::to_string(problems) + " problem" + (problems == 1 ? "" : "s");
  std::vector<method> methods;
  for (const auto& row : result.rows)
    if (std::find(methods.begin(), methods.end(), row.method) == methods.end())
      methods.push_back(row.method);
  if (methods.size() > 1) text += " × " + std::to_string(methods.size()) + " methods";
  for (const auto& axis : result.axes)
    text += " × " + std::to_string(axis.values.size()) + " " + axis.name;
  text += " (dynamics " + dynamics + ", " + precision + ")\n";

  std::array<std::int64_t, status_count> counts{};
  for (const auto& row : result.rows) ++counts[static_cast<int>(row.outcome)];
  if (!result.runs.empty()) {
    const auto& last = result.runs.back();
    text += "backend: " + std::string(to_string(last.backend)) + " on " + last.device;
  } else {
    text += "backend: none (every member was already done)";
  }
  text += ", wall time " + format("%.3f s", result.wall_seconds) + " (" +
          format("%.4g", result.rows.size() / std::max(result.wall_seconds, 1e-9)) +
          " members/s)\n";
  text += "status:";
  for (int s = 0; s < status_count; ++s) {
    if (counts[s] == 0) continue;
    text += " " + std::string(to_string(static_cast<status>(s))) + " " + std::to_string(counts[s]);
    if (static_cast<status>(s) == status::converged)
      text += " (" + format("%.1f", 100.0 * counts[s] / result.rows.size()) + "%)";
  }
  text += "\n";
  if (counts[static_cast<int>(status::stalled)] > 0) text += std::string(stall_advice) + "\n";

  const sweep_row* best = nullptr;
  for (const auto& row : result.rows) {
    if (row.outcome != status::converged) continue;
    if (!best || row.gradient_evaluations < best->gradient_evaluations) best = &row;
  }
  if (!best) return text + "best: no member converged\n";
  text += "best: " + std::string(to_string(best->method));
  for (std::size_t a = 0; a < result.axes.size(); ++a)
    text += ", " + result.axes[a].name + " = " + format("%.4g", best->axis_values[a]);
  text += ": " + std::to_string(best->accepted_steps) + " steps, " +
          std::to_string(best->gradient_evaluations) + " gradient evaluations\n";

  for (std::size_t a = 0; a < result.axes.size(); ++a) {
    if (result.axes[a].name != "zeta") continue;
    // Critically, under- and overdamped: the axis values nearest 1, 1/4 and 4, each once.
    std::vector<double> shown;
    for (double target : {1.0, 0.25, 4.0}) {
      double nearest = result.axes[a].values.front();
      for (double value : result.axes[a].values)
        if (std::abs(std::log(value / target)) < std::abs(std::log(nearest / target)))
          nearest = value;
      if (std::find(shown.begin(), shown.end(), nearest) != shown.end()) continue;
      const std::int64_t steps = fewest_steps_at(result, a, nearest);
      text += std::string(shown.empty() ? "fewest steps at zeta ≈ " : " | ") +
              format("%.3g", nearest) + ": " +
              (steps < 0 ? std::string("none converged") : std::to_string(steps));
      shown.push_back(nearest);
    }
    text += "\n";
  }
  return text;
}

}  // namespace gradflow::cli
