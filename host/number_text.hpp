#pragma once
// Numbers as text, both ways. Written: the shortest decimal text that reads back as exactly the
// value (15 to 17 significant digits; nan, inf, -inf): the CLI's CSV cells, for NumPy and pandas,
// and the messages that name a rejected value, where six fixed places would show 1e-9 as 0.000000,
// and six significant digits a stall factor of 1.0000001 as the 1 its range allows. Read: text
// whose number no double holds is refused, not run as 0 or inf.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace gradflow::detail {

inline std::string number_text(double value) {
  if (std::isnan(value)) return "nan";  // printf writes "-nan" where the sign bit is set
  char text[32];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

/// Why no double holds the number `text` spells — it overflows (1e999) or underflows to 0
/// (1e-400) — or "" when one does (a subnormal 1e-310 with fewer digits) or `text` is no number.
inline std::string beyond_double(const std::string& text) {
  errno = 0;
  const double value = std::strtod(text.c_str(), nullptr);
  if (errno != ERANGE) return {};
  if (std::isinf(value)) return "overflows a double";
  return value == 0 ? "underflows to 0 in a double" : std::string();
}

}  // namespace gradflow::detail
