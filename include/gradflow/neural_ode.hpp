#pragma once
// Neural-ODE parameter sets: many neural ODEs y' = NN(y), NN = [d, H, d] with tanh, trained at once
// on sampled trajectories, by collocation (simultaneous) or by integrating the ODE (sequential),
// each member with its own weights, data, regularisation, constraint weight and solver
// hyperparameters (README, "Neural ODEs"; Tsay & Shapovalova, DYCOPS 2025).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gradflow/options.hpp"
#include "gradflow/result.hpp"
#include "gradflow/solver_context.hpp"

namespace gradflow {

/// Samples of a trajectory: `times` strictly increasing (N values), `values` N×dimension
/// row-major.
struct time_series {
  int dimension = 0;
  std::vector<double> times;
  std::vector<double> values;
  /// Where the series came from, for messages (a file, say); empty: "series N" (its place).
  std::string source;
  int size() const { return int(times.size()); }
};

/// The seed study's data: the forced Van der Pol oscillator x₁' = x₂,
/// x₂' = μ(1 − x₁²)x₂ − x₁ + A cos(ωt) from (x₁, x₂)(0), sampled at Chebyshev points of the second
/// kind on [0, train_end] with Gaussian noise, and its continuation from the true x(train_end)
/// at equispaced points on [train_end, test_end].
struct van_der_pol_setup {
  double mu = 1;
  double amplitude = 1;  ///< A
  double omega = 1;
  double x1 = 0;  ///< x₁(0)
  double x2 = 1;  ///< x₂(0)
  int samples = 200;
  double train_end = 15;
  double noise = 0.1;  ///< σ
  std::uint64_t noise_seed = 0;
  int test_samples = 400;
  double test_end = 30;
};

struct van_der_pol_data {
  time_series noisy;  ///< what training fits
  time_series clean;  ///< the same times without noise (train MSE)
  time_series test;   ///< the continuation (extrapolation MSE)
};

/// Throws invalid_argument naming the field for a setup outside its range.
van_der_pol_data van_der_pol(const van_der_pol_setup& setup);

/// How a member's ODE constraint enters its objective.
enum class formulation {
  /// Unknowns (Y, θ): node states at the sample times and the weights, (D Y)_i = NN(Y_i) imposed
  /// through `constraints`.
  collocation,
  /// Unknowns θ: the ODE integrated from the first sample by RK4 (steps ≤ max_step), ∇f by the
  /// discrete adjoint.
  sequential,
};
/// Collocation: ρ rising between rounds (penalty), or per-member multipliers updated between
/// rounds, μ ← μ + ρ c (augmented Lagrangian; ρ rises only where ‖c‖ fell too little).
enum class constraint_method { penalty, augmented_lagrangian };

std::string_view to_string(formulation f);
std::string_view to_string(constraint_method c);
/// Parse those spellings; throw invalid_argument naming `field` and the accepted values.
formulation parse_formulation(std::string_view text, std::string_view field = "formulation");
constraint_method parse_constraint_method(std::string_view text,
                                          std::string_view field = "constraints");

/// One member: which series it fits and its own weights.
struct training_member {
  int series = 0;              ///< index into training_spec::series
  double weight_decay = 1e-3;  ///< λ in λ‖θ‖²
  double rho = 100;            ///< collocation: the first constraint weight ρ
  std::uint64_t seed = 0;      ///< the initial weights: Xavier-normal W, N(0, 0.1²) b
};

/// A series to fit and, optionally, what a trained member is judged against.
struct training_series {
  time_series data;
  time_series truth;  ///< the noise-free trajectory at any times (empty: `data`)
  time_series test;   ///< a continuation rolled out from its first value (empty: none)
};

/// Training's default relative gradient test, rtol_grad (IPOPT's tol in the seed study is 1e-4).
inline constexpr double training_rtol_grad = 1e-5;

struct training_spec {
  int hidden = 32;  ///< H
  std::vector<training_series> series;
  std::vector<training_member> members;
  formulation form = formulation::collocation;
  constraint_method constraints = constraint_method::augmented_lagrangian;
  /// Collocation: solves of the inner problem at most; a member stops early when the RMS of its
  /// constraint residuals is ≤ constraint_tolerance (scaled by max(1, RMS of the data)).
  int rounds = 8;
  double rho_growth = 10;  ///< ρ's factor between rounds
  double constraint_tolerance = 1e-4;
  double bandwidth = 0.5;  ///< collocation: the Epanechnikov smoother that starts Y
  double max_step = 0.05;  ///< sequential: the RK4 step bound
  /// The method and its hyperparameters (per member, as for any solve). Collocation's natural
  /// solver is linearly_implicit (Levenberg–Marquardt on the Gauss–Newton matrix, λ = 1/dt; dt
  /// defaults to 1 here), Adam's learning rate to the seed study's 1e-3, L-BFGS's to 1 (its
  /// first step −∇f, halved until f falls). The gradient test is one threshold per member for
  /// every round, max(gtol, rtol_grad·‖∇f‖ at its start), with rtol_grad training_rtol_grad
  /// unless given (a round starting near the last one's answer would otherwise be asked for an
  /// ever smaller gradient).
  solve_options solver;
  /// The rollouts' adaptive Tsit5 tolerances and step budget.
  double rollout_rtol = 1e-8;
  double rollout_atol = 1e-10;
  std::int64_t rollout_max_steps = 100000;
};

/// A trained member. A rollout that blows up or exhausts its steps is `diverged` / `max_steps`
/// with MSE +∞, not an error.
struct trained_member {
  /// The last solve's; collocation's constraint_unmet where that converged but the rounds ran out
  /// with the constraint above its tolerance.
  status outcome = status::running;
  int rounds = 0;
  std::int64_t iterations = 0;  ///< accepted + rejected steps over every round
  std::int64_t gradient_evaluations = 0;
  double loss = 0;  ///< (1/N)Σ‖y_i − o_i‖² + λ‖θ‖² (y: collocation nodes or the ODE)
  double constraint = 0;  ///< collocation: RMS of (D Y)_i − NN(Y_i); sequential: 0
  double train_mse = 0;   ///< rollout from the truth's first value against the truth
  status train_rollout = status::running;
  double test_mse = 0;                    ///< NaN without a test series
  status test_rollout = status::running;  ///< running (none) without a test series
  std::vector<double> theta;              ///< the weights (see neural_field for the layout)
  std::vector<double> states;             ///< collocation: Y at the sample times, N×d
};

struct training_result {
  std::vector<trained_member> members;
  std::vector<run_summary> runs;  ///< one per solve (round)
  double wall_seconds = 0;
};

/// Trains every member. Throws invalid_argument naming the field for bad data (non-finite values,
/// times not increasing, shapes that disagree, H or d out of range, collocation on series that
/// are not Chebyshev points) or options, as for solve.
training_result train(const training_spec& spec, solver_context& context);
/// Throws what train would for bad data or options (every member's hyperparameters included),
/// without training.
void check_training(const training_spec& spec);
training_result train(const training_spec& spec);

/// The field's values along a rollout of `theta` from `start` at `times` (first = start time) by
/// adaptive Tsit5; `outcome` converged, or diverged / max_steps for a rollout that failed.
struct rollout {
  status outcome = status::running;
  time_series path;
};
rollout roll_out(const std::vector<double>& theta, int dimension, int hidden,
                 const std::vector<double>& start, const std::vector<double>& times, double rtol,
                 double atol, std::int64_t max_steps);

}  // namespace gradflow
