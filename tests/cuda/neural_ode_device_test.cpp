// Neural-ODE training on the CUDA engine against the CPU: the same members and the same
// statuses and fits to rounding (FMA contraction differs, and collocation's gradients go layer by
// layer through cuBLAS there, member by member here). Skips without a device.
#include <gtest/gtest.h>

#include <cmath>

#include "gradflow/gradflow.hpp"

namespace gradflow {
namespace {

class NeuralOdeDevice : public ::testing::Test {
protected:
  void SetUp() override {
    if (!cuda_compiled()) GTEST_SKIP() << "libgradflow was built without CUDA";
    if (cuda_devices().empty()) GTEST_SKIP() << "no CUDA device answers (no driver or no GPU)";
  }
};

training_spec small_study(formulation form, int members) {
  van_der_pol_setup setup;
  setup.samples = 40;
  setup.train_end = 6;
  setup.test_samples = 30;
  setup.test_end = 8;
  const van_der_pol_data data = van_der_pol(setup);
  training_spec spec;
  spec.hidden = 8;
  spec.series.push_back({data.noisy, data.clean, data.test});
  for (int s = 0; s < members; ++s) {
    training_member member;
    member.seed = std::uint64_t(s);
    spec.members.push_back(member);
  }
  spec.form = form;
  return spec;
}

void expect_devices_agree(training_spec spec, double tolerance) {
  spec.solver.backend = backend_kind::cpu;
  const training_result cpu = train(spec);
  spec.solver.backend = backend_kind::cuda;
  const training_result gpu = train(spec);
  ASSERT_FALSE(gpu.runs.empty());
  EXPECT_EQ(gpu.runs.front().backend, backend_kind::cuda);
  for (std::size_t i = 0; i < cpu.members.size(); ++i) {
    EXPECT_EQ(gpu.members[i].outcome, cpu.members[i].outcome) << i;
    EXPECT_NEAR(gpu.members[i].loss, cpu.members[i].loss, tolerance * cpu.members[i].loss) << i;
    EXPECT_NEAR(gpu.members[i].train_mse, cpu.members[i].train_mse,
                tolerance * (1 + cpu.members[i].train_mse))
        << i;
  }
}

TEST_F(NeuralOdeDevice, CollocationByLevenbergMarquardtMatchesTheCpu) {
  training_spec spec = small_study(formulation::collocation, 16);
  spec.solver.method = method::linearly_implicit;
  expect_devices_agree(spec, 1e-6);
}

TEST_F(NeuralOdeDevice, CollocationAdamOverTenThousandMembersLayerByLayerMatchesTheCpu) {
  // 10⁴ members, each layer of all of them one strided-batched GEMM, every member its own seed,
  // learning rate and ρ.
  training_spec spec = small_study(formulation::collocation, 10000);
  for (std::size_t i = 0; i < spec.members.size(); ++i) spec.members[i].rho = 10.0 * (1 + i % 7);
  spec.solver.method = method::adam;
  std::vector<double> rates(spec.members.size());
  for (std::size_t i = 0; i < rates.size(); ++i) rates[i] = 1e-3 * (1 + double(i % 10));
  spec.solver.dt = rates;
  spec.solver.max_steps = 20;
  expect_devices_agree(spec, 1e-8);
}

TEST_F(NeuralOdeDevice, SequentialAdamOverTenThousandMembersMatchesTheCpu) {
  // 10⁴ members, one CUDA thread each, every member its own seed and learning rate.
  training_spec spec = small_study(formulation::sequential, 10000);
  spec.solver.method = method::adam;
  std::vector<double> rates(spec.members.size());
  for (std::size_t i = 0; i < rates.size(); ++i) rates[i] = 1e-3 * (1 + double(i % 10));
  spec.solver.dt = rates;
  spec.solver.max_steps = 20;
  spec.max_step = 0.1;
  expect_devices_agree(spec, 1e-8);
}

}  // namespace
}  // namespace gradflow
