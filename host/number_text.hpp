#pragma once
// A value as the shortest decimal text that reads back as exactly it (15 to 17 significant
// digits): the CLI's CSV cells, for NumPy and pandas, and the messages that name a rejected value,
// where six fixed places would show 1e-9 as 0.000000, and six significant digits a stall factor
// of 1.0000001 as the 1 its range allows.
#include <cstdio>
#include <cstdlib>
#include <string>

namespace gradflow::detail {

inline std::string number_text(double value) {
  char text[32];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

}  // namespace gradflow::detail
