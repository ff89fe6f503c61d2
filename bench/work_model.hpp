#pragma once
// What a solve had to do, counted from its result, for the benchmark counters: the arithmetic and
// the fewest bytes of its products G·X, step percentiles and wasted work.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "gradflow/detail/tableau.hpp"
#include "gradflow/methods.hpp"
#include "gradflow/result.hpp"

namespace gradflow::bench {

/// One product G·X (n×n by n×k) is 2n²k flops; its fewest bytes read G and X and write P once.
/// The per-problem vector updates between products grow only as n·k and are left out of both.
inline double product_flops(int n, int k) { return 2.0 * n * n * k; }
inline double product_bytes(int n, int k, int real_bytes) {
  return double(real_bytes) * (double(n) * n + 2.0 * n * k);
}

/// Every flop of one attempted step of an explicit Runge–Kutta method on gradient flow of a least
/// squares problem (len = n·k), as the fused path executes it (comparisons, |·| and selects not
/// counted; s stages in FSAL form, s − 1 evaluations per step):
///   each evaluation: G·X − C, 2n²k + len; ‖∇f‖², 2·len
///   each nonzero a_{stage,j} of the stage inputs: 2·len
///   the error estimate (adaptive): per element Σ_j (b_j − b̂_j)K_j, 2s; ·h, ·rtol, +atol, ÷, ², +,
///   6; per step ÷ len and √, 2.
/// Tsit5 at the seed size (n = 5, k = 2): 780 + 420 + 202 = 1402, of which 600 are the products.
inline double runge_kutta_step_flops(method m, int n, int k) {
  const auto t = detail::tableau_for<double>(info_of(m).tableau);
  const double len = double(n) * k;
  double nonzero = 0;
  for (int stage = 1; stage < t.stage_count; ++stage)
    for (int j = 0; j < stage; ++j) nonzero += t.a[stage][j] != 0.0;
  const double evaluations = (t.stage_count - 1) * (product_flops(n, k) + 3.0 * len);
  const double error = t.has_error_estimate ? len * (2.0 * t.stage_count + 6.0) + 2.0 : 0.0;
  return evaluations + 2.0 * len * nonzero + error;
}

/// The q-quantile (0 ≤ q ≤ 1) of attempted steps (accepted + rejected) per problem, by the
/// nearest-rank rule.
template <class Real>
double step_quantile(const solve_result<Real>& result, double q) {
  std::vector<std::int64_t> steps(result.accepted_steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i)
    steps[i] = result.accepted_steps[i] + result.rejected_steps[i];
  if (steps.empty()) return 0;
  const std::size_t rank = std::min(steps.size() - 1, std::size_t(q * double(steps.size())));
  std::nth_element(steps.begin(), steps.begin() + rank, steps.end());
  return double(steps[rank]);
}

/// Fraction of the products spent on problems that had already stopped: what the backend issued
/// beyond the evaluations the problems report (the CPU's lanes count every lane of a pass). The
/// GPU's fused path counts only its problems' own: there `lanes` problems (a warp's threads)
/// advance together, so a lane block costs `lanes` times its longest member.
template <class Real>
double wasted_on_stopped(const solve_result<Real>& result, int lanes) {
  const auto& evaluations = result.gradient_evaluations;
  double useful = 0, spent = 0;
  for (std::int64_t e : evaluations) useful += double(e);
  if (lanes <= 1) {
    spent = double(result.summary.products_issued);
  } else {
    for (std::size_t first = 0; first < evaluations.size(); first += lanes) {
      const std::size_t last = std::min(evaluations.size(), first + lanes);
      spent += double(lanes) *
               double(*std::max_element(evaluations.begin() + first, evaluations.begin() + last));
    }
  }
  return spent > 0 ? std::max(0.0, 1.0 - useful / spent) : 0.0;
}

/// Fraction of the evaluations spent on rejected steps (each attempt costs the problem's average
/// evaluations per attempt).
template <class Real>
double wasted_on_rejections(const solve_result<Real>& result) {
  double rejected = 0, total = 0;
  for (std::size_t i = 0; i < result.gradient_evaluations.size(); ++i) {
    const double attempts = double(result.accepted_steps[i] + result.rejected_steps[i]);
    const double evaluations = double(result.gradient_evaluations[i]);
    total += evaluations;
    if (attempts > 0) rejected += double(result.rejected_steps[i]) * evaluations / attempts;
  }
  return total > 0 ? rejected / total : 0.0;
}

}  // namespace gradflow::bench
