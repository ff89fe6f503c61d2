#include "least_squares_lanes.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "chebyshev_curvatures.hpp"
#include "lane_curvature.hpp"
#include "lane_problems.hpp"

namespace gradflow::detail {
namespace {

/// How a lane block forms its step's stage inputs: by the explicit tableau, by a solve with
/// G + I/h (the linearly implicit Euler step), or by the Chebyshev recurrence (rkcd, rkc; their
/// result is Euler's last stage). The latter two take Euler's tableau on gradient flow.
enum class stage_rule { explicit_tableau, linearly_implicit, chebyshev };

/// A Runge–Kutta-type method's lane block (lane_problems): the step control is ode_step.hpp's
/// per-problem functions on the lanes' scalars. The dynamics, the tableau's stage count and the
/// stage rule are template arguments: the loops over stages unroll.
template <class Real, dynamics Flow, int Stages, stage_rule Rule>
class runge_kutta_lanes : public lane_problems<Real> {
  static constexpr bool LinearlyImplicit = Rule == stage_rule::linearly_implicit;
  static constexpr bool Chebyshev = Rule == stage_rule::chebyshev;
  static_assert(Rule == stage_rule::explicit_tableau || (Flow == dynamics::gradient && Stages == 2),
                "the linearly implicit and Chebyshev steps end in Euler's stage on gradient flow");
  using base = lane_problems<Real>;
  using base::at;
  using base::evaluate;
  using base::gradient_;
  using base::gradient_at_state_;
  using base::gradient_limit_;
  using base::gram_;
  using base::k_;
  using base::lanes_;
  using base::len_;
  using base::n_;
  using base::opening_;
  using base::problem_;
  using base::register_lanes;
  using base::replace_where;
  using base::runs_;
  using base::s_;
  using base::scalars_;
  using base::state_;
  using base::state_len_;
  using base::sum_over_elements;
  using base::v_;
  using base::velocity_limit_;
  using base::W;
  using typename base::lane_values;
  using typename base::lane_vectors;
  using typename base::part_register;
  using typename base::register_vector;

public:
  // Whether the state carries a velocity (its second half).
  static constexpr bool second_order = Flow == dynamics::heavy_ball || Flow == dynamics::nesterov;

  runge_kutta_lanes(const lockstep_view<Real>& v, const step_settings<Real>& s)
      : base(v, s),
        stage_input_(std::size_t(state_len_) * W),
        work_(std::size_t(Stages) * state_len_ * W),
        factor_(Flow == dynamics::newton || LinearlyImplicit ? std::size_t(n_) * n_ * W : 0) {}
  /// Chebyshev: the set-up reads the chunk's estimates.
  runge_kutta_lanes(const lockstep_view<Real>& v, const step_settings<Real>& s,
                    const chebyshev_curvatures<Real>& curvatures)
      : runge_kutta_lanes(v, s) {
    curvatures_ = &curvatures;
  }

  /// lane_problems::solve_with_supply on problems a second block (`opener`) starts W at a time:
  /// its two start passes (K_0, the probe) run on W opening lanes, where a block that started its
  /// own refills ran them on all W for the 2–3 that open; a refill costs no pass, so a lane
  /// refills as soon as it is idle.
  std::int64_t solve(problem_queue& queue) {
    runge_kutta_lanes opener(v_, s_);
    opener.curvatures_ = curvatures_;
    const std::int64_t products = this->solve_with_supply(
        [&] { return opener.has_started() || opener.more_in(queue); }, 1,
        [&] {
          int lane = 0;
          return this->admit_with([&] { return opener.next_started(queue, lane); },
                                  [&](int w, std::int64_t) { take_started_from(opener, lane, w); });
        },
        [] {},
        [&] {
          take_stages(std::make_integer_sequence<int, Stages - 1>{});
          finish();
        });
    return products + opener.products();
  }

private:
  Real* work(int stage, int element) {
    return work_.data() + (std::size_t(stage) * state_len_ + element) * W;
  }

  /// lane_problems::admit, keeping each lane's hyperparameters the passes read (Newton: and the
  /// Cholesky factor of G that admission formed).
  bool admit(problem_queue& queue) {
    return base::admit(queue, [&](int w, std::int64_t i) {
      damping_of_[w] = v_.parameter_of(i, damping);
      inverse_mass_of_[w] = v_.parameter_of(i, inverse_mass);
      atol_of_[w] = v_.parameter_of(i, atol);
      rtol_of_[w] = v_.parameter_of(i, rtol);
      if constexpr (Flow == dynamics::newton)
        for (int e = 0; e < n_ * n_; ++e) factor_[std::size_t(e) * W + w] = v_.factor_of(i)[e];
    });
  }

  /// Whether a started problem waits in a lane to be handed over.
  bool has_started() const { return next_ready_ < ready_count_; }

  /// The next started problem for another block, −1 when none is left: when none waits, the
  /// queue's next W problems are admitted and started (begin), and those that stopped at their
  /// start are handed back. `lane` is the lane that holds the problem, which this block no longer
  /// holds.
  std::int64_t next_started(problem_queue& queue, int& lane) {
    while (!has_started()) {
      if (!admit(queue)) return -1;
      begin();
      this->retire_stopped();
      ready_count_ = next_ready_ = 0;
      for (int w = 0; w < W; ++w)
        if (runs_[w]) ready_[ready_count_++] = w;
    }
    lane = ready_[next_ready_++];
    this->hand_over(lane);
    return problem_[lane];
  }

  /// Lane w takes the started problem in lane u of `opener`: its vectors, K_0, what the passes
  /// read of it and its scalars (on the engine since its start).
  void take_started_from(runge_kutta_lanes& opener, int u, int w) {
    const auto copy = [&](const lane_vectors& from, lane_vectors& to, int elements) {
      for (int e = 0; e < elements; ++e) to[std::size_t(e) * W + w] = from[std::size_t(e) * W + u];
    };
    copy(opener.gram_, gram_, n_ * n_);
    copy(opener.linear_, this->linear_, len_);
    copy(opener.state_, state_, state_len_);
    for (int e = 0; e < state_len_; ++e) work(0, e)[w] = opener.work(0, e)[u];
    if (!factor_.empty()) copy(opener.factor_, factor_, n_ * n_);
    for (auto field : {&runge_kutta_lanes::damping_of_, &runge_kutta_lanes::inverse_mass_of_,
                       &runge_kutta_lanes::atol_of_, &runge_kutta_lanes::rtol_of_,
                       &runge_kutta_lanes::memory_power_, &runge_kutta_lanes::omega0_,
                       &runge_kutta_lanes::omega1_, &runge_kutta_lanes::stage_count_})
      (this->*field)[w] = (opener.*field)[u];
    this->take_started(w);
  }

  /// The opening lanes' start of the sequence, on the engine's scalars: K_0 = F(0, y0) and
  /// start_integration; adaptive, the probe's K_1 and refine_initial_step. Then the lanes take
  /// their problems' scalars and convergence limits. K_0 is formed in slot 1 and moved to slot 0
  /// in the opening lanes alone: the running lanes' slot 0 holds their last stage (FSAL).
  void begin() {
    evaluate(state_.data());
    lane_values time = {}, step_size = {}, times;
    for (int w = 0; w < W; ++w) {
      runs_[w] = opening_[w] && v_.running(problem_[w]);
      if (!opening_[w]) continue;
      time[w] = v_.time[problem_[w]];
      step_size[w] = v_.dt_step[problem_[w]];
    }
    stage_times(0, time, step_size, times);
    rhs<true>(1, state_.data(), times);
    for (int w = 0; w < W; ++w)
      if (runs_[w]) v_.trial_gradient_norm[problem_[w]] = lanes_.trial_gradient_norm[w];
    lane_values opens;
    for (int w = 0; w < W; ++w) opens[w] = opening_[w];
    for (int e = 0; e < state_len_; ++e) replace_where(opens, work(1, e), work(0, e));
    start();
    if (s_.adaptive) {
      evaluate(stage_input_.data());
      for (int w = 0; w < W; ++w)
        times[w] = opening_[w] ? v_.time[problem_[w]] + v_.dt[problem_[w]] : Real(0);
      rhs<false>(1, stage_input_.data(), times);
      refine();
    }
    if constexpr (Chebyshev) set_up_chebyshev();
    for (int w = 0; w < W; ++w) {
      if (!opening_[w]) continue;
      this->take_started(w);
      memory_power_[w] = control_power(lanes_.pi_error_memory[w], s_.pi_exponent_memory);
    }
  }

  /// Stages 1 … Stages − 1 of a step, the stage a template argument so that its sums unroll;
  /// masked sums for every stage when any lane has a zero weight in any (see form_stage_input;
  /// the other stage rules have no weights).
  template <int... Preceding>
  void take_stages(std::integer_sequence<int, Preceding...>) {
    if (Rule != stage_rule::explicit_tableau || !has_zero_weight())
      (take_stage<Preceding + 1, false>(), ...);
    else
      (take_stage<Preceding + 1, true>(), ...);
  }

  /// Whether any lane's h·a_{stage,j} is zero in this step: one test of all the stages' weights
  /// (the masked sums are the unmasked ones where no weight is zero).
  bool has_zero_weight() const {
    for (int part = 0; part < W; part += register_lanes) {
      const register_vector h = part_register::load(lanes_.dt_step + part);
      auto zero = register_vector{} != register_vector{};  // false in every lane
      for (int stage = 1; stage < Stages; ++stage)
        for (int j = 0; j < stage; ++j) zero |= h * s_.scheme.a[stage][j] == Real(0);
      for (int w = 0; w < register_lanes; ++w)
        if (zero[w]) return true;
    }
    return false;
  }

  template <int Stage, bool Masked>
  void take_stage() {
    if constexpr (LinearlyImplicit)
      form_implicit_stage_input();
    else if constexpr (Chebyshev)
      form_chebyshev_stage_input();
    else
      form_stage_input<Stage, Masked>();
    evaluate(stage_input_.data());
    lane_values times;
    stage_times(Stage, lanes_.time, lanes_.dt_step, times);
    rhs<Stage == Stages - 1>(Stage, stage_input_.data(), times);
  }

  /// Each lane's t + c_stage·h.
  void stage_times(int stage, const Real* time, const Real* step_size, lane_values& times) const {
#pragma omp simd
    for (int w = 0; w < W; ++w) times[w] = time[w] + s_.scheme.c[stage] * step_size[w];
  }

  /// K_output = F(t, Y) (evaluate_dynamics), the gradient at Y in the gradient slot. ‖∇f(Y)‖ is
  /// recorded as the lanes' trial norm only where it is read (`RecordsNorm`: at y0 and at a step's
  /// last stage); the scalar path's intermediate stages write one that the last overwrites.
  template <bool RecordsNorm>
  void rhs(int output, const Real* point, const lane_values& times) {
    for (int e = 0; e < len_; ++e) {
      const Real* g = at(gradient_, e);
      // Second-order dynamics only: the V-parts of Y and K.
      const Real* velocity = second_order ? point + std::size_t(len_ + e) * W : g;
      Real* k_u = work(output, e);
      Real* k_v = second_order ? work(output, len_ + e) : k_u;
#pragma omp simd
      for (int w = 0; w < W; ++w) {
        const rate_element<Real> rate =
            dynamics_rate(Flow, g[w], second_order ? velocity[w] : Real(0), damping_of_[w],
                          inverse_mass_of_[w], times[w]);
        k_u[w] = rate.u;
        if constexpr (second_order) k_v[w] = rate.v;
      }
    }
    if constexpr (Flow == dynamics::newton) solve_with_factor(work(output, 0));
    if constexpr (RecordsNorm) this->gradient_norms(lanes_.trial_gradient_norm);
  }

  /// x ← (L Lᵀ)⁻¹x for each lane's n×k block `vector` and factor L (Newton: of G, making
  /// K_u = −H⁻¹g from the −g that rhs formed; linearly implicit: of G + I/h).
  void solve_with_factor(Real* vector) {
    cholesky_solve_in_lanes<Real, W>(factor_.data(), n_, k_, vector);
  }

  /// form_implicit_stage_input: Y = y + (I/h + G)⁻¹K_0, by each running lane's factor of G + I/h
  /// for this step.
  void form_implicit_stage_input() {
    factor_inverse_step();
    for (int e = 0; e < len_; ++e) std::copy(work(0, e), work(0, e) + W, at(stage_input_, e));
    solve_with_factor(stage_input_.data());
    for (int e = 0; e < len_; ++e) {
      Real* target = at(stage_input_, e);
      const Real* y = at(state_, e);
#pragma omp simd
      for (int w = 0; w < W; ++w) target[w] += y[w];
    }
  }

  /// factor_problem's factor of G + I/h for the step each running lane takes: cholesky_factor's
  /// operations in its order (every entry's subtractions in the order of the textbook inner
  /// products), across the lanes. A lane whose pivot fails its test (G singular beside 1/h)
  /// takes factor_problem itself on the engine's copy of its problem, which halves its step
  /// until a factor exists or ends the problem as diverged (then the lane sits the step out).
  void factor_inverse_step() {
    const auto factor = [&](int row, int column) { return at(factor_, row + column * n_); };
    lane_values inverse_step;
#pragma omp simd
    for (int w = 0; w < W; ++w) inverse_step[w] = 1 / lanes_.dt_step[w];
    std::copy(gram_.begin(), gram_.end(), factor_.begin());
    for (int d = 0; d < n_; ++d) {
      Real* diagonal = factor(d, d);
#pragma omp simd
      for (int w = 0; w < W; ++w) diagonal[w] += inverse_step[w];
    }
    lane_values fails = {};
    constexpr Real epsilon = std::numeric_limits<Real>::epsilon();
    for (int j = 0; j < n_; ++j) {
      lane_values original;
      std::copy(factor(j, j), factor(j, j) + W, original);
      for (int p = 0; p < j; ++p) {
        const Real* multiplier = factor(j, p);
        for (int i = j; i < n_; ++i) {
          Real* entry = factor(i, j);
          const Real* earlier = factor(i, p);
#pragma omp simd
          for (int w = 0; w < W; ++w) entry[w] -= earlier[w] * multiplier[w];
        }
      }
      Real* diagonal = factor(j, j);
#pragma omp simd
      for (int w = 0; w < W; ++w) {
        fails[w] = !(diagonal[w] > 16 * n_ * epsilon * original[w]) ? Real(1) : fails[w];
        diagonal[w] = std::sqrt(diagonal[w]);
      }
      for (int i = j + 1; i < n_; ++i) {
        Real* entry = factor(i, j);
#pragma omp simd
        for (int w = 0; w < W; ++w) entry[w] /= diagonal[w];
      }
    }
    for (int w = 0; w < W; ++w)
      if (runs_[w] && fails[w] != 0) factor_on_engine(w);
  }

  /// factor_problem (inverse_step) for lane w's problem on the engine, between its scalars' trip
  /// there and back.
  void factor_on_engine(int w) {
    const std::int64_t i = problem_[w];
    scalars_.store(v_, i, w);
    factor_problem(v_, i, factor_shift::inverse_step);
    scalars_.load(v_, i, w);
    if (!lanes_.running(w)) {
      runs_[w] = false;  // the engine holds its scalars
      return;
    }
    for (int e = 0; e < n_ * n_; ++e) factor_[std::size_t(e) * W + w] = v_.factor_of(i)[e];
  }

  /// setup_chebyshev for the opening lanes' running problems, from the chunk's estimates of their
  /// curvatures (setup_chebyshev_from, on the engine); each lane keeps its ω0, ω1 and stage count.
  void set_up_chebyshev() {
    for (int w = 0; w < W; ++w) {
      const std::int64_t i = problem_[w];
      if (!opening_[w] || !v_.running(i)) continue;
      setup_chebyshev_from(v_, s_, i, curvatures_->largest(i), curvatures_->smallest(i));
      omega0_[w] = v_.recurrence_of(i)[0];
      omega1_[w] = v_.recurrence_of(i)[1];
      stage_count_[w] = v_.parameter_of(i, stages);
    }
  }

  /// chebyshev_first_stage and chebyshev_stage j = 2 … s in every lane, each lane's arithmetic
  /// theirs, up to the largest s among the running lanes; a lane whose s is reached keeps its
  /// stages. The stage input ends as g_s, the step's result.
  void form_chebyshev_stage_input() {
    const bool rkc = s_.method == method::rkc;
    const Real* h = lanes_.dt_step;
    lane_values weight;
#pragma omp simd
    for (int w = 0; w < W; ++w)
      weight[w] =
          rkc ? rkc_weight(1, Real(1), Real(0), omega0_[w]) * omega1_[w] : omega1_[w] / omega0_[w];
    for (int e = 0; e < len_; ++e) {
      const Real* y = at(state_, e);
      const Real* k0 = work(0, e);
      Real* before_last = work(1, e);
      Real* last = at(stage_input_, e);
#pragma omp simd
      for (int w = 0; w < W; ++w) {
        before_last[w] = y[w];
        last[w] = y[w] + weight[w] * h[w] * k0[w];
      }
    }
    Real largest_count = 0;
    for (int w = 0; w < W; ++w) {
      // T_0, T_1, T_0′, T_1′, T_0″, T_1″
      recurrence_[0][w] = 1, recurrence_[1][w] = omega0_[w];
      recurrence_[2][w] = 0, recurrence_[3][w] = 1;
      recurrence_[4][w] = 0, recurrence_[5][w] = 0;
      if (runs_[w] && stage_count_[w] > largest_count) largest_count = stage_count_[w];
    }
    for (int j = 2; Real(j) <= largest_count; ++j) {
      evaluate(stage_input_.data());
      take_chebyshev_stage(j, rkc);
    }
  }

  /// chebyshev_stage j in the lanes that run and have s ≥ j, with ∇f(g_{j−1}) in the gradient
  /// slot: each lane's weights from its recurrence, then g_j in those lanes.
  void take_chebyshev_stage(int j, bool rkc) {
    lane_values active, keep_last, keep_before, step_weight, start_weight, flow_weight;
    for (int w = 0; w < W; ++w) {
      const bool takes = runs_[w] && Real(j) <= stage_count_[w];
      active[w] = takes;
      lanes_.gradient_evaluations[w] += takes;
    }
    // Local copies of the recurrence (T_{j−2}, T_{j−1}, T′_{j−2}, T′_{j−1}, T″_{j−2}, T″_{j−1})
    // and of ω: the loop below vectorises only on locals, as conclude's does.
    lane_values r[6], omega0_of, omega1_of;
    std::copy(&recurrence_[0][0], &recurrence_[0][0] + 6 * W, &r[0][0]);
    std::copy(omega0_, omega0_ + W, omega0_of);
    std::copy(omega1_, omega1_ + W, omega1_of);
    // rkc a constant in the loop: a loop-invariant condition there stops the vectoriser.
    const auto weigh = [&](auto rkc_constant) {
#pragma omp simd
      for (int w = 0; w < W; ++w) {
        const Real omega0 = omega0_of[w], omega1 = omega1_of[w];
        const Real t = 2 * omega0 * r[1][w] - r[0][w];
        const Real d = 2 * r[1][w] + 2 * omega0 * r[3][w] - r[2][w];
        const Real e2 = 4 * r[3][w] + 2 * omega0 * r[5][w] - r[4][w];
        if constexpr (decltype(rkc_constant)::value) {
          const Real b = rkc_weight(j, d, e2, omega0);
          const Real b_last = rkc_weight(j - 1, r[3][w], r[5][w], omega0);
          const Real b_before = rkc_weight(j - 2, r[2][w], r[4][w], omega0);
          keep_last[w] = 2 * b * omega0 / b_last;
          keep_before[w] = -b / b_before;
          step_weight[w] = 2 * b * omega1 / b_last;
          flow_weight[w] = -(1 - b_last * r[1][w]) * step_weight[w];
          start_weight[w] = 1 - keep_last[w] - keep_before[w];
        } else {
          keep_last[w] = 2 * omega0 * r[1][w] / t;
          keep_before[w] = -r[0][w] / t;
          step_weight[w] = 2 * omega1 * r[1][w] / t;
          start_weight[w] = 0;
          flow_weight[w] = 0;
        }
        const bool takes = active[w] != 0;
        r[0][w] = takes ? r[1][w] : r[0][w], r[1][w] = takes ? t : r[1][w];
        r[2][w] = takes ? r[3][w] : r[2][w], r[3][w] = takes ? d : r[3][w];
        r[4][w] = takes ? r[5][w] : r[4][w], r[5][w] = takes ? e2 : r[5][w];
      }
    };
    if (rkc)
      weigh(std::true_type{});
    else
      weigh(std::false_type{});
    std::copy(&r[0][0], &r[0][0] + 6 * W, &recurrence_[0][0]);
    const Real* h = lanes_.dt_step;
    for (int e = 0; e < len_; ++e) {
      const Real* y = at(state_, e);
      const Real* k0 = work(0, e);
      const Real* gradient = at(gradient_, e);
      Real* before_last = work(1, e);
      Real* last = at(stage_input_, e);
      lane_values next;
#pragma omp simd
      for (int w = 0; w < W; ++w) {
        const Real flow = -gradient[w];  // F(g_{j−1}) = −∇f
        next[w] = keep_last[w] * last[w] + keep_before[w] * before_last[w] +
                  step_weight[w] * h[w] * flow + start_weight[w] * y[w] +
                  flow_weight[w] * h[w] * k0[w];
      }
      replace_where(active, last, before_last);
      replace_where(active, next, last);
    }
  }

  /// Σ_e (values_e / (atol + |y_e|·rtol))² per lane, as weighted_rms sums it.
  void weighted_sums(const Real* values, lane_values& sums) const {
    sum_over_elements(0, state_len_, sums, [&](int e, int w) {
      const std::size_t slot = std::size_t(e) * W + w;
      const Real scaled =
          scaled_by_tolerance(values[slot], std::fabs(state_[slot]), atol_of_[w], rtol_of_[w]);
      return scaled * scaled;
    });
  }

  /// start_integration: the scalar opening per lane, then each adaptive lane's probe point.
  void start() {
    lane_values d0, d1, probe_step, probes;  // probes: 1 where the lane writes a probe point
    weighted_sums(state_.data(), d0);
    weighted_sums(work(0, 0), d1);
    for (int w = 0; w < W; ++w) {
      probes[w] = 0;
      probe_step[w] = 0;
      const std::int64_t i = problem_[w];
      if (!runs_[w] || !open_integration(v_, s_, i)) continue;
      Real dt = v_.parameter_of(i, step);
      if (std::isnan(dt) && !s_.adaptive) {
        dt = default_fixed_step(v_, s_, i);
      } else if (std::isnan(dt)) {
        dt = clipped_step(
            s_, first_step_guess(std::sqrt(d0[w] / state_len_), std::sqrt(d1[w] / state_len_)),
            Real(0));
        probes[w] = 1;
        probe_step[w] = dt;
      }
      set_first_step(v_, s_, i, dt);
    }
    for (int e = 0; e < state_len_; ++e) {
      const Real* y = at(state_, e);
      const Real* k0 = work(0, e);
      lane_values points;
#pragma omp simd
      for (int w = 0; w < W; ++w) points[w] = y[w] + probe_step[w] * k0[w];
      replace_where(probes, points, at(stage_input_, e));
    }
  }

  /// refine_initial_step.
  void refine() {
    lane_values difference_sq, d1;
    sum_over_elements(0, state_len_, difference_sq, [&](int e, int w) {
      const Real scaled = scaled_by_tolerance(
          work(1, e)[w] - work(0, e)[w], std::fabs(at(state_, e)[w]), atol_of_[w], rtol_of_[w]);
      return scaled * scaled;
    });
    weighted_sums(work(0, 0), d1);
    for (int w = 0; w < W; ++w)
      if (opening_[w] && refines_initial_step(v_, problem_[w]))
        refine_initial_step_from(v_, s_, problem_[w], difference_sq[w],
                                 std::sqrt(d1[w] / state_len_));
  }

  /// form_stage_input: Y = y + Σ_{j<Stage} (h·a_{Stage,j})·K_j, in the scalar order over j, each
  /// lane's sum in a register. The scalar path skips a zero weight (0·K_j would turn an infinite
  /// K_j into NaN, and adding it would turn a −0 into +0): where any lane has one in the step (a
  /// zero a_{Stage,j}, as in RK4's tableau, or an h that underflowed), the sums take the masked
  /// pass (`Masked`, decided once per step by take_stages).
  template <int Stage, bool Masked>
  void form_stage_input() {
    lane_values weights[Stage];
    for (int j = 0; j < Stage; ++j) {
      const Real a = s_.scheme.a[Stage][j];
#pragma omp simd
      for (int w = 0; w < W; ++w) weights[j][w] = lanes_.dt_step[w] * a;
    }
    sum_stages<Stage, Masked>(weights);
  }

  template <int Stage, bool Masked>
  void sum_stages(const lane_values (&weights)[Stage]) {
    for (int e = 0; e < state_len_; ++e) {
      const Real* y = at(state_, e);
      Real* target = at(stage_input_, e);
#pragma omp simd
      for (int w = 0; w < W; ++w) {
        Real sum = y[w];
        for (int j = 0; j < Stage; ++j) {
          const Real added = multiply_add(weights[j][w], work(j, e)[w], sum);
          sum = Masked && weights[j][w] == Real(0) ? sum : added;
        }
        target[w] = sum;
      }
    }
  }

  /// finish_step: each lane's EEst and its y_new's velocity norm, the decisions and conclude_step
  /// (conclude), then the accepted lanes' y ← y_new and K_0 ← K_last.
  void finish() {
    const Real* h = lanes_.dt_step;
    lane_values error_sq = {}, velocity_sq;
    if (s_.adaptive) {
      Real error_weights[Stages];
      for (int j = 0; j < Stages; ++j) error_weights[j] = s_.scheme.error_weights[j];
      sum_over_elements(0, state_len_, error_sq, [&](int e, int w) {
        Real weighted_stages = 0;
        for (int j = 0; j < Stages; ++j)
          weighted_stages = multiply_add(error_weights[j], work(j, e)[w], weighted_stages);
        const Real scaled = scaled_error(weighted_stages, h[w], at(state_, e)[w],
                                         at(stage_input_, e)[w], atol_of_[w], rtol_of_[w]);
        return scaled * scaled;
      });
    }
    sum_over_elements(len_, state_len_, velocity_sq, [&](int e, int w) {
      const Real velocity = at(stage_input_, e)[w];
      return velocity * velocity;
    });
    // Descent control (gradient flow: the state is u alone): the trapezoid rule's sums, from
    // y, y_new, K_0 = −∇f(y) and the last stage's ∇f(y_new).
    lane_values change = {}, scale = {};
    if (s_.descent) {
      sum_over_elements(0, len_, change, [&](int e, int w) {
        return descent_change_term(at(state_, e)[w], at(stage_input_, e)[w], work(0, e)[w],
                                   at(gradient_, e)[w]);
      });
      sum_over_elements(0, len_, scale, [&](int e, int w) {
        return descent_scale_term(at(state_, e)[w], at(stage_input_, e)[w], work(0, e)[w],
                                  at(gradient_, e)[w]);
      });
    }
    lane_values accepts;  // 1 where a running lane's step stands
    if (s_.descent)
      conclude<step_control::descent>(error_sq, velocity_sq, change, scale, accepts);
    else if (s_.adaptive)
      conclude<step_control::error_control>(error_sq, velocity_sq, change, scale, accepts);
    else
      conclude<step_control::fixed>(error_sq, velocity_sq, change, scale, accepts);
    for (int e = 0; e < state_len_; ++e) {
      replace_where(accepts, at(stage_input_, e), at(state_, e));
      replace_where(accepts, work(Stages - 1, e), work(0, e));
    }
    // The last stage was evaluated at y_new, which an accepted lane now holds.
    for (int w = 0; w < W; ++w) gradient_at_state_[w] = accepts[w] != 0;
  }

  /// Each lane's decision — PI control on its EEst (from `error_sq`, the sum of its weighted errors
  /// squared), descent control on the trapezoid rule's sums (`change`, `scale`), or a fixed step,
  /// which stands — and conclude_step (the velocity's norm from `velocity_sq`), for every lane at
  /// once: the view of the lanes and the settings are local copies, so that the compiler keeps
  /// what the step control reads of them in registers instead of loading it under each lane's
  /// mask, and vectorises the lot (flatten: conclude_step_within is inlined into the loop).
  /// `accepts`: 1 where a running lane's step stands. The problems that stopped in this step take
  /// their scalars back to the engine. One logarithm of EEst gives both of its powers: EEst^β1 for
  /// this step, EEst^β2 for the next, should EEst become the memory.
  template <step_control Control>
  [[gnu::flatten, gnu::noinline]] void conclude(const lane_values& error_sq,
                                                const lane_values& velocity_sq,
                                                const lane_values& change, const lane_values& scale,
                                                lane_values& accepts) {
    constexpr bool Adaptive = Control == step_control::error_control;
    const lockstep_view<Real> lanes = lanes_;
    step_settings<Real> s = s_;
    const Real initial_memory_power = initial_memory_power_;
    // What runs_in_lanes and the caller know, as constants: a flag tested in every lane stops the
    // vectoriser.
    s.adaptive = Adaptive;
    s.descent = Control == step_control::descent;
    s.linearly_implicit = LinearlyImplicit;
    // Local copies of the lanes' cached memory powers too: the loop below vectorises only on
    // locals.
    lane_values estimate, error_power, estimate_memory_power, memory_power;
    if constexpr (Adaptive) {
#pragma omp simd
      for (int w = 0; w < W; ++w) {
        memory_power[w] = memory_power_[w];
        estimate[w] = std::sqrt(error_sq[w] / state_len_);
        const two_powers<Real> powers =
            control_powers(estimate[w], s.pi_exponent_error, s.pi_exponent_memory);
        error_power[w] = powers.first;
        estimate_memory_power[w] = powers.second;
      }
    }
#pragma omp simd
    for (int w = 0; w < W; ++w) {
      Real next_dt = lanes.dt[w];
      bool accept = true;
      if constexpr (Control == step_control::descent)
        accept = trapezoid_decision(s, change[w], scale[w], lanes.dt_step[w],
                                    lanes.gradient_norm[w], lanes.trial_gradient_norm[w], next_dt);
      if constexpr (Adaptive)
        accept = error_control_from(lanes, s, w, estimate[w], error_power[w], memory_power[w],
                                    lanes.dt_step[w], next_dt);
      accepts[w] = accept;
      if constexpr (Adaptive) {
        // control_power of the memory error_control_from left: EEst, the floor, or unchanged.
        const Real memory = lanes.pi_error_memory[w];
        memory_power[w] = memory == estimate[w]           ? estimate_memory_power[w]
                          : memory == s.pi_memory_initial ? initial_memory_power
                                                          : memory_power[w];
      }
      conclude_step_within(lanes, s, w, accept, next_dt,
                           second_order && accept ? std::sqrt(velocity_sq[w]) : Real(0),
                           convergence_limits<Real>{gradient_limit_[w], velocity_limit_[w]});
    }
    if constexpr (Adaptive) std::copy(memory_power, memory_power + W, memory_power_);
    for (int w = 0; w < W; ++w) {
      if (!runs_[w])
        accepts[w] = 0;
      else if (!lanes.running(w))
        scalars_.store(v_, problem_[w], w);
    }
  }

  lane_vectors stage_input_, work_;
  // Each lane's Cholesky factor, element-major: Newton: of G; linearly implicit: of G + I/h.
  lane_vectors factor_;
  // Chebyshev: the chunk's curvature estimates; each lane's ω0, ω1 and stage count s, and its
  // recurrence's last two T, T′, T″.
  const chebyshev_curvatures<Real>* curvatures_ = nullptr;
  alignas(W * sizeof(Real)) lane_values omega0_ = {}, omega1_ = {}, stage_count_ = {};
  alignas(W * sizeof(Real)) lane_values recurrence_[6] = {};
  // Each lane's hyperparameters the passes read, fixed once resolve_parameters has run.
  alignas(W * sizeof(Real)) lane_values damping_of_, inverse_mass_of_, atol_of_, rtol_of_;
  // control_power(pi_error_memory, β2) of each lane's problem, and of the memory's floor.
  alignas(W * sizeof(Real)) lane_values memory_power_ = {};
  const Real initial_memory_power_ = control_power(s_.pi_memory_initial, s_.pi_exponent_memory);
  // An opener's started problems not yet handed over: lanes ready_[next_ready_ … ready_count_ − 1].
  int ready_[W] = {}, ready_count_ = 0, next_ready_ = 0;
};

template <class Real, dynamics Flow>
std::int64_t run_lanes_of(const lockstep_view<Real>& v, const step_settings<Real>& settings,
                          const std::function<bool()>& should_stop) {
  switch (settings.scheme.stage_count) {
    case 2:
      return run_lane_blocks<runge_kutta_lanes<Real, Flow, 2, stage_rule::explicit_tableau>>(
          v, settings, should_stop);
    case 4:
      return run_lane_blocks<runge_kutta_lanes<Real, Flow, 4, stage_rule::explicit_tableau>>(
          v, settings, should_stop);
    case 5:
      return run_lane_blocks<runge_kutta_lanes<Real, Flow, 5, stage_rule::explicit_tableau>>(
          v, settings, should_stop);
    default:  // 7: step_settings::runs_in_lanes admits no other count
      return run_lane_blocks<runge_kutta_lanes<Real, Flow, 7, stage_rule::explicit_tableau>>(
          v, settings, should_stop);
  }
}

}  // namespace

template <class Real>
std::int64_t run_least_squares_in_lanes(engine<Real>& engine, const step_settings<Real>& settings,
                                        const std::function<bool()>& should_stop) {
  const lockstep_view<Real> v = engine.view();
  if (settings.kind == method_kind::optimizer)
    return run_optimizer_in_lanes(v, settings, should_stop);
  if (settings.linearly_implicit)
    return run_lane_blocks<
        runge_kutta_lanes<Real, dynamics::gradient, 2, stage_rule::linearly_implicit>>(v, settings,
                                                                                       should_stop);
  if (settings.chebyshev)
    return run_lane_blocks<runge_kutta_lanes<Real, dynamics::gradient, 2, stage_rule::chebyshev>>(
        v, settings, should_stop, chebyshev_curvatures<Real>(v));
  switch (settings.dynamics) {
    case dynamics::heavy_ball:
      return run_lanes_of<Real, dynamics::heavy_ball>(v, settings, should_stop);
    case dynamics::nesterov:
      return run_lanes_of<Real, dynamics::nesterov>(v, settings, should_stop);
    case dynamics::newton:
      return run_lanes_of<Real, dynamics::newton>(v, settings, should_stop);
    case dynamics::gradient:
      break;
  }
  return run_lanes_of<Real, dynamics::gradient>(v, settings, should_stop);
}

template std::int64_t run_least_squares_in_lanes(engine<float>&, const step_settings<float>&,
                                                 const std::function<bool()>&);
template std::int64_t run_least_squares_in_lanes(engine<double>&, const step_settings<double>&,
                                                 const std::function<bool()>&);

}  // namespace gradflow::detail
