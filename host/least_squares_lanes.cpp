#include "least_squares_lanes.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

#include "aligned_allocator.hpp"
#include "gradflow/detail/cpu_loops.hpp"
#include "gradflow/detail/multiply_add.hpp"
#include "gradflow/detail/phases.hpp"
#include "lane_scalars.hpp"
#include "vector_register.hpp"

namespace gradflow::detail {
namespace {

/// Problems per lane block: one 512-bit vector of Real (AVX-512; narrower vector units take a
/// block in two or four registers).
template <class Real>
constexpr int lane_count = 64 / int(sizeof(Real));

/// A chunk's problems, handed out to the threads' lane blocks in groups of consecutive problems.
class problem_queue {
public:
  problem_queue(std::int64_t first, std::int64_t end) : next_(first), end_(end) {}
  bool has_more() const { return next_.load(std::memory_order_relaxed) < end_; }
  /// The next `count` problems [first, end) (fewer at the chunk's end, none when it is empty).
  std::pair<std::int64_t, std::int64_t> take(std::int64_t count) {
    const std::int64_t first = std::min(end_, next_.fetch_add(count, std::memory_order_relaxed));
    return {first, std::min(end_, first + count)};
  }

private:
  std::atomic<std::int64_t> next_;
  const std::int64_t end_;
};

/// One thread's lane block: W problems at a time from a problem_queue, each vector element-major
/// (element e of lane w at e·W + w). Every lane computes every pass; a lane whose problem has
/// stopped, or that holds none, is masked where it would write its vectors: its state is kept.
/// The step control (ode_step.hpp's per-problem functions) runs on the lanes' own copies of the
/// step-control scalars (lane_scalars) for every lane at once, so that it vectorises: a problem's
/// copies go back to the engine in the step it stops, and what the step control computes on a
/// lane after that, or on a lane without a problem, is never read. A lane whose problem stopped
/// hands its answer back and takes the queue's next problem (refills), so a block does not wait
/// for its slowest member. Each lane's arithmetic is the scalar path's, operation for operation
/// (ode_step.hpp's element helpers and step control), so the bits are the same whichever lane and
/// thread a problem lands in. The dynamics and the tableau's stage count are template arguments:
/// the loops over stages unroll.
template <class Real, dynamics Flow, int Stages>
class lane_block {
public:
  static constexpr int W = lane_count<Real>;
  // Idle lanes that make a refill worth its passes while the queue has problems: one in eight.
  // The seed batch's work spent on stopped lanes and refills, f64 / f32 at B = 10⁴, refilling at
  // every stop 1.7 % / 9.7 %, at one lane in eight 1.7 % / 7.9 %, at one in four 5.2 % / 11 %;
  // never 14 % / 22 %.
  static constexpr int refill_at = W / 8;
  static_assert(fused_block % W == 0, "a chunk of the queue starts at a multiple of W");
  // Whether the state carries a velocity (its second half).
  static constexpr bool second_order = Flow == dynamics::heavy_ball || Flow == dynamics::nesterov;

  lane_block(const lockstep_view<Real>& v, const step_settings<Real>& s)
      : v_(v),
        s_(s),
        n_(v.unknowns),
        k_(v.rhs_count),
        len_(v.len()),
        state_len_(v.state_len()),
        gram_(std::size_t(n_) * n_ * W),
        linear_(std::size_t(len_) * W),
        gradient_(std::size_t(len_) * W),
        state_(std::size_t(state_len_) * W),
        stage_input_(std::size_t(state_len_) * W),
        work_(std::size_t(Stages) * state_len_ * W),
        lanes_(scalars_.view()) {
    for (int w = 0; w < W; ++w) {
      problem_[w] = -1;
      live_[w] = false;
    }
  }
  lane_block(const lane_block&) = delete;  // lanes_ points into this block's scalars_
  lane_block& operator=(const lane_block&) = delete;

  /// Solves the problems `queue` hands out, a lane handing back its problem's answer as soon as it
  /// stops and idle lanes taking the next ones (`refills`), until the queue is empty and no lane
  /// runs. Returns the products computed: W per pass (every lane computes; one without a running
  /// problem into scratch).
  std::int64_t solve(problem_queue& queue) {
    if (!admit(queue)) return 0;
    begin();
    for (;;) {
      int running = open_step();
      if (running < live_count_) retire(true);
      while (refills(running, queue)) {
        retire(false);
        if (admit(queue)) begin();
        running = open_step();
      }
      if (running == 0) return passes_ * W;
      take_stages(std::make_integer_sequence<int, Stages - 1>{});
      finish();
    }
  }

private:
  // W lanes of Real fill one cache line (lane_count): vectors of lane blocks start on one.
  using lane_vectors = std::vector<Real, aligned_allocator<Real, W * sizeof(Real)>>;
  using lane_values = Real[W];
  // A part of the lanes as wide as the target's vector registers (AVX-512: all W; AVX2: half;
  // SSE2 or NEON: a quarter), as one GCC vector, for sums carried over a loop across elements: it
  // stays in a register, where an array of sums is stored and reloaded at every element, and ten
  // of them (G·X's) fit in the register file, where ten whole blocks would take twenty AVX2
  // registers of sixteen and spill at every term. Its arithmetic is elementwise, each lane's the
  // scalar path's.
  using part_register = vector_register<Real, std::min(W, native_vector_bytes / int(sizeof(Real)))>;
  static constexpr int register_lanes = part_register::lanes;
  using register_vector = typename part_register::type;
  /// target[w] ← values[w] in the lanes where `where` is nonzero, a register's part at a time: a
  /// blend and a whole store. (GCC would store under a mask, vmaskmovps, which AMD's cores
  /// microcode: on AVX2 the hottest instruction of the step.)
  static void replace_where(const lane_values& where, const Real* values, Real* target) {
    for (int part = 0; part < W; part += register_lanes)
      part_register::store(part_register::load(where + part) != 0
                               ? part_register::load(values + part)
                               : part_register::load(target + part),
                           target + part);
  }
  /// sums[w] = Σ_{e ∈ [first, end)} term(e, w) in every lane w, in the scalar order over e: a
  /// register's part of the lanes at a time, its sums in that register across the elements.
  template <class Term>
  static void sum_over_elements(int first, int end, lane_values& sums, Term term) {
    for (int part = 0; part < W; part += register_lanes) {
      register_vector sum = {};
      for (int e = first; e < end; ++e) {
        Real terms[register_lanes];
#pragma omp simd
        for (int w = 0; w < register_lanes; ++w) terms[w] = term(e, part + w);
        sum += part_register::load(terms);
      }
      part_register::store(sum, sums + part);
    }
  }
  /// multiply_add in every lane of a part (one vector instruction where the target fuses it).
  static register_vector multiply_add_in_lanes(const register_vector& a, const register_vector& b,
                                               const register_vector& c) {
    register_vector result;
    for (int w = 0; w < register_lanes; ++w) result[w] = multiply_add(a[w], b[w], c[w]);
    return result;
  }

  Real* at(lane_vectors& vector, int element) { return vector.data() + std::size_t(element) * W; }
  Real* work(int stage, int element) {
    return work_.data() + (std::size_t(stage) * state_len_ + element) * W;
  }

  /// Every lane without a problem takes the queue's next one (while it has one): the per-problem
  /// set-up the sequence runs before its first evaluation (a factor of G, the resolved
  /// parameters) on the engine's own arrays, then the lane's copies of G, C, y0 and the
  /// parameters its passes read. False when no lane took one.
  bool admit(problem_queue& queue) {
    bool admitted = false;
    for (int w = 0; w < W; ++w) opening_[w] = false;
    for (int w = 0; w < W; ++w) {
      if (live_[w]) continue;
      const std::int64_t i = next_problem(queue);
      if (i < 0) break;
      opening_[w] = live_[w] = admitted = true;
      problem_[w] = i;
      ++live_count_;
      if (s_.needs_factor)
        factor_problem(v_, i,
                       s_.factor_at_start ? factor_shift::none : factor_shift::curvature_only);
      resolve_parameters(v_, s_, i);
      damping_of_[w] = v_.parameter_of(i, damping);
      inverse_mass_of_[w] = v_.parameter_of(i, inverse_mass);
      atol_of_[w] = v_.parameter_of(i, atol);
      rtol_of_[w] = v_.parameter_of(i, rtol);
      for (int e = 0; e < n_ * n_; ++e) gram_[std::size_t(e) * W + w] = v_.curvature_of(i)[e];
      for (int e = 0; e < len_; ++e) linear_[std::size_t(e) * W + w] = v_.linear_term_of(i)[e];
      for (int e = 0; e < state_len_; ++e) state_[std::size_t(e) * W + w] = v_.state_of(i)[e];
    }
    return admitted;
  }

  /// Whether the stopped lanes hand back their answers and the idle ones take new problems before
  /// the next step: when none runs, or when enough are idle to pay for the passes a refill takes
  /// (the new problems' K_0 and probe; the stopped ones' ∇f where not at hand) and the queue has
  /// more.
  bool refills(int running, const problem_queue& queue) const {
    const bool more = held_ < held_end_ || queue.has_more();
    return running == 0 ? live_count_ > 0 || more : W - running >= refill_at && more;
  }

  /// The block's next problem, or −1 when the queue is empty: the queue hands a block W
  /// consecutive problems at a time (a chunk starts at a multiple of W), so that no two threads
  /// write the per-problem scalars of one cache line at every step.
  std::int64_t next_problem(problem_queue& queue) {
    if (held_ == held_end_) std::tie(held_, held_end_) = queue.take(W);
    return held_ < held_end_ ? held_++ : -1;
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
    for (int w = 0; w < W; ++w) {
      if (!opening_[w]) continue;
      scalars_.load(v_, problem_[w], w);
      memory_power_[w] = control_power(lanes_.pi_error_memory[w], s_.pi_exponent_memory);
      const convergence_limits<Real> limits = convergence_limits_of(v_, problem_[w]);
      gradient_limit_[w] = limits.gradient;
      velocity_limit_[w] = limits.velocity;
    }
  }

  /// The lanes whose problems stopped (`at_hand`: only those whose ∇f at the returned state is in
  /// the gradient slot, as after an accepted last step, which then cost no pass): that ∇f, the
  /// state and gradient back to the engine (which has their scalars since they stopped),
  /// judge_answer; the lanes are free.
  void retire(bool at_hand) {
    bool retiring[W], retires = false, known = true;
    for (int w = 0; w < W; ++w) {
      retiring[w] = live_[w] && !runs_[w] && (gradient_at_state_[w] || !at_hand);
      retires = retires || retiring[w];
      known = known && (!retiring[w] || gradient_at_state_[w]);
    }
    if (!retires) return;
    if (!known) evaluate(state_.data());
    for (int w = 0; w < W; ++w) {
      if (!retiring[w]) continue;
      const std::int64_t i = problem_[w];
      for (int e = 0; e < state_len_; ++e) v_.state_of(i)[e] = state_[std::size_t(e) * W + w];
      for (int e = 0; e < len_; ++e) v_.gradient_of(i)[e] = gradient_[std::size_t(e) * W + w];
      judge_answer(v_, i);
      live_[w] = false;
      --live_count_;
    }
  }

  /// ∇f = G·X − C at `point`, each lane's sums over j in the scalar order (quadratic_gradient),
  /// several sums at a time so that independent ones stay in registers and hide the adds' latency,
  /// and each of G's elements is loaded once for two columns of X: two columns at a time (one for
  /// an odd k's last), all rows at once up to 5 (ten accumulators), else four at a time and the
  /// rest together.
  void evaluate(const Real* point) {
    ++passes_;
    for (int w = 0; w < W; ++w) gradient_at_state_[w] = point == state_.data();
    int c = 0;
    for (; c + 2 <= k_; c += 2) evaluate_columns<2>(point, c);
    if (c < k_) evaluate_columns<1>(point, c);
  }

  template <int Columns>
  void evaluate_columns(const Real* point, int c) {
    int r = 0;
    if (n_ > 5)
      for (; r + 4 <= n_; r += 4) evaluate_rows<4, Columns>(point, r, c);
    switch (n_ - r) {
      case 0:
        break;
      case 1:
        evaluate_rows<1, Columns>(point, r, c);
        break;
      case 2:
        evaluate_rows<2, Columns>(point, r, c);
        break;
      case 3:
        evaluate_rows<3, Columns>(point, r, c);
        break;
      case 4:
        evaluate_rows<4, Columns>(point, r, c);
        break;
      default:  // 5: n ≤ 5 takes every row at once
        evaluate_rows<5, Columns>(point, r, c);
    }
  }

  template <int Rows, int Columns>
  void evaluate_rows(const Real* point, int first_row, int first_column) {
    for (int part = 0; part < W; part += register_lanes)
      evaluate_rows_in_part<Rows, Columns>(point + part, first_row, first_column, part);
  }

  /// evaluate_rows on the lanes [part, part + register_lanes) (`point` at lane `part`).
  template <int Rows, int Columns>
  [[gnu::always_inline]] void evaluate_rows_in_part(const Real* point, int first_row,
                                                    int first_column, int part) {
    const auto g = [&](int row, int j) {
      return part_register::load(at(gram_, (first_row + row) * n_ + j) + part);
    };
    const auto x = [&](int j, int column) {
      return part_register::load(point + std::size_t(j * k_ + first_column + column) * W);
    };
    // Each sum starts at 0 as the scalar one does (g·x + 0, not g·x: a −0 product stays +0).
    // Unrolled over rows and columns so that the sums are registers.
    register_vector sums[Rows][Columns];
#pragma GCC unroll 16
    for (int row = 0; row < Rows; ++row)
#pragma GCC unroll 16
      for (int column = 0; column < Columns; ++column)
        sums[row][column] = multiply_add_in_lanes(g(row, 0), x(0, column), register_vector{});
    for (int j = 1; j < n_; ++j)
#pragma GCC unroll 16
      for (int row = 0; row < Rows; ++row) {
        const register_vector g_row_j = g(row, j);
#pragma GCC unroll 16
        for (int column = 0; column < Columns; ++column)
          sums[row][column] = multiply_add_in_lanes(g_row_j, x(j, column), sums[row][column]);
      }
#pragma GCC unroll 16
    for (int row = 0; row < Rows; ++row)
#pragma GCC unroll 16
      for (int column = 0; column < Columns; ++column) {
        const int element = (first_row + row) * k_ + first_column + column;
        part_register::store(sums[row][column] - part_register::load(at(linear_, element) + part),
                             at(gradient_, element) + part);
      }
  }

  /// Whether each lane runs the step about to be taken; returns how many do.
  int open_step() {
    int running = 0;
    for (int w = 0; w < W; ++w) {
      runs_[w] = live_[w] && lanes_.running(w);
      running += runs_[w];
    }
    return running;
  }

  /// Stages 1 … Stages − 1 of a step, the stage a template argument so that its sums unroll;
  /// masked sums for every stage when any lane has a zero weight in any (see form_stage_input).
  template <int... Preceding>
  void take_stages(std::integer_sequence<int, Preceding...>) {
    if (has_zero_weight())
      (take_stage<Preceding + 1, true>(), ...);
    else
      (take_stage<Preceding + 1, false>(), ...);
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
    if constexpr (RecordsNorm) {
      lane_values sums;
      sum_over_elements(0, len_, sums, [&](int e, int w) {
        const Real gradient = gradient_[std::size_t(e) * W + w];
        return gradient * gradient;
      });
      Real* trial_norm = lanes_.trial_gradient_norm;
#pragma omp simd
      for (int w = 0; w < W; ++w) trial_norm[w] = std::sqrt(sums[w]);
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
    lane_values accepts;  // 1 where a running lane's step stands
    if (s_.adaptive)
      conclude<true>(error_sq, velocity_sq, accepts);
    else
      conclude<false>(error_sq, velocity_sq, accepts);
    for (int e = 0; e < state_len_; ++e) {
      replace_where(accepts, at(stage_input_, e), at(state_, e));
      replace_where(accepts, work(Stages - 1, e), work(0, e));
    }
    // The last stage was evaluated at y_new, which an accepted lane now holds.
    for (int w = 0; w < W; ++w) gradient_at_state_[w] = accepts[w] != 0;
  }

  /// Each lane's decision — PI control on its EEst (from `error_sq`, the sum of its weighted errors
  /// squared), or a fixed step, which stands — and conclude_step (the velocity's norm from
  /// `velocity_sq`), for every lane at once: the view of the lanes and the settings are local
  /// copies, so that the compiler keeps what the step control reads of them in registers instead
  /// of loading it under each lane's mask, and vectorises the lot (flatten: conclude_step_within
  /// is inlined into the loop). `accepts`: 1 where a running lane's step stands. The problems that
  /// stopped in this step take their scalars back to the engine. One logarithm of EEst gives both
  /// of its powers: EEst^β1 for this step, EEst^β2 for the next, should EEst become the memory.
  template <bool Adaptive>
  [[gnu::flatten, gnu::noinline]] void conclude(const lane_values& error_sq,
                                                const lane_values& velocity_sq,
                                                lane_values& accepts) {
    const lockstep_view<Real> lanes = lanes_;
    step_settings<Real> s = s_;
    const Real initial_memory_power = initial_memory_power_;
    // What runs_in_lanes and the caller know, as constants: a flag tested in every lane stops the
    // vectoriser.
    s.adaptive = Adaptive;
    s.descent = false;
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
      const bool accept =
          !Adaptive || error_control_from(lanes, s, w, estimate[w], error_power[w], memory_power[w],
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

  const lockstep_view<Real> v_;
  const step_settings<Real>& s_;
  const int n_, k_, len_, state_len_;
  lane_vectors gram_, linear_, gradient_, state_, stage_input_, work_;
  // Each lane's problem (-1 before its first), whether it holds one not yet retired, whether it
  // took it in the last admit.
  std::int64_t problem_[W];
  bool live_[W], opening_[W];
  bool gradient_at_state_[W];  // whether the gradient slot holds ∇f at the lane's state
  // Each lane's hyperparameters the passes read, fixed once resolve_parameters has run, and its
  // convergence limits, fixed once ‖∇f(u0)‖ is known.
  alignas(W * sizeof(Real)) lane_values damping_of_, inverse_mass_of_, atol_of_, rtol_of_;
  alignas(W * sizeof(Real)) lane_values gradient_limit_ = {}, velocity_limit_ = {};
  // control_power(pi_error_memory, β2) of each lane's problem, and of the memory's floor.
  alignas(W * sizeof(Real)) lane_values memory_power_ = {};
  const Real initial_memory_power_ = control_power(s_.pi_memory_initial, s_.pi_exponent_memory);
  lane_scalars<Real, W> scalars_;
  const lockstep_view<Real> lanes_;  // scalars_ as problems 0 … W − 1
  bool runs_[W];                     // whether each lane runs the step being taken (open_step)
  int live_count_ = 0;
  std::int64_t held_ = 0, held_end_ = 0;  // the block's problems taken but not yet in a lane
  std::int64_t passes_ = 0;               // evaluations, each a product G·X in all W lanes
};

template <class Real, dynamics Flow, int Stages>
std::int64_t run_lanes_of(const lockstep_view<Real>& v, const step_settings<Real>& settings,
                          const std::function<bool()>& should_stop) {
  std::int64_t products = 0;
  for (std::int64_t first = 0; first < v.batch_size; first += fused_block) {
    if (should_stop && should_stop()) throw interrupted("the solve was interrupted");
    problem_queue queue(first, std::min(v.batch_size, first + fused_block));
#pragma omp parallel reduction(+ : products)
    {
      lane_block<Real, Flow, Stages> block(v, settings);
      products += block.solve(queue);
    }
  }
  return products;
}

template <class Real, dynamics Flow>
std::int64_t run_lanes_of(const lockstep_view<Real>& v, const step_settings<Real>& settings,
                          const std::function<bool()>& should_stop) {
  switch (settings.scheme.stage_count) {
    case 2:
      return run_lanes_of<Real, Flow, 2>(v, settings, should_stop);
    case 4:
      return run_lanes_of<Real, Flow, 4>(v, settings, should_stop);
    case 5:
      return run_lanes_of<Real, Flow, 5>(v, settings, should_stop);
    default:  // 7: step_settings::runs_in_lanes admits no other count
      return run_lanes_of<Real, Flow, 7>(v, settings, should_stop);
  }
}

}  // namespace

template <class Real>
std::int64_t run_least_squares_in_lanes(engine<Real>& engine, const step_settings<Real>& settings,
                                        const std::function<bool()>& should_stop) {
  const lockstep_view<Real> v = engine.view();
  switch (settings.dynamics) {
    case dynamics::heavy_ball:
      return run_lanes_of<Real, dynamics::heavy_ball>(v, settings, should_stop);
    case dynamics::nesterov:
      return run_lanes_of<Real, dynamics::nesterov>(v, settings, should_stop);
    case dynamics::gradient:
    case dynamics::newton:
      break;
  }
  return run_lanes_of<Real, dynamics::gradient>(v, settings, should_stop);
}

template std::int64_t run_least_squares_in_lanes(engine<float>&, const step_settings<float>&,
                                                 const std::function<bool()>&);
template std::int64_t run_least_squares_in_lanes(engine<double>&, const step_settings<double>&,
                                                 const std::function<bool()>&);

}  // namespace gradflow::detail
