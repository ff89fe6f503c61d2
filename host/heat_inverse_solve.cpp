// Compiled as CUDA when the library has the CUDA backend (CMakeLists.txt), so that
// solve_objectives instantiates its GPU path for the heat inverse problem.
#include "gradflow/heat_inverse.hpp"

#include "gradflow/objective_sweep.hpp"

namespace gradflow {

solve_result<double> solve(const objective_batch<heat_inverse<double>, double>& batch,
                           const solve_options& options) {
  return solve_objectives(batch, options);
}

sweep_result sweep(const objective_batch<heat_inverse<double>, double>& problems,
                   const sweep_spec& spec, std::int64_t first, std::int64_t count,
                   solver_context& context) {
  return sweep_objectives(problems, spec, first, count, context);
}

}  // namespace gradflow
