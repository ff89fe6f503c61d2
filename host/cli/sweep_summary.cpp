#include "sweep_summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <utility>
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

/// The rows of one grid point: a method at one value of every axis, over the problems.
struct grid_point {
  const sweep_row* first = nullptr;  ///< its first member, for the method and axis values
  std::int64_t converged = 0;
  std::vector<std::int64_t> steps, evaluations;  ///< of its converged members
  std::int64_t median_evaluations = 0;           ///< once every row is in
};

/// The lower median (a count, so no half values).
std::int64_t median(std::vector<std::int64_t> values) {
  std::nth_element(values.begin(), values.begin() + (values.size() - 1) / 2, values.end());
  return values[(values.size() - 1) / 2];
}

/// Each method's best grid point: the most problems converged, then the fewest gradient
/// evaluations (median over those problems), then the first in member order.
std::string best_lines(const sweep_result& result, std::int64_t problems) {
  std::map<std::pair<method, std::vector<double>>, grid_point> points;
  std::vector<grid_point*> in_order;
  for (const auto& row : result.rows) {
    grid_point& point = points[{row.method, row.axis_values}];
    if (!point.first) {
      point.first = &row;
      in_order.push_back(&point);
    }
    if (row.outcome != status::converged) continue;
    ++point.converged;
    point.steps.push_back(row.accepted_steps);
    point.evaluations.push_back(row.gradient_evaluations);
  }
  for (grid_point* point : in_order)
    if (point->converged > 0) point->median_evaluations = median(point->evaluations);
  std::vector<method> methods;
  for (const grid_point* point : in_order)
    if (std::find(methods.begin(), methods.end(), point->first->method) == methods.end())
      methods.push_back(point->first->method);
  std::string text;
  for (method m : methods) {
    const grid_point* best = nullptr;
    for (const grid_point* point : in_order) {
      if (point->first->method != m || point->converged == 0) continue;
      if (!best || point->converged > best->converged ||
          (point->converged == best->converged &&
           point->median_evaluations < best->median_evaluations))
        best = point;
    }
    text += "best: " + std::string(to_string(m));
    if (!best) {
      text += ": no member converged\n";
      continue;
    }
    for (std::size_t a = 0; a < result.axes.size(); ++a)
      text += ", " + result.axes[a].name + " = " + format("%.4g", best->first->axis_values[a]);
    text += ": ";
    if (problems > 1)
      text += std::to_string(best->converged) + " of " + std::to_string(problems) +
              " problems converged, median ";
    text += std::to_string(median(best->steps)) + " steps, " +
            std::to_string(best->median_evaluations) + " gradient evaluations\n";
  }
  return text;
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

  text += best_lines(result, problems);

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
