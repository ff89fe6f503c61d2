#include "gradflow/mgh.hpp"

#include <cmath>
#include <limits>
#include <utility>

#include "gradflow/error.hpp"

namespace gradflow::mgh {
namespace {

constexpr double unpublished = std::numeric_limits<double>::quiet_NaN();

// Sizes, starting points and minima as published (MGH 1981, §3); m of the problems with a choice
// as there: Jennrich–Sampson 10, Gulf 99, Box 3-D 10, Brown–Dennis 20, Biggs EXP6 13.
const std::vector<problem_info>& fixed_size_problems() {
  static const std::vector<problem_info> problems = {
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
  };
  return problems;
}

/// The paper's minimum of a variable-size problem at n, where it gives one.
double published_minimum(problem id, int n) {
  switch (id) {
    case problem::watson:
      return n == 6 ? 2.28767e-3 : n == 9 ? 1.39976e-6 : n == 12 ? 4.72238e-10 : unpublished;
    case problem::penalty_1:
      return n == 4 ? 2.24997e-5 : n == 10 ? 7.08765e-5 : unpublished;
    case problem::penalty_2:
      return n == 4 ? 9.37629e-6 : n == 10 ? 2.93660e-4 : unpublished;
    case problem::chebyquad:
      return n == 8 ? 3.51687e-3 : n == 10 ? 6.50395e-3 : (n <= 7 || n == 9) ? 0 : unpublished;
    default:  // extended Rosenbrock and Powell, variably dimensioned, trigonometric
      return 0;
  }
}

/// The problems of variable size, each at the first size test_set uses (its default by name).
const std::vector<std::pair<problem, int>>& variable_size_problems() {
  static const std::vector<std::pair<problem, int>> problems = {{problem::extended_rosenbrock, 8},
                                                                {problem::extended_powell, 8},
                                                                {problem::watson, 6},
                                                                {problem::penalty_1, 4},
                                                                {problem::penalty_2, 4},
                                                                {problem::variably_dimensioned, 10},
                                                                {problem::trigonometric, 10},
                                                                {problem::chebyquad, 8}};
  return problems;
}

std::string invalid_size(const char* name, int n, const char* rule) {
  return std::string("invalid unknowns = ") + std::to_string(n) + " for " + name + ": " + rule;
}

}  // namespace

problem_info sized(problem id, int n) {
  for (const auto& info : fixed_size_problems()) {
    if (info.function.id != id) continue;
    if (n != info.function.unknowns)
      throw invalid_argument(invalid_size(info.name.c_str(), n, "its size is fixed at ") +
                             std::to_string(info.function.unknowns));
    return info;
  }
  if (n < 1 || n > max_unknowns)
    throw invalid_argument("invalid unknowns = " + std::to_string(n) + ": must be in [1, " +
                           std::to_string(max_unknowns) + "]");
  problem_info info;
  info.function = {id, n, n};
  info.f_min = published_minimum(id, n);
  info.start.resize(n);
  std::string name;
  switch (id) {
    case problem::extended_rosenbrock:
      if (n % 2 != 0)
        throw invalid_argument(invalid_size("extended_rosenbrock", n, "must be even"));
      name = "extended_rosenbrock";
      for (int j = 0; j < n; ++j) info.start[j] = j % 2 == 0 ? -1.2 : 1.0;
      break;
    case problem::extended_powell: {
      if (n % 4 != 0)
        throw invalid_argument(invalid_size("extended_powell", n, "must be a multiple of 4"));
      name = "extended_powell";
      const double block[4] = {3, -1, 0, 1};
      for (int j = 0; j < n; ++j) info.start[j] = block[j % 4];
      break;
    }
    case problem::watson:
      if (n < 2 || n > 31) throw invalid_argument(invalid_size("watson", n, "must be in [2, 31]"));
      name = "watson";
      info.function.residuals = 31;
      break;  // x0 = 0
    case problem::penalty_1:
      name = "penalty_1";
      info.function.residuals = n + 1;
      for (int j = 0; j < n; ++j) info.start[j] = j + 1;
      break;
    case problem::penalty_2:
      name = "penalty_2";
      info.function.residuals = 2 * n;
      for (int j = 0; j < n; ++j) info.start[j] = 0.5;
      break;
    case problem::variably_dimensioned:
      name = "variably_dimensioned";
      info.function.residuals = n + 2;
      for (int j = 0; j < n; ++j) info.start[j] = 1 - double(j + 1) / n;
      break;
    case problem::trigonometric:
      name = "trigonometric";
      for (int j = 0; j < n; ++j) info.start[j] = 1.0 / n;
      break;
    case problem::chebyquad:
      name = "chebyquad";
      for (int j = 0; j < n; ++j) info.start[j] = double(j + 1) / (n + 1);
      break;
    default:
      throw invalid_argument("invalid problem = " + std::to_string(int(id)) + ": not in the set");
  }
  info.name = name + "_" + std::to_string(n);
  return info;
}

problem_info named(std::string_view name, int unknowns) {
  for (const auto& info : fixed_size_problems())
    if (info.name == name)
      return sized(info.function.id, unknowns > 0 ? unknowns : info.function.unknowns);
  for (const auto& [id, size] : variable_size_problems())
    if (sized(id, size).name == std::string(name) + "_" + std::to_string(size))
      return sized(id, unknowns > 0 ? unknowns : size);
  std::string names;
  for (const auto& info : fixed_size_problems()) names += (names.empty() ? "" : ", ") + info.name;
  for (const auto& [id, size] : variable_size_problems()) {
    const std::string sized_name = sized(id, size).name;
    names += ", " + sized_name.substr(0, sized_name.rfind('_'));
  }
  throw invalid_argument("unknown MGH problem '" + std::string(name) + "': expected one of " +
                         names);
}

std::vector<problem_info> test_set(int extended_unknowns) {
  const int n = extended_unknowns;
  if (n < 4 || n > max_unknowns || n % 4 != 0)
    throw invalid_argument("invalid extended_unknowns = " + std::to_string(n) +
                           ": must be a multiple of 4 in [4, 64]");
  std::vector<problem_info> set = fixed_size_problems();
  for (const auto& [id, size] :
       std::vector<std::pair<problem, int>>{{problem::extended_rosenbrock, n},
                                            {problem::extended_powell, n},
                                            {problem::watson, 6},
                                            {problem::watson, 9},
                                            {problem::penalty_1, 4},
                                            {problem::penalty_1, 10},
                                            {problem::penalty_2, 4},
                                            {problem::penalty_2, 10},
                                            {problem::variably_dimensioned, 10},
                                            {problem::trigonometric, 10},
                                            {problem::chebyquad, 8}})
    set.push_back(sized(id, size));
  return set;
}

}  // namespace gradflow::mgh
