// Must not compile: a functor's gpu_fused_kernels as a member of each functor (a value per
// problem). tests/CMakeLists.txt runs the compiler on this file and expects the message that names
// the field and says how to declare it.
#include "gradflow/objective.hpp"

struct bowl_with_a_member_kernel_set {
  unsigned gpu_fused_kernels = gradflow::fused_kernels::integrators;
  template <class Real>
  Real value(const Real* x) const { return x[0] * x[0]; }
  template <class Real>
  void gradient(const Real* x, Real* g) const { g[0] = 2 * x[0]; }
};

static_assert(gradflow::detail::gpu_fused_kernels_of<bowl_with_a_member_kernel_set>::value != 0);
