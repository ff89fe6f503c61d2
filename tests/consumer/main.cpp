// Solves a small batch through the installed libgradflow and checks the answer against the known
// solution: exit 0 only if every problem converged to it.
#include <cmath>
#include <iostream>

#include <gradflow/gradflow.hpp>

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
  return 0;
}
