#pragma once
// The unconstrained test problems of Moré, Garbow & Hillstrom (ACM TOMS 7, 1981), numbered as
// there: each f(x) = Σ_i r_i(x)², written once as host + device residuals with their gradients,
// usable as an objective (gradflow/objective.hpp) with the published minima and standard starting
// points.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gradflow/detail/dual.hpp"
#include "gradflow/detail/host_device.hpp"
#include "gradflow/objective.hpp"
#include "gradflow/sweep.hpp"

namespace gradflow::mgh {

enum class problem : int {
  rosenbrock = 1,
  freudenstein_roth = 2,
  powell_badly_scaled = 3,
  brown_badly_scaled = 4,
  beale = 5,
  jennrich_sampson = 6,
  helical_valley = 7,
  bard = 8,
  gaussian = 9,
  meyer = 10,
  gulf = 11,
  box_3d = 12,
  powell_singular = 13,
  wood = 14,
  kowalik_osborne = 15,
  brown_dennis = 16,
  osborne_1 = 17,
  biggs_exp6 = 18,
  watson = 20,
  extended_rosenbrock = 21,
  extended_powell = 22,
  penalty_1 = 23,
  penalty_2 = 24,
  variably_dimensioned = 25,
  trigonometric = 26,
  chebyquad = 35,
};

/// The most unknowns a problem of the set takes here (a residual's row lives on the stack).
inline constexpr int max_unknowns = 64;

namespace detail {

/// r_i(x) of the problems whose size is n (0-based i); with `row`, also ∂r_i/∂x_j into
/// row[0 … n).
template <class Real>
GRADFLOW_HD Real variable_size_residual(problem id, int i, const Real* x, int n, Real* row) {
  using std::cos;
  using std::exp;
  using std::sin;
  using std::sqrt;
  if (row)
    for (int j = 0; j < n; ++j) row[j] = 0;
  Real r = 0;
  const Real root_a = sqrt(Real(1e-5));  // the penalty functions' weight a = 1e-5
  switch (id) {
    case problem::watson:
      if (i < 29) {
        // r = Σ_j (j−1) x_j t^(j−2) − (Σ_j x_j t^(j−1))² − 1 at t = i/29 (1-based i, j)
        const Real t = Real(i + 1) / 29;
        Real slope = 0, level = 0, power = 1;  // power = t^j
        for (int j = 0; j < n; ++j, power *= t) {
          level += x[j] * power;
          if (j > 0) slope += j * x[j] * power / t;
        }
        r = slope - level * level - 1;
        if (row) {
          power = 1;
          for (int j = 0; j < n; ++j, power *= t)
            row[j] = (j > 0 ? j * power / t : Real(0)) - 2 * level * power;
        }
      } else if (i == 29) {
        r = x[0];
        if (row) row[0] = 1;
      } else {
        r = x[1] - x[0] * x[0] - 1;
        if (row) row[0] = -2 * x[0], row[1] = 1;
      }
      return r;
    case problem::penalty_1:
      if (i < n) {
        r = root_a * (x[i] - 1);
        if (row) row[i] = root_a;
      } else {
        r = Real(-0.25);
        for (int j = 0; j < n; ++j) r += x[j] * x[j];
        if (row)
          for (int j = 0; j < n; ++j) row[j] = 2 * x[j];
      }
      return r;
    case problem::penalty_2:
      if (i == 0) {
        r = x[0] - Real(0.2);
        if (row) row[0] = 1;
      } else if (i < n) {
        const Real y = exp(Real(i + 1) / 10) + exp(Real(i) / 10);
        const Real a = exp(x[i] / 10), b = exp(x[i - 1] / 10);
        r = root_a * (a + b - y);
        if (row) row[i] = root_a * a / 10, row[i - 1] = root_a * b / 10;
      } else if (i < 2 * n - 1) {
        const int j = i - n + 1;
        const Real a = exp(x[j] / 10);
        r = root_a * (a - exp(Real(-0.1)));
        if (row) row[j] = root_a * a / 10;
      } else {
        r = -1;
        for (int j = 0; j < n; ++j) r += (n - j) * x[j] * x[j];
        if (row)
          for (int j = 0; j < n; ++j) row[j] = 2 * (n - j) * x[j];
      }
      return r;
    case problem::variably_dimensioned: {
      if (i < n) {
        if (row) row[i] = 1;
        return x[i] - 1;
      }
      Real weighted = 0;  // Σ_j j (x_j − 1), 1-based j
      for (int j = 0; j < n; ++j) weighted += (j + 1) * (x[j] - 1);
      const Real scale = i == n ? Real(1) : 2 * weighted;
      if (row)
        for (int j = 0; j < n; ++j) row[j] = scale * (j + 1);
      return i == n ? weighted : weighted * weighted;
    }
    case problem::trigonometric: {
      // r_i = n − Σ_j cos x_j + i (1 − cos x_i) − sin x_i, 1-based i
      Real cosines = 0;
      for (int j = 0; j < n; ++j) cosines += cos(x[j]);
      r = n - cosines + (i + 1) * (1 - cos(x[i])) - sin(x[i]);
      if (row) {
        for (int j = 0; j < n; ++j) row[j] = sin(x[j]);
        row[i] += (i + 1) * sin(x[i]) - cos(x[i]);
      }
      return r;
    }
    case problem::chebyquad: {
      // r_i = (1/n) Σ_j T_i(2x_j − 1) − ∫_0^1 T_i(2s − 1) ds, the integral −1/(i² − 1) for even i
      const int degree = i + 1;
      for (int j = 0; j < n; ++j) {
        const Real y = 2 * x[j] - 1;
        Real previous = 1, current = y, previous_slope = 0, current_slope = 1;  // T, T'
        for (int k = 1; k < degree; ++k) {
          const Real next = 2 * y * current - previous;
          const Real next_slope = 2 * current + 2 * y * current_slope - previous_slope;
          previous = current, current = next;
          previous_slope = current_slope, current_slope = next_slope;
        }
        r += current / n;
        if (row) row[j] = 2 * current_slope / n;
      }
      if (degree % 2 == 0) r += Real(1) / (degree * degree - 1);
      return r;
    }
    default:
      return r;
  }
}

/// r_i(x) of problem `id` (0-based i); with `row`, also ∂r_i/∂x_j into row[0 … n) (zeroed first).
template <class Real>
GRADFLOW_HD Real residual(problem id, int i, const Real* x, int n, Real* row) {
  using std::atan;
  using std::cos;
  using std::exp;
  using std::fabs;
  using std::log;
  using std::pow;
  using std::sin;
  using std::sqrt;
  Real d[8] = {};  // ∂r_i/∂x_j for the problems with n ≤ 6; the extended ones write `row` directly
  Real r = 0;
  const int k = i + 1;  // MGH's 1-based index
  const Real pi = Real(3.14159265358979323846);
  switch (id) {
    case problem::watson:
    case problem::penalty_1:
    case problem::penalty_2:
    case problem::variably_dimensioned:
    case problem::trigonometric:
    case problem::chebyquad:
      return variable_size_residual(id, i, x, n, row);
    case problem::rosenbrock:
    case problem::extended_rosenbrock: {
      const int p = 2 * (i / 2);
      if (row)
        for (int j = 0; j < n; ++j) row[j] = 0;
      if (i % 2 == 0) {
        r = 10 * (x[p + 1] - x[p] * x[p]);
        if (row) row[p] = -20 * x[p], row[p + 1] = 10;
      } else {
        r = 1 - x[p];
        if (row) row[p] = -1;
      }
      return r;
    }
    case problem::powell_singular:
    case problem::extended_powell: {
      const int b = 4 * (i / 4);
      const Real* y = x + b;
      if (row)
        for (int j = 0; j < n; ++j) row[j] = 0;
      Real* g = row ? row + b : d;
      const Real root5 = sqrt(Real(5)), root10 = sqrt(Real(10));
      switch (i % 4) {
        case 0:
          r = y[0] + 10 * y[1], g[0] = 1, g[1] = 10;
          break;
        case 1:
          r = root5 * (y[2] - y[3]), g[2] = root5, g[3] = -root5;
          break;
        case 2:
          r = (y[1] - 2 * y[2]) * (y[1] - 2 * y[2]);
          g[1] = 2 * (y[1] - 2 * y[2]), g[2] = -4 * (y[1] - 2 * y[2]);
          break;
        default:
          r = root10 * (y[0] - y[3]) * (y[0] - y[3]);
          g[0] = 2 * root10 * (y[0] - y[3]), g[3] = -2 * root10 * (y[0] - y[3]);
          break;
      }
      return r;
    }
    case problem::freudenstein_roth:
      if (i == 0) {
        r = -13 + x[0] + ((5 - x[1]) * x[1] - 2) * x[1];
        d[0] = 1, d[1] = 10 * x[1] - 3 * x[1] * x[1] - 2;
      } else {
        r = -29 + x[0] + ((x[1] + 1) * x[1] - 14) * x[1];
        d[0] = 1, d[1] = 3 * x[1] * x[1] + 2 * x[1] - 14;
      }
      break;
    case problem::powell_badly_scaled:
      if (i == 0) {
        r = Real(1e4) * x[0] * x[1] - 1, d[0] = Real(1e4) * x[1], d[1] = Real(1e4) * x[0];
      } else {
        r = exp(-x[0]) + exp(-x[1]) - Real(1.0001);
        d[0] = -exp(-x[0]), d[1] = -exp(-x[1]);
      }
      break;
    case problem::brown_badly_scaled:
      if (i == 0) r = x[0] - Real(1e6), d[0] = 1;
      if (i == 1) r = x[1] - Real(2e-6), d[1] = 1;
      if (i == 2) r = x[0] * x[1] - 2, d[0] = x[1], d[1] = x[0];
      break;
    case problem::beale: {
      const Real y[3] = {Real(1.5), Real(2.25), Real(2.625)};
      const Real power = pow(x[1], Real(k));
      r = y[i] - x[0] * (1 - power);
      d[0] = -(1 - power), d[1] = x[0] * k * pow(x[1], Real(k - 1));
      break;
    }
    case problem::jennrich_sampson:
      r = 2 + 2 * Real(k) - (exp(k * x[0]) + exp(k * x[1]));
      d[0] = -k * exp(k * x[0]), d[1] = -k * exp(k * x[1]);
      break;
    case problem::helical_valley: {
      const Real radius_sq = x[0] * x[0] + x[1] * x[1];
      const Real radius = sqrt(radius_sq);
      if (i == 0) {
        const Real theta = atan(x[1] / x[0]) / (2 * pi) + (x[0] < 0 ? Real(0.5) : Real(0));
        r = 10 * (x[2] - 10 * theta);
        d[0] = 100 * x[1] / (2 * pi * radius_sq), d[1] = -100 * x[0] / (2 * pi * radius_sq);
        d[2] = 10;
      } else if (i == 1) {
        r = 10 * (radius - 1), d[0] = 10 * x[0] / radius, d[1] = 10 * x[1] / radius;
      } else {
        r = x[2], d[2] = 1;
      }
      break;
    }
    case problem::bard: {
      const Real y[15] = {Real(0.14), Real(0.18), Real(0.22), Real(0.25), Real(0.29),
                          Real(0.32), Real(0.35), Real(0.39), Real(0.37), Real(0.58),
                          Real(0.73), Real(0.96), Real(1.34), Real(2.10), Real(4.39)};
      const Real u = Real(k), v = Real(16 - k), w = u < v ? u : v;
      const Real denominator = v * x[1] + w * x[2];
      r = y[i] - (x[0] + u / denominator);
      d[0] = -1, d[1] = u * v / (denominator * denominator);
      d[2] = u * w / (denominator * denominator);
      break;
    }
    case problem::gaussian: {
      const Real y[15] = {Real(0.0009), Real(0.0044), Real(0.0175), Real(0.0540), Real(0.1295),
                          Real(0.2420), Real(0.3521), Real(0.3989), Real(0.3521), Real(0.2420),
                          Real(0.1295), Real(0.0540), Real(0.0175), Real(0.0044), Real(0.0009)};
      const Real t = Real(8 - k) / 2, offset = t - x[2];
      const Real e = exp(-x[1] * offset * offset / 2);
      r = x[0] * e - y[i];
      d[0] = e, d[1] = -x[0] * e * offset * offset / 2, d[2] = x[0] * e * x[1] * offset;
      break;
    }
    case problem::meyer: {
      const Real y[16] = {34780, 28610, 23650, 19630, 16370, 13720, 11540, 9744,
                          8261,  7030,  6005,  5147,  4427,  3820,  3307,  2872};
      const Real shifted = 45 + 5 * Real(k) + x[2];
      const Real e = exp(x[1] / shifted);
      r = x[0] * e - y[i];
      d[0] = e, d[1] = x[0] * e / shifted, d[2] = -x[0] * e * x[1] / (shifted * shifted);
      break;
    }
    case problem::gulf: {
      const Real t = Real(k) / 100;
      const Real y = 25 + pow(-50 * log(t), Real(2) / 3);
      const Real gap = x[1] - y, distance = fabs(gap);
      const Real power = pow(distance, x[2]);
      const Real e = exp(-power / x[0]);
      r = e - t;
      d[0] = e * power / (x[0] * x[0]), d[1] = -e * x[2] * power / (x[0] * gap);
      d[2] = -e * power * log(distance) / x[0];
      break;
    }
    case problem::box_3d: {
      const Real t = Real(k) / 10;
      const Real a = exp(-t * x[0]), b = exp(-t * x[1]);
      const Real c = exp(-t) - exp(-10 * t);
      r = a - b - x[2] * c;
      d[0] = -t * a, d[1] = t * b, d[2] = -c;
      break;
    }
    case problem::wood: {
      const Real root90 = sqrt(Real(90)), root10 = sqrt(Real(10));
      switch (i) {
        case 0:
          r = 10 * (x[1] - x[0] * x[0]), d[0] = -20 * x[0], d[1] = 10;
          break;
        case 1:
          r = 1 - x[0], d[0] = -1;
          break;
        case 2:
          r = root90 * (x[3] - x[2] * x[2]), d[2] = -2 * root90 * x[2], d[3] = root90;
          break;
        case 3:
          r = 1 - x[2], d[2] = -1;
          break;
        case 4:
          r = root10 * (x[1] + x[3] - 2), d[1] = root10, d[3] = root10;
          break;
        default:
          r = (x[1] - x[3]) / root10, d[1] = 1 / root10, d[3] = -1 / root10;
          break;
      }
      break;
    }
    case problem::kowalik_osborne: {
      const Real y[11] = {Real(0.1957), Real(0.1947), Real(0.1735), Real(0.1600),
                          Real(0.0844), Real(0.0627), Real(0.0456), Real(0.0342),
                          Real(0.0323), Real(0.0235), Real(0.0246)};
      const Real u[11] = {Real(4),      Real(2),      Real(1),     Real(0.5),
                          Real(0.25),   Real(0.167),  Real(0.125), Real(0.1),
                          Real(0.0833), Real(0.0714), Real(0.0625)};
      const Real numerator = u[i] * u[i] + u[i] * x[1];
      const Real denominator = u[i] * u[i] + u[i] * x[2] + x[3];
      r = y[i] - x[0] * numerator / denominator;
      d[0] = -numerator / denominator, d[1] = -x[0] * u[i] / denominator;
      d[2] = x[0] * numerator * u[i] / (denominator * denominator);
      d[3] = x[0] * numerator / (denominator * denominator);
      break;
    }
    case problem::brown_dennis: {
      const Real t = Real(k) / 5;
      const Real a = x[0] + t * x[1] - exp(t);
      const Real b = x[2] + x[3] * sin(t) - cos(t);
      r = a * a + b * b;
      d[0] = 2 * a, d[1] = 2 * a * t, d[2] = 2 * b, d[3] = 2 * b * sin(t);
      break;
    }
    case problem::osborne_1: {
      const Real y[33] = {
          Real(0.844), Real(0.908), Real(0.932), Real(0.936), Real(0.925), Real(0.908), Real(0.881),
          Real(0.850), Real(0.818), Real(0.784), Real(0.751), Real(0.718), Real(0.685), Real(0.658),
          Real(0.628), Real(0.603), Real(0.580), Real(0.558), Real(0.538), Real(0.522), Real(0.506),
          Real(0.490), Real(0.478), Real(0.467), Real(0.457), Real(0.448), Real(0.438), Real(0.431),
          Real(0.424), Real(0.420), Real(0.414), Real(0.411), Real(0.406)};
      const Real t = 10 * Real(i);
      const Real a = exp(-t * x[3]), b = exp(-t * x[4]);
      r = y[i] - (x[0] + x[1] * a + x[2] * b);
      d[0] = -1, d[1] = -a, d[2] = -b, d[3] = x[1] * t * a, d[4] = x[2] * t * b;
      break;
    }
    case problem::biggs_exp6: {
      const Real t = Real(k) / 10;
      const Real y = exp(-t) - 5 * exp(-10 * t) + 3 * exp(-4 * t);
      const Real a = exp(-t * x[0]), b = exp(-t * x[1]), c = exp(-t * x[4]);
      r = x[2] * a - x[3] * b + x[5] * c - y;
      d[0] = -t * x[2] * a, d[1] = t * x[3] * b, d[2] = a, d[3] = -b, d[4] = -t * x[5] * c;
      d[5] = c;
      break;
    }
  }
  if (row)
    for (int j = 0; j < n; ++j) row[j] = d[j];
  return r;
}

}  // namespace detail

/// One problem of the set as an objective f = Σ_i r_i² over n unknowns and m residuals.
struct objective {
  problem id = problem::rosenbrock;
  int unknowns = 2;
  int residuals = 2;

  template <class Real>
  GRADFLOW_HD Real value(const Real* x) const {
    Real sum = 0;
    for (int i = 0; i < residuals; ++i) {
      const Real r = detail::residual<Real>(id, i, x, unknowns, nullptr);
      sum += r * r;
    }
    return sum;
  }

  /// ∇f = 2 Jᵀ r, one residual's row at a time.
  template <class Real>
  GRADFLOW_HD void gradient(const Real* x, Real* g) const {
    Real row[max_unknowns];
    for (int j = 0; j < unknowns; ++j) g[j] = 0;
    for (int i = 0; i < residuals; ++i) {
      const Real r = detail::residual<Real>(id, i, x, unknowns, row);
      for (int j = 0; j < unknowns; ++j) g[j] += 2 * r * row[j];
    }
  }

  /// product = ∇²f(x)·direction, exact: the analytic gradient differentiated along `direction`
  /// in forward mode (gradflow/detail/dual.hpp), about the cost of two gradients.
  template <class Real>
  GRADFLOW_HD void hessian_times(const Real* x, const Real* direction, Real* product) const {
    using number = gradflow::detail::dual<Real>;
    number point[max_unknowns], g[max_unknowns];
    for (int j = 0; j < unknowns; ++j) point[j] = number(x[j], direction[j]);
    gradient(point, g);
    for (int j = 0; j < unknowns; ++j) product[j] = g[j].slope;
  }
};

/// A problem with what the paper publishes about it.
struct problem_info {
  std::string name;  ///< the paper's name; problems of variable size end in _n
  objective function;
  std::vector<double> start;  ///< the standard starting point x0 (the set also uses 10·x0, 100·x0)
  double f_min = 0;  ///< the published minimum value; NaN where none is published for this n
};

/// Problem `id` at `unknowns` unknowns (the fixed-size problems only at their own size) with its
/// standard start and published minimum. Throws invalid_argument naming unknowns when the problem
/// is not defined at that size (extended Rosenbrock: even; extended Powell: a multiple of 4;
/// Watson: 2 … 31; every problem: at most max_unknowns).
problem_info sized(problem id, int unknowns);

/// The problem called `name` (problem_info::name without a size suffix: "rosenbrock", "watson")
/// at `unknowns` unknowns, or at its own size (fixed-size problems) or test_set's first size
/// (variable-size ones) when `unknowns` is 0. Throws invalid_argument listing the names for an
/// unknown name, and as `sized` for a size the problem does not take.
problem_info named(std::string_view name, int unknowns = 0);

/// The set: problems 1–18 at their fixed sizes; extended Rosenbrock and extended Powell singular
/// at `extended_unknowns` (a multiple of 4 in [4, 64]); and the variable-size problems of TOMS
/// Algorithm 566 at the sizes whose minima the paper publishes: Watson n = 6, 9; Penalty I and II
/// n = 4, 10; variably dimensioned and trigonometric n = 10; Chebyquad n = 8.
std::vector<problem_info> test_set(int extended_unknowns = 8);

/// solve_objectives on a batch of the set's problems (one n for the batch), compiled into
/// libgradflow: the GPU path — one CUDA thread per problem — is there whenever the library was
/// built with CUDA, so callers need no nvcc. Backend, path, errors and results as for
/// solve_objectives.
solve_result<double> solve(const objective_batch<objective, double>& batch,
                           const solve_options& options);

/// sweep_objectives (gradflow/objective_sweep.hpp) on the set's problems, compiled into libgradflow
/// like `solve`.
sweep_result sweep(const objective_batch<objective, double>& problems, const sweep_spec& spec,
                   std::int64_t first, std::int64_t count, solver_context& context);

}  // namespace gradflow::mgh
