#pragma once
#include <cstdint>
#include <cstring>

#include "gradflow/detail/host_device.hpp"
#include "gradflow/detail/multiply_add.hpp"

/// x^p for the step controllers' factors (EEst^β), in arithmetic and bit operations alone: the
/// scalar code, the CPU's lanes (where a loop over problems vectorises it, as no library's pow
/// does bit for bit) and CUDA compute the same bits, and no libm call sits in the step loop.
/// exp(p·ln x) in the working precision: ln of the mantissa m ∈ [√½, √2) by the series of
/// 2·atanh((m − 1)/(m + 1)), exp by reduction to |r| ≤ ln 2 / 2 and Taylor, each series as long as
/// the precision needs (power_format). double: relative error below 1e-14 for the controllers'
/// domain (x ≥ 0 finite, 0 ≤ p ≤ 1, |ln x| ≤ 40), below 1e-13 beyond it; float: below
/// (8 + |p·ln x|)·2⁻²⁴, the rounding of p·ln x in float and a few roundings of the series
/// (tests/cpu/control_power_test.cpp). float computes in float: in double it took twice the
/// vectors in the CPU's float lanes, and consumer GPUs run double at 1/64 of float's rate.
/// x = 0 gives 0 (1 when p = 0). Non-finite x is not in the domain: the controllers reject such a
/// step before using the factor.
namespace gradflow::detail {

/// c₀ + x·(c₁ + x·(c₂ + …)), evaluated from the innermost coefficient out (multiply_add).
template <class Real>
GRADFLOW_HD_FORCE_INLINE Real horner(Real, Real innermost) {
  return innermost;
}

template <class Real, class... Coefficients>
GRADFLOW_HD_FORCE_INLINE Real horner(Real x, Real c0, Coefficients... rest) {
  return multiply_add(horner(x, rest...), x, c0);
}

/// A precision's binary layout, the constants of the reduction and its two series.
template <class Real>
struct power_format;

template <>
struct power_format<double> {
  using bits_type = std::uint64_t;
  static constexpr int mantissa_bits = 52;
  static constexpr bits_type mantissa_mask = 0x000fffffffffffffULL;
  static constexpr bits_type one_bits = 0x3ff0000000000000ULL;              // 1
  static constexpr bits_type two_to_mantissa_bits = 0x4330000000000000ULL;  // 2^52
  static constexpr double two_to_mantissa = 4503599627370496.0;
  static constexpr double exponent_bias = 1023.0;
  static constexpr double smallest_normal = 2.2250738585072014e-308;
  static constexpr double subnormal_scale = 18014398509481984.0;  // 2^54
  static constexpr double subnormal_shift = 54.0;
  static constexpr double ln2_hi = 6.93147180369123816490e-01;  // fdlibm's split of ln 2
  static constexpr double ln2_lo = 1.90821492927058770002e-10;
  static constexpr double inverse_ln2 = 1.44269504088896338700e+00;
  static constexpr double round_shift = 6755399441055744.0;  // 1.5·2^52: adding it rounds

  /// 1 + s²/3 + … + s²⁰/21 + s²²/23 over s² (|s| ≤ 0.1716: the next term is below 1e-19).
  GRADFLOW_HD_FORCE_INLINE static double log_series(double s2) {
    return horner(s2, 1.0 / 3.0, 1.0 / 5.0, 1.0 / 7.0, 1.0 / 9.0, 1.0 / 11.0, 1.0 / 13.0,
                  1.0 / 15.0, 1.0 / 17.0, 1.0 / 19.0, 1.0 / 21.0, 1.0 / 23.0);
  }
  /// exp(r) to r¹³/13! (|r| ≤ 0.347: the next term is below 1e-17).
  GRADFLOW_HD_FORCE_INLINE static double exp_taylor(double r) {
    return horner(r, 1.0, 1.0, 0.5, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0, 1.0 / 5040.0,
                  1.0 / 40320.0, 1.0 / 362880.0, 1.0 / 3628800.0, 1.0 / 39916800.0,
                  1.0 / 479001600.0, 1.0 / 6227020800.0);
  }
};

template <>
struct power_format<float> {
  using bits_type = std::uint32_t;
  static constexpr int mantissa_bits = 23;
  static constexpr bits_type mantissa_mask = 0x007fffffU;
  static constexpr bits_type one_bits = 0x3f800000U;              // 1
  static constexpr bits_type two_to_mantissa_bits = 0x4b000000U;  // 2^23
  static constexpr float two_to_mantissa = 8388608.0f;
  static constexpr float exponent_bias = 127.0f;
  static constexpr float smallest_normal = 1.17549435e-38f;
  static constexpr float subnormal_scale = 16777216.0f;  // 2^24
  static constexpr float subnormal_shift = 24.0f;
  // ln 2 = hi + lo with hi = 22713·2⁻¹⁵: 15 bits, so that e·hi is exact for every float exponent.
  static constexpr float ln2_hi = 0.693145751953125f;
  static constexpr float ln2_lo = 1.42860682030941723e-06f;
  static constexpr float inverse_ln2 = 1.44269504088896341f;
  static constexpr float round_shift = 12582912.0f;  // 1.5·2^23

  /// 1 + s²/3 + s⁴/5 + s⁶/7 + s⁸/9 (the next term is below 2e-9).
  GRADFLOW_HD_FORCE_INLINE static float log_series(float s2) {
    return horner(s2, 1.0f / 3.0f, 1.0f / 5.0f, 1.0f / 7.0f, 1.0f / 9.0f);
  }
  /// exp(r) to r⁷/7! (the next term is below 6e-9).
  GRADFLOW_HD_FORCE_INLINE static float exp_taylor(float r) {
    return horner(r, 1.0f, 1.0f, 0.5f, 1.0f / 6.0f, 1.0f / 24.0f, 1.0f / 120.0f, 1.0f / 720.0f,
                  1.0f / 5040.0f);
  }
};

template <class Real>
GRADFLOW_HD_FORCE_INLINE Real bits_as_real(typename power_format<Real>::bits_type bits) {
  Real value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

template <class Real>
GRADFLOW_HD_FORCE_INLINE typename power_format<Real>::bits_type real_as_bits(Real value) {
  typename power_format<Real>::bits_type bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

/// The bits of 2^k for an integer-valued k in the normal exponents' range, by the shift that
/// rounded it.
template <class Real>
GRADFLOW_HD_FORCE_INLINE typename power_format<Real>::bits_type exponent_bits(Real k) {
  using format = power_format<Real>;
  using bits_type = typename format::bits_type;
  return (real_as_bits(k + format::round_shift) - real_as_bits(format::round_shift) +
          bits_type(format::exponent_bias))
         << format::mantissa_bits;
}

/// ln x as control_power keeps it: x = m·2^e with ln m apart, so that e·ln 2 loses nothing to
/// rounding. One logarithm serves several powers of x (the PI controller's EEst^β1 and EEst^β2).
template <class Real>
struct control_logarithm {
  Real exponent;     ///< e
  Real ln_mantissa;  ///< ln m, m ∈ [√½, √2)
  bool zero;         ///< x is not > 0
};

/// Selects, no branches, so that a loop over lanes vectorises (which needs -fno-trapping-math:
/// without it GCC keeps a comparison's select as a branch).
template <class Real>
GRADFLOW_HD_FORCE_INLINE control_logarithm<Real> control_log(Real x) {
  using format = power_format<Real>;
  constexpr Real sqrt2 = Real(1.41421356237309504880);

  const bool zero = !(x > 0);
  const bool subnormal = !zero && x < format::smallest_normal;
  const Real normal = zero ? Real(1) : (subnormal ? x * format::subnormal_scale : x);

  // normal = m·2^e, m ∈ [1, 2); the exponent field read as a Real by the 2^mantissa_bits trick.
  const auto bits = real_as_bits(normal);
  const Real exponent_field =
      bits_as_real<Real>((bits >> format::mantissa_bits) | format::two_to_mantissa_bits) -
      format::two_to_mantissa;
  Real m = bits_as_real<Real>((bits & format::mantissa_mask) | format::one_bits);
  Real e = exponent_field - format::exponent_bias - (subnormal ? format::subnormal_shift : Real(0));
  const bool high = m > sqrt2;
  m = high ? m * Real(0.5) : m;
  e = high ? e + Real(1) : e;

  // ln m = 2s(1 + s²/3 + s⁴/5 + …), s = (m − 1)/(m + 1), |s| ≤ 0.1716.
  const Real s = (m - Real(1)) / (m + Real(1));
  const Real s2 = s * s;
  return {e, Real(2) * s + Real(2) * s * s2 * format::log_series(s2), zero};
}

/// x^p from control_log(x). By value: a loop over lanes vectorises only if the logarithm is never
/// addressable (GCC's `omp simd` keeps an addressable local in memory, one copy per lane).
template <class Real>
GRADFLOW_HD_FORCE_INLINE Real control_exp(control_logarithm<Real> ln_x, Real p) {
  using format = power_format<Real>;
  const Real e = ln_x.exponent, ln_m = ln_x.ln_mantissa;

  // y = p·ln x, kept as hi + lo so that e·ln 2 loses nothing to rounding.
  const Real y_hi = p * (e * format::ln2_hi);
  const Real y_lo = p * (e * format::ln2_lo + ln_m);
  const Real y = y_hi + y_lo;

  // exp(y) = 2^k·exp(r), r = y − k·ln 2.
  const Real shifted = y * format::inverse_ln2 + format::round_shift;
  const Real k = shifted - format::round_shift;
  const Real r = ((y_hi - k * format::ln2_hi) + y_lo) - k * format::ln2_lo;
  const Real taylor = format::exp_taylor(r);

  // 2^k in two factors, each normal, for k down to the smallest subnormal's exponent (x
  // subnormal, p = 1); their exponents read off as integers by the same shift (no 64-bit integer
  // division or conversion, which AVX2 lacks).
  const Real k_a = (k * Real(0.5) + format::round_shift) - format::round_shift;
  const Real k_b = k - k_a;
  const Real power = taylor * bits_as_real<Real>(exponent_bits(k_a)) *
                     bits_as_real<Real>(exponent_bits(k_b));
  return ln_x.zero && p != 0 ? Real(0) : power;  // 1 at x = 0 and p = 0, where normal = 1
}

template <class Real>
GRADFLOW_HD_FORCE_INLINE Real control_power(Real x, Real p) {
  return control_exp(control_log(x), p);
}

template <class Real>
struct two_powers {
  Real first, second;
};

/// x^p and x^q from one logarithm of x, each control_power's bits.
template <class Real>
GRADFLOW_HD_FORCE_INLINE two_powers<Real> control_powers(Real x, Real p, Real q) {
  const control_logarithm<Real> ln_x = control_log(x);
  return {control_exp(ln_x, p), control_exp(ln_x, q)};
}

}  // namespace gradflow::detail
