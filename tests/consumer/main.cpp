// Solves a small batch through libgradflow (installed, or built as a part of the consumer) and
// checks the answer against the known solution, then a batch of a user-defined objective (the
// README's example): exit 0 only if every problem converged to its minimiser.
#include <cmath>
#include <iostream>

#include <gradflow/gradflow.hpp>
#include <gradflow/objective.hpp>

/// f(x) = Σ_j w_j (x_j − 1)⁴ + (x_j − 1)²: minimum 0 at x = 1, the weights per problem.
struct quartic_bowl {
  double weight = 1;
  GRADFLOW_HD double value(const double* x) const {
    double sum = 0;
    for (int j = 0; j < 3; ++j) {
      const double d = x[j] - 1;
      sum += weight * d * d * d * d + d * d;
    }
    return sum;
  }
  GRADFLOW_HD void gradient(const double* x, double* g) const {
    for (int j = 0; j < 3; ++j) {
      const double d = x[j] - 1;
      g[j] = 4 * weight * d * d * d + 2 * d;
    }
  }
};

int main() {
  // f(u) = ½‖A u − b‖² with A = diag(1, 2), b = (1, 4): u* = (1, 2), for 3 copies.
  gradflow::least_squares_batch<double> batch;
  batch.batch_size = 3;
  batch.rows = 2;
  batch.unknowns = 2;
  batch.rhs_count = 1;
  batch.matrix = {1, 0, 0, 2};
  batch.rhs = {1, 4};
  gradflow::solve_options options;
  options.gtol = 1e-10;
  options.rtol = 1e-12;
  options.atol = 1e-14;
  const auto result = gradflow::solve(batch, options);
  std::cout << gradflow::describe(result.summary) << "\n";
  for (std::int64_t i = 0; i < 3; ++i) {
    if (result.outcome[i] != gradflow::status::converged) return 1;
    if (std::abs(result.solution[2 * i] - 1) > 1e-9 ||
        std::abs(result.solution[2 * i + 1] - 2) > 1e-9)
      return 1;
  }

  gradflow::objective_batch<quartic_bowl, double> bowls;
  bowls.unknowns = 3;
  bowls.problems = {{0.1}, {1.0}, {10.0}};
  bowls.initial.assign(9, -2.0);
  const auto flowed = gradflow::solve_objectives(bowls, options);  // Tsit5 on gradient flow
  std::cout << gradflow::describe(flowed.summary) << "\n";
  for (std::int64_t i = 0; i < 3; ++i) {
    if (flowed.outcome[i] != gradflow::status::converged) return 1;
    for (int j = 0; j < 3; ++j)
      if (std::abs(flowed.solution[3 * i + j] - 1) > 1e-6) return 1;
  }
  return 0;
}
