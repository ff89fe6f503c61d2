#include <cmath>
#include <string>

#include "../number_text.hpp"
#include "../random_stream.hpp"
#include "adaptive_rk.hpp"
#include "gradflow/collocation.hpp"
#include "gradflow/error.hpp"
#include "gradflow/neural_ode.hpp"

namespace gradflow {
namespace {

void require(bool ok, const char* field, double value, const char* rule) {
  if (!ok)
    throw invalid_argument(std::string("invalid ") + field + " = " + detail::number_text(value) +
                           ": " + rule);
}

/// The reference trajectory: Tsit5 at tolerances far below the noise and the MSEs compared.
time_series trajectory(const van_der_pol_setup& s, std::vector<double> start,
                       const std::vector<double>& times) {
  const auto rhs = [&](double t, const double* x, double* dx) {
    dx[0] = x[1];
    dx[1] = s.mu * (1 - x[0] * x[0]) * x[1] - x[0] + s.amplitude * std::cos(s.omega * t);
  };
  time_series series;
  series.dimension = 2;
  series.times = times;
  constexpr std::int64_t most_steps = 10000000;
  const status outcome = detail::integrate_adaptive(rhs, std::move(start), times, 1e-12, 1e-12,
                                                    most_steps, series.values);
  if (outcome == status::converged) return series;
  std::string why;
  if (outcome == status::diverged)
    why = "it grows past " + detail::number_text(detail::rollout_bound) +
          (s.mu < 0 ? " (mu < 0 feeds it energy: give mu >= 0 or a shorter interval)"
                    : " (give a smaller amplitude or a shorter interval)");
  else if (outcome == status::max_steps)
    why = "Tsit5 at tolerance 1e-12 takes more than " + std::to_string(most_steps) +
          " steps (give a smaller mu or omega, a shorter interval or fewer samples)";
  else
    why =
        "Tsit5's step at tolerance 1e-12 fell to rounding (give a smaller amplitude, mu or omega)";
  throw invalid_argument("the Van der Pol trajectory on [" + detail::number_text(times.front()) +
                         ", " + detail::number_text(times.back()) + "] cannot be integrated (" +
                         std::string(to_string(outcome)) + "): " + why);
}

}  // namespace

van_der_pol_data van_der_pol(const van_der_pol_setup& s) {
  require(std::isfinite(s.mu), "mu", s.mu, "must be finite");
  require(std::isfinite(s.amplitude), "amplitude", s.amplitude, "must be finite");
  require(std::isfinite(s.omega), "omega", s.omega, "must be finite");
  require(std::isfinite(s.x1), "x1", s.x1, "must be finite");
  require(std::isfinite(s.x2), "x2", s.x2, "must be finite");
  require(s.samples >= 3, "samples", s.samples, "must be >= 3");
  require(std::isfinite(s.train_end) && s.train_end > 0, "train_end", s.train_end,
          "must be finite and > 0");
  require(std::isfinite(s.noise) && s.noise >= 0, "noise", s.noise, "must be finite and >= 0");
  require(s.test_samples >= 0, "test_samples", s.test_samples, "must be >= 0");
  require(s.test_samples == 0 || (std::isfinite(s.test_end) && s.test_end > s.train_end),
          "test_end", s.test_end, "must be finite and > train_end");
  van_der_pol_data data;
  data.clean = trajectory(s, {s.x1, s.x2}, chebyshev_points(s.samples, 0, s.train_end));
  data.noisy = data.clean;
  detail::problem_stream noise(s.noise_seed, 0);
  for (double& value : data.noisy.values) value += s.noise * noise.normal();
  if (s.test_samples > 0) {
    std::vector<double> times(s.test_samples);
    for (int j = 0; j < s.test_samples; ++j)
      times[j] = s.train_end + (s.test_end - s.train_end) * j / std::max(1, s.test_samples - 1);
    const std::size_t last = data.clean.values.size() - 2;
    data.test = trajectory(s, {data.clean.values[last], data.clean.values[last + 1]}, times);
  }
  return data;
}

}  // namespace gradflow
