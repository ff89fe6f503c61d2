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
  const status outcome = detail::integrate_adaptive(rhs, std::move(start), times, 1e-12, 1e-12,
                                                    10000000, series.values);
  if (outcome != status::converged)
    throw invalid_argument("the Van der Pol trajectory could not be integrated (" +
                           std::string(to_string(outcome)) + "): choose smaller mu or train_end");
  return series;
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
