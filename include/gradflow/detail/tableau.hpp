#pragma once
#include "gradflow/detail/host_device.hpp"
#include "gradflow/methods.hpp"

namespace gradflow::detail {

inline constexpr int max_stages = 7;

/// Explicit Runge–Kutta tableau in "first same as last" form: the last stage is evaluated at the
/// step's result (its row of `a` equals b), so its flow value is the next step's first stage and
/// the gradient at the new point is known before the accept/reject decision. Non-FSAL methods get
/// that extra row appended; the evaluation count per step is unchanged.
/// `error_weights` are b − b̂ of the embedded pair (zero for methods without one).
template <class Real>
struct tableau {
  int stage_count = 0;
  int order = 0;  ///< order p of the propagated solution (the PI controller uses β1 = 7/(10p))
  bool has_error_estimate = false;
  Real c[max_stages] = {};
  Real a[max_stages][max_stages] = {};
  Real error_weights[max_stages] = {};
};

/// A seven-stage FSAL pair (order 5, embedded 4) from its coefficients in double precision.
template <class Real>
tableau<Real> seven_stage_pair(const double (&c)[7], const double (&a)[7][6],
                               const double (&error_weights)[7]) {
  tableau<Real> t;
  t.stage_count = 7;
  t.order = 5;
  t.has_error_estimate = true;
  for (int i = 0; i < 7; ++i) {
    t.c[i] = Real(c[i]);
    t.error_weights[i] = Real(error_weights[i]);
    for (int j = 0; j < i; ++j) t.a[i][j] = Real(a[i][j]);
  }
  return t;
}

/// Tsitouras 5(4), Comput. Math. Appl. 62 (2011); coefficients as used by OrdinaryDiffEq.jl.
template <class Real>
tableau<Real> tsit5_tableau() {
  const double c[7] = {0, 0.161, 0.327, 0.9, 0.9800255409045097, 1, 1};
  const double a[7][6] = {
      {},
      {0.161},
      {-0.008480655492356989, 0.335480655492357},
      {2.8971530571054935, -6.359448489975075, 4.3622954328695815},
      {5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525},
      {5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401,
       -0.028269050394068383},
      {0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081,
       2.324710524099774}};
  const double error_weights[7] = {-0.00178001105222577714,
                                   -0.0008164344596567469,
                                   0.007880878010261995,
                                   -0.1447110071732629,
                                   0.5823571654525552,
                                   -0.45808210592918697,
                                   1.0 / 66.0};
  return seven_stage_pair<Real>(c, a, error_weights);
}

/// Bogacki–Shampine 3(2), Appl. Math. Lett. 2 (1989): FSAL, error weights b − b̂.
template <class Real>
tableau<Real> bs3_tableau() {
  tableau<Real> t;
  t.stage_count = 4;
  t.order = 3;
  t.has_error_estimate = true;
  t.c[1] = Real(1) / 2;
  t.c[2] = Real(3) / 4;
  t.c[3] = Real(1);
  t.a[1][0] = Real(1) / 2;
  t.a[2][1] = Real(3) / 4;
  t.a[3][0] = Real(2) / 9;
  t.a[3][1] = Real(1) / 3;
  t.a[3][2] = Real(4) / 9;
  const double error_weights[4] = {-5.0 / 72, 1.0 / 12, 1.0 / 9, -1.0 / 8};
  for (int i = 0; i < 4; ++i) t.error_weights[i] = Real(error_weights[i]);
  return t;
}

/// Dormand–Prince 5(4), J. Comput. Appl. Math. 6 (1980): FSAL, error weights b − b̂.
template <class Real>
tableau<Real> dp5_tableau() {
  const double c[7] = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1};
  const double a[7][6] = {{},
                          {1.0 / 5},
                          {3.0 / 40, 9.0 / 40},
                          {44.0 / 45, -56.0 / 15, 32.0 / 9},
                          {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
                          {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
                          {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}};
  const double error_weights[7] = {71.0 / 57600,      0,          -71.0 / 16695, 71.0 / 1920,
                                   -17253.0 / 339200, 22.0 / 525, -1.0 / 40};
  return seven_stage_pair<Real>(c, a, error_weights);
}

/// Classic RK4 with the FSAL row b = (1/6, 1/3, 1/3, 1/6) appended.
template <class Real>
tableau<Real> rk4_tableau() {
  tableau<Real> t;
  t.stage_count = 5;
  t.order = 4;
  t.c[1] = t.c[2] = Real(0.5);
  t.c[3] = t.c[4] = Real(1);
  t.a[1][0] = Real(0.5);
  t.a[2][1] = Real(0.5);
  t.a[3][2] = Real(1);
  t.a[4][0] = t.a[4][3] = Real(1) / 6;
  t.a[4][1] = t.a[4][2] = Real(1) / 3;
  return t;
}

/// Explicit Euler (one evaluation per step) with its FSAL row appended.
template <class Real>
tableau<Real> euler_tableau() {
  tableau<Real> t;
  t.stage_count = 2;
  t.order = 1;
  t.c[1] = Real(1);
  t.a[1][0] = Real(1);
  return t;
}

/// The tableau of a method_info row (the linearly implicit and Chebyshev methods take Euler's:
/// one evaluation per step, at the step's result); the optimisers have none (no stages).
template <class Real>
tableau<Real> tableau_for(scheme s) {
  switch (s) {
    case scheme::euler:
      return euler_tableau<Real>();
    case scheme::rk4:
      return rk4_tableau<Real>();
    case scheme::bs3:
      return bs3_tableau<Real>();
    case scheme::tsit5:
      return tsit5_tableau<Real>();
    case scheme::dp5:
      return dp5_tableau<Real>();
    case scheme::none:
      break;
  }
  return {};
}

}  // namespace gradflow::detail
