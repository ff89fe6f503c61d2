#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace gradflow {

/// How the gradient flow u' = −∇f(u) is discretised.
enum class method {
  euler,  ///< explicit Euler, fixed dt: exactly gradient descent with learning rate dt
  rk4,    ///< classic fourth-order Runge–Kutta, fixed dt
  tsit5,  ///< Tsitouras 5(4) with FSAL; PI error control by default, fixed dt on request
};

/// Where the batch runs. `automatic` picks CUDA when a device answers, else the CPU.
enum class backend_kind { automatic, cpu, cuda };

/// Step-size policy: `fixed` keeps dt; `error_control` is the PI controller of DESIGN.md §4.
enum class step_control { method_default, fixed, error_control };

/// Options shared by every problem in a batch. Unset optionals take precision-aware defaults
/// (see README, "Defaults"); every value is validated by `solve` and rejected with a message
/// naming the field.
struct solve_options {
  gradflow::method method = gradflow::method::tsit5;
  step_control control = step_control::method_default;
  backend_kind backend = backend_kind::automatic;

  /// Fixed step, or first step of an adaptive run. Unset: fixed methods use 1/‖G‖_∞ per problem
  /// (a Gershgorin bound on the largest curvature, so Euler and RK4 are stable); adaptive runs pick
  /// the first step per problem with the Hairer–Nørsett–Wanner heuristic.
  std::optional<double> dt;
  /// Local-error tolerances (f64: rtol 1e-8, atol 1e-10; f32: 1e-4, 1e-6). Near a minimum an
  /// error-controlled explicit method settles with dt on its stability boundary, and ‖∇f‖ stalls
  /// near L·(atol + rtol·|u|): tighten these together with the gradient tests.
  std::optional<double> rtol;
  std::optional<double> atol;
  std::optional<double> gtol;  ///< stop when ‖∇f‖ ≤ gtol (default 0: off)
  /// Stop when ‖∇f‖ ≤ rtol_grad·‖∇f(u0)‖. Default: 1e-8 (f64) or 1e-4 (f32) when gtol is unset
  /// too, else off.
  std::optional<double> rtol_grad;
  double t_end = std::numeric_limits<double>::infinity();  ///< integrate no further than t_end
  std::int64_t max_steps = 100000;  ///< accepted + rejected steps per problem
  /// Smallest step the controller may ask for before a problem is marked step_underflow; unset:
  /// 16·ε·max(1, t) in the working precision.
  std::optional<double> dt_min;
  /// A problem whose ‖∇f‖ exceeds divergence_ratio·‖∇f(u0)‖ is diverged: along the exact flow of a
  /// convex f the gradient norm never grows, so such growth is numerical blow-up.
  double divergence_ratio = 1e10;
  /// The host checks whether any problem is still running every this many steps (fewer syncs).
  int check_interval = 8;
};

std::string_view to_string(method m);
std::string_view to_string(backend_kind b);
std::string_view to_string(step_control c);

/// Parse the CLI spelling ("euler", "rk4", "tsit5"); throws invalid_argument naming `field`.
method parse_method(std::string_view text, std::string_view field = "method");
backend_kind parse_backend(std::string_view text, std::string_view field = "backend");
step_control parse_step_control(std::string_view text, std::string_view field = "control");

}  // namespace gradflow
