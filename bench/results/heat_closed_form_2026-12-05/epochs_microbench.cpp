// 750 gd epochs of the heat problem from the paper's start, one pass (evaluate) and two calls.
#include <chrono>
#include <cstdio>
#include "gradflow/heat_inverse.hpp"
#include "gradflow/objective.hpp"
using namespace gradflow;
struct heat_in_two_calls {  // value and gradient separately, as a functor without evaluate()
  heat_inverse<double> heat;
  double value(const double* a) const { return heat.value(a); }
  void gradient(const double* a, double* g) const { heat.gradient(a, g); }
};
template <class F> double run(F functor) {
  objective_batch<F, double> batch;
  batch.unknowns = 2;
  batch.problems = {functor};
  batch.initial = {heat_inverse<double>::start_left, heat_inverse<double>::start_right};
  solve_options options;
  options.backend = backend_kind::cpu;
  options.method = method::gd;
  options.dt = 1e-2;
  options.max_steps = 750;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = solve_objectives(batch, options);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("a = (%.6f, %.6f) in %.2f s\n", r.solution[0], r.solution[1], s);
  return s;
}
int main() {
  for (int rep = 0; rep < 2; ++rep) { run(heat_inverse<double>{}); run(heat_in_two_calls{}); }
}
