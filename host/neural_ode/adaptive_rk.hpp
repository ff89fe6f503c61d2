#pragma once
// Adaptive Tsit5 for one small ODE on the host, landing on every output time: the Van der Pol
// reference trajectory and the rollouts of trained fields.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gradflow/detail/tableau.hpp"
#include "gradflow/status.hpp"

namespace gradflow::detail {

/// A state this large has left the attractor of anything a training could fit: a blow-up.
inline constexpr double rollout_bound = 1e8;

/// Integrates y' = rhs(t, y) (rhs(t, y, dy) with d values each) from (outputs[0], y) through every
/// output time, its values there into `values` (outputs × d). Returns converged, diverged (a state
/// not finite or beyond rollout_bound), max_steps or step_underflow.
template <class Rhs>
status integrate_adaptive(const Rhs& rhs, std::vector<double> y, const std::vector<double>& outputs,
                          double rtol, double atol, std::int64_t max_steps,
                          std::vector<double>& values) {
  const int d = int(y.size());
  const tableau<double> scheme = tsit5_tableau<double>();
  const int stages = scheme.stage_count;
  values.assign(outputs.size() * d, std::nan(""));
  if (outputs.empty()) return status::converged;
  std::copy(y.begin(), y.end(), values.begin());
  std::vector<double> k(std::size_t(stages) * d), input(d), next(d);
  double t = outputs[0];
  double h = outputs.size() > 1 ? (outputs.back() - outputs[0]) * 1e-4 : 0;
  std::int64_t steps = 0;
  rhs(t, y.data(), k.data());
  for (std::size_t target = 1; target < outputs.size(); ++target) {
    while (t < outputs[target]) {
      if (steps++ >= max_steps) return status::max_steps;
      const bool lands = t + h >= outputs[target];
      const double step = lands ? outputs[target] - t : h;
      if (!(step > 16 * 2.2e-16 * std::max(1.0, std::fabs(t)))) return status::step_underflow;
      for (int s = 1; s < stages; ++s) {
        for (int c = 0; c < d; ++c) {
          double sum = y[c];
          for (int j = 0; j < s; ++j) sum += step * scheme.a[s][j] * k[j * d + c];
          input[c] = sum;
        }
        rhs(t + scheme.c[s] * step, input.data(), k.data() + s * d);
      }
      next = input;  // FSAL: the last stage's input is the step's result
      double error = 0;
      for (int c = 0; c < d; ++c) {
        double estimate = 0;
        for (int s = 0; s < stages; ++s) estimate += step * scheme.error_weights[s] * k[s * d + c];
        const double scale = atol + rtol * std::max(std::fabs(y[c]), std::fabs(next[c]));
        error += (estimate / scale) * (estimate / scale);
      }
      error = std::sqrt(error / d);
      if (!std::isfinite(error)) {
        h = step / 4;  // an overflow inside the step: try a smaller one
        continue;
      }
      const double factor = std::clamp(0.9 * std::pow(std::max(error, 1e-10), -0.2), 0.2, 5.0);
      if (error <= 1) {
        t = lands ? outputs[target] : t + step;
        y = next;
        for (int c = 0; c < d; ++c)
          if (!(std::fabs(y[c]) <= rollout_bound)) return status::diverged;
        std::copy_n(k.data() + (stages - 1) * d, d, k.data());
        if (!lands) h = step * factor;
      } else {
        h = step * std::min(factor, 1.0);
      }
    }
    std::copy(y.begin(), y.end(), values.begin() + target * d);
  }
  return status::converged;
}

}  // namespace gradflow::detail
