#pragma once
// Forward-mode differentiation: a number a + b·ε with ε² = 0 carries a value and its derivative
// along one direction, so running a gradient written over a template Real on duals seeded with
// (x, v) yields ∇f(x) and the exact Hessian-vector product ∇²f(x)·v (Griewank & Walther,
// Evaluating Derivatives, ch. 3). Functions are found by argument-dependent lookup: generic code
// calls them unqualified after `using std::exp;` and the like.
#include <cmath>
#include <type_traits>

#include "gradflow/detail/host_device.hpp"

namespace gradflow::detail {

template <class Real>
struct dual {
  Real value{};
  Real slope{};  ///< the derivative along the seeded direction

  dual() = default;
  GRADFLOW_HD constexpr dual(Real v, Real s) : value(v), slope(s) {}
  /// Constants (and integers such as a residual's index) have no slope.
  template <class Number, class = std::enable_if_t<std::is_arithmetic<Number>::value>>
  GRADFLOW_HD constexpr dual(Number v) : value(Real(v)), slope(0) {}

  GRADFLOW_HD friend dual operator+(const dual& a, const dual& b) {
    return {a.value + b.value, a.slope + b.slope};
  }
  GRADFLOW_HD friend dual operator-(const dual& a, const dual& b) {
    return {a.value - b.value, a.slope - b.slope};
  }
  GRADFLOW_HD friend dual operator-(const dual& a) { return {-a.value, -a.slope}; }
  GRADFLOW_HD friend dual operator*(const dual& a, const dual& b) {
    return {a.value * b.value, a.slope * b.value + a.value * b.slope};
  }
  GRADFLOW_HD friend dual operator/(const dual& a, const dual& b) {
    const Real quotient = a.value / b.value;
    return {quotient, (a.slope - quotient * b.slope) / b.value};
  }
  GRADFLOW_HD dual& operator+=(const dual& b) { return *this = *this + b; }
  GRADFLOW_HD dual& operator-=(const dual& b) { return *this = *this - b; }
  GRADFLOW_HD dual& operator*=(const dual& b) { return *this = *this * b; }
  GRADFLOW_HD dual& operator/=(const dual& b) { return *this = *this / b; }

  // Branches compare values: the derivative is that of the branch taken.
  GRADFLOW_HD friend bool operator<(const dual& a, const dual& b) { return a.value < b.value; }
  GRADFLOW_HD friend bool operator>(const dual& a, const dual& b) { return a.value > b.value; }
  GRADFLOW_HD friend bool operator<=(const dual& a, const dual& b) { return a.value <= b.value; }
  GRADFLOW_HD friend bool operator>=(const dual& a, const dual& b) { return a.value >= b.value; }
  GRADFLOW_HD friend bool operator==(const dual& a, const dual& b) { return a.value == b.value; }

  GRADFLOW_HD friend dual exp(const dual& a) {
    const Real e = std::exp(a.value);
    return {e, e * a.slope};
  }
  GRADFLOW_HD friend dual log(const dual& a) { return {std::log(a.value), a.slope / a.value}; }
  GRADFLOW_HD friend dual sqrt(const dual& a) {
    const Real root = std::sqrt(a.value);
    return {root, a.slope / (2 * root)};
  }
  GRADFLOW_HD friend dual sin(const dual& a) {
    return {std::sin(a.value), std::cos(a.value) * a.slope};
  }
  GRADFLOW_HD friend dual cos(const dual& a) {
    return {std::cos(a.value), -std::sin(a.value) * a.slope};
  }
  GRADFLOW_HD friend dual atan(const dual& a) {
    return {std::atan(a.value), a.slope / (1 + a.value * a.value)};
  }
  GRADFLOW_HD friend dual fabs(const dual& a) { return a.value < 0 ? -a : a; }
  /// a^b. The exponent's part b'·a^b·ln a only where b carries a slope, so a constant power of a
  /// negative base stays finite; a constant exponent 0 has no slope at all.
  GRADFLOW_HD friend dual pow(const dual& a, const dual& b) {
    const Real power = std::pow(a.value, b.value);
    Real slope = b.value == 0 ? Real(0) : b.value * std::pow(a.value, b.value - 1) * a.slope;
    if (b.slope != 0) slope += power * std::log(a.value) * b.slope;
    return {power, slope};
  }
};

}  // namespace gradflow::detail
