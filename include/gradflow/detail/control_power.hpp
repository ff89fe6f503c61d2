#pragma once
#include <cstdint>
#include <cstring>

#include "gradflow/detail/host_device.hpp"

/// x^p for the step controllers' factors (EEst^β), in arithmetic and bit operations alone: the
/// scalar code, the CPU's lanes (where a loop over problems vectorises it, as no library's pow
/// does bit for bit) and CUDA compute the same bits, and no libm call sits in the step loop.
/// exp(p·ln x) in double: ln of the mantissa m ∈ [√½, √2) by the series of 2·atanh((m − 1)/(m + 1))
/// to s²¹, exp by reduction to |r| ≤ ln 2 / 2 and Taylor to r¹³. Relative error below 1e-14 for
/// the controllers' domain (x ≥ 0 finite, 0 ≤ p ≤ 1, |ln x| ≤ 40;
/// tests/cpu/control_power_test.cpp); beyond it, below 1e-13. x = 0 gives 0 (1 when p = 0).
/// Non-finite x is not in the domain: the controllers reject such a step before using the factor.
namespace gradflow::detail {

GRADFLOW_HD_FORCE_INLINE double bits_as_double(std::uint64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

GRADFLOW_HD_FORCE_INLINE std::uint64_t double_as_bits(double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

/// The bits of 2^k for an integer-valued k ∈ [−1022, 1023], by the shift that rounded it.
GRADFLOW_HD_FORCE_INLINE std::uint64_t exponent_bits(double k, double round_shift) {
  return (double_as_bits(k + round_shift) - double_as_bits(round_shift) + 1023) << 52;
}

/// ln x as control_power keeps it: x = m·2^e with ln m apart, so that e·ln 2 loses nothing to
/// rounding. One logarithm serves several powers of x (the PI controller's EEst^β1 and EEst^β2).
struct control_logarithm {
  double exponent;     ///< e
  double ln_mantissa;  ///< ln m, m ∈ [√½, √2)
  bool zero;           ///< x is not > 0
};

/// Selects, no branches, so that a loop over lanes vectorises (which needs -fno-trapping-math:
/// without it GCC keeps a comparison's select as a branch).
GRADFLOW_HD_FORCE_INLINE control_logarithm control_log(double x) {
  constexpr double smallest_normal = 2.2250738585072014e-308;
  constexpr double two_to_54 = 18014398509481984.0;
  constexpr double sqrt2 = 1.41421356237309504880;

  const bool zero = !(x > 0);
  const bool subnormal = !zero && x < smallest_normal;
  const double normal = zero ? 1.0 : (subnormal ? x * two_to_54 : x);

  // normal = m·2^e, m ∈ [1, 2); the exponent field read as a double by the 2^52 trick.
  const std::uint64_t bits = double_as_bits(normal);
  const double exponent_field =
      bits_as_double((bits >> 52) | 0x4330000000000000ULL) - 4503599627370496.0;  // 2^52
  double m = bits_as_double((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  double e = exponent_field - 1023.0 - (subnormal ? 54.0 : 0.0);
  const bool high = m > sqrt2;
  m = high ? m * 0.5 : m;
  e = high ? e + 1.0 : e;

  // ln m = 2s(1 + s²/3 + s⁴/5 + …), s = (m − 1)/(m + 1), |s| ≤ 0.1716.
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double series = 1.0 / 23.0;
  series = series * s2 + 1.0 / 21.0;
  series = series * s2 + 1.0 / 19.0;
  series = series * s2 + 1.0 / 17.0;
  series = series * s2 + 1.0 / 15.0;
  series = series * s2 + 1.0 / 13.0;
  series = series * s2 + 1.0 / 11.0;
  series = series * s2 + 1.0 / 9.0;
  series = series * s2 + 1.0 / 7.0;
  series = series * s2 + 1.0 / 5.0;
  series = series * s2 + 1.0 / 3.0;
  return {e, 2.0 * s + 2.0 * s * s2 * series, zero};
}

/// x^p from control_log(x).
GRADFLOW_HD_FORCE_INLINE double control_exp(const control_logarithm& ln_x, double p) {
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // fdlibm's split of ln 2
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  constexpr double inverse_ln2 = 1.44269504088896338700e+00;
  constexpr double round_shift = 6755399441055744.0;  // 1.5·2^52: adding it rounds to an integer
  const double e = ln_x.exponent, ln_m = ln_x.ln_mantissa;

  // y = p·ln x, kept as hi + lo so that e·ln 2 loses nothing to rounding.
  const double y_hi = p * (e * ln2_hi);
  const double y_lo = p * (e * ln2_lo + ln_m);
  const double y = y_hi + y_lo;

  // exp(y) = 2^k·exp(r), r = y − k·ln 2.
  const double shifted = y * inverse_ln2 + round_shift;
  const double k = shifted - round_shift;
  const double r = ((y_hi - k * ln2_hi) + y_lo) - k * ln2_lo;
  double taylor = 1.0 / 6227020800.0;  // 1/13!
  taylor = taylor * r + 1.0 / 479001600.0;
  taylor = taylor * r + 1.0 / 39916800.0;
  taylor = taylor * r + 1.0 / 3628800.0;
  taylor = taylor * r + 1.0 / 362880.0;
  taylor = taylor * r + 1.0 / 40320.0;
  taylor = taylor * r + 1.0 / 5040.0;
  taylor = taylor * r + 1.0 / 720.0;
  taylor = taylor * r + 1.0 / 120.0;
  taylor = taylor * r + 1.0 / 24.0;
  taylor = taylor * r + 1.0 / 6.0;
  taylor = taylor * r + 0.5;
  taylor = taylor * r + 1.0;
  taylor = taylor * r + 1.0;

  // 2^k in two factors, each a normal double, for k down to −1075 (x subnormal, p = 1); their
  // exponents read off as integers by the same shift (no 64-bit integer division or conversion,
  // which AVX2 lacks).
  const double k_a = (k * 0.5 + round_shift) - round_shift;
  const double k_b = k - k_a;
  const double scale_a = bits_as_double(exponent_bits(k_a, round_shift));
  const double scale_b = bits_as_double(exponent_bits(k_b, round_shift));
  const double power = taylor * scale_a * scale_b;
  return ln_x.zero && p != 0 ? 0.0 : power;  // 1 at x = 0 and p = 0, where normal = 1
}

GRADFLOW_HD_FORCE_INLINE double control_power(double x, double p) {
  return control_exp(control_log(x), p);
}

/// The float controllers' factors, computed in double and rounded once.
GRADFLOW_HD_FORCE_INLINE control_logarithm control_log(float x) { return control_log(double(x)); }

GRADFLOW_HD_FORCE_INLINE float control_exp(const control_logarithm& ln_x, float p) {
  return float(control_exp(ln_x, double(p)));
}

GRADFLOW_HD_FORCE_INLINE float control_power(float x, float p) {
  return float(control_power(double(x), double(p)));
}

}  // namespace gradflow::detail
