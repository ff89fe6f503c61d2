// The optimisers gd, momentum, nag, adam, FIRE and FIRE 2.0 on least squares in lanes of problems
// (lane_problems.hpp): one product G·X per iteration for all W lanes, each lane's test, control and
// update the per-problem code's (detail/optimizer_step.hpp), so that the bits are
// update_optimizer's.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "lane_problems.hpp"
#include "least_squares_lanes.hpp"

namespace gradflow::detail {
namespace {

/// 1 − βᵗ by iteration t for each β asked for — adam's bias corrections, whose β₁ and β₂ a sweep's
/// lanes share among a few values — each computed once: two libm pows per lane and iteration were
/// 44 % of a seed solve's time, and no vectorised pow gives their bits. Once βᵗ falls below ε/1024,
/// every later 1 − βᵗ is exactly 1 (1 − βᵗ rounds to 1 for βᵗ < ε/4, and βᵗ only falls, β < 1), so
/// a table stops growing there. Beyond `most_tables` values of β, and past t = `longest` (β so
/// close to 1 that βᵗ has not settled: a table's memory stays bounded), 1 − βᵗ is computed when
/// asked.
template <class Real>
class power_complement_tables {
public:
  /// 1 − βᵗ at iteration t ≥ 1.
  Real at(Real beta, std::int64_t t) {
    if (table* found = table_of(beta)) {
      while (!found->settled && std::int64_t(found->entries.size()) < std::min(t, longest)) {
        const Real power = std::pow(beta, Real(found->entries.size() + 1));
        found->settled = power < std::numeric_limits<Real>::epsilon() / 1024;
        if (!found->settled) found->entries.push_back(1 - power);
      }
      if (t <= std::int64_t(found->entries.size())) return found->entries[t - 1];
      if (found->settled) return 1;
    }
    return 1 - std::pow(beta, Real(t));
  }

private:
  struct table {
    Real beta;
    bool settled = false;
    std::vector<Real> entries;  // t = 1, 2, …
  };
  static constexpr std::size_t most_tables = 16;
  static constexpr std::int64_t longest = std::int64_t(1) << 16;

  table* table_of(Real beta) {
    if (last_ < tables_.size() && tables_[last_].beta == beta) return &tables_[last_];
    for (last_ = 0; last_ < tables_.size(); ++last_)
      if (tables_[last_].beta == beta) return &tables_[last_];
    if (tables_.size() == most_tables) return nullptr;
    tables_.push_back(table{beta, false, {}});
    return &tables_.back();
  }

  std::vector<table> tables_;
  std::size_t last_ = 0;  // the table found last: a block's lanes mostly ask for the same β
};

template <class Real, method Method>
class optimizer_lanes : public lane_problems<Real> {
  using base = lane_problems<Real>;
  using base::at;
  using base::gradient_;
  using base::gradient_at_state_;
  using base::gradient_limit_;
  using base::lanes_;
  using base::len_;
  using base::problem_;
  using base::replace_where;
  using base::runs_;
  using base::s_;
  using base::scalars_;
  using base::state_;
  using base::sum_over_elements;
  using base::v_;
  using base::velocity_limit_;
  using base::W;
  using typename base::lane_values;
  using typename base::lane_vectors;
  // momentum, nag and FIRE carry a velocity, adam its two moments; nag evaluates at its
  // look-ahead point U + β·V; FIRE 2.0 mixes its velocity after the kick, by the kicked velocity's
  // norm.
  static constexpr bool adapts = Method == method::adam;
  static constexpr bool carries_velocity = Method != method::gd && !adapts;
  static constexpr bool looks_ahead = Method == method::nag;
  static constexpr bool fires = Method == method::fire || Method == method::fire2;
  static constexpr bool mixes_after_kick = Method == method::fire2;

public:
  optimizer_lanes(const lockstep_view<Real>& v, const step_settings<Real>& s)
      : base(v, s),
        velocity_(carries_velocity ? std::size_t(len_) * W : 0),
        first_moment_(adapts ? std::size_t(len_) * W : 0),
        second_moment_(adapts ? std::size_t(len_) * W : 0),
        ahead_(looks_ahead ? std::size_t(len_) * W : 0),
        kicked_(mixes_after_kick ? std::size_t(len_) * W : 0) {}

  /// lane_problems::solve_with, an iteration at a time: an optimiser's first evaluation is its
  /// first iteration's, so its start is admit's alone.
  std::int64_t solve(problem_queue& queue) {
    return this->solve_with(
        queue, [&] { return admit(queue); }, [] {}, [&] { iterate(); });
  }

private:
  /// lane_problems::admit, then start_optimizer for each new problem that runs: its scalars on
  /// the engine, a zero velocity (adam: zero moments), and the lane's copies of its scalars and
  /// hyperparameters.
  bool admit(problem_queue& queue) {
    return base::admit(queue, [&](int w, std::int64_t i) {
      if (v_.running(i)) start_optimizer_scalars(v_, s_, i);
      scalars_.load(v_, i, w);
      rate_of_[w] = v_.parameter_of(i, step);
      if constexpr (carries_velocity) {
        if constexpr (!fires) momentum_of_[w] = v_.parameter_of(i, momentum);
        for (int e = 0; e < len_; ++e) velocity_[std::size_t(e) * W + w] = 0;
      }
      if constexpr (adapts) {
        first_decay_of_[w] = v_.parameter_of(i, beta1);
        second_decay_of_[w] = v_.parameter_of(i, beta2);
        epsilon_of_[w] = v_.parameter_of(i, epsilon);
        for (int e = 0; e < len_; ++e)
          first_moment_[std::size_t(e) * W + w] = second_moment_[std::size_t(e) * W + w] = 0;
      }
      gradient_at_state_[w] = false;
    });
  }

  /// One iteration of every running lane: [nag: the look-ahead point,] ∇f there, the test, [FIRE:
  /// the control,] and the update.
  void iterate() {
    const Real* point = state_.data();
    if constexpr (looks_ahead) {  // prepare_operand
      for (int e = 0; e < len_; ++e) {
        const Real* u = at(state_, e);
        const Real* velocity = at(velocity_, e);
        Real* ahead = at(ahead_, e);
#pragma omp simd
        for (int w = 0; w < W; ++w) ahead[w] = u[w] + momentum_of_[w] * velocity[w];
      }
      point = ahead_.data();
    }
    this->evaluate(point);
    lane_values norm;  // ‖∇f‖, FIRE's ‖F‖ too (the same sum)
    this->gradient_norms(norm);
    // FIRE: P = F·V, ‖V‖ and α, before this iteration's control changes them.
    lane_values power = {}, velocity_norm, alpha_before;
    if constexpr (fires) {
      sum_over_elements(0, len_, power, [&](int e, int w) {
        const std::size_t slot = std::size_t(e) * W + w;
        return -(gradient_[slot] * velocity_[slot]);
      });
      sum_over_elements(0, len_, velocity_norm, [&](int e, int w) {
        const Real velocity = velocity_[std::size_t(e) * W + w];
        return velocity * velocity;
      });
      for (int w = 0; w < W; ++w) {
        velocity_norm[w] = std::sqrt(velocity_norm[w]);
        alpha_before[w] = lanes_.fire_mixing[w];
      }
    }
    for (int w = 0; w < W; ++w) {
      // The first evaluation's norm is ‖∇f(u0)‖, which fixes the convergence limits.
      if (runs_[w] && lanes_.accepted[w] + lanes_.rejected[w] == 0) {
        v_.gradient_norm_initial[problem_[w]] = norm[w];
        this->fix_limits(w);
      }
    }
    lane_values steps;  // 1 where a running lane takes its step
    test(norm, power, steps);
    if constexpr (fires)
      fire_update(steps, norm, velocity_norm, power, alpha_before);
    else
      update(steps);
  }

  /// update_optimizer's count, test and (FIRE) control for every lane at once, as in the lanes of
  /// least_squares_lanes.cpp: local copies of the view and settings, so that the loop vectorises.
  /// The problems that stopped take their scalars back to the engine.
  [[gnu::flatten, gnu::noinline]] void test(const lane_values& norm, const lane_values& power,
                                            lane_values& steps) {
    const lockstep_view<Real> lanes = lanes_;
    const step_settings<Real> s = s_;
#pragma omp simd
    for (int w = 0; w < W; ++w) {
      count_optimizer_evaluation(lanes, w, norm[w]);
      const bool goes_on =
          test_new_point_within(lanes, s, w, norm[w], Real(0),
                                convergence_limits<Real>{gradient_limit_[w], velocity_limit_[w]});
      if (goes_on) {
        if constexpr (fires) {
          fire_control(lanes, s, w, power[w], rate_of_[w]);
          count_fire_step(lanes, s, w);
        } else {
          count_optimizer_step(lanes, s, w, rate_of_[w]);
        }
      }
      steps[w] = goes_on;
    }
    for (int w = 0; w < W; ++w) {
      if (!runs_[w])
        steps[w] = 0;
      else if (!lanes.running(w))
        scalars_.store(v_, problem_[w], w);
    }
  }

  /// Whether the gradient slot holds ∇f at each running lane's state after its iteration: where
  /// it stopped without moving (nag: converged, at the look-ahead point it adopts, `adopts`).
  void note_gradient_at_state(const lane_values& steps, const lane_values* adopts = nullptr) {
    for (int w = 0; w < W; ++w)
      if (runs_[w]) gradient_at_state_[w] = steps[w] == 0 && (!adopts || (*adopts)[w] != 0);
  }

  /// gd, momentum, nag, adam: the stepping lanes' new state (and velocity or moments); a nag lane
  /// that converged adopts its look-ahead point.
  void update(const lane_values& steps) {
    lane_values adopts;  // nag: 1 where a lane converged in this iteration
    for (int w = 0; w < W; ++w)
      adopts[w] = looks_ahead && runs_[w] &&
                  lanes_.outcome[w] == static_cast<std::int32_t>(status::converged);
    note_gradient_at_state(steps, looks_ahead ? &adopts : nullptr);
    // adam: each stepping lane's bias corrections at its iteration t, which test() has counted.
    lane_values first_correction, second_correction;
    if constexpr (adapts)
      for (int w = 0; w < W; ++w) {
        const bool stepping = steps[w] != 0;
        first_correction[w] =
            stepping ? corrections_.at(first_decay_of_[w], lanes_.accepted[w]) : Real(1);
        second_correction[w] =
            stepping ? corrections_.at(second_decay_of_[w], lanes_.accepted[w]) : Real(1);
      }
    for (int e = 0; e < len_; ++e) {
      Real* u = at(state_, e);
      const Real* g = at(gradient_, e);
      lane_values next_state;
      if constexpr (carries_velocity) {
        Real* velocity = at(velocity_, e);
        lane_values next_velocity;
#pragma omp simd
        for (int w = 0; w < W; ++w) {
          next_velocity[w] = velocity_element(velocity[w], momentum_of_[w], rate_of_[w], g[w]);
          next_state[w] = u[w] + next_velocity[w];
        }
        replace_where(steps, next_velocity, velocity);
      } else if constexpr (adapts) {
        Real* first = at(first_moment_, e);
        Real* second = at(second_moment_, e);
        lane_values next_first, next_second;
#pragma omp simd
        for (int w = 0; w < W; ++w) {
          next_first[w] = first[w];
          next_second[w] = second[w];
          next_state[w] = u[w];
          adam_element(next_first[w], next_second[w], next_state[w], g[w], first_decay_of_[w],
                       second_decay_of_[w], epsilon_of_[w], rate_of_[w], first_correction[w],
                       second_correction[w]);
        }
        replace_where(steps, next_first, first);
        replace_where(steps, next_second, second);
      } else {
#pragma omp simd
        for (int w = 0; w < W; ++w) next_state[w] = descent_element(u[w], rate_of_[w], g[w]);
      }
      replace_where(steps, next_state, u);
      if constexpr (looks_ahead) replace_where(adopts, at(ahead_, e), u);
    }
  }

  /// fire_step's vectors for the stepping lanes, after fire_control (dt and α after it in the
  /// lanes' scalars, α before it in `alpha_before`): FIRE mixes V downhill, every uphill lane
  /// zeroes V (FIRE 2.0: after stepping U back by dt·V/2), then the kick V −= dt·g, FIRE 2.0's
  /// mixing by the kicked ‖V‖, and U += dt·V. A mixing needs ‖F‖ > 0.
  void fire_update(const lane_values& steps, const lane_values& force_norm,
                   const lane_values& velocity_norm, const lane_values& power,
                   const lane_values& alpha_before) {
    note_gradient_at_state(steps);
    const Real* dt = lanes_.dt;
    const Real* alpha_after = lanes_.fire_mixing;
    // FIRE 2.0: the stepped-back state and the kicked velocity first, then its norm.
    lane_values kicked_norm = {};
    if constexpr (mixes_after_kick) {
      for (int e = 0; e < len_; ++e) {
        const Real* velocity = at(velocity_, e);
        const Real* g = at(gradient_, e);
        Real* kicked = at(kicked_, e);
#pragma omp simd
        for (int w = 0; w < W; ++w) {
          const Real reset = power[w] > 0 ? velocity[w] : Real(0);
          kicked[w] = reset - dt[w] * g[w];
        }
      }
      sum_over_elements(0, len_, kicked_norm, [&](int e, int w) {
        const Real velocity = kicked_[std::size_t(e) * W + w];
        return velocity * velocity;
      });
      for (int w = 0; w < W; ++w) kicked_norm[w] = std::sqrt(kicked_norm[w]);
    }
    for (int e = 0; e < len_; ++e) {
      Real* u = at(state_, e);
      Real* velocity = at(velocity_, e);
      const Real* g = at(gradient_, e);
      lane_values next_state, next_velocity;
#pragma omp simd
      for (int w = 0; w < W; ++w) {
        const bool downhill = power[w] > 0, mixes = !(force_norm[w] <= 0);
        Real state = u[w], kicked;
        if constexpr (mixes_after_kick) {
          if (!downhill) state -= Real(0.5) * dt[w] * velocity[w];
          const Real plain = at(kicked_, e)[w];
          kicked =
              mixes ? fire_mixed_element(plain, g[w], alpha_after[w], kicked_norm[w], force_norm[w])
                    : plain;
        } else {
          const Real mixed = fire_mixed_element(velocity[w], g[w], alpha_before[w],
                                                velocity_norm[w], force_norm[w]);
          const Real reset = downhill ? (mixes ? mixed : velocity[w]) : Real(0);
          kicked = reset - dt[w] * g[w];
        }
        next_velocity[w] = kicked;
        next_state[w] = state + dt[w] * kicked;
      }
      replace_where(steps, next_velocity, velocity);
      replace_where(steps, next_state, u);
    }
  }

  lane_vectors velocity_, first_moment_, second_moment_, ahead_, kicked_;
  power_complement_tables<Real> corrections_;
  // Each lane's learning rate (FIRE: dt0), momentum and adam's β1, β2 and ε, fixed once
  // resolve_parameters has run.
  alignas(W * sizeof(Real)) lane_values rate_of_ = {}, momentum_of_ = {};
  alignas(W * sizeof(Real)) lane_values first_decay_of_ = {}, second_decay_of_ = {},
                                        epsilon_of_ = {};
};

}  // namespace

template <class Real>
std::int64_t run_optimizer_in_lanes(const lockstep_view<Real>& v,
                                    const step_settings<Real>& settings,
                                    const std::function<bool()>& should_stop) {
  switch (settings.method) {
    case method::momentum:
      return run_lane_blocks<optimizer_lanes<Real, method::momentum>>(v, settings, should_stop);
    case method::nag:
      return run_lane_blocks<optimizer_lanes<Real, method::nag>>(v, settings, should_stop);
    case method::adam:
      return run_lane_blocks<optimizer_lanes<Real, method::adam>>(v, settings, should_stop);
    case method::cg:
      return run_conjugate_gradient_in_lanes(v, settings, should_stop);
    case method::lbfgs:
      return run_lbfgs_in_lanes(v, settings, should_stop);
    case method::fire:
      return run_lane_blocks<optimizer_lanes<Real, method::fire>>(v, settings, should_stop);
    case method::fire2:
      return run_lane_blocks<optimizer_lanes<Real, method::fire2>>(v, settings, should_stop);
    default:  // gd: step_settings::runs_in_lanes admits no other optimiser
      return run_lane_blocks<optimizer_lanes<Real, method::gd>>(v, settings, should_stop);
  }
}

template std::int64_t run_optimizer_in_lanes(const lockstep_view<float>&,
                                             const step_settings<float>&,
                                             const std::function<bool()>&);
template std::int64_t run_optimizer_in_lanes(const lockstep_view<double>&,
                                             const step_settings<double>&,
                                             const std::function<bool()>&);

}  // namespace gradflow::detail
