// The fused executors are compiled per method scope (detail/sequence.hpp), each holding the code of
// its scope's phases alone. Every phase the sequence issues, for every method, dynamics and step
// control, must be one its settings' scope holds, or a fused run would skip it; so must a
// factorisation; and the scopes must leave out what they exist to leave out.
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

#include "gradflow/detail/run_plan.hpp"
#include "gradflow/detail/sequence.hpp"
#include "gradflow/error.hpp"
#include "least_squares_model.hpp"

namespace gradflow::detail {
namespace {

/// An executor that only records the phases the sequence issues, and whether it factors (two
/// iterations of each loop).
struct phase_recorder {
  std::set<lockstep_phase> issued;
  bool factorized = false;
  void factorize(factor_shift) { factorized = true; }
  void evaluate(operand) {}
  void curvature_product(operand) {}
  void phase(lockstep_phase p, int) { issued.insert(p); }
  bool keep_going(std::int64_t iteration) const { return iteration < 2; }
  void after_step(std::int64_t) const {}
  void end_iterations() const {}
  int stage_limit() const { return 3; }
};

constexpr lockstep_phase last_phase = lockstep_phase::final_gradient;

/// A model that is not a quadratic but gives its Hessian: it prepares and factors ∇²f(u0) where
/// least squares has its fixed G at hand (default steps, ζ).
model_traits objective_with_hessian() {
  model_traits traits;
  traits.curvature = true;
  traits.name = "an objective";
  return traits;
}

TEST(MethodScope, HoldsEveryPhaseTheSequenceIssues) {
  int planned = 0;
  std::set<method_scope> scopes_seen;
  for (const model_traits& traits : {least_squares_traits(), objective_with_hessian()})
    for (const method_info& info : method_table)
      for (const dynamics_info& flow : dynamics_table)
        for (const step_control control : {step_control::method_default, step_control::fixed,
                                           step_control::error_control, step_control::descent})
          for (const bool step_given : {false, true}) {
            solve_options options;
            options.method = info.id;
            options.dynamics = flow.id;
            options.control = control;
            if (step_given) options.dt = 0.1;
            run_plan<double> plan;
            try {
              plan = plan_run<double>(options, 4, 3, traits, backend_kind::cuda);
            } catch (const invalid_argument&) {
              continue;  // a combination the options refuse
            }
            ++planned;
            phase_recorder recorder;
            run_sequence(recorder, plan.settings);
            const method_scope scope = scope_of(plan.settings);
            scopes_seen.insert(scope);
            const std::string run = std::string(info.name) + " on " + std::string(flow.name) +
                                    " for " + traits.name + " (control " +
                                    std::to_string(int(control)) + ", dt " +
                                    (step_given ? "given" : "default") + ")";
            for (const lockstep_phase phase : recorder.issued)
              EXPECT_TRUE(serves(scope, phase))
                  << run << " issues phase " << int(phase) << " outside its scope " << int(scope);
            if (recorder.factorized)
              EXPECT_TRUE(factors(scope)) << run << " factors outside its scope " << int(scope);
          }
  EXPECT_GT(planned, 80);
  EXPECT_EQ(scopes_seen.size(), 4u);
}

TEST(MethodScope, LeavesOutWhatItExistsToLeaveOut) {
  for (int p = 0; p <= int(last_phase); ++p) {
    const auto phase = lockstep_phase(p);
    EXPECT_TRUE(serves(method_scope::all, phase));
    EXPECT_EQ(serves(method_scope::all_but_learned_flow, phase),
              phase != lockstep_phase::learned_flow_update);
  }
  for (const lockstep_phase phase :
       {lockstep_phase::optimizer_update, lockstep_phase::learned_flow_update,
        lockstep_phase::direct_solve, lockstep_phase::chebyshev_stage,
        lockstep_phase::implicit_stage_input})
    EXPECT_FALSE(serves(method_scope::explicit_runge_kutta, phase));
  for (int p = 0; p <= int(last_phase); ++p)
    EXPECT_EQ(serves(method_scope::factored_runge_kutta, lockstep_phase(p)),
              serves(method_scope::explicit_runge_kutta, lockstep_phase(p)));
  EXPECT_FALSE(factors(method_scope::explicit_runge_kutta));
  for (const method_scope scope :
       {method_scope::factored_runge_kutta, method_scope::all_but_learned_flow, method_scope::all})
    EXPECT_TRUE(factors(scope));
}

TEST(MethodScope, CoveringScopeIsTheNarrowestCompiledOneThatHoldsTheRun) {
  constexpr int scope_count = int(method_scope::all) + 1;
  for (int needed = 0; needed < scope_count; ++needed)
    for (unsigned compiled = 0; compiled <= fused_kernels::all; ++compiled) {
      const auto kernel = covering_scope(method_scope(needed), compiled);
      // Oracle: a compiled scope holds the run when it serves every phase and factorisation the
      // needed scope does; the covering one is the first such.
      std::optional<method_scope> first_holding;
      for (int candidate = 0; candidate < scope_count && !first_holding; ++candidate) {
        if (!(compiled & (1u << candidate))) continue;
        bool holds = factors(method_scope(candidate)) || !factors(method_scope(needed));
        for (int p = 0; p <= int(last_phase); ++p)
          holds = holds && (serves(method_scope(candidate), lockstep_phase(p)) ||
                            !serves(method_scope(needed), lockstep_phase(p)));
        if (holds && candidate >= needed) first_holding = method_scope(candidate);
      }
      EXPECT_EQ(kernel, first_holding) << "needed " << needed << ", compiled " << compiled;
    }
}

/// Plans `m` (on gradient flow, n = 3) on `backend` for a family whose GPU has `compiled`.
run_plan<double> plan_for(method m, execution_path path, unsigned compiled, backend_kind backend) {
  solve_options options;
  options.method = m;
  options.path = path;
  options.dt = 0.1;
  model_traits traits = least_squares_traits();
  traits.gpu_fused_kernels = compiled;
  return plan_run<double>(options, 4, 3, traits, backend);
}

TEST(MethodScope, AGpuRunWithoutItsKernelGoesLockstepOrIsRefused) {
  const auto automatic = execution_path::automatic, fused = execution_path::fused;
  const auto cuda = backend_kind::cuda;
  EXPECT_TRUE(plan_for(method::tsit5, automatic, fused_kernels::integrators, cuda).fused);
  EXPECT_FALSE(plan_for(method::adam, automatic, fused_kernels::integrators, cuda).fused);
  EXPECT_FALSE(plan_for(method::lgf, automatic, fused_kernels::optimizers, cuda).fused);
  EXPECT_FALSE(plan_for(method::tsit5, automatic, fused_kernels::none, cuda).fused);
  // A wider kernel holds the narrower scopes' methods.
  EXPECT_TRUE(plan_for(method::tsit5, automatic, fused_kernels::optimizers, cuda).fused);
  EXPECT_TRUE(plan_for(method::adam, fused, fused_kernels::learned_flows, cuda).fused);
  EXPECT_TRUE(plan_for(method::adam, automatic, fused_kernels::all, cuda).fused);
  try {
    plan_for(method::adam, fused, fused_kernels::integrators | fused_kernels::factoring_integrators,
             cuda);
    ADD_FAILURE() << "path = fused without a kernel for adam was planned";
  } catch (const invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("path = fused for method = adam"), std::string::npos) << message;
    EXPECT_NE(message.find("gpu_fused_kernels"), std::string::npos) << message;
  }
  // The CPU compiles every method for every family.
  EXPECT_TRUE(plan_for(method::adam, fused, fused_kernels::none, backend_kind::cpu).fused);
  EXPECT_TRUE(plan_for(method::adam, automatic, fused_kernels::none, backend_kind::cpu).fused);
}

TEST(VisitPhase, HandsEveryPhaseItsOwnConstant) {
  for (int p = 0; p <= int(last_phase); ++p) {
    int visited = -1;
    visit_phase(lockstep_phase(p),
                [&](auto constant) { visited = int(decltype(constant)::value); });
    EXPECT_EQ(visited, p);
  }
}

}  // namespace
}  // namespace gradflow::detail
