#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "gradflow/detail/adam_step.hpp"
#include "gradflow/detail/dense_math.hpp"
#include "gradflow/detail/stopping.hpp"

/// The classic optimisers, one iteration per problem: the driver forms the operand (`prepare`),
/// has the model evaluate ∇f there in one batched call (cg: the curvature product H·p), and
/// `update` does the rest. Work vectors:
/// momentum, nag, fire, fire2: 0 = velocity; adam: 0 = first moment, 1 = second moment;
/// cg: 0 = residual r = C − G U, 1 = search direction p; lbfgs: 0 = direction d, 1 = ∇f at U,
/// then the pairs s_j, y_j (2 + 2j, 3 + 2j).
namespace gradflow::detail {

/// L-BFGS's scalars at its start from ∇f(U0), whose norm is `norm`: the first trial at α = 1,
/// and the test there.
template <class Real>
GRADFLOW_HD void start_lbfgs_scalars(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                     std::int64_t i, Real norm) {
  v.gradient_evaluations[i] = 1;
  v.gradient_norm_initial[i] = norm;
  if (s.descent_by_value) v.accepted_value[i] = v.value[i];
  v.dt[i] = 1;
  test_new_point(v, s, i, norm, Real(0));
}

/// L-BFGS's element of the direction −lr·g: its first, and its restart where the two-loop
/// recursion lost descent.
template <class Real>
GRADFLOW_HD Real lbfgs_restart_element(Real rate, Real gradient) {
  return -rate * gradient;
}

/// L-BFGS from ∇f(U0): the first direction −lr·∇f(U0), tried at α = 1.
template <class Real>
GRADFLOW_HD void start_lbfgs(const lockstep_view<Real>& v, const step_settings<Real>& s,
                             std::int64_t i) {
  const int len = v.len();
  const Real* gradient = v.gradient_of(i);
  Real* direction = v.work_of(0, i);
  Real* accepted_gradient = v.work_of(1, i);
  for (int e = 0; e < len; ++e) {
    accepted_gradient[e] = gradient[e];
    direction[e] = lbfgs_restart_element(v.parameter_of(i, step), gradient[e]);
  }
  start_lbfgs_scalars(v, s, i, frobenius_norm(gradient, len));
}

/// An optimiser's scalars before its first iteration: t = 0, no evaluation yet, dt = lr; FIRE's
/// mixing α and downhill count.
template <class Real>
GRADFLOW_HD void start_optimizer_scalars(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                         std::int64_t i) {
  v.time[i] = 0;
  v.gradient_evaluations[i] = 0;
  v.dt[i] = v.parameter_of(i, step);
  if (s.method == method::fire || s.method == method::fire2) {
    v.fire_mixing[i] = s.method == method::fire2 ? Real(0.25) : s.fire.alpha_start;
    v.downhill_steps[i] = 0;
  }
}

/// An optimiser's evaluation with ‖∇f‖ = `norm` counted; the first one's norm is ‖∇f(u0)‖.
template <class Real>
GRADFLOW_HD void count_optimizer_evaluation(const lockstep_view<Real>& v, std::int64_t i,
                                            Real norm) {
  v.gradient_evaluations[i] += 1;
  if (v.accepted[i] + v.rejected[i] == 0) v.gradient_norm_initial[i] = norm;
}

/// An optimiser's iteration of learning rate `rate` taken: counters, t, t_end and max_steps.
template <class Real>
GRADFLOW_HD void count_optimizer_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                      std::int64_t i, Real rate) {
  v.accepted[i] += 1;
  v.time[i] += rate;
  test_time_budget(v, s, i, rate);
  test_step_budget(v, s, i);
}

/// A FIRE iteration after fire_control (its counters are its own): t by its dt, t_end, max_steps.
template <class Real>
GRADFLOW_HD void count_fire_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                 std::int64_t i) {
  v.time[i] += v.dt[i];
  test_time_budget(v, s, i, v.dt[i]);
  test_step_budget(v, s, i);
}

/// gd's new element u − lr·g.
template <class Real>
GRADFLOW_HD Real descent_element(Real u, Real rate, Real gradient) {
  return u - rate * gradient;
}

/// momentum's and nag's new velocity element βV − lr·g (the state then moves by it).
template <class Real>
GRADFLOW_HD Real velocity_element(Real velocity, Real beta, Real rate, Real gradient) {
  return beta * velocity - rate * gradient;
}

/// cg's scalars at its start from r = p = −∇f(U0), whose ‖r‖² is `residual_sq`, and the test there.
template <class Real>
GRADFLOW_HD void start_conjugate_gradient(const lockstep_view<Real>& v,
                                          const step_settings<Real>& s, std::int64_t i,
                                          Real residual_sq) {
  v.residual_norm_sq[i] = residual_sq;
  v.gradient_evaluations[i] = 1;
  v.gradient_norm_initial[i] = std::sqrt(residual_sq);
  test_new_point(v, s, i, std::sqrt(residual_sq), Real(0));
}

/// Before the first iteration (cg: after ∇f(U0)): zero the work vectors and counters; cg starts
/// from r = p = −∇f(U0) (= C − H U0); FIRE from dt0 and α_start.
template <class Real>
GRADFLOW_HD void start_optimizer(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                 std::int64_t i) {
  if (!v.running(i)) return;
  const int len = v.len();
  start_optimizer_scalars(v, s, i);
  for (int w = 0; w < s.work_vectors; ++w) {
    Real* vector = v.work_of(w, i);
    for (int e = 0; e < len; ++e) vector[e] = 0;
  }
  if (s.method == method::lbfgs) {
    start_lbfgs(v, s, i);
    return;
  }
  if (is_learned_flow(s.method)) {
    v.window_position[i] = 0;
    v.jump_steps[i] = std::int64_t(v.parameter_of(i, lgf_window) - v.parameter_of(i, lgf_record));
    v.dt_step[i] = v.dt[i];  // lgf_implicit: h of the factor of ∇²f + I/h
  }
  if (s.method == method::cg) {
    Real* residual = v.work_of(0, i);
    Real* direction = v.work_of(1, i);
    const Real* gradient = v.gradient_of(i);
    Real residual_sq = 0;
    for (int e = 0; e < len; ++e) {
      residual[e] = direction[e] = -gradient[e];
      residual_sq += residual[e] * residual[e];
    }
    start_conjugate_gradient(v, s, i, residual_sq);
  }
}

/// nag: the look-ahead point U + β·V; lbfgs: the trial point U + α·d (U itself before the first
/// direction, which start_optimizer zeroed).
template <class Real>
GRADFLOW_HD void prepare_operand(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                 std::int64_t i) {
  if (!v.running(i) || (s.method != method::nag && s.method != method::lbfgs)) return;
  const Real scale = s.method == method::nag ? v.parameter_of(i, momentum) : v.dt[i];
  const Real* u = v.state_of(i);
  const Real* direction = v.work_of(0, i);
  Real* ahead = v.stage_input_of(i);
  for (int e = 0; e < v.len(); ++e) ahead[e] = u[e] + scale * direction[e];
}

/// L-BFGS's direction d = −H_k ∇f by the two-loop recursion over the kept pairs, newest first, with
/// H_0 = (sᵀy / yᵀy) I from the newest pair; pairs without positive curvature sᵀy are skipped.
template <class Real>
GRADFLOW_HD void lbfgs_direction(const lockstep_view<Real>& v, std::int64_t i) {
  const int len = v.len();
  Real* direction = v.work_of(0, i);
  const Real* gradient = v.work_of(1, i);
  const std::int64_t kept = v.accepted[i] < lbfgs_memory ? v.accepted[i] : lbfgs_memory;
  const auto slot = [&](std::int64_t age) { return int((v.accepted[i] - 1 - age) % lbfgs_memory); };
  Real coefficient[lbfgs_memory];
  Real curvature_of[lbfgs_memory];  // sᵀy per pair, for the second loop too
  for (int e = 0; e < len; ++e) direction[e] = gradient[e];
  Real scale = 1;
  for (std::int64_t age = 0; age < kept; ++age) {
    const Real* step = v.work_of(2 + 2 * slot(age), i);
    const Real* change = v.work_of(3 + 2 * slot(age), i);
    const Real curvature = curvature_of[age] = dot(step, change, len);
    coefficient[age] = 0;
    if (!(curvature > 0)) continue;
    if (age == 0) scale = curvature / dot(change, change, len);
    coefficient[age] = dot(step, direction, len) / curvature;
    for (int e = 0; e < len; ++e) direction[e] -= coefficient[age] * change[e];
  }
  for (int e = 0; e < len; ++e) direction[e] *= scale;
  for (std::int64_t age = kept - 1; age >= 0; --age) {
    const Real* step = v.work_of(2 + 2 * slot(age), i);
    const Real* change = v.work_of(3 + 2 * slot(age), i);
    const Real curvature = curvature_of[age];
    if (!(curvature > 0)) continue;
    const Real correction = coefficient[age] - dot(change, direction, len) / curvature;
    for (int e = 0; e < len; ++e) direction[e] += correction * step[e];
  }
  for (int e = 0; e < len; ++e) direction[e] = -direction[e];
}

/// f's change from U to the trial U + αd of a quadratic, exact: α/2·(∇f(U) + ∇f(trial))ᵀd, from
/// the slopes ∇f(U)ᵀd (`slope`) and ∇f(trial)ᵀd (`trial_slope`).
template <class Real>
GRADFLOW_HD Real quadratic_change(Real alpha, Real slope, Real trial_slope) {
  return alpha / 2 * (slope + trial_slope);
}

/// Whether L-BFGS accepts its trial at α: f fell by at least 10⁻⁴·α·∇f(U)ᵀd (Armijo), and the
/// change and ‖∇f(trial)‖ (`norm`) are finite.
template <class Real>
GRADFLOW_HD bool lbfgs_accepts(Real change, Real norm, Real alpha, Real slope) {
  return std::isfinite(change) && std::isfinite(norm) && change <= Real(1e-4) * alpha * slope;
}

/// An accepted L-BFGS trial's counters, t and test (within `limits`, convergence_limits_of(v,
/// i)); false where the problem stops there.
template <class Real>
GRADFLOW_HD bool count_lbfgs_acceptance(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                        std::int64_t i, Real alpha, Real norm,
                                        convergence_limits<Real> limits) {
  if (s.descent_by_value) v.accepted_value[i] = v.value[i];
  v.accepted[i] += 1;
  v.time[i] += alpha;
  return test_new_point_within(v, s, i, norm, Real(0), limits);
}

/// A rejected L-BFGS trial: α halves, and the step underflows once the halved step's reach
/// α·‖d‖ no longer moves U (‖U‖ = `state_norm`, ‖d‖ = `direction_norm`); false where it does.
template <class Real>
GRADFLOW_HD bool count_lbfgs_rejection(const lockstep_view<Real>& v, std::int64_t i,
                                       Real direction_norm, Real state_norm) {
  v.rejected[i] += 1;
  v.dt[i] = v.dt[i] / 2;
  const Real reach = v.dt[i] * direction_norm;
  if (!(reach > std::numeric_limits<Real>::epsilon() * (state_norm > 1 ? state_norm : Real(1)))) {
    set_outcome(v, i, status::step_underflow);
    return false;
  }
  return true;
}

/// One L-BFGS evaluation at the trial point U + αd: the trial is accepted when lbfgs_accepts (f
/// from the model, or for a quadratic its exact change), adding the pair (αd, Δ∇f) and a new
/// direction, else α is halved (a rejected step).
template <class Real>
GRADFLOW_HD void lbfgs_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                            std::int64_t i) {
  const int len = v.len();
  Real* u = v.state_of(i);
  Real* direction = v.work_of(0, i);
  Real* accepted_gradient = v.work_of(1, i);
  const Real* trial_gradient = v.gradient_of(i);
  const Real norm = frobenius_norm(trial_gradient, len);
  v.gradient_evaluations[i] += 1;
  const Real alpha = v.dt[i];
  const Real slope = dot(accepted_gradient, direction, len);
  const Real change = s.descent_by_value
                          ? v.value[i] - v.accepted_value[i]
                          : quadratic_change(alpha, slope, dot(trial_gradient, direction, len));
  if (lbfgs_accepts(change, norm, alpha, slope)) {
    const int pair = int(v.accepted[i] % lbfgs_memory);
    Real* step_taken = v.work_of(2 + 2 * pair, i);
    Real* gradient_change = v.work_of(3 + 2 * pair, i);
    for (int e = 0; e < len; ++e) {
      step_taken[e] = alpha * direction[e];
      gradient_change[e] = trial_gradient[e] - accepted_gradient[e];
      u[e] += step_taken[e];
      accepted_gradient[e] = trial_gradient[e];
    }
    if (!count_lbfgs_acceptance(v, s, i, alpha, norm, convergence_limits_of(v, i))) return;
    lbfgs_direction(v, i);
    if (!(dot(accepted_gradient, direction, len) < 0))  // lost descent: restart from −lr·∇f
      for (int e = 0; e < len; ++e)
        direction[e] = lbfgs_restart_element(v.parameter_of(i, step), accepted_gradient[e]);
    v.dt[i] = 1;
  } else if (!count_lbfgs_rejection(v, i, frobenius_norm(direction, len), frobenius_norm(u, len))) {
    return;
  }
  test_step_budget(v, s, i);
}

/// cg's step length α = ‖r‖²/(pᵀHp) from the curvature pᵀHp; a curvature that is not positive
/// (p in H's null space, or a breakdown) ends the problem, as no further progress is possible,
/// and so does one that overflowed (α = 0 would leave U where it is, and p = r + p grow, until
/// max_steps).
template <class Real>
GRADFLOW_HD Real conjugate_gradient_length(const lockstep_view<Real>& v, std::int64_t i,
                                           Real curvature) {
  if (!(curvature > 0 && std::isfinite(curvature))) {
    set_outcome(v, i, std::isfinite(curvature) ? status::step_underflow : status::diverged);
    return 0;
  }
  return v.residual_norm_sq[i] / curvature;
}

/// cg's step taken, the new residual's ‖r‖² `next_sq`: the counters and the test (within
/// `limits`, convergence_limits_of(v, i)); returns β = ‖r_new‖²/‖r‖² for the next direction.
template <class Real>
GRADFLOW_HD Real conclude_conjugate_gradient_step(const lockstep_view<Real>& v,
                                                  const step_settings<Real>& s, std::int64_t i,
                                                  Real next_sq, convergence_limits<Real> limits) {
  const Real beta = next_sq / v.residual_norm_sq[i];
  v.residual_norm_sq[i] = next_sq;
  v.accepted[i] += 1;
  v.gradient_evaluations[i] += 1;
  if (test_new_point_within(v, s, i, std::sqrt(next_sq), Real(0), limits))
    test_step_budget(v, s, i);
  return beta;
}

/// One conjugate-gradient step on H U = C with the Frobenius inner product (the block system is
/// (I_k ⊗ H) vec U = vec C, so at most n distinct eigenvalues: ≤ n steps in exact arithmetic).
template <class Real>
GRADFLOW_HD void conjugate_gradient_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                         std::int64_t i) {
  const int len = v.len();
  Real* u = v.state_of(i);
  Real* residual = v.work_of(0, i);
  Real* direction = v.work_of(1, i);
  const Real* q = v.curvature_product_of(i);  // H·p
  Real curvature = 0;
  for (int e = 0; e < len; ++e) curvature += direction[e] * q[e];
  const Real alpha = conjugate_gradient_length(v, i, curvature);
  if (!v.running(i)) return;
  Real next_sq = 0;
  for (int e = 0; e < len; ++e) {
    u[e] += alpha * direction[e];
    residual[e] -= alpha * q[e];
    next_sq += residual[e] * residual[e];
  }
  const Real beta = conclude_conjugate_gradient_step(v, s, i, next_sq, convergence_limits_of(v, i));
  for (int e = 0; e < len; ++e) direction[e] = residual[e] + beta * direction[e];
}

/// FIRE's mixing of one velocity element towards the force's direction: (1−α)V − α‖V‖ g/‖F‖.
template <class Real>
GRADFLOW_HD Real fire_mixed_element(Real velocity, Real gradient, Real alpha, Real velocity_norm,
                                    Real force_norm) {
  return (1 - alpha) * velocity - alpha * velocity_norm * gradient / force_norm;
}

/// What a FIRE iteration does with its vectors, once fire_control has decided.
template <class Real>
struct fire_move {
  bool downhill;      ///< P > 0: FIRE mixes V before the kick; otherwise V = 0 first
  Real dt;            ///< this iteration's step (dt grown or shrunk)
  Real alpha_before;  ///< α at entry: FIRE's mixing
  Real alpha_after;   ///< α after the decision: FIRE 2.0's mixing, after the kick
};

/// FIRE's per-problem control from the power P = F·V, `dt0` its initial step: the downhill count,
/// a rejection on an uphill step, dt and α for this iteration and the next (v.dt, v.fire_mixing),
/// and an accepted iteration on a downhill one.
template <class Real>
GRADFLOW_HD fire_move<Real> fire_control(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                         std::int64_t i, Real power, Real dt0) {
  const fire_constants<Real>& f = s.fire;
  const bool second_version = s.method == method::fire2;
  const Real alpha_start = second_version ? Real(0.25) : f.alpha_start;
  fire_move<Real> move{power > 0, v.dt[i], v.fire_mixing[i], v.fire_mixing[i]};
  if (move.downhill) {
    v.downhill_steps[i] += 1;
    if (v.downhill_steps[i] > f.delay_steps) {
      const Real grown = move.dt * f.increase;
      move.dt = grown < f.dt_max_factor * dt0 ? grown : f.dt_max_factor * dt0;
      move.alpha_after *= f.alpha_shrink;
    }
    v.accepted[i] += 1;
  } else {
    v.downhill_steps[i] = 0;
    v.rejected[i] += 1;
    const bool initial_delay = second_version && v.accepted[i] + v.rejected[i] <= f.delay_steps;
    if (!initial_delay) {
      const Real shrunk = move.dt * f.decrease;
      move.dt = second_version && shrunk < f.dt_min_factor * dt0 ? move.dt : shrunk;
      move.alpha_after = alpha_start;
    }
  }
  v.dt[i] = move.dt;
  v.fire_mixing[i] = move.alpha_after;
  return move;
}

/// FIRE and FIRE 2.0 with force F = −g, unit mass and semi-implicit Euler:
/// FIRE: P = F·V > 0 → V = (1−α)V + α‖V‖F̂, after N_min such steps dt ← min(f_inc·dt, dt_max),
/// α ← f_α·α; P ≤ 0 → V = 0, dt ← f_dec·dt, α = α_start; then V += dt·F, U += dt·V.
/// FIRE 2.0: the uphill branch also steps back U −= dt·V/2 and keeps dt ≥ dt_min (not during the
/// first N_delay steps); the mixing is applied after V += dt·F.
template <class Real>
GRADFLOW_HD void fire_step(const lockstep_view<Real>& v, const step_settings<Real>& s,
                           std::int64_t i, const Real* gradient) {
  const bool second_version = s.method == method::fire2;
  const int len = v.len();
  Real* u = v.state_of(i);
  Real* velocity = v.work_of(0, i);
  Real power = 0, force_sq = 0, velocity_sq = 0;
  for (int e = 0; e < len; ++e) {
    power -= gradient[e] * velocity[e];
    force_sq += gradient[e] * gradient[e];
    velocity_sq += velocity[e] * velocity[e];
  }
  const fire_move<Real> move = fire_control(v, s, i, power, v.parameter_of(i, step));
  const Real dt = move.dt;
  const auto mix = [&](Real alpha, Real velocity_norm, Real force_norm) {
    if (force_norm <= 0) return;
    for (int e = 0; e < len; ++e)
      velocity[e] = fire_mixed_element(velocity[e], gradient[e], alpha, velocity_norm, force_norm);
  };
  if (move.downhill) {
    if (!second_version) mix(move.alpha_before, std::sqrt(velocity_sq), std::sqrt(force_sq));
  } else {
    for (int e = 0; e < len; ++e) {
      if (second_version) u[e] -= Real(0.5) * dt * velocity[e];
      velocity[e] = 0;
    }
  }
  for (int e = 0; e < len; ++e) velocity[e] -= dt * gradient[e];
  if (second_version) mix(move.alpha_after, frobenius_norm(velocity, len), std::sqrt(force_sq));
  for (int e = 0; e < len; ++e) u[e] += dt * velocity[e];
}

/// One iteration after the batched evaluation at the operand: test the gradient there (a converged
/// nag problem adopts its look-ahead point), then update.
///   gd: U −= lr·g;  momentum: V = βV − lr·g, U += V;  nag: same with g at U + βV;
///   adam: adam_element;  fire, fire2: fire_step;  cg: conjugate_gradient_step.
template <class Real>
GRADFLOW_HD void update_optimizer(const lockstep_view<Real>& v, const step_settings<Real>& s,
                                  std::int64_t i) {
  if (!v.running(i)) return;
  if (s.method == method::cg) {
    conjugate_gradient_step(v, s, i);
    return;
  }
  if (s.method == method::lbfgs) {
    lbfgs_step(v, s, i);
    return;
  }
  const int len = v.len();
  Real* u = v.state_of(i);
  const Real* gradient = v.gradient_of(i);
  const Real norm = frobenius_norm(gradient, len);
  count_optimizer_evaluation(v, i, norm);
  if (!test_new_point(v, s, i, norm, Real(0))) {
    if (s.method == method::nag && v.outcome[i] == static_cast<std::int32_t>(status::converged)) {
      const Real* ahead = v.stage_input_of(i);
      for (int e = 0; e < len; ++e) u[e] = ahead[e];
    }
    return;
  }
  const Real rate = v.parameter_of(i, step);
  Real* first = v.work_of(0, i);
  switch (s.method) {
    case method::gd:
      for (int e = 0; e < len; ++e) u[e] = descent_element(u[e], rate, gradient[e]);
      break;
    case method::momentum:
    case method::nag: {
      const Real beta = v.parameter_of(i, momentum);
      for (int e = 0; e < len; ++e) {
        first[e] = velocity_element(first[e], beta, rate, gradient[e]);
        u[e] += first[e];
      }
      break;
    }
    case method::adam: {
      Real* second = v.work_of(1, i);
      const Real b1 = v.parameter_of(i, beta1), b2 = v.parameter_of(i, beta2);
      const Real eps = v.parameter_of(i, epsilon);
      const adam_corrections<Real> corrections(b1, b2, Real(v.accepted[i] + 1));
      for (int e = 0; e < len; ++e)
        adam_element(first[e], second[e], u[e], gradient[e], b1, b2, eps, rate, corrections.first,
                     corrections.second);
      break;
    }
    case method::fire:
    case method::fire2:
      fire_step(v, s, i, gradient);
      count_fire_step(v, s, i);
      return;
    default:
      break;
  }
  count_optimizer_step(v, s, i, rate);
}

/// direct: U = H⁻¹c by the Cholesky factor, column by column (quadratic models).
template <class Real>
GRADFLOW_HD void direct_solve(const lockstep_view<Real>& v, std::int64_t i) {
  if (!v.running(i)) return;
  v.gradient_norm_initial[i] = gradient_norm_at_operand(v, i);
  Real* u = v.state_of(i);
  const Real* linear_term = v.linear_term_of(i);
  for (int e = 0; e < v.len(); ++e) u[e] = linear_term[e];
  for (int c = 0; c < v.rhs_count; ++c)
    cholesky_solve(v.factor_of(i), v.unknowns, u + c, v.rhs_count);
  set_outcome(v, i, status::converged);
}

}  // namespace gradflow::detail
