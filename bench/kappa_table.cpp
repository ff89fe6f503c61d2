// The κ-table: gradient evaluations per e-fold of error on quadratics with κ = 10², 10⁴, 10⁶, for
// the flows, the stabilised and linearly implicit methods and the classic baselines, measured
// beside what each method's rate predicts.
//
//   gradflow_kappa_table [--quick] [--json out.json]
//
// Problems: f(u) = ½‖A u − b‖² with A = diag(√λ), λ log-uniform in [1/κ, 1] (both ends included),
// so L = 1 and μ = 1/κ exactly; n = 100, four random spectra per κ, U0 uniform in [0, 1). The
// asymptotic rate is measured between a 10³ and a 10⁸ reduction of ‖∇f‖ (two solves): evaluations
// spent between them over ln(10⁵) e-folds, the mean over the problems. A method that does not get
// there within its budget is reported as "> budget".
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gradflow/detail/chebyshev_step.hpp"
#include "gradflow/detail/tableau.hpp"
#include "gradflow/gradflow.hpp"

namespace {

using namespace gradflow;

constexpr int unknowns = 100;
constexpr std::int64_t spectra = 4;

least_squares_batch<double> quadratics(double condition, std::uint64_t seed) {
  least_squares_batch<double> batch;
  batch.batch_size = spectra;
  batch.rows = batch.unknowns = unknowns;
  batch.rhs_count = 1;
  batch.matrix.assign(spectra * unknowns * unknowns, 0.0);
  batch.rhs.resize(spectra * unknowns);
  batch.initial.resize(spectra * unknowns);
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(0, 1);
  for (std::int64_t i = 0; i < spectra; ++i) {
    for (int j = 0; j < unknowns; ++j) {
      const double exponent = j == 0 ? 0 : j == 1 ? 1 : uniform(engine);
      const double root = std::pow(condition, -exponent / 2);  // √λ
      batch.matrix[(i * unknowns + j) * unknowns + j] = root;
      batch.rhs[i * unknowns + j] = root * uniform(engine);  // b = A u*
      batch.initial[i * unknowns + j] = uniform(engine);
    }
  }
  return batch;
}

struct entry {
  std::string name;
  std::function<void(solve_options&, double condition)> configure;
  std::function<double(double condition)> expected;  ///< evaluations per e-fold; NaN: none
};

/// Largest x with |R(−x)| ≤ 1 for the Runge–Kutta stability function R of `scheme` (bisection
/// after a scan), by applying the scheme to y′ = λy.
double rk_stability_length(const detail::tableau<double>& scheme) {
  const auto amplification = [&](double z) {
    std::vector<double> k(scheme.stage_count);
    double y_new = 1;
    for (int stage = 0; stage < scheme.stage_count; ++stage) {
      double y = 1;
      for (int j = 0; j < stage; ++j) y += scheme.a[stage][j] * k[j];
      k[stage] = z * y;
      y_new = y;
    }
    return std::fabs(y_new);  // the FSAL row evaluates at the step's result
  };
  double x = 0;
  while (x < 50 && amplification(-(x + 0.01)) <= 1) x += 0.01;
  return x;
}

/// Evaluations per e-fold of the slowest mode for a step h·λ ∈ [h/κ, h] with amplification R,
/// `evaluations` per step: max over the spectrum of |R| on a fine log grid.
double predicted(double condition, double h, int evaluations,
                 const std::function<double(double)>& amplification) {
  double worst = 0;
  for (int p = 0; p <= 2000; ++p) {
    const double lambda = std::pow(condition, -double(p) / 2000);
    worst = std::max(worst, std::fabs(amplification(-h * lambda)));
  }
  return worst < 1 ? evaluations / -std::log(worst) : INFINITY;
}

double chebyshev_expected(method m, double damping, double condition) {
  const int s =
      std::max(m == method::rkc ? 2 : 1, int(std::ceil(std::sqrt(damping * (condition - 1) / 2))));
  const auto shape = detail::chebyshev_shape_for(m, s, damping);
  const auto at_omega0 = detail::chebyshev_at(s, shape.omega0);
  const double h = (1 + shape.omega0) / shape.omega1;
  return predicted(condition, h, s, [&](double z) {
    const auto t = detail::chebyshev_at(s, shape.omega0 + shape.omega1 * z);
    if (m == method::rkcd) return t.value / at_omega0.value;
    const double b = at_omega0.second / (at_omega0.first * at_omega0.first);
    return 1 - b * at_omega0.value + b * t.value;
  });
}

std::vector<entry> entries() {
  const double tsit5_length = rk_stability_length(detail::tsit5_tableau<double>());
  std::vector<entry> list;
  list.push_back({"gd (lr 2/(L+μ))",
                  [](solve_options& o, double k) {
                    o.method = method::gd;
                    o.dt = 2 / (1 + 1 / k);
                  },
                  [](double k) { return 1 / std::log((k + 1) / (k - 1)); }});
  list.push_back({"heavy ball (optimal lr, β)",
                  [](solve_options& o, double k) {
                    const double root = std::sqrt(k);
                    o.method = method::momentum;
                    o.dt = 4 / std::pow(1 + 1 / root, 2);
                    o.momentum = std::pow((root - 1) / (root + 1), 2);
                  },
                  [](double k) {
                    const double root = std::sqrt(k);
                    return 1 / std::log((root + 1) / (root - 1));
                  }});
  list.push_back({"nesterov (lr 1/L, β (√κ−1)/(√κ+1))",
                  [](solve_options& o, double k) {
                    const double root = std::sqrt(k);
                    o.method = method::nag;
                    o.dt = 1.0;
                    o.momentum = (root - 1) / (root + 1);
                  },
                  [](double k) { return 1 / -std::log(1 - 1 / std::sqrt(k)); }});
  list.push_back({"cg", [](solve_options& o, double) { o.method = method::cg; },
                  [](double k) {
                    const double root = std::sqrt(k);
                    return 1 / std::log((root + 1) / (root - 1));
                  }});
  list.push_back({"tsit5 + PI",
                  [](solve_options& o, double) {
                    o.method = method::tsit5;
                    o.rtol = 1e-10;
                    o.atol = 1e-12;
                  },
                  [tsit5_length](double k) { return 6 * k / tsit5_length; }});
  list.push_back({"tsit5 + SER",
                  [](solve_options& o, double) {
                    o.method = method::tsit5;
                    o.control = step_control::descent;
                  },
                  [tsit5_length](double k) { return 6 * k / tsit5_length; }});
  for (double eta : {0.05, 1.0, 5.0, 100.0}) {
    char name[32];
    std::snprintf(name, sizeof name, "rkcd η = %g", eta);
    list.push_back({name,
                    [eta](solve_options& o, double) {
                      o.method = method::rkcd;
                      o.eta = eta;
                    },
                    [eta](double k) { return chebyshev_expected(method::rkcd, eta, k); }});
  }
  list.push_back({"rkc (ε = 2/13)", [](solve_options& o, double) { o.method = method::rkc; },
                  [](double k) { return chebyshev_expected(method::rkc, 2.0 / 13, k); }});
  list.push_back({"linearly implicit Euler + SER",
                  [](solve_options& o, double) { o.method = method::linearly_implicit; },
                  [](double) { return NAN; }});
  list.push_back({"fire", [](solve_options& o, double) { o.method = method::fire; },
                  [](double) { return NAN; }});
  return list;
}

/// Mean evaluations per e-fold between a 10³ and a 10⁸ reduction of ‖∇f‖; NaN past the budget.
double measure(const entry& e, double condition, std::int64_t budget) {
  const auto batch = quadratics(condition, std::uint64_t(std::log10(condition)));
  double spent[2];
  int at = 0;
  for (double reduction : {1e-3, 1e-8}) {
    solve_options options;
    options.backend = backend_kind::cpu;
    options.rtol_grad = reduction;
    options.max_steps = budget;
    options.stall_window = 0;  // a rate is measured here, however slow: no stall test
    e.configure(options, condition);
    const auto result = solve(batch, options);
    if (result.summary.count(status::converged) != batch.batch_size) return NAN;
    spent[at++] = double(result.summary.gradient_evaluations) / double(batch.batch_size);
  }
  return (spent[1] - spent[0]) / std::log(1e5);
}

std::string cell(double value) {
  if (std::isnan(value)) return "> budget";
  if (std::isinf(value)) return "—";
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string json_path;
  for (int a = 1; a < argc; ++a) {
    if (std::strcmp(argv[a], "--quick") == 0) quick = true;
    if (std::strcmp(argv[a], "--json") == 0 && a + 1 < argc) json_path = argv[++a];
  }
  const std::vector<double> conditions =
      quick ? std::vector<double>{1e2} : std::vector<double>{1e2, 1e4, 1e6};
  std::string json = "{\"problems\": \"n = 100 diagonal quadratics, λ log-uniform in [1/κ, 1], " +
                     std::to_string(spectra) + " per κ\", \"rows\": [";
  std::printf("| method |");
  for (double k : conditions) std::printf(" κ = %.0e measured | expected |", k);
  std::printf("\n|---|");
  for (std::size_t c = 0; c < conditions.size(); ++c) std::printf("---|---|");
  std::printf("\n");
  bool first = true;
  for (const auto& e : entries()) {
    std::printf("| %s |", e.name.c_str());
    for (double k : conditions) {
      const std::int64_t budget = k > 1e5 ? 20000 : 200000;
      const double measured = measure(e, k, budget);
      const double expected = e.expected(k);
      std::printf(" %s | %s |", cell(measured).c_str(),
                  std::isnan(expected) ? "—" : cell(expected).c_str());
      std::fflush(stdout);
      json += std::string(first ? "" : ", ") + "{\"method\": \"" + e.name +
              "\", \"kappa\": " + std::to_string(k) +
              ", \"measured\": " + (std::isnan(measured) ? "null" : std::to_string(measured)) +
              ", \"expected\": " + (std::isfinite(expected) ? std::to_string(expected) : "null") +
              "}";
      first = false;
    }
    std::printf("\n");
  }
  json += "]}\n";
  if (!json_path.empty()) std::ofstream(json_path) << json;
  return 0;
}
