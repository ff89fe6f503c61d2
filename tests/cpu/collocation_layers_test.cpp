// The layer-by-layer collocation pass (detail/collocation_layers.hpp, cuBLAS's on the GPU) against
// the member-by-member objective whose gradient is checked against central differences in
// neural_ode_test.cpp: members with their own series, λ, ρ and multipliers, a stride wider than the
// unknowns (heavy-ball's state), and stopped members left alone. The backend here is plain
// row-major loops, so the GPU differs from this test only in who multiplies.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gradflow/collocation.hpp"
#include "gradflow/detail/collocation_layers.hpp"
#include "gradflow/detail/lockstep_arrays.hpp"
#include "gradflow/detail/neural_ode_objective.hpp"
#include "gradflow/status.hpp"

namespace gradflow {
namespace {

/// The pass's backend as loops: C_b = α·op(A_b)·op(B_b) + β·C_b, row-major.
struct row_major_loops {
  void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, double alpha, const double* a,
            int lda, std::int64_t stride_a, const double* b, int ldb, std::int64_t stride_b,
            double beta, double* c, int ldc, std::int64_t stride_c, std::int64_t batch) {
    for (std::int64_t q = 0; q < batch; ++q) {
      const double* aq = a + q * stride_a;
      const double* bq = b + q * stride_b;
      double* cq = c + q * stride_c;
      for (int r = 0; r < m; ++r)
        for (int s = 0; s < n; ++s) {
          double sum = 0;
          for (int l = 0; l < k; ++l)
            sum += (transpose_a ? aq[l * lda + r] : aq[r * lda + l]) *
                   (transpose_b ? bq[s * ldb + l] : bq[l * ldb + s]);
          cq[r * ldc + s] = alpha * sum + (beta == 0 ? 0 : beta * cq[r * ldc + s]);
        }
    }
  }
  template <class Function>
  void for_each(std::int64_t count, const Function& function) {
    for (std::int64_t e = 0; e < count; ++e) function(e);
  }
};

std::vector<double> random_vector(std::size_t count, unsigned seed, double scale) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(-scale, scale);
  std::vector<double> values(count);
  for (double& v : values) v = uniform(engine);
  return values;
}

/// Four members on two series with the same 9 Chebyshev times, each its own λ, ρ and μ.
struct layered_batch {
  static constexpr int members = 4, nodes = 9, d = 2, hidden = 5;
  const int free = (nodes - 1) * d;
  const int n = detail::collocation_unknowns(nodes, d, hidden);
  const std::int64_t stride = 2 * std::int64_t(n);  // (u, v) states, as heavy ball keeps them
  std::vector<double> times = chebyshev_points(nodes, 0, 4);
  std::vector<double> differentiation = differentiation_matrix(times);
  std::vector<double> observations = random_vector(2 * nodes * d, 1, 1.5);
  std::vector<std::int64_t> observation_offset{0, nodes * d, 0, nodes * d};
  std::vector<double> weight_decay{1e-3, 0.0, 0.05, 1e-2};
  std::vector<double> rho{100, 3, 0.5, 1e4};
  std::vector<double> multipliers = random_vector(std::size_t(members) * free, 2, 0.7);
  std::vector<double> state = random_vector(std::size_t(members) * stride, 3, 0.9);
  std::vector<double> workspace;

  detail::collocation_layer_batch<double> batch(bool lagrangian) {
    detail::collocation_layer_batch<double> b{members, nodes, d, hidden};
    b.operand = state.data();
    b.operand_stride = stride;
    b.differentiation = differentiation.data();
    b.observations = observations.data();
    b.observation_offset = observation_offset.data();
    b.weight_decay = weight_decay.data();
    b.rho = rho.data();
    b.multipliers = lagrangian ? multipliers.data() : nullptr;
    workspace.assign(std::size_t(members * b.workspace_per_member()), std::nan(""));
    b.workspace = workspace.data();
    return b;
  }

  /// Member i's f and ∇f by the member-by-member objective.
  double expected(int i, bool lagrangian, std::vector<double>& gradient) const {
    std::vector<double> scratch(std::size_t(detail::collocation_scratch(nodes, d, hidden)));
    detail::neural_ode_member<double> member;
    member.nodes = nodes;
    member.times = times.data();
    member.observations = observations.data() + observation_offset[i];
    member.differentiation = differentiation.data();
    member.weight_decay = weight_decay[i];
    member.rho = rho[i];
    member.multipliers = lagrangian ? multipliers.data() + i * free : nullptr;
    member.scratch = scratch.data();
    gradient.assign(n, 0.0);
    return detail::collocation_objective<double>{member, d, hidden}.value(state.data() + i * stride,
                                                                          gradient.data());
  }
};

/// The engine's arrays the commit writes (gradient, f) and reads (statuses), as the CPU engine
/// sizes them, every member running, the batch's state as both the state and the stage input.
struct engine_slots {
  lockstep_arrays<host_array, double> arrays;
  detail::lockstep_view<double> view;

  engine_slots(const layered_batch& setup, double fill) {
    lockstep_layout layout;
    layout.state_factor = 2;
    layout.values = true;
    arrays.size_for(setup.members, setup.n, 1, layout);
    arrays.state = arrays.stage_input = setup.state;
    std::fill(arrays.gradient.begin(), arrays.gradient.end(), fill);
    std::fill(arrays.value.begin(), arrays.value.end(), fill);
    view = arrays.view(setup.members, setup.n, 1, layout.state_factor);
  }
  const std::vector<double>& gradient() const { return arrays.gradient; }
  const std::vector<double>& value() const { return arrays.value; }
};

TEST(CollocationLayers, EveryMembersGradientAndValueMatchTheMemberByMemberObjective) {
  for (bool lagrangian : {false, true}) {
    layered_batch setup;
    const detail::collocation_layer_batch<double> b = setup.batch(lagrangian);
    row_major_loops loops;
    detail::collocation_layer_pass(loops, b);

    engine_slots slots(setup, 0.0);
    loops.for_each(setup.members * setup.n, detail::commit_collocation_gradients<double>{
                                                b, slots.view, {nullptr, setup.members}, detail::operand::state});

    for (int i = 0; i < setup.members; ++i) {
      std::vector<double> expected_gradient;
      const double expected_value = setup.expected(i, lagrangian, expected_gradient);
      EXPECT_NEAR(slots.value()[i], expected_value, 1e-13 * std::fabs(expected_value))
          << "member " << i << (lagrangian ? ", augmented Lagrangian" : ", penalty");
      double scale = 0;
      for (double g : expected_gradient) scale = std::max(scale, std::fabs(g));
      for (int e = 0; e < setup.n; ++e)
        EXPECT_NEAR(slots.gradient()[i * setup.n + e], expected_gradient[e], 1e-13 * scale)
            << "member " << i << ", unknown " << e;
    }
  }
}

TEST(CollocationLayers, StoppedMembersKeepTheirSlotsAwayFromTheState) {
  layered_batch setup;
  const detail::collocation_layer_batch<double> b = setup.batch(true);
  row_major_loops loops;
  detail::collocation_layer_pass(loops, b);
  engine_slots slots(setup, -7.0);
  slots.arrays.outcome[1] = std::int32_t(status::diverged);
  // The compacted active set {1, 3}: member 1 has stopped, member 3 runs; 0 and 2 are not visited.
  const std::int64_t listed[] = {1, 3};
  loops.for_each(2 * setup.n, detail::commit_collocation_gradients<double>{
                                  b, slots.view, {listed, 2}, detail::operand::stage_input});
  for (int i : {0, 1, 2}) {
    EXPECT_EQ(slots.value()[i], -7) << "member " << i;
    for (int e = 0; e < setup.n; ++e)
      ASSERT_EQ(slots.gradient()[i * setup.n + e], -7) << i << ", " << e;
  }
  std::vector<double> expected_gradient;
  EXPECT_NEAR(slots.value()[3], setup.expected(3, true, expected_gradient),
              1e-13 * std::fabs(slots.value()[3]));
}

}  // namespace
}  // namespace gradflow
