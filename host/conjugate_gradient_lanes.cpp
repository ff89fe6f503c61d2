// Conjugate gradients on least squares in lanes of problems (lane_problems.hpp): the curvature
// product H·p for all W lanes in one pass, each lane's step length, counters and test the
// per-problem code's (detail/optimizer_step.hpp: conjugate_gradient_length,
// conclude_conjugate_gradient_step), so that the bits are conjugate_gradient_step's.
#include <cmath>
#include <cstdint>
#include <functional>

#include "lane_problems.hpp"
#include "least_squares_lanes.hpp"

namespace gradflow::detail {
namespace {

template <class Real>
class conjugate_gradient_lanes : public lane_problems<Real> {
  using base = lane_problems<Real>;
  using base::at;
  using base::gradient_;
  using base::gradient_at_state_;
  using base::lanes_;
  using base::len_;
  using base::opening_;
  using base::problem_;
  using base::replace_where;
  using base::runs_;
  using base::s_;
  using base::scalars_;
  using base::state_;
  using base::sum_over_elements;
  using base::v_;
  using base::W;
  using typename base::lane_values;
  using typename base::lane_vectors;

public:
  conjugate_gradient_lanes(const lockstep_view<Real>& v, const step_settings<Real>& s)
      : base(v, s),
        residual_(std::size_t(len_) * W),
        direction_(std::size_t(len_) * W),
        product_(std::size_t(len_) * W) {}

  /// lane_problems::solve_with: the new problems' start (begin), then iterations.
  std::int64_t solve(problem_queue& queue) {
    return this->solve_with(
        queue, [&] { return admit(queue); }, [&] { begin(); }, [&] { iterate(); });
  }

private:
  /// lane_problems::admit, with each new problem's scalars before its start on the engine.
  bool admit(problem_queue& queue) {
    return base::admit(queue, [&](int, std::int64_t i) {
      if (v_.running(i)) start_optimizer_scalars(v_, s_, i);
    });
  }

  /// The opening lanes' start (start_optimizer): ∇f(U0) in one pass of all lanes, r = p = −∇f(U0),
  /// start_conjugate_gradient on the engine's scalars, which the lanes then take, with their
  /// convergence limits.
  void begin() {
    this->evaluate(state_.data());
    lane_values opens;
    for (int w = 0; w < W; ++w) opens[w] = opening_[w] && v_.running(problem_[w]);
    for (int e = 0; e < len_; ++e) {
      lane_values negated;
      const Real* g = at(gradient_, e);
#pragma omp simd
      for (int w = 0; w < W; ++w) negated[w] = -g[w];
      replace_where(opens, negated, at(residual_, e));
      replace_where(opens, negated, at(direction_, e));
    }
    lane_values residual_sq;
    sum_over_elements(0, len_, residual_sq, [&](int e, int w) {
      const Real residual = residual_[std::size_t(e) * W + w];
      return residual * residual;
    });
    for (int w = 0; w < W; ++w) {
      if (!opening_[w]) continue;
      const std::int64_t i = problem_[w];
      if (opens[w] != 0) start_conjugate_gradient(v_, s_, i, residual_sq[w]);
      this->take_started(w);
    }
  }

  /// One step of every running lane: q = H·p, pᵀq, α, U += αp, r −= αq, ‖r‖², the counters and
  /// the test, β and p = r + βp.
  void iterate() {
    this->curvature_product(direction_.data(), product_.data());
    lane_values curvature;
    sum_over_elements(0, len_, curvature, [&](int e, int w) {
      const std::size_t slot = std::size_t(e) * W + w;
      return direction_[slot] * product_[slot];
    });
    lane_values steps, length;  // steps: 1 where a running lane takes its step
    const lockstep_view<Real> lanes = lanes_;
    for (int w = 0; w < W; ++w) {
      length[w] = runs_[w] ? conjugate_gradient_length(lanes, w, curvature[w]) : Real(0);
      steps[w] = runs_[w] && lanes.running(w);
    }
    for (int e = 0; e < len_; ++e) {
      Real* u = at(state_, e);
      Real* residual = at(residual_, e);
      const Real* direction = at(direction_, e);
      const Real* q = at(product_, e);
      lane_values next_state, next_residual;
#pragma omp simd
      for (int w = 0; w < W; ++w) {
        next_state[w] = u[w] + length[w] * direction[w];
        next_residual[w] = residual[w] - length[w] * q[w];
      }
      replace_where(steps, next_state, u);
      replace_where(steps, next_residual, residual);
    }
    lane_values next_sq, beta;
    sum_over_elements(0, len_, next_sq, [&](int e, int w) {
      const Real residual = residual_[std::size_t(e) * W + w];
      return residual * residual;
    });
    conclude(steps, next_sq, beta);
    for (int e = 0; e < len_; ++e) {
      const Real* residual = at(residual_, e);
      Real* direction = at(direction_, e);
      lane_values next_direction;
#pragma omp simd
      for (int w = 0; w < W; ++w) next_direction[w] = residual[w] + beta[w] * direction[w];
      replace_where(steps, next_direction, direction);
    }
    for (int w = 0; w < W; ++w)
      if (steps[w] != 0) gradient_at_state_[w] = false;
  }

  /// conclude_conjugate_gradient_step for the stepping lanes (β into `beta`); the problems that
  /// stopped in this iteration take their scalars back to the engine.
  void conclude(const lane_values& steps, const lane_values& next_sq, lane_values& beta) {
    const lockstep_view<Real> lanes = lanes_;
    const step_settings<Real> s = s_;
    for (int w = 0; w < W; ++w) {
      beta[w] = 0;
      if (steps[w] != 0)
        beta[w] = conclude_conjugate_gradient_step(lanes, s, w, next_sq[w], this->limits_of(w));
    }
    for (int w = 0; w < W; ++w)
      if (runs_[w] && !lanes.running(w)) scalars_.store(v_, problem_[w], w);
  }

  lane_vectors residual_, direction_, product_;  // r = C − H U, p, H·p
};

}  // namespace

template <class Real>
std::int64_t run_conjugate_gradient_in_lanes(const lockstep_view<Real>& v,
                                             const step_settings<Real>& settings,
                                             const std::function<bool()>& should_stop) {
  return run_lane_blocks<conjugate_gradient_lanes<Real>>(v, settings, should_stop);
}

template std::int64_t run_conjugate_gradient_in_lanes(const lockstep_view<float>&,
                                                      const step_settings<float>&,
                                                      const std::function<bool()>&);
template std::int64_t run_conjugate_gradient_in_lanes(const lockstep_view<double>&,
                                                      const step_settings<double>&,
                                                      const std::function<bool()>&);

}  // namespace gradflow::detail
