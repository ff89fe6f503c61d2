#include "gradflow/mgh.hpp"

#include "gradflow/error.hpp"

namespace gradflow::mgh {

std::vector<problem_info> test_set(int extended_unknowns) {
  const int n = extended_unknowns;
  if (n < 4 || n > 64 || n % 4 != 0)
    throw invalid_argument("invalid extended_unknowns = " + std::to_string(n) +
                           ": must be a multiple of 4 in [4, 64]");
  std::vector<double> rosenbrock_start, powell_start;
  for (int j = 0; j < n; j += 2) rosenbrock_start.insert(rosenbrock_start.end(), {-1.2, 1.0});
  for (int j = 0; j < n; j += 4) powell_start.insert(powell_start.end(), {3.0, -1.0, 0.0, 1.0});
  // Sizes, starting points and minima as published (MGH 1981, §3); m of the problems with a choice
  // as there: Jennrich–Sampson 10, Gulf 99, Box 3-D 10, Brown–Dennis 20, Biggs EXP6 13.
  return {
      {"rosenbrock", {problem::rosenbrock, 2, 2}, {-1.2, 1}, 0},
      {"freudenstein_roth", {problem::freudenstein_roth, 2, 2}, {0.5, -2}, 0},
      {"powell_badly_scaled", {problem::powell_badly_scaled, 2, 2}, {0, 1}, 0},
      {"brown_badly_scaled", {problem::brown_badly_scaled, 2, 3}, {1, 1}, 0},
      {"beale", {problem::beale, 2, 3}, {1, 1}, 0},
      {"jennrich_sampson", {problem::jennrich_sampson, 2, 10}, {0.3, 0.4}, 124.362},
      {"helical_valley", {problem::helical_valley, 3, 3}, {-1, 0, 0}, 0},
      {"bard", {problem::bard, 3, 15}, {1, 1, 1}, 8.21487e-3},
      {"gaussian", {problem::gaussian, 3, 15}, {0.4, 1, 0}, 1.12793e-8},
      {"meyer", {problem::meyer, 3, 16}, {0.02, 4000, 250}, 87.9458},
      {"gulf", {problem::gulf, 3, 99}, {5, 2.5, 0.15}, 0},
      {"box_3d", {problem::box_3d, 3, 10}, {0, 10, 20}, 0},
      {"powell_singular", {problem::powell_singular, 4, 4}, {3, -1, 0, 1}, 0},
      {"wood", {problem::wood, 4, 6}, {-3, -1, -3, -1}, 0},
      {"kowalik_osborne", {problem::kowalik_osborne, 4, 11}, {0.25, 0.39, 0.415, 0.39}, 3.07505e-4},
      {"brown_dennis", {problem::brown_dennis, 4, 20}, {25, 5, -5, -1}, 85822.2},
      {"osborne_1", {problem::osborne_1, 5, 33}, {0.5, 1.5, -1, 0.01, 0.02}, 5.46489e-5},
      {"biggs_exp6", {problem::biggs_exp6, 6, 13}, {1, 2, 1, 1, 1, 1}, 5.65565e-3},
      {"extended_rosenbrock", {problem::extended_rosenbrock, n, n}, rosenbrock_start, 0},
      {"extended_powell", {problem::extended_powell, n, n}, powell_start, 0},
  };
}

}  // namespace gradflow::mgh
