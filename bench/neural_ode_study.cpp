// The neural-ODE study (README, "Neural ODEs"): the seed study's Van der Pol fit (Tsay &
// Shapovalova, DYCOPS 2025) trained from many initialisation seeds at once, by collocation and by
// sequential training, with each solver, in one run: quantiles of the train MSE (rollout from x(0)
// against the noise-free path on [0, 15]), the extrapolation MSE (from the true x(15) on
// [15, 30]), iterations, gradient evaluations and wall time per member, and how many members meet
// the paper's IPOPT figures (train ≤ 0.025, extrapolation ≤ 0.7).
//
// Collocation members also report their constraint residual's RMS and rounds.
//
//   gradflow_neural_ode_study [--members 64] [--only NAME] [--json out.json]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gradflow/gradflow.hpp"

namespace {

using namespace gradflow;

struct configuration {
  const char* name;
  formulation form;
  constraint_method constraints;
  method m;
  std::int64_t max_steps;  ///< per round (collocation) or in all (sequential)
  double dt;               ///< NaN: training's default
};

std::vector<configuration> configurations() {
  const double by_default = std::nan("");
  return {
      {"collocation, augmented Lagrangian, linearly implicit (LM)", formulation::collocation,
       constraint_method::augmented_lagrangian, method::linearly_implicit, 500, by_default},
      {"collocation, penalty, linearly implicit (LM)", formulation::collocation,
       constraint_method::penalty, method::linearly_implicit, 500, by_default},
      {"collocation, augmented Lagrangian, L-BFGS", formulation::collocation,
       constraint_method::augmented_lagrangian, method::lbfgs, 2000, by_default},
      {"collocation, augmented Lagrangian, Adam lr 1e-2", formulation::collocation,
       constraint_method::augmented_lagrangian, method::adam, 2000, 1e-2},
      {"collocation, augmented Lagrangian, gradient flow (Tsit5 + PI)", formulation::collocation,
       constraint_method::augmented_lagrangian, method::tsit5, 2000, by_default},
      {"sequential (RK4 + discrete adjoint), Adam lr 1e-2", formulation::sequential,
       constraint_method::augmented_lagrangian, method::adam, 3000, 1e-2},
      {"sequential (RK4 + discrete adjoint), L-BFGS", formulation::sequential,
       constraint_method::augmented_lagrangian, method::lbfgs, 1000, by_default},
  };
}

/// The q-quantile by linear interpolation between order statistics.
double quantile(std::vector<double> values, double q) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const double position = q * double(values.size() - 1);
  const std::size_t below = std::size_t(position);
  const std::size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (position - double(below)) * (values[above] - values[below]);
}

/// A JSON number, or null for what JSON cannot hold (a failed rollout's ∞).
std::string number(double value) {
  if (!std::isfinite(value)) return "null";
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

std::string quantiles_json(const std::vector<double>& values) {
  return "{\"min\": " + number(quantile(values, 0)) + ", \"q25\": " + number(quantile(values, 0.25)) +
         ", \"median\": " + number(quantile(values, 0.5)) + ", \"q75\": " +
         number(quantile(values, 0.75)) + ", \"max\": " + number(quantile(values, 1)) + "}";
}

}  // namespace

int main(int argc, char** argv) {
  int members = 64;
  std::string json_path, only;
  for (int a = 1; a < argc; ++a) {
    if (!std::strcmp(argv[a], "--members") && a + 1 < argc) members = std::atoi(argv[++a]);
    else if (!std::strcmp(argv[a], "--json") && a + 1 < argc) json_path = argv[++a];
    else if (!std::strcmp(argv[a], "--only") && a + 1 < argc) only = argv[++a];
    else {
      std::fprintf(stderr, "usage: %s [--members N] [--only NAME] [--json out.json]\n", argv[0]);
      return 2;
    }
  }
  const van_der_pol_data data = van_der_pol({});
  std::string json = "{\n  \"study\": \"Van der Pol (mu = A = omega = 1), 200 Chebyshev samples on "
                     "[0, 15], sigma = 0.1, NN [2, 32, 2] tanh, lambda = 1e-3\",\n";
  json += "  \"members\": " + std::to_string(members) + ",\n  \"threads\": " +
          std::to_string(std::thread::hardware_concurrency()) + ",\n  \"runs\": [\n";
  std::printf("%-55s %8s %8s %8s %8s %6s %7s %8s\n", "configuration", "train50", "test50",
              "iter50", "grads50", "ok", "s/memb", "wall");
  bool first_run = true;
  for (const configuration& c : configurations()) {
    if (!only.empty() && std::string(c.name).find(only) == std::string::npos) continue;
    training_spec spec;
    spec.series.push_back({data.noisy, data.clean, data.test});
    for (int s = 0; s < members; ++s) {
      training_member member;
      member.seed = std::uint64_t(s);
      spec.members.push_back(member);
    }
    spec.form = c.form;
    spec.constraints = c.constraints;
    spec.solver.method = c.m;
    spec.solver.max_steps = c.max_steps;
    spec.solver.backend = backend_kind::cpu;
    if (!std::isnan(c.dt)) spec.solver.dt = c.dt;
    const training_result result = train(spec);
    std::vector<double> train_mse, test_mse, iterations, gradients, constraint, rounds;
    int within = 0, converged = 0;
    for (const trained_member& m : result.members) {
      train_mse.push_back(m.train_mse);
      test_mse.push_back(m.test_mse);
      iterations.push_back(double(m.iterations));
      gradients.push_back(double(m.gradient_evaluations));
      constraint.push_back(m.constraint);
      rounds.push_back(double(m.rounds));
      if (m.train_mse <= 0.025 && m.test_mse <= 0.7) ++within;
      if (m.outcome == status::converged) ++converged;
    }
    const double per_member = result.wall_seconds / members;
    std::printf("%-55s %8.4f %8.3f %8.0f %8.0f %3d/%-3d %7.3f %8.1f\n", c.name,
                quantile(train_mse, 0.5), quantile(test_mse, 0.5), quantile(iterations, 0.5),
                quantile(gradients, 0.5), within, members, per_member, result.wall_seconds);
    std::fflush(stdout);
    json += std::string(first_run ? "" : ",\n") + "    {\"name\": \"" + c.name +
            "\", \"method\": \"" + std::string(to_string(c.m)) + "\", \"max_steps\": " +
            std::to_string(c.max_steps) + ", \"wall_seconds\": " +
            std::to_string(result.wall_seconds) + ", \"seconds_per_member\": " +
            std::to_string(per_member) + ", \"within_paper_figures\": " + std::to_string(within) +
            ", \"converged\": " + std::to_string(converged) + ",\n     \"train_mse\": " +
            quantiles_json(train_mse) + ",\n     \"test_mse\": " + quantiles_json(test_mse) +
            ",\n     \"iterations\": " + quantiles_json(iterations) +
            ",\n     \"gradient_evaluations\": " + quantiles_json(gradients) +
            ",\n     \"constraint_rms\": " + quantiles_json(constraint) +
            ",\n     \"rounds\": " + quantiles_json(rounds) + "}";
    first_run = false;
  }
  json += "\n  ]\n}\n";
  if (!json_path.empty()) std::ofstream(json_path) << json;
  return 0;
}
