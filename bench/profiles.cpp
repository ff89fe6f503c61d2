// Dolan–Moré performance profiles and Moré–Wild data profiles of the methods on the
// Moré–Garbow–Hillstrom set, each problem from x0, 10·x0 and 100·x0.
//
//   gradflow_profiles [--budget EVALS] [--out DIR]
//
// A run's cost at tolerance τ is the number of gradient evaluations until the best f seen so far
// satisfies f0 − f ≥ (1 − τ)(f0 − f_best), f_best the lowest f any method reached on that problem
// and start (Moré & Wild 2009); never: infinite. Performance profile:
// ρ_s(α) = the fraction of problems whose cost is within α of the best method's. Data profile:
// d_s(κ) = the fraction solved within κ·(n + 1) evaluations. Writes
// DIR/performance_tau<τ>.csv and DIR/data_tau<τ>.csv (a column per method) for τ = 1e-3, 1e-7.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "gradflow/gradflow.hpp"
#include "gradflow/mgh.hpp"
#include "gradflow/objective.hpp"

namespace {

using namespace gradflow;

/// An MGH objective that records the best f seen after each gradient evaluation (each product
/// evaluates ∇f and f at one point; each Hessian-vector product counts as two); one history per
/// problem, written by its own thread only. Past `budget` evaluations every answer is NaN, which
/// stops the run (a Chebyshev step of thousands of stages would otherwise run on for hours).
struct recorded {
  mgh::objective function;
  std::vector<double>* best = nullptr;
  std::size_t budget = 0;

  bool spent() const { return best->size() >= budget; }
  double value(const double* x) const {
    if (spent()) return std::numeric_limits<double>::quiet_NaN();
    const double f = function.value(x);
    const double previous = best->empty() ? f : best->back();
    best->push_back(std::isnan(f) ? previous : std::min(previous, f));
    return f;
  }
  void gradient(const double* x, double* g) const {
    if (spent())
      std::fill(g, g + function.unknowns, std::numeric_limits<double>::quiet_NaN());
    else
      function.gradient(x, g);
  }
  /// A Hessian-vector product costs about two gradients (the solver counts it so): two entries at
  /// the best f so far.
  void hessian_times(const double* x, const double* v, double* product) const {
    if (spent()) {
      std::fill(product, product + function.unknowns, std::numeric_limits<double>::quiet_NaN());
      return;
    }
    function.hessian_times(x, v, product);
    const double previous = best->empty() ? function.value(x) : best->back();
    best->insert(best->end(), 2, previous);
  }
};

struct solver {
  std::string name;
  solve_options options;
};

std::vector<solver> solvers(std::int64_t budget) {
  const auto with = [budget](method m, step_control control, double dt) {
    solve_options o;
    o.method = m;
    o.control = control;
    if (dt > 0) o.dt = dt;
    o.rtol = 1e-10;
    o.atol = 1e-12;
    o.rtol_grad = 1e-12;
    o.max_steps = budget;
    return o;
  };
  auto newton_flow = with(method::tsit5, step_control::method_default, 0);
  newton_flow.dynamics = dynamics::newton;
  auto learned_flow_long = with(method::lgf, step_control::method_default, 1e-4);
  learned_flow_long.lgf_window = 25 + 1000;  // K = 25 true gd steps, jumps of 1000 steps of lr
  // Damped Newton (Euler on Newton flow, lr 0.5) and lgf over it at the paper's Newton setting
  // (K/M = 15/20, the quadratic library); linearly implicit Euler with a fixed step h = 1 and lgf
  // over it (K/M = 25/50).
  auto newton = with(method::euler, step_control::fixed, 0.5);
  newton.dynamics = dynamics::newton;
  auto learned_newton = with(method::lgf, step_control::method_default, 0.5);
  learned_newton.dynamics = dynamics::newton;
  learned_newton.lgf_record = 15;
  learned_newton.lgf_window = 20;
  learned_newton.lgf_degree = 2.0;
  // One step size for every method that needs one, untuned: the set's scales differ by decades.
  return {
      {"tsit5", with(method::tsit5, step_control::method_default, 0)},
      {"bs3", with(method::bs3, step_control::method_default, 0)},
      {"dp5", with(method::dp5, step_control::method_default, 0)},
      {"tsit5+descent", with(method::tsit5, step_control::descent, 1e-4)},
      {"euler+descent", with(method::euler, step_control::descent, 1e-4)},
      {"linearly_implicit", with(method::linearly_implicit, step_control::method_default, 1e-2)},
      {"newton_flow", newton_flow},
      {"newton", newton},
      {"lgf_newton", learned_newton},
      {"linearly_implicit_h1", with(method::linearly_implicit, step_control::fixed, 1)},
      {"lgf_implicit", with(method::lgf_implicit, step_control::method_default, 1)},
      {"rkcd", with(method::rkcd, step_control::method_default, 0)},
      {"fire", with(method::fire, step_control::method_default, 1e-3)},
      {"fire2", with(method::fire2, step_control::method_default, 1e-3)},
      {"nag", with(method::nag, step_control::method_default, 1e-4)},
      {"adam", with(method::adam, step_control::method_default, 1e-2)},
      {"lgf_adam", with(method::lgf_adam, step_control::method_default, 1e-2)},
      {"lbfgs", with(method::lbfgs, step_control::method_default, 1e-4)},
      {"lgf", with(method::lgf, step_control::method_default, 1e-4)},
      {"lgf_long", learned_flow_long},
      {"gd", with(method::gd, step_control::method_default, 1e-4)}};
}

struct instance {
  std::string name;
  int unknowns;
  double f0;
  std::vector<std::vector<double>> best;  ///< per solver: best f after each evaluation
};

std::vector<instance> run_all(const std::vector<solver>& list, std::int64_t budget) {
  std::vector<instance> instances;
  for (const auto& info : mgh::test_set()) {
    for (double scale : {1.0, 10.0, 100.0}) {
      instance current{
          info.name + " x" + std::to_string(int(scale)), info.function.unknowns, 0, {}};
      std::vector<double> start = info.start;
      for (double& value : start) value *= scale;
      current.f0 = info.function.value(start.data());
      for (const auto& s : list) {
        std::vector<double> history;
        objective_batch<recorded, double> batch;
        batch.unknowns = info.function.unknowns;
        batch.problems = {{info.function, &history, std::size_t(budget)}};
        batch.initial = start;
        try {
          solve_objectives(batch, s.options);
        } catch (const error&) {
          history.clear();  // a run the method refuses counts as never solving
        }
        if (std::int64_t(history.size()) > budget) history.resize(budget);
        current.best.push_back(std::move(history));
      }
      instances.push_back(std::move(current));
    }
  }
  return instances;
}

/// Evaluations until f0 − f ≥ (1 − τ)(f0 − f_best); infinity if never.
std::vector<std::vector<double>> costs(const std::vector<instance>& instances, double tau) {
  std::vector<std::vector<double>> table;
  for (const auto& p : instances) {
    double lowest = p.f0;
    for (const auto& history : p.best)
      if (!history.empty()) lowest = std::min(lowest, history.back());
    std::vector<double> row;
    for (const auto& history : p.best) {
      double cost = std::numeric_limits<double>::infinity();
      for (std::size_t e = 0; e < history.size(); ++e) {
        if (p.f0 - history[e] >= (1 - tau) * (p.f0 - lowest)) {
          cost = double(e + 1);
          break;
        }
      }
      if (!(p.f0 > lowest)) cost = std::numeric_limits<double>::infinity();  // nobody moved
      row.push_back(cost);
    }
    table.push_back(row);
  }
  return table;
}

void write_profiles(const std::vector<solver>& list, const std::vector<instance>& instances,
                    double tau, const std::string& folder) {
  const auto table = costs(instances, tau);
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "%g", tau);
  std::ofstream performance(folder + "/performance_tau" + suffix + ".csv");
  std::ofstream data(folder + "/data_tau" + suffix + ".csv");
  performance << "alpha";
  data << "budget_simplex_gradients";
  for (const auto& s : list) performance << "," << s.name, data << "," << s.name;
  performance << "\n";
  data << "\n";
  const double count = double(table.size());
  for (double alpha = 1; alpha <= 1024; alpha *= std::pow(2.0, 0.25)) {
    performance << alpha;
    for (std::size_t s = 0; s < list.size(); ++s) {
      int within = 0;
      for (const auto& row : table) {
        double fastest = std::numeric_limits<double>::infinity();
        for (double c : row) fastest = std::min(fastest, c);
        if (std::isfinite(row[s]) && row[s] <= alpha * fastest) ++within;
      }
      performance << "," << within / count;
    }
    performance << "\n";
  }
  for (double kappa = 1; kappa <= 10000; kappa *= std::pow(10.0, 0.125)) {
    data << kappa;
    for (std::size_t s = 0; s < list.size(); ++s) {
      int solved = 0;
      for (std::size_t p = 0; p < table.size(); ++p)
        if (table[p][s] <= kappa * (instances[p].unknowns + 1)) ++solved;
      data << "," << solved / count;
    }
    data << "\n";
  }
  if (!performance.flush() || !data.flush()) {
    std::fprintf(stderr, "gradflow_profiles: cannot write the profiles into '%s'\n",
                 folder.c_str());
    std::exit(2);
  }
  std::printf("τ = %g: solved (of %zu)", tau, table.size());
  for (std::size_t s = 0; s < list.size(); ++s) {
    int solved = 0;
    for (const auto& row : table) solved += std::isfinite(row[s]);
    std::printf(", %s %d", list[s].name.c_str(), solved);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t budget = 20000;
  std::string folder = ".";
  for (int a = 1; a + 1 < argc; ++a) {
    if (std::strcmp(argv[a], "--budget") == 0)
      budget = std::atoll(argv[++a]);
    else if (std::strcmp(argv[a], "--out") == 0)
      folder = argv[++a];
  }
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (!std::filesystem::is_directory(folder)) {
    std::fprintf(stderr, "gradflow_profiles: cannot create --out '%s'\n", folder.c_str());
    return 2;
  }
  const auto list = solvers(budget);
  const auto instances = run_all(list, budget);
  for (double tau : {1e-3, 1e-7}) write_profiles(list, instances, tau, folder);
  return 0;
}
