// The fused executors are compiled per method scope (detail/sequence.hpp), each holding the code of
// its scope's phases alone. Every phase the sequence issues, for every method, dynamics and step
// control, must be one its settings' scope holds, or a fused run would skip it; so must a
// factorisation; and the scopes must leave out what they exist to leave out.
#include <gtest/gtest.h>

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
