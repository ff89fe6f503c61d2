#pragma once
// A value as the shortest text that reads back to it (std::to_chars), for the messages that name a
// rejected value: a fixed six places would show 1e-9 as 0.000000, and six significant digits a
// stall factor of 1.0000001 as the 1 its range allows.
#include <charconv>
#include <string>

namespace gradflow::detail {

inline std::string number_text(double value) {
  char text[32];  // the longest shortest double, -2.2250738585072014e-308, takes 24
  return std::string(text, std::to_chars(text, text + sizeof text, value).ptr);
}

}  // namespace gradflow::detail
