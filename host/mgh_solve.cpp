// Compiled as CUDA when the library has the CUDA backend (CMakeLists.txt), so that
// solve_objectives instantiates its GPU path for the built-in problems.
#include "gradflow/mgh.hpp"

namespace gradflow::mgh {

solve_result<double> solve(const objective_batch<objective, double>& batch,
                           const solve_options& options) {
  return solve_objectives(batch, options);
}

}  // namespace gradflow::mgh
