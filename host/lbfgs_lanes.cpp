// L-BFGS on least squares in lanes of problems (lane_problems.hpp): the trial point's ∇f for all W
// lanes in one pass, each lane's acceptance, counters and test the per-problem code's
// (detail/optimizer_step.hpp: lbfgs_accepts, count_lbfgs_acceptance, count_lbfgs_rejection), and
// the two-loop recursion across the lanes, sum for sum lbfgs_direction's, so that the bits are
// lbfgs_step's.
#include <algorithm>
#include <cstdint>
#include <functional>

#include "lane_problems.hpp"
#include "least_squares_lanes.hpp"

namespace gradflow::detail {
namespace {

template <class Real>
class lbfgs_lanes : public lane_problems<Real> {
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
  using base::state_;
  using base::sum_over_elements;
  using base::v_;
  using base::W;
  using typename base::lane_values;
  using typename base::lane_vectors;

public:
  lbfgs_lanes(const lockstep_view<Real>& v, const step_settings<Real>& s)
      : base(v, s),
        direction_(std::size_t(len_) * W),
        accepted_gradient_(std::size_t(len_) * W),
        trial_(std::size_t(len_) * W),
        step_taken_(std::size_t(len_) * W),
        gradient_change_(std::size_t(len_) * W),
        renewed_(std::size_t(len_) * W),
        pairs_(std::size_t(2 * lbfgs_memory) * len_ * W) {}

  /// lane_problems::solve_with: the new problems' start (begin), then iterations.
  std::int64_t solve(problem_queue& queue) {
    return this->solve_with(
        queue, [&] { return admit(queue); }, [&] { begin(); }, [&] { iterate(); });
  }

private:
  /// lane_problems::admit, with each new problem's scalars before its start on the engine and its
  /// learning rate.
  bool admit(problem_queue& queue) {
    return base::admit(queue, [&](int w, std::int64_t i) {
      if (v_.running(i)) start_optimizer_scalars(v_, s_, i);
      rate_of_[w] = v_.parameter_of(i, step);
    });
  }

  /// The opening lanes' start (start_lbfgs): ∇f(U0) in one pass of all lanes, kept as the
  /// accepted gradient, the direction −lr·∇f(U0), start_lbfgs_scalars on the engine's scalars,
  /// which the lanes then take.
  void begin() {
    this->evaluate(state_.data());
    lane_values opens, norm;
    for (int w = 0; w < W; ++w) opens[w] = opening_[w] && v_.running(problem_[w]);
    this->gradient_norms(norm);
    for (int e = 0; e < len_; ++e)
      replace_where(opens, at(gradient_, e), at(accepted_gradient_, e));
    restart_where(opens, gradient_, direction_);
    for (int w = 0; w < W; ++w) {
      if (!opening_[w]) continue;
      if (opens[w] != 0) start_lbfgs_scalars(v_, s_, problem_[w], norm[w]);
      this->take_started(w);
    }
  }

  /// One trial of every running lane at U + αd: ∇f there, the Armijo test, and for the lanes that
  /// accept it the move, the new pair (αd, Δ∇f), the test and a new direction; the others halve α.
  void iterate() {
    const Real* alpha = lanes_.dt;
    for (int e = 0; e < len_; ++e) {  // prepare_operand
      const Real* u = at(state_, e);
      const Real* direction = at(direction_, e);
      Real* trial = at(trial_, e);
#pragma omp simd
      for (int w = 0; w < W; ++w) trial[w] = u[w] + alpha[w] * direction[w];
    }
    this->evaluate(trial_.data());
    lane_values norm, slope, trial_slope, accepts;
    this->gradient_norms(norm);
    sum_over_elements(0, len_, slope, [&](int e, int w) {
      const std::size_t slot = std::size_t(e) * W + w;
      return accepted_gradient_[slot] * direction_[slot];
    });
    sum_over_elements(0, len_, trial_slope, [&](int e, int w) {
      const std::size_t slot = std::size_t(e) * W + w;
      return gradient_[slot] * direction_[slot];
    });
    for (int w = 0; w < W; ++w) {
      lanes_.gradient_evaluations[w] += runs_[w];
      accepts[w] = runs_[w] && lbfgs_accepts(quadratic_change(alpha[w], slope[w], trial_slope[w]),
                                             norm[w], alpha[w], slope[w]);
      gradient_at_state_[w] = accepts[w] != 0;  // the accepted trial is the new state
    }
    move(accepts);
    lane_values renews, goes_on;
    conclude(accepts, norm, renews, goes_on);
    renew_directions(renews);
    const lockstep_view<Real> lanes = lanes_;
    for (int w = 0; w < W; ++w) {
      if (renews[w] != 0) lanes.dt[w] = 1;
      if (goes_on[w] != 0) test_step_budget(lanes, s_, w);
      if (runs_[w] && !lanes.running(w)) this->scalars_.store(v_, problem_[w], w);
    }
  }

  /// The accepting lanes move to their trial point, U + s with s = αd, keep y = ∇f(trial) −
  /// ∇f(U) as their newest pair, with the sums sᵀy and yᵀy that lbfgs_direction forms from it,
  /// and take ∇f(trial) as the accepted gradient.
  void move(const lane_values& accepts) {
    const Real* alpha = lanes_.dt;
    for (int e = 0; e < len_; ++e) {
      const Real* direction = at(direction_, e);
      const Real* g = at(gradient_, e);
      const Real* accepted_gradient = at(accepted_gradient_, e);
      Real* step_taken = at(step_taken_, e);
      Real* gradient_change = at(gradient_change_, e);
#pragma omp simd
      for (int w = 0; w < W; ++w) {
        step_taken[w] = alpha[w] * direction[w];
        gradient_change[w] = g[w] - accepted_gradient[w];
      }
      lane_values next_state;
      const Real* u = at(state_, e);
#pragma omp simd
      for (int w = 0; w < W; ++w) next_state[w] = u[w] + step_taken[w];
      replace_where(accepts, next_state, at(state_, e));
      replace_where(accepts, g, at(accepted_gradient_, e));
    }
    lane_values curvature, change_sq;
    sum_over_elements(0, len_, curvature, [&](int e, int w) {
      const std::size_t slot = std::size_t(e) * W + w;
      return step_taken_[slot] * gradient_change_[slot];
    });
    sum_over_elements(0, len_, change_sq, [&](int e, int w) {
      const Real change = gradient_change_[std::size_t(e) * W + w];
      return change * change;
    });
    keep_newest_pair(accepts, curvature, change_sq);
  }

  /// The pairs live in a ring of m slots shared by the block's lanes: age a (0 = newest) in slot
  /// newest_ − a for every lane, so that the two-loop recursion reads each age's vectors whole,
  /// where slots by each lane's own count (as lbfgs_step keeps them) would take a gather per
  /// element. When some lanes accept, the ring turns and they fill the new newest slot; each
  /// running lane that did not accept moves its pairs one slot along, so its ages stay.
  void keep_newest_pair(const lane_values& accepts, const lane_values& curvature,
                        const lane_values& change_sq) {
    bool any_accepts = false, any_stays = false;
    lane_values stays;
    for (int w = 0; w < W; ++w) {
      any_accepts = any_accepts || accepts[w] != 0;
      stays[w] = runs_[w] && accepts[w] == 0;
      any_stays = any_stays || stays[w] != 0;
    }
    if (!any_accepts) return;
    if (any_stays) {
      for (int part = 0; part < 2; ++part)
        for (int e = 0; e < len_; ++e)
          turn_where(stays, [&](int pair) { return pair_vector(pair, part) + std::size_t(e) * W; });
      turn_where(stays, [&](int pair) { return curvature_[pair]; });
      turn_where(stays, [&](int pair) { return change_sq_[pair]; });
    }
    newest_ = (newest_ + 1) % lbfgs_memory;
    for (int e = 0; e < len_; ++e) {
      replace_where(accepts, at(step_taken_, e), pair_vector(newest_, 0) + std::size_t(e) * W);
      replace_where(accepts, at(gradient_change_, e), pair_vector(newest_, 1) + std::size_t(e) * W);
    }
    replace_where(accepts, curvature, curvature_[newest_]);
    replace_where(accepts, change_sq, change_sq_[newest_]);
  }

  /// In the lanes of `where`, the W values at slot(p) move to slot(p + 1) for every p of the
  /// ring (the last to the first).
  template <class Slot>
  static void turn_where(const lane_values& where, Slot slot) {
    lane_values last = {};  // the copy fills it; inlined, GCC 12 warns of a read before it
    std::copy(slot(lbfgs_memory - 1), slot(lbfgs_memory - 1) + W, last);
    for (int pair = lbfgs_memory - 1; pair > 0; --pair)
      replace_where(where, slot(pair - 1), slot(pair));
    replace_where(where, last, slot(0));
  }

  /// The running lanes' counters and test: count_lbfgs_acceptance where they accepted (`renews`:
  /// 1 where they go on, to a new direction), count_lbfgs_rejection where not (‖d‖ and ‖U‖ only
  /// when some lane rejected); `goes_on`: 1 where a lane goes on to its step budget's test.
  void conclude(const lane_values& accepts, const lane_values& norm, lane_values& renews,
                lane_values& goes_on) {
    lane_values direction_norm = {}, state_norm = {};
    bool rejects = false;
    for (int w = 0; w < W; ++w) rejects = rejects || (runs_[w] && accepts[w] == 0);
    if (rejects) {
      this->norms_of(direction_, direction_norm);
      this->norms_of(state_, state_norm);
    }
    const lockstep_view<Real> lanes = lanes_;
    for (int w = 0; w < W; ++w) {
      renews[w] = goes_on[w] = 0;
      if (!runs_[w]) continue;
      if (accepts[w] != 0)
        renews[w] = goes_on[w] =
            count_lbfgs_acceptance(lanes, s_, w, lanes.dt[w], norm[w], this->limits_of(w));
      else
        goes_on[w] = count_lbfgs_rejection(lanes, w, direction_norm[w], state_norm[w]);
    }
  }

  /// lbfgs_direction for the renewing lanes, each over its own kept pairs, newest first, then
  /// the restart from −lr·∇f where the result is not a descent direction.
  void renew_directions(const lane_values& renews) {
    const lockstep_view<Real> lanes = lanes_;
    int most_kept = 0;
    std::int64_t kept[W];
    for (int w = 0; w < W; ++w) {
      kept[w] = renews[w] != 0 ? std::min<std::int64_t>(lanes.accepted[w], lbfgs_memory) : 0;
      most_kept = std::max(most_kept, int(kept[w]));
    }
    if (most_kept == 0) return;
    Real* q = renewed_.data();
    std::copy(accepted_gradient_.begin(), accepted_gradient_.end(), renewed_.begin());
    // Per age: whether each lane uses that pair (one of its own, with curvature sᵀy > 0), and the
    // first loop's coefficient for the second.
    lane_values uses[lbfgs_memory], coefficient[lbfgs_memory], scale;
    for (int age = 0; age < most_kept; ++age) {
      const int pair = slot_of(age);
      const Real* curvature = curvature_[pair];
      const Real* step = pair_vector(pair, 0);
      const Real* change = pair_vector(pair, 1);
      for (int w = 0; w < W; ++w) {
        uses[age][w] = age < kept[w] && curvature[w] > 0;
        if (age == 0) scale[w] = uses[0][w] != 0 ? curvature[w] / change_sq_[pair][w] : Real(1);
      }
      lane_values step_dot;
      sum_over_elements(0, len_, step_dot, [&](int e, int w) {
        const std::size_t slot = std::size_t(e) * W + w;
        return step[slot] * q[slot];
      });
      for (int w = 0; w < W; ++w)
        coefficient[age][w] = uses[age][w] != 0 ? step_dot[w] / curvature[w] : Real(0);
      for (int e = 0; e < len_; ++e) {
        lane_values next;
        const std::size_t element = std::size_t(e) * W;
#pragma omp simd
        for (int w = 0; w < W; ++w)
          next[w] = q[element + w] - coefficient[age][w] * change[element + w];
        replace_where(uses[age], next, q + element);
      }
    }
    for (int e = 0; e < len_; ++e) {
      Real* element = at(renewed_, e);
#pragma omp simd
      for (int w = 0; w < W; ++w) element[w] *= scale[w];
    }
    for (int age = most_kept - 1; age >= 0; --age) {
      const int pair = slot_of(age);
      const Real* curvature = curvature_[pair];
      const Real* step = pair_vector(pair, 0);
      const Real* change = pair_vector(pair, 1);
      lane_values change_dot, correction;
      sum_over_elements(0, len_, change_dot, [&](int e, int w) {
        const std::size_t slot = std::size_t(e) * W + w;
        return change[slot] * q[slot];
      });
#pragma omp simd
      for (int w = 0; w < W; ++w)
        correction[w] = coefficient[age][w] - change_dot[w] / curvature[w];
      for (int e = 0; e < len_; ++e) {
        lane_values next;
        const std::size_t element = std::size_t(e) * W;
#pragma omp simd
        for (int w = 0; w < W; ++w) next[w] = q[element + w] + correction[w] * step[element + w];
        replace_where(uses[age], next, q + element);
      }
    }
    for (Real& value : renewed_) value = -value;
    lane_values descent, restarts;
    sum_over_elements(0, len_, descent, [&](int e, int w) {
      const std::size_t slot = std::size_t(e) * W + w;
      return accepted_gradient_[slot] * q[slot];
    });
    for (int w = 0; w < W; ++w) restarts[w] = renews[w] != 0 && !(descent[w] < 0);
    restart_where(restarts, accepted_gradient_, renewed_);
    for (int e = 0; e < len_; ++e) replace_where(renews, at(renewed_, e), at(direction_, e));
  }

  /// direction = −lr·gradient in the lanes of `where` (lbfgs_restart_element).
  void restart_where(const lane_values& where, lane_vectors& gradient, lane_vectors& direction) {
    for (int e = 0; e < len_; ++e) {
      const Real* g = at(gradient, e);
      lane_values restart;
#pragma omp simd
      for (int w = 0; w < W; ++w) restart[w] = lbfgs_restart_element(rate_of_[w], g[w]);
      replace_where(where, restart, at(direction, e));
    }
  }

  /// The ring's slot of the pairs of age `age` (keep_newest_pair).
  int slot_of(int age) const { return (newest_ - age + lbfgs_memory) % lbfgs_memory; }
  /// Pair `pair`'s step s (part 0) or gradient change y (part 1), a lane vector in pairs_.
  Real* pair_vector(int pair, int part) {
    return pairs_.data() + std::size_t(2 * pair + part) * len_ * W;
  }

  // d, ∇f at U, the trial point U + αd, this trial's αd and Δ∇f, the new direction being formed,
  // and the m pairs (s_j, y_j), element-major like every lane vector.
  lane_vectors direction_, accepted_gradient_, trial_, step_taken_, gradient_change_, renewed_,
      pairs_;
  // Each lane's sᵀy and yᵀy by ring slot, formed when its pair is (lbfgs_direction's sums of the
  // stored pair), and its learning rate; the ring's slot of the newest pairs.
  alignas(W * sizeof(Real)) lane_values curvature_[lbfgs_memory] = {},
                                        change_sq_[lbfgs_memory] = {};
  alignas(W * sizeof(Real)) lane_values rate_of_ = {};
  int newest_ = 0;
};

}  // namespace

template <class Real>
std::int64_t run_lbfgs_in_lanes(const lockstep_view<Real>& v, const step_settings<Real>& settings,
                                const std::function<bool()>& should_stop) {
  return run_lane_blocks<lbfgs_lanes<Real>>(v, settings, should_stop);
}

template std::int64_t run_lbfgs_in_lanes(const lockstep_view<float>&, const step_settings<float>&,
                                         const std::function<bool()>&);
template std::int64_t run_lbfgs_in_lanes(const lockstep_view<double>&, const step_settings<double>&,
                                         const std::function<bool()>&);

}  // namespace gradflow::detail
