// The neural-ODE family against independent oracles: the field's derivatives and both training
// objectives' gradients against central differences, the Gauss–Newton matrix against JᵀJ from
// differences of the constraint residuals, the Van der Pol data against a fine RK4, rollouts
// against a closed form, and training itself (collocation and sequential) on a small study.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gradflow/collocation.hpp"
#include "gradflow/detail/neural_ode_objective.hpp"
#include "gradflow/error.hpp"
#include "gradflow/neural_ode.hpp"

namespace gradflow {
namespace {

using detail::neural_field;

std::vector<double> random_vector(std::size_t count, unsigned seed, double scale = 1) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(-scale, scale);
  std::vector<double> values(count);
  for (double& v : values) v = uniform(engine);
  return values;
}

/// Central difference of a scalar function along coordinate e.
template <class Function>
double central_difference(Function f, std::vector<double> x, std::size_t e, double h = 1e-6) {
  const double x0 = x[e];
  x[e] = x0 + h;
  const double up = f(x);
  x[e] = x0 - h;
  const double down = f(x);
  return (up - down) / (2 * h);
}

TEST(NeuralField, DerivativesMatchCentralDifferences) {
  const int d = 3, hidden = 5;
  const int p_count = neural_field<double>::parameter_count(d, hidden);
  EXPECT_EQ(p_count, 2 * 5 * 3 + 5 + 3);
  const std::vector<double> theta = random_vector(p_count, 1);
  const std::vector<double> y = random_vector(d, 2);
  const std::vector<double> s = random_vector(d, 3);
  const neural_field<double> field{d, hidden, theta.data()};
  std::vector<double> activation(hidden), out(d);
  field.evaluate(y.data(), activation.data(), out.data());
  std::vector<double> theta_gradient(p_count, 0.0), y_gradient(d, 0.0);
  field.pull_back(y.data(), activation.data(), s.data(), 2.0, theta_gradient.data(),
                  y_gradient.data());
  std::vector<double> state_jacobian(d * d), parameter_jacobian(d * p_count);
  field.state_jacobian(activation.data(), state_jacobian.data());
  field.parameter_jacobian(y.data(), activation.data(), parameter_jacobian.data());
  // 2 sᵀNN as a function of θ and of y.
  const auto projected = [&](const std::vector<double>& th, const std::vector<double>& at) {
    const neural_field<double> f{d, hidden, th.data()};
    std::vector<double> a(hidden), o(d);
    f.evaluate(at.data(), a.data(), o.data());
    double sum = 0;
    for (int c = 0; c < d; ++c) sum += 2 * s[c] * o[c];
    return sum;
  };
  for (int p = 0; p < p_count; ++p) {
    const double expected =
        central_difference([&](const auto& th) { return projected(th, y); }, theta, p);
    EXPECT_NEAR(theta_gradient[p], expected, 1e-8) << "θ_" << p;
    double from_jacobian = 0;
    for (int c = 0; c < d; ++c) from_jacobian += 2 * s[c] * parameter_jacobian[c * p_count + p];
    EXPECT_NEAR(from_jacobian, expected, 1e-8) << "∂NN/∂θ_" << p;
  }
  for (int e = 0; e < d; ++e) {
    const double expected =
        central_difference([&](const auto& at) { return projected(theta, at); }, y, e);
    EXPECT_NEAR(y_gradient[e], expected, 1e-8) << "y_" << e;
    double from_jacobian = 0;
    for (int c = 0; c < d; ++c) from_jacobian += 2 * s[c] * state_jacobian[c * d + e];
    EXPECT_NEAR(from_jacobian, expected, 1e-8) << "∂NN/∂y_" << e;
  }
}

/// A small collocation member: N Chebyshev nodes on [0, 3] with a smooth path as data.
struct collocation_case {
  int nodes, d = 2, hidden = 4;
  std::vector<double> times = chebyshev_points(nodes, 0, 3);
  std::vector<double> observations, differentiation, gram, multipliers, scratch;
  detail::neural_ode_member<double> member;

  explicit collocation_case(bool lagrangian, int nodes = 7) : nodes(nodes) {
    for (double t : times) {
      observations.push_back(std::sin(t));
      observations.push_back(std::cos(t));
    }
    differentiation = differentiation_matrix(times);
    gram.assign(std::size_t(nodes - 1) * (nodes - 1), 0.0);
    for (int i = 1; i < nodes; ++i)
      for (int j = 1; j < nodes; ++j)
        for (int k = 1; k < nodes; ++k)
          gram[(j - 1) * (nodes - 1) + k - 1] +=
              differentiation[i * nodes + j] * differentiation[i * nodes + k];
    multipliers = random_vector(std::size_t(nodes - 1) * d, 9, 0.5);
    scratch.assign(std::size_t(detail::collocation_scratch(nodes, d, hidden)), 0.0);
    member.nodes = nodes;
    member.times = times.data();
    member.observations = observations.data();
    member.differentiation = differentiation.data();
    member.differentiation_gram = gram.data();
    member.weight_decay = 0.01;
    member.rho = 3;
    member.multipliers = lagrangian ? multipliers.data() : nullptr;
    member.scratch = scratch.data();
  }
  int unknowns() const { return detail::collocation_unknowns(nodes, d, hidden); }
  detail::collocation_objective<double> objective() const { return {member, d, hidden}; }

  /// c_i = (D Y)_i − NN(Y_i), i ≥ 1, written here from the definition.
  std::vector<double> residuals(const std::vector<double>& z) const {
    const neural_field<double> field{d, hidden, z.data() + (nodes - 1) * d};
    std::vector<double> y(observations.begin(), observations.begin() + d);
    y.insert(y.end(), z.begin(), z.begin() + (nodes - 1) * d);
    std::vector<double> c, a(hidden), out(d);
    for (int i = 1; i < nodes; ++i) {
      field.evaluate(&y[i * d], a.data(), out.data());
      for (int e = 0; e < d; ++e) {
        double derivative = 0;
        for (int j = 0; j < nodes; ++j) derivative += differentiation[i * nodes + j] * y[j * d + e];
        c.push_back(derivative - out[e]);
      }
    }
    return c;
  }
};

TEST(NeuralOdeObjective, CollocationGradientMatchesCentralDifferences) {
  for (bool lagrangian : {false, true}) {
    collocation_case setup(lagrangian);
    const std::vector<double> z = random_vector(setup.unknowns(), 4, 0.8);
    std::vector<double> gradient(z.size());
    const double f = setup.objective().value(z.data(), gradient.data());
    EXPECT_EQ(f, setup.objective().value(z.data(), nullptr));
    // f from its definition.
    const std::vector<double> c = setup.residuals(z);
    double expected_f = 0;
    for (int e = 0; e < (setup.nodes - 1) * setup.d; ++e)
      expected_f += std::pow(z[e] - setup.observations[setup.d + e], 2) / setup.nodes;
    for (std::size_t p = (setup.nodes - 1) * setup.d; p < z.size(); ++p)
      expected_f += 0.01 * z[p] * z[p];
    for (std::size_t e = 0; e < c.size(); ++e) {
      const double shifted = c[e] + (lagrangian ? setup.multipliers[e] / 3 : 0);
      expected_f += 3.0 / (2 * setup.nodes) * shifted * shifted;
    }
    EXPECT_NEAR(f, expected_f, 1e-12 * std::fabs(expected_f));
    for (std::size_t e = 0; e < z.size(); ++e) {
      const double expected = central_difference(
          [&](const auto& x) { return setup.objective().value(x.data(), nullptr); }, z, e);
      EXPECT_NEAR(gradient[e], expected, 1e-6 * (1 + std::fabs(expected))) << "unknown " << e;
    }
  }
}

TEST(NeuralOdeObjective, GaussNewtonMatrixIsJtJOfTheResiduals) {
  // Free nodes for one whole block of the θ columns' nodes and a part one.
  collocation_case setup(true, detail::collocation_nodes_together + 4);
  const int n = setup.unknowns(), free = (setup.nodes - 1) * setup.d;
  const std::vector<double> z = random_vector(n, 5, 0.8);
  // NaN where gauss_newton must write every entry: nothing the buffer held may leak in.
  std::vector<double> matrix(std::size_t(n) * n, std::numeric_limits<double>::quiet_NaN());
  setup.objective().gauss_newton(z.data(), matrix.data());
  // J e_k by central differences of the residuals, column by column.
  std::vector<std::vector<double>> columns(n);
  for (int k = 0; k < n; ++k) {
    std::vector<double> up = z, down = z;
    const double h = 1e-6;
    up[k] += h;
    down[k] -= h;
    const std::vector<double> cu = setup.residuals(up), cd = setup.residuals(down);
    for (std::size_t r = 0; r < cu.size(); ++r) columns[k].push_back((cu[r] - cd[r]) / (2 * h));
  }
  for (int j = 0; j < n; ++j)
    for (int k = 0; k < n; ++k) {
      double expected = 0;
      for (std::size_t r = 0; r < columns[j].size(); ++r) expected += columns[j][r] * columns[k][r];
      expected *= 3.0 / setup.nodes;  // ρ/N
      if (j == k) expected += j < free ? 2.0 / setup.nodes : 2 * 0.01;
      EXPECT_NEAR(matrix[std::size_t(j) * n + k], expected, 1e-6 * (1 + std::fabs(expected)))
          << "(" << j << ", " << k << ")";
    }
}

TEST(NeuralOdeObjective, SequentialGradientByTheDiscreteAdjointMatchesCentralDifferences) {
  const int d = 2, hidden = 4;
  const std::vector<double> times = {0, 0.3, 0.35, 1.0, 1.7};
  const std::vector<double> observations = random_vector(times.size() * d, 6);
  std::vector<double> scratch(
      std::size_t(detail::sequential_scratch(times.data(), int(times.size()), d, hidden, 0.2)));
  detail::neural_ode_member<double> member;
  member.nodes = int(times.size());
  member.times = times.data();
  member.observations = observations.data();
  member.weight_decay = 0.02;
  member.max_step = 0.2;
  member.scratch = scratch.data();
  const detail::sequential_objective<double> objective{member, d, hidden};
  const std::vector<double> theta =
      random_vector(neural_field<double>::parameter_count(d, hidden), 7, 0.7);
  std::vector<double> gradient(theta.size());
  const double f = objective.value(theta.data(), gradient.data());
  EXPECT_TRUE(std::isfinite(f));
  for (std::size_t p = 0; p < theta.size(); ++p) {
    const double expected = central_difference(
        [&](const auto& x) { return objective.value(x.data(), nullptr); }, theta, p);
    EXPECT_NEAR(gradient[p], expected, 1e-7 * (1 + std::fabs(expected))) << "θ_" << p;
  }
}

TEST(NeuralOde, VanDerPolDataFollowTheOscillator) {
  van_der_pol_setup setup;
  const van_der_pol_data data = van_der_pol(setup);
  ASSERT_EQ(data.clean.size(), 200);
  ASSERT_EQ(data.test.size(), 400);
  EXPECT_EQ(data.clean.times, chebyshev_points(200, 0, 15));
  // An independent fine RK4 (h = 1e-4) to t = 15.
  double x1 = 0, x2 = 1, t = 0;
  const auto rhs = [](double time, double a, double b, double& da, double& db) {
    da = b;
    db = (1 - a * a) * b - a + std::cos(time);
  };
  const int steps = 150000;
  const double h = 15.0 / steps;
  for (int s = 0; s < steps; ++s, t = s * h) {
    double k1a, k1b, k2a, k2b, k3a, k3b, k4a, k4b;
    rhs(t, x1, x2, k1a, k1b);
    rhs(t + h / 2, x1 + h / 2 * k1a, x2 + h / 2 * k1b, k2a, k2b);
    rhs(t + h / 2, x1 + h / 2 * k2a, x2 + h / 2 * k2b, k3a, k3b);
    rhs(t + h, x1 + h * k3a, x2 + h * k3b, k4a, k4b);
    x1 += h / 6 * (k1a + 2 * k2a + 2 * k3a + k4a);
    x2 += h / 6 * (k1b + 2 * k2b + 2 * k3b + k4b);
  }
  EXPECT_NEAR(data.clean.values[398], x1, 1e-8);
  EXPECT_NEAR(data.clean.values[399], x2, 1e-8);
  EXPECT_EQ(data.test.values[0], data.clean.values[398]);  // the continuation starts at x(15)
  EXPECT_EQ(data.test.times.back(), 30.0);
  double sum = 0, squares = 0;
  for (std::size_t e = 0; e < data.noisy.values.size(); ++e) {
    const double noise = data.noisy.values[e] - data.clean.values[e];
    sum += noise;
    squares += noise * noise;
  }
  EXPECT_NEAR(std::sqrt(squares / 400), 0.1, 0.015);  // σ = 0.1 over 400 draws
  EXPECT_NEAR(sum / 400, 0, 0.02);
  setup.samples = 2;
  EXPECT_THROW(van_der_pol(setup), invalid_argument);
  const auto message_of = [](const van_der_pol_setup& refused) -> std::string {
    try {
      van_der_pol(refused);
    } catch (const invalid_argument& e) {
      return e.what();
    }
    return "integrated";
  };
  setup = van_der_pol_setup{};
  setup.mu = -1;  // anti-damped: the oscillation grows without bound
  std::string message = message_of(setup);
  EXPECT_NE(message.find("cannot be integrated (diverged): it grows past 100000000 "
                         "(mu < 0 feeds it energy"),
            std::string::npos)
      << message;
  setup.mu = 1;
  setup.amplitude = 1e200;  // a forcing no step at tolerance 1e-12 can follow
  message = message_of(setup);
  EXPECT_NE(message.find("(step_underflow): Tsit5's step at tolerance 1e-12 fell to rounding "
                         "(give a smaller amplitude"),
            std::string::npos)
      << message;
  setup.amplitude = 1;
  setup.omega = 1e6;  // a forcing Tsit5 follows, at ~10⁸ steps over [0, 15]: past the step limit
  message = message_of(setup);
  EXPECT_NE(message.find("(max_steps): Tsit5 at tolerance 1e-12 takes more than 10000000 steps"),
            std::string::npos)
      << message;
}

TEST(NeuralOde, RolloutOfAConstantFieldIsAStraightLineAndAFailedOneAStatus) {
  const int d = 2, hidden = 3;
  std::vector<double> theta(neural_field<double>::parameter_count(d, hidden), 0.0);
  theta[theta.size() - 2] = 0.5;  // b2: y' = (0.5, −2)
  theta[theta.size() - 1] = -2;
  const rollout line = roll_out(theta, d, hidden, {1, 1}, {0, 0.5, 2, 7}, 1e-8, 1e-10, 1000);
  ASSERT_EQ(line.outcome, status::converged);
  EXPECT_NEAR(line.path.values[6], 1 + 0.5 * 7, 1e-12);
  EXPECT_NEAR(line.path.values[7], 1 - 2 * 7, 1e-12);
  const rollout cut = roll_out(theta, d, hidden, {1, 1}, {0, 1e6}, 1e-8, 1e-10, 3);
  EXPECT_EQ(cut.outcome, status::max_steps);
}

/// The seed study in miniature: 40 samples of Van der Pol on [0, 6], H = 8, four seeds.
training_spec small_study(formulation form) {
  van_der_pol_setup setup;
  setup.samples = 40;
  setup.train_end = 6;
  setup.test_samples = 60;
  setup.test_end = 8;
  const van_der_pol_data data = van_der_pol(setup);
  training_spec spec;
  spec.hidden = 8;
  spec.series.push_back({data.noisy, data.clean, data.test});
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    training_member member;
    member.seed = seed;
    spec.members.push_back(member);
  }
  spec.form = form;
  spec.solver.backend = backend_kind::cpu;
  return spec;
}

TEST(NeuralOdeTraining, CollocationByLevenbergMarquardtFitsTheOscillator) {
  for (constraint_method constraints :
       {constraint_method::augmented_lagrangian, constraint_method::penalty}) {
    training_spec spec = small_study(formulation::collocation);
    spec.constraints = constraints;
    spec.solver.method = method::linearly_implicit;
    spec.solver.rtol_grad = 1e-6;
    spec.solver.max_steps = 300;
    const training_result result = train(spec);
    ASSERT_EQ(result.members.size(), 4u);
    int fitted = 0;
    for (const trained_member& m : result.members) {
      EXPECT_EQ(m.train_rollout, status::converged);
      EXPECT_LT(m.constraint, 1e-3) << to_string(constraints);
      EXPECT_EQ(m.states.size(), 80u);
      // Noise σ = 0.1 on 40 samples: a fit near the truth has train MSE well below σ² = 0.01.
      if (m.train_mse < 0.01) ++fitted;
    }
    EXPECT_GE(fitted, 3) << to_string(constraints);
  }
}

TEST(NeuralOdeTraining, ACollocationMemberWhoseRoundsRunOutIsNotConverged) {
  // One round of the augmented Lagrangian: every solve converges, and a member whose constraint is
  // still above its tolerance (scaled by the data's RMS) has not fitted an ODE.
  training_spec spec = small_study(formulation::collocation);
  spec.solver.method = method::linearly_implicit;
  spec.rounds = 1;
  const training_result result = train(spec);
  const std::vector<double>& data = spec.series[0].data.values;
  double squares = 0;
  for (double value : data) squares += value * value;
  const double tolerance =
      spec.constraint_tolerance * std::max(1.0, std::sqrt(squares / double(data.size())));
  int unmet = 0;
  for (const trained_member& m : result.members) {
    const bool met = m.constraint <= tolerance;
    EXPECT_EQ(m.outcome, met ? status::converged : status::constraint_unmet) << m.constraint;
    unmet += !met;
  }
  EXPECT_GT(unmet, 0);  // one round leaves the constraint far above 1e-4
  spec.rounds = 8;
  for (const trained_member& m : train(spec).members) {
    EXPECT_EQ(m.outcome, status::converged);
    EXPECT_LE(m.constraint, tolerance);
  }
}

TEST(NeuralOdeTraining, SequentialTrainingLowersTheLossAndADivergingMemberStopsAlone) {
  training_spec spec = small_study(formulation::sequential);
  spec.solver.method = method::adam;
  spec.solver.dt = std::vector<double>{1e-2, 1e-2, 1e-2, 1e9};  // the last one blows up
  spec.solver.max_steps = 150;
  spec.max_step = 0.1;
  const training_result result = train(spec);
  training_spec untrained = spec;
  untrained.solver.max_steps = 1;
  const training_result start = train(untrained);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(result.members[i].outcome, status::diverged) << i;
    EXPECT_LT(result.members[i].loss, 0.5 * start.members[i].loss) << i;
    EXPECT_EQ(result.members[i].gradient_evaluations, 150) << i;
  }
  EXPECT_TRUE(result.members[3].outcome == status::diverged ||
              result.members[3].loss > start.members[3].loss);
}

/// train(spec) throws invalid_argument whose message holds `named`.
void expect_rejected(const training_spec& spec, const std::string& named) {
  try {
    train(spec);
    ADD_FAILURE() << "no exception; expected one naming '" << named << "'";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
  }
}

TEST(NeuralOdeTraining, BadInputIsRejectedNamingTheField) {
  training_spec spec = small_study(formulation::collocation);
  spec.series[0].data.values[7] = std::nan("");
  expect_rejected(spec, "invalid series 0 value at sample 3 = nan");
  spec.series[0].data.source = "runs.npy";  // where the series came from names it instead
  expect_rejected(spec, "invalid runs.npy value at sample 3 = nan");
  spec = small_study(formulation::collocation);
  std::swap(spec.series[0].data.times[3], spec.series[0].data.times[4]);
  expect_rejected(spec, "invalid series 0 times: t[4] = ");
  spec = small_study(formulation::collocation);
  for (std::size_t j = 0; j < spec.series[0].data.times.size(); ++j)
    spec.series[0].data.times[j] = double(j);  // equispaced: not for collocation
  expect_rejected(spec, "invalid series 0 times: collocation needs samples at Chebyshev points");
  spec.form = formulation::sequential;
  spec.solver.method = method::adam;
  spec.solver.max_steps = 1;
  EXPECT_NO_THROW(train(spec));
  spec.series[0].test = spec.series[0].data;
  spec.series[0].test.values[0] = std::numeric_limits<double>::infinity();
  expect_rejected(spec, "invalid series 0 test value at sample 0 = inf");
  spec.series[0].test.source = "later.npy";
  expect_rejected(spec, "invalid later.npy value at sample 0 = inf");
  spec.hidden = 0;
  expect_rejected(spec, "invalid hidden = 0");
  spec = small_study(formulation::sequential);
  spec.solver.method = method::linearly_implicit;
  expect_rejected(spec, "invalid method = linearly_implicit for formulation sequential");
  spec = small_study(formulation::sequential);
  spec.max_step = 1e-300;  // more steps than an int counts
  expect_rejected(spec, "invalid max_step = 1e-300");
  spec = small_study(formulation::collocation);
  spec.series[0].data.values.pop_back();
  expect_rejected(spec, "invalid series 0: ");
  spec = small_study(formulation::collocation);
  spec.members[2].series = 3;
  expect_rejected(spec, "invalid series = 3 of member 2");
}

}  // namespace
}  // namespace gradflow
