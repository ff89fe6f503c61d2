#pragma once
// What every lane block of the least-squares fused path on the CPU shares: W problems at a time
// from a queue, their vectors interleaved element by element (AoSoA), ∇f = G·X − C for all W
// lanes at once, and the problems' admission and retirement. The methods' lane blocks
// (least_squares_lanes.cpp: explicit Runge–Kutta and the linearly implicit Euler step;
// optimizer_lanes.cpp: gd, momentum, nag, adam, FIRE; conjugate_gradient_lanes.cpp;
// lbfgs_lanes.cpp) build their steps on it.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "aligned_allocator.hpp"
#include "gradflow/detail/cpu_loops.hpp"
#include "gradflow/detail/multiply_add.hpp"
#include "gradflow/detail/phases.hpp"
#include "lane_scalars.hpp"
#include "vector_register.hpp"

namespace gradflow::detail {

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

/// W problems at a time from a problem_queue, each vector element-major (element e of lane w at
/// e·W + w). Every lane computes every pass; a lane whose problem has stopped, or that holds none,
/// is masked where it would write its vectors: its state is kept. The step control runs on the
/// lanes' own copies of the per-problem scalars (lane_scalars) for every lane at once, so that it
/// vectorises: a problem's copies go back to the engine in the step it stops, and what the step
/// control computes on a lane after that, or on a lane without a problem, is never read. A lane
/// whose problem stopped hands its answer back and takes the next problem (refills), so a
/// block does not wait for its slowest member. Each lane's arithmetic is the scalar path's,
/// operation for operation, so the bits are the same whichever lane and thread a problem lands in.
template <class Real>
class lane_problems {
public:
  static constexpr int W = lane_count<Real>;
  // Idle lanes that make a refill worth its passes while the queue has problems, for a block that
  // starts its new problems itself: one in eight. The seed batch's work spent on stopped lanes and
  // refills, f64 / f32 at B = 10⁴, refilling at every stop 1.7 % / 9.7 %, at one lane in eight
  // 1.7 % / 7.9 %, at one in four 5.2 % / 11 %; never 14 % / 22 %. (The Runge–Kutta blocks take
  // problems another block started and refill at every stop: 0.2 % / 0.7 % at B = 10⁵.)
  static constexpr int refill_at = W / 8;
  static_assert(fused_block % W == 0, "a chunk of the queue starts at a multiple of W");

  lane_problems(const lockstep_view<Real>& v, const step_settings<Real>& s)
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
        lanes_(scalars_.view()) {
    for (int w = 0; w < W; ++w) {
      problem_[w] = -1;
      live_[w] = false;
    }
  }
  lane_problems(const lane_problems&) = delete;  // lanes_ points into this block's scalars_
  lane_problems& operator=(const lane_problems&) = delete;

protected:
  /// Solves the problems `queue` hands out: `admit()` admits problems into the idle lanes (false
  /// when none was), `start()` starts the ones just admitted (the opening lanes) before their
  /// first step, `step()` advances every running lane by one step or iteration. A lane hands back
  /// its problem's answer as soon as it stops and idle lanes take the next ones (`refills`), until
  /// the queue is empty and no lane runs. Returns the products computed.
  template <class Admit, class Start, class Step>
  std::int64_t solve_with(problem_queue& queue, Admit admit, Start start, Step step) {
    return solve_with_supply([&] { return more_in(queue); }, refill_at, admit, start, step);
  }

  /// solve_with for problems from any supply: `more()` says whether it has problems left, and
  /// idle lanes refill once `idle_to_refill` of them (or all) are idle.
  template <class More, class Admit, class Start, class Step>
  std::int64_t solve_with_supply(More more, int idle_to_refill, Admit admit, Start start,
                                 Step step) {
    if (!admit()) return 0;
    start();
    for (;;) {
      int running = open_step();
      if (running < live_count_) retire(true);
      while (refills(running, more(), idle_to_refill)) {
        retire(false);
        if (admit()) start();
        running = open_step();
      }
      if (running == 0) return products();
      step();
    }
  }

  /// Whether problems are left to admit from `queue`: the block's held ones or the queue's.
  bool more_in(const problem_queue& queue) const { return held_ < held_end_ || queue.has_more(); }

  /// The lanes whose problems stopped hand them back (retire); then runs_ marks the ones that run.
  void retire_stopped() {
    open_step();
    retire(false);
  }

  /// Lane w's problem goes on in another block's lane: this block no longer holds it.
  void hand_over(int w) {
    live_[w] = false;
    --live_count_;
  }

  /// The products computed so far: W per pass (every lane computes; one without a running
  /// problem into scratch).
  std::int64_t products() const { return passes_ * W; }

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
  /// sums[w] = Σ_{e ∈ [first, end)} term(e, w) in every lane w, in the scalar order over e: each
  /// register's part of the lanes carries its sums in a register across the elements, the parts
  /// side by side, so that their adds' latencies overlap where a part's sum is a chain of them.
  template <class Term>
  static void sum_over_elements(int first, int end, lane_values& sums, Term term) {
    constexpr int parts = W / register_lanes;
    register_vector sum[parts] = {};
    for (int e = first; e < end; ++e)
#pragma GCC unroll 4
      for (int part = 0; part < parts; ++part) {
        Real terms[register_lanes];
#pragma omp simd
        for (int w = 0; w < register_lanes; ++w) terms[w] = term(e, part * register_lanes + w);
        sum[part] += part_register::load(terms);
      }
#pragma GCC unroll 4
    for (int part = 0; part < parts; ++part)
      part_register::store(sum[part], sums + part * register_lanes);
  }

  static Real* at(lane_vectors& vector, int element) {
    return vector.data() + std::size_t(element) * W;
  }

  /// Every lane without a problem takes the queue's next one (while it has one): the per-problem
  /// set-up the sequence runs before its first evaluation (a factor of G, the resolved
  /// parameters) on the engine's own arrays, `take(w, i)` (what the method's lanes keep of
  /// problem i in lane w), then the lane's copies of G, C and y0. False when no lane took one.
  template <class Take>
  bool admit(problem_queue& queue, Take take) {
    return admit_with(
        [&] { return next_problem(queue); },
        [&](int w, std::int64_t i) {
          // run_sequence's (linearly implicit: its factors come each step)
          if (s_.needs_factor && !s_.linearly_implicit)
            factor_problem(v_, i,
                           s_.factor_at_start ? factor_shift::none : factor_shift::curvature_only);
          resolve_parameters(v_, s_, i);
          take(w, i);
          for (int e = 0; e < n_ * n_; ++e) gram_[std::size_t(e) * W + w] = v_.curvature_of(i)[e];
          for (int e = 0; e < len_; ++e) linear_[std::size_t(e) * W + w] = v_.linear_term_of(i)[e];
          for (int e = 0; e < state_len_; ++e) state_[std::size_t(e) * W + w] = v_.state_of(i)[e];
        });
  }

  /// Every lane without a problem takes `next()` (a problem, −1 when none is left) and
  /// `take(w, i)` fills lane w for problem i. False when no lane took one.
  template <class Next, class Take>
  bool admit_with(Next next, Take take) {
    bool admitted = false;
    for (int w = 0; w < W; ++w) opening_[w] = false;
    for (int w = 0; w < W; ++w) {
      if (live_[w]) continue;
      const std::int64_t i = next();
      if (i < 0) break;
      opening_[w] = live_[w] = admitted = true;
      problem_[w] = i;
      ++live_count_;
      take(w, i);
    }
    return admitted;
  }

  /// ∇f = G·X − C at `point` into the gradient slot, each lane's sums over j in the scalar order
  /// (quadratic_gradient), several sums at a time so that independent ones stay in registers and
  /// hide the adds' latency, and each of G's elements is loaded once for two columns of X: two
  /// columns at a time (one for an odd k's last), all rows at once up to 5 (ten accumulators),
  /// else four at a time and the rest together.
  void evaluate(const Real* point) {
    for (int w = 0; w < W; ++w) gradient_at_state_[w] = point == state_.data();
    multiply<true>(point, gradient_.data());
  }

  /// out = G·X at `point` (cg's H·p), each sum gram_product's, as evaluate forms them.
  void curvature_product(const Real* point, Real* out) { multiply<false>(point, out); }

  /// ‖∇f‖ of every lane into norms[0 … W − 1], from the gradient slot, as frobenius_norm sums it.
  void gradient_norms(Real* norms) const { norms_of(gradient_, norms); }

  /// The Frobenius norm of every lane's `vector` into norms[0 … W − 1], as frobenius_norm sums it.
  void norms_of(const lane_vectors& vector, Real* norms) const {
    lane_values sums;
    sum_over_elements(0, len_, sums, [&](int e, int w) {
      const Real value = vector[std::size_t(e) * W + w];
      return value * value;
    });
#pragma omp simd
    for (int w = 0; w < W; ++w) norms[w] = std::sqrt(sums[w]);
  }

  /// Fixes lane w's convergence limits from its problem's scalars on the engine, once ‖∇f(u0)‖
  /// is among them.
  void fix_limits(int w) {
    const convergence_limits<Real> limits = convergence_limits_of(v_, problem_[w]);
    gradient_limit_[w] = limits.gradient;
    velocity_limit_[w] = limits.velocity;
  }

  /// Lane w takes its started problem's scalars from the engine, and the limits they fix.
  void take_started(int w) {
    scalars_.load(v_, problem_[w], w);
    fix_limits(w);
  }

  convergence_limits<Real> limits_of(int w) const {
    return convergence_limits<Real>{gradient_limit_[w], velocity_limit_[w]};
  }

  const lockstep_view<Real> v_;
  const step_settings<Real>& s_;
  const int n_, k_, len_, state_len_;
  lane_vectors gram_, linear_, gradient_, state_;
  // Each lane's problem (-1 before its first), whether it took it in the last admit.
  std::int64_t problem_[W];
  bool opening_[W];
  bool gradient_at_state_[W];  // whether the gradient slot holds ∇f at the lane's state
  bool runs_[W];               // whether each lane runs the step being taken (open_step)
  lane_scalars<Real, W> scalars_;
  const lockstep_view<Real> lanes_;  // scalars_ as problems 0 … W − 1
  // Each lane's convergence limits, fixed once its problem's ‖∇f(u0)‖ is known (fix_limits).
  alignas(W * sizeof(Real)) lane_values gradient_limit_ = {}, velocity_limit_ = {};

private:
  /// Whether the stopped lanes hand back their answers and the idle ones take new problems before
  /// the next step: when none runs, or when enough are idle to pay for the passes a refill takes
  /// (the new problems' set-up; the stopped ones' ∇f where not at hand) and problems are left.
  bool refills(int running, bool more, int idle_to_refill) const {
    return running == 0 ? live_count_ > 0 || more : W - running >= idle_to_refill && more;
  }

  /// The lanes whose problems stopped (`at_hand`: only those whose ∇f at the returned state is in
  /// the gradient slot, which then cost no pass): that ∇f, the state and gradient back to the
  /// engine (which has their scalars since they stopped), judge_answer; the lanes are free.
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

  /// Whether each lane runs the step about to be taken; returns how many do.
  int open_step() {
    int running = 0;
    for (int w = 0; w < W; ++w) {
      runs_[w] = live_[w] && lanes_.running(w);
      running += runs_[w];
    }
    return running;
  }

  /// multiply_add in every lane of a part (one vector instruction where the target fuses it).
  static register_vector multiply_add_in_lanes(const register_vector& a, const register_vector& b,
                                               const register_vector& c) {
    register_vector result;
    for (int w = 0; w < register_lanes; ++w) result[w] = multiply_add(a[w], b[w], c[w]);
    return result;
  }

  /// The block's next problem, or −1 when the queue is empty: the queue hands a block W
  /// consecutive problems at a time (a chunk starts at a multiple of W), so that no two threads
  /// write the per-problem scalars of one cache line at every step.
  std::int64_t next_problem(problem_queue& queue) {
    if (held_ == held_end_) std::tie(held_, held_end_) = queue.take(W);
    return held_ < held_end_ ? held_++ : -1;
  }

  /// out = G·X − C at `point` (Gradient) or G·X: a pass over all W lanes.
  template <bool Gradient>
  void multiply(const Real* point, Real* out) {
    ++passes_;
    int c = 0;
    for (; c + 2 <= k_; c += 2) evaluate_columns<Gradient, 2>(point, out, c);
    if (c < k_) evaluate_columns<Gradient, 1>(point, out, c);
  }

  template <bool Gradient, int Columns>
  void evaluate_columns(const Real* point, Real* out, int c) {
    int r = 0;
    if (n_ > 5)
      for (; r + 4 <= n_; r += 4) evaluate_rows<Gradient, 4, Columns>(point, out, r, c);
    switch (n_ - r) {
      case 0:
        break;
      case 1:
        evaluate_rows<Gradient, 1, Columns>(point, out, r, c);
        break;
      case 2:
        evaluate_rows<Gradient, 2, Columns>(point, out, r, c);
        break;
      case 3:
        evaluate_rows<Gradient, 3, Columns>(point, out, r, c);
        break;
      case 4:
        evaluate_rows<Gradient, 4, Columns>(point, out, r, c);
        break;
      default:  // 5: n ≤ 5 takes every row at once
        evaluate_rows<Gradient, 5, Columns>(point, out, r, c);
    }
  }

  template <bool Gradient, int Rows, int Columns>
  void evaluate_rows(const Real* point, Real* out, int first_row, int first_column) {
    for (int part = 0; part < W; part += register_lanes)
      evaluate_rows_in_part<Gradient, Rows, Columns>(point + part, out + part, first_row,
                                                     first_column, part);
  }

  /// evaluate_rows on the lanes [part, part + register_lanes) (`point` and `out` at lane `part`).
  template <bool Gradient, int Rows, int Columns>
  [[gnu::always_inline]] void evaluate_rows_in_part(const Real* point, Real* out, int first_row,
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
        register_vector result = sums[row][column];
        if constexpr (Gradient) result -= part_register::load(at(linear_, element) + part);
        part_register::store(result, out + std::size_t(element) * W);
      }
  }

  bool live_[W];  // whether each lane holds a problem not yet retired
  int live_count_ = 0;
  std::int64_t held_ = 0, held_end_ = 0;  // the block's problems taken but not yet in a lane
  std::int64_t passes_ = 0;               // evaluations, each a product G·X in all W lanes
};

/// What a chunk's lane blocks share, prepared before its steps: nothing, for most methods.
struct no_chunk_preparation {
  void prepare(std::int64_t, std::int64_t) {}
};

/// A thread's lane block: Block(v, settings), or Block(v, settings, preparation) where the
/// blocks share a preparation.
template <class Block, class Real, class Preparation>
Block lane_block(const lockstep_view<Real>& v, const step_settings<Real>& settings,
                 const Preparation& preparation) {
  if constexpr (std::is_same_v<Preparation, no_chunk_preparation>)
    return Block(v, settings);
  else
    return Block(v, settings, preparation);
}

/// Runs the lane blocks `Block` (`solve(queue)` returning its products) over the batch: chunks of
/// fused_block problems, each prepared (`preparation.prepare(first, end)`: what the chunk's blocks
/// share) and then shared by the threads' blocks through one queue; `should_stop` is asked between
/// chunks.
template <class Block, class Real, class Preparation = no_chunk_preparation>
std::int64_t run_lane_blocks(const lockstep_view<Real>& v, const step_settings<Real>& settings,
                             const std::function<bool()>& should_stop,
                             Preparation&& preparation = Preparation{}) {
  std::int64_t products = 0;
  for (std::int64_t first = 0; first < v.batch_size; first += fused_block) {
    if (should_stop && should_stop()) throw interrupted("the solve was interrupted");
    const std::int64_t end = std::min(v.batch_size, first + fused_block);
    preparation.prepare(first, end);
    problem_queue queue(first, end);
#pragma omp parallel reduction(+ : products)
    {
      Block block = lane_block<Block>(v, settings, preparation);
      products += block.solve(queue);
    }
  }
  return products;
}

}  // namespace gradflow::detail
